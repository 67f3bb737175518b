//! meridian-keeper: permissionless keeper roles for Meridian.
//!
//! The crank, oracle, funding, settlement and liquidation roles arrive with the trading core and
//! risk engine; until then this binary only reports what an exchange looks like to a keeper.
use anyhow::Result;
use clap::{Parser, Subcommand};
use meridian_sdk::client::Client;
use solana_commitment_config::CommitmentConfig;
use std::str::FromStr;

#[derive(Parser)]
#[command(name = "meridian-keeper", version, about = "Keeper roles for the Meridian exchange")]
struct Args {
    /// RPC URL.
    #[arg(short, long, default_value = "http://127.0.0.1:8899", env = "MERIDIAN_URL")]
    url: String,
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Print the exchange's accounting and conservation check once.
    Status {
        #[arg(long, env = "MERIDIAN_EXCHANGE")]
        exchange: String,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let client = Client::new(args.url, CommitmentConfig::confirmed());
    match args.role {
        Role::Status { exchange } => {
            let address = meridian_sdk::Pubkey::from_str(&exchange)?;
            let e = client.exchange(&address).await?;
            let vault = client.token_account(&e.vault).await?.amount;
            let ok = vault as i128 == e.vault_liabilities().unwrap_or_default();
            tracing::info!(%address, vault, collateral = e.total_collateral, fees = e.fees_accrued, insurance = e.insurance_balance, conserved = ok, "exchange");
            println!(
                "vault={vault} collateral={} fees={} insurance={} conserved={ok}",
                e.total_collateral, e.fees_accrued, e.insurance_balance
            );
        }
    }
    Ok(())
}
