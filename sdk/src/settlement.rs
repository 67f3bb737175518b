//! Settlement from the outside: what `settle_pnl` would move for each position of an account now
//! (the program's own rules: `meridian_engine::settlement` and
//! `meridian::instructions::settle_pnl::settlement_value`), where a dated market stands on its way
//! to expiry, its predicted settlement price and each account's payout (`meridian_engine::expiry`),
//! and the instructions. Shared by `meridian account settle|withdraw|show`, `meridian market
//! show|settle` and the `meridian-keeper settle` role.

use crate::ix::{self, MarketAccounts};
use meridian::{MarginAccount, Market};
use meridian_engine::expiry;
use meridian_engine::settlement::{self, RULES};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};
use std::collections::BTreeMap;

/// One position's PnL as settlement sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionPnl {
    pub market: u16,
    pub base_lots: i64,
    /// Realized over the position's life (a statement: cash from closing trades).
    pub realized: i64,
    /// What settlement moves before its rules: cash (funding and socialized loss owed included)
    /// plus the base at the settlement price. None: an open position with no usable price now.
    pub unsettled: Option<i128>,
    /// What `settle_pnl` would move into collateral now (negative: a loss realized from it).
    pub settle_now: i64,
    /// The market's PnL pool (what profits are paid from).
    pub pool: u64,
}

impl PositionPnl {
    /// Profit the rules hold back now (the pool, the haircut, the window): paid later.
    pub fn held_back(&self) -> i128 {
        self.unsettled.map_or(0, |u| (u - self.settle_now as i128).max(0))
    }
}

/// Every position of `account` (markets by index) at the cluster's `slot` and `unix_ts`, settled in
/// slot order as one `settle_pnl` per market would: each settlement sees the collateral and the
/// window the previous ones left.
pub fn preview(account: &MarginAccount, markets: &BTreeMap<u16, Market>, slot: u64, unix_ts: i64) -> Vec<PositionPnl> {
    let (mut collateral, mut window) = (account.collateral, account.upnl_window().at(unix_ts, &RULES));
    let mut out = vec![];
    for p in account.positions_in_use() {
        let Some(m) = markets.get(&p.market_index) else { continue };
        let owed = meridian_engine::liquidation::owed(p, m.funding_index(), m.loss_index);
        // a settled market closes the position at its payoff first: then it is cash
        let open = p.base_lots != 0 && !m.is_settled();
        let value = if m.is_settled() {
            m.settled_lot_value().ok()
        } else if open {
            meridian::instructions::settle_pnl::settlement_value(m, slot, unix_ts)
        } else {
            Some(0)
        };
        let unsettled = value.map(|v| settlement::pnl(p, v) - owed as i128);
        let mut settle_now = 0;
        if let (Some(u), Some(v)) = (unsettled, value) {
            let notional =
                u64::try_from(p.base_lots.unsigned_abs() as u128 * v.unsigned_abs() as u128).unwrap_or(u64::MAX);
            let s = settlement::plan(u, open, collateral, m.pnl_pool, window.left(notional, &RULES), &RULES);
            settle_now = s.amount;
            collateral = collateral.saturating_add(s.amount);
            if s.unrealized {
                window.paid = window.paid.saturating_add(s.amount.unsigned_abs());
            }
        }
        out.push(PositionPnl {
            market: p.market_index,
            base_lots: p.base_lots,
            realized: p.realized_pnl,
            unsettled,
            settle_now,
            pool: m.pnl_pool,
        });
    }
    out
}

/// `settle_pnl` for `margin_account` in every market where it would move money now.
pub fn instructions(
    exchange: &Pubkey,
    margin_account: &Pubkey,
    pnl: &[PositionPnl],
    markets: &BTreeMap<u16, Market>,
) -> Vec<Instruction> {
    pnl.iter()
        .filter(|p| p.settle_now != 0)
        .filter_map(|p| markets.get(&p.market).map(|m| (p, m)))
        .map(|(p, m)| {
            ix::settle_pnl(&MarketAccounts::of(crate::pda::market(exchange, p.market).0, m), &[*margin_account])
        })
        .collect()
}

/// Where a dated market stands on its way to cash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryState {
    /// Perpetual: never expires.
    Perpetual,
    /// Trading; the settlement window opens at `window_start`.
    Trading { window_start: i64 },
    /// In the window: sampling the underlying.
    Sampling,
    /// Expired, the price not fixed yet: `filled` buckets of the `needed` have samples.
    AwaitingPrice { filled: u32, needed: u32 },
    /// The price is fixed; positions settle at it.
    Settled { price: u64, by_admin: bool },
}

/// Market `m`'s expiry state at `now`.
pub fn expiry_state(m: &Market, now: i64) -> ExpiryState {
    if !m.is_dated() {
        return ExpiryState::Perpetual;
    }
    if m.is_settled() {
        return ExpiryState::Settled {
            price: m.settlement_price,
            by_admin: m.settlement_source == meridian::SettlementSource::Admin as u8,
        };
    }
    let w = m.settlement_window();
    if now < w.start_ts() {
        ExpiryState::Trading { window_start: w.start_ts() }
    } else if now < m.expiry_ts {
        ExpiryState::Sampling
    } else {
        ExpiryState::AwaitingPrice { filled: m.sampler().filled_at(&w, now), needed: expiry::MIN_FILLED }
    }
}

/// The settlement price `m` has, or would be fixed at if it expired at `now` with the samples it
/// holds (None: too few yet). The program's own rule (`meridian_engine::expiry`).
pub fn predicted_price(m: &Market, now: i64) -> Option<u64> {
    if m.is_settled() {
        return Some(m.settlement_price);
    }
    m.is_dated().then(|| m.sampler().settlement_price(&m.settlement_window(), now.max(m.expiry_ts)).ok()).flatten()
}

/// What `account`'s position in `m` is worth at settlement price `price` (quote native units; its
/// cash, funding and socialized loss owed included): what expiry settlement moves through the pool.
pub fn expiry_payout(account: &MarginAccount, m: &Market, price: u64) -> Option<i128> {
    let p = account.positions_in_use().find(|p| p.market_index == m.index)?;
    let owed = meridian_engine::liquidation::owed(p, m.funding_index(), m.loss_index);
    Some(settlement::pnl(p, m.payoff().lot_value(price, m.tick_size)?) - owed as i128)
}

/// A step of an expired market's way to cash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryStep {
    /// `cancel_expired_orders` for this many accounts.
    CancelOrders(usize),
    FixPrice,
    /// `settle_expired` for this many accounts.
    Settle(usize),
}

/// The instructions that take an expired market `m` (at `market`) to cash for `accounts` (any of
/// the exchange's; those with orders or a position in it are used), `batch` accounts per
/// instruction, in order: cancel their orders, fix the price if it is not fixed (it may still be
/// refused: too few samples, fills not cranked), settle them, losers first so the pool holds what
/// winners are paid. Send them in order, each after the previous one landed.
pub fn expiry_instructions(
    market: &Pubkey,
    m: &Market,
    accounts: &[(Pubkey, MarginAccount)],
    now: i64,
    batch: usize,
) -> Vec<(ExpiryStep, Instruction)> {
    let ma = MarketAccounts::of(*market, m);
    let batch = batch.max(1);
    let mut out = vec![];
    let with_orders: Vec<Pubkey> = accounts
        .iter()
        .filter(|(_, a)| a.order_slots().any(|i| a.open_orders[i].market_index == m.index))
        .map(|(k, _)| *k)
        .collect();
    out.extend(
        with_orders.chunks(batch).map(|c| (ExpiryStep::CancelOrders(c.len()), ix::cancel_expired_orders(&ma, c))),
    );
    if !m.is_settled() {
        out.push((ExpiryStep::FixPrice, ix::fix_settlement_price(&ma)));
    }
    let Some(price) = predicted_price(m, now) else { return out };
    let mut holders: Vec<(i128, Pubkey)> =
        accounts.iter().filter_map(|(k, a)| expiry_payout(a, m, price).map(|v| (v, *k))).collect();
    holders.sort();
    let keys: Vec<Pubkey> = holders.into_iter().map(|(_, k)| k).collect();
    out.extend(keys.chunks(batch).map(|c| (ExpiryStep::Settle(c.len()), ix::settle_expired(&ma, c))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_engine::units::{Lots, Side};

    fn market(index: u16, mark: u64, pool: u64) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.index = index;
        m.mark_price = mark;
        m.tick_size = 1;
        m.pnl_pool = pool;
        m
    }

    #[test]
    fn the_preview_follows_the_program_rules() {
        let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
        a.collateral = 1_000;
        // market 0: flat with +300 of cash, a pool of 200; market 1: long 10 at 100, marked 150
        let s0 = a.position_slot(0, 0).unwrap();
        a.position_mut(s0).quote_balance = 300;
        let s1 = a.position_slot(1, 0).unwrap();
        a.position_mut(s1).apply_fill(Side::Bid, Lots(10), 1_000).unwrap();
        let markets = BTreeMap::from([(0, market(0, 100, 200)), (1, market(1, 150, 10_000))]);
        let pnl = preview(&a, &markets, 0, 10_000);
        assert_eq!((pnl[0].unsettled, pnl[0].settle_now, pnl[0].held_back()), (Some(300), 200, 100), "the pool's 200");
        // open: 500 of profit, 80% = 400, but 10% of a 1,500 notional = 150 this hour
        assert_eq!((pnl[1].unsettled, pnl[1].settle_now), (Some(500), 150));
        assert_eq!(instructions(&Pubkey::new_unique(), &Pubkey::new_unique(), &pnl, &markets).len(), 2);
    }
}
