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
    account_view::AccountView,
    error::MeridianError,
    instructions::place_order::PlaceAccounts,
    loaders::{load, load_mut},
    risk::{account_health_builder, Valuation},
    state::*,
    trading::{self, match_error},
};
use anchor_lang::prelude::*;
use meridian_engine::events::EventQueue as Queue;
use meridian_engine::health_history;
use meridian_engine::matching::{self, MatchContext, MatchError, OrderKind, OrderParams, SelfTrade};
use meridian_engine::book::{Key, NewOrder, NODE_ORDER};
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
    /// 1 post-only (a quote that would cross is skipped), 2 post-only-slide (it rests one tick
    /// behind the best opposite order).
    pub order_kind: u8,
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
        for slot in account.order_slots().filter(|s| kept & (1 << s) == 0).collect::<Vec<_>>() {
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

/// `cancel_all` with quotes: an order of the account moves to a quote of its side in place when
/// that keeps the book's order (`Book::requote_in_place`): the cancel and the post then cost two
/// neighbour lookups. The side's orders and quotes are paired by rank, best first when the
/// quotes improve on the orders, worst first when they retreat, so each order moves towards a
/// place its neighbour has already left. A quote that crosses, lies outside the band or fails a
/// check is left to the ordinary path (cancel, then post). The resting orders are those cancel and
/// post would leave, with one exception: when the account's own new bids and asks cross each
/// other, which side is skipped (or slides) depends on which was placed first, and moved orders
/// are placed before the rest.
fn requote_side(
    market: &Market,
    book: &mut trading::ActiveBook,
    account: &mut MarginAccount,
    owner: &Pubkey,
    side: Side,
    r: &mut Requote,
) -> Result<()> {
    let (quotes, offset) = match side {
        Side::Bid => (&r.args.bids, 0),
        Side::Ask => (&r.args.asks, r.args.bids.len()),
    };
    if quotes.is_empty() {
        return Ok(());
    }
    let owner_bytes = owner.to_bytes();
    // the account's orders on this side still at the node they were placed in
    let mut old: Vec<(Key, usize, u32)> = Vec::with_capacity(quotes.len());
    for slot in account.order_slots() {
        let o = &account.open_orders[slot];
        if o.market_index != market.index || o.side != side as u8 {
            continue;
        }
        let node = MarginAccount::order_node(o);
        let live = book.get(node).is_some_and(|n| {
            n.tag == NODE_ORDER && n.side == side as u8 && n.seq == o.seq && n.price.0 == o.price && n.owner == owner_bytes
        });
        if live {
            old.push((Key::new(side, Ticks(o.price), o.seq), slot, node));
        }
    }
    if old.is_empty() {
        return Ok(());
    }
    let mut new: Vec<(Key, usize)> =
        quotes.iter().enumerate().map(|(i, q)| (Key::new(side, Ticks(q.price), r.first_seq + (offset + i) as u64), offset + i)).collect();
    old.sort_unstable_by_key(|o| o.0);
    new.sort_unstable_by_key(|q| q.0);
    let pairs = old.len().min(new.len());
    let improving = new[0].0 < old[0].0;
    let band = market.band();
    for k in 0..pairs {
        let ((_, slot, node), (_, i)) =
            if improving { (old[k], new[k]) } else { (old[old.len() - 1 - k], new[new.len() - 1 - k]) };
        let q = if side == Side::Bid { &r.args.bids[i] } else { &r.args.asks[i - offset] };
        let (price, size) = (Ticks(q.price), Lots(q.size));
        let crosses = book.best(side.opposite()).is_some_and(|b| {
            let best = book.node(b).price;
            if side == Side::Bid { price >= best } else { price <= best }
        });
        let alive = r.args.expiry_ts == 0 || r.now_ts.is_some_and(|now| r.args.expiry_ts > now);
        let Some(value) = notional(price, size, market.tick_size) else { continue };
        if q.size == 0 || q.size < market.min_order_lots || !band.contains(price) || crosses || !alive {
            continue;
        }
        let was = *book.node(node);
        let seq = r.first_seq + i as u64;
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
        let was_value = notional(was.price, was.size, market.tick_size).ok_or(MeridianError::MathOverflow)?;
        let p = account.position_mut(r.pos_slot);
        p.remove_resting(side, was.size, was_value).ok_or(MeridianError::MathOverflow)?;
        p.add_resting(side, size, value).ok_or(MeridianError::MathOverflow)?;
        account.record_order(slot, market.index, side, price, seq, client_order_id, r.kind as u8, node);
        r.done |= 1 << i;
        r.kept |= 1 << slot;
        r.moved += 1;
        r.lots = r.lots.saturating_add(q.size);
    }
    Ok(())
}

/// Cancels, posts the quotes, then checks the account's initial margin once (quotes never fill,
/// so equity is unchanged and only the requirement can have grown). The signer and writable flags
/// were checked by the entry path.
pub fn mass_quote_checked<A: AccountView>(a: &PlaceAccounts<A>, args: &MassQuoteArgs) -> Result<MassQuoteResult> {
    let exchange_key = a.exchange.address();
    let exchange = load::<Exchange, A>(a.exchange)?;
    let mut market = load_mut::<Market, A>(a.market)?;
    require_keys_eq!(market.exchange, *exchange_key, MeridianError::WrongExchange);
    require_keys_eq!(market.book, *a.book.address(), MeridianError::WrongBook);
    require_keys_eq!(market.event_queue, *a.event_queue.address(), MeridianError::WrongEventQueue);
    let mut account = load_mut::<MarginAccount, A>(a.margin_account)?;
    require_keys_eq!(account.exchange, *exchange_key, MeridianError::WrongExchange);
    require!(account.may_trade(a.owner.address()), MeridianError::NotAccountOwner);
    let kind = match OrderKind::from_u8(args.order_kind) {
        Some(k) if k.is_post_only() => k,
        _ => return err!(MeridianError::InvalidOrderKind),
    };
    require!(
        args.bids.len() <= MAX_QUOTE_LEVELS && args.asks.len() <= MAX_QUOTE_LEVELS,
        MeridianError::TooManyQuotes
    );
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
            requote_side(&market, &mut book, &mut account, &owner, Side::Bid, &mut r)?;
            requote_side(&market, &mut book, &mut account, &owner, Side::Ask, &mut r)?;
        }
    }
    crate::cu_checkpoint!("mass_quote: requoted in place");
    out.cancelled = r.moved + cancel_step(&market, &mut book, &mut account, &owner, args, r.kept)?;
    crate::cu_checkpoint!("mass_quote: cancelled");
    if !quoting {
        return Ok(out);
    }

    let mut queue_data = a.event_queue.data_mut()?;
    let (qh, events) = queue_parts(&mut queue_data)?;
    let mut queue = Queue::new(qh, events).ok_or(MeridianError::InvalidEventQueue)?;
    let queued_before = queue.len();
    let pos_slot = account.position_slot(market.index, market.funding_index())?;
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
    out.posted = r.moved;
    let mut clock_read = now_ts.is_some();
    let mut posted_lots = r.lots;
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
        let value = notional(posted.price, posted.size, market.tick_size).ok_or(MeridianError::OrderValueOverflow)?;
        account.position_mut(pos_slot).add_resting(side, posted.size, value).ok_or(MeridianError::MathOverflow)?;
        account.record_order(order_slot, market.index, side, posted.price, ctx.seq, params.client_order_id, kind as u8, posted.node);
        posted_lots = posted_lots.saturating_add(posted.size.0);
        out.posted += 1;
    }
    let quoted = (args.bids.len() + args.asks.len()) as u64; // <= 2 * MAX_QUOTE_LEVELS
    market.next_order_seq = first_seq + quoted;
    // post-only quotes never fill: every event they wrote is an out (a stale order they crossed,
    // an eviction), paid for by the quoter as for a single order
    let outs = queue.len() - queued_before;
    if outs > 0 {
        trading::pay_for_outs(&mut market, &mut account, outs)?;
    }
    let p = account.position(pos_slot);
    require!(
        (args.bids.is_empty() || p.within_limits_on(Side::Bid)) && (args.asks.is_empty() || p.within_limits_on(Side::Ask)),
        MeridianError::PositionLimitExceeded
    );
    account.release_if_flat(pos_slot);
    account.last_placement = LastPlacement {
        order_seq: first_seq,
        market_index: market.index,
        posted_lots,
        ..LastPlacement::default()
    };
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
