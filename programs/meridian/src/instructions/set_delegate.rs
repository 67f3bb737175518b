use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetDelegate<'info> {
    #[account(mut, has_one = owner @ MeridianError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
}

/// Owner only: `delegate` may place, replace and cancel orders for the account from now on (the
/// default key clears it). A delegate cannot withdraw, close the account, deposit from the owner's
/// tokens or change the delegate: those instructions check the owner.
pub fn process_set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
    ctx.accounts.margin_account.load_mut()?.delegate = delegate;
    Ok(())
}
