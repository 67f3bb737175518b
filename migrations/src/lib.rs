//! Bootstrap of a Meridian exchange on any cluster: optionally a test collateral mint (localnet,
//! devnet), then the exchange. Idempotent: what exists is reused, so a re-run is harmless.
//!
//! Deploying the program itself is the Solana CLI's job:
//! `solana program deploy target/deploy/meridian.so --program-id migrations/meridian-program-keypair.json`
//! (that keypair is the localnet/devnet program id in `declare_id!`; a mainnet deploy uses its own).

use anyhow::{Context, Result};
use meridian_sdk::{client::Client, ix, pda, token, ExchangeParams, Pubkey};
use serde::Serialize;
use solana_sdk::{signature::Keypair, signer::Signer};

#[derive(Clone, Debug)]
pub struct BootstrapConfig {
    /// Collateral mint; None creates a test mint (mint authority = admin).
    pub mint: Option<Pubkey>,
    /// Decimals of a created test mint.
    pub decimals: u8,
    /// SPL Token or Token-2022 for a created test mint.
    pub token_program: Pubkey,
    pub params: ExchangeParams,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        BootstrapConfig {
            mint: None,
            decimals: 6,
            token_program: token::TOKEN_PROGRAM_ID,
            params: ExchangeParams { index: 0, deposit_cap: 0, insurance_fee_share_bps: 2_000 },
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Bootstrapped {
    pub exchange: String,
    pub vault: String,
    pub collateral_mint: String,
    pub decimals: u8,
    pub admin: String,
    pub created_mint: bool,
    pub created_exchange: bool,
}

/// Creates what is missing: the test mint (when `config.mint` is None, at `mint_keypair`), then the
/// exchange of `admin` with `config.params`.
pub async fn bootstrap(
    client: &Client,
    admin: &Keypair,
    mint_keypair: &Keypair,
    config: &BootstrapConfig,
) -> Result<Bootstrapped> {
    let (mint, created_mint) = match config.mint {
        Some(mint) => (mint, false),
        None => {
            let mint = mint_keypair.pubkey();
            let exists = client.account_if_exists(&mint).await?.is_some();
            if !exists {
                let rent = client.rpc().get_minimum_balance_for_rent_exemption(token::MINT_LEN).await?;
                let ixs = token::create_mint(
                    &admin.pubkey(),
                    &mint,
                    &admin.pubkey(),
                    config.decimals,
                    &config.token_program,
                    rent,
                );
                client.send(&ixs, admin, &[mint_keypair]).await.context("creating the test mint")?;
            }
            (mint, !exists)
        }
    };
    let (mint_info, token_program) = client.mint(&mint).await?;
    let exchange = pda::exchange(&admin.pubkey(), config.params.index).0;
    let exists = client.account_if_exists(&exchange).await?.is_some();
    if !exists {
        let ix = ix::initialize_exchange(&admin.pubkey(), &mint, &token_program, config.params);
        client.send(&[ix], admin, &[]).await.context("initializing the exchange")?;
    }
    Ok(Bootstrapped {
        exchange: exchange.to_string(),
        vault: pda::vault(&exchange).0.to_string(),
        collateral_mint: mint.to_string(),
        decimals: mint_info.decimals,
        admin: admin.pubkey().to_string(),
        created_mint,
        created_exchange: !exists,
    })
}

/// Mints `amount` native units of a test mint (admin = mint authority) to `owner`'s associated
/// token account, creating it if needed.
pub async fn fund_wallet(
    client: &Client,
    admin: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<Pubkey> {
    let (_, token_program) = client.mint(mint).await?;
    let ata = token::associated_token_address(owner, mint, &token_program);
    let ixs = [
        token::create_associated_token_account_idempotent(&admin.pubkey(), owner, mint, &token_program),
        token::mint_to(&token_program, mint, &ata, &admin.pubkey(), amount),
    ];
    client.send(&ixs, admin, &[]).await.context("funding the wallet")?;
    Ok(ata)
}
