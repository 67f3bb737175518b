//! A market maker's requote in one instruction: cancel, then post a ladder of post-only quotes,
//! with one margin check at the end.
//!
//! The book and queue are opened once, the clock read at most once, the position slot found once;
//! per quote only the tree insert and the account's order record remain. A quote the book refuses
//! for its price (it would cross under post-only, cannot slide, or lies outside the band) is
//! skipped and counted, so one stale level does not undo the whole requote; any other refusal
//! (malformed quote, full book side, too many open orders, margin) fails the instruction, which
//! then changes nothing.

use crate::{
    account_handle::AccountHandle,
    args::OrderType,
    error::MeridianError,
    instructions::place_order::PlaceAccounts,
    risk::{account_health_builder, Valuation},
    state::*,
    trading::{self, match_error},
};
use anchor_lang::prelude::*;
use meridian_engine::book::{Key, NewOrder, NODE_ORDER};
use meridian_engine::events::EventQueue as Queue;
use meridian_engine::health_history;
use meridian_engine::matching::{self, MatchContext, MatchError, OrderKind, OrderParams, SelfTrade};
use meridian_engine::units::{notional, Lots, Side, Ticks};

/// Quotes per side one mass quote may post.
pub const MAX_QUOTE_LEVELS: usize = 32;

/// One quote: a price in ticks and a size in lots.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuoteLevel {
    pub price: u64,
    pub size: u64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct MassQuoteArgs {
    /// Cancel all of the account's orders in this market first.
    pub cancel_all: bool,
    /// Otherwise, cancel the orders with these client order ids (ids not on the book are ignored:
    /// the order filled or was never placed).
    pub cancel_client_ids: Vec<u64>,
    /// `PostOnly` (a quote that would cross is skipped) or `PostOnlySlide` (it rests one tick
    /// behind the best opposite order); any other type is refused (`InvalidOrderKind`).
    pub order_kind: OrderType,
    /// Unix time after which the quotes are dead; 0 = good till cancelled.
    pub expiry_ts: i64,
    /// Client order ids: bid i gets `client_order_id_base + i`, ask i
    /// `client_order_id_base + bids.len() + i`.
    pub client_order_id_base: u64,
    /// Best first (cheapest: see `mass_quote_checked`), at most `MAX_QUOTE_LEVELS` per side.
    pub bids: Vec<QuoteLevel>,
    pub asks: Vec<QuoteLevel>,
}

/// What a mass quote did (the instruction's return data).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MassQuoteResult {
    pub cancelled: u8,
    pub posted: u8,
    /// Quotes the book refused for their price (see the module docs).
    pub skipped: u8,
}

/// Cancels the account's orders in the market (all but the `kept` slots), or those with the
/// listed client ids.
fn cancel_step(
    market: &Market,
    book: &mut trading::ActiveBook,
    account: &mut MarginAccount,
    owner: &Pubkey,
    args: &MassQuoteArgs,
    kept: u64,
) -> Result<u8> {
    let mut cancelled = 0u8;
    if args.cancel_all {
        // the slots as they are now: a cancel frees its own slot only
        let mut slots = account.open_order_slots & !kept;
        while slots != 0 {
            let slot = slots.trailing_zeros() as usize;
            slots &= slots - 1;
            if account.open_orders[slot].market_index == market.index {
                cancelled += trading::cancel_slot(market, book, account, slot, owner)? as u8;
            }
        }
        return Ok(cancelled);
    }
    for &id in &args.cancel_client_ids {
        if let Some(slot) = account.find_order_by_client_id(market.index, id) {
            cancelled += trading::cancel_slot(market, book, account, slot, owner)? as u8;
        }
    }
    Ok(cancelled)
}

/// What a requote in place works with: the quotes' fixed terms and the running totals.
struct Requote<'q> {
    args: &'q MassQuoteArgs,
    kind: OrderKind,
    first_seq: u64,
    pos_slot: usize,
    now_ts: Option<i64>,
    /// Quote indices done (bit i) and open-order slots kept (bit slot).
    done: u64,
    kept: u64,
    moved: u8,
    lots: u64,
}

/// An order of the account still resting at the node it was placed in: open-order slot, node.
type Resting = (usize, u32);

/// The account's orders in `market` still at the node they were placed in, bids and asks, each in
/// slot order. A node holds the order when its side, price and order id match: order ids are
/// unique in a market, so no owner comparison is needed.
fn resting_orders(market: &Market, book: &trading::ActiveBook, account: &MarginAccount) -> [Vec<Resting>; 2] {
    // room for every order of the account: no reallocation while gathering
    let mut sides = [Vec::with_capacity(MAX_OPEN_ORDERS), Vec::with_capacity(MAX_OPEN_ORDERS)];
    for slot in account.order_slots() {
        let o = &account.open_orders[slot];
        if o.market_index != market.index {
            continue;
        }
        let node = MarginAccount::order_node(o);
        let live = book
            .get(node)
            .is_some_and(|n| n.tag == NODE_ORDER && n.side == o.side && n.seq == o.seq && n.price.0 == o.price);
        if live && o.side <= Side::Ask as u8 {
            sides[o.side as usize].push((slot, node)); // 0 bid, 1 ask
        }
    }
    sides
}

/// `cancel_all` with quotes: an order of the account moves to a quote of its side in place when
/// that keeps the book's order (`Book::requote_in_place`): the cancel and the post then cost two
/// neighbour lookups. Orders and quotes are paired by rank, best first when the quotes improve on
/// the orders, worst first when they retreat, so each order moves towards a place its neighbour
/// has already left. The rank is read from the lists as they come, not sorted: quotes are given
/// best first, and a ladder is posted worst first into the lowest free slots, so the orders in
/// slot order run worst to best (moves keep their slots). When either is out of order, some moves
/// fail the book's check and those quotes take the ordinary path (cancel, then post), as does a
/// quote that crosses, lies outside the band or fails a check: the pairing changes the cost, never
/// the result. The resting orders are those cancel and post would leave (at each price, time
/// priority follows the order ids, which come from the quotes' positions), with one exception:
/// when the account's own new bids and asks cross each other, which side is skipped (or slides)
/// depends on which was placed first, and moved orders are placed before the rest.
fn requote_side(
    market: &Market,
    book: &mut trading::ActiveBook,
    account: &mut MarginAccount,
    owner: &Pubkey,
    side: Side,
    old: &[Resting],
    r: &mut Requote,
) -> Result<()> {
    let (quotes, offset) = match side {
        Side::Bid => (&r.args.bids, 0),
        Side::Ask => (&r.args.asks, r.args.bids.len()),
    };
    let alive = r.args.expiry_ts == 0 || r.now_ts.is_some_and(|now| r.args.expiry_ts > now);
    let (Some(first), Some(&(best_slot, _))) = (quotes.first(), old.last()) else {
        return Ok(());
    };
    if !alive {
        return Ok(());
    }
    let best_old = &account.open_orders[best_slot];
    let improving = Key::new(side, Ticks(first.price), r.first_seq + offset as u64)
        < Key::new(side, Ticks(best_old.price), best_old.seq);
    let pairs = old.len().min(quotes.len());
    let owner_bytes = owner.to_bytes();
    let band = market.band();
    // this side's moves leave the other side as it is
    let opposite_best = book.best(side.opposite()).map(|b| book.node(b).price);
    // the side's resting totals change once, by what the moved orders left and what they became
    let (mut left_lots, mut left_value, mut new_lots, mut new_value) = (0u64, 0u64, 0u64, 0u64);
    let overflow = || error!(MeridianError::MathOverflow);
    for k in 0..pairs {
        // old runs worst to best, quotes best to worst
        let (o, j) = if improving { (old.len() - 1 - k, k) } else { (k, quotes.len() - 1 - k) };
        let (slot, node) = old[o];
        let (q, i) = (&quotes[j], offset + j);
        let (price, size) = (Ticks(q.price), Lots(q.size));
        let crosses = opposite_best.is_some_and(|best| if side == Side::Bid { price >= best } else { price <= best });
        let Some(value) = notional(price, size, market.tick_size) else { continue };
        if q.size == 0 || q.size < market.min_order_lots || !band.contains(price) || crosses {
            continue;
        }
        let (was_price, was_size) = {
            let n = book.node(node);
            (n.price, n.size)
        };
        // i < 64; were first_seq + 64 to overflow, the market's next id below fails the instruction
        let seq = r.first_seq.wrapping_add(i as u64);
        let client_order_id = r.args.client_order_id_base.wrapping_add(i as u64);
        let moved = book.requote_in_place(
            node,
            &NewOrder {
                side,
                price,
                size,
                seq,
                client_order_id,
                expiry_ts: r.args.expiry_ts,
                owner: owner_bytes,
                owner_slot: slot as u8, // < MAX_OPEN_ORDERS: the node's own slot
                order_kind: r.kind as u8,
                flags: 0,
            },
        );
        if !moved {
            continue;
        }
        // what the moved orders left is part of the side's resting totals (u64): these sums
        // cannot wrap
        let was_value = notional(was_price, was_size, market.tick_size).ok_or_else(overflow)?;
        left_lots = left_lots.wrapping_add(was_size.0);
        left_value = left_value.wrapping_add(was_value);
        new_lots = new_lots.checked_add(size.0).ok_or_else(overflow)?;
        new_value = new_value.checked_add(value).ok_or_else(overflow)?;
        account.record_order(slot, market.index, side, price, seq, client_order_id, r.kind as u8, node);
        // i < 2 * MAX_QUOTE_LEVELS = 64, slot < MAX_OPEN_ORDERS = 64, at most 64 moves
        r.done |= 1u64.wrapping_shl(i as u32);
        r.kept |= 1u64.wrapping_shl(slot as u32);
        r.moved = r.moved.wrapping_add(1);
        r.lots = r.lots.saturating_add(q.size);
    }
    let p = account.position_mut(r.pos_slot);
    p.remove_resting(side, Lots(left_lots), left_value).ok_or_else(overflow)?;
    p.add_resting(side, Lots(new_lots), new_value).ok_or_else(overflow)?;
    Ok(())
}

/// Cancels, posts the quotes, then checks the account's initial margin once (quotes never fill,
/// so equity is unchanged and only the requirement can have grown). The signer and writable flags
/// were checked by the entry path.
// out of line: inlined into the fast entry beside place and replace, it grew that function past
// the branch range the SBF linker takes (LLVM then emits long jumps, which the linker rejects)
#[inline(never)]
pub fn mass_quote_checked<A: AccountHandle>(a: &PlaceAccounts<A>, args: &MassQuoteArgs) -> Result<MassQuoteResult> {
    let exchange_key = a.exchange.address();
    let (exchange, mut market, mut account) = a.load_checked()?;
    require!(!market.is_batch(), MeridianError::BatchOrderKind);
    let kind = OrderKind::from(args.order_kind);
    require!(kind.is_post_only(), MeridianError::InvalidOrderKind);
    require!(args.bids.len() <= MAX_QUOTE_LEVELS && args.asks.len() <= MAX_QUOTE_LEVELS, MeridianError::TooManyQuotes);
    let quoting = !args.bids.is_empty() || !args.asks.is_empty();
    if quoting {
        require!(!exchange.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
        market.check_can_place()?;
        if market.is_dated() {
            trading::check_not_expired(&market)?;
        }
        if market.has_oracle() && !market.oracle_usable(Clock::get()?.slot) {
            return err!(MeridianError::OracleNotUsable);
        }
    } else {
        market.check_can_cancel()?;
    }
    let owner = *a.margin_account.address();
    let mut out = MassQuoteResult::default();
    let mut book_data = a.book.data_mut()?;
    let mut book = trading::open_book(&mut book_data)?;
    let first_seq = market.next_order_seq;
    let now_ts = if args.expiry_ts != 0 { Some(Clock::get()?.unix_timestamp) } else { None };
    let mut r = Requote { args, kind, first_seq, pos_slot: 0, now_ts, done: 0, kept: 0, moved: 0, lots: 0 };
    if args.cancel_all && quoting {
        if let Some(pos_slot) = account.find_position(market.index) {
            r.pos_slot = pos_slot;
            let [bids, asks] = resting_orders(&market, &book, &account);
            requote_side(&market, &mut book, &mut account, &owner, Side::Bid, &bids, &mut r)?;
            requote_side(&market, &mut book, &mut account, &owner, Side::Ask, &asks, &mut r)?;
        }
    }
    crate::cu_checkpoint!("mass_quote: requoted in place");
    out.cancelled = r.moved + cancel_step(&market, &mut book, &mut account, &owner, args, r.kept)?;
    crate::cu_checkpoint!("mass_quote: cancelled");
    if !quoting {
        return Ok(out);
    }

    let pos_slot = account.position_slot(market.index, market.funding_index())?;
    out.posted = r.moved;
    let mut posted_lots = r.lots;
    let quoted = args.bids.len() + args.asks.len(); // <= 2 * MAX_QUOTE_LEVELS = 64
    let all_quotes = if quoted == 64 { u64::MAX } else { (1u64 << quoted) - 1 };
    let mut outs = 0;
    // quotes left after the moves in place: posted into the book through the matching engine
    if r.done != all_quotes {
        let mut queue_data = a.event_queue.data_mut()?;
        let (qh, events) = queue_parts(&mut queue_data)?;
        let mut queue = Queue::new(qh, events).ok_or(MeridianError::InvalidEventQueue)?;
        let queued_before = queue.len();
        let mut ctx = MatchContext {
            seq: first_seq,
            now_ts: now_ts.unwrap_or(0),
            fees: market.fees(),
            tick_size: market.tick_size,
            match_limit: trading::DEFAULT_MATCH_LIMIT,
            funding_index: market.funding_index(),
            band: market.band(),
            crank_reward: market.crank_reward,
        };
        let mut clock_read = now_ts.is_some();
        // quote i (bids, then asks) has order id first_seq + i and client id base + i; each side is
        // posted from its last quote, so a ladder given best first rests each quote as the new best,
        // which the book inserts without a search
        let n_bids = args.bids.len();
        let bids = args.bids.iter().enumerate().rev().map(|(i, q)| (i, Side::Bid, q));
        let asks = args.asks.iter().enumerate().rev().map(|(i, q)| (n_bids + i, Side::Ask, q));
        for (i, side, q) in bids.chain(asks) {
            if r.done & (1 << i) != 0 {
                continue;
            }
            require!(q.size > 0, MeridianError::ZeroSize);
            require!(q.price > 0, MeridianError::ZeroPrice);
            require!(q.size >= market.min_order_lots, MeridianError::BelowMinOrderSize);
            notional(Ticks(q.price), Lots(q.size), market.tick_size).ok_or(MeridianError::OrderValueOverflow)?;
            let order_slot = account.free_order_slot().ok_or(MeridianError::TooManyOpenOrders)?;
            ctx.seq = first_seq + i as u64; // posted or skipped: ids follow from the arguments
            let params = OrderParams {
                side,
                price: Ticks(q.price),
                size: Lots(q.size),
                kind,
                self_trade: SelfTrade::CancelMaker,
                client_order_id: args.client_order_id_base.wrapping_add(i as u64),
                expiry_ts: args.expiry_ts,
                owner: owner.to_bytes(),
                owner_slot: order_slot as u8, // < MAX_OPEN_ORDERS = 64: a bit index of the u64 slot mask
                flags: 0,
            };
            if !clock_read && matching::needs_time(&book, &params) {
                ctx.now_ts = Clock::get()?.unix_timestamp;
                clock_read = true;
            }
            let posted = match matching::place(&mut book, &params, &ctx, &mut queue) {
                Ok(r) => r.posted,
                Err(MatchError::PostOnlyWouldCross | MatchError::CannotSlide | MatchError::OutsideBand) => None,
                Err(e) => return Err(match_error(e)),
            };
            let Some(posted) = posted else {
                out.skipped += 1;
                continue;
            };
            let value =
                notional(posted.price, posted.size, market.tick_size).ok_or(MeridianError::OrderValueOverflow)?;
            account.position_mut(pos_slot).add_resting(side, posted.size, value).ok_or(MeridianError::MathOverflow)?;
            account.record_order(
                order_slot,
                market.index,
                side,
                posted.price,
                ctx.seq,
                params.client_order_id,
                kind as u8,
                posted.node,
            );
            posted_lots = posted_lots.saturating_add(posted.size.0);
            out.posted += 1;
        }
        // post-only quotes never fill: every event they wrote is an out (a stale order they crossed,
        // an eviction), paid for by the quoter as for a single order
        outs = queue.len() - queued_before;
    }
    market.next_order_seq = first_seq + quoted as u64;
    if outs > 0 {
        trading::pay_for_outs(&mut market, &mut account, outs)?;
    }
    let p = account.position(pos_slot);
    require!(
        (args.bids.is_empty() || p.within_limits_on(Side::Bid))
            && (args.asks.is_empty() || p.within_limits_on(Side::Ask)),
        MeridianError::PositionLimitExceeded
    );
    account.release_if_flat(pos_slot);
    account.last_placement =
        LastPlacement { order_seq: first_seq, market_index: market.index, posted_lots, ..LastPlacement::default() };
    crate::cu_checkpoint!("mass_quote: posted");
    // a quote that rests adds to the requirement; out events its quotes wrote (stale orders they
    // swept, evictions) were paid from collateral even when every quote was then skipped
    if out.posted > 0 || outs > 0 {
        let b = account_health_builder(&account, exchange_key, Some(&market), a.remaining, Valuation::ConservativeNow)?;
        let slot = b.slot_read();
        let health = b.finish()?;
        require!(health.initial_free() >= 0, MeridianError::InsufficientMargin);
        if let Some(slot) = slot {
            account.record_health(slot, &health, health_history::source::ORDER);
        }
    }
    Ok(out)
}

pub fn process_mass_quote<'info>(
    ctx: Context<'info, crate::instructions::PlaceOrder<'info>>,
    args: MassQuoteArgs,
) -> Result<MassQuoteResult> {
    mass_quote_checked(&PlaceAccounts::of(&ctx), &args)
}
