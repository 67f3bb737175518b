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
        ((self.funding_index_hi as u128) << 64 | self.funding_index_lo as u128) as i128
    }

    pub fn set_funding_index(&mut self, index: i128) {
        self.funding_index_lo = index as u64;
        self.funding_index_hi = ((index as u128) >> 64) as u64;
    }

    pub fn has_orders(&self) -> bool {
        self.bid_lots != 0 || self.ask_lots != 0
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
            // (both rounded toward zero: statements only, the cash above is exact)
            let basis = (self.entry_quote as i128 * closing as i128 / base.unsigned_abs() as i128) as i64;
            let close_value = (signed_value as i128 * closing as i128 / lots.0 as i128) as i64;
            realized = if base > 0 { close_value - basis } else { -basis - close_value };
            self.entry_quote -= basis;
            if lots.0 > closing {
                // flipped: the rest opens a position on the other side
                self.entry_quote = side.sign() * (signed_value - close_value);
            }
        } else {
            self.entry_quote = self.entry_quote.checked_add(side.sign() * signed_value)?;
        }
        self.base_lots = base.checked_add(side.sign() * lots_i)?;
        if self.base_lots == 0 {
            self.entry_quote = 0;
        }
        self.realized_pnl = self.realized_pnl.checked_add(realized)?;
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

    proptest! {
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
