use super::fix_settlement_price::{check_can_fix, fix};
use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::band;
use meridian_engine::expiry::{self, NotYet};

#[derive(Accounts)]
pub struct SetSettlementPrice<'info> {
    #[account(has_one = admin @ MeridianError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = event_queue @ MeridianError::WrongEventQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's event queue (has_one above).
    pub event_queue: UncheckedAccount<'info>,
    pub admin: Signer<'info>,
}

/// Admin, the last resort: `price` (ticks of the underlying per lot) becomes the settlement price
/// of a market whose window still lacks samples `expiry::ADMIN_GRACE_SECS` after expiry. When the
/// window has some samples, the price stays within the market's band (`price_band_bps`) of their
/// average. Recorded as `SettlementSource::Admin` in the market and logged.
pub fn process_set_settlement_price(ctx: Context<SetSettlementPrice>, price: u64) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let mut market = ctx.accounts.market.load_mut()?;
    check_can_fix(&market, &ctx.accounts.event_queue, now_ts)?;
    require!(
        now_ts >= market.expiry_ts.saturating_add(expiry::ADMIN_GRACE_SECS),
        MeridianError::SettlementGraceNotOver
    );
    // the samples, when there are enough, decide
    let sampler = market.sampler();
    let from_samples = sampler.settlement_price(&market.settlement_window(), now_ts);
    require!(matches!(from_samples, Err(NotYet::TooFewSamples { .. })), MeridianError::SettlementGraceNotOver);
    require!(
        price > 0 && price.checked_mul(market.tick_size).is_some_and(|v| v <= i64::MAX as u64),
        MeridianError::InvalidSettlementPrice
    );
    if let Some(partial) = sampler.partial_price() {
        let half = band::half_width(partial, market.band_bps(), 1);
        require!(price.abs_diff(partial) <= half, MeridianError::InvalidSettlementPrice);
    }
    fix(&mut market, price, SettlementSource::Admin, now_ts);
    Ok(())
}
