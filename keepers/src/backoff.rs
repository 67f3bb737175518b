//! Retry policy for transient failures (an RPC node that is down, slow or rate limiting): capped
//! exponential backoff with jitter, so keepers that lost the same node do not come back in step.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// No wait is longer.
    pub max: Duration,
}

impl Backoff {
    /// For RPC failures: 0.5 s, 1 s, 2 s, ... up to 30 s.
    pub const RPC: Backoff = Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(30) };

    /// The wait after `failures` consecutive failures: none after none, then `initial * 2^(n-1)`,
    /// never more than `max`.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(failures - 1).unwrap_or(u32::MAX);
        self.initial.checked_mul(factor).unwrap_or(self.max).min(self.max)
    }

    /// `delay(failures)` scaled by `0.5 + fraction / 2` ("equal jitter": between half and all of
    /// it) for a `fraction` in [0, 1].
    pub fn jittered(&self, failures: u32, fraction: f64) -> Duration {
        self.delay(failures).mul_f64(0.5 + fraction.clamp(0.0, 1.0) / 2.0)
    }

    /// `jittered` with a fraction drawn from the process's random hasher seed and a counter.
    pub fn next(&self, failures: u32) -> Duration {
        self.jittered(failures, random_fraction())
    }
}

fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_initial_wait_and_stops_at_the_cap() {
        let b = Backoff::RPC;
        let ms: Vec<u128> = (0..9).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(ms, [0, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        // no overflow however long the outage
        assert_eq!(b.delay(40), b.max);
        assert_eq!(b.delay(u32::MAX), b.max);
        let tiny = Backoff { initial: Duration::from_millis(1), max: Duration::from_secs(3600) };
        assert_eq!(tiny.delay(31), Duration::from_millis(1 << 30).min(tiny.max));
        assert_eq!(tiny.delay(64), tiny.max);
    }

    #[test]
    fn jitter_stays_between_half_and_the_full_wait() {
        let b = Backoff::RPC;
        assert_eq!(b.jittered(3, 0.0), Duration::from_millis(1_000));
        assert_eq!(b.jittered(3, 1.0), Duration::from_millis(2_000));
        assert_eq!(b.jittered(3, 7.0), Duration::from_millis(2_000), "fraction clamped");
        assert_eq!(b.jittered(0, 0.5), Duration::ZERO);
        for n in 1..12 {
            let d = b.next(n);
            assert!(d >= b.delay(n) / 2 && d <= b.delay(n), "{n}: {d:?}");
        }
    }
}
