//! meridian-localnet: the local demo. Starts a validator on 127.0.0.1 with the Meridian program,
//! bootstraps an exchange on a test USDC mint with BTC-PERP and ETH-PERP, each priced by an oracle
//! aggregate over simulated Pyth and Switchboard feeds (real account formats and owners; a
//! geometric Brownian motion with jumps), runs the real keepers (`meridian-keeper crank`, metrics on
//! 127.0.0.1:9464, `meridian-keeper oracle`, metrics on the next port, and `meridian-keeper
//! funding`, `meridian-keeper settle`), lists a dated BTC chain (a future, calls and puts) with
//! `meridian market chain` that expires a few minutes in and is settled to cash by the settle
//! keeper, runs simulated market makers and takers, funds a demo wallet, writes a Solana CLI
//! config for it, prints how to use the CLI, and runs until Ctrl-C (or `--run-for`).
use anyhow::{bail, Result};
use clap::Parser;
use meridian_e2e::{
    feeds::SimulatedFeeds,
    sim::{self, SimMarket, SimStats},
    workspace_bin, workspace_root, write_keypair, Localnet, LocalnetOptions,
};
use meridian_migrations::{bootstrap, ensure_market, fund_wallet, perp_params, BootstrapConfig, DEMO_MARKETS};
use meridian_sdk::{ix, ix::MarketAccounts, state::market_name};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

#[derive(Parser)]
#[command(about = "Run a local Meridian: validator, program, exchange, markets, crank keeper, simulated traders")]
struct Args {
    /// JSON-RPC port (pubsub = port + 1); 0 = any free port. 8899 is what `--url localhost` means
    /// to Solana tools.
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Where keypairs, the CLI config, logs and the ledger go.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Test USDC given to the demo wallet.
    #[arg(long, default_value_t = 10_000)]
    usdc: u64,
    /// Simulated takers (one market maker per market always runs).
    #[arg(long, default_value_t = 2)]
    takers: usize,
    /// Keeper metrics address.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: String,
    /// Set everything up, print, and exit without trading.
    #[arg(long)]
    exit_after_setup: bool,
    /// Trade for this many seconds, print a summary, and exit (non-zero if nothing traded or the
    /// vault does not balance).
    #[arg(long)]
    run_for: Option<u64>,
    /// List a BTC future and a call and a put at two strikes expiring this many seconds after
    /// setup (the settle keeper takes them to cash); 0 = perpetuals only.
    #[arg(long, default_value_t = 240)]
    dated_expiry_secs: i64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let dir = args.dir.unwrap_or_else(|| workspace_root().join("target/localnet"));
    let ledger = dir.join("ledger");
    let _ = std::fs::remove_dir_all(&ledger); // a fresh chain each run
    std::fs::create_dir_all(&dir)?;

    let rpc_port = (args.rpc_port != 0).then_some(args.rpc_port);
    println!("starting the validator on 127.0.0.1 ...");
    let net = Localnet::start(LocalnetOptions { rpc_port, ledger: Some(ledger) }).await?;
    let client = Arc::new(net.client());

    let admin = net.wallet(1_000).await?;
    let trader = net.wallet(100).await?;
    let keeper = net.wallet(10).await?;
    let mint = Keypair::new();
    let admin_path = write_keypair(&dir, "admin", &admin)?;
    let trader_path = write_keypair(&dir, "trader", &trader)?;
    let keeper_path = write_keypair(&dir, "keeper", &keeper)?;
    write_keypair(&dir, "usdc-mint", &mint)?;

    let out = bootstrap(&client, &admin, &mint, &BootstrapConfig::default()).await?;
    let exchange = out.exchange.parse()?;
    let unit = 10u64.pow(out.decimals as u32);
    fund_wallet(&client, &admin, &mint.pubkey(), &trader.pubkey(), args.usdc * unit).await?;

    let mut markets = vec![];
    for spec in &DEMO_MARKETS {
        let (address, m) = ensure_market(&client, &admin, &exchange, perp_params(spec, out.decimals)?).await?;
        markets.push(sim_market(address, &m, out.decimals));
    }

    // an oracle per underlying: two Pyth feeds and a Switchboard feed, written by the simulator
    let mut oracles = vec![];
    for (i, m) in markets.iter().enumerate() {
        let underlying = m.name.trim_end_matches("-PERP").to_string();
        let mut ids = [[0u8; 32]; 2];
        for (j, id) in ids.iter_mut().enumerate() {
            id[..underlying.len()].copy_from_slice(underlying.as_bytes());
            id[31] = j as u8 + 1;
        }
        let mut feeds = SimulatedFeeds::create(&client, &admin, &ids, 1).await?;
        let start = ticks_to_dollars(m, m.mid.load(Ordering::Relaxed));
        feeds.publish(&client, &admin, &[start, start, start]).await?;
        let name = meridian_sdk::state::encode_name(&underlying);
        let params = meridian_sdk::oracle::OracleParams {
            sources: feeds.source_params(),
            min_valid_sources: 2,
            max_age_slots: 150,
            max_age_secs: 60,
            max_conf_bps: 200,
            max_deviation_bps: 500,
            vol_tau_secs: 3_600,
            vol_sample_secs: 10,
        };
        client.send(&[ix::create_oracle(&exchange, &admin.pubkey(), name, params)], &admin, &[]).await?;
        let oracle = meridian_sdk::pda::oracle(&exchange, &name).0;
        client
            .send(&[ix::set_market_oracle(&exchange, &admin.pubkey(), &m.accounts.market, &oracle)], &admin, &[])
            .await?;
        let mut path = meridian_oracle_sim::path::Gbm::new(start, 0.6, 7 + i as u64);
        path.jumps_per_year = 2_000.0; // a jump every ~4 hours on average: a few in a long demo
        path.jump_sigma = 0.01;
        oracles.push((underlying, feeds, path));
    }
    // the dated chain on BTC, listed by the CLI as an operator would
    if args.dated_expiry_secs > 0 {
        let spot = ticks_to_dollars(&markets[0], markets[0].mid.load(Ordering::Relaxed));
        let strike = |f: f64| ((spot * f / 1_000.0).round() * 1_000.0) as u64;
        let expiry = client.clock().await?.unix_timestamp + args.dated_expiry_secs;
        let window = if args.dated_expiry_secs >= 240 { 120 } else { 30 };
        let listing = tokio::process::Command::new(workspace_bin("meridian"))
            .args(["--url", &net.rpc_url, "--keypair"])
            .arg(&admin_path)
            .args([
                "-C",
                "/nonexistent",
                "--exchange",
                &out.exchange,
                "--json",
                "market",
                "chain",
                "--underlying",
                "BTC",
                "--oracle",
                "BTC",
            ])
            .args([
                "--expiries",
                &expiry.to_string(),
                "--strikes",
                &format!("{},{}", strike(0.97), strike(1.03)),
                "--spot",
                &format!("{spot:.1}"),
            ])
            .args([
                "--base-decimals",
                "8",
                "--lot",
                "0.0001",
                "--tick",
                "0.1",
                "--option-lot",
                "0.001",
                "--option-tick",
                "0.1",
            ])
            .args(["--settlement-window-secs", &window.to_string()])
            .output()
            .await?;
        if !listing.status.success() {
            bail!("market chain: {}", String::from_utf8_lossy(&listing.stderr));
        }
        let listed: serde_json::Value = serde_json::from_slice(&listing.stdout)?;
        for entry in listed["listed"].as_array().cloned().unwrap_or_default() {
            let address: meridian_sdk::Pubkey = entry["market"].as_str().unwrap_or_default().parse()?;
            markets.push(sim_market(address, &client.market(&address).await?, out.decimals));
        }
    }
    // a batch market on BTC beside the continuous one: 2-slot auctions cleared by the auction keeper
    {
        let spot = ticks_to_dollars(&markets[0], markets[0].mid.load(Ordering::Relaxed));
        let listing = tokio::process::Command::new(workspace_bin("meridian"))
            .args(["--url", &net.rpc_url, "--keypair"])
            .arg(&admin_path)
            .args([
                "-C",
                "/nonexistent",
                "--exchange",
                &out.exchange,
                "--json",
                "market",
                "create",
                "--name",
                "BTC-BATCH",
            ])
            .args(["--lot", "0.0001", "--tick", "0.1", "--mark", &format!("{spot:.1}"), "--oracle", "BTC"])
            .args(["--batch-slots", "2", "--book-capacity", "128", "--event-queue-capacity", "256"])
            .output()
            .await?;
        if !listing.status.success() {
            bail!("market create (batch): {}", String::from_utf8_lossy(&listing.stderr));
        }
        let listed: serde_json::Value = serde_json::from_slice(&listing.stdout)?;
        let address: meridian_sdk::Pubkey = listed["market"].as_str().unwrap_or_default().parse()?;
        markets.push(sim_market(address, &client.market(&address).await?, out.decimals));
    }
    let markets = Arc::new(markets);

    let config_path = dir.join("config.yml");
    let config = solana_cli_config::Config {
        json_rpc_url: net.rpc_url.clone(),
        websocket_url: net.ws_url.clone(),
        keypair_path: trader_path.display().to_string(),
        ..Default::default()
    };
    config.save(config_path.to_str().unwrap())?;

    let c = config_path.display();
    let oracle_metrics_addr = next_port(&args.metrics_addr)?;
    println!(
        "
Meridian localnet is up.
  RPC             {rpc}
  program         {program}
  exchange        {exchange}
  collateral      {mint} (test USDC, {decimals} decimals)
  markets         {names}
  admin keypair   {admin}
  demo wallet     {wallet} ({trader}), {usd} test USDC
  oracles         {oracles} (2 Pyth + 1 Switchboard simulated feeds each)
  keepers         meridian-keeper crank (log: {dir}/keeper.log, metrics: http://{metrics}/metrics)
                  meridian-keeper oracle (log: {dir}/oracle-keeper.log, metrics: http://{oracle_metrics}/metrics)
                  meridian-keeper funding (log: {dir}/funding-keeper.log)
                  meridian-keeper settle (log: {dir}/settle-keeper.log; expiries too)
                  meridian-keeper auction (log: {dir}/auction-keeper.log; clears BTC-BATCH, a batch market)

Try the CLI (another terminal, from the repository root):
  export MERIDIAN_EXCHANGE={exchange}
  target/debug/meridian -C {c} market list
  target/debug/meridian -C {c} oracle list
  target/debug/meridian -C {c} book BTC-PERP
  target/debug/meridian -C {c} account create
  target/debug/meridian -C {c} account deposit 2500
  target/debug/meridian -C {c} order place BTC-PERP buy 0.01 --price 65100 --type ioc
  target/debug/meridian -C {c} positions
  target/debug/meridian -C {c} account show
  target/debug/meridian -C {c} account withdraw all   (settles your PnL first)
  target/debug/meridian -C {c} market show {dated}   (the dated chain expires {expiry_in} s in)
  target/debug/meridian -C {c} market auction BTC-BATCH   (the batch market's auction)
",
        rpc = net.rpc_url,
        program = meridian::ID,
        exchange = out.exchange,
        mint = out.collateral_mint,
        decimals = out.decimals,
        names = markets.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "),
        admin = admin_path.display(),
        wallet = trader_path.display(),
        trader = trader.pubkey(),
        usd = args.usdc,
        dir = dir.display(),
        metrics = args.metrics_addr,
        oracles = oracles.iter().map(|(n, _, _)| n.as_str()).collect::<Vec<_>>().join(", "),
        dated = markets.iter().find(|m| m.expiry_ts != 0).map_or("BTC-PERP", |m| m.name.as_str()),
        expiry_in = args.dated_expiry_secs,
        oracle_metrics = oracle_metrics_addr,
    );
    if args.exit_after_setup {
        return Ok(());
    }

    // the real keeper binary, cranking every market
    let log = std::fs::File::create(dir.join("keeper.log"))?;
    let mut keeper_child = tokio::process::Command::new(workspace_bin("meridian-keeper"))
        .args(["--url", &net.rpc_url, "--ws-url", &net.ws_url, "--keypair"])
        .arg(&keeper_path)
        .args([
            "-C",
            "/nonexistent",
            "--exchange",
            &out.exchange,
            "--metrics-addr",
            &args.metrics_addr,
            "crank",
            "--poll-ms",
            "500",
        ])
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;

    // the oracle keeper keeps the aggregates (and the markets' marks) fresh as the feeds move
    let log = std::fs::File::create(dir.join("oracle-keeper.log"))?;
    let mut oracle_keeper = tokio::process::Command::new(workspace_bin("meridian-keeper"))
        .args(["--url", &net.rpc_url, "--ws-url", &net.ws_url, "--keypair"])
        .arg(&keeper_path)
        .args(["-C", "/nonexistent", "--exchange", &out.exchange, "--metrics-addr", &oracle_metrics_addr])
        .args(["oracle", "--poll-ms", "500", "--move-bps", "5", "--heartbeat-secs", "2"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    // the funding keeper accrues perpetual funding every 10 s
    let log = std::fs::File::create(dir.join("funding-keeper.log"))?;
    let mut funding_keeper = tokio::process::Command::new(workspace_bin("meridian-keeper"))
        .args(["--url", &net.rpc_url, "--keypair"])
        .arg(&keeper_path)
        .args(["-C", "/nonexistent", "--exchange", &out.exchange, "funding", "--interval-secs", "10"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    // the settle keeper realizes losses into the PnL pools every 5 s, so winners can withdraw, and
    // takes the dated markets to cash at expiry (as the admin: it closes them too)
    let log = std::fs::File::create(dir.join("settle-keeper.log"))?;
    let mut settle_keeper = tokio::process::Command::new(workspace_bin("meridian-keeper"))
        .args(["--url", &net.rpc_url, "--keypair"])
        .arg(&admin_path)
        .args(["-C", "/nonexistent", "--exchange", &out.exchange, "--metrics-addr", "127.0.0.1:0"])
        .args(["settle", "--interval-secs", "5", "--close-markets"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    // the auction keeper clears the batch market's auctions as each period ends
    let log = std::fs::File::create(dir.join("auction-keeper.log"))?;
    let mut auction_keeper = tokio::process::Command::new(workspace_bin("meridian-keeper"))
        .args(["--url", &net.rpc_url, "--keypair"])
        .arg(&keeper_path)
        .args(["-C", "/nonexistent", "--exchange", &out.exchange, "auction", "--poll-ms", "200"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    // trading starts once every market has a usable oracle price
    let ready_by = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let slot = client.clock().await?.slot;
        let mut ready = true;
        for m in markets.iter().filter(|m| m.trading()) {
            ready &= client.market(&m.accounts.market).await?.oracle_usable(slot);
        }
        if ready {
            break;
        }
        if tokio::time::Instant::now() > ready_by {
            bail!("the oracle keeper did not price the markets within 60 s (see {}/oracle-keeper.log)", dir.display());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // simulated traders, each with its own funded margin account
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(SimStats::default());
    let mut tasks = tokio::task::JoinSet::new();
    let participants = 1 + args.takers;
    for i in 0..participants {
        let who = net.wallet(10).await?;
        fund_wallet(&client, &admin, &mint.pubkey(), &who.pubkey(), 1_000_000 * unit).await?;
        let margin = meridian_sdk::pda::margin_account(&exchange, &who.pubkey(), 0).0;
        let c = meridian_sdk::ix::CollateralAccounts::of(exchange, &client.exchange(&exchange).await?);
        let ata = meridian_sdk::token::associated_token_address(&who.pubkey(), &c.mint, &c.token_program);
        client
            .send(
                &[
                    ix::create_margin_account(&exchange, &who.pubkey(), &who.pubkey(), 0),
                    ix::deposit(&c, &margin, &who.pubkey(), &ata, 500_000 * unit),
                ],
                &who,
                &[],
            )
            .await?;
        let (client, markets, stop, stats) = (client.clone(), markets.clone(), stop.clone(), stats.clone());
        if i == 0 {
            // the market maker quotes with a delegate key: it can trade the account, not withdraw
            let quoter = net.wallet(10).await?;
            client.send(&[ix::set_delegate(&margin, &who.pubkey(), &quoter.pubkey())], &who, &[]).await?;
            tasks.spawn(sim::market_maker(
                client,
                quoter,
                margin,
                exchange,
                markets,
                5,
                Duration::from_secs(2),
                stop,
                stats,
            ));
        } else {
            tasks.spawn(sim::taker(
                client,
                who,
                exchange,
                markets,
                3,
                Duration::from_millis(1_500),
                stop,
                stats,
                7 + i as u64,
            ));
        }
    }
    // the feeds follow their price paths (until the very end: the dated markets' settlement needs
    // them after trading stops); the makers quote around the path
    let feeds_stop = Arc::new(AtomicBool::new(false));
    let feeds_task = {
        let (client, markets, stop, admin) =
            (client.clone(), markets.clone(), feeds_stop.clone(), admin.insecure_clone());
        let mut noise = sim::Rng::new(99);
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for ((_, feeds, path), m) in oracles.iter_mut().zip(markets.iter()) {
                    let price = path.step(1.0);
                    // each source a few hundredths of a percent apart
                    let quotes: Vec<f64> =
                        (0..3).map(|_| price * (1.0 + (noise.below(7) as f64 - 3.0) * 1e-4)).collect();
                    if feeds.publish(&client, &admin, &quotes).await.is_ok() {
                        m.mid.store(dollars_to_ticks(m, price).max(m.bp * 100), Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    // the cluster's clock, and the dated markets' mids: a future's mark, an option's model value
    // (once revalued)
    {
        let (client, markets, stop) = (client.clone(), markets.clone(), stop.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(clock) = client.clock().await {
                    sim::CHAIN_TS.store(clock.unix_timestamp, Ordering::Relaxed);
                }
                for m in markets.iter().filter(|m| (m.expiry_ts != 0 || m.batch) && m.trading()) {
                    if let Ok(state) = client.market(&m.accounts.market).await {
                        let mid = if state.is_option() && state.lot_risk_ts != 0 {
                            state.band_reference
                        } else {
                            state.mark_price
                        };
                        m.mid.store(mid, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }
    println!("trading: 1 market maker, {} takers; Ctrl-C stops.", args.takers);

    let deadline = args.run_for.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {}
            _ = async { if let Some(d) = deadline { tokio::time::sleep_until(d).await } else { std::future::pending::<()>().await } } => break,
        }
        let now = client.clock().await?.unix_timestamp;
        for m in markets.iter() {
            let state = client.market(&m.accounts.market).await?;
            if state.is_dated() && now >= state.expiry_ts {
                println!("{:<16} {}", m.name, expiry_line(&state, &m.units, now));
                continue;
            }
            let book = client.book(&state).await?;
            let (queue, _) = client.events(&state).await?;
            let px = |p: Option<u64>| p.map_or("-".to_string(), |t| m.units.format_price(t));
            println!(
                "{:<16} bid {:>10} ask {:>10} mark {:>10} open interest {} , events queued {}, PnL pool {}",
                m.name,
                px(book.best_bid()),
                px(book.best_ask()),
                m.units.format_price(state.mark_price),
                m.units.format_size(state.open_interest),
                queue.len(),
                meridian_sdk::amount::format_ui_amount(state.pnl_pool, out.decimals)
            );
        }
        println!(
            "quotes {} takes {} filled {} lots, errors {}",
            stats.quotes.load(Ordering::Relaxed),
            stats.takes.load(Ordering::Relaxed),
            stats.filled_lots.load(Ordering::Relaxed),
            stats.errors.load(Ordering::Relaxed)
        );
    }
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    // a timed run waits (at most 150 s) for the dated markets to expire on the cluster's clock and
    // for the settle keeper to take them to cash and close them
    let dated: Vec<&SimMarket> = markets.iter().filter(|m| m.expiry_ts != 0).collect();
    let mut expiry_ok = true;
    if args.run_for.is_some() && !dated.is_empty() {
        let settled_by = tokio::time::Instant::now() + Duration::from_secs(150);
        loop {
            let now = client.clock().await?.unix_timestamp;
            let mut states = vec![];
            for m in &dated {
                states.push(client.market(&m.accounts.market).await?);
            }
            let done =
                states.iter().all(|s| now >= s.expiry_ts && s.status() == meridian_sdk::state::MarketStatus::Closed);
            if done || tokio::time::Instant::now() > settled_by {
                for (m, s) in dated.iter().zip(&states) {
                    println!("expiry: {:<16} {}", m.name, expiry_line(s, &m.units, now));
                }
                expiry_ok = done;
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    feeds_stop.store(true, Ordering::Relaxed);
    let _ = feeds_task.await;
    // give the keeper a moment to drain, then check the books balance
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = keeper_child.kill().await;
    let _ = oracle_keeper.kill().await;
    let _ = funding_keeper.kill().await;
    let _ = settle_keeper.kill().await;
    let _ = auction_keeper.kill().await;
    let mut batch_traded = true;
    for m in markets.iter().filter(|m| m.batch) {
        let state = client.market(&m.accounts.market).await?;
        println!(
            "batch: {:<16} {} auctions cleared, last clearing {} lots at {}",
            m.name,
            state.auctions_cleared,
            m.units.format_size(state.last_clearing_volume),
            m.units.format_price(state.last_clearing_price)
        );
        batch_traded &= state.last_clearing_volume > 0;
    }
    let s = client.solvency(&exchange).await?;
    let (vault, t, conserved) = (s.vault, s.totals, s.conserved());
    let filled = stats.filled_lots.load(Ordering::Relaxed);
    println!(
        "summary: {} quotes, {} takes, {filled} lots filled, {} errors; vault {} = collateral {} + fees {} + insurance {} + PnL pools {}: {}",
        stats.quotes.load(Ordering::Relaxed),
        stats.takes.load(Ordering::Relaxed),
        stats.errors.load(Ordering::Relaxed),
        vault,
        t.collateral,
        t.fees,
        t.insurance,
        t.pnl_pools,
        if conserved { "conserved" } else { "NOT CONSERVED" }
    );
    if args.run_for.is_some() && (filled == 0 || !conserved || !expiry_ok || !batch_traded) {
        bail!("demo run failed: filled {filled} lots, conserved {conserved}, expired markets settled {expiry_ok}, batch market traded {batch_traded}");
    }
    Ok(())
}

/// An expired market's state: awaiting its price, or settled (price, positions, closed).
fn expiry_line(m: &meridian_sdk::state::Market, units: &meridian_sdk::engine::ui::MarketUnits, now: i64) -> String {
    let closed = m.status() == meridian_sdk::state::MarketStatus::Closed;
    match meridian_sdk::settlement::expiry_state(m, now) {
        meridian_sdk::settlement::ExpiryState::Settled { price, .. } => format!(
            "settled at {}: {} positions settled, open interest {}{}",
            units.format_price(price),
            m.positions_settled,
            units.format_size(m.open_interest),
            if closed { ", closed" } else { "" }
        ),
        state => format!("expired: {state:?}"),
    }
}

/// A market as the simulated traders see it.
fn sim_market(address: meridian_sdk::Pubkey, m: &meridian_sdk::state::Market, quote_decimals: u8) -> SimMarket {
    SimMarket {
        accounts: MarketAccounts::of(address, m),
        index: m.index,
        name: market_name(m),
        mid: AtomicU64::new(m.mark_price),
        // 1 bp of the starting mark, in ticks (at least one tick)
        bp: (m.mark_price / 10_000).max(1),
        units: meridian_sdk::state::market_units(m, quote_decimals),
        expiry_ts: m.expiry_ts,
        batch: m.is_batch(),
    }
}

fn ticks_to_dollars(m: &SimMarket, ticks: u64) -> f64 {
    m.units.format_price(ticks).parse().unwrap_or(0.0)
}

fn dollars_to_ticks(m: &SimMarket, dollars: f64) -> u64 {
    let price12 = (dollars * 1e12) as u64;
    let u = &m.units;
    meridian_sdk::engine::oracle::to_ticks(
        price12,
        u.quote_decimals,
        u.base_decimals,
        u.base_lot_size,
        u.tick_size,
        false,
    )
    .unwrap_or(0)
}

/// host:port -> host:(port + 1) (0 stays 0: any free port).
fn next_port(addr: &str) -> Result<String> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| anyhow::anyhow!("--metrics-addr {addr}: host:port"))?;
    let port: u16 = port.parse()?;
    Ok(format!("{host}:{}", if port == 0 { 0 } else { port + 1 }))
}
