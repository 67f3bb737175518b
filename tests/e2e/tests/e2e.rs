//! End to end on a real local validator: the program deployed from target/deploy/meridian.so, the
//! real `meridian` CLI binary and the SDK's RPC client; balances read back over RPC.
use meridian_e2e::{run_cli, write_keypair, Localnet, LocalnetOptions};
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
