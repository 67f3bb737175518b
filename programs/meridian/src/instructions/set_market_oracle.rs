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

/// Admin: prices the market from `oracle`. A perpetual's or future's mark becomes the oracle's price;
/// an option's mark stays its premium, and the oracle is its underlying: each refresh revalues its
/// lot for the portfolio engine (`Market::lot_risk`). Until the next `refresh_oracle` pushes to it,
/// the market takes only reduce-only orders.
pub fn process_set_market_oracle(ctx: Context<SetMarketOracle>) -> Result<()> {
    let max_age = ctx.accounts.oracle.load()?.max_age_slots;
    let quote_decimals = ctx.accounts.exchange.load()?.collateral_decimals;
    let mut m = ctx.accounts.market.load_mut()?;
    require!(!m.is_option() || (m.strike > 0 && m.expiry_ts > 0), MeridianError::OptionNeedsStrikeAndExpiry);
    m.quote_decimals = quote_decimals;
    m.oracle = ctx.accounts.oracle.key();
    m.oracle_status = OracleStatus::Uninitialized as u8;
    m.oracle_slot = 0;
    m.oracle_conf = 0;
    m.oracle_max_age_slots = max_age;
    // an option's lot is revalued from this oracle by the next refresh; until then its own rule
    m.lot_risk = bytemuck::Zeroable::zeroed();
    m.lot_risk_ts = 0;
    m.refresh_band();
    Ok(())
}
