//! The CLI's behaviour where no cluster is needed (help, argument and configuration errors), then
//! on a local validator: keypair URIs, `--fee-payer`, `--with-compute-unit-price`, `--output` and
//! `book --watch` (one validator for all of them: `cli_habits_on_a_local_validator`).
use std::process::{Command, Output};

fn meridian(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .env_remove("MERIDIAN_EXCHANGE")
        .env_remove("MERIDIAN_URL")
        .env_remove("MERIDIAN_KEYPAIR")
        .output()
        .expect("run meridian")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SOME_ADDRESS: &str = "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA";

#[test]
fn help_lists_the_commands() {
    let o = meridian(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for word in [
        "exchange",
        "account",
        "--url",
        "--keypair",
        "--json",
        "--exchange",
        "--fee-payer",
        "--output",
        "--with-compute-unit-price",
        "--with-compute-unit-limit",
    ] {
        assert!(text.contains(word), "help lacks {word}:\n{text}");
    }
    let o = meridian(&["account", "--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for word in ["create", "deposit", "withdraw", "show", "close", "list"] {
        assert!(text.contains(word), "account help lacks {word}:\n{text}");
    }
}

#[test]
fn missing_exchange_is_explained() {
    let o = meridian(&["-C", "/nonexistent", "account", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("pass --exchange"), "{}", stderr(&o));
}

#[test]
fn bad_addresses_are_named() {
    let o = meridian(&["-C", "/nonexistent", "--exchange", "not-an-address", "exchange", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a base58 address"), "{}", stderr(&o));
}

#[test]
fn unreadable_keypair_is_explained() {
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--keypair",
        "/nonexistent/id.json",
        "--exchange",
        SOME_ADDRESS,
        "account",
        "create",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read keypair /nonexistent/id.json"), "{}", stderr(&o));
}

#[test]
fn unreachable_rpc_fails_cleanly_and_json_errors_are_json() {
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--url",
        "http://127.0.0.1:9",
        "--exchange",
        SOME_ADDRESS,
        "--json",
        "exchange",
        "show",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stderr(&o)).expect("JSON error");
    assert!(v["error"].as_str().unwrap().contains("RPC"), "{v}");
}

#[test]
fn pause_needs_a_target() {
    let o = meridian(&["-C", "/nonexistent", "--exchange", SOME_ADDRESS, "exchange", "pause"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("pause what?"), "{}", stderr(&o));
}

#[test]
fn risk_price_needs_no_cluster_and_matches_black_scholes() {
    // S 100, K 110, vol 60%, r 5%, 30 days: call 3.389790 (f64 reference 3.3897898763), delta 0.328455
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--json",
        "risk",
        "price",
        "--kind",
        "call",
        "--spot",
        "100",
        "--strike",
        "110",
        "--vol",
        "0.6",
        "--rate",
        "0.05",
        "--days",
        "30",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["price"].as_str(), v["delta"].as_str()), (Some("3.389790"), Some("0.328455")));
    assert_eq!(v["gamma"].as_str(), Some("0.021013660"));
    let o = meridian(&[
        "risk", "price", "--kind", "put", "--spot", "100", "--strike", "abc", "--vol", "0.6", "--days", "30",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--strike \"abc\" is not a decimal number"), "{}", stderr(&o));
    let o =
        meridian(&["risk", "price", "--kind", "put", "--spot", "0", "--strike", "1", "--vol", "0.6", "--days", "30"]);
    assert!(stderr(&o).contains("must be positive"), "{}", stderr(&o));
}

#[test]
fn usb_signers_say_what_this_build_lacks() {
    // solana-remote-wallet is built without hidapi (not in the lock file): a clear refusal
    let o =
        meridian(&["-C", "/nonexistent", "--keypair", "usb://ledger", "--exchange", SOME_ADDRESS, "account", "create"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read keypair usb://ledger") && stderr(&o).contains("no USB support"),
        "{}",
        stderr(&o)
    );
    // and a fee payer is read the same way, named as such (before any RPC call)
    let dir = std::env::temp_dir().join(format!("meridian-cli-usb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let signer = dir.join("signer.json");
    solana_sdk::signer::keypair::write_keypair_file(&solana_sdk::signature::Keypair::new(), &signer).unwrap();
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--keypair",
        signer.to_str().unwrap(),
        "--fee-payer",
        "/nonexistent/payer.json",
        "--exchange",
        SOME_ADDRESS,
        "account",
        "create",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read fee-payer /nonexistent/payer.json"), "{}", stderr(&o));
}

#[test]
fn output_json_compact_is_one_line_and_output_overrides_json() {
    let args = ["--spot", "100", "--strike", "110", "--vol", "0.6", "--days", "30"];
    let run = |output: &[&str]| {
        let mut all = vec!["-C", "/nonexistent"];
        all.extend_from_slice(output);
        all.extend_from_slice(&["risk", "price", "--kind", "call"]);
        all.extend_from_slice(&args);
        let o = meridian(&all);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let compact = run(&["--output", "json-compact"]);
    assert_eq!(compact.lines().count(), 1, "{compact}");
    let v: serde_json::Value = serde_json::from_str(&compact).unwrap();
    assert_eq!(v["kind"], "call");
    let pretty = run(&["--output", "json"]);
    assert!(pretty.lines().count() > 3, "{pretty}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&pretty).unwrap(), v);
    assert_eq!(run(&["--json", "--output", "json-compact"]), compact);
    let text = run(&[]);
    assert!(text.starts_with("kind:") && serde_json::from_str::<serde_json::Value>(&text).is_err(), "{text}");
    // a JSON error is compact too
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--url",
        "http://127.0.0.1:9",
        "--exchange",
        SOME_ADDRESS,
        "--output",
        "json-compact",
        "exchange",
        "show",
    ]);
    assert_eq!((o.status.code(), stderr(&o).lines().count()), (Some(1), 1), "{}", stderr(&o));
    assert!(serde_json::from_str::<serde_json::Value>(&stderr(&o)).unwrap()["error"].is_string());
}

mod cluster {
    use meridian_e2e::{write_keypair, Localnet, LocalnetOptions};
    use meridian_migrations::fund_wallet;
    use meridian_sdk::{client::Client, pda, token};
    use serde_json::Value;
    use solana_sdk::{pubkey::Pubkey, signature::Keypair};
    use std::{path::Path, process::Stdio, str::FromStr};

    pub struct Run {
        pub ok: bool,
        pub stdout: String,
        pub stderr: String,
    }

    impl Run {
        pub fn json(&self) -> Value {
            serde_json::from_str(&self.stdout)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
        }
    }

    /// The real binary against the validator, no Solana CLI config; `stdin` piped in if given.
    pub async fn cli(url: &str, exchange: Option<&str>, args: &[&str], stdin: Option<&[u8]>) -> Run {
        use tokio::io::AsyncWriteExt;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_meridian"));
        cmd.args(["-C", "/nonexistent/config.yml", "--url", url]);
        if let Some(e) = exchange {
            cmd.args(["--exchange", e]);
        }
        cmd.args(args)
            .env_remove("MERIDIAN_EXCHANGE")
            .env_remove("MERIDIAN_URL")
            .env_remove("MERIDIAN_KEYPAIR")
            .env_remove("MERIDIAN_FEE_PAYER")
            .env_remove("MERIDIAN_COMPUTE_UNIT_PRICE")
            .env_remove("MERIDIAN_COMPUTE_UNIT_LIMIT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run meridian");
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            input.write_all(bytes).await.unwrap();
        }
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub async fn ok(url: &str, exchange: Option<&str>, args: &[&str]) -> Run {
        let r = cli(url, exchange, args, None).await;
        assert!(r.ok, "meridian {args:?}:\n{}", r.stderr);
        r
    }

    pub async fn balance(client: &Client, key: &Pubkey) -> u64 {
        client.rpc().get_balance(key).await.unwrap()
    }

    pub fn keypair_json(k: &Keypair) -> Vec<u8> {
        serde_json::to_vec(&k.to_bytes().to_vec()).unwrap()
    }

    pub fn path_str(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    pub fn pubkey(s: &Value) -> Pubkey {
        Pubkey::from_str(s.as_str().unwrap()).unwrap()
    }

    pub async fn token_balance(client: &Client, owner: &Pubkey, mint: &Pubkey) -> u64 {
        client
            .token_account(&token::associated_token_address(owner, mint, &token::TOKEN_PROGRAM_ID))
            .await
            .unwrap()
            .amount
    }

    pub fn margin(exchange: &Pubkey, owner: &Pubkey) -> Pubkey {
        pda::margin_account(exchange, owner, 0).0
    }

    pub async fn fund_tokens(client: &Client, admin: &Keypair, mint: &Pubkey, owner: &Pubkey, amount: u64) {
        fund_wallet(client, admin, mint, owner, amount).await.unwrap();
    }

    pub async fn start() -> Localnet {
        Localnet::start(LocalnetOptions::default()).await.expect("validator (target/deploy/meridian.so built?)")
    }

    pub fn write(dir: &Path, name: &str, k: &Keypair) -> std::path::PathBuf {
        write_keypair(dir, name, k).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_habits_on_a_local_validator() {
    use cluster::*;
    use meridian_sdk::token;
    use solana_sdk::{signature::Keypair, signer::Signer};
    let net = start().await;
    let client = net.client();
    let url = net.rpc_url.clone();
    let dir = std::env::temp_dir().join(format!("meridian-cli-test-{}", std::process::id()));

    // an exchange on a 6-decimal test mint, created through the CLI by a file:// keypair URI
    let admin = net.wallet(100).await.unwrap();
    let admin_path = write(&dir, "admin", &admin);
    let admin_uri = format!("file:{}", path_str(&admin_path));
    let mint = Keypair::new();
    let rent = client.rpc().get_minimum_balance_for_rent_exemption(token::MINT_LEN).await.unwrap();
    let ixs = token::create_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), 6, &token::TOKEN_PROGRAM_ID, rent);
    client.send(&ixs, &admin, &[&mint]).await.unwrap();
    let out = ok(
        &url,
        None,
        &["--keypair", &admin_uri, "--output", "json", "exchange", "init", "--mint", &mint.pubkey().to_string()],
    )
    .await;
    let exchange = pubkey(&out.json()["exchange"]);
    assert_eq!(exchange, meridian_sdk::pda::exchange(&admin.pubkey(), 0).0, "the file: URI's key is the admin");
    let ex_str = exchange.to_string();
    let ex = Some(ex_str.as_str());

    // --fee-payer: another wallet pays the fee, the owner only the margin account's rent
    let trader = net.wallet(10).await.unwrap();
    let payer = net.wallet(10).await.unwrap();
    let trader_path = write(&dir, "trader", &trader);
    let payer_path = write(&dir, "payer", &payer);
    let (trader_arg, payer_arg) = (path_str(&trader_path), path_str(&payer_path));
    let (trader_before, payer_before) =
        (balance(&client, &trader.pubkey()).await, balance(&client, &payer.pubkey()).await);
    let out =
        ok(&url, ex, &["--keypair", trader_arg, "--fee-payer", payer_arg, "--output", "json", "account", "create"])
            .await;
    assert!(out.json()["signature"].is_string());
    let fee = 10_000; // two signatures (payer and owner), 5000 lamports each, no priority fee
    let margin_rent = balance(&client, &margin(&exchange, &trader.pubkey())).await;
    assert!(margin_rent > 0);
    assert_eq!(payer_before - balance(&client, &payer.pubkey()).await, fee, "the fee payer paid exactly the fee");
    assert_eq!(
        trader_before - balance(&client, &trader.pubkey()).await,
        margin_rent,
        "the owner paid the rent, no fee"
    );

    // --with-compute-unit-price and --with-compute-unit-limit: the signer (its own fee payer) pays
    // 5000 per signature plus price x limit / 10^6 = 5000 + 20000 x 150000 / 10^6 = 8000 lamports
    // (without the limit instruction the runtime's 200,000 would make it 9000; without the price,
    // 5000: the control below)
    fund_tokens(&client, &admin, &mint.pubkey(), &trader.pubkey(), 1_000_000_000).await;
    let before = balance(&client, &trader.pubkey()).await;
    let budget = ["--with-compute-unit-price", "20000", "--with-compute-unit-limit", "150000"];
    let out = ok(
        &url,
        ex,
        &[&["--keypair", trader_arg], &budget[..], &["--output", "json", "account", "deposit", "500"]].concat(),
    )
    .await;
    assert!(out.json()["signature"].is_string());
    assert_eq!(before - balance(&client, &trader.pubkey()).await, 8_000, "priority fee charged");
    assert_eq!(token_balance(&client, &trader.pubkey(), &mint.pubkey()).await, 500_000_000);
    let before = balance(&client, &trader.pubkey()).await;
    ok(&url, ex, &["--keypair", trader_arg, "account", "deposit", "1"]).await;
    assert_eq!(before - balance(&client, &trader.pubkey()).await, 5_000, "no flags: the base fee only");
    // both together: the fee payer pays base and priority fee, the owner nothing
    let (before, payer_before) = (balance(&client, &trader.pubkey()).await, balance(&client, &payer.pubkey()).await);
    ok(
        &url,
        ex,
        &[&["--keypair", trader_arg, "--fee-payer", payer_arg], &budget[..], &["account", "deposit", "1"]].concat(),
    )
    .await;
    assert_eq!(payer_before - balance(&client, &payer.pubkey()).await, 10_000 + 3_000);
    assert_eq!(balance(&client, &trader.pubkey()).await, before);

    // stdin: the keypair read from standard input (as `solana ... --keypair stdin:`); --output json on
    // a read command parses, as does json-compact (one line)
    let r =
        cli(&url, ex, &["--keypair", "stdin:", "--output", "json", "account", "show"], Some(&keypair_json(&trader)))
            .await;
    assert!(r.ok, "{}", r.stderr);
    let v = r.json();
    assert_eq!(
        (v["owner"].as_str(), v["collateral"].as_str()),
        (Some(trader.pubkey().to_string().as_str()), Some("502.000000"))
    );
    let out =
        ok(&url, ex, &["--keypair", &trader.pubkey().to_string(), "--output", "json-compact", "account", "show"]).await;
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert_eq!(out.json()["margin_account"], v["margin_account"], "a bare public key is enough to read");
    // ... but cannot sign
    let r = cli(&url, ex, &["--keypair", &trader.pubkey().to_string(), "account", "create", "-s", "1"], None).await;
    assert!(!r.ok && r.stderr.contains("a bare public key cannot sign"), "{}", r.stderr);

    // prompt: the seed phrase typed on the terminal (a pseudo-terminal from `script`: the prompt
    // reads /dev/tty, not stdin), derived at the Solana CLI's default path m/44'/501'/0'/0'
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    #[allow(deprecated)]
    let expected = {
        use solana_sdk::signer::keypair::{
            generate_seed_from_seed_phrase_and_passphrase, keypair_from_seed_and_derivation_path,
        };
        keypair_from_seed_and_derivation_path(&generate_seed_from_seed_phrase_and_passphrase(phrase, ""), None)
            .unwrap()
            .pubkey()
    };
    let command = format!(
        "{} -C /nonexistent/config.yml --url {url} --exchange {} --keypair prompt: account list",
        env!("CARGO_BIN_EXE_meridian"),
        ex_str
    );
    let mut typing = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("MERIDIAN_KEYPAIR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the CLI on a pseudo-terminal");
    {
        use std::io::Write;
        let mut stdin = typing.stdin.take().unwrap();
        stdin.write_all(format!("{phrase}\n\n").as_bytes()).unwrap(); // phrase, empty passphrase
    }
    let out = typing.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("[keypair] seed phrase"), "{text}");
    assert!(text.contains(&format!("no margin accounts for {expected}")), "expected {expected}:\n{text}");

    // book --watch: a market, a bid, the ladder redrawn until Ctrl-C, then a clean exit
    ok(
        &url,
        ex,
        &[
            "--keypair",
            admin_arg(&admin_path),
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
            "128",
        ],
    )
    .await;
    ok(&url, ex, &["--keypair", trader_arg, "order", "place", "BTC-PERP", "buy", "0.01", "--price", "60000"]).await;
    let watch = std::process::Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(["-C", "/nonexistent/config.yml", "--url", &url, "--exchange", &ex_str, "--keypair", trader_arg])
        .args(["book", "BTC-PERP", "--watch", "--interval-ms", "200"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let interrupted = std::process::Command::new("kill").args(["-INT", &watch.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let (tx_done, rx_done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx_done.send(watch.wait_with_output());
    });
    let out = rx_done.recv_timeout(std::time::Duration::from_secs(10)).expect("book --watch exits on Ctrl-C").unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let frames = text.matches("\x1b[2J\x1b[H").count();
    assert!(frames >= 3, "{frames} frames in 2.5 s at 200 ms:\n{text}");
    let last = text.rsplit("\x1b[2J\x1b[H").next().unwrap();
    assert!(last.contains("BTC-PERP") && last.contains("60000.0") && last.contains("Ctrl-C"), "{last}");

    let _ = std::fs::remove_dir_all(&dir);
}

fn admin_arg(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}
