use crate::{error::MeridianError, instructions::create_oracle::apply_params, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ConfigureOracle<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = exchange @ MeridianError::WrongExchange)]
    pub oracle: AccountLoader<'info, OracleAggregate>,
}

/// Admin: replaces the sources and limits. The price, TWAP and volatility carry on; the status is
/// left as it is until the next refresh judges the new configuration.
pub fn process_configure_oracle(ctx: Context<ConfigureOracle>, params: OracleParams) -> Result<()> {
    require!(params.is_valid(), MeridianError::InvalidOracleParams);
    apply_params(&mut *ctx.accounts.oracle.load_mut()?, &params);
    Ok(())
}
