//! meridian-localnet: the local demo. Starts a validator on 127.0.0.1 with the Meridian program,
//! bootstraps an exchange on a test USDC mint, funds a demo wallet, writes a Solana CLI config for
//! it, prints how to use the `meridian` CLI, and runs until Ctrl-C.
use anyhow::Result;
use clap::Parser;
use meridian_e2e::{workspace_root, write_keypair, Localnet, LocalnetOptions};
use meridian_migrations::{bootstrap, fund_wallet, BootstrapConfig};
use solana_sdk::signer::Signer;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Run a local Meridian cluster: validator, program, exchange, funded demo wallet")]
struct Args {
    /// JSON-RPC port (pubsub = port + 1); 0 = any free port. 8899 is what `--url localhost` means
    /// to Solana tools.
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Where keypairs, the CLI config and the ledger go.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Test USDC given to the demo wallet.
    #[arg(long, default_value_t = 10_000)]
    usdc: u64,
    /// Set everything up, print, and exit instead of running (smoke test of the demo).
    #[arg(long)]
    exit_after_setup: bool,
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
    let client = net.client();

    let admin = net.wallet(1_000).await?;
    let trader = net.wallet(100).await?;
    let mint = solana_sdk::signature::Keypair::new();
    let admin_path = write_keypair(&dir, "admin", &admin)?;
    let trader_path = write_keypair(&dir, "trader", &trader)?;
    write_keypair(&dir, "usdc-mint", &mint)?;

    let out = bootstrap(&client, &admin, &mint, &BootstrapConfig::default()).await?;
    let usdc = args.usdc * 10u64.pow(out.decimals as u32);
    fund_wallet(&client, &admin, &mint.pubkey(), &trader.pubkey(), usdc).await?;

    let config_path = dir.join("config.yml");
    let mut config = solana_cli_config::Config::default();
    config.json_rpc_url = net.rpc_url.clone();
    config.websocket_url = net.ws_url.clone();
    config.keypair_path = trader_path.display().to_string();
    config.save(config_path.to_str().unwrap())?;

    let c = config_path.display();
    println!(
        "
Meridian localnet is up.
  RPC             {rpc}
  program         {program}
  exchange        {exchange}
  collateral      {mint} (test USDC, {decimals} decimals)
  admin keypair   {admin}
  demo wallet     {wallet} ({trader}), {usd} test USDC

Try the CLI (another terminal, from the repository root):
  export MERIDIAN_EXCHANGE={exchange}
  target/debug/meridian -C {c} exchange show
  target/debug/meridian -C {c} account create
  target/debug/meridian -C {c} account deposit 250.5
  target/debug/meridian -C {c} account show
  target/debug/meridian -C {c} account withdraw 50
  target/debug/meridian -C {c} --keypair {admin} exchange pause --deposits
",
        rpc = net.rpc_url,
        program = meridian::ID,
        exchange = out.exchange,
        mint = out.collateral_mint,
        decimals = out.decimals,
        admin = admin_path.display(),
        wallet = trader_path.display(),
        trader = trader.pubkey(),
        usd = args.usdc,
    );
    if args.exit_after_setup {
        return Ok(());
    }
    println!("Ctrl-C stops the validator.");
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    Ok(())
}
