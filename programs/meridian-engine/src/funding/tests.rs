use super::*;
use crate::book::{book_data_len, ActiveTree, Book, BookHeader, NewOrder, Node};
use crate::units::Lots;
use proptest::prelude::*;

#[test]
fn premium_is_the_book_over_the_oracle() {
    let o = Ticks(10_000);
    assert_eq!(premium(Some(Ticks(10_010)), Some(Ticks(10_020)), o), 1_000_000); // bid 0.1% above
    assert_eq!(premium(Some(Ticks(9_980)), Some(Ticks(9_990)), o), -1_000_000); // ask 0.1% below
    assert_eq!(premium(Some(Ticks(9_990)), Some(Ticks(10_010)), o), 0, "oracle inside the spread");
    assert_eq!(premium(None, Some(Ticks(9_990)), o), 0, "a one-sided book says nothing");
    assert_eq!(premium(Some(Ticks(20_000)), None, o), 0);
    assert_eq!(premium(None, None, o), 0);
    assert_eq!(premium(Some(Ticks(1)), None, Ticks(0)), 0);
    assert_eq!(clamp_rate(5_000_000, 10), 1_000_000); // 0.5% clamped to 10 bp
    assert_eq!(clamp_rate(-5_000_000, 10), -1_000_000);
    assert_eq!(clamp_rate(300_000, 10), 300_000);
}

#[test]
fn the_index_accrues_per_second() {
    // 0.1% per hour on a lot worth 650,000 ticks x 10 = 6,500,000 units, over 30 minutes
    let d = index_delta(1_000_000, Ticks(650_000), 10, 1_800, 3_600).unwrap();
    assert_eq!(d, 3_250 * FUNDING_SCALE); // 6.5M x 0.001 / 2 = 3,250 units per lot
    assert_eq!(index_delta(1, Ticks(1), 1, 1, 0), None);
}

#[test]
fn the_rate_is_time_weighted() {
    let max = clamp_rate(i128::MAX, 10);
    assert_eq!(sample_rate(0, max, 0, 3_600), 0, "a second sample in the same second weighs nothing");
    // one sample after a long gap: 60 s of weight against an hour
    assert_eq!(sample_rate(0, max, 100_000, 3_600), max * 60 / 3_660);
    assert_eq!(sample_rate(0, -max, 30, 3_600), -max * 30 / 3_630);
    // sustained for an hour, sampled every minute: ~63% of the way
    let mut rate = 0;
    for _ in 0..60 {
        rate = sample_rate(rate, max, 60, 3_600);
    }
    assert!(rate > max * 62 / 100 && rate < max * 64 / 100, "{rate}");
}

proptest! {
    /// One sample moves the rate toward it by at most 60 / (60 + period) of the gap, never past it.
    #[test]
    fn a_sample_moves_the_rate_by_its_weight(rate in -1_000_000_000i128..=1_000_000_000, sample in -1_000_000_000i128..=1_000_000_000, dt in 0u64..1_000_000, period in 1u64..2_592_000) {
        let next = sample_rate(rate, sample, dt, period);
        prop_assert!((next - sample).abs() <= (rate - sample).abs());
        prop_assert!((next - rate).abs() * (60 + period as i128) <= (sample - rate).abs() * 60);
    }
}

#[test]
fn settlement_rounds_toward_the_protocol() {
    let mut long = Position::opened_at(0, 0);
    long.base_lots = 3;
    let mut short = Position::opened_at(0, 0);
    short.base_lots = -3;
    let index = FUNDING_SCALE / 2 + 1; // 0.5 units per lot, a hair more
    assert_eq!(pending(&long, index), Some(2)); // 1.5 + 3e-9 -> 2
    assert_eq!(pending(&short, index), Some(-1)); // receives 1.5 + 3e-9 -> 1
    let a = settle(&mut long, index).unwrap();
    let b = settle(&mut short, index).unwrap();
    assert_eq!((a.paid, b.paid), (2, -1));
    assert_eq!((long.quote_balance, short.quote_balance), (-2, 1));
    // paid - received = what the protocol kept, exactly
    assert_eq!((a.paid + b.paid) as u64 * FUNDING_SCALE as u64, a.rounding + b.rounding);
    assert_eq!(settle(&mut long, index).unwrap(), Settled::default(), "settled twice: nothing");
    // settling backwards undoes (rounded up again)
    assert_eq!(settle(&mut long, 0).unwrap().paid, -1);
}

proptest! {
    /// Two accounts trade one market while the index moves; whatever the order of fills and
    /// settlements (each fill settling both accounts first at the fill's index), once both are
    /// settled to the same index, paid = received + rounding.
    #[test]
    fn funding_is_zero_sum_up_to_the_recorded_rounding(
        steps in prop::collection::vec((-5_000_000_000i128..5_000_000_000, 1u64..50, any::<bool>(), any::<bool>()), 1..40)
    ) {
        let (mut a, mut b) = (Position::opened_at(0, 0), Position::opened_at(0, 0));
        let (mut index, mut rounding) = (0i128, 0u64);
        for (delta, lots, a_buys, settle_b) in steps {
            index += delta;
            rounding += settle(&mut a, index).unwrap().rounding;
            rounding += settle(&mut b, index).unwrap().rounding;
            let (sa, sb) = if a_buys { (Side::Bid, Side::Ask) } else { (Side::Ask, Side::Bid) };
            a.apply_fill(sa, Lots(lots), 0).unwrap();
            b.apply_fill(sb, Lots(lots), 0).unwrap();
            if settle_b {
                index += delta / 3;
                rounding += settle(&mut b, index).unwrap().rounding;
            }
        }
        rounding += settle(&mut a, index).unwrap().rounding;
        rounding += settle(&mut b, index).unwrap().rounding;
        prop_assert_eq!((a.quote_balance + b.quote_balance) as i128 * FUNDING_SCALE + rounding as i128, 0);
        prop_assert_eq!(a.funding_paid + b.funding_paid, -(a.quote_balance + b.quote_balance));
    }
}

#[test]
fn impact_prices_walk_the_book() {
    let mut header = BookHeader::new::<ActiveTree>(8);
    let mut nodes = vec![
        Node::default();
        (book_data_len::<ActiveTree>(8) - core::mem::size_of::<BookHeader>())
            / core::mem::size_of::<Node>()
    ];
    let mut book = Book::<ActiveTree>::init(&mut header, &mut nodes, 8).unwrap();
    for (i, (price, size)) in [(100u64, 2u64), (99, 3), (98, 10)].into_iter().enumerate() {
        let o = NewOrder {
            side: Side::Bid,
            price: Ticks(price),
            size: Lots(size),
            seq: i as u64 + 1,
            client_order_id: 0,
            expiry_ts: 0,
            owner: [1; 32],
            owner_slot: 0,
            order_kind: 0,
            flags: 0,
        };
        book.insert(&o).unwrap();
    }
    // notional per lot = price x tick size 1
    assert_eq!(impact_price(&book, Side::Bid, 0, 1, all), Impact::Price(Ticks(100)));
    assert_eq!(impact_price(&book, Side::Bid, 200, 1, all), Impact::Price(Ticks(100)));
    assert_eq!(impact_price(&book, Side::Bid, 201, 1, all), Impact::Price(Ticks(99)));
    assert_eq!(impact_price(&book, Side::Bid, 200 + 297 + 980, 1, all), Impact::Price(Ticks(98)));
    assert_eq!(impact_price(&book, Side::Bid, 200 + 297 + 981, 1, all), Impact::Thin, "thinner than the impact size");
    assert_eq!(impact_price(&book, Side::Ask, 0, 1, all), Impact::Thin);
    // orders the filter leaves out (placed after the previous sample: seq >= 2) do not count
    let old = |n: &Node| n.seq < 2;
    assert_eq!(impact_price(&book, Side::Bid, 201, 1, old), Impact::Thin, "only the first order counts");
    assert_eq!(impact_price(&book, Side::Bid, 200, 1, old), Impact::Price(Ticks(100)));
}

fn all(_: &Node) -> bool {
    true
}

#[test]
fn skipped_orders_cannot_turn_a_quote_thin() {
    let cap = (IMPACT_VISIT_LIMIT + 8) as u32;
    let mut header = BookHeader::new::<ActiveTree>(cap);
    let mut nodes = vec![
        Node::default();
        (book_data_len::<ActiveTree>(cap) - core::mem::size_of::<BookHeader>())
            / core::mem::size_of::<Node>()
    ];
    let mut book = Book::<ActiveTree>::init(&mut header, &mut nodes, cap).unwrap();
    let order = |seq: u64, price: u64| NewOrder {
        side: Side::Bid,
        price: Ticks(price),
        size: Lots(1),
        seq,
        client_order_id: 0,
        expiry_ts: 0,
        owner: [1; 32],
        owner_slot: 0,
        order_kind: 0,
        flags: 0,
    };
    // an old bid at 100, and 40 young ones in front of it (the filter skips them)
    book.insert(&order(1, 100)).unwrap();
    for seq in 2..42 {
        book.insert(&order(seq, 101)).unwrap();
    }
    let old = |n: &Node| n.seq < 2;
    assert_eq!(impact_price(&book, Side::Bid, 0, 1, old), Impact::Price(Ticks(100)), "found behind the young ones");
    // more young ones than a walk visits: no answer, not "thin"
    for seq in 42..(IMPACT_VISIT_LIMIT as u64 + 2) {
        book.insert(&order(seq, 102)).unwrap();
    }
    assert_eq!(impact_price(&book, Side::Bid, 0, 1, old), Impact::Unknown);
}
