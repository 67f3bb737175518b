use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
#[instruction(sub_account: u16)]
pub struct CreateMarginAccount<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        init,
        payer = payer,
        space = MarginAccount::SPACE,
        seeds = [MARGIN_ACCOUNT_SEED, exchange.key().as_ref(), owner.key().as_ref(), &sub_account.to_le_bytes()],
        bump,
    )]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
    /// Pays the rent; usually the owner.
    #[account(mut)]
    pub payer: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn process_create_margin_account(ctx: Context<CreateMarginAccount>, sub_account: u16) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    require!(!exchange.is_paused(PauseFlags::ACCOUNT_CREATION), MeridianError::AccountCreationPaused);
    exchange.num_margin_accounts = exchange.num_margin_accounts.checked_add(1).ok_or(MeridianError::MathOverflow)?;

    let mut account = ctx.accounts.margin_account.load_init()?;
    account.exchange = ctx.accounts.exchange.key();
    account.owner = ctx.accounts.owner.key();
    account.sub_account = sub_account;
    account.bump = ctx.bumps.margin_account;
    Ok(())
}
