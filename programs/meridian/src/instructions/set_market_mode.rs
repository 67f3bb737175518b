use crate::{error::MeridianError, instructions::SetMarketStatus, state::*};
use anchor_lang::prelude::*;

/// Admin (accounts as `set_market_status`): switches a market between continuous and batch
/// matching, with the auction period in slots (0 = `DEFAULT_AUCTION_PERIOD_SLOTS`). Only while its
/// book and event queue are empty (a new market's are: creating it and setting its mode in one
/// transaction lists a batch market), so no order is caught between the two rules. A batch book
/// holds at most `MAX_BATCH_ORDERS_PER_SIDE` orders a side and its queue at least twice as many
/// events, so that every auction clears in one instruction.
pub fn process_set_market_mode(ctx: Context<SetMarketStatus>, mode: MarketMode, period_slots: u64) -> Result<()> {
    let batch = mode == MarketMode::Batch;
    require!(period_slots <= MAX_AUCTION_PERIOD_SLOTS, MeridianError::InvalidMarketMode);
    let (book_info, queue_info) = (ctx.accounts.book.to_account_info(), ctx.accounts.event_queue.to_account_info());
    require_book_and_queue_empty(&book_info, &queue_info).map_err(|_| MeridianError::MarketModeNeedsEmptyBook)?;
    if batch {
        let mut book = book_info.try_borrow_mut_data()?;
        let (bh, _) = book_parts(&mut book)?;
        let mut queue = queue_info.try_borrow_mut_data()?;
        let (qh, _) = queue_parts(&mut queue)?;
        require!(
            bh.orders_per_side <= MAX_BATCH_ORDERS_PER_SIDE && qh.capacity >= 2 * bh.orders_per_side,
            MeridianError::MarketModeNeedsEmptyBook
        );
    }
    let slot = Clock::get()?.slot;
    let mut m = ctx.accounts.market.load_mut()?;
    m.mode = mode as u8;
    m.auction_pending = 0;
    m.auction_period_slots = if period_slots == 0 { DEFAULT_AUCTION_PERIOD_SLOTS } else { period_slots };
    m.auction_end_slot = m.auction_end_after(slot);
    (m.auction_boundary_seq, m.auction_maker_seq) = (m.next_order_seq, m.next_order_seq);
    Ok(())
}
