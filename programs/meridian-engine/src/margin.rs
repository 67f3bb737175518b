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
}

/// An account's health in quote units (i128: sums over many positions cannot overflow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub equity: i128,
    pub initial: i128,
    pub maintenance: i128,
}

impl Health {
    /// Equity above the initial requirement (negative: below).
    pub fn initial_free(&self) -> i128 {
        self.equity - self.initial
    }

    pub fn maintenance_free(&self) -> i128 {
        self.equity - self.maintenance
    }

    /// equity / maintenance requirement in basis points (u32::MAX when nothing is required).
    pub fn ratio_bps(&self) -> u32 {
        if self.maintenance <= 0 {
            return u32::MAX;
        }
        (self.equity.max(0) * 10_000 / self.maintenance).min(u32::MAX as i128) as u32
    }
}

/// Requirement rounded up (toward the protocol).
fn requirement(notional: i128, bps: u32) -> i128 {
    let num = notional * bps as i128;
    (num + 9_999) / 10_000
}

/// Adds one market's contribution to `h`.
pub fn add_position(h: &mut Health, p: &Position, r: &MarketRisk) {
    let per_lot = r.mark.0 as i128 * r.tick_size as i128;
    let base = p.base_lots as i128;
    h.equity += p.quote_balance as i128 + base * per_lot;
    // a bid filling at a price above mark, or an ask below, books a loss at once
    let bid_fill_pnl = p.bid_lots as i128 * per_lot - p.bid_notional as i128;
    let ask_fill_pnl = p.ask_notional as i128 - p.ask_lots as i128 * per_lot;
    h.equity += bid_fill_pnl.min(0) + ask_fill_pnl.min(0);
    let worst = (base + p.bid_lots as i128).abs().max((base - p.ask_lots as i128).abs());
    let worst_notional = worst * per_lot;
    h.initial += requirement(worst_notional, r.initial_bps);
    h.maintenance += requirement(worst_notional, r.maintenance_bps);
}

pub fn health<'a>(collateral: i64, positions: impl IntoIterator<Item = (&'a Position, &'a MarketRisk)>) -> Health {
    let mut h = Health { equity: collateral as i128, ..Health::default() };
    for (p, r) in positions {
        add_position(&mut h, p, r);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Lots, Side};
    use proptest::prelude::*;

    const R: MarketRisk = MarketRisk { mark: Ticks(100), tick_size: 10, initial_bps: 1_000, maintenance_bps: 500 };

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

    proptest! {
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
