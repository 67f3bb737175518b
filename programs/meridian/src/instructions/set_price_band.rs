use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetPriceBand<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub admin: Signer<'info>,
    #[account(mut, has_one = exchange @ MeridianError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
}

/// Admin: the half width of a market's price band, basis points of its reference price (1 to
/// 10,000). Resting orders the new band leaves outside are removed when a taker meets them.
pub fn process_set_price_band(ctx: Context<SetPriceBand>, band_bps: u32) -> Result<()> {
    require!((1..=10_000).contains(&band_bps), MeridianError::InvalidPriceBand);
    let mut m = ctx.accounts.market.load_mut()?;
    m.price_band_bps = band_bps;
    m.refresh_band();
    Ok(())
}
