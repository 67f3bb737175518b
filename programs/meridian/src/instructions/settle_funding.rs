use crate::{error::MeridianError, loaders::load_mut, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SettleFunding<'info> {
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    // remaining accounts: margin accounts of the market's exchange (writable)
}

/// Permissionless: settles the funding of each margin account's position in this market into its
/// quote balance. Accounts without a position here are skipped. Returns how many were settled.
pub fn process_settle_funding<'info>(ctx: Context<'info, SettleFunding<'info>>) -> Result<u16> {
    let mut m = ctx.accounts.market.load_mut()?;
    let mut settled = 0u16;
    for info in ctx.remaining_accounts {
        require!(info.is_writable, MeridianError::AccountNotWritable);
        let mut account = load_mut::<MarginAccount, AccountInfo>(info)?;
        require_keys_eq!(account.exchange, m.exchange, MeridianError::WrongExchange);
        if let Some(slot) = account.find_position(m.index) {
            m.settle_funding(account.position_mut(slot))?;
            settled += 1;
        }
    }
    Ok(settled)
}
