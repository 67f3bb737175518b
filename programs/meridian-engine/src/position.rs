//! A margin account's position in one market.
//!
//! Money model: a fill moves quote between taker and maker (`quote_balance`, cash paid or received)
//! and base (`base_lots`), and nothing else; fees move collateral. Across all accounts of a market,
//! base and quote balances each sum to zero once every event is consumed, so trading alone never
//! changes how many tokens the vault owes. An account's value in a market is
//! `quote_balance + base_lots * mark`. `entry_quote` and `realized_pnl` are the cost basis and the
//! lifetime realized PnL, for statements.

use crate::units::{Lots, Side};
use bytemuck::{Pod, Zeroable};

/// Position limits, checked whenever an order rests or fills and after a takeover: the account's
/// base in a market, with all its resting bids (or all its asks) filled, stays within
/// +-`MAX_POSITION_LOTS`, and its quote balance, likewise, within +-`MAX_POSITION_QUOTE`.
///
/// Why: a maker's fill is applied later by the crank, which must never fail (a fill that cannot be
/// applied would block the market's event queue for everyone). A fill only moves a maker's base and
/// quote within the envelope its resting orders had when they were placed, and that envelope was
/// checked then; the 2^62 left below `i64::MAX` absorbs funding, socialized loss and fees. Cost
/// basis and realized PnL stay below their bounds too (statements saturate beyond).
pub const MAX_POSITION_LOTS: u64 = 1 << 48;
pub const MAX_POSITION_QUOTE: u64 = 1 << 61;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Position {
    pub market_index: u16,
    pub in_use: u8,
    pub _pad: [u8; 5],
    /// Long (+) or short (-) base lots.
    pub base_lots: i64,
    /// Cash from fills: buying pays (-), selling receives (+). Native quote units.
    pub quote_balance: i64,
    /// Cost of the open base: paid for a long (+), received for a short (-).
    pub entry_quote: i64,
    pub realized_pnl: i64,
    /// Resting orders' total size and value per side (for margin "as if filled").
    pub bid_lots: u64,
    pub ask_lots: u64,
    pub bid_notional: u64,
    pub ask_notional: u64,
    pub taker_volume: u64,
    pub maker_volume: u64,
    /// Fees paid, net of rebates.
    pub fees_paid: i64,
    /// The market's cumulative funding index (i128 as lo/hi) this position has settled to.
    pub funding_index_lo: u64,
    pub funding_index_hi: u64,
    /// Funding paid (+) or received (-) over the position's life, native units.
    pub funding_paid: i64,
    /// The market's cumulative socialized loss per lot (`liquidation::LOSS_SCALE`) this position
    /// has paid up to; a bankruptcy the insurance fund cannot cover raises the market's.
    pub loss_index: u64,
}

impl Position {
    pub fn new(market_index: u16) -> Position {
        Position { market_index, in_use: 1, ..Position::default() }
    }

    /// A new position in a market whose funding index is `index` (owes nothing for the past).
    pub fn opened_at(market_index: u16, index: i128) -> Position {
        let mut p = Position::new(market_index);
        p.set_funding_index(index);
        p
    }

    /// No exposure, no orders, no unsettled cash: the slot can be released.
    pub fn is_flat(&self) -> bool {
        self.base_lots == 0 && self.quote_balance == 0 && self.bid_lots == 0 && self.ask_lots == 0
    }

    pub fn funding_index(&self) -> i128 {
        // bit for bit: the two's complement words `set_funding_index` stored
        crate::units::join_u128(self.funding_index_lo, self.funding_index_hi) as i128
    }

    pub fn set_funding_index(&mut self, index: i128) {
        (self.funding_index_lo, self.funding_index_hi) = crate::units::split_u128(index as u128);
    }

    pub fn has_orders(&self) -> bool {
        self.bid_lots != 0 || self.ask_lots != 0
    }

    /// Within the position limits (see [`MAX_POSITION_LOTS`]) whatever its resting orders do:
    /// `-L <= base - asks` and `base + bids <= L` (which bound `base` too), likewise for the cash.
    /// Four checked 64-bit operations: an overflow is out of the limits.
    #[inline]
    pub fn within_limits(&self) -> bool {
        let (lots, quote) = (MAX_POSITION_LOTS as i64, MAX_POSITION_QUOTE as i64);
        self.base_lots.checked_add_unsigned(self.bid_lots).is_some_and(|v| v <= lots)
            && self.base_lots.checked_sub_unsigned(self.ask_lots).is_some_and(|v| v >= -lots)
            && self.quote_balance.checked_sub_unsigned(self.bid_notional).is_some_and(|v| v >= -quote)
            && self.quote_balance.checked_add_unsigned(self.ask_notional).is_some_and(|v| v <= quote)
    }

    /// [`within_limits`](Self::within_limits) after an order on `side` (which can only have moved
    /// the position's bid case up, or its ask case down, from a state within them): its two
    /// conditions.
    #[inline]
    pub fn within_limits_on(&self, side: Side) -> bool {
        let (lots, quote) = (MAX_POSITION_LOTS as i64, MAX_POSITION_QUOTE as i64);
        match side {
            Side::Bid => {
                self.base_lots.checked_add_unsigned(self.bid_lots).is_some_and(|v| v <= lots)
                    && self.quote_balance.checked_sub_unsigned(self.bid_notional).is_some_and(|v| v >= -quote)
            }
            Side::Ask => {
                self.base_lots.checked_sub_unsigned(self.ask_lots).is_some_and(|v| v >= -lots)
                    && self.quote_balance.checked_add_unsigned(self.ask_notional).is_some_and(|v| v <= quote)
            }
        }
    }

    /// Applies a fill: this account bought (`Bid`) or sold (`Ask`) `lots` for `value` quote units
    /// (exact: the sum of price x lots x tick size over the makers met). Returns the PnL realized
    /// by the part that reduced an existing position.
    pub fn apply_fill(&mut self, side: Side, lots: Lots, value: u64) -> Option<i64> {
        let signed_value = i64::try_from(value).ok()?;
        let lots_i = i64::try_from(lots.0).ok()?;
        self.quote_balance = self.quote_balance.checked_sub(side.sign() * signed_value)?;

        let base = self.base_lots;
        let reducing = base != 0 && (base > 0) != (side == Side::Bid);
        let mut realized = 0i64;
        if reducing {
            let closing = base.unsigned_abs().min(lots.0);
            // the cost basis the closed lots carried, and the part of this fill that closed them
            // (both rounded toward zero: statements only, the cash above is exact). Each is a
            // fraction (closing <= |base|, closing <= lots) of an i64, so it fits one.
            let basis = (self.entry_quote as i128 * closing as i128 / base.unsigned_abs() as i128) as i64;
            let close_value = (signed_value as i128 * closing as i128 / lots.0 as i128) as i64;
            realized = if base > 0 {
                close_value.checked_sub(basis)?
            } else {
                basis.checked_neg()?.checked_sub(close_value)?
            };
            self.entry_quote = self.entry_quote.checked_sub(basis)?;
            if lots.0 > closing {
                // flipped: the rest opens a position on the other side (close_value <= signed_value)
                self.entry_quote = side.sign() * (signed_value - close_value);
            }
        } else {
            self.entry_quote = self.entry_quote.checked_add(side.sign() * signed_value)?;
        }
        self.base_lots = base.checked_add(side.sign() * lots_i)?;
        if self.base_lots == 0 {
            self.entry_quote = 0;
        }
        // a statement figure: saturates rather than failing a fill
        self.realized_pnl = self.realized_pnl.saturating_add(realized);
        Some(realized)
    }

    /// Records a resting order of `lots` worth `value` quote units.
    pub fn add_resting(&mut self, side: Side, lots: Lots, value: u64) -> Option<()> {
        match side {
            Side::Bid => {
                self.bid_lots = self.bid_lots.checked_add(lots.0)?;
                self.bid_notional = self.bid_notional.checked_add(value)?;
            }
            Side::Ask => {
                self.ask_lots = self.ask_lots.checked_add(lots.0)?;
                self.ask_notional = self.ask_notional.checked_add(value)?;
            }
        }
        Some(())
    }

    /// Removes (part of) a resting order from the totals: filled, cancelled or out.
    pub fn remove_resting(&mut self, side: Side, lots: Lots, value: u64) -> Option<()> {
        match side {
            Side::Bid => {
                self.bid_lots = self.bid_lots.checked_sub(lots.0)?;
                self.bid_notional = self.bid_notional.checked_sub(value)?;
            }
            Side::Ask => {
                self.ask_lots = self.ask_lots.checked_sub(lots.0)?;
                self.ask_notional = self.ask_notional.checked_sub(value)?;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn open_add_reduce_flip_close() {
        let mut p = Position::new(0);
        // buy 10 @ 100 (tick size 1): pays 1000
        assert_eq!(p.apply_fill(Side::Bid, Lots(10), 1000), Some(0));
        assert_eq!((p.base_lots, p.quote_balance, p.entry_quote), (10, -1000, 1000));
        // buy 10 @ 110: average 105
        p.apply_fill(Side::Bid, Lots(10), 1100);
        assert_eq!((p.base_lots, p.entry_quote), (20, 2100));
        // sell 5 @ 120: realizes 5 * (120 - 105) = 75
        assert_eq!(p.apply_fill(Side::Ask, Lots(5), 600), Some(75));
        assert_eq!((p.base_lots, p.entry_quote, p.quote_balance), (15, 1575, -2100 + 600));
        // sell 25 @ 90: closes 15 (realizes 15 * (90 - 105) = -225), opens a 10 short at 90
        assert_eq!(p.apply_fill(Side::Ask, Lots(25), 2250), Some(-225));
        assert_eq!((p.base_lots, p.entry_quote), (-10, -900));
        // buy 10 @ 80: short closed, realizes 10 * (90 - 80) = 100
        assert_eq!(p.apply_fill(Side::Bid, Lots(10), 800), Some(100));
        assert_eq!((p.base_lots, p.entry_quote, p.realized_pnl), (0, 0, -50));
        // flat: the cash left is exactly the realized PnL
        assert_eq!(p.quote_balance, p.realized_pnl);
    }

    #[test]
    fn limits_count_resting_orders_as_filled() {
        let mut p = Position::new(0);
        p.base_lots = (MAX_POSITION_LOTS - 10) as i64;
        assert!(p.within_limits());
        p.bid_lots = 10;
        assert!(p.within_limits());
        p.bid_lots = 11;
        assert!(!p.within_limits(), "all bids filled: one lot over");
        let mut p = Position::new(0);
        p.quote_balance = -((MAX_POSITION_QUOTE - 100) as i64);
        p.bid_notional = 100;
        assert!(p.within_limits());
        p.bid_notional = 101;
        assert!(!p.within_limits(), "all bids paid for: one unit over");
        p.bid_notional = 0;
        p.quote_balance = i64::MAX;
        assert!(!p.within_limits());
    }

    proptest! {
        /// A position within its limits applies any fill of its resting orders at their prices (what
        /// the crank does) without overflow, and stays within them: the crank can never be blocked.
        #[test]
        fn maker_fills_within_limits_always_apply(
            base_f in -1.0f64..=1.0,
            cash_f in -1.0f64..=1.0,
            entry_f in -1.0f64..=1.0,
            bid_f in 0.0f64..=1.0,
            ask_f in 0.0f64..=1.0,
            bid_px_f in 0.0f64..=1.0,
            ask_px_f in 0.0f64..=1.0,
            fills in prop::collection::vec((any::<bool>(), 0.0f64..1.0), 1..20),
        ) {
            // a position within its limits, reaching them often: resting sizes and prices are
            // fractions of what the limits leave
            let (l, q) = (MAX_POSITION_LOTS as f64, MAX_POSITION_QUOTE as f64);
            let mut p = Position::new(0);
            p.base_lots = (base_f * l) as i64;
            p.quote_balance = (cash_f * q) as i64;
            p.entry_quote = (entry_f * q) as i64;
            p.bid_lots = (bid_f * (l - p.base_lots as f64)) as u64;
            p.ask_lots = (ask_f * (l + p.base_lots as f64)) as u64;
            let bid_px = if p.bid_lots == 0 { 0 } else { (bid_px_f * (p.quote_balance as f64 + q) / p.bid_lots as f64) as u64 };
            let ask_px = if p.ask_lots == 0 { 0 } else { (ask_px_f * (q - p.quote_balance as f64) / p.ask_lots as f64) as u64 };
            p.bid_notional = p.bid_lots * bid_px;
            p.ask_notional = p.ask_lots * ask_px;
            prop_assume!(p.within_limits());
            for (bid, part) in fills {
                let (side, resting, px) = if bid { (Side::Bid, p.bid_lots, bid_px) } else { (Side::Ask, p.ask_lots, ask_px) };
                let lots = (resting as f64 * part) as u64;
                if lots == 0 {
                    continue;
                }
                let value = lots * px;
                p.remove_resting(side, Lots(lots), value).unwrap();
                prop_assert!(p.apply_fill(side, Lots(lots), value).is_some());
                prop_assert!(p.within_limits());
            }
        }

        /// The i64 fast path of `within_limits` says what the plain i128 formula says.
        #[test]
        fn limits_fast_path_equals_the_plain_formula(
            base in (any::<i64>(), 0u32..20).prop_map(|(v, s)| v >> (s * 3)),
            cash in (any::<i64>(), 0u32..20).prop_map(|(v, s)| v >> (s * 3)),
            bids in (any::<u64>(), 0u32..20).prop_map(|(v, s)| v >> (s * 3)),
            asks in (any::<u64>(), 0u32..20).prop_map(|(v, s)| v >> (s * 3)),
            bid_notional in (any::<u64>(), 0u32..20).prop_map(|(v, s)| v >> (s * 3)),
            ask_notional in (any::<u64>(), 0u32..20).prop_map(|(v, s)| v >> (s * 3)),
        ) {
            let p = Position { base_lots: base, quote_balance: cash, bid_lots: bids, ask_lots: asks, bid_notional, ask_notional, ..Position::new(0) };
            let (l, q) = (MAX_POSITION_LOTS as i128, MAX_POSITION_QUOTE as i128);
            let (b, c) = (base as i128, cash as i128);
            let plain = b + bids as i128 <= l && b - asks as i128 >= -l && b.abs() <= l
                && c - bid_notional as i128 >= -q && c + ask_notional as i128 <= q && c.abs() <= q;
            prop_assert_eq!(p.within_limits(), plain);
            prop_assert_eq!(p.within_limits(), p.within_limits_on(Side::Bid) && p.within_limits_on(Side::Ask));
        }

        /// Whatever the fills, once flat the quote balance is the sum of realized PnL, and while
        /// open, quote + entry cost = realized PnL (cost basis accounting is exact up to rounding
        /// of the proportional basis, which only moves value between entry and realized).
        #[test]
        fn cash_equals_realized_plus_basis(fills in prop::collection::vec((any::<bool>(), 1u64..1000, 1u64..50), 1..60)) {
            let mut p = Position::new(0);
            for (buy, price, lots) in fills {
                let side = if buy { Side::Bid } else { Side::Ask };
                p.apply_fill(side, Lots(lots), price * lots * 7).unwrap();
                prop_assert_eq!(p.quote_balance + p.entry_quote, p.realized_pnl);
            }
        }
    }
}
