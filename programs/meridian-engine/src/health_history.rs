//! An account's health history, kept in the margin account so any client can show it without an
//! indexer: for each window of [`WINDOW_SLOTS`] slots in which the program computed the account's
//! health, the worst reading (least equity above maintenance) and what took readings in it; the
//! last [`HISTORY_LEN`] windows. Keeping the worst reading of a window, not the last, means a dip
//! that was traded out of within the minute still shows.
//!
//! Readings are taken where the program already knows the slot: order placement when the account's
//! health read the clock (a position in a market with an oracle), withdrawals and every
//! liquidation stage (always). The order path never pays for a clock read to record one.

use crate::margin::Health;
use bytemuck::{Pod, Zeroable};

/// Windows kept.
pub const HISTORY_LEN: usize = 16;
/// One window: 150 slots, about a minute at 400 ms slots, so the history spans at least 16 minutes
/// of activity.
pub const WINDOW_SLOTS: u64 = 150;
/// Words of one sample in the account.
pub const SAMPLE_WORDS: usize = 5;

/// What took readings in a window (bits of [`HealthSample::sources`]).
pub mod source {
    pub const ORDER: u64 = 1;
    pub const WITHDRAWAL: u64 = 2;
    /// A liquidation stage acted on the account (its reading is the health that allowed it).
    pub const LIQUIDATION: u64 = 4;
    /// The insurance fund or the market's open interest covered a deficit of the account.
    pub const BANKRUPTCY: u64 = 8;
}

/// The worst reading of one window (slot 0: never written).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct HealthSample {
    /// Slot of the worst reading.
    pub slot: u64,
    /// Collateral native units, saturated to 64 bits.
    pub equity: i64,
    pub maintenance: u64,
    pub initial: u64,
    /// [`source`] bits of every reading in the window.
    pub sources: u64,
}

const _: () = assert!(core::mem::size_of::<HealthSample>() == SAMPLE_WORDS * 8);

impl HealthSample {
    pub fn new(slot: u64, health: &Health, source: u64) -> HealthSample {
        let unsigned = |v: i128| u64::try_from(v.max(0)).unwrap_or(u64::MAX);
        HealthSample {
            slot,
            equity: health.equity.clamp(i64::MIN as i128, i64::MAX as i128) as i64, // saturated: a statement figure
            maintenance: unsigned(health.maintenance),
            initial: unsigned(health.initial),
            sources: source,
        }
    }

    pub fn maintenance_free(&self) -> i128 {
        self.equity as i128 - self.maintenance as i128
    }

    /// equity / maintenance in basis points (u32::MAX when nothing is required).
    pub fn ratio_bps(&self) -> u32 {
        Health { equity: self.equity as i128, maintenance: self.maintenance as i128, ..Health::default() }.ratio_bps()
    }

    pub fn window(&self) -> u64 {
        self.slot / WINDOW_SLOTS
    }
}

/// Records `reading` in `samples` (a ring; `next` counts the windows ever opened): it joins the
/// newest window if it falls in it (replacing that window's reading if worse), else opens a new
/// window over the oldest. A reading older than the newest window (a stale clock cannot happen
/// on-chain, but the ring must not reorder) joins the newest window without replacing it.
pub fn record(samples: &mut [HealthSample; HISTORY_LEN], next: &mut u64, reading: HealthSample) {
    if *next > 0 {
        let newest = &mut samples[((*next - 1) % HISTORY_LEN as u64) as usize]; // < HISTORY_LEN
        if reading.window() <= newest.window() {
            let sources = newest.sources | reading.sources;
            if reading.window() == newest.window() && reading.maintenance_free() < newest.maintenance_free() {
                *newest = reading;
            }
            newest.sources = sources;
            return;
        }
    }
    samples[(*next % HISTORY_LEN as u64) as usize] = reading; // < HISTORY_LEN
    *next += 1;
}

/// The recorded windows, oldest first.
pub fn ordered(samples: &[HealthSample; HISTORY_LEN], next: u64) -> impl Iterator<Item = &HealthSample> {
    let len = next.min(HISTORY_LEN as u64) as usize; // <= HISTORY_LEN
                                                     // only `start % HISTORY_LEN` matters, and HISTORY_LEN divides 2^32: exact even on 32-bit usize
    let start = (next as usize).wrapping_sub(len);
    (0..len).map(move |i| &samples[(start + i) % HISTORY_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(slot: u64, equity: i128, maintenance: i128, source: u64) -> HealthSample {
        HealthSample::new(slot, &Health { equity, maintenance, initial: maintenance * 2, liquidation_end: 0 }, source)
    }

    fn history(readings: &[HealthSample]) -> Vec<HealthSample> {
        let (mut samples, mut next) = ([HealthSample::default(); HISTORY_LEN], 0);
        for r in readings {
            record(&mut samples, &mut next, *r);
        }
        ordered(&samples, next).copied().collect()
    }

    #[test]
    fn a_window_keeps_its_worst_reading_and_every_source() {
        let h = history(&[
            reading(1_000, 500, 100, source::ORDER),
            reading(1_010, 150, 100, source::ORDER),
            reading(1_020, 400, 100, source::WITHDRAWAL),
        ]);
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].slot, h[0].equity, h[0].maintenance, h[0].initial), (1_010, 150, 100, 200));
        assert_eq!(h[0].sources, source::ORDER | source::WITHDRAWAL);
    }

    #[test]
    fn windows_are_kept_oldest_first_and_the_oldest_is_overwritten() {
        let readings: Vec<_> =
            (0..HISTORY_LEN as u64 + 3).map(|w| reading(w * WINDOW_SLOTS + 7, w as i128, 0, source::ORDER)).collect();
        let h = history(&readings);
        assert_eq!(h.len(), HISTORY_LEN);
        let equities: Vec<i64> = h.iter().map(|s| s.equity).collect();
        assert_eq!(equities, (3..HISTORY_LEN as i64 + 3).collect::<Vec<_>>());
    }

    #[test]
    fn an_older_reading_neither_reorders_nor_replaces() {
        let h =
            history(&[reading(2 * WINDOW_SLOTS, 500, 100, source::ORDER), reading(5, -50, 100, source::LIQUIDATION)]);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].equity, 500);
        assert_eq!(h[0].sources, source::ORDER | source::LIQUIDATION);
    }

    #[test]
    fn values_saturate_instead_of_wrapping() {
        let s = HealthSample::new(
            9,
            &Health { equity: -(1i128 << 80), maintenance: 1i128 << 70, initial: -3, liquidation_end: 0 },
            0,
        );
        assert_eq!((s.equity, s.maintenance, s.initial), (i64::MIN, u64::MAX, 0));
        assert!(s.maintenance_free() < 0);
        assert_eq!(s.ratio_bps(), 0);
    }

    #[test]
    fn an_empty_history_has_no_windows() {
        assert!(history(&[]).is_empty());
    }
}
