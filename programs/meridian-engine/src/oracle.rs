//! Oracle math: reading Pyth and Switchboard price accounts from their bytes, judging each source,
//! the median aggregate, the TWAP accumulator and the EWMA of log returns (realized volatility).
//!
//! Prices here are `u64` with [`PRICE_DECIMALS`] decimals of the quote currency per whole unit of
//! the underlying ($1 = 10^12; the largest price is ~$18.4 million). Confidence is in the same
//! units. The program checks owners and addresses (Solana types); everything after that is here.

use crate::pricing;

pub const PRICE_DECIMALS: u32 = 12;
/// Largest number of sources an aggregate combines.
pub const MAX_SOURCES: usize = 4;
const SECONDS_PER_YEAR: u128 = 31_536_000;
const BPS: u128 = 10_000;

/// Anchor discriminator of the Pyth receiver's `PriceUpdateV2` account (sha256("account:PriceUpdateV2")[..8]).
pub const PYTH_PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];
/// Discriminator of Switchboard on-demand's `PullFeedAccountData`.
pub const SWITCHBOARD_PULL_FEED_DISCRIMINATOR: [u8; 8] = [196, 27, 108, 196, 10, 215, 219, 40];
/// Switchboard on-demand values carry 18 decimals.
pub const SWITCHBOARD_DECIMALS: i32 = 18;

/// Which price account format a source is.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// A Pyth pull `PriceUpdateV2` (receiver program or the Pyth push oracle's feed accounts).
    /// Identity: the 32-byte feed id inside the account.
    Pyth = 0,
    /// A Switchboard on-demand `PullFeedAccountData`. Identity: the feed account's address.
    Switchboard = 1,
}

impl SourceKind {
    pub fn from_u8(v: u8) -> Option<SourceKind> {
        match v {
            0 => Some(SourceKind::Pyth),
            1 => Some(SourceKind::Switchboard),
            _ => None,
        }
    }
}

/// The account is not the format it claims (the caller passed the wrong account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    TooShort,
    WrongDiscriminator,
    /// Pyth verification level byte is neither Partial (0) nor Full (1).
    UnknownVariant,
}

/// One source's latest price as its account states it: `price x 10^expo`, `conf x 10^expo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub price: i128,
    pub conf: u128,
    pub expo: i32,
    /// Unix time the price was published.
    pub publish_ts: i64,
    /// Slot the price landed on chain.
    pub slot: u64,
    /// Pyth: Wormhole signatures fully verified. Switchboard: always true.
    pub fully_verified: bool,
    /// Pyth: the feed id. Switchboard: zero (its identity is the account address).
    pub feed_id: [u8; 32],
}

fn le_u64(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}
fn le_i64(d: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}
fn le_i128(d: &[u8], at: usize) -> i128 {
    i128::from_le_bytes(d[at..at + 16].try_into().unwrap())
}

/// Reads a Pyth `PriceUpdateV2` (Borsh): discriminator, write authority (32), verification level
/// (1 byte `Full` or 2 bytes `Partial { num_signatures }`), the `PriceFeedMessage` (feed id 32,
/// price i64, conf u64, exponent i32, publish time i64, previous publish time i64, EMA price i64,
/// EMA conf u64), posted slot u64.
pub fn read_pyth_price_update(d: &[u8]) -> Result<Reading, LayoutError> {
    const MESSAGE_LEN: usize = 32 + 8 + 8 + 4 + 8 + 8 + 8 + 8;
    if d.len() < 8 + 32 + 1 {
        return Err(LayoutError::TooShort);
    }
    if d[..8] != PYTH_PRICE_UPDATE_V2_DISCRIMINATOR {
        return Err(LayoutError::WrongDiscriminator);
    }
    let (fully_verified, msg) = match d[40] {
        0 => (false, 42),
        1 => (true, 41),
        _ => return Err(LayoutError::UnknownVariant),
    };
    if d.len() < msg + MESSAGE_LEN + 8 {
        return Err(LayoutError::TooShort);
    }
    Ok(Reading {
        feed_id: d[msg..msg + 32].try_into().unwrap(),
        price: le_i64(d, msg + 32) as i128,
        conf: le_u64(d, msg + 40) as u128,
        expo: i32::from_le_bytes(d[msg + 48..msg + 52].try_into().unwrap()),
        publish_ts: le_i64(d, msg + 52),
        slot: le_u64(d, msg + MESSAGE_LEN),
        fully_verified,
    })
}

/// Byte offsets in Switchboard's `PullFeedAccountData` (repr(C), after the 8-byte discriminator):
/// 32 submissions of 64 bytes, then authority, queue, feed hash, initialized_at, permissions,
/// max_variance, min_responses, name, four single bytes, `last_update_timestamp` at 2208 (+8), and
/// `result: CurrentResult` at 2256 (+8): value, std_dev, mean, range, min, max (i128 each),
/// num_samples, submission_idx, padding, slot. Checked against the crate's own struct in tests.
pub mod switchboard_layout {
    pub const LAST_UPDATE_TIMESTAMP: usize = 8 + 2208;
    pub const RESULT_VALUE: usize = 8 + 2256;
    pub const RESULT_STD_DEV: usize = 8 + 2272;
    pub const RESULT_NUM_SAMPLES: usize = 8 + 2352;
    pub const RESULT_SLOT: usize = 8 + 2360;
    pub const ACCOUNT_LEN: usize = 8 + 3200;
}

/// Reads a Switchboard on-demand pull feed's current result: value and standard deviation of the
/// oracle samples (18 decimals), the result slot and the last update time. A feed that never
/// produced a result reads as price 0 (rejected by [`judge`] as `NoPrice`).
pub fn read_switchboard_pull_feed(d: &[u8]) -> Result<Reading, LayoutError> {
    use switchboard_layout::*;
    if d.len() < ACCOUNT_LEN {
        return Err(LayoutError::TooShort);
    }
    if d[..8] != SWITCHBOARD_PULL_FEED_DISCRIMINATOR {
        return Err(LayoutError::WrongDiscriminator);
    }
    let slot = le_u64(d, RESULT_SLOT);
    let no_result = slot == 0 || d[RESULT_NUM_SAMPLES] == 0;
    let std_dev = le_i128(d, RESULT_STD_DEV);
    Ok(Reading {
        price: if no_result { 0 } else { le_i128(d, RESULT_VALUE) },
        conf: std_dev.unsigned_abs(),
        expo: -SWITCHBOARD_DECIMALS,
        publish_ts: le_i64(d, LAST_UPDATE_TIMESTAMP),
        slot,
        fully_verified: true,
        feed_id: [0; 32],
    })
}

/// Why a source's reading is not used this refresh. Stored per source (`last_fault`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFault {
    /// Older than `max_age_slots` or `max_age_secs`, or published in the future.
    Stale = 1,
    /// `conf / price` above `max_conf_bps`.
    WideConfidence = 2,
    /// Price zero or negative (or a Switchboard feed with no result yet).
    NoPrice = 3,
    /// The exponent puts the price outside what 12 decimals in a u64 can hold.
    ExponentOutOfRange = 4,
    /// A Pyth update verified by only some Wormhole guardians.
    PartiallyVerified = 5,
}

/// The per-source limits of an aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_age_slots: u64,
    pub max_age_secs: u64,
    pub max_conf_bps: u32,
}

/// A judged source price in [`PRICE_DECIMALS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quote {
    pub price: u64,
    pub conf: u64,
}

/// `v x 10^expo` in 12-decimal units; price rounds to nearest, `round_up` for confidence (wider is
/// the safe side). None when it does not fit a u64 or the exponent is absurd.
pub fn to_fixed(v: u128, expo: i32, round_up: bool) -> Option<u64> {
    let shift = expo.checked_add(PRICE_DECIMALS as i32)?;
    let out = if shift >= 0 {
        v.checked_mul(10u128.checked_pow(shift.unsigned_abs())?)?
    } else {
        let d = 10u128.checked_pow(shift.unsigned_abs())?;
        let (q, r) = (v / d, v % d);
        let bump = if round_up { r != 0 } else { r >= d - d / 2 };
        q + bump as u128
    };
    u64::try_from(out).ok()
}

/// Judges one reading against the limits at (`now_slot`, `now_ts`).
pub fn judge(r: &Reading, limits: &Limits, now_slot: u64, now_ts: i64) -> Result<Quote, SourceFault> {
    if !r.fully_verified {
        return Err(SourceFault::PartiallyVerified);
    }
    let age_slots = now_slot.checked_sub(r.slot).ok_or(SourceFault::Stale)?;
    let age_secs = now_ts.checked_sub(r.publish_ts).ok_or(SourceFault::Stale)?;
    if age_slots > limits.max_age_slots || age_secs < 0 || age_secs.unsigned_abs() > limits.max_age_secs {
        return Err(SourceFault::Stale);
    }
    if r.price <= 0 {
        return Err(SourceFault::NoPrice);
    }
    if !(-30..=30).contains(&r.expo) {
        return Err(SourceFault::ExponentOutOfRange);
    }
    let price = to_fixed(r.price.unsigned_abs(), r.expo, false).ok_or(SourceFault::ExponentOutOfRange)?; // price > 0 above
    if price == 0 {
        return Err(SourceFault::ExponentOutOfRange); // below 10^-12: no digits left
    }
    // conf / price > max_conf_bps / 10^4, compared in the source's own units (no rounding)
    if r.conf.checked_mul(BPS).is_none_or(|c| c > r.price.unsigned_abs() * limits.max_conf_bps as u128) {
        return Err(SourceFault::WideConfidence);
    }
    let conf = to_fixed(r.conf, r.expo, true).ok_or(SourceFault::WideConfidence)?;
    Ok(Quote { price, conf })
}

/// Result of combining the valid sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Enough sources and they agree: the median, with a confidence that covers every valid
    /// source's interval.
    Valid(Quote),
    /// Enough sources, but one sits further than `max_deviation_bps` from the median.
    Divergent(Quote),
    /// Fewer valid sources than required: nothing new to say about the price.
    TooFewSources,
}

/// Median of the valid quotes (the mean of the middle two for an even count, rounded down), the
/// aggregate confidence `max(conf_i + |price_i - median|)` and the agreement check.
pub fn aggregate(quotes: &mut [Quote], min_valid: usize, max_deviation_bps: u32) -> Outcome {
    let n = quotes.len();
    if n == 0 || n < min_valid {
        return Outcome::TooFewSources;
    }
    quotes.sort_unstable_by_key(|q| q.price);
    let median = if n % 2 == 1 {
        quotes[n / 2].price
    } else {
        let (a, b) = (quotes[n / 2 - 1].price, quotes[n / 2].price);
        a / 2 + b / 2 + (a % 2 + b % 2) / 2
    };
    let mut conf = 0u64;
    let mut divergent = false;
    for q in quotes.iter() {
        let gap = q.price.abs_diff(median);
        conf = conf.max(q.conf.saturating_add(gap));
        divergent |= gap as u128 * BPS > median as u128 * max_deviation_bps as u128;
    }
    let quote = Quote { price: median, conf };
    if divergent {
        Outcome::Divergent(quote)
    } else {
        Outcome::Valid(quote)
    }
}

/// A price with [`PRICE_DECIMALS`] (quote per whole unit) in a market's ticks: `price x 10^qd x
/// lot / (10^(bd + 12) x tick_size)` where `qd`/`bd` are the quote and base decimals, `lot` the base
/// lot size in atoms and `tick_size` the quote native units per tick per lot. Rounds up or to
/// nearest; None when it does not fit.
pub fn to_ticks(
    price: u64,
    quote_decimals: u8,
    base_decimals: u8,
    base_lot_size: u64,
    tick_size: u64,
    round_up: bool,
) -> Option<u64> {
    // cancel the powers of ten first: the divisor then usually fits 64 bits, and a 128-by-64-bit
    // division is far cheaper on SBF than a full 128-bit one
    let exp = base_decimals as i32 + PRICE_DECIMALS as i32 - quote_decimals as i32;
    let mut num = (price as u128).checked_mul(base_lot_size as u128)?;
    let mut den = tick_size as u128;
    if exp >= 0 {
        den = den.checked_mul(*POW10.get(exp.unsigned_abs() as usize)? as u128)?;
    } else {
        num = num.checked_mul(*POW10.get(exp.unsigned_abs() as usize)? as u128)?;
    }
    if den == 0 {
        return None;
    }
    let (q, r) = (num / den, num % den);
    let bump = if round_up { r != 0 } else { r >= den - den / 2 };
    u64::try_from(q + bump as u128).ok()
}

const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Adds `price x seconds` to a TWAP accumulator: the TWAP between two snapshots of
/// (`cumulative`, `ts`) is their difference in `cumulative` over the difference in time.
pub fn accumulate_twap(cumulative: u128, price: u64, elapsed_secs: u64) -> u128 {
    cumulative.wrapping_add(price as u128 * elapsed_secs as u128)
}

/// Natural log of `price / prev` in [`pricing::ONE`] units, within 1e-8. Reduced by a power of two
/// to a ratio in [2/3, 4/3), then ln = k ln 2 + 2 atanh(z) with z = (p - q) / (p + q) in [-1/5, 1/7]:
/// one 128-bit division, the first term at 12 decimals and the rest of the series in native 64-bit
/// arithmetic (9 decimals), so any move costs about the same.
pub fn log_return(prev: u64, price: u64) -> Option<i128> {
    const ONE9: i64 = 1_000_000_000;
    const LN2_12: i128 = 693_147_180_560;
    if prev == 0 || price == 0 {
        return None;
    }
    let (mut p, mut q) = (price as i128, prev as i128);
    let mut k = (128 - p.leading_zeros()) as i128 - (128 - q.leading_zeros()) as i128;
    if k > 0 {
        q <<= k;
    } else {
        p <<= -k;
    }
    if p < q {
        p <<= 1;
        k -= 1;
    }
    // q <= p < 2q; recentre to 2/3 <= p/q < 4/3
    if 3 * p >= 4 * q {
        q <<= 1;
        k += 1;
    }
    let z = (p - q) * pricing::ONE / (p + q);
    // z^3/3 + z^5/5 + ... with 9 decimals: every product stays under 10^18
    let z9 = (z / 1_000) as i64; // |z| <= ONE / 5 = 2 x 10^11: below 2^28 after / 1_000
    let z2 = z9 * z9 / ONE9;
    let (mut higher, mut power, mut n) = (0i64, z9, 3);
    loop {
        power = power * z2 / ONE9;
        let term = power / n;
        if term == 0 {
            break;
        }
        higher += term;
        n += 2;
    }
    Some(k * LN2_12 + 2 * (z + higher as i128 * 1_000))
}

/// EWMA of annualized squared log returns, in [`pricing::ONE`] units (a variance of 0.64 is a
/// volatility of 80%). A return over `elapsed_secs` is one sample of `r^2 x year / elapsed`; it
/// enters with weight `elapsed / (elapsed + tau)`, so the memory is ~`tau` seconds whatever the
/// refresh cadence. Saturates at u64::MAX.
pub fn update_variance(variance: u64, log_return: i128, elapsed_secs: u64, tau_secs: u64) -> u64 {
    if elapsed_secs == 0 {
        return variance;
    }
    let r2 = (log_return.unsigned_abs()).saturating_mul(log_return.unsigned_abs()) / pricing::ONE as u128;
    let sample = r2.saturating_mul(SECONDS_PER_YEAR) / elapsed_secs as u128;
    let (w, total) = (elapsed_secs as u128, elapsed_secs as u128 + tau_secs as u128);
    let v = variance as u128;
    let next = if sample >= v { v + (sample - v) * w / total } else { v - (v - sample) * w / total };
    u64::try_from(next).unwrap_or(u64::MAX)
}

/// Volatility (12 decimals) of a variance in 12 decimals: sqrt(v) x 10^6, exact to 10^-6.
pub fn volatility(variance: u64) -> u64 {
    isqrt_u64(variance) * 1_000_000
}

/// Integer square root (floor).
pub fn isqrt_u64(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let mut r: u64 = 1 << (64 - n.leading_zeros()).div_ceil(2);
    loop {
        let next = (r + n / r) / 2;
        if next >= r {
            return r;
        }
        r = next;
    }
}

#[cfg(test)]
mod tests;
