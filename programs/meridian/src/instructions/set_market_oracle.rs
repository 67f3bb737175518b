use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetMarketOracle<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = exchange @ MeridianError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
    #[account(has_one = exchange @ MeridianError::WrongOracle)]
    pub oracle: AccountLoader<'info, OracleAggregate>,
}

/// Admin: prices the market from `oracle`. Until the next `refresh_oracle` pushes a price to it,
/// the market takes only reduce-only orders.
pub fn process_set_market_oracle(ctx: Context<SetMarketOracle>) -> Result<()> {
    let max_age = ctx.accounts.oracle.load()?.max_age_slots;
    let mut m = ctx.accounts.market.load_mut()?;
    m.oracle = ctx.accounts.oracle.key();
    m.oracle_status = OracleStatus::Uninitialized as u8;
    m.oracle_slot = 0;
    m.oracle_conf = 0;
    m.oracle_max_age_slots = max_age;
    Ok(())
}
