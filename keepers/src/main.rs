//! meridian-keeper: permissionless keeper roles for Meridian, paid for their work.
//!
//!   meridian-keeper [--url] [--ws-url] [--keypair] [--exchange] [--metrics-addr] [--log-format]
//!                   [--rescan-secs] [--priority-fee auto|N] [--priority-fee-percentile P]
//!                   `[--priority-fee-cap N] [--health-max-lag-secs S] <role>`
//!   roles: crank, oracle, funding, liquidate, settle, auction, status
//!
//! Every flag also reads an environment variable (`MERIDIAN_...`, shown by `--help`). URL and
//! keypair default to the Solana CLI config, like the `meridian` CLI. Every role lists the
//! exchange's markets and oracles again every `--rescan-secs` (new ones are picked up), retries RPC
//! failures with backoff instead of exiting, and on SIGTERM/SIGINT lets the transaction in flight
//! land, then exits 0.
mod auction;
mod backoff;
mod crank;
mod discovery;
mod fees;
mod funding;
mod keeper;
mod liquidate;
mod metrics;
mod oracle;
mod settle;
mod shutdown;

pub use keeper::Keeper;

use anyhow::{anyhow, Result};
use clap::{Parser, Subcommand, ValueEnum};
use fees::{FeeEstimator, FeePolicy, PriorityFee};
use meridian_sdk::{
    client::Client,
    pda,
    state::{Market, OracleAggregate},
    Pubkey,
};
use solana_cli_config::{Config, ConfigInput, CONFIG_FILE};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::{str::FromStr, sync::Arc, time::Duration};

#[derive(Parser)]
#[command(name = "meridian-keeper", version, about = "Keeper roles for the Meridian exchange")]
struct Args {
    /// RPC URL or moniker; default: the Solana CLI config.
    #[arg(short, long, global = true, env = "MERIDIAN_URL")]
    url: Option<String>,
    /// Websocket URL; default: derived from the RPC URL (port + 1).
    #[arg(long, global = true, env = "MERIDIAN_WS_URL")]
    ws_url: Option<String>,
    /// Keeper keypair (pays fees, receives rewards); default: the Solana CLI config's.
    #[arg(short, long, global = true, env = "MERIDIAN_KEYPAIR")]
    keypair: Option<String>,
    /// Solana CLI config file.
    #[arg(short = 'C', long, global = true, env = "MERIDIAN_SOLANA_CONFIG")]
    config: Option<String>,
    #[arg(short, long, global = true, env = "MERIDIAN_EXCHANGE")]
    exchange: Option<String>,
    /// Serve Prometheus metrics (/metrics) and the health check (/health) here (e.g. 127.0.0.1:9464).
    #[arg(long, global = true, env = "MERIDIAN_METRICS_ADDR")]
    metrics_addr: Option<String>,
    /// Log lines as text or as JSON objects (one a line).
    #[arg(long, global = true, env = "MERIDIAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// List the exchange's markets and oracles again this often (new ones are picked up), seconds.
    #[arg(long, global = true, env = "MERIDIAN_RESCAN_SECS", default_value_t = 15)]
    rescan_secs: u64,
    /// Priority fee: `auto` (a percentile of getRecentPrioritizationFees over the accounts the
    /// transaction writes, capped) or micro-lamports per compute unit.
    #[arg(long, global = true, env = "MERIDIAN_PRIORITY_FEE", default_value = "auto")]
    priority_fee: PriorityFee,
    /// `auto`: the percentile of the recent per-block fees paid (0-100).
    #[arg(long, global = true, env = "MERIDIAN_PRIORITY_FEE_PERCENTILE", default_value_t = 75,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    priority_fee_percentile: u8,
    /// `auto`: never more than this many micro-lamports per compute unit.
    #[arg(long, global = true, env = "MERIDIAN_PRIORITY_FEE_CAP", default_value_t = 100_000)]
    priority_fee_cap: u64,
    /// /health answers 503 once a part of the keeper made no progress for this long; default:
    /// three times the role's interval or the rescan period, at least 30 s.
    #[arg(long, global = true, env = "MERIDIAN_HEALTH_MAX_LAG_SECS")]
    health_max_lag_secs: Option<u64>,
    #[command(subcommand)]
    role: Role,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Role {
    /// Apply event queues to makers' accounts (consume_events), for a crank reward per event.
    Crank {
        /// Markets (index, name or address); default: all markets of the exchange, including
        /// those listed later. Env: comma-separated.
        #[arg(long = "market", env = "MERIDIAN_CRANK_MARKETS", value_delimiter = ',')]
        markets: Vec<String>,
        /// Most events per transaction (fewer when accounts or compute do not fit).
        #[arg(long, env = "MERIDIAN_CRANK_BATCH", default_value_t = 64)]
        batch: u16,
        /// Poll interval when no websocket notification arrives, milliseconds.
        #[arg(long, env = "MERIDIAN_CRANK_POLL_MS", default_value_t = 1_000)]
        poll_ms: u64,
        /// Margin sub-account receiving the rewards.
        #[arg(long, env = "MERIDIAN_CRANK_REWARD_SUB_ACCOUNT", default_value_t = 0)]
        reward_sub_account: u16,
        /// Drain the queues once and exit.
        #[arg(long, env = "MERIDIAN_CRANK_ONCE")]
        once: bool,
    },
    /// Keep oracle aggregates fresh (refresh_oracle) when sources publish and the price moves.
    Oracle {
        /// Oracles (name or address); default: every oracle of the exchange, including those
        /// created later. Env: comma-separated.
        #[arg(long = "oracle", env = "MERIDIAN_ORACLE_ORACLES", value_delimiter = ',')]
        oracles: Vec<String>,
        /// How often to look at the sources, milliseconds.
        #[arg(long, env = "MERIDIAN_ORACLE_POLL_MS", default_value_t = 1_000)]
        poll_ms: u64,
        /// Refresh at least this often (seconds) while sources publish.
        #[arg(long, env = "MERIDIAN_ORACLE_HEARTBEAT_SECS", default_value_t = 10)]
        heartbeat_secs: i64,
        /// Refresh when the price would move this much (basis points).
        #[arg(long, env = "MERIDIAN_ORACLE_MOVE_BPS", default_value_t = 10)]
        move_bps: u64,
        /// Refresh each oracle once (if a source has news) and exit.
        #[arg(long, env = "MERIDIAN_ORACLE_ONCE")]
        once: bool,
    },
    /// Accrue perpetual funding (update_funding) on a fixed cadence.
    Funding {
        /// Perpetual markets (index, name or address); default: every perpetual of the exchange,
        /// including those listed later. Env: comma-separated.
        #[arg(long = "market", env = "MERIDIAN_FUNDING_MARKETS", value_delimiter = ',')]
        markets: Vec<String>,
        /// Seconds between updates.
        #[arg(long, env = "MERIDIAN_FUNDING_INTERVAL_SECS", default_value_t = 60)]
        interval_secs: u64,
        /// Update each market once and exit.
        #[arg(long, env = "MERIDIAN_FUNDING_ONCE")]
        once: bool,
    },
    /// Liquidate accounts below maintenance for fees (stage 1 orders, stage 2 takeovers at a
    /// discount, stage 3 bankruptcies), largest shortfall first.
    Liquidate {
        /// The keeper's margin sub-account that takes positions over and earns the fees (created if
        /// missing; deposit collateral into it to take positions over).
        #[arg(long, env = "MERIDIAN_LIQUIDATE_SUB_ACCOUNT", default_value_t = 0)]
        sub_account: u16,
        /// Re-evaluate at least this often without notifications, milliseconds.
        #[arg(long, env = "MERIDIAN_LIQUIDATE_POLL_MS", default_value_t = 1_000)]
        poll_ms: u64,
        /// Most liquidations sent per round.
        #[arg(long, env = "MERIDIAN_LIQUIDATE_MAX_PER_ROUND", default_value_t = 8)]
        max_per_round: usize,
        /// Liquidate until no account can be, then exit.
        #[arg(long, env = "MERIDIAN_LIQUIDATE_ONCE")]
        once: bool,
        /// Close each position taken over on the book right away: a reduce-only immediate-or-cancel
        /// order at most this many basis points worse than the mark (what does not fill is kept).
        #[arg(long, env = "MERIDIAN_LIQUIDATE_CLOSE_SLIPPAGE_BPS")]
        close_slippage_bps: Option<u32>,
    },
    /// Realize losses into the markets' PnL pools (settle_pnl) so winners can be paid, and pay the
    /// flat winners the pools cover; take expired futures and options to cash (cancel their orders,
    /// fix the settlement price, settle every position, optionally close the market).
    Settle {
        /// Seconds between rounds.
        #[arg(long, env = "MERIDIAN_SETTLE_INTERVAL_SECS", default_value_t = 10)]
        interval_secs: u64,
        /// Most accounts per transaction.
        #[arg(long, env = "MERIDIAN_SETTLE_BATCH", default_value_t = 20)]
        batch: usize,
        /// Settle until a round finds nothing, then exit.
        #[arg(long, env = "MERIDIAN_SETTLE_ONCE")]
        once: bool,
        /// Close dated markets once every position is settled (the keypair must be the admin's).
        #[arg(long, env = "MERIDIAN_SETTLE_CLOSE_MARKETS")]
        close_markets: bool,
    },
    /// Clear batch markets' auctions (clear_auction) as each period ends; run `crank` too, which
    /// applies the fills.
    Auction {
        /// Batch markets (index, name or address); default: every batch market, including those
        /// listed later. Env: comma-separated.
        #[arg(long = "market", env = "MERIDIAN_AUCTION_MARKETS", value_delimiter = ',')]
        markets: Vec<String>,
        /// How often to look, milliseconds (a slot is ~400).
        #[arg(long, env = "MERIDIAN_AUCTION_POLL_MS", default_value_t = 200)]
        poll_ms: u64,
        /// Clear what is due once and exit.
        #[arg(long, env = "MERIDIAN_AUCTION_ONCE")]
        once: bool,
    },
    /// Print the exchange's accounting and conservation check once.
    Status,
}

impl Role {
    fn name(&self) -> &'static str {
        match self {
            Role::Crank { .. } => "crank",
            Role::Oracle { .. } => "oracle",
            Role::Funding { .. } => "funding",
            Role::Liquidate { .. } => "liquidate",
            Role::Settle { .. } => "settle",
            Role::Auction { .. } => "auction",
            Role::Status => "status",
        }
    }

    /// The role's own loop period (for the default health lag).
    fn interval(&self) -> Duration {
        match self {
            Role::Crank { poll_ms, .. }
            | Role::Oracle { poll_ms, .. }
            | Role::Liquidate { poll_ms, .. }
            | Role::Auction { poll_ms, .. } => Duration::from_millis(*poll_ms),
            Role::Funding { interval_secs, .. } | Role::Settle { interval_secs, .. } => {
                Duration::from_secs(*interval_secs)
            }
            Role::Status => Duration::ZERO,
        }
    }

    fn once(&self) -> bool {
        match self {
            Role::Crank { once, .. }
            | Role::Oracle { once, .. }
            | Role::Funding { once, .. }
            | Role::Liquidate { once, .. }
            | Role::Settle { once, .. }
            | Role::Auction { once, .. } => *once,
            Role::Status => true,
        }
    }
}

fn load_payer(keypair: Option<&str>, config: &Config) -> Result<Keypair> {
    let (_, keypair) = ConfigInput::compute_keypair_path_setting(keypair.unwrap_or(""), &config.keypair_path);
    solana_sdk::signer::keypair::read_keypair_file(&keypair).map_err(|e| anyhow!("keypair {keypair}: {e}"))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

/// Markets given on the command line, resolved (RPC failures retried). None: stopped meanwhile.
async fn resolve_markets(k: &Keeper, names: &[String]) -> Result<Option<Vec<(Pubkey, Market)>>> {
    let mut out = vec![];
    for name in names {
        let Some(found) = k.retry("find market", || k.client.find_market(&k.exchange, name)).await? else {
            return Ok(None);
        };
        out.push(found.ok_or_else(|| anyhow!("no market {name:?}"))?);
    }
    Ok(Some(out))
}

async fn resolve_oracles(k: &Keeper, names: &[String]) -> Result<Option<Vec<(Pubkey, OracleAggregate)>>> {
    let mut out = vec![];
    for name in names {
        let Some(found) = k.retry("find oracle", || k.client.find_oracle(&k.exchange, name)).await? else {
            return Ok(None);
        };
        out.push(found.ok_or_else(|| anyhow!("no oracle {name:?}"))?);
    }
    Ok(Some(out))
}

/// Every market of the exchange now (for `--once`).
async fn all_markets(k: &Keeper) -> Result<Vec<(Pubkey, Market)>> {
    Ok(k.client.markets(&k.exchange).await?)
}

/// The health component of the startup steps (`/health`).
const STARTUP: &str = "startup";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    init_logging(args.log_format);
    let config_path = args.config.clone().or_else(|| CONFIG_FILE.clone());
    let config = match &config_path {
        Some(p) if std::path::Path::new(p).exists() => Config::load(p)?,
        _ => Config::default(),
    };
    let (_, url) = ConfigInput::compute_json_rpc_url_setting(args.url.as_deref().unwrap_or(""), &config.json_rpc_url);
    let (_, ws_url) = ConfigInput::compute_websocket_url_setting(
        args.ws_url.as_deref().unwrap_or(""),
        &config.websocket_url,
        args.url.as_deref().unwrap_or(""),
        &config.json_rpc_url,
    );
    let client = Client::new(url.clone(), solana_commitment_config::CommitmentConfig::confirmed());
    let exchange = args.exchange.as_deref().ok_or_else(|| anyhow!("pass --exchange or set MERIDIAN_EXCHANGE"))?;
    let exchange = Pubkey::from_str(exchange).map_err(|_| anyhow!("--exchange: not an address"))?;

    if let Role::Status = args.role {
        let s = client.solvency(&exchange).await?;
        let t = s.totals;
        println!(
            "vault={} collateral={} fees={} insurance={} pnl_pools={} conserved={}",
            s.vault,
            t.collateral,
            t.fees,
            t.insurance,
            t.pnl_pools,
            s.conserved()
        );
        return Ok(());
    }

    let role = args.role.name();
    let rescan = Duration::from_secs(args.rescan_secs.max(1));
    let metrics = Arc::new(metrics::Metrics::default());
    let max_lag = match args.health_max_lag_secs {
        Some(s) => Duration::from_secs(s),
        None => (args.role.interval().max(rescan) * 3).max(Duration::from_secs(30)),
    };
    metrics.health.set_max_lag(max_lag);
    // until the role's loops run (startup reads retried while the RPC node is down)
    metrics.health.watch(STARTUP);
    if let Some(addr) = &args.metrics_addr {
        let listener = metrics::bind(addr).await?;
        tokio::spawn(metrics::serve(listener, metrics.clone()));
    }
    let shutdown = shutdown::Shutdown::default();
    shutdown.listen_for_signals();
    let policy =
        FeePolicy { fee: args.priority_fee, percentile: args.priority_fee_percentile, cap: args.priority_fee_cap };
    let payer = load_payer(args.keypair.as_deref(), &config)?;
    // the margin account that receives crank rewards or takes liquidations over
    let sub_account = match &args.role {
        Role::Crank { reward_sub_account, .. } => *reward_sub_account,
        Role::Liquidate { sub_account, .. } => *sub_account,
        _ => 0,
    };
    let reward_account = pda::margin_account(&exchange, &payer.pubkey(), sub_account).0;
    let once = args.role.once();
    let k = Arc::new(Keeper {
        client,
        payer,
        exchange,
        reward_account,
        ws_url: ws_url.clone(),
        role,
        metrics: metrics.clone(),
        fees: FeeEstimator::new(policy, Duration::from_secs(5)),
        shutdown: shutdown.clone(),
        rescan,
        once,
    });
    tracing::info!(role, %url, %ws_url, ?policy, rescan_secs = rescan.as_secs(), "keeper starting");

    match args.role {
        Role::Status => unreachable!("handled above"),
        Role::Oracle { oracles, poll_ms, heartbeat_secs, move_bps, once } => {
            let cfg = oracle::OracleConfig { poll: Duration::from_millis(poll_ms), heartbeat_secs, move_bps, once };
            let fixed = if oracles.is_empty() {
                None
            } else {
                let Some(list) = resolve_oracles(&k, &oracles).await? else { return Ok(()) };
                Some(list)
            };
            if once {
                let list = match fixed {
                    Some(list) => list,
                    None => k.client.oracles(&k.exchange).await?,
                };
                anyhow::ensure!(!list.is_empty(), "the exchange has no oracle");
                oracle::run_once(k.clone(), Arc::new(list), Arc::new(all_markets(&k).await?), cfg).await?;
            } else {
                let lists = discovery::start(k.clone(), true, fixed.is_none());
                let oracles = fixed.map_or(lists.oracles, discovery::fixed);
                metrics.health.forget(STARTUP);
                oracle::run(k.clone(), oracles, lists.markets, cfg).await?;
            }
        }
        Role::Funding { markets, interval_secs, once } => {
            let fixed = if markets.is_empty() {
                None
            } else {
                let Some(list) = resolve_markets(&k, &markets).await? else { return Ok(()) };
                if let Some((_, m)) = list.iter().find(|(_, m)| !funding::is_perpetual(m)) {
                    anyhow::bail!("{} is not a perpetual", meridian_sdk::state::market_name(m));
                }
                Some(list)
            };
            if once {
                let list = match fixed {
                    Some(list) => list,
                    None => all_markets(&k).await?,
                };
                funding::run_once(&k, Arc::new(list)).await?;
            } else {
                let markets = match fixed {
                    Some(list) => discovery::fixed(list),
                    None => discovery::start(k.clone(), true, false).markets,
                };
                let cfg = funding::FundingConfig { interval: Duration::from_secs(interval_secs) };
                metrics.health.forget(STARTUP);
                funding::run(&k, markets, cfg).await?;
            }
        }
        Role::Liquidate { sub_account, poll_ms, max_per_round, once, close_slippage_bps } => {
            let Some(account) = k.ensure_margin_account(sub_account).await? else { return Ok(()) };
            tracing::info!(%account, "liquidator starting");
            let cfg = liquidate::LiquidateConfig {
                poll: Duration::from_millis(poll_ms),
                max_per_round,
                account,
                once,
                close_slippage_bps,
            };
            metrics.health.forget(STARTUP);
            liquidate::run(k, cfg).await?;
        }
        Role::Settle { interval_secs, batch, once, close_markets } => {
            let cfg = settle::SettleConfig { interval: Duration::from_secs(interval_secs), batch, once, close_markets };
            metrics.health.forget(STARTUP);
            settle::run(&k, cfg).await?;
        }
        Role::Auction { markets, poll_ms, once } => {
            let fixed = if markets.is_empty() {
                None
            } else {
                let Some(list) = resolve_markets(&k, &markets).await? else { return Ok(()) };
                if let Some((_, m)) = list.iter().find(|(_, m)| !m.is_batch()) {
                    anyhow::bail!("{} is not a batch market", meridian_sdk::state::market_name(m));
                }
                Some(list)
            };
            if once {
                let list = match fixed {
                    Some(list) => list,
                    None => all_markets(&k).await?,
                };
                auction::run_once(&k, Arc::new(list)).await?;
            } else {
                let markets = match fixed {
                    Some(list) => discovery::fixed(list),
                    None => discovery::start(k.clone(), true, false).markets,
                };
                metrics.health.forget(STARTUP);
                auction::run(&k, markets, auction::AuctionConfig { poll: Duration::from_millis(poll_ms) }).await?;
            }
        }
        Role::Crank { markets, batch, poll_ms, reward_sub_account, once } => {
            if k.ensure_margin_account(reward_sub_account).await?.is_none() {
                return Ok(());
            }
            let cfg = crank::CrankConfig { max_events_per_tx: batch, poll: Duration::from_millis(poll_ms) };
            let fixed = if markets.is_empty() {
                None
            } else {
                let Some(list) = resolve_markets(&k, &markets).await? else { return Ok(()) };
                Some(list)
            };
            if once {
                let list = match fixed {
                    Some(list) => list,
                    None => all_markets(&k).await?,
                };
                crank::run_once(k, Arc::new(list), cfg).await?;
            } else {
                let markets = match fixed {
                    Some(list) => discovery::fixed(list),
                    None => discovery::start(k.clone(), true, false).markets,
                };
                metrics.health.forget(STARTUP);
                crank::run(k, markets, cfg).await?;
            }
        }
    }
    tracing::info!(role, "stopped");
    Ok(())
}
