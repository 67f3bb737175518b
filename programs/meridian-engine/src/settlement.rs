//! PnL settlement: a position's cash moves into or out of its account's collateral through the
//! market's PnL pool, and its quote balance moves the other way, so the position's value plus the
//! collateral is unchanged.
//!
//! Why a pool (Drift v2's way) rather than pairing a winner with a loser in one instruction (Mango
//! v4's): a loss is realized the moment anyone settles it (keepers do), a winner is paid later by
//! whoever calls, and neither needs to know the other; what the pool holds is exactly what losers of
//! that market have paid in and winners not yet taken out. The vault holds it:
//! `vault == collateral + fees + insurance + pools`, and within a market the quote balances sum to
//! the pool.
//!
//! The rules, for a position whose value at the settlement price is `pnl = quote + base x lot value`:
//! - **a loss** (`pnl < 0`) is realized from collateral, as far as the collateral goes (what is left
//!   stays owed in the quote balance: a bankruptcy, stage 3, resolves it);
//! - **realized profit** (a position with no base: its quote balance is all it has) is paid from the
//!   pool, as far as the pool goes;
//! - **unrealized profit** (an open position) is paid only at a usable price, at most
//!   `1 - haircut` of it, and per account at most `limit_bps` of the position's notional per
//!   window: a price pumped for a few minutes pays out a fraction of its paper gain, however large
//!   (the Mango lesson of October 2022). The rest is paid when the position closes.

use crate::position::Position;

/// The settlement rules ([`RULES`] on-chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Share of unrealized profit held back (bps).
    pub haircut_bps: u32,
    /// The window over which unrealized profit paid is counted (seconds)...
    pub window_secs: i64,
    /// ...and the most paid in it, as a share of the notional of the position settled (bps).
    pub limit_bps: u32,
}

pub const RULES: Rules = Rules { haircut_bps: 2_000, window_secs: 3_600, limit_bps: 1_000 };

/// A position's value at `lot_value` per lot, quote native units: its PnL (funding and socialized
/// loss settled into the quote balance first).
pub fn pnl(p: &Position, lot_value: i64) -> i128 {
    p.quote_balance as i128 + p.base_lots as i128 * lot_value as i128
}

/// The unrealized-profit window of an account: when it started and what it has paid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub start_ts: i64,
    pub paid: u64,
}

impl Window {
    /// The window at `now` (a new one once the old has run its length).
    pub fn at(self, now: i64, rules: &Rules) -> Window {
        if now.saturating_sub(self.start_ts) >= rules.window_secs {
            Window { start_ts: now, paid: 0 }
        } else {
            self
        }
    }

    /// What is left to pay in this window for a position of `notional`.
    pub fn left(&self, notional: u64, rules: &Rules) -> u64 {
        let limit = (notional as u128 * rules.limit_bps as u128 / 10_000) as u64; // <= notional
        limit.saturating_sub(self.paid)
    }
}

/// What one settlement moves: `amount` into collateral (negative: out of it, a loss realized), and
/// whether it counted against the unrealized-profit window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    pub amount: i64,
    pub unrealized: bool,
}

/// The settlement of a position worth `pnl`: `open` (it has base), `collateral` of the account,
/// `pool` of the market, `left` in the account's window (for an open position's profit).
pub fn plan(pnl: i128, open: bool, collateral: i64, pool: u64, left: u64, rules: &Rules) -> Settlement {
    if pnl < 0 {
        let loss = pnl.unsigned_abs().min(collateral.max(0).unsigned_abs() as u128) as u64; // <= collateral
        return Settlement { amount: -(loss as i64), unrealized: false };
    }
    let profit = u64::try_from(pnl).unwrap_or(u64::MAX);
    if !open {
        return Settlement { amount: profit.min(pool).min(i64::MAX as u64) as i64, unrealized: false };
    }
    let kept = (profit as u128 * (10_000 - rules.haircut_bps.min(10_000)) as u128 / 10_000) as u64; // <= profit
    let paid = kept.min(left).min(pool).min(i64::MAX as u64);
    Settlement { amount: paid as i64, unrealized: true }
}

/// Applies `s` to the position: its quote balance gives up what the collateral receives (a loss:
/// receives what the collateral pays), so its value plus the collateral is unchanged. None on
/// overflow (the caller fails).
pub fn apply(p: &mut Position, s: &Settlement) -> Option<()> {
    p.quote_balance = p.quote_balance.checked_sub(s.amount)?;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Lots, Side};
    use proptest::prelude::*;

    #[test]
    fn losses_first_then_profits_from_the_pool() {
        let r = RULES;
        // a flat loser owing 300 with 1,000 of collateral: all of it realized
        assert_eq!(plan(-300, false, 1_000, 0, 0, &r), Settlement { amount: -300, unrealized: false });
        // owing more than it has: what it has
        assert_eq!(plan(-3_000, false, 1_000, 0, 0, &r).amount, -1_000);
        assert_eq!(plan(-3_000, false, -5, 0, 0, &r).amount, 0);
        // a flat winner: as much as the pool holds
        assert_eq!(plan(500, false, 0, 300, 0, &r).amount, 300);
        assert_eq!(plan(500, false, 0, 900, 0, &r).amount, 500);
        // an open winner: 80% at most, within the window, within the pool
        assert_eq!(plan(1_000, true, 0, 10_000, 10_000, &r), Settlement { amount: 800, unrealized: true });
        assert_eq!(plan(1_000, true, 0, 10_000, 250, &r).amount, 250);
        assert_eq!(plan(1_000, true, 0, 100, 10_000, &r).amount, 100);
    }

    #[test]
    fn the_window_pays_a_tenth_of_the_notional_an_hour() {
        let r = RULES;
        let w = Window { start_ts: 1_000, paid: 0 }.at(1_500, &r);
        assert_eq!(w.left(65_000, &r), 6_500);
        let w = Window { start_ts: 1_000, paid: 6_000 };
        assert_eq!(w.at(4_599, &r).left(65_000, &r), 500, "the same hour");
        assert_eq!(w.at(4_600, &r), Window { start_ts: 4_600, paid: 0 }, "a new hour");
    }

    #[test]
    fn settling_keeps_the_value() {
        let mut p = Position::new(0);
        p.apply_fill(Side::Bid, Lots(10), 1_000).unwrap(); // long 10 at 100
        let (collateral, lot_value) = (500i64, 120);
        let before = pnl(&p, lot_value) + collateral as i128;
        let s = plan(pnl(&p, lot_value), true, collateral, 10_000, 10_000, &RULES);
        assert_eq!(s.amount, 160, "80% of 200");
        apply(&mut p, &s).unwrap();
        assert_eq!(pnl(&p, lot_value) + (collateral + s.amount) as i128, before);
    }

    proptest! {
        /// Whatever the inputs: a loss never takes more than the collateral or the loss, a profit
        /// never more than the pool, the profit, or (open) the window's room; value is conserved.
        #[test]
        fn settlement_is_bounded_and_conserves_value(
            pnl_v in -(1i128 << 62)..(1i128 << 62),
            open: bool,
            collateral in -(1i64 << 40)..(1i64 << 62),
            pool in 0u64..(1u64 << 62),
            left in 0u64..(1u64 << 62),
        ) {
            let s = plan(pnl_v, open, collateral, pool, left, &RULES);
            if pnl_v < 0 {
                prop_assert!(s.amount <= 0 && (s.amount as i128) >= pnl_v && s.amount >= -collateral.max(0));
            } else {
                prop_assert!(s.amount >= 0 && s.amount as i128 <= pnl_v && s.amount as u64 <= pool);
                if open {
                    prop_assert!(s.amount as u64 <= left && s.amount as i128 * 10_000 <= pnl_v * 8_000);
                }
            }
            let mut p = Position::new(0);
            p.quote_balance = 0;
            apply(&mut p, &s).unwrap();
            prop_assert_eq!(p.quote_balance as i128 + s.amount as i128, 0);
        }
    }
}
