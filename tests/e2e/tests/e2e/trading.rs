//! End to end on a local validator: a market created with the CLI, two traders crossing through
//! the CLI, the real crank keeper applying the maker's fill; positions, fees and conservation read
//! back over RPC.
use meridian_e2e::{run_cli, E2e};
use meridian_sdk::pda;
use solana_sdk::signer::Signer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_traders_cross_through_the_cli_and_the_crank_keeper_settles_the_maker() {
    let e2e = E2e::start("trading").await;
    let (maker, maker_path) = e2e.funded_wallet("maker", 10, 10_000_000_000).await;
    let (taker, taker_path) = e2e.funded_wallet("taker", 10, 10_000_000_000).await;
    let (keeper, keeper_path) = e2e.wallet("keeper", 10).await;
    let E2e { net, client, dir, admin_path, exchange, .. } = e2e;
    let paths: Vec<String> =
        [admin_path, maker_path, taker_path, keeper_path].iter().map(|p| p.display().to_string()).collect();
    let cli = |who: usize, args: Vec<&'static str>| {
        let (url, path, ex) = (net.rpc_url.clone(), paths[who].clone(), exchange.clone());
        async move {
            let out = run_cli(&url, std::path::Path::new(&path), Some(&ex), &args).await;
            assert!(out.success, "meridian {args:?}:\n{}", out.stderr);
            out
        }
    };

    // the admin creates BTC-PERP: lot 0.0001 BTC, tick $0.1, 5 bp taker, 1 bp maker rebate
    let out = cli(
        0,
        vec![
            "market",
            "create",
            "--name",
            "BTC-PERP",
            "--lot",
            "0.0001",
            "--tick",
            "0.1",
            "--mark",
            "65000",
            "--book-capacity",
            "64",
            "--event-queue-capacity",
            "64",
            "--json",
        ],
    )
    .await;
    let created = out.json();
    assert_eq!(
        (created["name"].as_str(), created["tick"].as_str(), created["lot_size"].as_str()),
        (Some("BTC-PERP"), Some("0.1"), Some("0.00010000"))
    );
    for who in [1, 2] {
        cli(who, vec!["account", "create"]).await;
        cli(who, vec!["account", "deposit", "5000"]).await;
    }

    // off the grid: refused by the CLI with the nearest valid values, nothing sent
    let url = net.rpc_url.clone();
    let off_tick = run_cli(
        &url,
        std::path::Path::new(&paths[1]),
        Some(&exchange),
        &["order", "place", "BTC-PERP", "sell", "0.01", "--price", "65000.05"],
    )
    .await;
    assert!(!off_tick.success && off_tick.stderr.contains("nearest: 65000.0 or 65000.1"), "{}", off_tick.stderr);
    let off_lot = run_cli(
        &url,
        std::path::Path::new(&paths[1]),
        Some(&exchange),
        &["order", "place", "BTC-PERP", "sell", "0.00015", "--price", "65000"],
    )
    .await;
    assert!(!off_lot.success && off_lot.stderr.contains("not a multiple of the lot size"), "{}", off_lot.stderr);

    // the maker rests 0.01 BTC at 65,000; the taker buys it
    let placed =
        cli(1, vec!["order", "place", "BTC-PERP", "sell", "0.01", "--price", "65000", "--type", "post-only", "--json"])
            .await
            .json();
    assert_eq!((placed["resting"].as_str(), placed["resting_price"].as_str()), (Some("0.01000000"), Some("65000.0")));
    let book = cli(2, vec!["book", "BTC-PERP", "--json"]).await.json();
    assert_eq!(book["asks"][0]["price"], "65000.0");
    let filled =
        cli(2, vec!["order", "place", "BTC-PERP", "buy", "0.01", "--price", "65100", "--type", "ioc", "--json"])
            .await
            .json();
    // notional 0.01 * 65,000 = 650 USDC; taker fee 5 bp = 0.325
    assert_eq!(
        (filled["filled"].as_str(), filled["filled_value"].as_str(), filled["fee"].as_str()),
        (Some("0.01000000"), Some("650.000000"), Some("0.325000"))
    );

    let market = client.market(&pda::market(&exchange.parse().unwrap(), 0).0).await.unwrap();
    assert_eq!(client.events(&market).await.unwrap().0.len(), 1, "the maker's fill waits for the crank");

    // the crank keeper (the real binary, as operators run it) drains the queue and reports metrics
    let metrics_port = meridian_e2e::free_port();
    let mut keeper_child = tokio::process::Command::new(meridian_e2e::workspace_bin("meridian-keeper"))
        .args([
            "--url",
            &net.rpc_url,
            "--ws-url",
            &net.ws_url,
            "--keypair",
            &paths[3],
            "-C",
            "/nonexistent",
            "--exchange",
            &exchange,
        ])
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}"), "crank", "--poll-ms", "300"])
        .kill_on_drop(true)
        .spawn()
        .expect("start meridian-keeper");
    let market_address = pda::market(&exchange.parse().unwrap(), 0).0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let market = client.market(&market_address).await.unwrap();
        if client.events(&market).await.unwrap().0.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the keeper did not drain the queue in 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    // the keeper counts an event once its transaction is confirmed, which can land after the
    // queue is seen empty here: poll the endpoint rather than race it
    let consumed = "meridian_events_consumed_total{market=\"BTC-PERP\"} 1";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut metrics = meridian_e2e::scrape_metrics(metrics_port).await;
    while !metrics.contains(consumed) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        metrics = meridian_e2e::scrape_metrics(metrics_port).await;
    }
    assert!(metrics.contains(consumed), "{metrics}");
    assert!(metrics.contains("meridian_event_queue_length{market=\"BTC-PERP\"}"), "{metrics}");
    keeper_child.kill().await.ok();

    // positions over RPC through the CLI
    let maker_pos = cli(1, vec!["positions", "--json"]).await.json();
    let taker_pos = cli(2, vec!["positions", "--json"]).await.json();
    assert_eq!(maker_pos[0]["size"], "-0.01000000");
    assert_eq!(taker_pos[0]["size"], "0.01000000");
    assert_eq!(taker_pos[0]["entry_price"], "65000.0");
    // fees: taker -0.325, maker rebate 1 bp = +0.065, keeper reward 0.0001 per event
    let ex = exchange.parse().unwrap();
    let maker_acct = client.margin_account(&pda::margin_account(&ex, &maker.pubkey(), 0).0).await.unwrap();
    let taker_acct = client.margin_account(&pda::margin_account(&ex, &taker.pubkey(), 0).0).await.unwrap();
    let keeper_acct = client.margin_account(&pda::margin_account(&ex, &keeper.pubkey(), 0).0).await.unwrap();
    assert_eq!(maker_acct.collateral, 5_000_000_000 + 65_000);
    assert_eq!(taker_acct.collateral, 5_000_000_000 - 325_000);
    assert_eq!(keeper_acct.collateral, 100);
    // the fill history over RPC: the crank published the fill once, and the fills seen move each
    // account's position by exactly what the account holds
    use meridian_sdk::history::{self, Side};
    let (maker_margin, taker_margin) =
        (pda::margin_account(&ex, &maker.pubkey(), 0).0, pda::margin_account(&ex, &taker.pubkey(), 0).0);
    // the node indexes a transaction's addresses and metadata a little after it confirms
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let read = loop {
        let read = history::market_history(&client, &market_address, None, None, 100).await.unwrap();
        if !read.applied.is_empty() || std::time::Instant::now() > deadline {
            break read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let fills = history::fills(&read.applied, None);
    assert_eq!(fills.len(), 1, "{:?}", read.applied);
    let f = fills[0].1.record;
    assert_eq!(
        (f.maker, f.taker, f.price, f.size, f.maker_side, f.maker_fee),
        (maker_margin, taker_margin, 650_000, 100, Side::Ask, -65_000)
    );
    let lots_of = |k: &solana_sdk::pubkey::Pubkey| -> i64 {
        fills
            .iter()
            .map(|(_, f)| {
                let (r, sign) = (f.record, if f.record.maker_side == Side::Bid { 1 } else { -1 });
                (if r.maker == *k { sign * r.size as i64 } else { 0 })
                    - (if r.taker == *k { sign * r.size as i64 } else { 0 })
            })
            .sum()
    };
    for (k, acct) in [(&maker_margin, &maker_acct), (&taker_margin, &taker_acct)] {
        assert_eq!(lots_of(k), acct.position(acct.find_position(0).unwrap()).base_lots);
    }
    // and through the CLI: the maker's fills, the market's tape (read until the node's index
    // answers with them: a local validator's signature index lags at times)
    let maker_key = maker_margin.to_string();
    let read_until_found = |args: Vec<String>| {
        let (url, path, ex) = (net.rpc_url.clone(), paths[2].clone(), exchange.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let out = run_cli(&url, std::path::Path::new(&path), Some(&ex), &args).await;
                assert!(out.success, "meridian {args:?}:\n{}", out.stderr);
                let v = out.json();
                if v.as_array().is_some_and(|a| !a.is_empty()) || std::time::Instant::now() > deadline {
                    return v;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    };
    let mine = read_until_found(["fills", "--account", &maker_key, "--json"].map(String::from).to_vec()).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(
        (mine[0]["side"].as_str(), mine[0]["role"].as_str(), mine[0]["price"].as_str()),
        (Some("sell"), Some("maker"), Some("65000.0")),
        "{mine}"
    );
    assert_eq!(
        (mine[0]["size"].as_str(), mine[0]["maker_fee"].as_str()),
        (Some("0.01000000"), Some("-0.065000")),
        "{mine}"
    );
    let tape = read_until_found(["trades", "--market", "BTC-PERP", "--json"].map(String::from).to_vec()).await;
    assert_eq!(tape.as_array().map(Vec::len), Some(1), "{tape}");
    assert_eq!((tape[0]["side"].as_str(), tape[0]["role"].as_str()), (Some("buy"), Some("taker")), "{tape}");

    let show = cli(2, vec!["exchange", "show", "--json"]).await.json();
    assert_eq!(show["conservation"], "ok", "{show}");
    // protocol: 325,000 - 65,000 rebate - 100 crank = 259,900; 20% to insurance (held by the market
    // until swept: the totals fold it in)
    let t = client.solvency(&ex).await.unwrap().totals;
    assert_eq!((t.insurance, t.fees), (51_980, 259_900 - 51_980));
    // the tape follows: a running `trades --follow` prints the backfill, then a second trade once
    // it is cranked (by hand here: the keeper is gone)
    let mut follow = tokio::process::Command::new(meridian_e2e::workspace_bin("meridian"))
        .args(["--url", &net.rpc_url, "--keypair", &paths[2], "-C", "/nonexistent/config.yml", "--exchange", &exchange])
        .args(["trades", "--market", "BTC-PERP", "--follow", "--json", "--interval-ms", "5000"])
        .env_remove("MERIDIAN_EXCHANGE")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start meridian trades --follow");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(follow.stdout.take().unwrap()));
    assert_eq!(next_json(&mut lines).await["seq_num"], tape[0]["seq_num"], "the backfill first");
    cli(1, vec!["order", "place", "BTC-PERP", "sell", "0.02", "--price", "65001", "--type", "post-only"]).await;
    cli(2, vec!["order", "place", "BTC-PERP", "buy", "0.02", "--price", "65001", "--type", "ioc"]).await;
    let m = meridian_sdk::ix::MarketAccounts::of(market_address, &client.market(&market_address).await.unwrap());
    let keeper_margin = pda::margin_account(&ex, &keeper.pubkey(), 0).0;
    client
        .send(&[meridian_sdk::ix::consume_events(&m, &keeper_margin, 10, &[maker_margin])], &keeper, &[])
        .await
        .unwrap();
    let second = next_json(&mut lines).await;
    assert_eq!(
        (second["price"].as_str(), second["size"].as_str(), second["side"].as_str()),
        (Some("65001.0"), Some("0.02000000"), Some("buy")),
        "{second}"
    );
    follow.kill().await.ok();

    let _ = std::fs::remove_dir_all(&dir);
}

/// The next line a child printed, as JSON (90 s at most).
async fn next_json(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) -> serde_json::Value {
    let line = tokio::time::timeout(std::time::Duration::from_secs(90), lines.next_line()).await;
    let line = line.expect("nothing printed in 90 s").expect("read stdout").expect("stdout closed");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}
