//! Liquidation from the outside: which accounts can be liquidated, in what order, which stage each
//! needs next, its instruction and what it should earn. Shared by `meridian liquidate` and the
//! `meridian-keeper liquidate` role; the health is the program's own code (`crate::risk`).

use crate::ix::MarketAccounts;
use crate::ix::{self, health_markets};
use crate::order::{self, OrderExt, Side};
use crate::risk::Valuation;
use meridian::PlaceOrderArgs;
use meridian::{MarginAccount, Market};
use meridian_engine::liquidation::takeover;
use meridian_engine::margin::Health;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};
use std::collections::BTreeMap;

/// What an account below maintenance needs next (the program enforces the order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Stage 1: its resting orders in this market.
    CancelOrders { market: u16 },
    /// Stage 2: (up to) these lots of its position in this market, the largest by value.
    TakePosition { market: u16, lots: u64 },
    /// Stage 3: no positions left and negative equity; socialized in this market if need be.
    Bankruptcy { market: u16 },
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::CancelOrders { .. } => "cancel_orders",
            Stage::TakePosition { .. } => "take_position",
            Stage::Bankruptcy { .. } => "bankruptcy",
        }
    }

    pub fn market(&self) -> u16 {
        match *self {
            Stage::CancelOrders { market } | Stage::TakePosition { market, .. } | Stage::Bankruptcy { market } => {
                market
            }
        }
    }

    /// A compute-unit limit with room over the benchmarks (bench/cu.json: 11k, 35k for 16
    /// positions, 3k).
    pub fn compute_units(&self) -> u32 {
        match self {
            Stage::CancelOrders { .. } => 40_000,
            Stage::TakePosition { .. } => 90_000,
            Stage::Bankruptcy { .. } => 20_000,
        }
    }
}

/// The stage `account` needs next: its orders first, then its positions (largest value first),
/// then its bankruptcy (equity of cash alone negative). None: nothing a liquidator can do.
pub fn next_stage(account: &MarginAccount, markets: &BTreeMap<u16, Market>) -> Option<Stage> {
    if let Some(slot) = account.order_slots().next() {
        return Some(Stage::CancelOrders { market: account.open_orders[slot].market_index });
    }
    let value = |p: &meridian_engine::position::Position| {
        markets.get(&p.market_index).and_then(|m| m.lot_value().ok()).unwrap_or(0) as u128
            * p.base_lots.unsigned_abs() as u128
    };
    if let Some(p) = account.positions_in_use().filter(|p| p.base_lots != 0).max_by_key(|p| value(p)) {
        return Some(Stage::TakePosition { market: p.market_index, lots: p.base_lots.unsigned_abs() });
    }
    let cash = account.collateral as i128 + account.positions_in_use().map(|p| p.quote_balance as i128).sum::<i128>();
    if cash >= 0 {
        return None;
    }
    let market = account.positions_in_use().min_by_key(|p| p.quote_balance).map_or(0, |p| p.market_index);
    Some(Stage::Bankruptcy { market })
}

/// The account's health as a liquidation of `stage` judges it at `slot` (the program's own rule:
/// the stage's market needs a usable oracle price, the other positions are valued conservatively;
/// a bankruptcy needs no price). None when the stage's market is not usable now.
pub fn liquidation_health(
    account: &MarginAccount,
    markets: &BTreeMap<u16, Market>,
    stage: Stage,
    slot: u64,
) -> Option<Health> {
    let valuation = match stage {
        Stage::Bankruptcy { .. } => Valuation::Mark,
        _ => Valuation::Liquidation { market: stage.market(), now_slot: slot },
    };
    crate::risk::health_with(account, markets, valuation)
}

/// An account a liquidator can act on now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub address: Pubkey,
    /// Equity minus the maintenance requirement (negative).
    pub shortfall: i128,
    pub stage: Stage,
}

/// The accounts below maintenance that a liquidator can act on at `slot`, the largest shortfall
/// first; `own` (the liquidator's accounts, and those of its owner `owner`: the program refuses a
/// sibling sub-account) left out.
pub fn rank(
    accounts: &[(Pubkey, MarginAccount)],
    markets: &BTreeMap<u16, Market>,
    slot: u64,
    own: &[Pubkey],
    owner: &Pubkey,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = accounts
        .iter()
        .filter(|(address, a)| !own.contains(address) && a.owner != *owner && a.positions_in_use().next().is_some())
        .filter_map(|(address, a)| {
            let stage = next_stage(a, markets)?;
            let shortfall = liquidation_health(a, markets, stage, slot)?.maintenance_free();
            (shortfall < 0).then_some(Candidate { address: *address, shortfall, stage })
        })
        .collect();
    out.sort_by_key(|c| c.shortfall);
    out
}

/// The instruction for `stage` on `liquidatee` by `liquidator` (signer) through its margin account
/// `liquidator_account` (its current state: a takeover passes its other markets).
pub fn instruction(
    exchange: &Pubkey,
    stage: Stage,
    liquidatee: (&Pubkey, &MarginAccount),
    liquidator_account: (&Pubkey, &MarginAccount),
    liquidator: &Pubkey,
    markets: &BTreeMap<u16, Market>,
) -> Option<Instruction> {
    let index = stage.market();
    let m = MarketAccounts::of(crate::pda::market(exchange, index).0, markets.get(&index)?);
    let theirs = health_markets(exchange, liquidatee.1, Some(index));
    Some(match stage {
        Stage::CancelOrders { .. } => {
            ix::liquidate_cancel_orders(exchange, &m, liquidatee.0, liquidator_account.0, liquidator, &theirs)
        }
        Stage::TakePosition { lots, .. } => {
            let ours = health_markets(exchange, liquidator_account.1, Some(index));
            ix::liquidate_take_position(
                exchange,
                &m,
                liquidatee.0,
                liquidator_account.0,
                liquidator,
                lots,
                &theirs,
                &ours,
            )
        }
        Stage::Bankruptcy { .. } => {
            // the insurance share other markets hold unswept counts too
            let others: Vec<Pubkey> = markets
                .iter()
                .filter(|(i, o)| **i != index && o.unswept_insurance > 0)
                .map(|(i, _)| crate::pda::market(exchange, *i).0)
                .collect();
            ix::liquidate_bankruptcy_sweeping(exchange, &m, liquidatee.0, liquidator, &others)
        }
    })
}

/// What the liquidator earns (collateral native units) from `stage` on `liquidatee`, at the
/// markets' current values: stage 1's fixed fee (at most the account's collateral), stage 2's share
/// of the discount on `lots_taken` lots, nothing for a bankruptcy.
pub fn earnings(
    stage: Stage,
    lots_taken: u64,
    liquidatee: &MarginAccount,
    markets: &BTreeMap<u16, Market>,
    decimals: u8,
) -> u64 {
    match stage {
        Stage::CancelOrders { .. } => meridian::cancel_fee(decimals).min(liquidatee.collateral.max(0) as u64),
        Stage::TakePosition { market, .. } => {
            let (Some(m), Some(slot)) = (markets.get(&market), liquidatee.find_position(market)) else { return 0 };
            let long = liquidatee.position(slot).base_lots > 0;
            let (value, bps) = (m.lot_value().unwrap_or(0), m.liquidation_discount_bps());
            takeover(lots_taken, value, bps, meridian::LIQUIDATION_INSURANCE_SHARE_BPS, long)
                .map_or(0, |t| t.discount - t.insurance_fee)
        }
        Stage::Bankruptcy { .. } => 0,
    }
}

/// The order that closes `lots` taken over in market `m` (the liquidator is long if `long`) on the
/// book: immediate-or-cancel and reduce-only, at most `max_slippage_bps` worse than the mark (a sell
/// no lower than mark x (1 - slippage), rounded up to a tick; a buy no higher than mark x
/// (1 + slippage), rounded down), and never beyond the market's price band (the program refuses
/// such a price). What the book cannot fill at that price stays with the liquidator.
pub fn close_order(m: &Market, long: bool, lots: u64, max_slippage_bps: u32) -> PlaceOrderArgs {
    let mark = m.mark_price as u128;
    let bps = max_slippage_bps.min(10_000) as u128;
    let band = m.band();
    let (side, price) = if long {
        (Side::Ask, ((mark * (10_000 - bps)).div_ceil(10_000).max(1) as u64).max(band.low.0))
    } else {
        (Side::Bid, u64::try_from(mark * (10_000 + bps) / 10_000).unwrap_or(u64::MAX).min(band.high.0))
    };
    order::limit(side, price, lots).immediate_or_cancel().reduce_only()
}

/// Program errors that mean another liquidator (or the market) got there first: the account is
/// healthy again, its orders or position are gone, its deficit resolved. Not failures.
pub const RACE_ERRORS: &[&str] = &[
    "NotLiquidatable",
    "NoOrdersToCancel",
    "NoPositionToTake",
    "LiquidateeHasOrders",
    "PositionsLeft",
    "NotBankrupt",
    "OracleNotUsable",
    "EventsPending",
];

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_engine::units::{Lots, Side, Ticks};

    fn market(index: u16, mark: u64) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.index = index;
        m.mark_price = mark;
        m.tick_size = 1;
        m.initial_margin_bps = 1_000;
        m.maintenance_margin_bps = 500;
        m.refresh_band();
        m
    }

    fn account(collateral: i64) -> MarginAccount {
        let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
        a.collateral = collateral;
        a
    }

    fn hold(a: &mut MarginAccount, m: u16, side: Side, lots: u64, value: u64) {
        let slot = a.position_slot(m, 0).unwrap();
        a.position_mut(slot).apply_fill(side, Lots(lots), value).unwrap();
    }

    #[test]
    fn stages_come_in_order() {
        let markets = BTreeMap::from([(0, market(0, 100)), (1, market(1, 1_000))]);
        let mut a = account(100);
        hold(&mut a, 0, Side::Bid, 50, 5_000); // worth 5,000
        hold(&mut a, 1, Side::Ask, 10, 10_000); // worth 10,000: taken first
        a.record_order(3, 0, Side::Bid, Ticks(90), 7, 0, 0, 0);
        assert_eq!(next_stage(&a, &markets), Some(Stage::CancelOrders { market: 0 }));
        a.clear_order(3);
        assert_eq!(next_stage(&a, &markets), Some(Stage::TakePosition { market: 1, lots: 10 }));
        // both positions gone at a loss: cash 100 - 600 < 0, most owed in market 0
        let mut b = account(100);
        hold(&mut b, 0, Side::Bid, 10, 1_000);
        hold(&mut b, 0, Side::Ask, 10, 500);
        hold(&mut b, 1, Side::Bid, 1, 1_000);
        hold(&mut b, 1, Side::Ask, 1, 900);
        assert_eq!(next_stage(&b, &markets), Some(Stage::Bankruptcy { market: 0 }));
        b.collateral = 600;
        assert_eq!(next_stage(&b, &markets), None, "cash covers the losses");
    }

    #[test]
    fn ranks_by_shortfall_and_skips_own_and_healthy_accounts() {
        let markets = BTreeMap::from([(0, market(0, 100))]);
        let mut small = account(200); // 50 lots long bought at 100, now worth 5,000 at 100: 5% = 250
        hold(&mut small, 0, Side::Bid, 50, 5_000);
        let mut large = account(100);
        hold(&mut large, 0, Side::Bid, 50, 5_000);
        let mut healthy = account(10_000);
        hold(&mut healthy, 0, Side::Bid, 50, 5_000);
        let keys: Vec<Pubkey> = (0..4).map(|_| Pubkey::new_unique()).collect();
        let accounts = vec![(keys[0], small), (keys[1], large), (keys[2], healthy), (keys[3], large)];
        let me = Pubkey::new_unique();
        let ranked = rank(&accounts, &markets, 0, &[keys[3]], &me);
        assert_eq!(ranked.iter().map(|c| c.address).collect::<Vec<_>>(), vec![keys[1], keys[0]]);
        // a sibling of the liquidator's (same owner) is never a candidate: the program refuses it
        let mut sibling = large;
        sibling.owner = me;
        let with_sibling = [accounts.clone(), vec![(Pubkey::new_unique(), sibling)]].concat();
        assert_eq!(rank(&with_sibling, &markets, 0, &[keys[3]], &me).len(), 2);
        assert_eq!((ranked[0].shortfall, ranked[1].shortfall), (100 - 250, 200 - 250));
        assert_eq!(ranked[0].stage, Stage::TakePosition { market: 0, lots: 50 });
    }

    #[test]
    fn a_close_is_reduce_only_ioc_within_the_slippage() {
        let m = market(0, 11_200);
        let sell = close_order(&m, true, 500, 2_000);
        assert_eq!(
            (sell.side, sell.price, sell.size),
            (meridian::OrderSide::Ask, 10_080, 500),
            "20% below: the 10% band's bottom"
        );
        let sell = close_order(&m, true, 500, 500);
        assert_eq!(sell.price, 10_640, "5% below");
        assert!(sell.reduce_only && sell.order_kind == meridian::OrderType::ImmediateOrCancel);
        let buy = close_order(&m, false, 7, 15);
        assert_eq!(
            (buy.side, buy.price),
            (meridian::OrderSide::Bid, 11_216),
            "11,200 x 1.0015 = 11,216.8, rounded down"
        );
        let odd = close_order(&market(0, 333), true, 1, 10); // 333 x 0.999 = 332.667: up to 333
        assert_eq!(odd.price, 333);
        assert_eq!(close_order(&market(0, 5), true, 1, 10_000).price, 4, "never below the band (5 - 1 tick)");
    }

    #[test]
    fn earnings_are_the_liquidators_share() {
        let mut m = market(0, 100);
        m.maintenance_margin_bps = 1_000; // no oracle: discount = half of it, 5%
        let markets = BTreeMap::from([(0, m)]);
        let mut a = account(50);
        hold(&mut a, 0, Side::Bid, 40, 4_000);
        // 40 lots of 100 at 5%: 200, of which 75% (150) the liquidator's
        assert_eq!(earnings(Stage::TakePosition { market: 0, lots: 40 }, 40, &a, &markets, 6), 150);
        assert_eq!(earnings(Stage::CancelOrders { market: 0 }, 0, &a, &markets, 6), 50, "capped by the collateral");
    }
}
