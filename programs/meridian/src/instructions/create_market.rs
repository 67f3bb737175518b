use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::book::{ActiveTree, Book};
use meridian_engine::events::QueueHeader;
use meridian_engine::expiry;

#[derive(Accounts)]
#[instruction(index: u16, params: MarketParams)]
pub struct CreateMarket<'info> {
    #[account(mut, has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = Market::SPACE,
        seeds = [MARKET_SEED, exchange.key().as_ref(), &index.to_le_bytes()],
        bump,
    )]
    pub market: AccountLoader<'info, Market>,
    /// Created by the client with the system program (owner: this program) at
    /// `book_account_len(params.book_capacity)` bytes; too large for a CPI create.
    #[account(zero)]
    pub book: AccountLoader<'info, OrderBook>,
    /// Likewise, `queue_account_len(params.event_queue_capacity)` bytes.
    #[account(zero)]
    pub event_queue: AccountLoader<'info, EventQueue>,
    pub system_program: Program<'info, System>,
}

/// Perpetual funding defaults (`set_funding_params` changes them): the premium accrues over an hour,
/// clamped to +-10 bp per hour (about +-0.24% a day).
pub const DEFAULT_FUNDING_PERIOD_SECS: u32 = 3_600;
pub const DEFAULT_FUNDING_MAX_BPS: u32 = 10;

/// Largest book and queue a market accepts (account size stays far below Solana's 10 MiB).
pub const MAX_BOOK_CAPACITY: u32 = 8_192;
pub const MAX_EVENT_QUEUE_CAPACITY: u32 = 8_192;

fn validate(p: &MarketParams) -> Result<()> {
    let ok = p.base_lot_size > 0
        && p.tick_size > 0
        && p.min_order_lots > 0
        && p.initial_mark_price > 0
        && p.initial_mark_price.checked_mul(p.tick_size).is_some()
        && p.maintenance_margin_bps > 0
        && p.initial_margin_bps > p.maintenance_margin_bps
        && p.initial_margin_bps <= 10_000
        && p.taker_fee_ppm <= 100_000
        && p.maker_fee_ppm <= 100_000
        // a maker rebate is paid out of the taker fee of the same fill
        && p.maker_fee_ppm as i64 >= -(p.taker_fee_ppm as i64)
        && (1..=MAX_BOOK_CAPACITY).contains(&p.book_capacity)
        && (1..=MAX_EVENT_QUEUE_CAPACITY).contains(&p.event_queue_capacity)
        && p.price_band_bps <= 10_000;
    require!(ok, MeridianError::InvalidMarketParams);
    Ok(())
}

/// A dated market expires in the future (an option also needs a strike whose value fits); a
/// perpetual has neither. The settlement window is whole buckets (`meridian_engine::expiry`).
fn validate_dated(p: &MarketParams, now_ts: i64) -> Result<()> {
    let window = p.settlement_window_secs;
    let window_ok = window == 0
        || ((expiry::MIN_WINDOW_SECS..=expiry::MAX_WINDOW_SECS).contains(&window)
            && window.is_multiple_of(expiry::BUCKETS));
    let ok = match p.kind {
        MarketKind::Perpetual => p.expiry_ts == 0 && p.strike == 0 && window == 0,
        MarketKind::Future => p.expiry_ts > now_ts && p.strike == 0 && window_ok,
        MarketKind::Call | MarketKind::Put => {
            p.expiry_ts > now_ts
                && p.strike > 0
                && p.strike.checked_mul(p.tick_size).is_some_and(|v| v <= i64::MAX as u64)
                && window_ok
        }
    };
    require!(ok, MeridianError::InvalidDatedParams);
    Ok(())
}

pub fn process_create_market(ctx: Context<CreateMarket>, index: u16, params: MarketParams) -> Result<()> {
    validate(&params)?;
    validate_dated(&params, Clock::get()?.unix_timestamp)?;
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    require!(index == exchange.num_markets, MeridianError::InvalidMarketParams);
    let book_info = ctx.accounts.book.to_account_info();
    let queue_info = ctx.accounts.event_queue.to_account_info();
    require!(book_info.data_len() == book_account_len(params.book_capacity), MeridianError::InvalidBookAccount);
    require!(queue_info.data_len() == queue_account_len(params.event_queue_capacity), MeridianError::InvalidEventQueue);

    let market_key = ctx.accounts.market.key();
    ctx.accounts.book.load_init()?.market = market_key;
    ctx.accounts.event_queue.load_init()?.market = market_key;
    {
        let mut data = book_info.try_borrow_mut_data()?;
        let (header, nodes) = book_parts(&mut data)?;
        Book::<ActiveTree>::init(header, nodes, params.book_capacity).map_err(|_| MeridianError::InvalidBookAccount)?;
    }
    {
        let mut data = queue_info.try_borrow_mut_data()?;
        let (header, _) = queue_parts(&mut data)?;
        *header = QueueHeader { capacity: params.event_queue_capacity, ..QueueHeader::default() };
    }

    let mut m = ctx.accounts.market.load_init()?;
    m.exchange = ctx.accounts.exchange.key();
    m.book = book_info.key();
    m.event_queue = queue_info.key();
    m.name = params.name;
    m.index = index;
    m.kind = params.kind as u8;
    m.status = MarketStatus::Active as u8;
    m.bump = ctx.bumps.market;
    m.base_decimals = params.base_decimals;
    m.tick_size = params.tick_size;
    m.base_lot_size = params.base_lot_size;
    m.min_order_lots = params.min_order_lots;
    m.taker_fee_ppm = params.taker_fee_ppm;
    m.maker_fee_ppm = params.maker_fee_ppm;
    m.initial_margin_bps = params.initial_margin_bps;
    m.maintenance_margin_bps = params.maintenance_margin_bps;
    m.crank_reward = params.crank_reward;
    m.mark_price = params.initial_mark_price;
    m.next_order_seq = 1;
    m.expiry_ts = params.expiry_ts;
    m.strike = params.strike;
    m.price_band_bps = params.price_band_bps;
    if params.kind != MarketKind::Perpetual {
        m.settlement_window_secs = expiry::Window::new(params.expiry_ts, params.settlement_window_secs).secs;
    }
    m.refresh_band();
    m.quote_decimals = exchange.collateral_decimals;
    if params.kind == MarketKind::Perpetual {
        m.funding_period_secs = DEFAULT_FUNDING_PERIOD_SECS;
        m.funding_max_bps = DEFAULT_FUNDING_MAX_BPS;
    }
    exchange.num_markets += 1;
    Ok(())
}
