use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

/// Also the accounts of `set_market_mode`.
#[derive(Accounts)]
pub struct SetMarketStatus<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = book @ MeridianError::WrongBook,
        has_one = event_queue @ MeridianError::WrongEventQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book (has_one above), read to check it is empty (closing, a mode change).
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue (has_one above), read likewise.
    pub event_queue: UncheckedAccount<'info>,
    pub admin: Signer<'info>,
}

/// Admin: Active, CancelOnly, Paused, or Closed (only with an empty book and queue and no open
/// interest).
pub fn process_set_market_status(ctx: Context<SetMarketStatus>, status: MarketStatus) -> Result<()> {
    if status == MarketStatus::Closed {
        require_book_and_queue_empty(&ctx.accounts.book, &ctx.accounts.event_queue)?;
    }
    // a market whose book and queue `close_market` closed stays closed
    require!(status == MarketStatus::Closed || ctx.accounts.book.owner == &crate::ID, MeridianError::MarketClosed);
    let mut market = ctx.accounts.market.load_mut()?;
    // closing must not strand a position (a dated market's settle first: close_market)
    require!(status != MarketStatus::Closed || !market.holds_base(), MeridianError::OpenInterestLeft);
    market.status = status as u8;
    Ok(())
}
