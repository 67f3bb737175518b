//! Liquidation arithmetic: the takeover discount and how it is split, how many lots a takeover
//! needs, and the socialized loss a bankruptcy leaves when the insurance fund cannot cover it.
//!
//! Stage 2 (takeover): the liquidator takes lots of the account's position at the lot's value moved
//! against the account by the discount. The account loses the whole discount; the liquidator earns
//! its share, the insurance fund the rest.
//!
//! Stage 3 (socialized loss): a deficit left after the insurance fund is written off the bankrupt
//! account's negative quote balance in a market and charged to every lot of open interest in that
//! market, long and short alike, through a cumulative loss index (as funding is: each position
//! pays `|base| x index change` at its next settlement, and its equity counts the debt at once).

use crate::position::Position;

/// The loss index is quote native units per lot x this (the funding index's scale).
pub const LOSS_SCALE: u128 = 1_000_000_000;

/// The discount rule. With an oracle: one day's one-sigma move of the underlying (annualized
/// realized volatility / sqrt(365) ~ vol / 19.1), between `MIN_DISCOUNT_BPS` and
/// `MAX_DISCOUNT_BPS`; calm markets liquidate cheaply, volatile ones pay the liquidator for the
/// larger risk it takes on. Without an oracle (no volatility known): half the market's
/// maintenance margin, at most `MAX_DISCOUNT_BPS`.
pub const MIN_DISCOUNT_BPS: u32 = 250;
pub const MAX_DISCOUNT_BPS: u32 = 1_000;

/// The discount in basis points for a market with realized volatility `vol_12` (12 decimals, 0.6 =
/// 60%) when it has an oracle, else from its maintenance margin.
pub fn discount_bps(vol_12: Option<u64>, maintenance_bps: u32) -> u32 {
    match vol_12 {
        // vol_12 / 10^8 = vol in bps; / 19.1 = one day
        Some(vol) => {
            let bps = (vol as u128 * 10).div_ceil(191 * 100_000_000);
            bps.clamp(MIN_DISCOUNT_BPS as u128, MAX_DISCOUNT_BPS as u128) as u32
            // <= MAX_DISCOUNT_BPS
        }
        None => (maintenance_bps / 2).clamp(1, MAX_DISCOUNT_BPS),
    }
}

/// What a takeover of `lots` moves, quote native units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Takeover {
    /// Paid by the buyer to the seller for the lots (the liquidator buys a long, sells a short).
    pub value: u64,
    /// The account's whole discount: `lots x lot value x bps`, rounded up.
    pub discount: u64,
    /// Its insurance part (charged to the account's collateral); the rest is the liquidator's.
    pub insurance_fee: u64,
}

/// A takeover of `lots` worth `lot_value` each from an account that is long (`long`) or short, at
/// `discount_bps`, `insurance_share_bps` of the discount to the insurance fund. Rounded against the
/// account: its discount up, the liquidator's share down.
pub fn takeover(
    lots: u64,
    lot_value: u64,
    discount_bps: u32,
    insurance_share_bps: u32,
    long: bool,
) -> Option<Takeover> {
    let notional = u64::try_from(lots as u128 * lot_value as u128).ok()?;
    let discount = u64::try_from((notional as u128 * discount_bps as u128).div_ceil(10_000)).ok()?;
    // <= discount: the share is at most 10_000 bps (checked_sub)
    let liquidator_share = (discount as u128 * 10_000u128.checked_sub(insurance_share_bps as u128)? / 10_000) as u64;
    let value = if long { notional - liquidator_share } else { notional.checked_add(liquidator_share)? };
    Some(Takeover { value, discount, insurance_fee: discount - liquidator_share })
}

/// How many of `lots` a takeover needs, given the account's equity above its liquidation end
/// `before` it (negative) and after taking all of them (`after`, which must be higher): all while
/// `after` is still at or below zero, else the fewest that reach zero if each lot helps as much
/// (exact for a lone position under the per-market rule; a linear estimate under the portfolio
/// rule, where a hedge or the PnL haircut bends it). At least one.
pub fn lots_needed(lots: u64, before: i128, after: i128) -> u64 {
    if after <= 0 || before >= 0 || after <= before {
        return lots;
    }
    let needed = (lots as i128)
        .checked_mul(-before)
        .map(|n| n.div_euclid(after - before) + (n.rem_euclid(after - before) != 0) as i128);
    // 0 <= n <= lots: -before < after - before, so n = ceil(lots x a fraction below 1)
    needed.map_or(lots, |n| (n as u64).clamp(1, lots))
}

/// Socialized loss a position owes at the market's `index` and has not paid, native units, rounded
/// up.
#[inline]
pub fn pending_loss(p: &Position, index: u64) -> Option<i64> {
    if p.loss_index == index || p.base_lots == 0 {
        return Some(0);
    }
    let owed = p.base_lots.unsigned_abs() as u128 * index.checked_sub(p.loss_index)? as u128;
    i64::try_from(owed.div_ceil(LOSS_SCALE)).ok()
}

/// Funding and socialized loss a position owes and has not settled; an overflowing debt counts as
/// `i64::MAX` (the account is worthless rather than healthy).
#[inline]
pub fn owed(p: &Position, funding_index: i128, loss_index: u64) -> i64 {
    let funding = if p.funding_index() == funding_index { Some(0) } else { crate::funding::pending(p, funding_index) };
    funding.zip(pending_loss(p, loss_index)).and_then(|(f, l)| f.checked_add(l)).unwrap_or(i64::MAX)
}

/// What one loss settlement moved: native units paid, and the rounding kept (10^-9 units).
pub type LossSettled = crate::funding::Settled;

/// Settles `p`'s socialized loss up to `index` into its quote balance (a realized loss).
pub fn settle_loss(p: &mut Position, index: u64) -> Option<LossSettled> {
    if p.loss_index == index {
        return Some(LossSettled::default());
    }
    let owed = p.base_lots.unsigned_abs() as u128 * index.checked_sub(p.loss_index)? as u128;
    let paid = owed.div_ceil(LOSS_SCALE);
    let rounding = (paid * LOSS_SCALE - owed) as u64; // in [0, LOSS_SCALE): paid = ceil(owed / SCALE)
    let paid = i64::try_from(paid).ok()?;
    p.quote_balance = p.quote_balance.checked_sub(paid)?;
    p.realized_pnl = p.realized_pnl.checked_sub(paid)?;
    p.loss_index = index;
    Some(LossSettled { paid, rounding })
}

/// Spreads `loss` native units over the `open_interest` long lots of a market and as many short
/// ones: the loss index rises by the returned per-lot amount (rounded up, so the lots pay at least
/// `loss`), and the second value is what they pay beyond it (10^-9 units, kept by the protocol).
/// `None` with no open interest: nobody to charge.
pub fn socialize(loss: u64, open_interest: u64) -> Option<(u64, u64)> {
    if open_interest == 0 {
        return None;
    }
    let lots = 2 * open_interest as u128;
    let scaled = loss as u128 * LOSS_SCALE;
    let per_lot = scaled.div_ceil(lots);
    let excess = per_lot * lots - scaled;
    Some((u64::try_from(per_lot).ok()?, u64::try_from(excess).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Lots, Side};
    use proptest::prelude::*;

    #[test]
    fn discount_follows_volatility_within_bounds() {
        let vol = |pct: u64| Some(pct * 10_000_000_000);
        assert_eq!(discount_bps(vol(10), 500), MIN_DISCOUNT_BPS, "calm: the floor");
        assert_eq!(discount_bps(vol(100), 500), 524, "100% a year: ~5.24% a day");
        assert_eq!(discount_bps(vol(500), 500), MAX_DISCOUNT_BPS, "wild: the cap");
        assert_eq!(discount_bps(None, 500), 250, "no oracle: half the maintenance margin");
        assert_eq!(discount_bps(None, 5_000), MAX_DISCOUNT_BPS);
    }

    #[test]
    fn takeover_splits_the_discount_against_the_account() {
        // 3 lots of 1,001 at 2.5%: discount ceil(75.075) = 76; the liquidator's 75% floors to 57
        let long = takeover(3, 1_001, 250, 2_500, true).unwrap();
        assert_eq!(long, Takeover { value: 3_003 - 57, discount: 76, insurance_fee: 19 });
        let short = takeover(3, 1_001, 250, 2_500, false).unwrap();
        assert_eq!(short, Takeover { value: 3_003 + 57, discount: 76, insurance_fee: 19 });
        assert_eq!(takeover(u64::MAX, 2, 250, 0, true), None, "notional overflow");
        assert_eq!(takeover(1, 100, 250, 10_001, true), None, "share above 100%");
    }

    #[test]
    fn lots_needed_interpolates() {
        assert_eq!(lots_needed(10, -100, -1), 10, "still below: all");
        assert_eq!(lots_needed(10, -100, 100), 5, "half way");
        assert_eq!(lots_needed(10, -100, 150), 4, "rounded up");
        assert_eq!(lots_needed(10, -1, 10_000), 1, "at least one");
        assert_eq!(lots_needed(10, -100, -200), 10, "no improvement: the caller refuses");
    }

    #[test]
    fn socialized_loss_is_paid_by_both_sides() {
        let mut long = Position::new(0);
        long.apply_fill(Side::Bid, Lots(3), 300).unwrap();
        let mut short = Position::new(0);
        short.apply_fill(Side::Ask, Lots(3), 300).unwrap();
        let (per_lot, excess) = socialize(10, 3).unwrap();
        assert_eq!(per_lot, 1_666_666_667);
        assert_eq!(excess, 2, "6 lots x per_lot - 10 x scale");
        assert_eq!(pending_loss(&long, per_lot), Some(6), "5.000000001 rounded up");
        let a = settle_loss(&mut long, per_lot).unwrap();
        let b = settle_loss(&mut short, per_lot).unwrap();
        assert_eq!((a.paid, b.paid), (6, 6));
        assert_eq!((long.quote_balance, short.quote_balance), (-306, 294));
        assert_eq!(pending_loss(&long, per_lot), Some(0), "settled");
        assert_eq!(socialize(10, 0), None);
    }

    proptest! {
        /// The lots always pay at least the loss, and the excess is below one 10^-9 unit per lot.
        #[test]
        fn socialize_covers_the_loss(loss in 0u64..1 << 50, oi in 1u64..1 << 40) {
            let (per_lot, excess) = socialize(loss, oi).unwrap();
            let paid = per_lot as u128 * 2 * oi as u128;
            prop_assert_eq!(paid, loss as u128 * LOSS_SCALE + excess as u128);
            prop_assert!((excess as u128) < 2 * oi as u128);
        }

        /// The account never gains from a takeover: the value leaves it at most `notional - discount
        /// + insurance` (long) and the parts add up.
        #[test]
        fn takeover_parts_add_up(lots in 1u64..1 << 20, value in 0u64..1 << 30, bps in 1u32..1_000, share in 0u32..=10_000, long: bool) {
            let t = takeover(lots, value, bps, share, long).unwrap();
            let notional = lots * value;
            let liquidator = t.discount - t.insurance_fee;
            prop_assert_eq!(t.value, if long { notional - liquidator } else { notional + liquidator });
            prop_assert!(t.discount as u128 * 10_000 >= notional as u128 * bps as u128);
        }
    }
}
