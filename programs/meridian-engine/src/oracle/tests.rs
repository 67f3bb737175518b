use super::*;
use proptest::prelude::*;

const LIMITS: Limits = Limits { max_age_slots: 50, max_age_secs: 30, max_conf_bps: 200 };

fn reading(price: i128, conf: u128, expo: i32) -> Reading {
    Reading { price, conf, expo, publish_ts: 1_000, slot: 500, fully_verified: true, feed_id: [7; 32] }
}

#[test]
fn exponents_convert_to_twelve_decimals() {
    assert_eq!(to_fixed(15_000_000_000, -8, false), Some(150_000_000_000_000)); // $150, expo -8
    assert_eq!(to_fixed(150, 0, false), Some(150_000_000_000_000));
    assert_eq!(to_fixed(150_000_000_000_000_000_000, -18, false), Some(150_000_000_000_000)); // Switchboard
                                                                                              // below 10^-12: rounds to nearest, confidence rounds up
    assert_eq!(to_fixed(1_499_999, -18, false), Some(1));
    assert_eq!(to_fixed(1_500_000, -18, false), Some(2));
    assert_eq!(to_fixed(1_000_001, -18, true), Some(2));
    // too large for a u64 of 12 decimals ($18.4M), or an absurd exponent
    assert_eq!(to_fixed(19, 6, false), None);
    assert_eq!(to_fixed(1, i32::MAX, false), None);
    assert_eq!(to_fixed(1, i32::MIN, false), None);
}

#[test]
fn judge_accepts_a_fresh_tight_price() {
    let q = judge(&reading(15_000_000_000, 1_500_000, -8), &LIMITS, 520, 1_010).unwrap();
    assert_eq!(q, Quote { price: 150_000_000_000_000, conf: 15_000_000_000 });
}

#[test]
fn judge_fault_rows() {
    let ok = reading(15_000_000_000, 1_500_000, -8);
    let at = |r: &Reading, slot, ts| judge(r, &LIMITS, slot, ts);
    // stale by slots, by seconds, or from the future
    assert_eq!(at(&ok, 551, 1_000), Err(SourceFault::Stale));
    assert_eq!(at(&ok, 550, 1_030), Ok(Quote { price: 150_000_000_000_000, conf: 15_000_000_000 }));
    assert_eq!(at(&ok, 520, 1_031), Err(SourceFault::Stale));
    assert_eq!(at(&ok, 499, 1_000), Err(SourceFault::Stale));
    assert_eq!(at(&ok, 520, 999), Err(SourceFault::Stale));
    // confidence: 2% allowed, just above refused
    assert!(at(&reading(10_000, 200, 0), 500, 1_000).is_ok());
    assert_eq!(at(&reading(10_000, 201, 0), 500, 1_000), Err(SourceFault::WideConfidence));
    assert_eq!(at(&reading(10_000, u128::MAX, 0), 500, 1_000), Err(SourceFault::WideConfidence));
    // zero and negative prices
    assert_eq!(at(&reading(0, 0, -8), 500, 1_000), Err(SourceFault::NoPrice));
    assert_eq!(at(&reading(-5, 0, -8), 500, 1_000), Err(SourceFault::NoPrice));
    // exponent extremes
    assert_eq!(at(&reading(1, 0, 31), 500, 1_000), Err(SourceFault::ExponentOutOfRange));
    assert_eq!(at(&reading(1, 0, -31), 500, 1_000), Err(SourceFault::ExponentOutOfRange));
    assert_eq!(at(&reading(1, 0, -13), 500, 1_000), Err(SourceFault::ExponentOutOfRange)); // rounds to 0
    assert_eq!(at(&reading(i64::MAX as i128, 0, 0), 500, 1_000), Err(SourceFault::ExponentOutOfRange));
    assert!(at(&reading(1, 0, -12), 500, 1_000).is_ok());
    // partially verified Pyth update
    assert_eq!(at(&Reading { fully_verified: false, ..ok }, 500, 1_000), Err(SourceFault::PartiallyVerified));
}

fn q(price: u64, conf: u64) -> Quote {
    Quote { price, conf }
}

#[test]
fn aggregate_takes_the_median_and_covers_every_source() {
    assert_eq!(aggregate(&mut [q(100, 1), q(102, 1), q(101, 1)], 2, 500), Outcome::Valid(q(101, 2)));
    // even count: mean of the middle two, rounded down
    assert_eq!(aggregate(&mut [q(100, 0), q(103, 0)], 2, 500), Outcome::Valid(q(101, 2)));
    assert_eq!(aggregate(&mut [q(u64::MAX, 0), q(u64::MAX - 2, 0)], 1, 500), Outcome::Valid(q(u64::MAX - 1, 1)));
    // one source 6% away with a 5% limit: divergent, still the median
    assert_eq!(aggregate(&mut [q(100, 0), q(100, 0), q(106, 0)], 2, 500), Outcome::Divergent(q(100, 6)));
    assert_eq!(aggregate(&mut [q(100, 0), q(100, 0), q(105, 0)], 2, 500), Outcome::Valid(q(100, 5)));
    assert_eq!(aggregate(&mut [q(100, 0)], 2, 500), Outcome::TooFewSources);
    assert_eq!(aggregate(&mut [], 0, 500), Outcome::TooFewSources);
}

proptest! {
    #[test]
    fn median_lies_within_the_sources_and_conf_covers_them(
        prices in proptest::collection::vec((1u64..1_000_000_000_000_000, 0u64..1_000_000), 1..=4)
    ) {
        let mut quotes: Vec<Quote> = prices.iter().map(|&(p, c)| q(p, c)).collect();
        let (lo, hi) = (quotes.iter().map(|x| x.price).min().unwrap(), quotes.iter().map(|x| x.price).max().unwrap());
        let out = aggregate(&mut quotes.clone(), 1, 10_000);
        let agg = match out { Outcome::Valid(a) | Outcome::Divergent(a) => a, Outcome::TooFewSources => unreachable!() };
        prop_assert!(lo <= agg.price && agg.price <= hi);
        for x in quotes.iter_mut() {
            prop_assert!(agg.price.abs_diff(x.price) + x.conf <= agg.conf);
        }
        // order of sources does not matter
        quotes.reverse();
        prop_assert_eq!(aggregate(&mut quotes, 1, 10_000), out);
    }

    #[test]
    fn log_return_matches_f64(prev in 1_000_000u64..1_000_000_000_000_000, ratio in 0.001f64..1000.0) {
        let price = (prev as f64 * ratio) as u64;
        let got = log_return(prev, price).unwrap() as f64 / 1e12;
        let want = (price as f64 / prev as f64).ln();
        prop_assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }

    #[test]
    fn small_log_returns_are_accurate(prev in 1_000_000_000u64..1_000_000_000_000_000, bps in -100i64..=100) {
        let price = (prev as i128 + prev as i128 * bps as i128 / 10_000) as u64;
        let got = log_return(prev, price).unwrap() as f64 / 1e12;
        let want = (price as f64 / prev as f64).ln();
        prop_assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }

    #[test]
    fn log_return_at_the_extremes(a in 1u64..=u64::MAX, b in 1u64..=u64::MAX) {
        let got = log_return(a, b).unwrap() as f64 / 1e12;
        let want = (b as f64).ln() - (a as f64).ln();
        prop_assert!((got - want).abs() < 1e-7, "{got} vs {want}");
    }

    #[test]
    fn isqrt_is_the_floor_root(n in any::<u64>()) {
        let r = isqrt_u64(n) as u128;
        prop_assert!(r * r <= n as u128 && (r + 1) * (r + 1) > n as u128);
    }
}

#[test]
fn ewma_converges_to_the_realized_volatility() {
    // alternating +-1% moves every 10 s: annualized variance = 0.01^2 x 31,536,000 / 10 (ln(1.01)^2
    // and ln(0.99)^2 differ slightly; their mean is what the EWMA settles near)
    let mut var = 0u64;
    let mut price = 100_000_000_000_000u64;
    for i in 0..20_000 {
        let next = if i % 2 == 0 { price * 101 / 100 } else { price * 100 / 101 };
        var = update_variance(var, log_return(price, next).unwrap(), 10, 3_600);
        price = next;
    }
    let expected = (1.01f64.ln().powi(2)) * 31_536_000.0 / 10.0;
    let got = var as f64 / 1e12;
    assert!((got / expected - 1.0).abs() < 1e-3, "{got} vs {expected}");
    let vol = volatility(var) as f64 / 1e12;
    assert!((vol - got.sqrt()).abs() < 2e-6, "{vol} vs {}", got.sqrt());
}

#[test]
fn ewma_weights_by_elapsed_time() {
    // one sample with elapsed = tau moves the estimate halfway
    let r = 10_000_000_000; // 1%
    let sample = (r as u128 * r as u128 / 1_000_000_000_000 * 31_536_000 / 60) as u64;
    assert_eq!(update_variance(0, r, 60, 60), sample / 2);
    assert_eq!(update_variance(sample, -r, 60, 60), sample);
    assert_eq!(update_variance(1234, r, 0, 60), 1234, "no time, no sample");
    assert_eq!(update_variance(0, i128::MAX / 2, 1, 1), u64::MAX, "saturates");
}

#[test]
fn twap_accumulates_price_times_time() {
    let c = accumulate_twap(0, 100, 10);
    let c = accumulate_twap(c, 200, 30);
    assert_eq!(c, 100 * 10 + 200 * 30);
    assert_eq!(c / 40, 175);
}

#[test]
fn malformed_accounts_are_layout_errors() {
    assert_eq!(read_pyth_price_update(&[0; 10]), Err(LayoutError::TooShort));
    let mut d = vec![0u8; 134];
    assert_eq!(read_pyth_price_update(&d), Err(LayoutError::WrongDiscriminator));
    d[..8].copy_from_slice(&PYTH_PRICE_UPDATE_V2_DISCRIMINATOR);
    d[40] = 2;
    assert_eq!(read_pyth_price_update(&d), Err(LayoutError::UnknownVariant));
    d[40] = 0; // Partial: one byte longer, still fits in LEN
    assert!(!read_pyth_price_update(&d).unwrap().fully_verified);
    assert_eq!(read_pyth_price_update(&d[..133]), Err(LayoutError::TooShort));
    assert_eq!(read_switchboard_pull_feed(&[0; 3207]), Err(LayoutError::TooShort));
    assert_eq!(read_switchboard_pull_feed(&[0; 3208]), Err(LayoutError::WrongDiscriminator));
}

#[test]
fn prices_convert_to_market_ticks() {
    // BTC-PERP: lot 0.0001 BTC (8 decimals: 10,000 atoms), tick $0.1 on 6-decimal USDC: tick_size 10
    let ticks = |price: u64, up| to_ticks(price, 6, 8, 10_000, 10, up);
    assert_eq!(ticks(65_000 * 1_000_000_000_000, false), Some(650_000));
    assert_eq!(ticks(65_000_040_000_000_000, false), Some(650_000)); // $65,000.04 -> nearest tick
    assert_eq!(ticks(65_000_050_000_000_000, false), Some(650_001)); // half rounds up
    assert_eq!(ticks(1, true), Some(1)); // confidence rounds up
    assert_eq!(ticks(0, true), Some(0));
    // SOL: 9 decimals, lot 0.01 SOL, tick $0.001 on 6 decimals: tick_size = 0.001 x 0.01 x 10^6 = 10
    assert_eq!(to_ticks(150_123_000_000_000, 6, 9, 10_000_000, 10, false), Some(150_123));
    assert_eq!(to_ticks(u64::MAX, 18, 0, u64::MAX, 1, false), None, "overflow");
    assert_eq!(to_ticks(1, 6, 8, 10_000, 0, false), None, "no tick size");
    assert_eq!(to_ticks(1, 6, 40, 10_000, 1, false), None, "absurd decimals");
}
