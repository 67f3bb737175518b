use super::*;
use proptest::prelude::*;

fn o(price: u64, size: u64, key: u32) -> AuctionOrder<u32> {
    AuctionOrder { price: Ticks(price), size: Lots(size), key }
}

fn lots(v: &[u64]) -> Vec<Lots> {
    v.iter().map(|&l| Lots(l)).collect()
}

/// docs/trading.md's worked example: volume ties at 101 and 102 with demand above supply at both, so
/// market pressure picks the higher.
#[test]
fn worked_example_market_pressure() {
    let bids = [o(103, 5, 1), o(102, 10, 2), o(100, 5, 3)];
    let asks = [o(99, 8, 4), o(101, 6, 5), o(104, 10, 6)];
    let (c, b, a) = clear(&bids, &asks, Ticks(101)).unwrap();
    assert_eq!(c, Clearing { price: Ticks(102), volume: Lots(14), demand: Lots(15), supply: Lots(14) });
    assert_eq!(b, lots(&[5, 9, 0]));
    assert_eq!(a, lots(&[8, 6, 0]));
}

/// Balanced at every candidate: the reference (not a limit price) is the closest, and wins.
#[test]
fn reference_breaks_a_balanced_tie() {
    let (c, b, a) = clear(&[o(102, 10, 1)], &[o(100, 10, 2)], Ticks(101)).unwrap();
    assert_eq!((c.price, c.volume), (Ticks(101), Lots(10)));
    assert_eq!((b, a), (lots(&[10]), lots(&[10])));
    // a reference outside the tied range: the nearest end of it
    assert_eq!(clear(&[o(102, 10, 1)], &[o(100, 10, 2)], Ticks(90)).unwrap().0.price, Ticks(100));
    assert_eq!(clear(&[o(102, 10, 1)], &[o(100, 10, 2)], Ticks(200)).unwrap().0.price, Ticks(102));
    // equally close to 100 and 102 when there is no candidate between: the lower
    let (c, ..) = clear(&[o(102, 10, 1)], &[o(100, 10, 2)], Ticks(101)).unwrap();
    assert_eq!(c.price, Ticks(101));
}

#[test]
fn supply_pressure_picks_the_lowest() {
    // asks 10 at 100, bids 4 at 101 and 4 more at 100 ... volume 8 at 100, 4 at 101
    let (c, b, a) = clear(&[o(101, 4, 1), o(100, 4, 2)], &[o(100, 10, 3)], Ticks(105)).unwrap();
    assert_eq!((c.price, c.volume), (Ticks(100), Lots(8)));
    assert_eq!((b, a), (lots(&[4, 4]), lots(&[8])));
    // same volume at 100 and 101 with more supply at both: the lowest
    let (c, ..) = clear(&[o(101, 4, 1)], &[o(100, 10, 3)], Ticks(105)).unwrap();
    assert_eq!((c.price, c.volume, c.supply), (Ticks(100), Lots(4), Lots(10)));
}

#[test]
fn uncrossed_and_one_sided_auctions_do_not_trade() {
    assert_eq!(clear(&[o(99, 5, 1)], &[o(100, 5, 2)], Ticks(100)), None);
    assert_eq!(clear(&[o(99, 5, 1)], &[], Ticks(100)), None);
    assert_eq!(clear::<u32>(&[], &[o(99, 5, 1)], Ticks(100)), None);
    assert_eq!(clear::<u32>(&[], &[], Ticks(100)), None);
}

/// Pro rata at the marginal level: 5 lots among 3 and 7 are 1.5 and 3.5; the leftover lot goes to
/// the larger order (equal remainders).
#[test]
fn marginal_level_is_pro_rata() {
    let (c, b, a) = clear(&[o(100, 3, 1), o(100, 7, 2)], &[o(100, 5, 3)], Ticks(100)).unwrap();
    assert_eq!((c.price, c.volume), (Ticks(100), Lots(5)));
    assert_eq!((b, a), (lots(&[1, 4]), lots(&[5])));
    // equal sizes, equal remainders: the smaller key
    assert_eq!(pro_rata(1, &[(2, 9u32), (2, 4)]).unwrap(), vec![0, 1]);
    // largest remainder first: 6 lots among 5, 5, 2 (total 12): 2.5, 2.5, 1 -> 2, 2, 1 and one left,
    // remainders 6, 6, 0: the tie between the fives goes to the smaller key
    assert_eq!(pro_rata(6, &[(5, 7u32), (5, 3), (2, 1)]).unwrap(), vec![2, 3, 1]);
    assert_eq!(pro_rata(5, &[(2, 1u32), (3, 2)]), None); // not rationed: fill >= total
}

#[test]
fn price_search_refuses_unordered_or_inconsistent_levels() {
    let mut s = PriceSearch::new(5, Ticks(100));
    s.push(Ticks(100), 5, 5).unwrap();
    assert_eq!(s.push(Ticks(100), 0, 1), None);
    let mut s = PriceSearch::new(9, Ticks(100));
    s.push(Ticks(100), 5, 5).unwrap();
    assert_eq!(s.finish(), None); // 4 bid lots missing
}

/// The rule evaluated naively over its candidate set (limit prices and the reference).
fn naive(bids: &[AuctionOrder<u32>], asks: &[AuctionOrder<u32>], reference: Ticks) -> Option<Clearing> {
    let mut prices: Vec<Ticks> = bids.iter().chain(asks).map(|o| o.price).chain([reference]).collect();
    prices.sort();
    prices.dedup();
    let eval = |p: Ticks| {
        let d: u64 = bids.iter().filter(|o| o.price >= p).map(|o| o.size.0).sum();
        let s: u64 = asks.iter().filter(|o| o.price <= p).map(|o| o.size.0).sum();
        (p, d, s)
    };
    let all: Vec<_> = prices.into_iter().map(eval).collect();
    let vmax = all.iter().map(|&(_, d, s)| d.min(s)).max()?;
    if vmax == 0 {
        return None;
    }
    let tied: Vec<_> = all.into_iter().filter(|&(_, d, s)| d.min(s) == vmax).collect();
    let imin = tied.iter().map(|&(_, d, s)| d.abs_diff(s)).min().unwrap();
    let tied: Vec<_> = tied.into_iter().filter(|&(_, d, s)| d.abs_diff(s) == imin).collect();
    let pick = if tied.iter().all(|&(_, d, s)| d > s) {
        *tied.last().unwrap()
    } else if tied.iter().all(|&(_, d, s)| d < s) {
        tied[0]
    } else {
        *tied.iter().min_by_key(|&&(p, _, _)| (p.0.abs_diff(reference.0), p)).unwrap()
    };
    Some(Clearing { price: pick.0, volume: Lots(vmax), demand: Lots(pick.1), supply: Lots(pick.2) })
}

fn orders(first_key: u32) -> impl Strategy<Value = Vec<AuctionOrder<u32>>> {
    prop::collection::vec((95u64..106, 1u64..20), 0..12)
        .prop_map(move |v| v.into_iter().enumerate().map(|(i, (p, s))| o(p, s, first_key + i as u32)).collect())
}

fn auction() -> impl Strategy<Value = (Vec<AuctionOrder<u32>>, Vec<AuctionOrder<u32>>, Ticks)> {
    (orders(0), orders(1000), 90u64..111).prop_map(|(b, a, r)| (b, a, Ticks(r)))
}

fn fills_by_key(orders: &[AuctionOrder<u32>], fills: &[Lots]) -> Vec<(u32, Lots)> {
    let mut v: Vec<_> = orders.iter().map(|o| o.key).zip(fills.iter().copied()).collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The one-pass search picks what the rule, evaluated naively, picks.
    #[test]
    fn search_follows_the_rule((bids, asks, reference) in auction()) {
        prop_assert_eq!(clear(&bids, &asks, reference).map(|r| r.0), naive(&bids, &asks, reference));
    }

    /// No price at any tick executes more than the clearing does.
    #[test]
    fn volume_is_maximal((bids, asks, reference) in auction()) {
        let volume = clear(&bids, &asks, reference).map_or(0, |r| r.0.volume.0);
        for t in 80u64..120 {
            let d: u64 = bids.iter().filter(|o| o.price.0 >= t).map(|o| o.size.0).sum();
            let s: u64 = asks.iter().filter(|o| o.price.0 <= t).map(|o| o.size.0).sum();
            prop_assert!(d.min(s) <= volume);
        }
    }

    /// Both sides fill the volume exactly, within each order's size and limit, in price priority,
    /// and a rationed order gets its pro-rata share within one lot.
    #[test]
    fn fills_conserve_and_respect_limits((bids, asks, reference) in auction()) {
        let Some((c, bf, af)) = clear(&bids, &asks, reference) else { return Ok(()) };
        prop_assert_eq!(bf.iter().map(|l| l.0).sum::<u64>(), c.volume.0);
        prop_assert_eq!(af.iter().map(|l| l.0).sum::<u64>(), c.volume.0);
        for (side, orders, fills) in [(0, &bids, &bf), (1, &asks, &af)] {
            let better = |a: Ticks, b: Ticks| if side == 0 { a > b } else { a < b };
            for (x, fx) in orders.iter().zip(fills.iter()) {
                prop_assert!(fx.0 <= x.size.0);
                if fx.0 > 0 {
                    prop_assert!(x.price == c.price || better(x.price, c.price), "filled beyond its limit");
                }
                for (y, fy) in orders.iter().zip(fills.iter()) {
                    // price priority: an order better than a partly filled one fills completely
                    if better(x.price, y.price) && fy.0 > 0 {
                        prop_assert_eq!(fx.0, x.size.0);
                    }
                    // pro rata at one price: shares within one lot of proportional
                    if x.price == y.price && fx.0 < x.size.0 && fy.0 < y.size.0 {
                        let (lhs, rhs) = (fx.0 as i128 * y.size.0 as i128, fy.0 as i128 * x.size.0 as i128);
                        prop_assert!((lhs - rhs).abs() <= (x.size.0.max(y.size.0)) as i128);
                    }
                }
            }
        }
    }

    /// The same orders in any order give the same clearing and the same fill to each order.
    #[test]
    fn outcome_ignores_arrival_order(
        (bids, asks, reference) in auction(),
        seed in any::<u64>(),
    ) {
        let shuffle = |v: &[AuctionOrder<u32>], salt: u64| {
            let mut v = v.to_vec();
            let mut x = seed ^ salt;
            for i in (1..v.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                v.swap(i, (x >> 33) as usize % (i + 1));
            }
            v
        };
        let (b2, a2) = (shuffle(&bids, 1), shuffle(&asks, 2));
        match (clear(&bids, &asks, reference), clear(&b2, &a2, reference)) {
            (None, None) => {}
            (Some((c1, bf1, af1)), Some((c2, bf2, af2))) => {
                prop_assert_eq!(c1, c2);
                prop_assert_eq!(fills_by_key(&bids, &bf1), fills_by_key(&b2, &bf2));
                prop_assert_eq!(fills_by_key(&asks, &af1), fills_by_key(&a2, &af2));
            }
            (x, y) => prop_assert!(false, "{:?} vs {:?}", x.map(|r| r.0), y.map(|r| r.0)),
        }
    }
}

mod on_the_book {
    use super::*;
    use crate::band::Band;
    use crate::book::tests::Storage;
    use crate::book::{rbtree::RedBlack, NewOrder};
    use crate::events::Event;
    use crate::matching::FeeRates;

    /// An order placed into the book: side, price, size, owner byte, expiry.
    type Spec = (bool, u64, u64, u8, i64);

    fn ctx(boundary_seq: u64) -> AuctionContext {
        AuctionContext {
            boundary_seq,
            maker_below_seq: 3,
            now_ts: 1_000,
            closed_ts: 1_000,
            band: Band { low: Ticks(94), high: Ticks(106), reference: Ticks(100) },
            reference: Ticks(100),
            fees: FeeRates { taker_ppm: 500, maker_ppm: -100 },
            tick_size: 1_000,
            funding_index: -7,
            crank_reward: 0,
        }
    }

    fn new_order(seq: u64, &(bid, price, size, owner, expiry_ts): &Spec) -> NewOrder {
        NewOrder {
            side: if bid { Side::Bid } else { Side::Ask },
            price: Ticks(price),
            size: Lots(size),
            seq,
            client_order_id: seq * 3,
            expiry_ts,
            owner: [owner; 32],
            owner_slot: seq as u8,
            order_kind: 0,
            flags: 0,
        }
    }

    /// The orders placed in `arrival` order (ids from 0), then the auction cleared.
    fn run(specs: &[Spec], arrival: &[usize], c: &AuctionContext) -> (Storage, Option<BookClearing>, Vec<Event>) {
        let mut s = Storage::new::<RedBlack>(64);
        let mut events = Vec::new();
        let r = {
            let mut book = s.book::<RedBlack>();
            for (seq, &i) in arrival.iter().enumerate() {
                book.insert(&new_order(seq as u64, &specs[i])).unwrap();
            }
            clear_book(&mut book, c, 1_000, &mut events).unwrap()
        };
        (s, r, events)
    }

    #[test]
    fn worked_example_on_the_book() {
        // docs/trading.md's example; ids 0..6 in this order; ids 0..2 rested through a clearing
        let specs = [
            (true, 103, 5, 1, 0),
            (true, 102, 10, 2, 0),
            (true, 100, 5, 3, 0),
            (false, 99, 8, 4, 0),
            (false, 101, 6, 5, 0),
            (false, 104, 10, 6, 0),
        ];
        let (s, r, events) = run(&specs, &[0, 1, 2, 3, 4, 5], &ctx(100));
        let r = r.unwrap();
        assert_eq!((r.clearing.price, r.clearing.volume, r.fills), (Ticks(102), Lots(14), 4));
        assert_eq!(r.notional, 14 * 102 * 1_000);
        let got: Vec<_> =
            events.iter().map(|e| (e.maker[0], e.size.0, e.maker_out, e.order_price.0, e.maker_fee)).collect();
        // ids 0..2 rested through a clearing: the maker rate, and a rebate counts as 0; the others
        // pay the taker rate (500 ppm, rounded up) at the clearing price
        assert_eq!(got, vec![(1, 5, 1, 103, 0), (2, 9, 0, 102, 0), (4, 8, 1, 99, 408), (5, 6, 1, 101, 306)]);
        assert!(events.iter().all(|e| e.auction == 1 && e.price == Ticks(102) && e.funding_index() == -7));
        // bids fill as asks' takers and the other way round: the event's side is the order's opposite
        assert_eq!(events[0].side, Side::Ask as u8);
        assert_eq!(events[2].side, Side::Bid as u8);
        // what is left: 1 lot of id 1, id 2, id 5
        let mut st = s;
        let book = st.book::<RedBlack>();
        let left: Vec<_> = book.iter(Side::Bid).chain(book.iter(Side::Ask)).map(|(_, n)| (n.seq, n.size.0)).collect();
        assert_eq!(left, vec![(1, 1), (2, 5), (5, 10)]);
    }

    #[test]
    fn later_expired_and_out_of_band_orders_wait() {
        let specs = [
            (true, 101, 5, 1, 0),
            (false, 100, 5, 2, 900), // expired at now = 1,000
            (false, 93, 5, 3, 0),    // below the band
            (false, 100, 5, 4, 0),   // id 3: after the boundary
        ];
        let (_, r, events) = run(&specs, &[0, 1, 2, 3], &ctx(3));
        assert_eq!(r, None);
        assert!(events.is_empty());
        let (_, r, _) = run(&specs, &[0, 1, 2, 3], &ctx(4));
        assert_eq!(r.unwrap().clearing.volume, Lots(5));
    }

    #[test]
    fn a_full_queue_fails_before_the_book_changes() {
        let specs = [(true, 101, 5, 1, 0), (false, 100, 5, 2, 0)];
        let mut s = Storage::new::<RedBlack>(8);
        let mut events = Vec::new();
        let mut book = s.book::<RedBlack>();
        for (seq, spec) in specs.iter().enumerate() {
            book.insert(&new_order(seq as u64, spec)).unwrap();
        }
        assert_eq!(clear_book(&mut book, &ctx(9), 1, &mut events), Err(MatchError::EventQueueFull));
        assert_eq!((book.len(Side::Bid), book.len(Side::Ask)), (1, 1));
        assert!(events.is_empty());
    }

    /// A full side makes room with a dead order first, then the worst for a better one, never with
    /// an order locked in a closed auction.
    #[test]
    fn a_full_side_makes_room_without_touching_a_closed_auction() {
        use crate::matching::{OrderKind, OrderParams, SelfTrade};
        let mut s = Storage::new::<RedBlack>(3);
        let mut events = Vec::new();
        let mut book = s.book::<RedBlack>();
        // ids 0..2: bids at 100, 99 (expires at 900), 98
        for (seq, spec) in [(true, 100, 1, 1, 0), (true, 99, 1, 2, 900), (true, 98, 1, 3, 0)].iter().enumerate() {
            book.insert(&new_order(seq as u64, spec)).unwrap();
        }
        let bid = |price: u64| OrderParams {
            side: Side::Bid,
            price: Ticks(price),
            size: Lots(1),
            kind: OrderKind::Limit,
            self_trade: SelfTrade::CancelMaker,
            client_order_id: 0,
            expiry_ts: 0,
            owner: [9; 32],
            owner_slot: 0,
            flags: 0,
        };
        let band = Band { low: Ticks(94), high: Ticks(106), reference: Ticks(100) };
        let at = |locked_below_seq| Arrival { now_ts: 1_000, band, crank_reward: 0, locked_below_seq };
        // all three locked: nothing may go, even for a better order
        assert_eq!(post(&mut book, &bid(105), 3, &at(3), &mut events).err(), Some(MatchError::BookFull));
        // unlocked: the expired order goes first, though it is not the worst
        post(&mut book, &bid(95), 3, &at(0), &mut events).unwrap();
        assert_eq!((events[0].maker_order_seq, events[0].out_reason), (1, OutReason::Expired as u8));
        // then the worst (id 3 at 95) for a better order; not for a worse one
        assert_eq!(post(&mut book, &bid(94), 4, &at(0), &mut events).err(), Some(MatchError::BookFull));
        post(&mut book, &bid(101), 4, &at(0), &mut events).unwrap();
        assert_eq!((events[1].maker_order_seq, events[1].out_reason), (3, OutReason::Evicted as u8));
        // out of the band (it moved): goes first
        let moved = Arrival { band: Band { low: Ticks(99), high: Ticks(110), reference: Ticks(104) }, ..at(0) };
        post(&mut book, &bid(99), 5, &moved, &mut events).unwrap();
        assert_eq!((events[2].maker_order_seq, events[2].out_reason), (2, OutReason::OutOfBand as u8));
    }

    fn specs() -> impl Strategy<Value = Vec<Spec>> {
        prop::collection::vec(
            (any::<bool>(), 92u64..108, 1u64..20, 1u8..6, prop::sample::select(vec![0i64, 0, 0, 900, 2_000])),
            0..24,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

        /// The book's clearing is the list rule's over the orders that take part, every fill an
        /// event, the book keeping exactly what did not fill; and the same orders arriving in
        /// another order (other ids) fill the same.
        #[test]
        fn book_clearing_is_the_rule_and_ignores_arrival(specs in specs(), boundary in 0u64..30, seed in any::<u64>()) {
            let c = ctx(boundary);
            let arrival: Vec<usize> = (0..specs.len()).collect();
            let (mut s, r, events) = run(&specs, &arrival, &c);
            // the expected outcome from the order lists
            let part = |seq: usize| {
                let (_, price, _, _, exp) = specs[seq];
                (seq as u64) < boundary && (exp == 0 || exp > c.closed_ts) && c.band.contains(Ticks(price))
            };
            let list = |bid: bool| -> Vec<AuctionOrder<([u8; 32], u64, u64)>> {
                (0..specs.len()).filter(|&i| specs[i].0 == bid && part(i)).map(|i| {
                    let o = new_order(i as u64, &specs[i]);
                    AuctionOrder { price: o.price, size: o.size, key: (o.owner, o.client_order_id, o.seq) }
                }).collect()
            };
            let (bids, asks) = (list(true), list(false));
            let expected = clear(&bids, &asks, c.reference);
            prop_assert_eq!(r.map(|r| r.clearing), expected.as_ref().map(|e| e.0));
            let mut want: Vec<(u64, u64)> = Vec::new();
            if let Some((_, bf, af)) = &expected {
                for (o, f) in bids.iter().zip(bf).chain(asks.iter().zip(af)) {
                    if f.0 > 0 { want.push((o.key.2, f.0)); }
                }
            }
            want.sort();
            let mut got: Vec<(u64, u64)> = events.iter().map(|e| (e.maker_order_seq, e.size.0)).collect();
            got.sort();
            prop_assert_eq!(&got, &want);
            // the book: each order's size less its fill, filled ones gone, and a valid tree
            let book = s.book::<RedBlack>();
            for side in [Side::Bid, Side::Ask] {
                crate::book::rbtree::check_invariants(book.header, book.nodes, side).unwrap();
            }
            let mut left: Vec<(u64, u64)> = book.iter(Side::Bid).chain(book.iter(Side::Ask)).map(|(_, n)| (n.seq, n.size.0)).collect();
            left.sort();
            let mut expect_left = Vec::new();
            for (i, sp) in specs.iter().enumerate() {
                let filled = want.iter().find(|w| w.0 == i as u64).map_or(0, |w| w.1);
                if sp.2 > filled { expect_left.push((i as u64, sp.2 - filled)); }
            }
            prop_assert_eq!(left, expect_left);

            // another arrival order of the same orders, everything in the auction: the same
            // clearing and the same fill for each order (ids differ; owners and client ids are the
            // identities, so make them unique per order)
            let unique: Vec<Spec> = specs.iter().enumerate().map(|(i, s)| (s.0, s.1, s.2, i as u8 + 1, s.4)).collect();
            let mut shuffled = arrival.clone();
            let mut x = seed;
            for i in (1..shuffled.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (x >> 33) as usize % (i + 1));
            }
            let all = ctx(u64::MAX);
            let by_owner = |events: &[Event]| {
                let mut v: Vec<(u8, u64)> = events.iter().map(|e| (e.maker[0], e.size.0)).collect();
                v.sort();
                v
            };
            let (_, r1, e1) = run(&unique, &arrival, &all);
            let (_, r2, e2) = run(&unique, &shuffled, &all);
            prop_assert_eq!(r1.map(|r| r.clearing), r2.map(|r| r.clearing));
            prop_assert_eq!(by_owner(&e1), by_owner(&e2));
        }
    }
}
