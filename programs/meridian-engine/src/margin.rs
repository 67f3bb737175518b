//! Account health: equity against initial and maintenance requirements.
//!
//! Interim per-market rule (the portfolio engine replaces it): in each market, the requirement is a
//! fraction of the notional of the worst case of the resting orders filling, at the market's mark
//! price: `max(|base + bids|, |base - asks|) * mark * fraction`. Equity counts the collateral,
//! each position's value at mark, and the loss (never the gain) resting orders would book if they
//! filled at their own prices.

use crate::position::Position;
use crate::units::Ticks;

/// What the margin rule needs to know about a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketRisk {
    pub mark: Ticks,
    pub tick_size: u64,
    /// Initial and maintenance requirements, basis points of notional.
    pub initial_bps: u32,
    pub maintenance_bps: u32,
    /// The market's cumulative funding index: funding a position has not settled counts against
    /// (or for) its equity, rounded against the account.
    pub funding_index: i128,
    /// The market's cumulative socialized loss per lot (`liquidation::LOSS_SCALE`): what a
    /// position has not paid counts against its equity.
    pub loss_index: u64,
}

/// An account's health in quote units (i128: sums over many positions cannot overflow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub equity: i128,
    pub initial: i128,
    pub maintenance: i128,
    /// A partial liquidation stops once equity is back above this (between maintenance and
    /// initial; see [`Health::finish_liquidation_end`] for the per-market rule). Not computed by
    /// the order path's checks (`Valuation::ConservativeNow` on-chain), which need only initial.
    pub liquidation_end: i128,
}

impl Health {
    /// Equity above the initial requirement (negative: below).
    pub fn initial_free(&self) -> i128 {
        self.equity.saturating_sub(self.initial)
    }

    pub fn maintenance_free(&self) -> i128 {
        self.equity.saturating_sub(self.maintenance)
    }

    /// Equity above the liquidation end (a liquidation takes over positions while this is negative).
    pub fn liquidation_end_free(&self) -> i128 {
        self.equity.saturating_sub(self.liquidation_end)
    }

    /// Per-market rule: liquidation ends halfway between the maintenance and the initial
    /// requirement (rounded up). Set once the positions are summed, so the checks that only need
    /// the initial requirement never pay for it.
    pub fn finish_liquidation_end(&mut self) {
        let sum = self.initial.saturating_add(self.maintenance);
        // requirements are never negative; an i64 halving keeps the 128-bit division (a libcall on
        // SBF) off the order path
        self.liquidation_end = match u64::try_from(sum) {
            Ok(s) => s.div_ceil(2) as i128,
            Err(_) => sum.div_euclid(2) + sum.rem_euclid(2),
        };
    }

    /// equity / maintenance requirement in basis points (u32::MAX when nothing is required).
    pub fn ratio_bps(&self) -> u32 {
        if self.maintenance <= 0 {
            return u32::MAX;
        }
        // in [0, u32::MAX]: equity >= 0, maintenance > 0, clamped by min
        (self.equity.max(0).saturating_mul(10_000) / self.maintenance).min(u32::MAX as i128) as u32
    }
}

/// a * b. Both below 2^32 (the usual case: lots, ticks, tick sizes) is one native multiply; on SBF a
/// 128-bit multiply is a libcall.
#[inline(always)]
fn mul(a: u64, b: u64) -> u128 {
    if (a | b) >> 32 == 0 {
        a.wrapping_mul(b) as u128 // both below 2^32: exact
    } else {
        a as u128 * b as u128
    }
}

/// ceil(n * bps / 10_000): native u64 arithmetic when it fits, exact 128-bit otherwise. A
/// requirement beyond i128 saturates: no equity can meet it. (A comparison, not `>> 32`: on SBF a
/// 128-bit shift is a libcall.)
#[inline(always)]
fn requirement(notional: u128, bps: u32) -> i128 {
    // notional below 2^50 and bps below 2^14 (<= 10_000): the product fits a u64
    if notional < (1 << 50) && bps < (1 << 14) {
        let num = (notional as u64).wrapping_mul(bps as u64); // notional < 2^50: checked just above
        return num.div_ceil(10_000) as i128; // below 2^64 / 10^4: fits
    }
    notional.checked_mul(bps as u128).and_then(|n| i128::try_from(n.div_ceil(10_000)).ok()).unwrap_or(i128::MAX)
}

/// a x b as an i128, saturated at i128::MAX (a product of two u64 can exceed it).
#[inline(always)]
fn signed_product(a: u64, b: u64) -> i128 {
    i128::try_from(mul(a, b)).unwrap_or(i128::MAX)
}

/// Below this, products of two such numbers and sums of four of them fit an i64.
const SMALL: u64 = 1 << 30;
const SMALL_VALUE: u64 = 1 << 60;

/// A position's value at mark, the loss its resting orders would book if filled, and the notional
/// of its worst case (all bids or all asks filled).
#[inline(always)]
fn exposure(p: &Position, r: &MarketRisk) -> (i128, u128) {
    // the program keeps mark * tick size within u64 (market creation and every order's notional are
    // checked), so this never saturates in practice
    let per_lot = crate::fixed::mul_u64(r.mark.0, r.tick_size).unwrap_or(u64::MAX);
    // Ordinary sizes: lots and per-lot value below 2^30, balances below 2^60. Every product is then
    // below 2^60 and every sum of up to four terms below 2^62: plain i64 arithmetic is exact (and
    // on SBF far cheaper than checked i128).
    if per_lot < SMALL
        && p.base_lots.unsigned_abs() < SMALL
        && p.bid_lots < SMALL
        && p.ask_lots < SMALL
        && p.quote_balance.unsigned_abs() < SMALL_VALUE
        && p.bid_notional < SMALL_VALUE
        && p.ask_notional < SMALL_VALUE
    {
        // every operand below is under 2^30 or 2^60 (the guard): the casts to i64 are exact
        let per_lot = per_lot as i64;
        let value = p.base_lots.wrapping_mul(per_lot);
        let bid_fill_pnl = (p.bid_lots as i64).wrapping_mul(per_lot).wrapping_sub(p.bid_notional as i64);
        let ask_fill_pnl = (p.ask_notional as i64).wrapping_sub((p.ask_lots as i64).wrapping_mul(per_lot));
        let equity =
            p.quote_balance.wrapping_add(value).wrapping_add(bid_fill_pnl.min(0)).wrapping_add(ask_fill_pnl.min(0));
        let long = p.base_lots.wrapping_add(p.bid_lots as i64).unsigned_abs();
        let short = p.base_lots.wrapping_sub(p.ask_lots as i64).unsigned_abs();
        let worst = long.max(short).wrapping_mul(per_lot as u64);
        return (equity as i128, worst as u128);
    }
    // beyond ordinary sizes: exact i128, saturating where a product of two u64 can exceed it (a
    // saturated value makes the account worthless or its requirement unpayable, never healthier)
    let value = if p.base_lots >= 0 {
        signed_product(p.base_lots.unsigned_abs(), per_lot)
    } else {
        -signed_product(p.base_lots.unsigned_abs(), per_lot)
    };
    // a bid filling at a price above mark, or an ask below, books a loss at once
    let bid_fill_pnl = signed_product(p.bid_lots, per_lot).saturating_sub(p.bid_notional as i128);
    let ask_fill_pnl = (p.ask_notional as i128).saturating_sub(signed_product(p.ask_lots, per_lot));
    let equity = (p.quote_balance as i128)
        .saturating_add(value)
        .saturating_add(bid_fill_pnl.min(0))
        .saturating_add(ask_fill_pnl.min(0));
    // the worst case's size: at most 2^64 + 2^63 lots, so the u128 difference is exact (no
    // truncation: a giant bid must not wrap the requirement of a long to nothing)
    let long = (p.base_lots as i128 + p.bid_lots as i128).unsigned_abs();
    let short = (p.base_lots as i128 - p.ask_lots as i128).unsigned_abs();
    // not `saturating_mul`: on SBF it measured 4 to 11 CU dearer on every margin check
    #[allow(clippy::manual_saturating_arithmetic)]
    let size_notional = long.max(short).checked_mul(per_lot as u128).unwrap_or(u128::MAX);
    (equity, size_notional)
}

/// `exposure` with unsettled funding taken off the equity.
#[inline(always)]
fn exposure_with_funding(p: &Position, r: &MarketRisk) -> (i128, u128) {
    let (equity, worst) = exposure(p, r);
    if p.funding_index() == r.funding_index && p.loss_index == r.loss_index {
        return (equity, worst);
    }
    (equity.saturating_sub(crate::liquidation::owed(p, r.funding_index, r.loss_index) as i128), worst)
}

/// Adds one market's contribution to `h`.
pub fn add_position(h: &mut Health, p: &Position, r: &MarketRisk) {
    let (equity, worst_notional) = exposure_with_funding(p, r);
    h.equity = h.equity.saturating_add(equity);
    h.initial = h.initial.saturating_add(requirement(worst_notional, r.initial_bps));
    h.maintenance = h.maintenance.saturating_add(requirement(worst_notional, r.maintenance_bps));
}

/// Equity minus the initial requirement only (what order placement and withdrawals check).
pub fn initial_free<'a>(collateral: i64, positions: impl IntoIterator<Item = (&'a Position, &'a MarketRisk)>) -> i128 {
    let mut free = collateral as i128;
    for (p, r) in positions {
        let (equity, worst_notional) = exposure_with_funding(p, r);
        free = free.saturating_add(equity).saturating_sub(requirement(worst_notional, r.initial_bps));
    }
    free
}

pub fn health<'a>(collateral: i64, positions: impl IntoIterator<Item = (&'a Position, &'a MarketRisk)>) -> Health {
    let mut h = Health { equity: collateral as i128, ..Health::default() };
    for (p, r) in positions {
        add_position(&mut h, p, r);
    }
    h.finish_liquidation_end();
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Lots, Side};
    use proptest::prelude::*;

    const R: MarketRisk = MarketRisk {
        mark: Ticks(100),
        tick_size: 10,
        initial_bps: 1_000,
        maintenance_bps: 500,
        funding_index: 0,
        loss_index: 0,
    };

    #[test]
    fn unsettled_funding_counts_in_equity() {
        let mut p = Position::new(0);
        p.apply_fill(Side::Bid, Lots(10), 10_000).unwrap();
        let at = |index| health(1_000, [(&p, &MarketRisk { funding_index: index, ..R })]);
        assert_eq!(at(0).equity, 1_000);
        // 2.5 units per lot owed by the long: 25
        assert_eq!(at(5 * crate::funding::FUNDING_SCALE / 2).equity, 1_000 - 25);
        // a fraction rounds against the account both ways
        assert_eq!(at(1).equity, 1_000 - 1);
        assert_eq!(at(-1).equity, 1_000);
        assert_eq!(initial_free(1_000, [(&p, &MarketRisk { funding_index: 1, ..R })]), 1_000 - 1 - 1_000);
    }

    #[test]
    fn long_position_and_orders() {
        let mut p = Position::new(0);
        p.apply_fill(Side::Bid, Lots(10), 9_000).unwrap(); // paid 9000, worth 10000 at mark 100
        let h = health(1_000, [(&p, &R)]);
        assert_eq!(h.equity, 1_000 + 1_000);
        assert_eq!((h.initial, h.maintenance), (1_000, 500));
        // a resting bid at 120 would fill 20 above mark: counts a loss of 5 * 20 * 10 = 1000
        p.add_resting(Side::Bid, Lots(5), 5 * 120 * 10).unwrap();
        let h = health(1_000, [(&p, &R)]);
        assert_eq!(h.equity, 2_000 - 1_000);
        assert_eq!(h.initial, 1_500, "requirement for 15 lots long");
        // an ask above mark books no gain
        p.add_resting(Side::Ask, Lots(30), 30 * 130 * 10).unwrap();
        let h = health(1_000, [(&p, &R)]);
        assert_eq!(h.equity, 1_000);
        assert_eq!(h.initial, 2_000, "worst case: asks fill, 20 lots short");
    }

    /// The audit's finding: a bid of nearly 2^64 lots wrapped a long's worst case (1 + (2^64 - 1)
    /// lots) to 0 lots when truncated to 64 bits, zeroing the requirement.
    #[test]
    fn a_giant_bid_never_wraps_the_requirement() {
        let mut p = Position::new(0);
        p.apply_fill(Side::Bid, Lots(1), 100).unwrap();
        p.add_resting(Side::Bid, Lots(u64::MAX), u64::MAX).unwrap();
        let r = MarketRisk { tick_size: 1, ..R };
        let h = health(1_000, [(&p, &r)]);
        // 2^64 lots long at 100 x 1 per lot, 10%
        assert_eq!(h.initial, (1i128 << 64) * 100 / 10);
        assert!(h.initial_free() < 0);
        // and beyond i128: unpayable, never negative
        let r = MarketRisk { mark: Ticks(u64::MAX), tick_size: u64::MAX, ..R };
        assert_eq!(health(1_000, [(&p, &r)]).initial, i128::MAX);
    }

    /// The formula without fast paths, in i128 (exact for per-lot values below 2^56: every product
    /// is below 2^121); a requirement beyond i128 saturates.
    fn reference(collateral: i64, p: &Position, r: &MarketRisk) -> Health {
        let per_lot = r.mark.0 as i128 * r.tick_size as i128;
        let base = p.base_lots as i128;
        let bid = (p.bid_lots as i128 * per_lot - p.bid_notional as i128).min(0);
        let ask = (p.ask_notional as i128 - p.ask_lots as i128 * per_lot).min(0);
        let worst = (base + p.bid_lots as i128).abs().max((base - p.ask_lots as i128).abs()) * per_lot;
        let req = |bps: u32| {
            let n = (worst as u128).checked_mul(bps as u128).and_then(|n| n.checked_add(9_999));
            n.and_then(|n| i128::try_from(n / 10_000).ok()).unwrap_or(i128::MAX)
        };
        let mut h = Health {
            equity: collateral as i128 + p.quote_balance as i128 + base * per_lot + bid + ask,
            initial: req(r.initial_bps),
            maintenance: req(r.maintenance_bps),
            liquidation_end: 0,
        };
        h.finish_liquidation_end();
        h
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn fast_paths_equal_the_plain_formula(
            collateral in any::<i32>(),
            // shifts from 0 bits (the whole range: the extremes a user can reach) to 60 mix ordinary
            // sizes (the i64 fast path) with huge ones
            base in (any::<i64>(), 0u32..50).prop_map(|(b, s)| b >> s),
            quote in (any::<i64>(), 0u32..40).prop_map(|(q, s)| q >> s),
            bids in (any::<u64>(), 0u32..60).prop_map(|(b, s)| b >> s),
            asks in (any::<u64>(), 0u32..60).prop_map(|(a, s)| a >> s),
            bid_px in (any::<u64>(), 28u32..50).prop_map(|(p, s)| p >> s),
            ask_px in (any::<u64>(), 28u32..50).prop_map(|(p, s)| p >> s),
            mark in prop_oneof![1u64..(1 << 20), 1u64..(1 << 36)],
            tick in prop_oneof![1u64..(1 << 8), 1u64..(1 << 20)],
            im in 1u32..10_000,
        ) {
            let mut p = Position::new(0);
            p.base_lots = base;
            p.quote_balance = quote;
            p.bid_lots = bids;
            p.ask_lots = asks;
            p.bid_notional = bids.saturating_mul(bid_px);
            p.ask_notional = asks.saturating_mul(ask_px);
            let r = MarketRisk { mark: Ticks(mark), tick_size: tick, initial_bps: im, maintenance_bps: im / 2, funding_index: 0, loss_index: 0 };
            let want = reference(collateral as i64, &p, &r);
            prop_assert_eq!(health(collateral as i64, [(&p, &r)]), want);
            prop_assert_eq!(initial_free(collateral as i64, [(&p, &r)]), want.equity.saturating_sub(want.initial));
        }

        #[test]
        fn requirements_never_negative_and_monotone(base in -1_000i64..1_000, extra in 0u64..1_000, bids in 0u64..500, asks in 0u64..500) {
            // without orders: monotone in the position's size
            let mut p = Position::new(0);
            p.base_lots = base;
            let h = health(0, [(&p, &R)]);
            prop_assert!(h.initial >= 0 && h.maintenance >= 0 && h.initial >= h.maintenance);
            let mut bigger = p;
            bigger.base_lots = if base >= 0 { base + extra as i64 } else { base - extra as i64 };
            prop_assert!(health(0, [(&bigger, &R)]).initial >= h.initial);
            // adding resting orders never lowers it (a bid offsetting a short still leaves the asks' case)
            let mut with_orders = p;
            with_orders.add_resting(Side::Bid, Lots(bids), bids * 100 * 10).unwrap();
            with_orders.add_resting(Side::Ask, Lots(asks), asks * 100 * 10).unwrap();
            prop_assert!(health(0, [(&with_orders, &R)]).initial >= h.initial);
        }
    }
}
