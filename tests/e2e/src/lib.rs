//! A local Solana cluster for end-to-end tests and the demo: the in-process `solana-test-validator`
//! (agave 4.2) on 127.0.0.1 with `target/deploy/meridian.so` deployed at the program id, SPL Token,
//! Token-2022 and the ATA program in genesis, and the test-only oracle writer at the Pyth receiver,
//! Pyth push oracle and Switchboard on-demand addresses (simulated feeds, `feeds`).
//!
//! Binding: gossip, TPU and the other validator sockets bind `bind_ip_addr` = 127.0.0.1; ports are
//! free ones found at start. agave 4.2.2's TestValidator hard-codes its RPC and pubsub listeners to
//! 0.0.0.0 (solana-test-validator-4.2.2/src/lib.rs, `rpc_addrs`); clients here use 127.0.0.1.

pub mod feeds;
pub mod sim;

use anchor_lang::solana_program::{bpf_loader_upgradeable, system_instruction};
use anyhow::{Context, Result};
use meridian_sdk::client::Client;
use solana_commitment_config::CommitmentConfig;
use solana_rpc::rpc::JsonRpcConfig;
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use solana_test_validator::{TestValidator, TestValidatorGenesis, UpgradeableProgramInfo};
use std::{
    net::{IpAddr, Ipv4Addr, UdpSocket},
    path::{Path, PathBuf},
};

/// `$MERIDIAN_SO`, else `<workspace>/target/deploy/meridian.so`.
pub fn program_so_path() -> PathBuf {
    std::env::var("MERIDIAN_SO")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target/deploy/meridian.so"))
}

/// The test-only oracle writer (tests/oracle-writer), built by `scripts/sbf.sh build`.
pub fn oracle_writer_so_path() -> PathBuf {
    workspace_root().join("target/deploy/oracle_writer.so")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A free port on 127.0.0.1 (UDP and TCP both free, as gossip needs).
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind udp");
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// At most two validators at a time per process: the tests of a binary run on parallel threads,
/// and three or more validators on a 2-core machine starve each other (slots slow to a crawl,
/// deadlines pass).
static VALIDATOR_SLOT: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(2)));

pub struct Localnet {
    pub validator: TestValidator,
    /// Released when the validator is dropped.
    _slot: tokio::sync::OwnedSemaphorePermit,
    /// Holds the genesis lamports; funds every other wallet.
    pub faucet: Keypair,
    pub rpc_url: String,
    pub ws_url: String,
}

#[derive(Default)]
pub struct LocalnetOptions {
    /// RPC port; None = a free one (the pubsub port is rpc + 1).
    pub rpc_port: Option<u16>,
    pub ledger: Option<PathBuf>,
}

impl Localnet {
    /// Starts the validator with the Meridian program (needs a multi-threaded tokio runtime).
    pub async fn start(options: LocalnetOptions) -> Result<Localnet> {
        let slot = VALIDATOR_SLOT.clone().acquire_owned().await.context("validator slot")?;
        let so = program_so_path();
        anyhow::ensure!(so.exists(), "{} is missing: run `scripts/sbf.sh build` first", so.display());
        let writer = oracle_writer_so_path();
        anyhow::ensure!(writer.exists(), "{} is missing: run `scripts/sbf.sh build` first", writer.display());
        // the test-only oracle writer at the oracle programs' own addresses: simulated price accounts
        // get the real owners (feeds::SimulatedFeeds)
        let mut programs = vec![UpgradeableProgramInfo {
            program_id: meridian::ID,
            loader: bpf_loader_upgradeable::ID,
            upgrade_authority: Pubkey::default(),
            program_path: so,
        }];
        for program_id in [
            meridian_oracle_sim::PYTH_RECEIVER_ID,
            meridian_oracle_sim::PYTH_PUSH_ORACLE_ID,
            meridian_oracle_sim::switchboard_program_id(),
        ] {
            programs.push(UpgradeableProgramInfo {
                program_id,
                loader: bpf_loader_upgradeable::ID,
                upgrade_authority: Pubkey::default(),
                program_path: writer.clone(),
            });
        }
        let mut genesis = TestValidatorGenesis::default();
        let rpc_port = options.rpc_port.unwrap_or_else(|| loop {
            let p = free_port();
            if p < u16::MAX && std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p + 1)).is_ok() {
                break p;
            }
        });
        // transaction history with inner instructions and logs (the validator drops both by default):
        // clients read the fill events (`EventsApplied`, an inner instruction) with getTransaction
        let rpc_config = JsonRpcConfig {
            enable_rpc_transaction_history: true,
            enable_extended_tx_metadata_storage: true,
            ..JsonRpcConfig::default_for_test()
        };
        genesis
            .rpc_config(rpc_config)
            .bind_ip_addr(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .gossip_host(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .gossip_port(free_port())
            .rpc_port(rpc_port)
            .add_upgradeable_programs_with_path(&programs);
        if let Some(ledger) = options.ledger {
            genesis.ledger_path(ledger);
        }
        let (validator, faucet) = genesis.start_async().await;
        let rpc_url = format!("http://127.0.0.1:{rpc_port}");
        let ws_url = format!("ws://127.0.0.1:{}", rpc_port + 1);
        Ok(Localnet { validator, faucet, rpc_url, ws_url, _slot: slot })
    }

    pub fn client(&self) -> Client {
        Client::new(self.rpc_url.clone(), CommitmentConfig::confirmed())
    }

    /// Transfers `lamports` from the faucet.
    pub async fn fund(&self, to: &Pubkey, lamports: u64) -> Result<()> {
        let ix = system_instruction::transfer(&self.faucet.pubkey(), to, lamports);
        self.client().send(&[ix], &self.faucet, &[]).await.context("funding from the faucet")?;
        Ok(())
    }

    /// A new wallet with `sol` SOL.
    pub async fn wallet(&self, sol: u64) -> Result<Keypair> {
        let k = Keypair::new();
        self.fund(&k.pubkey(), sol * 1_000_000_000).await?;
        Ok(k)
    }
}

/// What most end-to-end tests start from: a validator with the program, an admin wallet (100 SOL,
/// its keypair file written) and an exchange bootstrapped by it over a new test USDC mint (the
/// migrations' default), with the CLI pointed at it.
pub struct E2e {
    pub net: Localnet,
    pub client: Client,
    /// Where the test's keypair files go (one directory per test and process).
    pub dir: PathBuf,
    pub admin: Keypair,
    pub admin_path: PathBuf,
    pub exchange: String,
    pub exchange_key: Pubkey,
    /// The collateral mint (test USDC, 6 decimals; the admin is its mint authority).
    pub mint: Pubkey,
    pub cli: Cli,
}

impl E2e {
    /// Starts the validator and bootstraps the exchange; `tag` names the keypair directory.
    pub async fn start(tag: &str) -> E2e {
        let net = Localnet::start(LocalnetOptions::default()).await.expect("validator");
        let client = net.client();
        let dir = std::env::temp_dir().join(format!("meridian-e2e-{tag}-{}", std::process::id()));
        let admin = net.wallet(100).await.expect("admin wallet");
        let admin_path = write_keypair(&dir, "admin", &admin).expect("admin keypair file");
        let config = meridian_migrations::BootstrapConfig::default();
        let out = meridian_migrations::bootstrap(&client, &admin, &Keypair::new(), &config).await.expect("bootstrap");
        let exchange_key: Pubkey = out.exchange.parse().expect("exchange address");
        let mint: Pubkey = out.collateral_mint.parse().expect("mint address");
        let cli = Cli { rpc_url: net.rpc_url.clone(), exchange: out.exchange.clone() };
        E2e { net, client, dir, admin, admin_path, exchange: out.exchange, exchange_key, mint, cli }
    }

    /// A new wallet with `sol` SOL and its keypair file `<name>.json`.
    pub async fn wallet(&self, name: &str, sol: u64) -> (Keypair, PathBuf) {
        let k = self.net.wallet(sol).await.expect("wallet");
        let path = write_keypair(&self.dir, name, &k).expect("keypair file");
        (k, path)
    }

    /// Like `wallet`, and the wallet's token account holds `usdc` native units of collateral.
    pub async fn funded_wallet(&self, name: &str, sol: u64, usdc: u64) -> (Keypair, PathBuf) {
        let (k, path) = self.wallet(name, sol).await;
        meridian_migrations::fund_wallet(&self.client, &self.admin, &self.mint, &k.pubkey(), usdc)
            .await
            .expect("funding the wallet");
        (k, path)
    }
}

/// Writes a keypair as the Solana CLI does (a JSON array of 64 bytes).
pub fn write_keypair(dir: &Path, name: &str, keypair: &Keypair) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.json"));
    solana_sdk::signer::keypair::write_keypair_file(keypair, &path).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(path)
}

/// The directory cargo puts binaries in, for the profile that built the running executable
/// (target/debug for tests: the test binary lives in target/debug/deps).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("exe dir");
    if dir.ends_with("deps") {
        dir.parent().unwrap().to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Path of a workspace binary (`meridian`, `meridian-keeper`): `$MERIDIAN_BIN_DIR/<name>` or next to
/// the running executable.
pub fn workspace_bin(name: &str) -> PathBuf {
    let dir = std::env::var("MERIDIAN_BIN_DIR").map(PathBuf::from).unwrap_or_else(|_| bin_dir());
    dir.join(name)
}

/// Output of one CLI run.
#[derive(Debug)]
pub struct CliOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// stdout as JSON (for `--json` runs); panics with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\nstdout: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Runs the real `meridian` binary against this localnet, as `keypair`, with no Solana CLI config
/// of the machine involved (`-C` points at an empty path).
pub async fn run_cli(rpc_url: &str, keypair: &Path, exchange: Option<&str>, args: &[&str]) -> CliOutput {
    let bin = workspace_bin("meridian");
    assert!(bin.exists(), "{} missing: build the workspace binaries (cargo build --workspace --bins)", bin.display());
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("--url").arg(rpc_url).arg("--keypair").arg(keypair).arg("-C").arg("/nonexistent/config.yml");
    if let Some(e) = exchange {
        cmd.arg("--exchange").arg(e);
    }
    cmd.args(args).env_remove("MERIDIAN_EXCHANGE").env_remove("MERIDIAN_URL").env_remove("MERIDIAN_KEYPAIR");
    let out = cmd.output().await.expect("run meridian");
    CliOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The CLI against one exchange of a localnet.
pub struct Cli {
    pub rpc_url: String,
    pub exchange: String,
}

impl Cli {
    /// Runs `command` (split on whitespace) as `keypair` and asserts it succeeded.
    pub async fn ok(&self, keypair: &Path, command: &str) -> CliOutput {
        let args: Vec<&str> = command.split_whitespace().collect();
        let out = run_cli(&self.rpc_url, keypair, Some(&self.exchange), &args).await;
        assert!(out.success, "meridian {command}:\n{}", out.stderr);
        out
    }
}

/// `meridian-keeper` as `keypair` against `exchange` of the localnet at `rpc_url`, reading no Solana
/// CLI config; callers add global flags and the role.
pub fn keeper_command(rpc_url: &str, keypair: &Path, exchange: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(workspace_bin("meridian-keeper"));
    command.args(["--url", rpc_url, "--keypair"]).arg(keypair).args(["-C", "/nonexistent", "--exchange", exchange]);
    command
}

/// GET /metrics from the keeper (plain HTTP/1.1 over a TCP socket).
pub async fn scrape_metrics(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut last_error = String::new();
    for _ in 0..20 {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(mut s) => {
                s.write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();
                let mut body = String::new();
                s.read_to_string(&mut body).await.unwrap();
                return body;
            }
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("metrics endpoint unreachable: {last_error}");
}
