//! Account health on-chain: the engine's margin rule over the account's positions, with each
//! market's parameters and mark read from its account.
//!
//! The markets of the account's positions (other than one the instruction already holds) are
//! passed as remaining accounts, in the order of the account's position slots. Each is checked:
//! owned by the program, a Market of this exchange, the position's market index.

use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::margin::{add_position, Health};

pub fn account_health<'info>(
    account: &MarginAccount,
    exchange: &Pubkey,
    current: Option<&Market>,
    remaining: &'info [AccountInfo<'info>],
) -> Result<Health> {
    let mut h = Health { equity: account.collateral as i128, ..Health::default() };
    let mut next = remaining.iter();
    for p in account.positions_in_use() {
        if let Some(m) = current.filter(|m| m.index == p.market_index) {
            add_position(&mut h, p, &m.risk());
            continue;
        }
        let info = next.next().ok_or(MeridianError::MissingMarketAccount)?;
        let loader = AccountLoader::<Market>::try_from(info)?;
        let market = loader.load()?;
        require_keys_eq!(market.exchange, *exchange, MeridianError::WrongExchange);
        require!(market.index == p.market_index, MeridianError::MissingMarketAccount);
        add_position(&mut h, p, &market.risk());
    }
    Ok(h)
}
