//! Perpetual funding: the premium of the book over the oracle, clamped, averaged over time, accrued
//! into a cumulative index per lot, and settled lazily into positions.
//!
//! The rate is time-weighted, not a snapshot: each update samples the clamped premium and moves the
//! rate toward it with weight `dt / (dt + period)` (an EWMA with the funding period as its time
//! constant), where `dt` is the time since the previous sample, at most [`MAX_SAMPLE_SECS`]. The
//! interval since the previous update accrues at the rate in force over it (the rate before the new
//! sample), and a sample counts only the orders that were already resting at the previous sample
//! (the program passes that filter to [`impact_price`]). So an order placed, sampled and cancelled
//! in one transaction is not seen at all; to count, a quote rests at least from one update to the
//! next (a second or more, exposed to fills); two samples in one second weigh nothing.
//!
//! Units: the index is quote native units per lot x [`FUNDING_SCALE`] (i128), rates are parts per
//! 10^9 per funding period. A position of `b` lots owes `b x (index_now - index_then) / SCALE` (longs
//! pay a positive rate, shorts receive it). Settlement rounds toward the protocol: a payer pays the
//! amount rounded up, a receiver gets it rounded down; the difference (under one native unit per
//! settlement) is the market's `funding_rounding`, so paid = received + rounding, exactly.

use crate::book::{Book, Tree};
use crate::position::Position;
use crate::units::{Side, Ticks};

pub const FUNDING_SCALE: i128 = 1_000_000_000;
/// Rates: parts per 10^9.
pub const RATE_ONE: i128 = 1_000_000_000;

/// Most counted orders `impact_price` adds up (a side that needs more to reach the impact size
/// counts as too thin), and most orders it visits (skipped ones included): a bounded cost however
/// crowded the book.
pub const IMPACT_WALK_LIMIT: usize = 32;
pub const IMPACT_VISIT_LIMIT: usize = 256;

/// What a side of the book says about the impact price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impact {
    /// A market order of the impact size would finish filling at this price.
    Price(Ticks),
    /// Thinner than the impact size within [`IMPACT_WALK_LIMIT`] counted orders.
    Thin,
    /// [`IMPACT_VISIT_LIMIT`] orders visited without an answer (orders the filter skips crowd the
    /// front): no sample should be taken from it. Skipped orders cannot turn a real quote into
    /// "thin".
    Unknown,
}

impl Impact {
    pub fn price(self) -> Option<Ticks> {
        match self {
            Impact::Price(p) => Some(p),
            _ => None,
        }
    }
}

/// The price at which a market order worth `impact_notional` quote units would finish filling
/// against `side` of the book (the worst level reached), counting only the orders `counts` accepts
/// (the program: orders that rested through the previous sample, live and in the band).
/// `impact_notional` 0 means the best price.
pub fn impact_price<T: Tree>(
    book: &Book<T>,
    side: Side,
    impact_notional: u64,
    tick_size: u64,
    counts: impl Fn(&crate::book::Node) -> bool,
) -> Impact {
    let (mut filled, mut counted): (u128, usize) = (0, 0);
    for (visited, (_, node)) in book.iter(side).enumerate() {
        if visited == IMPACT_VISIT_LIMIT {
            return Impact::Unknown;
        }
        if !counts(&node) {
            continue;
        }
        filled += node.size.0 as u128 * node.price.0 as u128 * tick_size as u128;
        if filled >= impact_notional as u128 {
            return Impact::Price(node.price);
        }
        counted += 1;
        if counted == IMPACT_WALK_LIMIT {
            return Impact::Thin;
        }
    }
    Impact::Thin
}

/// The premium of the book over the oracle, parts per 10^9 of the oracle price: positive when the
/// impact bid is above the oracle (longs pay), negative when the impact ask is below it (shorts
/// pay), 0 inside the spread. A one-sided book says nothing (0): a lone order on an empty side
/// must not set the rate.
pub fn premium(impact_bid: Option<Ticks>, impact_ask: Option<Ticks>, oracle: Ticks) -> i128 {
    let (Some(bid), Some(ask)) = (impact_bid, impact_ask) else {
        return 0;
    };
    if oracle.0 == 0 {
        return 0;
    }
    let o = oracle.0 as i128;
    let above = (bid.0 as i128 - o).max(0);
    let below = (o - ask.0 as i128).max(0);
    (above - below) * RATE_ONE / o
}

/// The rate for a period: the premium clamped to +-`max_rate_bps`.
pub fn clamp_rate(premium: i128, max_rate_bps: u32) -> i128 {
    let max = max_rate_bps as i128 * (RATE_ONE / 10_000);
    premium.clamp(-max, max)
}

/// The most time one premium sample is weighted with.
pub const MAX_SAMPLE_SECS: u64 = 60;

/// The time-weighted rate after a sample of `sample` (a clamped premium) `elapsed_secs` after the
/// previous sample: `rate + (sample - rate) x dt / (dt + period)`, `dt` at most
/// [`MAX_SAMPLE_SECS`], truncated toward the old rate. Both rates are clamped, so the result is.
pub fn sample_rate(rate: i128, sample: i128, elapsed_secs: u64, period_secs: u64) -> i128 {
    let dt = elapsed_secs.min(MAX_SAMPLE_SECS) as i128;
    if dt == 0 || period_secs == 0 {
        return rate;
    }
    // |sample - rate| <= 2 x 10^9 (two clamped rates): the product is far below i128
    rate + (sample - rate) * dt / (dt + period_secs as i128)
}

/// Index increase for `elapsed_secs` at `rate` per `period_secs`, on a lot worth `oracle` ticks x
/// `tick_size` quote units. Truncated toward zero (the index, not anyone's balance, absorbs it).
pub fn index_delta(rate: i128, oracle: Ticks, tick_size: u64, elapsed_secs: u64, period_secs: u64) -> Option<i128> {
    if period_secs == 0 {
        return None;
    }
    let lot_value = (oracle.0 as i128).checked_mul(tick_size as i128)?;
    rate.checked_mul(lot_value)?.checked_mul(elapsed_secs as i128)?.checked_div(period_secs as i128)
}

/// What one settlement moved: the native units paid (negative: received) and the rounding kept by
/// the protocol, in units of 10^-9 (always in [0, 10^9)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    pub paid: i64,
    pub rounding: u64,
}

/// Settles `p`'s funding up to `index` (either direction) into `quote_balance`, rounding up: payers
/// pay a fraction more, receivers get a fraction less.
pub fn settle(p: &mut Position, index: i128) -> Option<Settled> {
    let last = p.funding_index();
    if last == index {
        return Some(Settled::default());
    }
    let owed = (p.base_lots as i128).checked_mul(index.checked_sub(last)?)?;
    let paid = crate::fixed::div_round_i128(owed, FUNDING_SCALE, crate::Rounding::Up)?;
    let rounding = (paid * FUNDING_SCALE - owed) as u64; // in [0, SCALE): paid = ceil(owed / SCALE)
    let paid = i64::try_from(paid).ok()?;
    p.quote_balance = p.quote_balance.checked_sub(paid)?;
    p.funding_paid = p.funding_paid.checked_add(paid)?;
    p.set_funding_index(index);
    Some(Settled { paid, rounding })
}

/// Funding `p` owes at `index` and has not settled, in native units, rounded up (an account's debt
/// is never understated, its credit never overstated).
#[inline]
pub fn pending(p: &Position, index: i128) -> Option<i64> {
    let last = p.funding_index();
    if last == index || p.base_lots == 0 {
        return Some(0);
    }
    let owed = (p.base_lots as i128).checked_mul(index.checked_sub(last)?)?;
    i64::try_from(crate::fixed::div_round_i128(owed, FUNDING_SCALE, crate::Rounding::Up)?).ok()
}

#[cfg(test)]
mod tests;
