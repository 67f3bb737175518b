//! meridian-keeper: permissionless keeper roles for Meridian, paid for their work.
//!
//!   meridian-keeper [--url] [--ws-url] [--keypair] [--exchange] [--metrics-addr] crank [--market M]...
//!   meridian-keeper ... oracle [--oracle NAME]...
//!   meridian-keeper ... funding [--market M]...
//!   meridian-keeper ... liquidate [--sub-account N] [--priority-fee F] [--close-slippage-bps B] [--once]
//!   meridian-keeper ... settle [--interval-secs S] [--batch N] [--once] [--close-markets]
//!   meridian-keeper ... auction [--market M]... [--poll-ms MS] [--once]
//!   meridian-keeper ... status
//!
//! URL and keypair default to the Solana CLI config, like the `meridian` CLI. Crank rewards are
//! paid into the keeper's margin account (sub-account `--reward-sub-account`), created on start if
//! missing.
mod auction;
mod crank;
mod funding;
mod liquidate;
mod metrics;
mod oracle;
mod settle;

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use meridian_sdk::{client::Client, ix, pda, Pubkey};
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
    #[arg(long, global = true)]
    ws_url: Option<String>,
    /// Keeper keypair (pays fees, receives rewards); default: the Solana CLI config's.
    #[arg(short, long, global = true, env = "MERIDIAN_KEYPAIR")]
    keypair: Option<String>,
    #[arg(short = 'C', long, global = true)]
    config: Option<String>,
    #[arg(short, long, global = true, env = "MERIDIAN_EXCHANGE")]
    exchange: Option<String>,
    /// Serve Prometheus metrics here (e.g. 127.0.0.1:9464).
    #[arg(long, global = true)]
    metrics_addr: Option<String>,
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Apply event queues to makers' accounts (consume_events), for a crank reward per event.
    Crank {
        /// Markets (index, name or address); default: all markets of the exchange.
        #[arg(long = "market")]
        markets: Vec<String>,
        /// Most events per transaction (fewer when accounts or compute do not fit).
        #[arg(long, default_value_t = 64)]
        batch: u16,
        /// Poll interval when no websocket notification arrives, milliseconds.
        #[arg(long, default_value_t = 1_000)]
        poll_ms: u64,
        /// Priority fee, micro-lamports per compute unit.
        #[arg(long, default_value_t = 0)]
        priority_fee: u64,
        /// Margin sub-account receiving the rewards.
        #[arg(long, default_value_t = 0)]
        reward_sub_account: u16,
        /// Drain the queues once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Keep oracle aggregates fresh (refresh_oracle) when sources publish and the price moves.
    Oracle {
        /// Oracles (name or address); default: every oracle of the exchange.
        #[arg(long = "oracle")]
        oracles: Vec<String>,
        /// How often to look at the sources, milliseconds.
        #[arg(long, default_value_t = 1_000)]
        poll_ms: u64,
        /// Refresh at least this often (seconds) while sources publish.
        #[arg(long, default_value_t = 10)]
        heartbeat_secs: i64,
        /// Refresh when the price would move this much (basis points).
        #[arg(long, default_value_t = 10)]
        move_bps: u64,
        /// Priority fee, micro-lamports per compute unit.
        #[arg(long, default_value_t = 0)]
        priority_fee: u64,
        /// Refresh each oracle once (if a source has news) and exit.
        #[arg(long)]
        once: bool,
    },
    /// Accrue perpetual funding (update_funding) on a fixed cadence.
    Funding {
        /// Perpetual markets (index, name or address); default: every perpetual of the exchange.
        #[arg(long = "market")]
        markets: Vec<String>,
        /// Seconds between updates.
        #[arg(long, default_value_t = 60)]
        interval_secs: u64,
        /// Priority fee, micro-lamports per compute unit.
        #[arg(long, default_value_t = 0)]
        priority_fee: u64,
        /// Update each market once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Liquidate accounts below maintenance for fees (stage 1 orders, stage 2 takeovers at a
    /// discount, stage 3 bankruptcies), largest shortfall first.
    Liquidate {
        /// The keeper's margin sub-account that takes positions over and earns the fees (created if
        /// missing; deposit collateral into it to take positions over).
        #[arg(long, default_value_t = 0)]
        sub_account: u16,
        /// Re-evaluate at least this often without notifications, milliseconds.
        #[arg(long, default_value_t = 1_000)]
        poll_ms: u64,
        /// Reload every margin account this often (subscriptions can miss updates), seconds.
        #[arg(long, default_value_t = 30)]
        rescan_secs: u64,
        /// Most liquidations sent per round.
        #[arg(long, default_value_t = 8)]
        max_per_round: usize,
        /// Priority fee, micro-lamports per compute unit.
        #[arg(long, default_value_t = 0)]
        priority_fee: u64,
        /// Liquidate until no account can be, then exit.
        #[arg(long)]
        once: bool,
        /// Close each position taken over on the book right away: a reduce-only immediate-or-cancel
        /// order at most this many basis points worse than the mark (what does not fill is kept).
        #[arg(long)]
        close_slippage_bps: Option<u32>,
    },
    /// Realize losses into the markets' PnL pools (settle_pnl) so winners can be paid, and pay the
    /// flat winners the pools cover; take expired futures and options to cash (cancel their orders,
    /// fix the settlement price, settle every position, optionally close the market).
    Settle {
        /// Seconds between rounds.
        #[arg(long, default_value_t = 10)]
        interval_secs: u64,
        /// Most accounts per transaction.
        #[arg(long, default_value_t = 20)]
        batch: usize,
        /// Priority fee, micro-lamports per compute unit.
        #[arg(long, default_value_t = 0)]
        priority_fee: u64,
        /// Settle until a round finds nothing, then exit.
        #[arg(long)]
        once: bool,
        /// Close dated markets once every position is settled (the keypair must be the admin's).
        #[arg(long)]
        close_markets: bool,
    },
    /// Clear batch markets' auctions (clear_auction) as each period ends; run `crank` too, which
    /// applies the fills.
    Auction {
        /// Batch markets (index, name or address); default: every batch market, including those
        /// listed later.
        #[arg(long = "market")]
        markets: Vec<String>,
        /// How often to look, milliseconds (a slot is ~400).
        #[arg(long, default_value_t = 200)]
        poll_ms: u64,
        /// Priority fee, micro-lamports per compute unit.
        #[arg(long, default_value_t = 0)]
        priority_fee: u64,
        /// Clear what is due once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Print the exchange's accounting and conservation check once.
    Status,
}

pub struct Keeper {
    pub client: Client,
    pub payer: Keypair,
    pub exchange: Pubkey,
    pub reward_account: Pubkey,
    pub ws_url: String,
}

fn load_payer(keypair: Option<&str>, config: &Config) -> Result<Keypair> {
    let (_, keypair) = ConfigInput::compute_keypair_path_setting(keypair.unwrap_or(""), &config.keypair_path);
    solana_sdk::signer::keypair::read_keypair_file(&keypair).map_err(|e| anyhow!("keypair {keypair}: {e}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
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
    let metrics = Arc::new(metrics::Metrics::default());
    if let Some(addr) = args.metrics_addr.clone() {
        tokio::spawn(metrics::serve(addr, metrics.clone()));
    }

    match args.role {
        Role::Status => {
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
        }
        Role::Oracle { oracles, poll_ms, heartbeat_secs, move_bps, priority_fee, once } => {
            let payer = load_payer(args.keypair.as_deref(), &config)?;
            let selected = if oracles.is_empty() {
                client.oracles(&exchange).await?.into_iter().map(|(a, _)| a).collect::<Vec<_>>()
            } else {
                let mut out = vec![];
                for o in &oracles {
                    out.push(client.find_oracle(&exchange, o).await?.ok_or_else(|| anyhow!("no oracle {o:?}"))?.0);
                }
                out
            };
            anyhow::ensure!(!selected.is_empty(), "the exchange has no oracle");
            tracing::info!(oracles = selected.len(), %url, "oracle keeper starting");
            let reward_account = pda::margin_account(&exchange, &payer.pubkey(), 0).0;
            let keeper = Arc::new(Keeper { client, payer, exchange, reward_account, ws_url });
            let cfg = oracle::OracleConfig {
                poll: Duration::from_millis(poll_ms),
                heartbeat_secs,
                move_bps,
                priority_fee,
                once,
            };
            oracle::run(keeper, selected, cfg, metrics).await?;
        }
        Role::Funding { markets, interval_secs, priority_fee, once } => {
            let payer = load_payer(args.keypair.as_deref(), &config)?;
            let perpetual = |m: &meridian_sdk::state::Market| m.kind == 0 && m.funding_period_secs > 0;
            let selected: Vec<Pubkey> = if markets.is_empty() {
                client.markets(&exchange).await?.into_iter().filter(|(_, m)| perpetual(m)).map(|(a, _)| a).collect()
            } else {
                let mut out = vec![];
                for m in &markets {
                    let (a, market) = client.find_market(&exchange, m).await?.ok_or_else(|| anyhow!("no market {m:?}"))?;
                    anyhow::ensure!(perpetual(&market), "{m} is not a perpetual");
                    out.push(a);
                }
                out
            };
            anyhow::ensure!(!selected.is_empty(), "the exchange has no perpetual market");
            tracing::info!(markets = selected.len(), %url, "funding keeper starting");
            let reward_account = pda::margin_account(&exchange, &payer.pubkey(), 0).0;
            let keeper = Keeper { client, payer, exchange, reward_account, ws_url };
            let cfg = funding::FundingConfig { interval: Duration::from_secs(interval_secs), priority_fee, once };
            funding::run(&keeper, selected, cfg, &metrics).await?;
        }
        Role::Liquidate { sub_account, poll_ms, rescan_secs, max_per_round, priority_fee, once, close_slippage_bps } => {
            let payer = load_payer(args.keypair.as_deref(), &config)?;
            let account = pda::margin_account(&exchange, &payer.pubkey(), sub_account).0;
            if client.account_if_exists(&account).await?.is_none() {
                let ix = ix::create_margin_account(&exchange, &payer.pubkey(), &payer.pubkey(), sub_account);
                client.send(&[ix], &payer, &[]).await.context("creating the liquidator's margin account")?;
                tracing::info!(%account, "created the liquidator's margin account");
            }
            tracing::info!(%account, %url, %ws_url, "liquidator starting");
            let keeper = Arc::new(Keeper { client, payer, exchange, reward_account: account, ws_url });
            let cfg = liquidate::LiquidateConfig {
                poll: Duration::from_millis(poll_ms),
                rescan: Duration::from_secs(rescan_secs),
                priority_fee,
                max_per_round,
                account,
                once,
                close_slippage_bps,
            };
            liquidate::run(keeper, cfg, metrics).await?;
        }
        Role::Settle { interval_secs, batch, priority_fee, once, close_markets } => {
            let payer = load_payer(args.keypair.as_deref(), &config)?;
            tracing::info!(%url, "settle keeper starting");
            let reward_account = pda::margin_account(&exchange, &payer.pubkey(), 0).0;
            let keeper = Keeper { client, payer, exchange, reward_account, ws_url };
            let cfg = settle::SettleConfig { interval: Duration::from_secs(interval_secs), batch, priority_fee, once, close_markets };
            settle::run(&keeper, cfg, &metrics).await?;
        }
        Role::Auction { markets, poll_ms, priority_fee, once } => {
            let payer = load_payer(args.keypair.as_deref(), &config)?;
            let mut selected = vec![];
            for m in &markets {
                let (a, market) = client.find_market(&exchange, m).await?.ok_or_else(|| anyhow!("no market {m:?}"))?;
                anyhow::ensure!(market.mode == 1, "{m} is not a batch market");
                selected.push(a);
            }
            tracing::info!(markets = selected.len(), %url, "auction keeper starting");
            let reward_account = pda::margin_account(&exchange, &payer.pubkey(), 0).0;
            let keeper = Keeper { client, payer, exchange, reward_account, ws_url };
            let cfg = auction::AuctionConfig { poll: Duration::from_millis(poll_ms), priority_fee, markets: selected, once };
            auction::run(&keeper, cfg, &metrics).await?;
        }
        Role::Crank { markets, batch, poll_ms, priority_fee, reward_sub_account, once } => {
            let payer = load_payer(args.keypair.as_deref(), &config)?;
            let reward_account = pda::margin_account(&exchange, &payer.pubkey(), reward_sub_account).0;
            if client.account_if_exists(&reward_account).await?.is_none() {
                let ix = ix::create_margin_account(&exchange, &payer.pubkey(), &payer.pubkey(), reward_sub_account);
                client.send(&[ix], &payer, &[]).await.context("creating the reward margin account")?;
                tracing::info!(%reward_account, "created the keeper's margin account for rewards");
            }
            let selected = if markets.is_empty() {
                client.markets(&exchange).await?
            } else {
                let mut out = vec![];
                for m in &markets {
                    out.push(client.find_market(&exchange, m).await?.ok_or_else(|| anyhow!("no market {m:?}"))?);
                }
                out
            };
            tracing::info!(markets = selected.len(), %url, %ws_url, "crank starting");
            let keeper = Arc::new(Keeper { client, payer, exchange, reward_account, ws_url });
            let cfg = crank::CrankConfig {
                max_events_per_tx: batch,
                poll: Duration::from_millis(poll_ms),
                priority_fee,
                once,
            };
            crank::run(keeper, selected, cfg, metrics).await?;
        }
    }
    Ok(())
}
