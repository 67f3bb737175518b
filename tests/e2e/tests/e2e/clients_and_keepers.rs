//! End to end on a real local validator: the program deployed from target/deploy/meridian.so, the
//! real `meridian` CLI binary and the SDK's RPC client; balances read back over RPC.
use meridian_e2e::{run_cli, write_keypair, E2e, Localnet, LocalnetOptions};
use meridian_migrations::{bootstrap, fund_wallet, BootstrapConfig};
use meridian_sdk::{ix, pda, state::MarginAccount};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::str::FromStr;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_and_sdk_create_an_exchange_deposit_and_withdraw() {
    let net = Localnet::start(LocalnetOptions::default()).await.expect("validator");
    let client = net.client();
    let dir = std::env::temp_dir().join(format!("meridian-e2e-{}", std::process::id()));

    // the program is deployed and executable
    let program = client.account(&meridian::ID).await.unwrap();
    assert!(program.executable, "program account not executable");

    // a test USDC (6 decimals) and two wallets
    let admin = net.wallet(100).await.unwrap();
    let trader = net.wallet(10).await.unwrap();
    let admin_path = write_keypair(&dir, "admin", &admin).unwrap();
    let trader_path = write_keypair(&dir, "trader", &trader).unwrap();
    let mint = Keypair::new();
    let rent = client.rpc().get_minimum_balance_for_rent_exemption(meridian_sdk::token::MINT_LEN).await.unwrap();
    let ixs = meridian_sdk::token::create_mint(
        &admin.pubkey(),
        &mint.pubkey(),
        &admin.pubkey(),
        6,
        &meridian_sdk::token::TOKEN_PROGRAM_ID,
        rent,
    );
    client.send(&ixs, &admin, &[&mint]).await.unwrap();
    let trader_ata = fund_wallet(&client, &admin, &mint.pubkey(), &trader.pubkey(), 1_000_000_000).await.unwrap();

    // CLI: exchange init (admin)
    let out =
        run_cli(&net.rpc_url, &admin_path, None, &["exchange", "init", "--mint", &mint.pubkey().to_string(), "--json"])
            .await;
    assert!(out.success, "exchange init: {}", out.stderr);
    let exchange_str = out.json()["exchange"].as_str().unwrap().to_string();
    let exchange = Pubkey::from_str(&exchange_str).unwrap();
    assert_eq!(exchange, pda::exchange(&admin.pubkey(), 0).0);
    let e = client.exchange(&exchange).await.unwrap();
    assert_eq!((e.collateral_mint, e.collateral_decimals, e.admin), (mint.pubkey(), 6, admin.pubkey()));
    // the bootstrap library finds it again instead of failing
    let again = bootstrap(
        &client,
        &admin,
        &Keypair::new(),
        &BootstrapConfig { mint: Some(mint.pubkey()), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!((again.exchange.as_str(), again.created_exchange), (exchange_str.as_str(), false));

    // CLI: account create + deposit 100.5 (UI units, 6 decimals)
    let cli = |args: Vec<&'static str>| {
        let (url, path, ex) = (net.rpc_url.clone(), trader_path.clone(), exchange_str.clone());
        async move { run_cli(&url, &path, Some(&ex), &args).await }
    };
    let out = cli(vec!["account", "create", "--json"]).await;
    assert!(out.success, "account create: {}", out.stderr);
    let margin = pda::margin_account(&exchange, &trader.pubkey(), 0).0;
    assert_eq!(out.json()["margin_account"], margin.to_string());
    let out = cli(vec!["account", "deposit", "100.5", "--json"]).await;
    assert!(out.success, "deposit: {}", out.stderr);
    assert_eq!(out.json()["collateral"], "100.500000");

    // balances over RPC
    let vault = pda::vault(&exchange).0;
    assert_eq!(client.token_account(&vault).await.unwrap().amount, 100_500_000);
    assert_eq!(client.token_account(&trader_ata).await.unwrap().amount, 899_500_000);
    let m: MarginAccount = client.margin_account(&margin).await.unwrap();
    assert_eq!((m.collateral, m.total_deposited), (100_500_000, 100_500_000));

    // SDK: a deposit straight through the client
    let c = client.collateral_accounts(&exchange).await.unwrap();
    client.send(&[ix::deposit(&c, &margin, &trader.pubkey(), &trader_ata, 9_500_000)], &trader, &[]).await.unwrap();
    assert_eq!(client.margin_account(&margin).await.unwrap().collateral, 110_000_000);

    // CLI: withdraw 40.25, then an over-withdrawal refused with the program's error name
    let out = cli(vec!["account", "withdraw", "40.25", "--json"]).await;
    assert!(out.success, "withdraw: {}", out.stderr);
    assert_eq!(client.token_account(&trader_ata).await.unwrap().amount, 1_000_000_000 - 110_000_000 + 40_250_000);
    let out = cli(vec!["account", "withdraw", "1000"]).await;
    assert!(!out.success);
    assert!(out.stderr.contains("InsufficientCollateral"), "stderr: {}", out.stderr);
    assert_eq!(
        client.margin_account(&margin).await.unwrap().collateral,
        69_750_000,
        "a failed withdrawal changes nothing"
    );
    // more decimals than the mint has
    let out = cli(vec!["account", "deposit", "0.0000001"]).await;
    assert!(!out.success && out.stderr.contains("decimal"), "stderr: {}", out.stderr);

    // exchange show: totals and the conservation check, as the CLI reports them
    let out = cli(vec!["exchange", "show", "--json"]).await;
    assert!(out.success, "{}", out.stderr);
    let show = out.json();
    assert_eq!(
        (show["total_collateral"].as_str(), show["vault_balance"].as_str()),
        (Some("69.750000"), Some("69.750000"))
    );
    assert_eq!(show["conservation"], "ok");

    // withdraw all, close, rent back
    let out = cli(vec!["account", "withdraw", "all", "--json"]).await;
    assert!(out.success, "{}", out.stderr);
    assert_eq!(client.token_account(&vault).await.unwrap().amount, 0);
    assert_eq!(client.token_account(&trader_ata).await.unwrap().amount, 1_000_000_000);
    let out = cli(vec!["account", "close", "--json"]).await;
    assert!(out.success, "{}", out.stderr);
    assert!(client.account_if_exists(&margin).await.unwrap().is_none());
    let e = client.exchange(&exchange).await.unwrap();
    assert_eq!((e.total_collateral, e.num_margin_accounts), (0, 0));

    let _ = std::fs::remove_dir_all(&dir);
}

/// The TypeScript example (examples/typescript: @coral-xyz/anchor on the committed IDL, nothing
/// hand-encoded) as a trader: it creates and funds its account, rests and cancels a bid, buys
/// against a Rust maker's ask, cranks, decodes the fill event and reads its position and health
/// history by name. Its JSON must match what the SDK reads from the same accounts and transaction.
/// Needs Node.js and `npm ci --prefix examples/typescript` (scripts/test.sh installs both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_example_trades_and_reads_by_idl_names() {
    use meridian_migrations::{ensure_market, perp_params, PerpSpec, DEMO_MARKETS};
    use meridian_sdk::{history, ix::MarketAccounts, PlaceOrderArgs};

    let example = meridian_e2e::workspace_root().join("examples/typescript");
    let node_version = std::process::Command::new("node").arg("--version").output();
    assert!(
        node_version.as_ref().is_ok_and(|o| o.status.success()),
        "`node` is not runnable ({node_version:?}): install Node.js >= 18 (scripts/test.sh does)"
    );
    let installed = example.join("node_modules/.package-lock.json");
    assert!(
        installed.exists() && example.join("node_modules/@coral-xyz/anchor").exists(),
        "{} is missing: run `npm ci --prefix examples/typescript` (scripts/test.sh does)",
        installed.display()
    );
    // it type-checks (`npm run check`; tsx, which runs it, only strips the types)
    let tsc = tokio::process::Command::new("node")
        .args(["node_modules/typescript/bin/tsc", "--noEmit", "-p", "."])
        .current_dir(&example)
        .output()
        .await
        .expect("run tsc");
    assert!(
        tsc.status.success(),
        "examples/typescript does not type-check:\n{}{}",
        String::from_utf8_lossy(&tsc.stdout),
        String::from_utf8_lossy(&tsc.stderr)
    );

    let net = Localnet::start(LocalnetOptions::default()).await.expect("validator");
    let client = net.client();
    let dir = std::env::temp_dir().join(format!("meridian-e2e-ts-{}", std::process::id()));
    let admin = net.wallet(100).await.unwrap();
    let (maker, trader) = (net.wallet(10).await.unwrap(), net.wallet(10).await.unwrap());
    let boot = bootstrap(&client, &admin, &Keypair::new(), &BootstrapConfig::default()).await.unwrap();
    let exchange = Pubkey::from_str(&boot.exchange).unwrap();
    let mint = Pubkey::from_str(&boot.collateral_mint).unwrap();
    let maker_ata = fund_wallet(&client, &admin, &mint, &maker.pubkey(), 10_000_000_000).await.unwrap();
    fund_wallet(&client, &admin, &mint, &trader.pubkey(), 2_000_000_000).await.unwrap();
    // BTC-PERP: lot 0.0001 BTC, tick $0.1, mark 65,000 (650,000 ticks)
    let spec = PerpSpec { book_capacity: 64, event_queue_capacity: 64, ..DEMO_MARKETS[0].clone() };
    let params = perp_params(&spec, boot.decimals).unwrap();
    let (market_address, market) = ensure_market(&client, &admin, &exchange, params).await.unwrap();
    let m = MarketAccounts::of(market_address, &market);

    // the counterparty (Rust SDK): 5,000 USDC and a resting ask of 0.01 BTC at the mark
    let maker_margin = pda::margin_account(&exchange, &maker.pubkey(), 0).0;
    let c = client.collateral_accounts(&exchange).await.unwrap();
    let ixs = [
        ix::create_margin_account(&exchange, &maker.pubkey(), &maker.pubkey(), 0),
        ix::deposit(&c, &maker_margin, &maker.pubkey(), &maker_ata, 5_000_000_000),
    ];
    client.send(&ixs, &maker, &[]).await.unwrap();
    let (ask_price, ask_lots) = (market.mark_price, 100);
    let ask = PlaceOrderArgs {
        side: meridian_sdk::OrderSide::Ask,
        price: ask_price,
        size: ask_lots,
        order_kind: meridian_sdk::OrderType::PostOnly,
        client_order_id: 7,
        ..Default::default()
    };
    client.send(&[ix::place_order(&m, &maker_margin, &maker.pubkey(), ask, &[])], &maker, &[]).await.unwrap();
    let ask_seq = client.margin_account(&maker_margin).await.unwrap().last_placement.order_seq;

    // the TypeScript trader
    let trader_path = write_keypair(&dir, "ts-trader", &trader).unwrap();
    let run = tokio::process::Command::new("node")
        .args(["--import", "tsx", "example.ts"])
        .current_dir(&example)
        .env("MERIDIAN_URL", &net.rpc_url)
        .env("MERIDIAN_KEYPAIR", &trader_path)
        .env("MERIDIAN_EXCHANGE", exchange.to_string())
        .env("MERIDIAN_MARKET", market_address.to_string())
        .env("MERIDIAN_MAKERS", maker_margin.to_string())
        .env("MERIDIAN_DEPOSIT", "1000000000")
        .env("MERIDIAN_SIZE", ask_lots.to_string())
        .env_remove("MERIDIAN_IDL")
        .env_remove("MERIDIAN_TOKEN_ACCOUNT")
        .env_remove("MERIDIAN_SUB_ACCOUNT")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(400), run)
        .await
        .expect("the TypeScript example did not finish in 400 s")
        .expect("run node");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "examples/typescript failed ({}):\nstdout: {stdout}\nstderr: {stderr}", out.status);
    let line = stdout.lines().last().unwrap_or_default();
    println!("examples/typescript printed: {line}");
    let ts: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not one JSON line ({e}):\nstdout: {stdout}\nstderr: {stderr}"));
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_else(|| panic!("not a string: {v} in {ts}")).to_string();

    let trader_margin = pda::margin_account(&exchange, &trader.pubkey(), 0).0;
    assert_eq!(s(&ts["margin_account"]), trader_margin.to_string());
    assert_eq!(s(&ts["collateral_after_deposit"]), "1000000000");
    // the fill: the maker's ask at its price, the whole size, decoded from the crank's event
    let fill = &ts["fill"];
    assert_eq!(
        (s(&fill["maker"]), s(&fill["taker"]), s(&fill["price"]), s(&fill["size"])),
        (maker_margin.to_string(), trader_margin.to_string(), ask_price.to_string(), ask_lots.to_string()),
        "{ts}"
    );
    assert_eq!(
        (s(&fill["makerSide"]), &fill["makerOut"], &fill["auction"]),
        ("ask".into(), &true.into(), &false.into())
    );
    assert_eq!((s(&fill["makerOrderSeq"]), s(&fill["makerClientOrderId"])), (ask_seq.to_string(), "7".into()));
    assert_eq!((s(&ts["events_market"]), &ts["events"]), (market_address.to_string(), &1.into()));
    assert_eq!(s(&ts["taker"]["filledLots"]), ask_lots.to_string());

    // the same transaction decoded by the SDK: the same record
    let signature = solana_sdk::signature::Signature::from_str(&s(&ts["consume_signature"])).unwrap();
    let confirmed = solana_commitment_config::CommitmentConfig::confirmed();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let applied = loop {
        if let Some(applied) = history::fetch(&client, &signature, confirmed).await.unwrap() {
            break applied;
        }
        assert!(std::time::Instant::now() < deadline, "the crank transaction {signature} not found in 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let fills = history::fills(&applied, None);
    assert_eq!(fills.len(), 1, "{applied:?}");
    let f = fills[0].1.record;
    assert_eq!(
        (s(&fill["seqNum"]), s(&fill["timestamp"]), s(&fill["makerFee"])),
        (f.seq_num.to_string(), f.timestamp.to_string(), f.maker_fee.to_string())
    );
    assert_eq!((f.maker, f.taker, f.price, f.size), (maker_margin, trader_margin, ask_price, ask_lots));

    // the position TypeScript read by field name is the one the SDK reads
    let account = client.margin_account(&trader_margin).await.unwrap();
    let i = account.find_position(market.index).expect("the trader's position");
    let p = account.position(i);
    assert_eq!(p.base_lots, ask_lots as i64);
    assert_eq!(s(&ts["position_base_lots"]), p.base_lots.to_string());
    let tp = &ts["position"];
    assert_eq!(
        (s(&tp["quoteBalance"]), s(&tp["entryQuote"]), s(&tp["takerVolume"]), s(&tp["fundingIndexLo"])),
        (
            p.quote_balance.to_string(),
            p.entry_quote.to_string(),
            p.taker_volume.to_string(),
            p.funding_index_lo.to_string()
        )
    );
    assert_eq!((&tp["marketIndex"], &tp["inUse"]), (&market.index.into(), &1.into()));
    assert_eq!(s(&ts["cancelled_order_seq"]), (ask_seq + 1).to_string(), "the trader's bid came after the ask");
    assert_eq!(account.open_order_slots, 0, "the bid was cancelled");
    // it withdrew a tenth of its deposit
    assert_eq!((s(&ts["withdrawn"]), account.total_withdrawn), ("100000000".into(), 100_000_000));
    assert_eq!(s(&ts["collateral"]), account.collateral.to_string());
    // the health history, window by window: the withdrawal's reading (the market has no oracle, so
    // placing orders read no clock and recorded none)
    assert_eq!(s(&ts["health_windows"]), account.health_history_next.to_string());
    assert_eq!(account.health_history_next, 1);
    let withdrawal = meridian_sdk::engine::health_history::source::WITHDRAWAL;
    assert!(account.health_history.iter().any(|h| h.slot != 0 && h.sources & withdrawal != 0));
    let rust_health: Vec<serde_json::Value> = account
        .health_history
        .iter()
        .filter(|h| h.slot != 0)
        .map(|h| {
            serde_json::json!({
                "slot": h.slot.to_string(),
                "equity": h.equity.to_string(),
                "maintenance": h.maintenance.to_string(),
                "initial": h.initial.to_string(),
                "sources": h.sources.to_string(),
            })
        })
        .collect();
    assert_eq!(ts["health_history"], serde_json::Value::Array(rust_health));
    // and the crank the example sent applied the maker's side
    let maker_account = client.margin_account(&maker_margin).await.unwrap();
    let mi = maker_account.find_position(market.index).expect("the maker's position");
    assert_eq!(maker_account.position(mi).base_lots, -(ask_lots as i64));
    let market_after = client.market(&market_address).await.unwrap();
    assert!(client.events(&market_after).await.unwrap().0.is_empty(), "the example's crank drained the queue");

    let _ = std::fs::remove_dir_all(&dir);
}

/// GET `path` from a keeper's metrics address: (status, body); None while nothing listens.
async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).await.ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
}

/// The value of the series `series` (name and labels, as printed) in a Prometheus text body.
fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A TCP forwarder to the validator's RPC port that the test can cut and restore: an RPC node
/// going away (connections dropped, new ones refused) and coming back on the same address.
struct RpcProxy {
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl RpcProxy {
    async fn start(port: u16, upstream: u16) -> RpcProxy {
        // the previous listener on the port is released once its aborted task is dropped
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => break l,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("proxy bind {port}: {e}"),
            }
        };
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut up).await;
                    }
                });
                conns.lock().unwrap().push(conn.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        RpcProxy { tasks }
    }

    fn stop(self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// Keepers an operator can leave running: a crank started while its RPC node is down keeps
/// retrying (counted, /health 503) and starts working once the node is up; a market created after
/// it started is found by the rescan and its events consumed; the node going away mid-run and
/// coming back is survived the same way (the market created meanwhile is cranked after); /health
/// and /metrics answer throughout; SIGTERM stops it with exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crank_finds_new_markets_and_survives_rpc_outages() {
    use std::time::{Duration, Instant};
    let e2e = E2e::start("keepers").await;
    let (maker, maker_path) = e2e.funded_wallet("maker", 10, 10_000_000_000).await;
    let (_, taker_path) = e2e.funded_wallet("taker", 10, 10_000_000_000).await;
    let (keeper, keeper_path) = e2e.wallet("keeper", 10).await;
    let E2e { net, client, dir, admin_path, exchange: exchange_address, exchange_key: exchange, cli, .. } = e2e;
    for path in [&maker_path, &taker_path] {
        cli.ok(path, "account create").await;
        cli.ok(path, "account deposit 5000").await;
    }
    let rpc_port: u16 = net.rpc_url.rsplit(':').next().unwrap().parse().unwrap();

    // the crank, pointed at an RPC address where nothing listens yet
    let (proxy_port, metrics_port) = (meridian_e2e::free_port(), meridian_e2e::free_port());
    let log = std::fs::File::create(dir.join("crank.log")).unwrap();
    let mut crank = tokio::process::Command::new(meridian_e2e::workspace_bin("meridian-keeper"))
        .args(["--url", &format!("http://127.0.0.1:{proxy_port}"), "--ws-url", &net.ws_url])
        .arg("--keypair")
        .arg(&keeper_path)
        .args([
            "-C",
            "/nonexistent",
            "--exchange",
            &exchange_address,
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
        ])
        .args(["--rescan-secs", "1", "--health-max-lag-secs", "4", "crank", "--poll-ms", "300"])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let health = |want: u16, what: &'static str| async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let got = http_get(metrics_port, "/health").await;
            if got.as_ref().is_some_and(|(s, _)| *s == want) {
                return got.unwrap().1;
            }
            assert!(Instant::now() < deadline, "{what}: /health answered {got:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let report = health(503, "RPC down at start").await;
    assert!(report.contains("startup: behind"), "{report}");
    let metrics = http_get(metrics_port, "/metrics").await.unwrap().1;
    let failures = "meridian_rpc_failures_total{op=\"margin account\",role=\"crank\"}";
    assert!(metric_value(&metrics, failures).unwrap_or(0.0) >= 1.0, "{metrics}");
    assert!(crank.try_wait().unwrap().is_none(), "the crank exited on an RPC failure");

    // the node comes up: the crank creates its reward account and runs
    let proxy = RpcProxy::start(proxy_port, rpc_port).await;
    let report = health(200, "RPC up").await;
    assert!(report.contains("discovery: ok"), "{report}");
    let reward = pda::margin_account(&exchange, &keeper.pubkey(), 0).0;
    assert!(client.account_if_exists(&reward).await.unwrap().is_some(), "the reward account");

    // a market created after the crank started: found by the rescan, its fill applied
    let trade = |name: &'static str, mark: &'static str, lot: &'static str, tick: &'static str, size: &'static str| {
        let cli = &cli;
        let (admin_path, maker_path, taker_path) = (&admin_path, &maker_path, &taker_path);
        async move {
            let create = format!(
                "market create --name {name} --lot {lot} --tick {tick} --mark {mark} --book-capacity 64 --event-queue-capacity 64"
            );
            cli.ok(admin_path, &create).await;
            cli.ok(maker_path, &format!("order place {name} sell {size} --price {mark} --type post-only")).await;
            cli.ok(taker_path, &format!("order place {name} buy {size} --price {mark} --type ioc")).await;
        }
    };
    let queue_length = |index: u16| {
        let client = &client;
        async move {
            let market = client.market(&pda::market(&exchange, index).0).await.unwrap();
            client.events(&market).await.unwrap().0.len()
        }
    };
    let drained = |index: u16| async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        while queue_length(index).await > 0 {
            assert!(Instant::now() < deadline, "market {index}'s queue was not drained");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let consumed = |market: &'static str| async move {
        let series = format!("meridian_events_consumed_total{{market=\"{market}\"}}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let m = http_get(metrics_port, "/metrics").await.map(|(_, body)| body).unwrap_or_default();
            if metric_value(&m, &series) == Some(1.0) {
                return m;
            }
            assert!(Instant::now() < deadline, "{series} not counted:\n{m}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    trade("BTC-PERP", "65000", "0.0001", "0.1", "0.01").await;
    drained(0).await;
    // the keeper counts the event once it sees its transaction confirmed, which can be after the
    // queue is seen empty here: wait for that before cutting the node
    consumed("BTC-PERP").await;

    // the RPC node goes away: the crank cannot reach it, reports 503, keeps running
    proxy.stop();
    trade("ETH-PERP", "3000", "0.001", "0.01", "0.1").await;
    let report = health(503, "RPC down mid-run").await;
    assert!(report.contains("behind"), "{report}");
    assert_eq!(queue_length(1).await, 1, "no crank could reach the node");
    assert!(crank.try_wait().unwrap().is_none(), "the crank exited during the outage");
    // ... and comes back: the market created meanwhile is found and cranked
    let proxy = RpcProxy::start(proxy_port, rpc_port).await;
    drained(1).await;
    health(200, "RPC back").await;
    let maker_account = client.margin_account(&pda::margin_account(&exchange, &maker.pubkey(), 0).0).await.unwrap();
    for (market, lots) in [(0u16, -100i64), (1, -100)] {
        let slot = maker_account.find_position(market).expect("the maker's fill applied");
        assert_eq!(maker_account.position(slot).base_lots, lots, "market {market}");
    }

    // metrics: consumed per market, discovery, latencies, failures, the fee used
    let metrics = consumed("ETH-PERP").await;
    assert_eq!(metric_value(&metrics, "meridian_events_consumed_total{market=\"BTC-PERP\"}"), Some(1.0), "{metrics}");
    assert_eq!(metric_value(&metrics, "meridian_events_consumed_total{market=\"ETH-PERP\"}"), Some(1.0), "{metrics}");
    assert_eq!(metric_value(&metrics, "meridian_markets_discovered{role=\"crank\"}"), Some(2.0), "{metrics}");
    // one consume_events a market
    assert!(
        metric_value(&metrics, "meridian_tx_confirm_seconds_count{role=\"crank\"}").unwrap_or(0.0) >= 2.0,
        "{metrics}"
    );
    assert!(!metrics.contains("component=\"startup\""), "startup is over: {metrics}");
    assert!(metrics.contains("# TYPE meridian_tx_confirm_seconds histogram"), "{metrics}");
    let outage_failures: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("meridian_rpc_failures_total{") && l.contains("role=\"crank\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(outage_failures >= 2.0, "{metrics}");
    // the local validator's recent blocks charged nothing: auto pays 0
    assert_eq!(metric_value(&metrics, "meridian_priority_fee_micro_lamports{role=\"crank\"}"), Some(0.0), "{metrics}");
    assert_eq!(metric_value(&metrics, "meridian_keeper_healthy"), Some(1.0), "{metrics}");

    // SIGTERM: a clean stop
    let pid = crank.id().unwrap().to_string();
    assert!(tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    let status = tokio::time::timeout(Duration::from_secs(30), crank.wait()).await.expect("stopped in time").unwrap();
    assert!(status.success(), "{status:?}");
    proxy.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
