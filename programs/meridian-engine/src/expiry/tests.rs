use super::*;
use proptest::prelude::*;

const EXPIRY: i64 = 1_000_000;
const WINDOW: Window = Window { expiry_ts: EXPIRY, secs: DEFAULT_WINDOW_SECS };

/// One sample per bucket at `price(bucket)`, taken in the middle of each of the window's buckets.
fn sampled(price: impl Fn(u32) -> u64) -> Sampler {
    let mut s = Sampler::default();
    for b in 1..=BUCKETS {
        let ts = WINDOW.bucket_end(b) - WINDOW.bucket_secs() / 2;
        assert!(s.sample(&WINDOW, price(b), b as u64 * 10, ts));
    }
    s
}

#[test]
fn payoffs_to_the_unit() {
    let tick = 1_000;
    assert_eq!(Payoff::Future.lot_value(120, tick), Some(120_000));
    for (payoff, s, want) in [
        (Payoff::Call { strike: 100 }, 130, 30_000), // in the money
        (Payoff::Call { strike: 100 }, 100, 0),      // at
        (Payoff::Call { strike: 100 }, 70, 0),       // out
        (Payoff::Put { strike: 100 }, 70, 30_000),
        (Payoff::Put { strike: 100 }, 100, 0),
        (Payoff::Put { strike: 100 }, 130, 0),
    ] {
        assert_eq!(payoff.lot_value(s, tick), Some(want), "{payoff:?} at {s}");
    }
    assert_eq!(Payoff::Future.lot_value(u64::MAX, 2), None);
}

#[test]
fn settling_closes_the_position_at_the_lot_value() {
    // long 3 lots bought for 300,000 (100,000 a lot), settled at 120,000 a lot
    let mut long = Position::new(0);
    long.apply_fill(Side::Bid, Lots(3), 300_000).unwrap();
    assert_eq!(settle_position(&mut long, 120_000), Some(60_000));
    assert_eq!((long.base_lots, long.quote_balance, long.entry_quote), (0, 60_000, 0));
    // its counterparty, short 3 at 100,000, pays the same
    let mut short = Position::new(0);
    short.apply_fill(Side::Ask, Lots(3), 300_000).unwrap();
    assert_eq!(settle_position(&mut short, 120_000), Some(-60_000));
    assert_eq!((short.base_lots, short.quote_balance), (0, -60_000));
    // a worthless option: the premium paid is the loss; settling again changes nothing
    let mut call = Position::new(0);
    call.apply_fill(Side::Bid, Lots(2), 5_000).unwrap();
    assert_eq!(settle_position(&mut call, 0), Some(-5_000));
    let settled = call;
    assert_eq!(settle_position(&mut call, 0), Some(0));
    assert_eq!(call, settled);
    // overflow changes nothing
    let mut big = Position::new(0);
    big.apply_fill(Side::Bid, Lots(1 << 40), 1).unwrap();
    let before = big;
    assert_eq!(settle_position(&mut big, i64::MAX), None);
    assert_eq!(big, before);
}

#[test]
fn a_steady_price_settles_at_itself() {
    let s = sampled(|_| 12_345);
    assert_eq!(s.settlement_price(&WINDOW, EXPIRY), Ok(12_345));
    assert_eq!(s.settlement_price(&WINDOW, EXPIRY - 1), Err(NotYet::NotExpired));
    // a linear ramp settles at its mean
    let ramp = sampled(|b| 1_000 + b as u64 * 10);
    assert_eq!(ramp.settlement_price(&WINDOW, EXPIRY), Ok(1_000 + 155));
}

#[test]
fn one_spiked_refresh_moves_the_price_by_its_weight_only() {
    let honest = sampled(|_| 10_000).settlement_price(&WINDOW, EXPIRY).unwrap();
    // a price pushed to 100x for one refresh, in the last bucket
    let spiked = sampled(|b| if b == BUCKETS { 1_000_000 } else { 10_000 }).settlement_price(&WINDOW, EXPIRY).unwrap();
    assert_eq!(spiked - honest, (1_000_000 - 10_000) / BUCKETS as u64);
    // a burst of refreshes at the spike, one per slot, all in one bucket: still one bucket's weight
    let mut s = Sampler::default();
    for b in 1..BUCKETS {
        s.sample(&WINDOW, 10_000, b as u64, WINDOW.bucket_end(b) - 1);
    }
    let last_start = WINDOW.bucket_end(BUCKETS - 1);
    for i in 0..50 {
        assert!(s.sample(&WINDOW, 1_000_000, 1_000 + i, last_start + (i as i64 % WINDOW.bucket_secs())));
    }
    assert_eq!(s.settlement_price(&WINDOW, EXPIRY).unwrap(), spiked);
}

#[test]
fn one_sample_per_slot_and_none_before_the_window() {
    let mut s = Sampler::default();
    assert!(!s.sample(&WINDOW, 100, 1, WINDOW.start_ts() - 1));
    assert!(s.sample(&WINDOW, 100, 5, WINDOW.start_ts()));
    assert!(!s.sample(&WINDOW, 900, 5, WINDOW.start_ts() + 1), "same slot");
    assert!(!s.sample(&WINDOW, 0, 6, WINDOW.start_ts() + 1), "no price");
    assert_eq!((s.bucket, s.bucket_count, s.bucket_sum), (1, 1, 100));
}

#[test]
fn too_few_samples_extend_the_window_until_there_are_enough() {
    // the oracle was degraded for most of the window: 10 buckets of 30
    let mut s = Sampler::default();
    for b in 1..=10 {
        assert!(s.sample(&WINDOW, 500, b as u64, WINDOW.bucket_end(b) - 1));
    }
    assert_eq!(s.settlement_price(&WINDOW, EXPIRY + 10_000), Err(NotYet::TooFewSamples { filled: 10 }));
    assert_eq!(s.partial_price(), Some(500), "what the admin's price is bounded around");
    assert_eq!(Sampler::default().partial_price(), None);
    // after expiry the buckets go on: 5 more at 800 make 15
    for b in BUCKETS + 1..=BUCKETS + 5 {
        assert!(s.sample(&WINDOW, 800, b as u64, WINDOW.bucket_end(b) - 1));
    }
    // the fifth is still open until its time is over
    assert_eq!(
        s.settlement_price(&WINDOW, WINDOW.bucket_end(BUCKETS + 5) - 1),
        Err(NotYet::TooFewSamples { filled: 14 })
    );
    let end = WINDOW.bucket_end(BUCKETS + 5);
    assert_eq!(s.settlement_price(&WINDOW, end), Ok(600));
    // enough: later refreshes no longer change it
    assert!(!s.sample(&WINDOW, 9_999, 100, end + 1));
    assert_eq!(s.settlement_price(&WINDOW, end + 100), Ok(600));
}

#[test]
fn a_full_window_takes_no_samples_after_expiry() {
    let mut s = sampled(|_| 700);
    assert!(!s.sample(&WINDOW, 7_000, 10_000, EXPIRY + 1));
    assert_eq!(s.settlement_price(&WINDOW, EXPIRY + 1), Ok(700));
}

#[test]
fn windows_have_whole_buckets() {
    let w = Window::new(EXPIRY, 0);
    assert_eq!((w.secs, w.bucket_secs(), w.start_ts()), (1_800, 60, EXPIRY - 1_800));
    assert_eq!(w.bucket_of(w.start_ts()), Some(1));
    assert_eq!(w.bucket_of(EXPIRY - 1), Some(BUCKETS));
    assert_eq!(w.bucket_of(EXPIRY), Some(BUCKETS + 1));
    assert_eq!(w.bucket_end(BUCKETS), EXPIRY);
}

proptest! {
    /// Whatever the samples, changing one of them by `d` moves the settlement price by at most
    /// `d / filled buckets` (plus rounding).
    #[test]
    fn one_sample_weighs_at_most_one_bucket(
        samples in proptest::collection::vec((0i64..1_800, 1u64..1_000_000), 15..200),
        which in any::<prop::sample::Index>(),
        spike in 1u64..u32::MAX as u64,
    ) {
        let mut samples = samples;
        samples.sort_by_key(|s| s.0);
        let run = |changed: Option<(usize, u64)>| {
            let mut s = Sampler::default();
            for (i, &(t, p)) in samples.iter().enumerate() {
                let p = match changed { Some((j, q)) if j == i => q, _ => p };
                s.sample(&WINDOW, p, i as u64 + 1, WINDOW.start_ts() + t);
            }
            (s.settlement_price(&WINDOW, EXPIRY), s.filled_at(&WINDOW, EXPIRY))
        };
        let (base, filled) = run(None);
        let i = which.index(samples.len());
        let (moved, _) = run(Some((i, spike)));
        match (base, moved) {
            (Ok(a), Ok(b)) => {
                let d = spike.abs_diff(samples[i].1);
                prop_assert!(a.abs_diff(b) <= d / filled as u64 + 2, "{a} -> {b}: d {d}, {filled} buckets");
            }
            (a, b) => prop_assert_eq!(a.is_ok(), b.is_ok()),
        }
    }
}
