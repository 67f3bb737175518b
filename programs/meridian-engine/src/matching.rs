//! Deterministic matching: the outcome of an order is a function of the book and the order alone.
//!
//! A taker crosses at placement in price-time priority at each maker's price. Makers are not
//! present in the transaction, so every maker touched gets an [`Event`]; the taker's side is
//! returned in [`PlaceResult`] for the caller to apply at once.
//!
//! Policies (documented in docs/trading.md):
//! - **Price band** (`band`): an order's limit price must lie within the band around the market's
//!   reference price (a market order's worst price is capped by it); a maker whose price the band
//!   has left behind is removed when met (an `Out` event, `OutOfBand`) and skipped, so every fill
//!   is within the band.
//! - **Expired makers** met while matching are removed (an `Out` event) and skipped.
//! - **Full book**: an order that would rest on a full side evicts the side's worst order (an
//!   `Out` event) if it has strictly better priority; otherwise placement fails with `BookFull`.
//! - **Match limit**: at most `match_limit` makers are touched per placement (bounds compute). A
//!   limit order still crossing when the limit is hit does not rest (the book is never crossed):
//!   its remainder is cancelled.
//! - **Self-trade prevention** when the taker meets its own order: `CancelMaker` removes the maker
//!   order and continues, `DecrementTake` shrinks both sides by the overlap without a fill,
//!   `Abort` fails the placement. Fill-or-kill counts what "decrement both" would shrink as not
//!   filled: such an order fills completely or not at all.
//! - **Crank rewards**: a fill event is marked `rewarded` when its taker fee (rounded down), less
//!   its maker's rebate, covers the crank's reward; an out event always is, and the placement that
//!   wrote it pays that reward (the program charges it): nobody else pays for the events it causes.

use crate::band::Band;
use crate::book::{Book, Key, NewOrder, Node, Tree, NODE_ORDER};
use crate::events::{Event, OutReason, QueueFull, EVENT_FILL, EVENT_OUT};
use crate::units::{notional, Lots, Side, Ticks};

#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderKind {
    /// Match what crosses, rest the remainder.
    Limit = 0,
    /// Rest only; fails if it would cross.
    PostOnly = 1,
    /// Rest only; if it would cross, re-priced one tick behind the best opposite order.
    PostOnlySlide = 2,
    /// Match what crosses, cancel the remainder.
    ImmediateOrCancel = 3,
    /// Match the whole size or fail.
    FillOrKill = 4,
    /// Like IOC; `price` is the worst acceptable price.
    Market = 5,
}

impl OrderKind {
    pub fn from_u8(v: u8) -> Option<OrderKind> {
        Some(match v {
            0 => OrderKind::Limit,
            1 => OrderKind::PostOnly,
            2 => OrderKind::PostOnlySlide,
            3 => OrderKind::ImmediateOrCancel,
            4 => OrderKind::FillOrKill,
            5 => OrderKind::Market,
            _ => return None,
        })
    }

    /// Whether an order of this kind can rest on the book.
    pub fn can_rest(self) -> bool {
        matches!(self, OrderKind::Limit | OrderKind::PostOnly | OrderKind::PostOnlySlide)
    }

    pub fn is_post_only(self) -> bool {
        matches!(self, OrderKind::PostOnly | OrderKind::PostOnlySlide)
    }
}

#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTrade {
    CancelMaker = 0,
    DecrementTake = 1,
    Abort = 2,
}

impl SelfTrade {
    pub fn from_u8(v: u8) -> Option<SelfTrade> {
        Some(match v {
            0 => SelfTrade::CancelMaker,
            1 => SelfTrade::DecrementTake,
            2 => SelfTrade::Abort,
            _ => return None,
        })
    }
}

/// Fee rates in parts per million of notional (100 ppm = 1 bp). A negative maker rate is a rebate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeeRates {
    pub taker_ppm: u32,
    pub maker_ppm: i32,
}

impl FeeRates {
    /// Taker fee on `notional`, rounded up (toward the protocol).
    pub fn taker_fee(&self, notional: u64) -> Option<u64> {
        crate::fixed::mul_div_u64(notional, self.taker_ppm as u64, 1_000_000, crate::Rounding::Up)
    }

    /// Maker fee on `notional` (negative = rebate); a fee rounds up, a rebate rounds down.
    pub fn maker_fee(&self, notional: u64) -> Option<i64> {
        let rate = self.maker_ppm.unsigned_abs() as u64;
        if self.maker_ppm >= 0 {
            crate::fixed::mul_div_u64(notional, rate, 1_000_000, crate::Rounding::Up)
                .and_then(|f| i64::try_from(f).ok())
        } else {
            crate::fixed::mul_div_u64(notional, rate, 1_000_000, crate::Rounding::Down)
                .and_then(|f| i64::try_from(f).ok())
                .map(|f| -f)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderParams {
    pub side: Side,
    /// Limit price; for `Market`, the worst acceptable price.
    pub price: Ticks,
    pub size: Lots,
    pub kind: OrderKind,
    pub self_trade: SelfTrade,
    pub client_order_id: u64,
    /// Unix time after which a resting order is dead (0 = good till cancelled).
    pub expiry_ts: i64,
    pub owner: [u8; 32],
    /// Index reserved in the owner's open-order list, should the order rest.
    pub owner_slot: u8,
    pub flags: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchContext {
    /// The order's sequence number (unique and increasing per market).
    pub seq: u64,
    pub now_ts: i64,
    pub fees: FeeRates,
    /// Quote units per lot per tick.
    pub tick_size: u64,
    /// Most makers one placement may touch.
    pub match_limit: u32,
    /// The market's funding index now (recorded in fill events).
    pub funding_index: i128,
    /// Where orders may be priced and fills happen (`band`).
    pub band: Band,
    /// The crank's reward per event: a fill event is marked rewarded when its own taker fee, less
    /// its maker's rebate, pays for it; an out event always is (the placement that writes it pays
    /// its reward: see [`PlaceResult::outs`]).
    pub crank_reward: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Posted {
    pub node: u32,
    pub price: Ticks,
    pub size: Lots,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlaceResult {
    /// Base lots the taker bought or sold.
    pub filled: Lots,
    /// Quote value of those fills (sum of maker price x lots x tick size).
    pub filled_notional: u64,
    pub taker_fee: u64,
    /// Sum of the makers' fees (negative = rebates owed to makers).
    pub maker_fees: i64,
    pub fills: u32,
    pub last_fill_price: Option<Ticks>,
    /// Taker size removed by self-trade `DecrementTake` (neither filled nor resting).
    pub decremented: Lots,
    /// Remainder neither filled nor rested (IOC, market, FOK never, or the match limit).
    pub cancelled: Lots,
    pub posted: Option<Posted>,
    /// Events written (fills + outs).
    pub events: u32,
    /// Fill events whose crank reward this placement's taker fee funds (`Event::rewarded`).
    pub rewarded: u32,
}

impl PlaceResult {
    /// Out events written (expired, out-of-band, self-trade, evicted): the placement pays their
    /// crank rewards itself.
    pub fn outs(&self) -> u32 {
        self.events - self.fills
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchError {
    /// The order's expiry time has already passed.
    AlreadyExpired,
    PostOnlyWouldCross,
    FillOrKillNotFilled,
    SelfTrade,
    BookFull,
    EventQueueFull,
    /// A post-only-slide order cannot move one tick behind the best opposite price.
    CannotSlide,
    /// The limit price (or the price a post-only order slides to) is outside the band.
    OutsideBand,
    Overflow,
    Book(crate::book::BookError),
}

impl From<QueueFull> for MatchError {
    fn from(_: QueueFull) -> Self {
        MatchError::EventQueueFull
    }
}

impl From<crate::book::BookError> for MatchError {
    fn from(e: crate::book::BookError) -> Self {
        MatchError::Book(e)
    }
}

/// Where events go (the market's event queue on-chain; a Vec in tests).
pub trait EventSink {
    fn push(&mut self, event: Event) -> Result<(), QueueFull>;
}

impl EventSink for crate::events::EventQueue<'_> {
    fn push(&mut self, event: Event) -> Result<(), QueueFull> {
        crate::events::EventQueue::push(self, event).map(|_| ())
    }
}

impl EventSink for Vec<Event> {
    fn push(&mut self, event: Event) -> Result<(), QueueFull> {
        Vec::push(self, event);
        Ok(())
    }
}

#[inline(always)]
fn crosses(side: Side, limit: Ticks, maker_price: Ticks) -> bool {
    match side {
        Side::Bid => maker_price <= limit,
        Side::Ask => maker_price >= limit,
    }
}

#[inline(always)]
fn expired(node: &Node, now: i64) -> bool {
    node.expiry_ts != 0 && node.expiry_ts <= now
}

/// An out event; the placement that writes it pays its crank reward (`rewarded`).
fn out_event(node: &Node, side: Side, reason: OutReason, size: Lots, maker_out: bool, ctx: &MatchContext) -> Event {
    out_event_at(node, side, reason, size, maker_out, ctx.now_ts, ctx.crank_reward)
}

/// [`out_event`] at a time and crank reward given directly (a batch market's placement).
#[inline(always)]
pub(crate) fn out_event_at(
    node: &Node,
    side: Side,
    reason: OutReason,
    size: Lots,
    maker_out: bool,
    now_ts: i64,
    crank_reward: u64,
) -> Event {
    Event {
        kind: EVENT_OUT,
        side: side as u8,
        maker_slot: node.owner_slot,
        out_reason: reason as u8,
        maker_out: maker_out as u8,
        rewarded: (crank_reward > 0) as u8,
        timestamp: now_ts,
        maker: node.owner,
        maker_order_seq: node.seq,
        maker_client_order_id: node.client_order_id,
        price: node.price,
        size,
        ..Event::default()
    }
}

/// Removes an order that leaves without its owner (expiry, eviction, self-trade) and records why.
fn remove_out<T: Tree, S: EventSink>(
    book: &mut Book<T>,
    side: Side,
    index: u32,
    reason: OutReason,
    ctx: &MatchContext,
    sink: &mut S,
) -> Result<(), MatchError> {
    let node = book.remove(side, index);
    sink.push(out_event(&node, side, reason, node.size, true, ctx))?;
    Ok(())
}

/// Whether placing `p` can depend on the time: it carries an expiry, it crosses the best opposite
/// order (whose expiry must be checked, and whose events are timestamped), or its side is full
/// (an eviction is an event). When false, `MatchContext::now_ts` is not read and may be 0: a
/// plain resting quote needs no clock.
pub fn needs_time<T: Tree>(book: &Book<T>, p: &OrderParams) -> bool {
    p.expiry_ts != 0
        || book.is_full(p.side)
        || book.best(p.side.opposite()).is_some_and(|b| crosses(p.side, p.price, book.node(b).price))
}

/// Why a resting order met by a taker leaves instead of trading: expired, or priced outside the
/// band now (a fill there would be outside the band).
#[inline(always)]
fn stale(node: &Node, ctx: &MatchContext) -> Option<OutReason> {
    if expired(node, ctx.now_ts) {
        Some(OutReason::Expired)
    } else if !ctx.band.contains(node.price) {
        Some(OutReason::OutOfBand)
    } else {
        None
    }
}

/// The price the order works at: a market order's worst acceptable price is capped by the band on
/// its aggressive side; any other order must be priced within the band.
fn working_price(p: &OrderParams, band: &Band) -> Result<Ticks, MatchError> {
    match (p.kind, p.side) {
        (OrderKind::Market, Side::Bid) => Ok(p.price.min(band.high)),
        (OrderKind::Market, Side::Ask) => Ok(if p.price < band.low { band.low } else { p.price }),
        _ if band.contains(p.price) => Ok(p.price),
        _ => Err(MatchError::OutsideBand),
    }
}

/// Whether the taker's fee on a fill worth `value`, rounded down, less the maker's rebate, pays the
/// crank's reward for its event (so the reward never comes from another trade's fee).
#[inline(always)]
fn funds_reward(value: u64, maker_fee: i64, ctx: &MatchContext) -> bool {
    if ctx.crank_reward == 0 {
        return false;
    }
    let share =
        crate::fixed::mul_div_u64(value, ctx.fees.taker_ppm as u64, 1_000_000, crate::Rounding::Down).unwrap_or(0);
    let rebate = if maker_fee < 0 { maker_fee.unsigned_abs() } else { 0 };
    share.saturating_sub(rebate) >= ctx.crank_reward
}

/// Places an order: matches what crosses, rests what may rest. See the module docs for policies.
pub fn place<T: Tree, S: EventSink>(
    book: &mut Book<T>,
    p: &OrderParams,
    ctx: &MatchContext,
    sink: &mut S,
) -> Result<PlaceResult, MatchError> {
    let opp = p.side.opposite();
    let mut r = PlaceResult::default();
    let mut price = working_price(p, &ctx.band)?;
    let mut remaining = p.size;
    let mut touched = 0u32;
    let mut stopped_crossing = false;
    if p.expiry_ts != 0 && p.expiry_ts <= ctx.now_ts {
        return Err(MatchError::AlreadyExpired);
    }

    if p.kind.is_post_only() {
        // expired or out-of-band orders it would cross do not count: clear them first (at most
        // `match_limit`, so the sweep's cost is bounded; one left over counts as crossing)
        while let Some(best) = book.best(opp) {
            let node = book.node(best);
            let Some(reason) = crosses(p.side, price, node.price).then(|| stale(node, ctx)).flatten() else { break };
            if touched >= ctx.match_limit {
                break;
            }
            touched += 1;
            remove_out(book, opp, best, reason, ctx, sink)?;
            r.events += 1;
        }
        if let Some(best) = book.best(opp) {
            let best_price = book.node(best).price;
            if crosses(p.side, price, best_price) {
                if p.kind == OrderKind::PostOnly {
                    return Err(MatchError::PostOnlyWouldCross);
                }
                price = match p.side {
                    Side::Bid => best_price.checked_sub(Ticks(1)).filter(|t| t.0 > 0),
                    Side::Ask => best_price.checked_add(Ticks(1)),
                }
                .ok_or(MatchError::CannotSlide)?;
                if !ctx.band.contains(price) {
                    return Err(MatchError::OutsideBand);
                }
            }
        }
    } else {
        if p.kind == OrderKind::FillOrKill && fillable(book, p, ctx) < p.size {
            return Err(MatchError::FillOrKillNotFilled);
        }
        while !remaining.is_zero() {
            let Some(m) = book.best(opp) else { break };
            let maker = *book.node(m);
            if !crosses(p.side, price, maker.price) {
                break;
            }
            if touched >= ctx.match_limit {
                stopped_crossing = true;
                break;
            }
            touched += 1;
            if let Some(reason) = stale(&maker, ctx) {
                remove_out(book, opp, m, reason, ctx, sink)?;
                r.events += 1;
                continue;
            }
            if maker.owner == p.owner {
                match p.self_trade {
                    SelfTrade::Abort => return Err(MatchError::SelfTrade),
                    SelfTrade::CancelMaker => remove_out(book, opp, m, OutReason::SelfTrade, ctx, sink)?,
                    SelfTrade::DecrementTake => {
                        let d = remaining.min(maker.size);
                        remaining = remaining.saturating_sub(d);
                        r.decremented = r.decremented.checked_add(d).ok_or(MatchError::Overflow)?;
                        let gone = d == maker.size;
                        if gone {
                            book.remove(opp, m);
                        } else {
                            book.node_mut(m).size = maker.size.saturating_sub(d);
                        }
                        sink.push(out_event(&maker, opp, OutReason::SelfTrade, d, gone, ctx))?;
                    }
                }
                r.events += 1;
                continue;
            }
            let fill = remaining.min(maker.size);
            let value = notional(maker.price, fill, ctx.tick_size).ok_or(MatchError::Overflow)?;
            let maker_fee = ctx.fees.maker_fee(value).ok_or(MatchError::Overflow)?;
            let rewarded = funds_reward(value, maker_fee, ctx);
            let gone = fill == maker.size;
            if gone {
                book.remove(opp, m);
            } else {
                book.node_mut(m).size = maker.size.saturating_sub(fill);
            }
            sink.push(Event {
                kind: EVENT_FILL,
                side: p.side as u8,
                maker_slot: maker.owner_slot,
                out_reason: 0,
                maker_out: gone as u8,
                rewarded: rewarded as u8,
                timestamp: ctx.now_ts,
                maker: maker.owner,
                taker: p.owner,
                maker_order_seq: maker.seq,
                maker_client_order_id: maker.client_order_id,
                price: maker.price,
                size: fill,
                maker_fee,
                funding_index_lo: crate::units::split_u128(ctx.funding_index as u128).0,
                funding_index_hi: crate::units::split_u128(ctx.funding_index as u128).1,
                ..Event::default()
            })?;
            r.events += 1;
            r.fills += 1;
            r.rewarded += rewarded as u32;
            remaining = remaining.saturating_sub(fill);
            r.filled = r.filled.checked_add(fill).ok_or(MatchError::Overflow)?;
            r.filled_notional = r.filled_notional.checked_add(value).ok_or(MatchError::Overflow)?;
            r.maker_fees = r.maker_fees.checked_add(maker_fee).ok_or(MatchError::Overflow)?;
            r.last_fill_price = Some(maker.price);
        }
        if r.filled_notional > 0 {
            r.taker_fee = ctx.fees.taker_fee(r.filled_notional).ok_or(MatchError::Overflow)?;
        }
    }

    if remaining.is_zero() {
        return Ok(r);
    }
    if !p.kind.can_rest() || stopped_crossing {
        r.cancelled = remaining;
        return Ok(r);
    }
    if book.is_full(p.side) {
        let worst = book.worst(p.side).ok_or(MatchError::BookFull)?;
        if Key::new(p.side, price, ctx.seq) >= Key::of(book.node(worst)) {
            return Err(MatchError::BookFull);
        }
        remove_out(book, p.side, worst, OutReason::Evicted, ctx, sink)?;
        r.events += 1;
    }
    let node = book.insert(&NewOrder {
        side: p.side,
        price,
        size: remaining,
        seq: ctx.seq,
        client_order_id: p.client_order_id,
        expiry_ts: p.expiry_ts,
        owner: p.owner,
        owner_slot: p.owner_slot,
        order_kind: p.kind as u8,
        flags: p.flags,
    })?;
    r.posted = Some(Posted { node, price, size: remaining });
    Ok(r)
}

/// How much of `p` would fill now, as `place` walks the book: crossing, within the match limit,
/// live and in the band, and not the taker's own orders. Under self-trade "decrement both" the walk
/// stops at the taker's own order: from there its size would shrink, not fill (fill-or-kill's
/// pre-check; reads the book only).
pub fn fillable<T: Tree>(book: &Book<T>, p: &OrderParams, ctx: &MatchContext) -> Lots {
    let opp = p.side.opposite();
    let mut total = Lots::ZERO;
    let mut touched = 0;
    let mut at = book.best(opp);
    while let Some(i) = at {
        let n = book.node(i);
        if !crosses(p.side, p.price, n.price) || touched >= ctx.match_limit {
            break;
        }
        touched += 1;
        if stale(n, ctx).is_none() {
            if n.owner != p.owner {
                total = Lots(total.0.saturating_add(n.size.0));
                if total >= p.size {
                    break;
                }
            } else if p.self_trade == SelfTrade::DecrementTake {
                break;
            }
        }
        at = book.next(opp, i);
    }
    total
}

/// Cancels the owner's order (side, price, seq). `hint`: the node it was placed in (an order's
/// node does not change while it rests), checked and used when it still holds the order, which
/// saves the tree search. Returns the removed order.
pub fn cancel<T: Tree>(
    book: &mut Book<T>,
    side: Side,
    price: Ticks,
    seq: u64,
    owner: &[u8; 32],
    hint: Option<u32>,
) -> Option<Node> {
    let holds = |n: &Node| n.tag == NODE_ORDER && n.side == side as u8 && n.seq == seq && n.price == price;
    let i = match hint.filter(|&i| book.get(i).is_some_and(holds)) {
        Some(i) => i,
        None => book.find(side, price, seq)?,
    };
    if &book.node(i).owner != owner {
        return None;
    }
    Some(book.remove(side, i))
}

#[cfg(test)]
mod tests;
