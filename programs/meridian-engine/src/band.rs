//! Price bands and the stable mark.
//!
//! **Band.** No order trades at any price: a limit price must lie within a band around the market's
//! reference price (the oracle's price, or the stable mark of a market without one), and a resting
//! order the band has since left behind is removed when a taker meets it rather than filled. So every
//! fill is within the band, and what a fill can move between two accounts is bounded by
//! `lots x half width`.
//!
//! **Stable mark.** A market without an oracle has no outside price: its mark follows its own trades,
//! which two sub-accounts of one wallet can print at will. The stable mark moves toward each trade's
//! price with weight `dt / (dt + tau)`, where `dt` is the time since the previous trade, capped at
//! [`STABLE_MARK_MAX_STEP_SECS`]: trades within one second do not move it at all, one trade moves it
//! at most `band x 60 / 3,660` (~0.16% with a 10% band), and holding a false price for an hour moves
//! it ~63% of the way there. It is the mark for margin and liquidation and the centre of the band.

use crate::units::Ticks;

/// Default band half width (basis points of the reference): Drift's oracle/mark divergence guard.
pub const DEFAULT_BAND_BPS: u32 = 1_000;
/// Time constant of the stable mark.
pub const STABLE_MARK_TAU_SECS: u64 = 3_600;
/// The most time one trade is weighted with.
pub const STABLE_MARK_MAX_STEP_SECS: u64 = 60;

/// The prices an order may carry and a fill may happen at, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    pub low: Ticks,
    pub high: Ticks,
    /// The price it is centred on.
    pub reference: Ticks,
}

impl Band {
    /// Every price (engine tests and off-chain simulations that do not band).
    pub const OPEN: Band = Band { low: Ticks(1), high: Ticks(u64::MAX), reference: Ticks(1) };

    /// `reference` +- `half_width` ticks, the low end at least one tick.
    #[inline(always)]
    pub fn around(reference: Ticks, half_width: u64) -> Band {
        Band {
            low: Ticks(reference.0.saturating_sub(half_width).max(1)),
            high: Ticks(reference.0.saturating_add(half_width)),
            reference,
        }
    }

    #[inline(always)]
    pub fn contains(&self, price: Ticks) -> bool {
        self.low <= price && price <= self.high
    }

    /// The largest distance (ticks) between the reference and a price in the band: what a fill can
    /// differ from it by.
    pub fn max_distance(&self) -> u64 {
        self.high.0.saturating_sub(self.reference.0).max(self.reference.0.saturating_sub(self.low.0))
    }
}

/// `bps` of `value`, rounded down (a band never admits more than its basis points), at least `min`.
#[inline(always)]
pub fn half_width(value: u64, bps: u32, min: u64) -> u64 {
    let bps = bps.min(10_000);
    let w = if value < 1 << 48 {
        value * bps as u64 / 10_000 // value < 2^48, bps <= 10^4 < 2^14 (create_market, set_price_band): below 2^62
    } else {
        // at most value: fits
        (value as u128 * bps.min(10_000) as u128 / 10_000) as u64
    };
    w.max(min)
}

/// The stable mark after a trade at `trade`, `elapsed_secs` after the previous trade (the previous
/// mark `mark`). Truncated toward the old mark: a step never overshoots.
pub fn stable_mark(mark: Ticks, trade: Ticks, elapsed_secs: i64) -> Ticks {
    if elapsed_secs <= 0 || mark == trade {
        return mark;
    }
    let dt = (elapsed_secs as u64).min(STABLE_MARK_MAX_STEP_SECS); // > 0 above
    let total = dt + STABLE_MARK_TAU_SECS;
    let gap = mark.0.abs_diff(trade.0);
    // gap x dt: below 2^64 x 60 only in u128 when the gap is huge
    // < gap (dt < total): the narrowing is exact
    let step = if gap < 1 << 57 { gap * dt / total } else { (gap as u128 * dt as u128 / total as u128) as u64 };
    Ticks(if trade > mark { mark.0 + step } else { mark.0 - step }) // step <= gap: no overflow
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn band_rounds_inward_and_keeps_a_tick() {
        let b = Band::around(Ticks(650_000), half_width(650_000, 1_000, 1));
        assert_eq!((b.low, b.high), (Ticks(585_000), Ticks(715_000)));
        assert!(b.contains(Ticks(585_000)) && b.contains(Ticks(715_000)));
        assert!(!b.contains(Ticks(584_999)) && !b.contains(Ticks(715_001)));
        assert_eq!(half_width(19, 1_000, 1), 1, "1.9 ticks rounds down to the floor");
        assert_eq!(Band::around(Ticks(1), 1), Band { low: Ticks(1), high: Ticks(2), reference: Ticks(1) });
        assert_eq!(
            Band::around(Ticks(5), 100).max_distance(),
            100,
            "the low end stops at a tick, the high one does not"
        );
        assert_eq!(half_width(u64::MAX, 10_000, 1), u64::MAX);
        assert_eq!(Band::around(Ticks(u64::MAX), 5).high, Ticks(u64::MAX));
    }

    #[test]
    fn stable_mark_moves_slowly_toward_trades() {
        let m = Ticks(1_000_000);
        assert_eq!(stable_mark(m, Ticks(1_100_000), 0), m, "same second: no move");
        // one trade after a long pause: weight 60 / 3,660
        assert_eq!(stable_mark(m, Ticks(1_100_000), 86_400), Ticks(1_000_000 + 1_639));
        assert_eq!(stable_mark(m, Ticks(900_000), 86_400), Ticks(1_000_000 - 1_639));
        // an hour of trades every second at +10%: ~63% of the way
        let mut x = m;
        for _ in 0..3_600 {
            x = stable_mark(x, Ticks(1_100_000), 1);
        }
        assert!((1_062_000..1_064_000).contains(&x.0), "{x:?}");
    }

    proptest! {
        /// A step moves toward the trade, never past it, by at most 60/3,660 of the gap.
        #[test]
        fn stable_mark_steps_are_bounded(mark in 1u64.., trade in 1u64.., dt in -10i64..1_000_000) {
            let next = stable_mark(Ticks(mark), Ticks(trade), dt).0;
            prop_assert!(next.abs_diff(trade) <= mark.abs_diff(trade));
            let moved = next.abs_diff(mark) as u128;
            prop_assert!(moved * 3_660 <= mark.abs_diff(trade) as u128 * 60);
        }

        #[test]
        fn band_contains_its_reference(reference in 1u64.., bps in 0u32..=10_000) {
            let b = Band::around(Ticks(reference), half_width(reference, bps, 1));
            prop_assert!(b.contains(Ticks(reference)));
            prop_assert!(b.low.0 >= 1);
            // never wider than its basis points (beyond the one-tick floor)
            prop_assert!((reference - b.low.0.min(reference)) as u128 * 10_000 <= (reference as u128 * bps as u128).max(10_000));
        }
    }
}
