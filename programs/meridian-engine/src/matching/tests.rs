use super::*;
use crate::band::Band;
use crate::book::{critbit::Critbit, rbtree::RedBlack, tests::Storage, Key};
use crate::events::OutReason;
use proptest::prelude::*;

const TICK: u64 = 10;
const FEES: FeeRates = FeeRates { taker_ppm: 500, maker_ppm: -100 };

fn ctx(seq: u64) -> MatchContext {
    MatchContext {
        seq,
        now_ts: 1_000,
        fees: FEES,
        tick_size: TICK,
        match_limit: 16,
        funding_index: 7,
        band: Band::OPEN,
        crank_reward: 0,
    }
}

fn params(owner: u8, side: Side, price: u64, size: u64, kind: OrderKind) -> OrderParams {
    OrderParams {
        side,
        price: Ticks(price),
        size: Lots(size),
        kind,
        self_trade: SelfTrade::CancelMaker,
        client_order_id: 77,
        expiry_ts: 0,
        owner: [owner; 32],
        owner_slot: 3,
        flags: 0,
    }
}

struct Market<T: Tree> {
    s: Storage,
    seq: u64,
    now: i64,
    events: Vec<Event>,
    _t: core::marker::PhantomData<T>,
}

impl<T: Tree> Market<T> {
    fn new(cap: u32) -> Self {
        Market { s: Storage::new::<T>(cap), seq: 0, now: 1_000, events: vec![], _t: core::marker::PhantomData }
    }
    fn place(&mut self, p: OrderParams) -> Result<PlaceResult, MatchError> {
        self.place_with(p, |c| c)
    }
    fn place_with(
        &mut self,
        p: OrderParams,
        f: impl FnOnce(MatchContext) -> MatchContext,
    ) -> Result<PlaceResult, MatchError> {
        self.seq += 1;
        let c = f(MatchContext { now_ts: self.now, ..ctx(self.seq) });
        let mut book = self.s.book::<T>();
        place(&mut book, &p, &c, &mut self.events)
    }
    fn levels(&mut self, side: Side) -> Vec<(u64, u64)> {
        let book = self.s.book::<T>();
        book.iter(side).map(|(_, n)| (n.price.0, n.size.0)).collect()
    }
}

macro_rules! for_both_trees {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            fn go<T: Tree>() {
                let f: fn(&mut Market<T>) = $body;
                f(&mut Market::<T>::new(8));
            }
            go::<RedBlack>();
            go::<Critbit>();
        }
    };
}

for_both_trees!(limit_orders_rest_and_cross_at_the_makers_price, |m| {
    m.place(params(1, Side::Ask, 105, 5, OrderKind::Limit)).unwrap();
    m.place(params(1, Side::Ask, 103, 5, OrderKind::Limit)).unwrap();
    m.place(params(2, Side::Bid, 100, 4, OrderKind::Limit)).unwrap();
    assert_eq!(m.levels(Side::Ask), [(103, 5), (105, 5)]);
    // a bid at 106 for 7 takes 5 @103 then 2 @105 (maker prices), nothing rests
    let r = m.place(params(3, Side::Bid, 106, 7, OrderKind::Limit)).unwrap();
    assert_eq!((r.filled, r.fills, r.posted), (Lots(7), 2, None));
    assert_eq!(r.filled_notional, (5 * 103 + 2 * 105) * TICK);
    assert_eq!(r.taker_fee, (r.filled_notional * 500).div_ceil(1_000_000));
    assert_eq!(r.last_fill_price, Some(Ticks(105)));
    assert_eq!(m.levels(Side::Ask), [(105, 3)]);
    let fills: Vec<_> =
        m.events.iter().map(|e| (e.kind, e.price.0, e.size.0, e.maker_out, e.maker[0], e.taker[0])).collect();
    assert_eq!(fills, [(EVENT_FILL, 103, 5, 1, 1, 3), (EVENT_FILL, 105, 2, 0, 1, 3)]);
    // maker rebate 1 bp of each fill's notional, rounded down
    assert_eq!(m.events[0].maker_fee, -((5 * 103 * TICK * 100 / 1_000_000) as i64));
    // the remainder of a partially crossing bid rests at its limit
    let r = m.place(params(3, Side::Bid, 105, 10, OrderKind::Limit)).unwrap();
    assert_eq!(r.filled, Lots(3));
    assert_eq!(r.posted.map(|p| (p.price.0, p.size.0)), Some((105, 7)));
    assert_eq!(m.levels(Side::Bid), [(105, 7), (100, 4)]);
});

for_both_trees!(post_only_rejects_and_slide_reprices, |m| {
    m.place(params(1, Side::Ask, 100, 5, OrderKind::Limit)).unwrap();
    assert_eq!(m.place(params(2, Side::Bid, 100, 1, OrderKind::PostOnly)), Err(MatchError::PostOnlyWouldCross));
    let r = m.place(params(2, Side::Bid, 99, 1, OrderKind::PostOnly)).unwrap();
    assert_eq!(r.posted.unwrap().price, Ticks(99));
    let r = m.place(params(2, Side::Bid, 130, 2, OrderKind::PostOnlySlide)).unwrap();
    assert_eq!((r.filled, r.posted.unwrap().price), (Lots(0), Ticks(99)), "slid one tick behind the ask");
    let r = m.place(params(2, Side::Ask, 50, 2, OrderKind::PostOnlySlide)).unwrap();
    assert_eq!(r.posted.unwrap().price, Ticks(100), "slid one tick behind the best bid (99)");
    // no price below one tick to slide to
    let mut m2 = Market::<RedBlack>::new(4);
    m2.place(params(1, Side::Ask, 1, 5, OrderKind::Limit)).unwrap();
    assert_eq!(m2.place(params(2, Side::Bid, 5, 1, OrderKind::PostOnlySlide)), Err(MatchError::CannotSlide));
});

for_both_trees!(ioc_fok_and_market_orders, |m| {
    m.place(params(1, Side::Bid, 100, 3, OrderKind::Limit)).unwrap();
    m.place(params(1, Side::Bid, 99, 3, OrderKind::Limit)).unwrap();
    // IOC: fills what crosses, cancels the rest
    let r = m.place(params(2, Side::Ask, 100, 5, OrderKind::ImmediateOrCancel)).unwrap();
    assert_eq!((r.filled, r.cancelled, r.posted), (Lots(3), Lots(2), None));
    // FOK: all or nothing
    assert_eq!(m.place(params(2, Side::Ask, 99, 4, OrderKind::FillOrKill)), Err(MatchError::FillOrKillNotFilled));
    assert_eq!(m.levels(Side::Bid), [(99, 3)], "a failed FOK leaves the book alone");
    let r = m.place(params(2, Side::Ask, 99, 3, OrderKind::FillOrKill)).unwrap();
    assert_eq!(r.filled, Lots(3));
    // market: worst price bounds the sweep
    m.place(params(1, Side::Ask, 110, 2, OrderKind::Limit)).unwrap();
    m.place(params(1, Side::Ask, 120, 2, OrderKind::Limit)).unwrap();
    let r = m.place(params(2, Side::Bid, 115, 10, OrderKind::Market)).unwrap();
    assert_eq!((r.filled, r.cancelled), (Lots(2), Lots(8)));
    assert_eq!(m.levels(Side::Ask), [(120, 2)]);
});

for_both_trees!(self_trade_prevention_modes, |m| {
    m.place(params(1, Side::Ask, 100, 5, OrderKind::Limit)).unwrap();
    m.place(params(2, Side::Ask, 101, 5, OrderKind::Limit)).unwrap();
    // abort
    let mut p = params(1, Side::Bid, 101, 3, OrderKind::Limit);
    p.self_trade = SelfTrade::Abort;
    assert_eq!(m.place(p), Err(MatchError::SelfTrade));
    // decrement: own 100 shrinks by 3, no fill
    p.self_trade = SelfTrade::DecrementTake;
    let r = m.place(p).unwrap();
    assert_eq!((r.filled, r.decremented, r.posted), (Lots(0), Lots(3), None));
    assert_eq!(m.levels(Side::Ask), [(100, 2), (101, 5)]);
    let e = m.events.last().unwrap();
    assert_eq!((e.kind, e.out_reason, e.size.0, e.maker_out), (EVENT_OUT, OutReason::SelfTrade as u8, 3, 0));
    // cancel-maker: own order removed, then fills the other owner's
    p.self_trade = SelfTrade::CancelMaker;
    p.size = Lots(4);
    let r = m.place(p).unwrap();
    assert_eq!((r.filled, r.filled_notional), (Lots(4), 4 * 101 * TICK));
    assert_eq!(m.levels(Side::Ask), [(101, 1)]);
    let kinds: Vec<u8> = m.events.iter().rev().take(2).map(|e| e.kind).collect();
    assert_eq!(kinds, [EVENT_FILL, EVENT_OUT]);
});

for_both_trees!(expired_orders_are_skipped_and_removed, |m| {
    let mut p = params(1, Side::Ask, 100, 5, OrderKind::Limit);
    p.expiry_ts = 1_000; // dies at t = 1000
    assert_eq!(m.place(p), Err(MatchError::AlreadyExpired), "an order dead on arrival is refused");
    m.now = 999;
    m.place(p).unwrap();
    m.place(params(1, Side::Ask, 102, 5, OrderKind::Limit)).unwrap();
    m.now = 1_000;
    let r = m.place(params(2, Side::Bid, 105, 2, OrderKind::ImmediateOrCancel)).unwrap();
    assert_eq!((r.filled, r.filled_notional), (Lots(2), 2 * 102 * TICK));
    assert_eq!(m.events[0].kind, EVENT_OUT);
    assert_eq!(m.events[0].out_reason, OutReason::Expired as u8);
    assert_eq!(m.levels(Side::Ask), [(102, 3)]);
    // a post-only at the expired price is fine: the expired order is cleared first
    let mut p = params(1, Side::Bid, 1, 5, OrderKind::Limit);
    p.expiry_ts = 1_001;
    m.place(p).unwrap();
    m.now = 1_001;
    let r = m.place(params(2, Side::Ask, 1, 1, OrderKind::PostOnly)).unwrap();
    assert!(r.posted.is_some());
});

#[test]
fn full_book_evicts_the_worst_or_refuses() {
    fn go<T: Tree>() {
        let mut m = Market::<T>::new(3);
        for price in [100, 99, 98] {
            m.place(params(1, Side::Bid, price, 1, OrderKind::Limit)).unwrap();
        }
        // not better than the worst (98): refused, nothing changes
        assert_eq!(m.place(params(2, Side::Bid, 98, 1, OrderKind::Limit)), Err(MatchError::BookFull));
        assert_eq!(m.place(params(2, Side::Bid, 97, 1, OrderKind::Limit)), Err(MatchError::BookFull));
        // better: evicts 98 with an Out event
        m.place(params(2, Side::Bid, 101, 1, OrderKind::Limit)).unwrap();
        assert_eq!(m.levels(Side::Bid), [(101, 1), (100, 1), (99, 1)]);
        let e = m.events.last().unwrap();
        assert_eq!((e.kind, e.out_reason, e.price.0), (EVENT_OUT, OutReason::Evicted as u8, 98));
        // the other side has its own capacity
        m.place(params(3, Side::Ask, 200, 1, OrderKind::Limit)).unwrap();
    }
    go::<RedBlack>();
    go::<Critbit>();
}

#[test]
fn match_limit_bounds_work_and_never_leaves_a_crossed_book() {
    let mut m = Market::<RedBlack>::new(32);
    for i in 0..20 {
        m.place(params(1, Side::Ask, 100 + i, 1, OrderKind::Limit)).unwrap();
    }
    let r = m.place_with(params(2, Side::Bid, 200, 50, OrderKind::Limit), |mut c| {
        c.match_limit = 5;
        c
    });
    let r = r.unwrap();
    assert_eq!((r.fills, r.filled, r.cancelled, r.posted), (5, Lots(5), Lots(45), None));
    assert_eq!(m.levels(Side::Ask).first(), Some(&(105, 1)));
}

#[test]
fn time_is_needed_only_to_meet_makers_expire_or_evict() {
    let mut m = Market::<RedBlack>::new(2);
    m.place(params(1, Side::Ask, 100, 1, OrderKind::Limit)).unwrap();
    let book = m.s.book::<RedBlack>();
    assert!(!needs_time(&book, &params(2, Side::Bid, 99, 1, OrderKind::Limit)), "a resting bid");
    assert!(needs_time(&book, &params(2, Side::Bid, 100, 1, OrderKind::Limit)), "crosses the ask");
    assert!(needs_time(&book, &params(2, Side::Bid, 100, 1, OrderKind::PostOnly)), "post-only checks the ask's expiry");
    let mut expiring = params(2, Side::Bid, 99, 1, OrderKind::Limit);
    expiring.expiry_ts = 5_000;
    assert!(needs_time(&book, &expiring));
    m.place(params(1, Side::Ask, 101, 1, OrderKind::Limit)).unwrap();
    let book = m.s.book::<RedBlack>();
    assert!(needs_time(&book, &params(2, Side::Ask, 150, 1, OrderKind::Limit)), "full side: may evict");
}

fn banded(lo: u64, hi: u64) -> impl FnOnce(MatchContext) -> MatchContext {
    move |c| MatchContext { band: Band { low: Ticks(lo), high: Ticks(hi), reference: Ticks((lo + hi) / 2) }, ..c }
}

for_both_trees!(the_band_bounds_prices_and_fills, |m| {
    // outside the band: refused, whatever the kind (but a market order, whose worst price is capped)
    for kind in [OrderKind::Limit, OrderKind::PostOnly, OrderKind::ImmediateOrCancel, OrderKind::FillOrKill] {
        assert_eq!(m.place_with(params(1, Side::Bid, 111, 1, kind), banded(90, 110)), Err(MatchError::OutsideBand));
        assert_eq!(m.place_with(params(1, Side::Ask, 89, 1, kind), banded(90, 110)), Err(MatchError::OutsideBand));
    }
    assert!(m.events.is_empty() && m.levels(Side::Bid).is_empty());
    // asks rest at 95 and 100 while the band is 90..110; then the reference moves up: 98..118
    m.place_with(params(1, Side::Ask, 95, 2, OrderKind::Limit), banded(90, 110)).unwrap();
    m.place_with(params(1, Side::Ask, 100, 2, OrderKind::Limit), banded(90, 110)).unwrap();
    m.place_with(params(1, Side::Ask, 117, 2, OrderKind::Limit), banded(98, 118)).unwrap();
    // a market bid with no worst price sweeps up to the band's top only; the stale ask at 95 (below
    // the band now) is removed, not filled
    let r = m.place_with(params(2, Side::Bid, u64::MAX, 10, OrderKind::Market), banded(98, 116)).unwrap();
    assert_eq!((r.filled, r.filled_notional, r.cancelled), (Lots(2), 2 * 100 * TICK, Lots(8)));
    let out = m.events[0];
    assert_eq!((out.kind, out.out_reason, out.price.0, out.maker_out), (EVENT_OUT, OutReason::OutOfBand as u8, 95, 1));
    assert_eq!(m.levels(Side::Ask), [(117, 2)], "above the band's top: not reached");
    // a market ask's worst price is raised to the band's bottom
    m.place_with(params(1, Side::Bid, 99, 1, OrderKind::Limit), banded(98, 118)).unwrap();
    m.place_with(params(1, Side::Bid, 98, 1, OrderKind::Limit), banded(98, 118)).unwrap();
    let r = m.place_with(params(2, Side::Ask, 1, 5, OrderKind::Market), banded(99, 119)).unwrap();
    assert_eq!(r.filled, Lots(1), "the bid at 98 is below the band: out, not filled");
    // a post-only bid that would slide below the band is refused
    let mut m2 = Market::<RedBlack>::new(4);
    m2.place_with(params(1, Side::Ask, 100, 1, OrderKind::Limit), banded(90, 110)).unwrap();
    assert_eq!(
        m2.place_with(params(2, Side::Bid, 105, 1, OrderKind::PostOnlySlide), banded(100, 120)),
        Err(MatchError::OutsideBand)
    );
    // a post-only bid crossing only a stale ask clears it and rests
    let r = m2.place_with(params(2, Side::Bid, 105, 1, OrderKind::PostOnly), banded(101, 120)).unwrap();
    assert_eq!(r.posted.map(|p| p.price), Some(Ticks(105)));
    assert_eq!(m2.events.last().map(|e| e.out_reason), Some(OutReason::OutOfBand as u8));
});

#[test]
fn post_only_sweeps_at_most_the_match_limit() {
    let mut m = Market::<RedBlack>::new(64);
    let mut p = params(1, Side::Ask, 0, 1, OrderKind::Limit);
    p.expiry_ts = 1_001;
    for price in 100..140 {
        m.place(OrderParams { price: Ticks(price), ..p }).unwrap();
    }
    m.now = 2_000;
    let limit = |mut c: MatchContext| {
        c.match_limit = 8;
        c
    };
    // 8 expired asks under a post-only bid at 107: all cleared, it rests
    let r = m.place_with(params(2, Side::Bid, 107, 1, OrderKind::PostOnly), limit).unwrap();
    assert_eq!((r.events, r.posted.map(|p| p.price)), (8, Some(Ticks(107))));
    // 32 under one at 200: 8 are cleared, the ninth still counts as crossing (the program reverts
    // the failed placement; this model keeps the sweep)
    assert_eq!(
        m.place_with(params(2, Side::Bid, 200, 1, OrderKind::PostOnly), limit),
        Err(MatchError::PostOnlyWouldCross)
    );
    assert_eq!(m.events.len(), 16);
    assert_eq!(m.levels(Side::Ask).first(), Some(&(116, 1)));
}

#[test]
fn fill_or_kill_with_decrement_fills_all_or_nothing() {
    let mut m = Market::<RedBlack>::new(8);
    m.place(params(1, Side::Ask, 100, 3, OrderKind::Limit)).unwrap();
    m.place(params(2, Side::Ask, 101, 3, OrderKind::Limit)).unwrap();
    m.place(params(3, Side::Ask, 102, 3, OrderKind::Limit)).unwrap();
    let mut p = params(2, Side::Bid, 102, 5, OrderKind::FillOrKill);
    // owner 2 meets its own ask at 101 after 3 lots: decrementing would leave it short of 5
    p.self_trade = SelfTrade::DecrementTake;
    assert_eq!(m.place(p), Err(MatchError::FillOrKillNotFilled));
    // cancel-maker removes its own and fills 3 + 2 elsewhere
    p.self_trade = SelfTrade::CancelMaker;
    assert_eq!(m.place(p).unwrap().filled, Lots(5));
    // enough before its own order: decrement never happens
    let mut m = Market::<RedBlack>::new(8);
    m.place(params(1, Side::Ask, 100, 5, OrderKind::Limit)).unwrap();
    m.place(params(2, Side::Ask, 101, 5, OrderKind::Limit)).unwrap();
    let mut p = params(2, Side::Bid, 101, 5, OrderKind::FillOrKill);
    p.self_trade = SelfTrade::DecrementTake;
    assert_eq!(m.place(p).unwrap().filled, Lots(5));
}

#[test]
fn crank_rewards_only_for_fills_whose_fee_pays_them() {
    let mut m = Market::<RedBlack>::new(8);
    let mut expiring = params(1, Side::Ask, 100, 1, OrderKind::Limit);
    expiring.expiry_ts = 1_001;
    m.place(expiring).unwrap();
    m.place(params(1, Side::Ask, 100, 1, OrderKind::Limit)).unwrap();
    m.place(params(1, Side::Ask, 101, 100, OrderKind::Limit)).unwrap();
    m.now = 1_001;
    // 1 lot at 100: notional 1,000, taker 5 bp = 0 (rounded down), rebate 0: pays no reward;
    // 99 lots at 101: notional 99,990, taker share 49 less the rebate of 9 (1 bp, rounded down) = 40
    let reward = |r: u64| move |c: MatchContext| MatchContext { crank_reward: r, ..c };
    let r = m.place_with(params(2, Side::Bid, 101, 100, OrderKind::ImmediateOrCancel), reward(40)).unwrap();
    let flags: Vec<_> = m.events.iter().map(|e| (e.kind, e.rewarded)).collect();
    assert_eq!(
        flags,
        [(EVENT_OUT, 1), (EVENT_FILL, 0), (EVENT_FILL, 1)],
        "expired: paid by the placement; small fill: unpaid"
    );
    assert_eq!((r.events, r.rewarded, r.outs()), (3, 1, 1));
    let share = 99 * 101 * TICK * 500 / 1_000_000 - 99 * 101 * TICK * 100 / 1_000_000;
    assert_eq!(share, 40);
    m.place(params(1, Side::Ask, 101, 100, OrderKind::Limit)).unwrap();
    let r = m.place_with(params(2, Side::Bid, 101, 99, OrderKind::ImmediateOrCancel), reward(41)).unwrap();
    assert_eq!(r.rewarded, 0, "40 does not pay 41");
}

#[test]
fn fees_round_toward_the_protocol() {
    let f = FeeRates { taker_ppm: 300, maker_ppm: -50 };
    assert_eq!(f.taker_fee(1), Some(1));
    assert_eq!(f.taker_fee(10_000), Some(3));
    assert_eq!(f.maker_fee(19_999), Some(0), "a rebate rounds down");
    assert_eq!(f.maker_fee(20_000), Some(-1));
    let f = FeeRates { taker_ppm: 0, maker_ppm: 50 };
    assert_eq!(f.maker_fee(1), Some(1), "a maker fee rounds up");
    assert_eq!(f.taker_fee(u64::MAX), Some(0));
}

// ------------------------------------------------------------------------------------- properties

#[derive(Clone, Debug)]
struct Action {
    owner: u8,
    bid: bool,
    price: u64,
    size: u64,
    kind: u8,
    stp: u8,
    expired: bool,
    /// The band's centre this action (half width 8 ticks).
    reference: u64,
}

fn action() -> impl Strategy<Value = Action> {
    (0u8..3, any::<bool>(), 90u64..110, 1u64..20, 0u8..6, 0u8..3, prop::bool::weighted(0.1), 92u64..108).prop_map(
        |(owner, bid, price, size, kind, stp, expired, reference)| Action {
            owner,
            bid,
            price,
            size,
            kind,
            stp,
            expired,
            reference,
        },
    )
}

fn total_size(m: &mut Market<impl Tree>, side: Side) -> u64 {
    m.levels(side).iter().map(|(_, s)| s).sum()
}

fn run<T: Tree>(actions: &[Action]) {
    let mut m = Market::<T>::new(12);
    for a in actions {
        let side = if a.bid { Side::Bid } else { Side::Ask };
        let mut p = params(a.owner, side, a.price, a.size, OrderKind::from_u8(a.kind).unwrap());
        p.self_trade = SelfTrade::from_u8(a.stp).unwrap();
        m.now += 1;
        if a.expired {
            p.expiry_ts = m.now + 2; // rests (when it may), dead two actions later
        }
        let before = (total_size(&mut m, Side::Bid), total_size(&mut m, Side::Ask));
        let events_before = m.events.len();
        let snapshot = (m.s.header, m.s.nodes.clone());
        let band = Band::around(Ticks(a.reference), 8);
        match m.place_with(p, |c| MatchContext { band, ..c }) {
            Err(_) => {
                // a failed placement is reverted by the runtime; model that, and the book must
                // not have lost track of anything the caller could not undo
                m.s.header = snapshot.0;
                m.s.nodes = snapshot.1;
                m.events.truncate(events_before);
                continue;
            }
            Ok(r) => {
                let new_events = m.events[events_before..].to_vec();
                // sizes are conserved: taker size = filled + decremented + cancelled + posted
                let posted = r.posted.map_or(0, |p| p.size.0);
                assert_eq!(a.size, r.filled.0 + r.decremented.0 + r.cancelled.0 + posted);
                // makers lose exactly what the events say
                let maker_removed: u64 = new_events.iter().map(|e| e.size.0).sum();
                let (bids, asks) = (total_size(&mut m, Side::Bid), total_size(&mut m, Side::Ask));
                let (own_before, opp_before, own_after, opp_after) = match side {
                    Side::Bid => (before.0, before.1, bids, asks),
                    Side::Ask => (before.1, before.0, asks, bids),
                };
                let evicted: u64 =
                    new_events.iter().filter(|e| e.out_reason == OutReason::Evicted as u8).map(|e| e.size.0).sum();
                assert_eq!(opp_before - (maker_removed - evicted), opp_after);
                assert_eq!(own_before + posted - evicted, own_after);
                // fills: quote conserved and in priority order
                let fills: Vec<&Event> = new_events.iter().filter(|e| e.kind == EVENT_FILL).collect();
                assert_eq!(fills.iter().map(|e| e.size.0).sum::<u64>(), r.filled.0);
                assert_eq!(fills.iter().map(|e| e.price.0 * e.size.0 * TICK).sum::<u64>(), r.filled_notional);
                let keys: Vec<Key> =
                    fills.iter().map(|e| Key::new(side.opposite(), e.price, e.maker_order_seq)).collect();
                assert!(keys.windows(2).all(|w| w[0] < w[1]), "fills out of priority order");
                if let Some(posted) = r.posted {
                    assert!(band.contains(posted.price), "rested outside the band");
                }
                for f in &fills {
                    assert!(band.contains(f.price), "filled outside the band");
                    assert!(crosses(side, p.price, f.price), "filled beyond the limit price");
                    assert_ne!(f.maker, p.owner, "self-trade filled");
                }
            }
        }
        // never crossed, and each side stays within capacity
        let (bb, ba) = (m.levels(Side::Bid).first().copied(), m.levels(Side::Ask).first().copied());
        if let (Some((b, _)), Some((a, _))) = (bb, ba) {
            assert!(b < a, "crossed book: bid {b} >= ask {a}");
        }
        let book = m.s.book::<T>();
        assert!(book.len(Side::Bid) <= 12 && book.len(Side::Ask) <= 12);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn matching_invariants_red_black(actions in prop::collection::vec(action(), 1..120)) {
        run::<RedBlack>(&actions);
    }

    #[test]
    fn matching_invariants_critbit(actions in prop::collection::vec(action(), 1..120)) {
        run::<Critbit>(&actions);
    }
}

// A cancel uses the node hint when it still holds the order, searches when it does not (another
// order's node, out of range, none), and never removes someone else's order.
for_both_trees!(cancel_uses_a_valid_hint_and_searches_otherwise, |m| {
    let posted = |r: PlaceResult| r.posted.unwrap().node;
    let a = posted(m.place(params(1, Side::Bid, 100, 1, OrderKind::Limit)).unwrap());
    let b = posted(m.place(params(1, Side::Bid, 99, 1, OrderKind::Limit)).unwrap());
    let c = posted(m.place(params(2, Side::Bid, 98, 1, OrderKind::Limit)).unwrap());
    let mut book = m.s.book::<T>();
    // b's order with a's node as hint: found by the search
    assert_eq!(cancel(&mut book, Side::Bid, Ticks(99), 2, &[1; 32], Some(a)).map(|n| n.seq), Some(2));
    // a's order with its own node, and the other orders' nodes unchanged by that removal
    assert_eq!(book.node(c).seq, 3);
    assert_eq!(cancel(&mut book, Side::Bid, Ticks(100), 1, &[1; 32], Some(a)).map(|n| n.seq), Some(1));
    // c's order: a hint out of range, then the wrong owner (nothing removed)
    assert_eq!(cancel(&mut book, Side::Bid, Ticks(98), 3, &[1; 32], Some(u32::MAX)), None);
    assert_eq!(cancel(&mut book, Side::Bid, Ticks(98), 3, &[2; 32], Some(u32::MAX)).map(|n| n.seq), Some(3));
    assert_eq!(cancel(&mut book, Side::Bid, Ticks(98), 3, &[2; 32], None), None, "gone");
    let _ = b;
});
