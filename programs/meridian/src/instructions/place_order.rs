use crate::{
    error::MeridianError,
    risk::account_health,
    state::*,
    trading::{self, PlaceOrderArgs, PlaceOrderResult, Trade},
};
use anchor_lang::prelude::*;

/// Accounts shared by place_order and replace_order. Remaining accounts: the markets of the
/// account's other positions, in position-slot order (for the margin check).
#[derive(Accounts)]
pub struct PlaceOrder<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = book @ MeridianError::WrongBook,
        has_one = event_queue @ MeridianError::WrongEventQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book (has_one above); read and written through the engine.
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue (has_one above).
    #[account(mut)]
    pub event_queue: UncheckedAccount<'info>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = owner @ MeridianError::NotAccountOwner,
    )]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
}

/// Places, then checks that the account stays above initial margin (reduce-only orders are always
/// allowed: they cannot add risk).
pub fn place_checked<'info>(
    ctx: &Context<'info, PlaceOrder<'info>>,
    args: &PlaceOrderArgs,
    before_place: impl FnOnce(&Market, &mut MarginAccount) -> Result<()>,
) -> Result<PlaceOrderResult> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let mut exchange = a.exchange.load_mut()?;
    require!(!exchange.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
    let mut market = a.market.load_mut()?;
    market.check_can_place()?;
    let mut account = a.margin_account.load_mut()?;
    before_place(&market, &mut account)?;
    let result = trading::place(
        &mut Trade {
            exchange: &mut exchange,
            market: &mut market,
            account: &mut account,
            account_key: a.margin_account.key(),
        },
        &a.book,
        &a.event_queue,
        args,
        now,
    )?;
    if !args.reduce_only {
        let health = account_health(&account, &a.exchange.key(), Some(&market), ctx.remaining_accounts)?;
        require!(health.initial_free() >= 0, MeridianError::InsufficientMargin);
    }
    account.last_placement = LastPlacement {
        order_seq: result.order_seq,
        market_index: market.index,
        _pad: [0; 6],
        filled_lots: result.filled_lots,
        filled_quote: result.filled_quote,
        taker_fee: result.taker_fee,
        posted_lots: result.posted_lots,
        posted_price: result.posted_price,
    };
    Ok(result)
}

pub fn process_place_order<'info>(
    ctx: Context<'info, PlaceOrder<'info>>,
    args: PlaceOrderArgs,
) -> Result<PlaceOrderResult> {
    place_checked(&ctx, &args, |_, _| Ok(()))
}
