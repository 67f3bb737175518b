//! meridian-bootstrap: create (or find) an exchange on a cluster.
//!
//!   `meridian-bootstrap --url localhost --keypair admin.json [--mint <MINT> | --test-mint-keypair m.json]`
use anyhow::{Context, Result};
use clap::Parser;
use meridian_migrations::{bootstrap, BootstrapConfig};
use meridian_sdk::{client::Client, token, ExchangeParams, Pubkey};
use solana_cli_config::{Config, ConfigInput, CONFIG_FILE};
use solana_sdk::signer::keypair::{read_keypair_file, Keypair};
use std::str::FromStr;

#[derive(Parser)]
#[command(about = "Bootstrap a Meridian exchange (idempotent)")]
struct Args {
    /// RPC URL or moniker; default: the Solana CLI config.
    #[arg(short, long)]
    url: Option<String>,
    /// Admin keypair; default: the Solana CLI config's keypair.
    #[arg(short, long)]
    keypair: Option<String>,
    /// Existing collateral mint. Without it a test mint is created (see --test-mint-keypair).
    #[arg(long)]
    mint: Option<String>,
    /// Keypair of the test mint to create (default: a new one).
    #[arg(long)]
    test_mint_keypair: Option<String>,
    #[arg(long, default_value_t = 6)]
    decimals: u8,
    /// Create the test mint under Token-2022 instead of SPL Token.
    #[arg(long)]
    token_2022: bool,
    #[arg(long, default_value_t = 0)]
    index: u32,
    #[arg(long, default_value_t = 2_000)]
    insurance_fee_share_bps: u16,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let config = match CONFIG_FILE.as_ref() {
        Some(path) if std::path::Path::new(path).exists() => Config::load(path)?,
        _ => Config::default(),
    };
    let (_, url) = ConfigInput::compute_json_rpc_url_setting(args.url.as_deref().unwrap_or(""), &config.json_rpc_url);
    let (_, keypair) =
        ConfigInput::compute_keypair_path_setting(args.keypair.as_deref().unwrap_or(""), &config.keypair_path);
    let admin = read_keypair_file(&keypair).map_err(|e| anyhow::anyhow!("reading {keypair}: {e}"))?;
    let mint_keypair = match &args.test_mint_keypair {
        Some(p) => read_keypair_file(p).map_err(|e| anyhow::anyhow!("reading {p}: {e}"))?,
        None => Keypair::new(),
    };
    let client = Client::new(url, solana_commitment_config::CommitmentConfig::confirmed());
    let cfg = BootstrapConfig {
        mint: args.mint.as_deref().map(Pubkey::from_str).transpose().context("--mint")?,
        decimals: args.decimals,
        token_program: if args.token_2022 { token::TOKEN_2022_PROGRAM_ID } else { token::TOKEN_PROGRAM_ID },
        params: ExchangeParams {
            index: args.index,
            deposit_cap: 0,
            insurance_fee_share_bps: args.insurance_fee_share_bps,
        },
    };
    let out = bootstrap(&client, &admin, &mint_keypair, &cfg).await?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
