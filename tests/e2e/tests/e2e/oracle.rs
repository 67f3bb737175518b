//! End to end on a local validator: simulated Pyth and Switchboard feeds (real formats, real owner
//! programs), an oracle created with the CLI, the real `meridian-keeper oracle` refreshing it as
//! the feeds move; the aggregate equals what the SDK predicts from the feed accounts, to the unit,
//! and so does the health of an account quoting on a market priced by it (the portfolio engine's
//! requirement follows the price), down to the last unit it can withdraw; after a crash
//! `meridian liquidate` cancels that account's orders for a fee (liquidation stage 1). A winner
//! takes a profit out through PnL settlement; a dated chain expires and settles to cash with the
//! settle keeper.
use meridian_e2e::{feeds::SimulatedFeeds, run_cli, scrape_metrics, write_keypair, E2e};
use meridian_migrations::{fund_wallet, BootstrapConfig};
use meridian_sdk::{
    engine::oracle::Outcome,
    oracle::{feed_id_hex, predict, OracleStatus},
    state::{MarketStatus, OracleAggregate, SettlementSource},
    Pubkey,
};
use solana_sdk::signer::Signer;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The account's health if the market's mark were the oracle price `price` (12 decimals), as the
/// program computes it after a refresh pushes that price.
fn predicted_health(
    account: &meridian_sdk::state::MarginAccount,
    market: &meridian_sdk::state::Market,
    price: u64,
) -> meridian_sdk::engine::margin::Health {
    let mut m = *market;
    m.mark_price = meridian_sdk::engine::oracle::to_ticks(
        price,
        m.quote_decimals,
        m.base_decimals,
        m.base_lot_size,
        m.tick_size,
        false,
    )
    .unwrap();
    meridian_sdk::risk::health_of(account, &BTreeMap::from([(m.index, m)])).unwrap()
}

/// What a refresh now would store, from the feed accounts as the cluster holds them.
async fn expected_price(client: &meridian_sdk::client::Client, o: &OracleAggregate) -> (u64, u64) {
    let sources = client.oracle_sources(o).await.unwrap();
    let readings: Vec<_> = sources.iter().map(|(_, r)| *r).collect();
    let newest = readings.iter().map(|r| (r.slot, r.publish_ts)).max().unwrap();
    match predict(o, &readings, newest.0, newest.1).0 {
        Outcome::Valid(q) => (q.price, q.conf),
        other => panic!("feeds do not make a valid price: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_keeper_follows_simulated_pyth_and_switchboard_feeds() {
    let e2e = E2e::start("oracle").await;
    let (_keeper, keeper_path) = e2e.wallet("keeper", 10).await;
    let E2e { net, client, dir, admin, admin_path, exchange, mint, .. } = e2e;

    let (pyth_a, pyth_b) = ([0x11u8; 32], [0x22u8; 32]);
    let mut feeds = SimulatedFeeds::create(&client, &admin, &[pyth_a, pyth_b], 1).await.unwrap();
    feeds.publish(&client, &admin, &[150.0, 150.1, 149.95]).await.unwrap();
    let switchboard = feeds.feeds[2].account.pubkey().to_string();
    let (hex_a, hex_b) = (feed_id_hex(&pyth_a), feed_id_hex(&pyth_b));

    let created = run_cli(
        &net.rpc_url,
        &admin_path,
        Some(&exchange),
        &[
            "oracle",
            "create",
            "--name",
            "SOL",
            "--pyth",
            &hex_a,
            "--pyth",
            &hex_b,
            "--switchboard",
            &switchboard,
            // the test moves the feeds every few seconds: sample the volatility on each move
            "--vol-sample-secs",
            "1",
            "--json",
        ],
    )
    .await;
    assert!(created.success, "{}", created.stderr);
    let created = created.json();
    assert_eq!(
        (created["status"].as_str(), created["sources"][2]["kind"].as_str()),
        (Some("uninitialized"), Some("switchboard"))
    );
    let address: Pubkey = created["oracle"].as_str().unwrap().parse().unwrap();

    // SOL-PERP priced by it, and a trader quoting a 10 SOL bid on it (its requirement: the bid's
    // worst case, filled, under the portfolio engine's 16% move at the oracle price)
    let trader = net.wallet(10).await.unwrap();
    let trader_path = write_keypair(&dir, "trader", &trader).unwrap();
    fund_wallet(&client, &admin, &mint, &trader.pubkey(), 10_000_000_000).await.unwrap();
    let cli = |path: std::path::PathBuf, args: Vec<&'static str>| {
        let (url, ex) = (net.rpc_url.clone(), exchange.clone());
        async move {
            let out = run_cli(&url, &path, Some(&ex), &args).await;
            assert!(out.success, "meridian {args:?}:\n{}", out.stderr);
            out
        }
    };
    cli(
        admin_path.clone(),
        vec![
            "market",
            "create",
            "--name",
            "SOL-PERP",
            "--base-decimals",
            "9",
            "--lot",
            "0.01",
            "--tick",
            "0.01",
            "--mark",
            "150",
            "--json",
        ],
    )
    .await;
    cli(admin_path.clone(), vec!["market", "set-oracle", "SOL-PERP", "SOL"]).await;
    cli(trader_path.clone(), vec!["account", "create"]).await;
    cli(trader_path.clone(), vec!["account", "deposit", "1000"]).await;
    let margin = meridian_sdk::pda::margin_account(&exchange.parse().unwrap(), &trader.pubkey(), 0).0;
    let market_address = meridian_sdk::pda::market(&exchange.parse().unwrap(), 0).0;

    // one refresh by the keeper binary
    let keeper_cmd = || meridian_e2e::keeper_command(&net.rpc_url, &keeper_path, &exchange);
    let once = keeper_cmd().args(["oracle", "--once"]).output().await.unwrap();
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    let o = client.oracle(&address).await.unwrap();
    assert_eq!(o.status(), OracleStatus::Valid);
    assert_eq!((o.price, o.conf), expected_price(&client, &o).await);
    assert_eq!(o.price, 150_000_000_000_000, "median of 149.95, 150.0, 150.1");
    // the refresh pushed the price to SOL-PERP: the trader can quote
    assert_eq!(client.market(&market_address).await.unwrap().mark_price, 15_000);
    cli(trader_path.clone(), vec!["order", "place", "SOL-PERP", "buy", "10", "--price", "140", "--type", "post-only"])
        .await;
    let mut health =
        client.health(&exchange.parse().unwrap(), &client.margin_account(&margin).await.unwrap()).await.unwrap();
    // 1,000 lots bid; a lot worth $1.50 needs 1.5 x 16% of it
    assert_eq!((health.maintenance, health.initial), (1_000 * 240_000, 1_000 * 360_000));

    let shown = run_cli(&net.rpc_url, &keeper_path, Some(&exchange), &["oracle", "show", "SOL", "--json"]).await.json();
    assert_eq!((shown["status"].as_str(), shown["price"].as_str()), (Some("valid"), Some("150.000000000000")));
    assert_eq!(shown["sources"][0]["last_fault"], "ok");

    // the keeper as a daemon follows the feeds as they move
    let metrics_port = meridian_e2e::free_port();
    let mut daemon = keeper_cmd()
        .args([
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "oracle",
            "--poll-ms",
            "300",
            "--move-bps",
            "5",
            "--heartbeat-secs",
            "2",
        ])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for prices in [[151.0, 151.2, 150.9], [148.5, 148.4, 148.6], [155.0, 155.3, 154.8]] {
        feeds.publish(&client, &admin, &prices).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // the feeds are written one after the other, so the keeper may first refresh from a mix;
            // the heartbeat then brings the aggregate to what all of them say
            let o = client.oracle(&address).await.unwrap();
            let expected = expected_price(&client, &o).await;
            let account = client.margin_account(&margin).await.unwrap();
            let before = client.market(&market_address).await.unwrap();
            let predicted = predicted_health(&account, &before, expected.0);
            if (o.price, o.conf) == expected {
                assert_eq!(o.status(), OracleStatus::Valid);
                // the keeper pushed the price with the refresh: the account's health is the SDK's
                // prediction from the feed accounts, to the unit
                let market = client.market(&market_address).await.unwrap();
                let now = meridian_sdk::risk::health_of(&account, &BTreeMap::from([(0u16, market)])).unwrap();
                assert_eq!(now, predicted, "health after the keeper's refresh at {prices:?}");
                assert_ne!(now.initial, health.initial, "the requirement follows the price");
                health = now;
                break;
            }
            assert!(Instant::now() < deadline, "the keeper did not follow {prices:?}: {o:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let o = client.oracle(&address).await.unwrap();
    assert_eq!(o.price, 155_000_000_000_000);
    // on-chain, to the unit: one unit more than the predicted free collateral is refused, exactly it
    // is paid (the keeper keeps the price fresh meanwhile; the feeds no longer move)
    let free = health.initial_free().min(1_000_000_000) as u64;
    let ui = |v: u64| format!("{}.{:06}", v / 1_000_000, v % 1_000_000);
    let (too_much, exact) = (ui(free + 1), ui(free));
    let refused = run_cli(&net.rpc_url, &trader_path, Some(&exchange), &["account", "withdraw", &too_much]).await;
    assert!(!refused.success && refused.stderr.contains("InsufficientCollateral"), "{}", refused.stderr);
    let paid = run_cli(&net.rpc_url, &trader_path, Some(&exchange), &["account", "withdraw", &exact, "--json"]).await;
    assert!(paid.success, "{}", paid.stderr);
    assert_eq!(client.margin_account(&margin).await.unwrap().collateral as u64, 1_000_000_000 - free);

    // SOL crashes to 120: the bid at 140 is now a loss, the account falls below maintenance, and
    // `meridian liquidate` (stage 1) cancels it for a fee once the keeper has priced the crash
    cli(keeper_path.clone(), vec!["account", "create"]).await;
    let healthy =
        run_cli(&net.rpc_url, &keeper_path, Some(&exchange), &["liquidate", "--account", &margin.to_string()]).await;
    assert!(!healthy.success && healthy.stderr.contains("not liquidatable"), "{}", healthy.stderr);
    feeds.publish(&client, &admin, &[120.0, 120.0, 120.0]).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // the feeds are written one after another: wait for a Valid push of all three (a mix of old and
    // new prices is Divergent, with the mark already at the median, but not usable)
    loop {
        let market = client.market(&market_address).await.unwrap();
        if market.mark_price == 12_000 && market.oracle_status == OracleStatus::Valid as u8 {
            break;
        }
        assert!(Instant::now() < deadline, "the keeper did not price the crash: {market:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let account = client.margin_account(&margin).await.unwrap();
    let market = client.market(&market_address).await.unwrap();
    let h = meridian_sdk::risk::health_of(&account, &BTreeMap::from([(0u16, market)])).unwrap();
    assert!(h.maintenance_free() < 0, "{h:?}");
    let liquidated = run_cli(
        &net.rpc_url,
        &keeper_path,
        Some(&exchange),
        &["liquidate", "--account", &margin.to_string(), "--json"],
    )
    .await;
    assert!(liquidated.success, "{}", liquidated.stderr);
    let liquidated = liquidated.json();
    assert_eq!(
        (liquidated["orders_cancelled"].as_u64(), liquidated["fees_earned"].as_str()),
        (Some(1), Some("0.100000"))
    );
    assert_eq!(client.margin_account(&margin).await.unwrap().num_open_orders(), 0);
    assert!(o.realized_vol > 0, "moves of 1-4% give a volatility");
    assert!(o.twap_cumulative() > 0);
    // the keeper updates its gauges once its transaction confirms, which can be after the aggregate
    // is seen here: poll
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut metrics = scrape_metrics(metrics_port).await;
    while !metrics.contains("meridian_oracle_price{oracle=\"SOL\"} 120\n") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        metrics = scrape_metrics(metrics_port).await;
    }
    assert!(metrics.contains("meridian_oracle_price{oracle=\"SOL\"} 120\n"), "{metrics}");
    assert!(metrics.contains("meridian_oracle_refreshes_total{oracle=\"SOL\"}"), "{metrics}");
    daemon.kill().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A local validator with a bootstrapped exchange and a SOL oracle (CLI-created) over two simulated
/// Pyth feeds (`feed_byte`, `feed_byte + 1`) and a Switchboard feed published at `dollars`.
async fn sol_exchange(tag: &str, feed_byte: u8, dollars: f64) -> (E2e, SimulatedFeeds) {
    let e2e = E2e::start(tag).await;
    let ids = [[feed_byte; 32], [feed_byte + 1; 32]];
    let mut feeds = SimulatedFeeds::create(&e2e.client, &e2e.admin, &ids, 1).await.unwrap();
    feeds.publish(&e2e.client, &e2e.admin, &[dollars; 3]).await.unwrap();
    let (a, b) = (feed_id_hex(&ids[0]), feed_id_hex(&ids[1]));
    let sb = feeds.feeds[2].account.pubkey().to_string();
    e2e.cli.ok(&e2e.admin_path, &format!("oracle create --name SOL --pyth {a} --pyth {b} --switchboard {sb}")).await;
    (e2e, feeds)
}

/// PnL settlement end to end: two traders open 10 SOL against each other at 150, the oracle keeper
/// follows the feeds to 165, the settle keeper realizes the loser's 150 USDC into the market's PnL
/// pool, and the winner closes and takes its profit out with `meridian account withdraw all`
/// (which settles first): 1,148.425 USDC back for 1,000 deposited, read back over RPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_winner_takes_its_profit_out() {
    let (E2e { net, client, dir, admin, admin_path, exchange, exchange_key, mint, cli }, mut feeds) =
        sol_exchange("settle", 0x31, 150.0).await;
    cli.ok(&admin_path, "market create --name SOL-PERP --base-decimals 9 --lot 0.01 --tick 0.01 --mark 150").await;
    cli.ok(&admin_path, "market set-oracle SOL-PERP SOL").await;
    let keeper = net.wallet(10).await.unwrap();
    let keeper_path = write_keypair(&dir, "keeper", &keeper).unwrap();
    let keeper_cmd = || meridian_e2e::keeper_command(&net.rpc_url, &keeper_path, &exchange);
    let mut oracle =
        keeper_cmd().args(["oracle", "--poll-ms", "300", "--heartbeat-secs", "2"]).kill_on_drop(true).spawn().unwrap();
    let market_address = meridian_sdk::pda::market(&exchange_key, 0).0;
    let priced = |mark: u64| {
        let client = &client;
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let m = client.market(&market_address).await.unwrap();
                if m.mark_price == mark && m.oracle_status == OracleStatus::Valid as u8 {
                    return;
                }
                assert!(Instant::now() < deadline, "the keeper did not price {mark}: {m:?}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    priced(15_000).await;

    // alice buys 10 SOL from bob at 150; carol will buy them back at 165
    let mut traders = vec![];
    for name in ["alice", "bob", "carol"] {
        let w = net.wallet(10).await.unwrap();
        let path = write_keypair(&dir, name, &w).unwrap();
        fund_wallet(&client, &admin, &mint, &w.pubkey(), 10_000_000_000).await.unwrap();
        cli.ok(&path, "account create").await;
        cli.ok(&path, "account deposit 1000").await;
        traders.push((w, path));
    }
    let (alice, bob, carol) = (&traders[0], &traders[1], &traders[2]);
    cli.ok(&bob.1, "order place SOL-PERP sell 10 --price 150 --type post-only").await;
    cli.ok(&alice.1, "order place SOL-PERP buy 10 --price 150 --type ioc").await;
    let crank = || async {
        let out = keeper_cmd().args(["crank", "--once"]).output().await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    crank().await;

    // SOL to 165: bob owes 150 USDC; the settle keeper realizes it into the pool
    feeds.publish(&client, &admin, &[165.0; 3]).await.unwrap();
    priced(16_500).await;
    let settled = keeper_cmd().args(["settle", "--once"]).output().await.unwrap();
    assert!(settled.status.success(), "{}", String::from_utf8_lossy(&settled.stderr));
    let shown = cli.ok(&admin_path, "market show SOL-PERP --json").await.json();
    assert_eq!(shown["pnl_pool"].as_str(), Some("150.000000"), "{shown}");
    let bob_account =
        client.margin_account(&meridian_sdk::pda::margin_account(&exchange_key, &bob.0.pubkey(), 0).0).await.unwrap();
    assert_eq!(bob_account.pnl_settled, -150_000_000);

    // alice closes at 165 and takes everything out: the CLI settles her 150 first
    cli.ok(&carol.1, "order place SOL-PERP buy 10 --price 165 --type post-only").await;
    cli.ok(&alice.1, "order place SOL-PERP sell 10 --price 165 --type ioc").await;
    crank().await;
    let token_program = meridian_migrations::BootstrapConfig::default().token_program;
    let ata = meridian_sdk::token::associated_token_address(&alice.0.pubkey(), &mint, &token_program);
    let before = client.token_account(&ata).await.unwrap().amount;
    let withdrawn = cli.ok(&alice.1, "account withdraw all --json").await.json();
    // 1,000 deposited, +150 of profit, -0.75 and -0.825 of taker fees
    assert_eq!(withdrawn["withdrawn"].as_str(), Some("1148.425000"), "{withdrawn}");
    assert_eq!(client.token_account(&ata).await.unwrap().amount - before, 1_148_425_000);
    let account =
        client.margin_account(&meridian_sdk::pda::margin_account(&exchange_key, &alice.0.pubkey(), 0).0).await.unwrap();
    assert_eq!((account.collateral, account.pnl_settled, account.positions_in_use().count()), (0, 150_000_000, 0));
    let status = keeper_cmd().arg("status").output().await.unwrap();
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("conserved=true"),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    oracle.kill().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dated chain through its whole life on the local validator: listed with `meridian market chain`
/// (a SOL future and calls/puts at two strikes, expiring ~90 s in, a 30 s window), traded with the
/// CLI, sampled by the real oracle keeper over the window, then taken to cash by the real settle
/// keeper (orders cancelled, price fixed, every position settled, the markets closed); the winner
/// withdraws exactly what the payoffs say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dated_chain_expires_settles_and_pays_out() {
    // SOL at 156 for the whole run, published twice a second
    let (E2e { net, client, dir, admin, admin_path, exchange, exchange_key, mint, cli }, mut feeds) =
        sol_exchange("expiry", 0x41, 156.0).await;
    let publisher = {
        let (client, admin) = (net.client(), admin.insecure_clone());
        tokio::spawn(async move {
            loop {
                let _ = feeds.publish(&client, &admin, &[156.0; 3]).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    // the chain: per expiry a future and a call and a put per strike
    let now = client.clock().await.unwrap().unix_timestamp;
    let expiry = now + 90;
    let chain = format!(
        "market chain --underlying SOL --oracle SOL --expiries {expiry} --strikes 150,160 --spot 156 --base-decimals 9 \
         --lot 0.01 --tick 0.01 --option-lot 0.1 --option-tick 0.001 --settlement-window-secs 30 --json"
    );
    let listed = cli.ok(&admin_path, &chain).await.json();
    assert_eq!(listed["markets"].as_u64(), Some(5), "{listed}");
    let names: Vec<String> =
        listed["listed"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
    let code = names[0].clone();
    assert!(
        code.starts_with("SOL-") && names[1] == format!("{code}-150C") && names[2] == format!("{code}-150P"),
        "{names:?}"
    );
    let market = |i: usize| Pubkey::from_str(listed["listed"][i]["market"].as_str().unwrap()).unwrap();
    let (future, call) = (market(0), market(1));

    // the keepers: oracle (pushes to every market of SOL), settle (as the admin, closing markets)
    let keeper = net.wallet(10).await.unwrap();
    let keeper_path = write_keypair(&dir, "keeper", &keeper).unwrap();
    let keeper_as = |key: &std::path::Path| meridian_e2e::keeper_command(&net.rpc_url, key, &exchange);
    let mut oracle = keeper_as(&keeper_path)
        .args(["--metrics-addr", "127.0.0.1:0", "oracle", "--poll-ms", "300", "--heartbeat-secs", "1"])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let wait = |what: &'static str,
                secs: u64,
                done: Box<dyn Fn(&meridian_sdk::state::Market) -> bool + Send>,
                address: Pubkey| {
        let client = net.client();
        async move {
            let deadline = Instant::now() + Duration::from_secs(secs);
            loop {
                let m = client.market(&address).await.unwrap();
                if done(&m) {
                    return m;
                }
                assert!(Instant::now() < deadline, "{what}: {m:?}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    wait(
        "the future priced",
        60,
        Box::new(|m| m.mark_price == 15_600 && m.oracle_status == OracleStatus::Valid as u8),
        future,
    )
    .await;
    let call_state = wait("the call revalued", 60, Box::new(|m| m.lot_risk_ts != 0), call).await;

    // alice buys 1 SOL of the future and 1 SOL (10 lots) of the 150 call from bob
    let mut traders = vec![];
    for name in ["alice", "bob"] {
        let w = net.wallet(10).await.unwrap();
        let path = write_keypair(&dir, name, &w).unwrap();
        fund_wallet(&client, &admin, &mint, &w.pubkey(), 10_000_000_000).await.unwrap();
        cli.ok(&path, "account create").await;
        cli.ok(&path, "account deposit 1000").await;
        traders.push((w, path));
    }
    let (alice, bob) = (&traders[0], &traders[1]);
    let premium = meridian_sdk::state::market_units(&call_state, 6).format_price(call_state.band_reference);
    cli.ok(&bob.1, &format!("order place {code} sell 1 --price 156 --type post-only")).await;
    cli.ok(&alice.1, &format!("order place {code} buy 1 --price 156 --type ioc")).await;
    cli.ok(&bob.1, &format!("order place {code}-150C sell 1 --price {premium} --type post-only")).await;
    cli.ok(&alice.1, &format!("order place {code}-150C buy 1 --price {premium} --type ioc")).await;
    // bob also leaves an order resting: the keeper cancels it at expiry
    cli.ok(&bob.1, &format!("order place {code} sell 1 --price 160 --type post-only")).await;
    let crank = keeper_as(&keeper_path).args(["crank", "--once"]).output().await.unwrap();
    assert!(crank.status.success(), "{}", String::from_utf8_lossy(&crank.stderr));
    let alice_margin = meridian_sdk::pda::margin_account(&exchange_key, &alice.0.pubkey(), 0).0;
    let before = client.margin_account(&alice_margin).await.unwrap();
    let paid: i64 = before.positions_in_use().map(|p| p.quote_balance).sum();
    assert!(paid < 0, "alice paid for what she bought");

    // the window runs; expired, the market refuses orders with its own error
    let shown = cli.ok(&admin_path, &format!("market show {code} --json")).await.json();
    assert_eq!(shown["expiry_ts"].as_i64(), Some(expiry), "{shown}");
    let wait_until = expiry + 1;
    while client.clock().await.unwrap().unix_timestamp < wait_until {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let late = run_cli(
        &net.rpc_url,
        &alice.1,
        Some(&exchange),
        &["order", "place", &code, "buy", "1", "--price", "156", "--type", "ioc"],
    )
    .await;
    assert!(!late.success && late.stderr.contains("MarketExpired"), "{}", late.stderr);

    // the settler: orders cancelled, price fixed at 156, positions settled, markets closed
    let admin_key_path = admin_path.clone();
    let mut settler = keeper_as(&admin_key_path)
        .args(["--metrics-addr", "127.0.0.1:0", "settle", "--interval-secs", "1", "--close-markets"])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for (i, name) in names.iter().enumerate().take(5) {
        let m = wait("settled and closed", 90, Box::new(|m| m.status() == MarketStatus::Closed), market(i)).await;
        assert_eq!((m.open_interest, m.settlement_source), (0, SettlementSource::Window as u8), "{name}");
    }
    let fut = client.market(&future).await.unwrap();
    assert_eq!(fut.settlement_price, 15_600, "the window's price, to the tick");
    assert!(client.account_if_exists(&fut.book).await.unwrap().is_none(), "the book's rent is back");
    settler.kill().await.ok();
    oracle.kill().await.ok();
    publisher.abort();

    // alice: the future bought at 156 settles at 156 (nothing), the call pays 156 - 150 = 6 per SOL;
    // everything settled, her slots free, and she withdraws it all
    let after = client.margin_account(&alice_margin).await.unwrap();
    assert_eq!(after.positions_in_use().count(), 0);
    // her quote balances (-156 for the future, -premium for the calls) plus the payoffs: the
    // future's 156, the calls' (156 - 150) x 1 SOL
    assert_eq!(
        after.pnl_settled - before.pnl_settled,
        paid + 156_000_000 + 6_000_000,
        "the call's payoff less its premium; the future flat at 156"
    );
    let ata = meridian_sdk::token::associated_token_address(
        &alice.0.pubkey(),
        &mint,
        &BootstrapConfig::default().token_program,
    );
    let tokens = client.token_account(&ata).await.unwrap().amount;
    let withdrawn = cli.ok(&alice.1, "account withdraw all --json").await.json();
    assert_eq!(client.token_account(&ata).await.unwrap().amount - tokens, after.collateral as u64, "{withdrawn}");
    let status = keeper_as(&keeper_path).arg("status").output().await.unwrap();
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("conserved=true"),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
