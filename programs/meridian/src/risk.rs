//! Account health on-chain: the engine's margin rule over the account's positions, with each
//! market's parameters and mark read from its account.
//!
//! The markets of the account's positions (other than one the instruction already holds) are
//! passed as remaining accounts, in the order of the account's position slots. Each is checked:
//! owned by the program, a Market of this exchange, the position's market index.

use crate::{account_view::AccountView, error::MeridianError, loaders::load, state::*};
use anchor_lang::prelude::*;
use meridian_engine::margin::{add_position, initial_free, Health, MarketRisk};
use meridian_engine::position::Position;

/// Which mark a position is valued at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Valuation {
    /// The market's mark.
    Mark,
    /// At this slot, positions in markets whose oracle is not usable are valued at the conservative
    /// end of the last confidence band (withdrawals).
    Conservative { now_slot: u64 },
    /// `Conservative` at the clock's slot, read on-chain only if a market with an oracle is met
    /// (order placement: most accounts never pay for the clock).
    ConservativeNow,
}

impl Valuation {
    /// The risk parameters of `p`'s market; `slot` caches the clock for `ConservativeNow`.
    fn risk(self, m: &Market, p: &Position, slot: &mut Option<u64>) -> Result<MarketRisk> {
        Ok(match self {
            Valuation::Mark => m.risk(),
            Valuation::Conservative { now_slot } => m.conservative_risk(p.base_lots, now_slot),
            Valuation::ConservativeNow if m.has_oracle() => {
                let now_slot = match *slot {
                    Some(s) => s,
                    None => *slot.insert(Clock::get()?.slot),
                };
                m.conservative_risk(p.base_lots, now_slot)
            }
            Valuation::ConservativeNow => m.risk(),
        })
    }
}

/// Calls `f` with each of the account's positions and its market's risk parameters.
fn for_each_position<A: AccountView>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
    mut f: impl FnMut(&Position, &MarketRisk),
) -> Result<()> {
    let mut next = remaining.iter();
    let mut slot = None;
    crate::cu_checkpoint!("risk: start");
    for p in account.positions_in_use() {
        crate::cu_checkpoint!("risk: position");
        if let Some(m) = current.filter(|m| m.index == p.market_index) {
            let r = valuation.risk(m, p, &mut slot)?;
            crate::cu_checkpoint!("risk: risk built");
            f(p, &r);
            crate::cu_checkpoint!("risk: position done");
            continue;
        }
        let info = next.next().ok_or(MeridianError::MissingMarketAccount)?;
        let market = load::<Market, A>(info)?;
        require_keys_eq!(market.exchange, *exchange, MeridianError::WrongExchange);
        require!(market.index == p.market_index, MeridianError::MissingMarketAccount);
        f(p, &valuation.risk(&market, p, &mut slot)?);
    }
    crate::cu_checkpoint!("risk: end");
    Ok(())
}

/// Equity, initial and maintenance requirements (liquidation checks).
pub fn account_health<A: AccountView>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
) -> Result<Health> {
    let mut h = Health { equity: account.collateral as i128, ..Health::default() };
    for_each_position(account, exchange, current, remaining, Valuation::Mark, |p, r| add_position(&mut h, p, r))?;
    Ok(h)
}

/// Equity above the initial requirement (order placement and withdrawals need only this).
pub fn account_initial_free<A: AccountView>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &[A],
    valuation: Valuation,
) -> Result<i128> {
    let mut free = account.collateral as i128;
    for_each_position(account, exchange, current, remaining, valuation, |p, r| {
        free += initial_free(0, [(p, r)]);
    })?;
    Ok(free)
}
