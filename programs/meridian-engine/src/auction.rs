//! Uniform-price call auction: the clearing rule of batch markets (frequent batch auctions).
//!
//! Orders collected over one auction period are cleared together at one price. The rule, over the
//! candidate prices (every limit price in the auction, and the reference price), with `D(p)` the
//! bid lots priced at or above `p` and `S(p)` the ask lots priced at or below it:
//! 1. the largest executable volume `min(D(p), S(p))` (no trade when it is 0);
//! 2. then the smallest imbalance `|D(p) - S(p)|`;
//! 3. then market pressure: if every remaining candidate has more demand than supply, the highest of
//!    them; if every one has more supply, the lowest;
//! 4. then the one closest to the reference price (the lower of two equally close).
//!
//! Allocation: each side fills the volume in price priority (better prices fill completely first);
//! the orders of the one level where a side's volume runs out share what is left pro rata to their
//! sizes, rounded down, and the lots rounding left over go one each to the largest remainders
//! (then the larger order, then the caller's key: see [`pro_rata`]). Pro rata rather than time
//! priority at that level, because the outcome must not depend on the order in which the auction's
//! orders arrived: that is what takes the profit out of a latency race.
//!
//! Everything here depends only on the set of orders, never on the order they are given in.

use crate::band::Band;
use crate::book::{Book, NewOrder, Tree};
use crate::events::{Event, OutReason, EVENT_FILL};
use crate::matching::{EventSink, FeeRates, MatchError, OrderKind, OrderParams, Posted};
use crate::units::{notional, Lots, Side, Ticks};

/// The outcome of an auction: one price and the lots that trade at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clearing {
    pub price: Ticks,
    pub volume: Lots,
    /// `D(price)` and `S(price)`: the bid and ask lots willing to trade at the price.
    pub demand: Lots,
    pub supply: Lots,
}

/// Finds the clearing price from the auction's price levels, fed once each in ascending price
/// order (`push`): the rule of the module docs in one pass, no storage.
#[derive(Clone, Copy, Debug)]
pub struct PriceSearch {
    reference: Ticks,
    reference_seen: bool,
    /// Bid lots in the auction, and those priced below the next candidate.
    total_bid: u64,
    bids_below: u64,
    /// Ask lots priced at or below the last candidate.
    asks_upto: u64,
    last: Option<Ticks>,
    best: Option<Best>,
}

/// The candidates tied so far on volume and imbalance.
#[derive(Clone, Copy, Debug)]
struct Best {
    volume: u64,
    imbalance: u64,
    /// The lowest and highest of them: price, demand, supply.
    lowest: (Ticks, u64, u64),
    highest: (Ticks, u64, u64),
    /// The one closest to the reference: price, demand, supply, distance.
    closest: (Ticks, u64, u64, u64),
    more_demand: bool,
    more_supply: bool,
    balanced: bool,
}

impl PriceSearch {
    /// `total_bid_lots`: every bid lot of the auction (the sum the levels will bring).
    pub fn new(total_bid_lots: u64, reference: Ticks) -> Self {
        PriceSearch {
            reference,
            reference_seen: false,
            total_bid: total_bid_lots,
            bids_below: 0,
            asks_upto: 0,
            last: None,
            best: None,
        }
    }

    /// One price level: the bid and ask lots priced exactly at `price`. Prices must rise strictly
    /// from call to call; `None` when they do not or the lots do not add up to `total_bid_lots`.
    pub fn push(&mut self, price: Ticks, bid_lots: u64, ask_lots: u64) -> Option<()> {
        if self.last.is_some_and(|l| price <= l) {
            return None;
        }
        // the reference is a candidate too: between two levels, nothing is priced at it
        if !self.reference_seen && self.reference <= price {
            self.reference_seen = true;
            if self.reference < price {
                let demand = self.total_bid.checked_sub(self.bids_below)?;
                self.consider(self.reference, demand, self.asks_upto);
            }
        }
        let demand = self.total_bid.checked_sub(self.bids_below)?;
        self.asks_upto = self.asks_upto.checked_add(ask_lots)?;
        self.consider(price, demand, self.asks_upto);
        self.bids_below = self.bids_below.checked_add(bid_lots)?;
        self.last = Some(price);
        Some(())
    }

    fn consider(&mut self, price: Ticks, demand: u64, supply: u64) {
        let volume = demand.min(supply);
        let imbalance = demand.abs_diff(supply);
        let distance = price.0.abs_diff(self.reference.0);
        let fresh = Best {
            volume,
            imbalance,
            lowest: (price, demand, supply),
            highest: (price, demand, supply),
            closest: (price, demand, supply, distance),
            more_demand: demand > supply,
            more_supply: demand < supply,
            balanced: demand == supply,
        };
        let b = match &mut self.best {
            None => {
                self.best = Some(fresh);
                return;
            }
            Some(b) => b,
        };
        if (volume, core::cmp::Reverse(imbalance)) > (b.volume, core::cmp::Reverse(b.imbalance)) {
            *b = fresh;
        } else if volume == b.volume && imbalance == b.imbalance {
            // prices rise from call to call: this is the highest of the ties, and closer only when
            // strictly closer (the lower of two equally close stays)
            b.highest = (price, demand, supply);
            if distance < b.closest.3 {
                b.closest = (price, demand, supply, distance);
            }
            b.more_demand |= demand > supply;
            b.more_supply |= demand < supply;
            b.balanced |= demand == supply;
        }
    }

    /// The clearing, or `None` when nothing trades (or the levels did not add up).
    pub fn finish(self) -> Option<Clearing> {
        if self.bids_below != self.total_bid {
            return None;
        }
        let b = self.best?;
        if b.volume == 0 {
            return None;
        }
        let (price, demand, supply) = match (b.more_demand, b.more_supply, b.balanced) {
            (true, false, false) => b.highest,
            (false, true, false) => b.lowest,
            _ => (b.closest.0, b.closest.1, b.closest.2),
        };
        Some(Clearing { price, volume: Lots(b.volume), demand: Lots(demand), supply: Lots(supply) })
    }
}

/// Shares of `fill` lots among orders of one price level whose sizes add up to more than `fill`:
/// each gets `size * fill / total` rounded down, and the lots that rounding leaves (fewer than the
/// orders) go one each to the largest remainders, then the larger orders, then the smaller `key`
/// (the caller's order-independent tie break: owner, client id). `None` when `fill` is not below
/// the level's total or a sum overflows.
pub fn pro_rata<K: Ord + Copy>(fill: u64, orders: &[(u64, K)]) -> Option<Vec<u64>> {
    let total = orders.iter().try_fold(0u64, |s, o| s.checked_add(o.0))?;
    if fill >= total {
        return None;
    }
    let mut shares = Vec::with_capacity(orders.len());
    let mut rank = Vec::with_capacity(orders.len());
    let mut given = 0u64;
    for (i, &(size, key)) in orders.iter().enumerate() {
        // a 128-bit division costs ~4,500 CU on-chain: 64 bits whenever the product fits
        let (share, remainder) = match size.checked_mul(fill) {
            Some(product) => (product / total, product % total),
            None => {
                let product = size as u128 * fill as u128;
                // share <= size (fill < total), remainder < total: both fit 64 bits
                ((product / total as u128) as u64, (product % total as u128) as u64)
            }
        };
        given += share; // <= fill
        shares.push(share);
        rank.push((core::cmp::Reverse(remainder), core::cmp::Reverse(size), key, i));
    }
    let leftover = (fill - given) as usize; // < orders.len(): each floor lost less than one lot
    if leftover > 0 {
        rank.sort_unstable();
        for &(_, _, _, i) in &rank[..leftover] {
            shares[i] += 1;
        }
    }
    Some(shares)
}

/// One order of an auction, for [`clear`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionOrder<K> {
    pub price: Ticks,
    pub size: Lots,
    /// Order-independent tie break at the marginal level (and the order's identity).
    pub key: K,
}

/// The whole auction from order lists in any order: the clearing, and the lots each bid and each
/// ask fills (in the lists' order). `None` when nothing trades. The program runs the same steps
/// over its book ([`PriceSearch`] over the levels, then [`pro_rata`] at each side's marginal
/// level); clients use this for the indicative price.
pub fn clear<K: Ord + Copy>(
    bids: &[AuctionOrder<K>],
    asks: &[AuctionOrder<K>],
    reference: Ticks,
) -> Option<(Clearing, Vec<Lots>, Vec<Lots>)> {
    let mut prices: Vec<Ticks> = bids.iter().chain(asks).map(|o| o.price).collect();
    prices.sort_unstable();
    prices.dedup();
    let at = |orders: &[AuctionOrder<K>], p: Ticks| {
        orders.iter().filter(|o| o.price == p).try_fold(0u64, |s, o| s.checked_add(o.size.0))
    };
    let total_bid = bids.iter().try_fold(0u64, |s, o| s.checked_add(o.size.0))?;
    let mut search = PriceSearch::new(total_bid, reference);
    for &p in &prices {
        search.push(p, at(bids, p)?, at(asks, p)?)?;
    }
    let clearing = search.finish()?;
    let bid_fills = allocate(bids, clearing.volume.0, |a, b| b.cmp(&a))?;
    let ask_fills = allocate(asks, clearing.volume.0, |a, b| a.cmp(&b))?;
    Some((clearing, bid_fills, ask_fills))
}

/// One side's fills: `volume` lots in price priority (`better` orders prices best first), pro rata
/// at the level where they run out.
fn allocate<K: Ord + Copy>(
    orders: &[AuctionOrder<K>],
    volume: u64,
    better: impl Fn(Ticks, Ticks) -> core::cmp::Ordering,
) -> Option<Vec<Lots>> {
    let mut by_price: Vec<usize> = (0..orders.len()).collect();
    by_price.sort_by(|&a, &b| better(orders[a].price, orders[b].price));
    let mut fills = vec![Lots(0); orders.len()];
    let mut left = volume;
    let mut i = 0;
    while i < by_price.len() && left > 0 {
        let price = orders[by_price[i]].price;
        let level: Vec<usize> = by_price[i..].iter().copied().take_while(|&j| orders[j].price == price).collect();
        let total = level.iter().try_fold(0u64, |s, &j| s.checked_add(orders[j].size.0))?;
        if total <= left {
            for &j in &level {
                fills[j] = orders[j].size;
            }
            left -= total;
        } else {
            let sized: Vec<(u64, K)> = level.iter().map(|&j| (orders[j].size.0, orders[j].key)).collect();
            for (&j, share) in level.iter().zip(pro_rata(left, &sized)?) {
                fills[j] = Lots(share);
            }
            left = 0;
        }
        i += level.len();
    }
    (left == 0).then_some(fills)
}

/// What a batch market's auction works with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionContext {
    /// Orders with a smaller id are in this auction (placed before it closed).
    pub boundary_seq: u64,
    /// Orders with a smaller id rested through an earlier clearing: they trade as makers, the
    /// auction's new orders as takers.
    pub maker_below_seq: u64,
    /// The clearing's time (the fill events').
    pub now_ts: i64,
    /// When the auction closed: an order expired by then does not take part (one that expired
    /// since still does: it was live in the auction).
    pub closed_ts: i64,
    /// Orders priced outside it wait (they are not in the auction), so the price lies within it.
    pub band: Band,
    /// The reference price of the rule's last step (the market's mark).
    pub reference: Ticks,
    pub fees: FeeRates,
    pub tick_size: u64,
    pub funding_index: i128,
    /// A fill event is marked rewarded when its own fee pays this.
    pub crank_reward: u64,
}

impl AuctionContext {
    /// An order takes part: placed before the auction closed, not expired, priced within the band.
    #[inline(always)]
    fn takes_part(&self, n: &crate::book::Node) -> bool {
        n.seq < self.boundary_seq && (n.expiry_ts == 0 || n.expiry_ts > self.closed_ts) && self.band.contains(n.price)
    }

    /// The order's fee on a fill worth `value`: the maker rate (a rebate counts as 0: in an auction
    /// no taker fee is collected before it would be paid) for orders that rested through a
    /// clearing, the taker rate for the auction's new ones. Rounded up.
    fn fee(&self, seq: u64, value: u64) -> Option<u64> {
        if seq < self.maker_below_seq {
            self.fees.maker_fee(value).map(|f| f.max(0).unsigned_abs())
        } else {
            self.fees.taker_fee(value)
        }
    }
}

/// Where a batch order arrives: the time, the band, and which orders are locked in an auction
/// that has closed (ids below `locked_below_seq`; 0 when none is awaiting its clearing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub now_ts: i64,
    pub band: Band,
    pub crank_reward: u64,
    pub locked_below_seq: u64,
}

/// Which order a new one may take the place of on a full side: first a dead one (expired, or
/// priced outside the band), then the side's worst if the new one is strictly better. Never an
/// order locked in a closed auction: its outcome is fixed by the orders it closed with.
fn room<T: Tree>(book: &Book<T>, side: Side, key: crate::book::Key, a: &Arrival) -> Option<(u32, OutReason)> {
    let mut at = book.best(side);
    while let Some(i) = at {
        let n = book.node(i);
        if n.seq >= a.locked_below_seq {
            if n.expiry_ts != 0 && n.expiry_ts <= a.now_ts {
                return Some((i, OutReason::Expired));
            }
            if !a.band.contains(n.price) {
                return Some((i, OutReason::OutOfBand));
            }
        }
        at = book.next(side, i);
    }
    let worst = book.worst(side)?;
    let n = book.node(worst);
    (n.seq >= a.locked_below_seq && key < crate::book::Key::of(n)).then_some((worst, OutReason::Evicted))
}

/// Collects an order into a batch market's book: no matching (the auction's clearing does that).
/// Only limit orders, priced within the band. A full side makes room as `room` says (an `Out`
/// event, paid for by the placement as in continuous mode), or refuses (`BookFull`). Returns the
/// order as posted and the out events written.
#[inline(never)]
pub fn post<T: Tree, S: EventSink>(
    book: &mut Book<T>,
    p: &OrderParams,
    seq: u64,
    a: &Arrival,
    sink: &mut S,
) -> Result<(Posted, u32), MatchError> {
    if !a.band.contains(p.price) {
        return Err(MatchError::OutsideBand);
    }
    if p.expiry_ts != 0 && p.expiry_ts <= a.now_ts {
        return Err(MatchError::AlreadyExpired);
    }
    let mut outs = 0;
    if book.is_full(p.side) {
        let (index, reason) =
            room(book, p.side, crate::book::Key::new(p.side, p.price, seq), a).ok_or(MatchError::BookFull)?;
        let node = book.remove(p.side, index);
        sink.push(crate::matching::out_event_at(&node, p.side, reason, node.size, true, a.now_ts, a.crank_reward))?;
        outs = 1;
    }
    let node = book.insert(&NewOrder {
        side: p.side,
        price: p.price,
        size: p.size,
        seq,
        client_order_id: p.client_order_id,
        expiry_ts: p.expiry_ts,
        owner: p.owner,
        owner_slot: p.owner_slot,
        order_kind: OrderKind::Limit as u8,
        flags: p.flags,
    })?;
    Ok((Posted { node, price: p.price, size: p.size }, outs))
}

/// What a clearing of the book did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookClearing {
    pub clearing: Clearing,
    /// Fill events written (one per order that filled).
    pub fills: u32,
    /// Rewarded fill events (their own fee pays the crank).
    pub rewarded: u32,
    /// The volume's value at the clearing price.
    pub notional: u64,
}

/// An order taking part in the auction, as read from the book.
#[derive(Clone, Copy, Debug)]
struct Entry {
    node: u32,
    price: Ticks,
    size: Lots,
}

/// The orders of `side` that take part and could trade: from the best while priced at `limit` or
/// better, in priority order.
fn entries<T: Tree>(book: &Book<T>, side: Side, limit: Ticks, ctx: &AuctionContext) -> Vec<Entry> {
    // sized once: on-chain the heap is a 32 KiB bump allocator that never frees, so no doubling
    let mut out = Vec::with_capacity(book.len(side) as usize);
    let mut at = book.best(side);
    while let Some(i) = at {
        let n = book.node(i);
        let within = match side {
            Side::Bid => n.price >= limit,
            Side::Ask => n.price <= limit,
        };
        if !within {
            break;
        }
        if ctx.takes_part(n) {
            out.push(Entry { node: i, price: n.price, size: n.size });
        }
        at = book.next(side, i);
    }
    out
}

/// The best price among the orders of `side` that take part.
fn best_taking_part<T: Tree>(book: &Book<T>, side: Side, ctx: &AuctionContext) -> Option<Ticks> {
    let mut at = book.best(side);
    while let Some(i) = at {
        let n = book.node(i);
        if ctx.takes_part(n) {
            return Some(n.price);
        }
        at = book.next(side, i);
    }
    None
}

/// Price levels (price, lots) of entries in priority order.
fn levels(entries: &[Entry]) -> Option<Vec<(Ticks, u64)>> {
    let mut out: Vec<(Ticks, u64)> = Vec::with_capacity(entries.len());
    for e in entries {
        match out.last_mut() {
            Some(l) if l.0 == e.price => l.1 = l.1.checked_add(e.size.0)?,
            _ => out.push((e.price, e.size.0)),
        }
    }
    Some(out)
}

/// Clears the auction held in a batch market's book: the orders that take part
/// ([`AuctionContext::boundary_seq`], live, within the band) trade at one price by the rule of the
/// module docs; each order that fills gets a fill event at that price (the crank applies both
/// sides through the queue), leaves the book when filled completely, and the rest stays for the
/// next auction. `None` (and nothing changed) when nothing trades. A full queue fails the whole
/// clearing before the book changes.
#[inline(never)]
pub fn clear_book<T: Tree, S: EventSink>(
    book: &mut Book<T>,
    ctx: &AuctionContext,
    free_events: u32,
    sink: &mut S,
) -> Result<Option<BookClearing>, MatchError> {
    let (Some(best_bid), Some(best_ask)) =
        (best_taking_part(book, Side::Bid, ctx), best_taking_part(book, Side::Ask, ctx))
    else {
        return Ok(None);
    };
    if best_bid < best_ask {
        return Ok(None);
    }
    // only the crossed range can trade: bids down to the best ask, asks up to the best bid
    let bids = entries(book, Side::Bid, best_ask, ctx);
    let asks = entries(book, Side::Ask, best_bid, ctx);
    let (bid_levels, ask_levels) =
        (levels(&bids).ok_or(MatchError::Overflow)?, levels(&asks).ok_or(MatchError::Overflow)?);
    let total_bid = bid_levels.iter().try_fold(0u64, |s, l| s.checked_add(l.1)).ok_or(MatchError::Overflow)?;
    let mut search = PriceSearch::new(total_bid, ctx.reference);
    // ascending: bid levels come best (highest) first, ask levels best (lowest) first
    let (mut b, mut a) = (bid_levels.len(), 0);
    while b > 0 || a < ask_levels.len() {
        let bp = (b > 0).then(|| bid_levels[b - 1].0);
        let ap = ask_levels.get(a).map(|l| l.0);
        let price = match (bp, ap) {
            (Some(x), Some(y)) => x.min(y),
            (Some(x), None) => x,
            (None, Some(y)) => y,
            (None, None) => break,
        };
        let mut bid_lots = 0;
        if bp == Some(price) {
            bid_lots = bid_levels[b - 1].1;
            b -= 1;
        }
        let mut ask_lots = 0;
        if ap == Some(price) {
            ask_lots = ask_levels[a].1;
            a += 1;
        }
        search.push(price, bid_lots, ask_lots).ok_or(MatchError::Overflow)?;
    }
    let Some(clearing) = search.finish() else { return Ok(None) };
    let mut fills = Vec::with_capacity(bids.len() + asks.len());
    allocate_side(book, &bids, &bid_levels, clearing.volume.0, &mut fills)?;
    allocate_side(book, &asks, &ask_levels, clearing.volume.0, &mut fills)?;
    if fills.len() > free_events as usize {
        return Err(MatchError::EventQueueFull);
    }
    let mut r = BookClearing { clearing, fills: 0, rewarded: 0, notional: 0 };
    // a statistic: saturating (each fill's own value below is checked)
    r.notional = notional(clearing.price, clearing.volume, ctx.tick_size).unwrap_or(u64::MAX);
    for (node, side, fill) in fills {
        let value = notional(clearing.price, fill, ctx.tick_size).ok_or(MatchError::Overflow)?;
        let n = *book.node(node);
        let fee = ctx.fee(n.seq, value).ok_or(MatchError::Overflow)?;
        let rewarded = ctx.crank_reward > 0 && fee >= ctx.crank_reward;
        let gone = fill == n.size;
        if gone {
            book.remove(side, node);
        } else {
            book.node_mut(node).size = n.size.saturating_sub(fill);
        }
        sink.push(Event {
            kind: EVENT_FILL,
            // the fill's "taker side" as in continuous mode: the crank applies the opposite, the
            // order's own side, to its owner
            side: side.opposite() as u8,
            maker_slot: n.owner_slot,
            maker_out: gone as u8,
            rewarded: rewarded as u8,
            auction: 1,
            timestamp: ctx.now_ts,
            maker: n.owner,
            maker_order_seq: n.seq,
            maker_client_order_id: n.client_order_id,
            price: clearing.price,
            size: fill,
            maker_fee: i64::try_from(fee).map_err(|_| MatchError::Overflow)?,
            funding_index_lo: crate::units::split_u128(ctx.funding_index as u128).0,
            funding_index_hi: crate::units::split_u128(ctx.funding_index as u128).1,
            order_price: n.price,
            ..Event::default()
        })?;
        r.fills += 1;
        r.rewarded += rewarded as u32;
    }
    Ok(Some(r))
}

/// The marginal level's tie break, by reference to the order (small on the bump-allocated heap):
/// owner, then client order id, then order id.
#[derive(Clone, Copy)]
struct OrderKey<'n>(&'n crate::book::Node);

impl OrderKey<'_> {
    fn parts(&self) -> (&[u8; 32], u64, u64) {
        (&self.0.owner, self.0.client_order_id, self.0.seq)
    }
}

impl PartialEq for OrderKey<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.parts() == o.parts()
    }
}

impl Eq for OrderKey<'_> {}

impl PartialOrd for OrderKey<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for OrderKey<'_> {
    fn cmp(&self, o: &Self) -> core::cmp::Ordering {
        self.parts().cmp(&o.parts())
    }
}

/// One side's fills (node, side, lots): `volume` in price priority, pro rata at the level where it
/// runs out (ties by owner, client id, order id: see [`pro_rata`]).
fn allocate_side<T: Tree>(
    book: &Book<T>,
    entries: &[Entry],
    levels: &[(Ticks, u64)],
    volume: u64,
    fills: &mut Vec<(u32, Side, Lots)>,
) -> Result<(), MatchError> {
    let Some(first) = entries.first() else { return Ok(()) };
    let side = Side::from_u8(book.node(first.node).side).ok_or(MatchError::Overflow)?;
    let mut left = volume;
    let mut at = 0;
    for &(price, total) in levels {
        if left == 0 {
            break;
        }
        let level = &entries[at..at + entries[at..].iter().take_while(|e| e.price == price).count()];
        at += level.len();
        if total <= left {
            fills.extend(level.iter().map(|e| (e.node, side, e.size)));
            left -= total;
        } else {
            let keyed: Vec<(u64, OrderKey)> = level.iter().map(|e| (e.size.0, OrderKey(book.node(e.node)))).collect();
            let shares = pro_rata(left, &keyed).ok_or(MatchError::Overflow)?;
            fills.extend(level.iter().zip(shares).filter(|(_, s)| *s > 0).map(|(e, s)| (e.node, side, Lots(s))));
            left = 0;
        }
    }
    if left != 0 {
        return Err(MatchError::Overflow); // the search found this volume on this side
    }
    Ok(())
}

#[cfg(test)]
mod tests;
