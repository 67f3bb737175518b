use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CloseMarket<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = book @ MeridianError::WrongBook,
        has_one = event_queue @ MeridianError::WrongEventQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut, close = admin)]
    pub book: AccountLoader<'info, OrderBook>,
    #[account(mut, close = admin)]
    pub event_queue: AccountLoader<'info, EventQueue>,
    /// Receives the book's and the queue's rent.
    #[account(mut)]
    pub admin: Signer<'info>,
}

/// Admin: closes a market nobody holds base in any more (a dated one once its price is fixed and
/// every position settled): status Closed, the book and event queue accounts closed and their
/// rent returned. The market account stays, so positions left with cash (winners the pool has not
/// paid yet) still settle through `settle_pnl` / `settle_expired`.
pub fn process_close_market(ctx: Context<CloseMarket>) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    require!(!market.is_dated() || market.is_settled(), MeridianError::SettlementPriceNotFixed);
    require!(!market.holds_base(), MeridianError::OpenInterestLeft);
    let (book, queue) = (ctx.accounts.book.to_account_info(), ctx.accounts.event_queue.to_account_info());
    require_book_and_queue_empty(&book, &queue)?;
    market.status = MarketStatus::Closed as u8;
    Ok(())
}
