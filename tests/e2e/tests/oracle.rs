//! End to end on a local validator: simulated Pyth and Switchboard feeds (real formats, real owner
//! programs), an oracle created with the CLI, the real `meridian-keeper oracle` refreshing it as
//! the feeds move; the aggregate equals what the SDK predicts from the feed accounts, to the unit.
use meridian_e2e::{feeds::SimulatedFeeds, run_cli, scrape_metrics, write_keypair, Localnet, LocalnetOptions};
use meridian_migrations::{bootstrap, BootstrapConfig};
use meridian_sdk::{
    engine::oracle::Outcome,
    oracle::{feed_id_hex, predict, OracleStatus},
    state::OracleAggregate,
    Pubkey,
};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::time::{Duration, Instant};

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
    let net = Localnet::start(LocalnetOptions::default()).await.expect("validator");
    let client = net.client();
    let dir = std::env::temp_dir().join(format!("meridian-e2e-oracle-{}", std::process::id()));
    let admin = net.wallet(100).await.unwrap();
    let keeper = net.wallet(10).await.unwrap();
    let admin_path = write_keypair(&dir, "admin", &admin).unwrap();
    let keeper_path = write_keypair(&dir, "keeper", &keeper).unwrap();
    let out = bootstrap(&client, &admin, &Keypair::new(), &BootstrapConfig::default()).await.unwrap();
    let exchange = out.exchange.clone();

    let (pyth_a, pyth_b) = ([0x11u8; 32], [0x22u8; 32]);
    let mut feeds = SimulatedFeeds::create(&client, &admin, &[pyth_a, pyth_b], 1).await.unwrap();
    feeds.publish(&client, &admin, &[150.0, 150.1, 149.95]).await.unwrap();
    let switchboard = feeds.feeds[2].account.pubkey().to_string();
    let (hex_a, hex_b) = (feed_id_hex(&pyth_a), feed_id_hex(&pyth_b));

    let created = run_cli(&net.rpc_url, &admin_path, Some(&exchange), &[
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
        "--json",
    ])
    .await;
    assert!(created.success, "{}", created.stderr);
    let created = created.json();
    assert_eq!((created["status"].as_str(), created["sources"][2]["kind"].as_str()), (Some("uninitialized"), Some("switchboard")));
    let address: Pubkey = created["oracle"].as_str().unwrap().parse().unwrap();

    // one refresh by the keeper binary
    let keeper_bin = meridian_e2e::workspace_bin("meridian-keeper");
    let base_args = ["--url", &net.rpc_url, "--keypair", keeper_path.to_str().unwrap(), "-C", "/nonexistent", "--exchange", &exchange];
    let once = tokio::process::Command::new(&keeper_bin).args(base_args).args(["oracle", "--once"]).output().await.unwrap();
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    let o = client.oracle(&address).await.unwrap();
    assert_eq!(o.status(), OracleStatus::Valid);
    assert_eq!((o.price, o.conf), expected_price(&client, &o).await);
    assert_eq!(o.price, 150_000_000_000_000, "median of 149.95, 150.0, 150.1");

    let shown = run_cli(&net.rpc_url, &keeper_path, Some(&exchange), &["oracle", "show", "SOL", "--json"]).await.json();
    assert_eq!((shown["status"].as_str(), shown["price"].as_str()), (Some("valid"), Some("150.000000000000")));
    assert_eq!(shown["sources"][0]["last_fault"], "ok");

    // the keeper as a daemon follows the feeds as they move
    let metrics_port = meridian_e2e::free_port();
    let mut daemon = tokio::process::Command::new(&keeper_bin)
        .args(base_args)
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}"), "oracle", "--poll-ms", "300", "--move-bps", "5", "--heartbeat-secs", "2"])
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
            if (o.price, o.conf) == expected_price(&client, &o).await {
                assert_eq!(o.status(), OracleStatus::Valid);
                break;
            }
            assert!(Instant::now() < deadline, "the keeper did not follow {prices:?}: {o:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let o = client.oracle(&address).await.unwrap();
    assert_eq!(o.price, 155_000_000_000_000);
    assert!(o.realized_vol > 0, "moves of 1-4% give a volatility");
    assert!(o.twap_cumulative() > 0);
    // the keeper updates its gauges once its transaction confirms, which can be after the aggregate
    // is seen here: poll
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut metrics = scrape_metrics(metrics_port).await;
    while !metrics.contains("meridian_oracle_price{oracle=\"SOL\"} 155\n") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        metrics = scrape_metrics(metrics_port).await;
    }
    assert!(metrics.contains("meridian_oracle_price{oracle=\"SOL\"} 155\n"), "{metrics}");
    assert!(metrics.contains("meridian_oracle_refreshes_total{oracle=\"SOL\"}"), "{metrics}");
    daemon.kill().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}
