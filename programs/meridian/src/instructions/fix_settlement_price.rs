use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::expiry::{self, NotYet};

#[derive(Accounts)]
pub struct FixSettlementPrice<'info> {
    #[account(mut, has_one = event_queue @ MeridianError::WrongEventQueue)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's event queue (has_one above), read to check every fill is applied.
    pub event_queue: UncheckedAccount<'info>,
}

/// A dated market past expiry whose price is not fixed yet, with every fill applied (so no base
/// moves after the price is fixed).
pub(crate) fn check_can_fix(market: &Market, event_queue: &AccountInfo, now_ts: i64) -> Result<()> {
    require!(market.is_dated(), MeridianError::NotDatedMarket);
    require!(market.is_expired(now_ts), MeridianError::MarketNotExpired);
    require!(!market.is_settled(), MeridianError::SettlementPriceFixed);
    let mut queue = event_queue.try_borrow_mut_data()?;
    require!(queue_parts(&mut queue)?.0.count == 0, MeridianError::EventsPending);
    Ok(())
}

/// Records the fixed price: from then on the market's positions settle at it.
pub(crate) fn fix(market: &mut Market, price: u64, source: SettlementSource, now_ts: i64) {
    market.settlement_price = price;
    market.settlement_source = source as u8;
    market.settlement_ts = now_ts;
    // every fill is applied (check_can_fix): the shorts hold as many lots as the longs
    market.short_interest = market.open_interest;
    msg!("settlement price {} ticks ({:?})", price, source);
}

/// Permissionless, after expiry: fixes the settlement price at the average of the window's
/// samples (`meridian_engine::expiry`), once enough buckets have them (else the window extends).
pub fn process_fix_settlement_price(ctx: Context<FixSettlementPrice>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let mut market = ctx.accounts.market.load_mut()?;
    check_can_fix(&market, &ctx.accounts.event_queue, now_ts)?;
    let price = market.sampler().settlement_price(&market.settlement_window(), now_ts).map_err(|e| match e {
        NotYet::NotExpired => MeridianError::MarketNotExpired,
        NotYet::TooFewSamples { filled } => {
            msg!("{} of {} buckets have samples", filled, expiry::MIN_FILLED);
            MeridianError::SettlementSamplesTooFew
        }
    })?;
    fix(&mut market, price, SettlementSource::Window, now_ts);
    Ok(())
}
