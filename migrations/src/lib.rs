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

/// A perpetual market described in UI units: lot in underlying units, tick and mark in collateral
/// per underlying unit.
#[derive(Clone, Debug)]
pub struct PerpSpec {
    pub name: &'static str,
    pub base_decimals: u8,
    pub lot: &'static str,
    pub tick: &'static str,
    pub mark: &'static str,
    pub book_capacity: u32,
    pub event_queue_capacity: u32,
}

/// The demo's markets.
pub const DEMO_MARKETS: [PerpSpec; 2] = [
    PerpSpec {
        name: "BTC-PERP",
        base_decimals: 8,
        lot: "0.0001",
        tick: "0.1",
        mark: "65000",
        book_capacity: 1024,
        event_queue_capacity: 512,
    },
    PerpSpec {
        name: "ETH-PERP",
        base_decimals: 8,
        lot: "0.001",
        tick: "0.01",
        mark: "3500",
        book_capacity: 1024,
        event_queue_capacity: 512,
    },
];

/// Market parameters from a spec: 5 bp taker, 1 bp maker rebate, 10% / 5% margins, 0.0001 crank
/// reward.
pub fn perp_params(spec: &PerpSpec, quote_decimals: u8) -> Result<meridian_sdk::MarketParams> {
    use meridian_sdk::engine::ui::MarketUnits;
    let base_lot_size = meridian_sdk::amount::parse_ui_amount(spec.lot, spec.base_decimals)?;
    let probe = MarketUnits { base_lot_size, base_decimals: spec.base_decimals, tick_size: 1, quote_decimals };
    let tick_size = probe.price_to_ticks(spec.tick).map_err(|e| anyhow::anyhow!("{}: tick {e}", spec.name))?;
    let units = MarketUnits { tick_size, ..probe };
    Ok(meridian_sdk::MarketParams {
        name: meridian_sdk::state::encode_name(spec.name),
        kind: meridian_sdk::MarketKind::Perpetual,
        base_decimals: spec.base_decimals,
        base_lot_size,
        tick_size,
        min_order_lots: 1,
        taker_fee_ppm: 500,
        maker_fee_ppm: -100,
        initial_margin_bps: 1_000,
        maintenance_margin_bps: 500,
        crank_reward: meridian_sdk::amount::parse_ui_amount("0.0001", quote_decimals)?,
        initial_mark_price: units.price_to_ticks(spec.mark).map_err(|e| anyhow::anyhow!("{}: mark {e}", spec.name))?,
        book_capacity: spec.book_capacity,
        event_queue_capacity: spec.event_queue_capacity,
        expiry_ts: 0,
        strike: 0,
        price_band_bps: 0,
        settlement_window_secs: 0,
    })
}

/// Creates the market named in `params` unless the exchange has one of that name. Returns its
/// address and state.
pub async fn ensure_market(
    client: &Client,
    admin: &Keypair,
    exchange: &Pubkey,
    params: meridian_sdk::MarketParams,
) -> Result<(Pubkey, meridian_sdk::state::Market)> {
    let name = meridian_sdk::state::market_name_bytes(&params.name);
    if let Some(found) = client.find_market(exchange, &name).await? {
        return Ok(found);
    }
    let index = client.exchange(exchange).await?.num_markets;
    let (book, queue) = (Keypair::new(), Keypair::new());
    let book_len = meridian_sdk::program::book_account_len(params.book_capacity);
    let queue_len = meridian_sdk::program::queue_account_len(params.event_queue_capacity);
    let (book_rent, queue_rent) = (
        client.rpc().get_minimum_balance_for_rent_exemption(book_len).await?,
        client.rpc().get_minimum_balance_for_rent_exemption(queue_len).await?,
    );
    let mut ixs = ix::allocate_market_accounts(&admin.pubkey(), &book.pubkey(), &queue.pubkey(), &params, |len| {
        if len == book_len {
            book_rent
        } else {
            queue_rent
        }
    });
    ixs.push(ix::create_market(exchange, &admin.pubkey(), index, params, &book.pubkey(), &queue.pubkey()));
    client.send(&ixs, admin, &[&book, &queue]).await.with_context(|| format!("creating market {name}"))?;
    let address = pda::market(exchange, index).0;
    Ok((address, client.market(&address).await?))
}
