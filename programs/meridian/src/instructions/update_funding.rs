use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::book::{ActiveTree, Book};
use meridian_engine::funding;
use meridian_engine::units::{Side, Ticks};

#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    #[account(mut, has_one = book @ MeridianError::WrongBook)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book (has_one above); read only.
    pub book: UncheckedAccount<'info>,
}

/// Permissionless: accrues funding since the last update into the market's index at the clamped
/// premium of the book's impact prices over the oracle price.
pub fn process_update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
    let clock = Clock::get()?;
    let mut m = ctx.accounts.market.load_mut()?;
    require!(m.kind == MarketKind::Perpetual as u8 && m.funding_period_secs > 0, MeridianError::NotPerpetual);
    let last = m.funding_last_ts;
    m.funding_last_ts = clock.unix_timestamp.max(last);
    if last == 0 || clock.unix_timestamp <= last {
        return Ok(()); // the first update starts the clock; a second one in the same second is a no-op
    }
    // after a long gap (no keeper ran) accrue at most one period at the current premium
    let elapsed = ((clock.unix_timestamp - last) as u64).min(m.funding_period_secs as u64);
    // no usable oracle price, no premium to measure: nothing accrues for this interval
    if !m.has_oracle() || !m.oracle_usable(clock.slot) {
        m.funding_rate = 0;
        return Ok(());
    }
    let oracle = Ticks(m.mark_price);
    let (bid, ask) = {
        // the book is read-only here: this view never writes
        let mut data = ctx.accounts.book.try_borrow_mut_data()?;
        let (bh, nodes) = book_parts(&mut data)?;
        let book = Book::<ActiveTree>::new(bh, nodes).map_err(|_| MeridianError::InvalidBookAccount)?;
        (
            funding::impact_price(&book, Side::Bid, m.funding_impact_notional, m.tick_size),
            funding::impact_price(&book, Side::Ask, m.funding_impact_notional, m.tick_size),
        )
    };
    let rate = funding::clamp_rate(funding::premium(bid, ask, oracle), m.funding_max_bps);
    let delta = funding::index_delta(rate, oracle, m.tick_size, elapsed, m.funding_period_secs as u64)
        .ok_or(MeridianError::MathOverflow)?;
    let index = m.funding_index().checked_add(delta).ok_or(MeridianError::MathOverflow)?;
    m.set_funding_index(index);
    m.funding_rate = rate as i64;
    Ok(())
}
