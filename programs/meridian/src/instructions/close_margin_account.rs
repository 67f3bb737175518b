use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CloseMarginAccount<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        close = owner,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = owner @ MeridianError::NotAccountOwner,
    )]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
}

pub fn process_close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
    require!(ctx.accounts.margin_account.load()?.is_empty(), MeridianError::AccountNotEmpty);
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    exchange.num_margin_accounts = exchange.num_margin_accounts.saturating_sub(1);
    Ok(())
}
