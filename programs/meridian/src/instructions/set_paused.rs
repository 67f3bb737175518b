use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetPaused<'info> {
    #[account(mut, has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub admin: Signer<'info>,
}

pub fn process_set_paused(ctx: Context<SetPaused>, flags: u8) -> Result<()> {
    require!(flags & !PauseFlags::ALL == 0, MeridianError::InvalidPauseFlags);
    ctx.accounts.exchange.load_mut()?.paused = flags;
    Ok(())
}
