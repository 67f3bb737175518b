//! Expiry of dated markets (futures, European options): the settlement price and the payoff.
//!
//! **The settlement price** is a time-weighted average of the underlying's Valid prices over the
//! window before expiry (default 30 minutes; Deribit averages its index over the last 30 minutes
//! too). The window is cut into [`BUCKETS`] equal buckets. Each refresh during the window adds one
//! sample (at most one per slot) to the bucket of its time; a bucket's value is the mean of its
//! samples; the settlement price is the mean of the buckets that have samples. So one refresh
//! weighs at most `1 / filled buckets` of the price, however extreme its price (a spike in a bucket
//! with `k` samples moves the result by `spike / (k x filled)`), and a burst of refreshes in one
//! bucket weighs no more than that bucket.
//!
//! **Too few samples** (an oracle degraded or unrefreshed for much of the window): the price can be
//! fixed once at least [`MIN_FILLED`] buckets have samples. Until then the window extends past
//! expiry, bucket by bucket at the same length, and only for as long as it is short of samples.
//! After [`ADMIN_GRACE_SECS`] without a price the admin may set one (a public record in the market).
//!
//! **The payoff** of one lot at settlement price `S` (ticks of the underlying per lot): a future is
//! worth `S`, a call `max(S - K, 0)`, a put `max(K - S, 0)`; long receives, short pays. Settling a
//! position is a fill that closes it at that value, so its quote balance becomes its whole PnL.

use crate::position::Position;
use crate::units::{Lots, Side};

/// Buckets per window.
pub const BUCKETS: u32 = 30;
/// The default window (seconds).
pub const DEFAULT_WINDOW_SECS: u32 = 1_800;
/// Bounds of a window: one second per bucket at least, one day at most; a whole number of seconds
/// per bucket.
pub const MIN_WINDOW_SECS: u32 = BUCKETS;
pub const MAX_WINDOW_SECS: u32 = 86_400;
/// Buckets with samples needed to fix the price (half the window).
pub const MIN_FILLED: u32 = BUCKETS / 2;
/// How long after expiry the price may only come from samples; then the admin may set it.
pub const ADMIN_GRACE_SECS: i64 = 86_400;

/// What a dated market is at expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payoff {
    Future,
    Call { strike: u64 },
    Put { strike: u64 },
}

impl Payoff {
    /// One lot's value at settlement price `settlement` (ticks), quote native units (`tick_size` per
    /// tick). None when it does not fit an i64.
    pub fn lot_value(self, settlement: u64, tick_size: u64) -> Option<i64> {
        i64::try_from(self.ticks(settlement).checked_mul(tick_size)?).ok()
    }

    /// One lot's value at settlement price `settlement`, in ticks.
    pub fn ticks(self, settlement: u64) -> u64 {
        match self {
            Payoff::Future => settlement,
            Payoff::Call { strike } => settlement.saturating_sub(strike),
            Payoff::Put { strike } => strike.saturating_sub(settlement),
        }
    }
}

/// A market's settlement window: it ends at `expiry_ts` and lasts `secs` (a multiple of
/// [`BUCKETS`], checked at listing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub expiry_ts: i64,
    pub secs: u32,
}

impl Window {
    /// The window's length, or the default for 0.
    pub fn new(expiry_ts: i64, secs: u32) -> Window {
        Window { expiry_ts, secs: if secs == 0 { DEFAULT_WINDOW_SECS } else { secs } }
    }

    pub fn start_ts(&self) -> i64 {
        self.expiry_ts.saturating_sub(self.secs as i64)
    }

    pub fn bucket_secs(&self) -> i64 {
        (self.secs / BUCKETS).max(1) as i64
    }

    /// The bucket (1-based) time `ts` falls in; past expiry the buckets go on at the same length
    /// (the extension). None before the window.
    pub fn bucket_of(&self, ts: i64) -> Option<u32> {
        let since = ts.checked_sub(self.start_ts())?;
        if since < 0 {
            return None;
        }
        u32::try_from(since / self.bucket_secs()).ok()?.checked_add(1)
    }

    /// When bucket `b` (1-based) ends.
    pub fn bucket_end(&self, b: u32) -> i64 {
        self.start_ts().saturating_add(self.bucket_secs().saturating_mul(b as i64))
    }
}

/// What the market keeps of the window's samples: the open bucket's running sum, and the closed
/// buckets' count and the sum of their means (ticks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sampler {
    /// The bucket being filled (1-based; 0 = none yet).
    pub bucket: u32,
    pub bucket_count: u32,
    pub bucket_sum: u64,
    /// Closed buckets with samples, and the sum of their means.
    pub filled: u32,
    pub sum_of_means: u64,
    /// The slot of the last sample taken.
    pub last_slot: u64,
}

/// Why the price cannot be fixed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotYet {
    /// Before expiry.
    NotExpired,
    /// Fewer than [`MIN_FILLED`] buckets have samples (`filled` do).
    TooFewSamples { filled: u32 },
}

impl Sampler {
    /// Buckets with samples at `now`: the closed ones, and the open one if its time is over.
    pub fn filled_at(&self, w: &Window, now: i64) -> u32 {
        let open_done = self.bucket_count > 0 && w.bucket_end(self.bucket) <= now;
        self.filled + open_done as u32
    }

    /// Takes a Valid `price` (ticks, > 0) read at `slot`, `ts`: into the bucket of `ts`, once per
    /// slot; past expiry only while the window is short of samples. Returns whether it was taken.
    pub fn sample(&mut self, w: &Window, price: u64, slot: u64, ts: i64) -> bool {
        let Some(b) = w.bucket_of(ts) else { return false };
        if price == 0 || b < self.bucket || (self.bucket != 0 && slot <= self.last_slot) {
            return false;
        }
        if b > BUCKETS && self.filled_at(w, ts) >= MIN_FILLED {
            return false;
        }
        if b != self.bucket {
            self.close_bucket();
            self.bucket = b;
        }
        let Some(sum) = self.bucket_sum.checked_add(price) else { return false };
        self.bucket_sum = sum;
        self.bucket_count += 1;
        self.last_slot = slot;
        true
    }

    /// Folds the open bucket's mean (rounded to nearest) into the closed ones.
    fn close_bucket(&mut self) {
        if self.bucket_count == 0 {
            return;
        }
        let n = self.bucket_count as u64;
        let mean = self.bucket_sum / n + u64::from(self.bucket_sum % n * 2 >= n);
        // a mean of prices each < 2^64 summed over at most ~2^32 buckets: saturates only beyond reach
        self.sum_of_means = self.sum_of_means.saturating_add(mean);
        self.filled += 1;
        self.bucket_sum = 0;
        self.bucket_count = 0;
    }

    /// The mean (rounded to nearest) of the bucket means there are, however few (None without a
    /// sample): what bounds the admin's price when the window falls short.
    pub fn partial_price(&self) -> Option<u64> {
        let mut s = *self;
        s.close_bucket();
        let n = s.filled as u64;
        (n > 0).then(|| s.sum_of_means / n + u64::from(s.sum_of_means % n * 2 >= n))
    }

    /// The settlement price at `now`: the mean (rounded to nearest) of the bucket means, once the
    /// market has expired and enough buckets have samples.
    pub fn settlement_price(&self, w: &Window, now: i64) -> Result<u64, NotYet> {
        if now < w.expiry_ts {
            return Err(NotYet::NotExpired);
        }
        let mut s = *self;
        if s.filled_at(w, now) > s.filled {
            s.close_bucket();
        }
        if s.filled < MIN_FILLED {
            return Err(NotYet::TooFewSamples { filled: s.filled });
        }
        let n = s.filled as u64;
        Ok(s.sum_of_means / n + u64::from(s.sum_of_means % n * 2 >= n))
    }
}

/// Settles a position at `lot_value` per lot: a fill closing its base at that value, so its quote
/// balance gains `base x lot_value` (a long receives, a short pays) and its base is zero. Returns
/// the PnL the close realized; None on overflow (nothing is changed then).
pub fn settle_position(p: &mut Position, lot_value: i64) -> Option<i64> {
    if p.base_lots == 0 {
        return Some(0);
    }
    let lots = p.base_lots.unsigned_abs();
    let value = u64::try_from(lot_value).ok()?.checked_mul(lots)?;
    let side = if p.base_lots > 0 { Side::Ask } else { Side::Bid };
    let mut after = *p;
    let realized = after.apply_fill(side, Lots(lots), value)?;
    *p = after;
    Some(realized)
}

#[cfg(test)]
mod tests;
