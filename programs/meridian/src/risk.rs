//! Account health on-chain (and, through the SDK, off-chain with the same code).
//!
//! Positions in markets with an oracle are margined together per underlying (the oracle) by the
//! portfolio engine (`meridian_engine::portfolio`, parameters [`PORTFOLIO`]): a linear market's lot
//! risk is built from its mark, an option market's was stored by the last `refresh_oracle`. A
//! market without an oracle has no reliable price or volatility: it keeps the per-market rule
//! (`meridian_engine::margin`, the market's `initial_margin_bps` / `maintenance_margin_bps`).
//!
//! The markets of the account's positions (other than one the instruction already holds) are
//! passed as remaining accounts, in the order of the account's position slots. Each is checked:
//! owned by the program, a Market of this exchange, the position's market index.

use crate::{account_view::AccountView, error::MeridianError, loaders::load, state::*};
use anchor_lang::prelude::*;
use meridian_engine::margin::{add_position, Health};
use meridian_engine::portfolio::{Holding, LotRisk, Portfolio, RiskParams};
use meridian_engine::position::Position;

/// The portfolio engine's parameters (grid, volatility floor and bound, add-ons, multipliers).
pub const PORTFOLIO: RiskParams = RiskParams::standard();

/// Which mark a position is valued at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Valuation {
    /// The market's mark (an option's stored lot value).
    Mark,
    /// At this slot, positions in markets whose oracle is not usable are valued conservatively:
    /// linear ones at the end of the last confidence band (longs at mark - conf, shorts at mark +
    /// conf), options at the worst of their stored scenarios for their side (withdrawals).
    Conservative { now_slot: u64 },
    /// `Conservative` at the clock's slot, read on-chain only if a market with an oracle is met
    /// (order placement: most accounts never pay for the clock).
    ConservativeNow,
}

impl Valuation {
    /// Whether `m` (which has an oracle) is valued conservatively; `slot` caches the clock.
    fn conservative(self, m: &Market, slot: &mut Option<u64>) -> Result<bool> {
        let now_slot = match self {
            Valuation::Mark => return Ok(false),
            Valuation::Conservative { now_slot } => now_slot,
            Valuation::ConservativeNow => match *slot {
                Some(s) => s,
                None => *slot.insert(Clock::get()?.slot),
            },
        };
        Ok(!m.oracle_usable(now_slot))
    }
}

/// The lot risk of market `m` (which has an oracle) for a holder of `base_lots`: an option's stored
/// one, a linear market's built from its mark; `conservative` when its oracle is not usable.
pub fn lot_risk_of(m: &Market, base_lots: i64, conservative: bool) -> Result<LotRisk> {
    if m.is_option() {
        let r = m.lot_risk();
        return Ok(if conservative && base_lots != 0 { r.conservative(base_lots > 0) } else { *r });
    }
    let mark = if conservative { m.conservative_mark(base_lots) } else { m.mark_price };
    let per_lot = mark.checked_mul(m.tick_size).and_then(|v| i64::try_from(v).ok());
    Ok(LotRisk::linear(per_lot.ok_or(MeridianError::MathOverflow)?, &PORTFOLIO.grid).ok_or(MeridianError::MathOverflow)?)
}

/// An account's health, accumulated position by position.
pub struct HealthBuilder {
    per_market: Health,
    portfolio: Portfolio<Pubkey>,
    valuation: Valuation,
    slot: Option<u64>,
}

impl HealthBuilder {
    pub fn new(collateral: i64, valuation: Valuation) -> Self {
        HealthBuilder {
            per_market: Health { equity: collateral as i128, ..Health::default() },
            // allocates on its first underlying (accounts without oracle markets never do)
            portfolio: Portfolio::with_capacity(0),
            valuation,
            slot: None,
        }
    }

    /// Adds position `p` in market `m` (the caller checked that `m` is the position's market).
    pub fn add(&mut self, p: &Position, m: &Market) -> Result<()> {
        if !m.has_oracle() {
            add_position(&mut self.per_market, p, &m.risk());
            return Ok(());
        }
        crate::cu_checkpoint!("risk: portfolio position");
        let conservative = self.valuation.conservative(m, &mut self.slot)?;
        let risk = lot_risk_of(m, p.base_lots, conservative)?;
        crate::cu_checkpoint!("risk: lot risk");
        // an overflowing funding debt makes the account worthless rather than healthy
        let owed = match m.funding_index() {
            i if i == p.funding_index() => 0,
            i => meridian_engine::funding::pending(p, i).unwrap_or(i64::MAX),
        };
        let holding = Holding::of(p, owed).ok_or(MeridianError::MathOverflow)?;
        crate::cu_checkpoint!("risk: holding");
        self.portfolio.add(m.oracle, &holding, &risk, &PORTFOLIO).ok_or(MeridianError::MathOverflow)?;
        crate::cu_checkpoint!("risk: added");
        Ok(())
    }

    pub fn finish(self) -> Result<Health> {
        if self.portfolio.is_empty() {
            return Ok(self.per_market);
        }
        crate::cu_checkpoint!("risk: finish");
        let pf = self.portfolio.health(0, &PORTFOLIO).ok_or(MeridianError::MathOverflow)?;
        crate::cu_checkpoint!("risk: portfolio health");
        Ok(Health {
            equity: self.per_market.equity + pf.equity,
            initial: self.per_market.initial + pf.initial,
            maintenance: self.per_market.maintenance + pf.maintenance,
        })
    }
}

/// The account's health: each position with its market (`current`, or the next remaining account).
pub fn account_health<A: AccountView>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
) -> Result<Health> {
    let mut next = remaining.iter();
    let mut b = HealthBuilder::new(account.collateral, valuation);
    crate::cu_checkpoint!("risk: start");
    for p in account.positions_in_use() {
        if let Some(m) = current.filter(|m| m.index == p.market_index) {
            b.add(p, m)?;
            continue;
        }
        let info = next.next().ok_or(MeridianError::MissingMarketAccount)?;
        let market = load::<Market, A>(info)?;
        require_keys_eq!(market.exchange, *exchange, MeridianError::WrongExchange);
        require!(market.index == p.market_index, MeridianError::MissingMarketAccount);
        b.add(p, &market)?;
    }
    crate::cu_checkpoint!("risk: end");
    b.finish()
}

/// Equity above the initial requirement (order placement and withdrawals check this).
pub fn account_initial_free<A: AccountView>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
) -> Result<i128> {
    Ok(account_health(account, exchange, current, remaining, valuation)?.initial_free())
}
