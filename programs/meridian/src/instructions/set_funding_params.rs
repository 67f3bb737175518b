use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetFundingParams<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = exchange @ MeridianError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
}

/// Longest funding period accepted (30 days).
pub const MAX_FUNDING_PERIOD_SECS: u32 = 30 * 86_400;

/// Admin: a perpetual's funding period, rate clamp (bp per period) and impact size (quote native
/// units; 0 = best prices).
pub fn process_set_funding_params(
    ctx: Context<SetFundingParams>,
    period_secs: u32,
    max_rate_bps: u32,
    impact_notional: u64,
) -> Result<()> {
    let mut m = ctx.accounts.market.load_mut()?;
    require!(m.kind() == MarketKind::Perpetual, MeridianError::NotPerpetual);
    require!(
        (1..=MAX_FUNDING_PERIOD_SECS).contains(&period_secs) && max_rate_bps <= 10_000,
        MeridianError::InvalidFundingParams
    );
    m.funding_period_secs = period_secs;
    m.funding_max_bps = max_rate_bps;
    m.funding_impact_notional = impact_notional;
    // the rate in force stays within the new clamp (<= 10^9 parts: the cast is exact)
    m.funding_rate = meridian_engine::funding::clamp_rate(m.funding_rate as i128, max_rate_bps) as i64;
    Ok(())
}
