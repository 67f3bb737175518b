use crate::{error::MeridianError, state::*, trading};
use anchor_lang::prelude::*;
use meridian_engine::auction::{self, AuctionContext};
use meridian_engine::events::EventQueue as Queue;

#[derive(Accounts)]
pub struct ClearAuction<'info> {
    /// Read only: clearings of different markets run in parallel.
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = book @ MeridianError::WrongBook,
        has_one = event_queue @ MeridianError::WrongEventQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book (has_one above).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue (has_one above).
    #[account(mut)]
    pub event_queue: UncheckedAccount<'info>,
}

/// What a clearing did (the instruction's return data; the market keeps the last one too).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuctionCleared {
    /// Ticks; 0 when nothing traded.
    pub price: u64,
    pub volume: u64,
    /// Fill events written (one per order that filled).
    pub fills: u32,
}

/// Permissionless: clears a batch market's auction once its period is over (`AuctionNotDue`
/// before). Its orders (placed before it closed, live, priced within the band) trade at one price
/// by the rule of `meridian_engine::auction`, the reference being the band's (the oracle's price,
/// an option's model value, or without an oracle the stable mark, which follows the clearings).
/// Every fill, both sides, goes to the event queue for `consume_events`; what does not fill rests
/// into the next auction. A market that cannot trade now (not active, trading paused, expired, its
/// oracle not usable) ends the auction without a trade, so its orders can be cancelled again.
/// `EventQueueFull` when the queue lacks room for the fills: consume events, then clear.
pub fn process_clear_auction(ctx: Context<ClearAuction>) -> Result<AuctionCleared> {
    let exchange = ctx.accounts.exchange.load()?;
    let mut m = ctx.accounts.market.load_mut()?;
    require!(m.is_batch(), MeridianError::NotBatchMarket);
    let clock = Clock::get()?;
    m.close_auction_if_due(clock.slot, clock.unix_timestamp);
    require!(m.auction_pending != 0, MeridianError::AuctionNotDue);
    let tradable = m.status() == MarketStatus::Active
        && !exchange.is_paused(PauseFlags::TRADING)
        && !m.is_expired(clock.unix_timestamp)
        && (!m.has_oracle() || m.oracle_usable(clock.slot));
    let mut out = AuctionCleared::default();
    if tradable {
        let band = m.band();
        let c = AuctionContext {
            boundary_seq: m.auction_boundary_seq,
            maker_below_seq: m.auction_maker_seq,
            now_ts: clock.unix_timestamp,
            closed_ts: m.auction_close_ts,
            band,
            reference: band.reference,
            fees: m.fees(),
            tick_size: m.tick_size,
            funding_index: m.funding_index(),
            crank_reward: m.crank_reward,
        };
        let mut book_data = ctx.accounts.book.try_borrow_mut_data()?;
        let mut book = trading::open_book(&mut book_data)?;
        let mut queue_data = ctx.accounts.event_queue.try_borrow_mut_data()?;
        let (qh, events) = queue_parts(&mut queue_data)?;
        let mut queue = Queue::new(qh, events).ok_or(MeridianError::InvalidEventQueue)?;
        let free = queue.free_slots();
        if let Some(r) = auction::clear_book(&mut book, &c, free, &mut queue).map_err(trading::match_error)? {
            let price = r.clearing.price;
            out = AuctionCleared { price: price.0, volume: r.clearing.volume.0, fills: r.fills };
            (m.last_clearing_price, m.last_clearing_volume, m.last_clearing_slot) = (price.0, out.volume, clock.slot);
            m.record_trade(Some(price), r.notional, clock.unix_timestamp);
        }
    }
    m.auction_pending = 0;
    // a late clearing: the orders placed while it waited form the next auction, which collects
    // for a whole period from now, so that whoever could not cancel during the wait can cancel
    // before it closes (the wait must not lock anyone into a second auction)
    if clock.slot >= m.auction_end_slot {
        m.auction_end_slot = m.auction_end_after(clock.slot);
    }
    if tradable {
        // what did not fill rested through a clearing: makers next time (an auction that could
        // not trade changes nobody's role)
        m.auction_maker_seq = m.auction_boundary_seq;
    }
    m.auctions_cleared = m.auctions_cleared.saturating_add(1);
    Ok(out)
}
