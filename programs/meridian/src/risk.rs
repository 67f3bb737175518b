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

use crate::{account_handle::AccountHandle, error::MeridianError, loaders::load, state::*};
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
    /// At this slot, positions in markets whose oracle is not usable are valued conservatively: at
    /// the worse end (for each holding, resting orders included) of the last confidence band for
    /// linear ones, of their stored scenario range for options (withdrawals).
    Conservative { now_slot: u64 },
    /// `Conservative` at the clock's slot, read on-chain only if a market with an oracle is met
    /// (order placement: most accounts never pay for the clock).
    ConservativeNow,
    /// How a liquidation judges an account at `now_slot`: the market being liquidated (`market`)
    /// needs a usable oracle price (`OracleNotUsable` otherwise: liquidations act on valid prices);
    /// every other position is valued conservatively, so one stale oracle (on a dust position, say)
    /// can no longer shield the account.
    Liquidation { market: u16, now_slot: u64 },
    /// `Liquidation` at the clock's slot (on-chain).
    LiquidationNow { market: u16 },
}

impl Valuation {
    /// Whether `m` (which has an oracle) is valued conservatively; `slot` caches the clock.
    fn conservative(self, m: &Market, slot: &mut Option<u64>) -> Result<bool> {
        let mut clock_slot = || -> Result<u64> {
            Ok(match *slot {
                Some(s) => s,
                None => *slot.insert(Clock::get()?.slot),
            })
        };
        let (now_slot, liquidated) = match self {
            Valuation::Mark => return Ok(false),
            Valuation::Conservative { now_slot } => (now_slot, None),
            Valuation::ConservativeNow => (clock_slot()?, None),
            Valuation::Liquidation { market, now_slot } => (now_slot, Some(market)),
            Valuation::LiquidationNow { market } => (clock_slot()?, Some(market)),
        };
        let usable = m.oracle_usable(now_slot);
        require!(usable || liquidated != Some(m.index), MeridianError::OracleNotUsable);
        Ok(!usable)
    }
}

/// The lot risk of market `m` (which has an oracle and, if an option, a revalued lot) and the band
/// its value is known within: one point when the oracle is usable; when not (`conservative`), a
/// linear lot's confidence band (its scenarios measured from the band's top: the larger moves), an
/// option's whole scenario range.
pub fn lot_risk_of(m: &Market, conservative: bool) -> Result<(LotRisk, (i64, i64))> {
    if m.is_option() {
        let r = *m.lot_risk();
        return Ok((r, if conservative { r.range() } else { (r.now, r.now) }));
    }
    let per_lot = |ticks: u64| {
        ticks.checked_mul(m.tick_size).and_then(|v| i64::try_from(v).ok()).ok_or(MeridianError::MathOverflow)
    };
    let (low, high) = if conservative {
        (per_lot(m.mark_price.saturating_sub(m.oracle_conf))?, per_lot(m.mark_price.saturating_add(m.oracle_conf))?)
    } else {
        let v = per_lot(m.mark_price)?;
        (v, v)
    };
    Ok((LotRisk::linear(high, &PORTFOLIO.grid).ok_or(MeridianError::MathOverflow)?, (low, high)))
}

/// An account's health, accumulated position by position (cloned to value one position several
/// ways on top of the others, as a liquidation does).
#[derive(Clone)]
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

    /// Adds cash (collateral) to the equity.
    pub fn add_cash(&mut self, amount: i64) {
        self.per_market.equity += amount as i128;
    }

    /// Adds position `p` in market `m` (the caller checked that `m` is the position's market).
    pub fn add(&mut self, p: &Position, m: &Market) -> Result<()> {
        if m.is_settled() {
            self.add_settled(p, m);
            return Ok(());
        }
        if !m.has_oracle() || m.awaits_revaluation() {
            add_position(&mut self.per_market, p, &m.risk());
            return Ok(());
        }
        crate::cu_checkpoint!("risk: portfolio position");
        let conservative = self.valuation.conservative(m, &mut self.slot)?;
        let (risk, band) = lot_risk_of(m, conservative)?;
        crate::cu_checkpoint!("risk: lot risk");
        let owed = match m.funding_index() {
            i if i == p.funding_index() && m.loss_index == p.loss_index => 0,
            i => meridian_engine::liquidation::owed(p, i, m.loss_index),
        };
        let holding = Holding::of(p, owed).ok_or(MeridianError::MathOverflow)?;
        crate::cu_checkpoint!("risk: holding");
        self.portfolio.add_in_band(m.oracle, &holding, &risk, band, &PORTFOLIO).ok_or(MeridianError::MathOverflow)?;
        crate::cu_checkpoint!("risk: added");
        Ok(())
    }

    /// A position in a settled market: worth its payoff, whatever the oracle does now, with no
    /// requirement; its orders can no longer fill. Out of line: rare.
    #[inline(never)]
    #[cold]
    fn add_settled(&mut self, p: &Position, m: &Market) {
        let held = Position { bid_lots: 0, ask_lots: 0, bid_notional: 0, ask_notional: 0, ..*p };
        add_position(&mut self.per_market, &held, &m.settled_risk());
    }

    /// The clock's slot, if a valuation read it (a health reading is recorded at no extra cost).
    pub fn slot_read(&self) -> Option<u64> {
        self.slot
    }

    pub fn finish(mut self) -> Result<Health> {
        // order placement (the hot path, `ConservativeNow`) only needs the initial requirement
        if self.valuation != Valuation::ConservativeNow {
            self.per_market.finish_liquidation_end();
        }
        if self.portfolio.is_empty() {
            return Ok(self.per_market);
        }
        crate::cu_checkpoint!("risk: finish");
        let pf = self.portfolio.health(0, &PORTFOLIO).ok_or(MeridianError::MathOverflow)?;
        crate::cu_checkpoint!("risk: portfolio health");
        let sum = |a: i128, b: i128| a.checked_add(b).ok_or(MeridianError::MathOverflow);
        Ok(Health {
            equity: sum(self.per_market.equity, pf.equity)?,
            initial: sum(self.per_market.initial, pf.initial)?,
            maintenance: sum(self.per_market.maintenance, pf.maintenance)?,
            liquidation_end: sum(self.per_market.liquidation_end, pf.liquidation_end)?,
        })
    }
}

/// The account's health: each position with its market (`current`, or the next remaining account).
pub fn account_health<A: AccountHandle>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
) -> Result<Health> {
    account_health_builder(account, exchange, current, remaining, valuation)?.finish()
}

/// A builder holding the whole account (what [`account_health`] finishes): the caller can ask it
/// whether the valuation read the clock before finishing it (order placement records a reading).
pub fn account_health_builder<A: AccountHandle>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
) -> Result<HealthBuilder> {
    let mut b = HealthBuilder::new(account.collateral, valuation);
    add_positions(&mut b, account, exchange, current, None, remaining)?;
    Ok(b)
}

/// The slot `known` (read by a valuation), else the clock's.
pub fn slot_or_clock(known: Option<u64>) -> Result<u64> {
    match known {
        Some(s) => Ok(s),
        None => Ok(Clock::get()?.slot),
    }
}

/// A builder holding every position of the account but the one in market `skip` (and no
/// collateral): a liquidation adds that position as it is before and after the takeover.
pub fn health_without<A: AccountHandle>(
    account: &MarginAccount,
    exchange: &Pubkey,
    skip: u16,
    remaining: &[A],
    valuation: Valuation,
) -> Result<HealthBuilder> {
    let mut b = HealthBuilder::new(0, valuation);
    add_positions(&mut b, account, exchange, None, Some(skip), remaining)?;
    Ok(b)
}

/// Adds the account's positions (but the one in `skip`) to `b`, each with its market: `current`, or
/// the next remaining account, checked.
fn add_positions<A: AccountHandle>(
    b: &mut HealthBuilder,
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    skip: Option<u16>,
    remaining: &[A],
) -> Result<()> {
    let mut next = remaining.iter();
    crate::cu_checkpoint!("risk: start");
    for p in account.positions_in_use() {
        if Some(p.market_index) == skip {
            continue;
        }
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
    Ok(())
}

/// Equity above the initial requirement (order placement and withdrawals check this).
pub fn account_initial_free<A: AccountHandle>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
) -> Result<i128> {
    Ok(account_health(account, exchange, current, remaining, valuation)?.initial_free())
}
