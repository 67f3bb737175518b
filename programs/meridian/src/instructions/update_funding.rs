use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::book::{ActiveTree, Book, Node};
use meridian_engine::funding::{self, Impact};
use meridian_engine::units::{Side, Ticks};

#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    #[account(mut, has_one = book @ MeridianError::WrongBook)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book (has_one above); read only.
    pub book: UncheckedAccount<'info>,
}

/// Permissionless: accrues funding since the last update into the market's index at the rate in
/// force over that interval (at most one period after a long gap), then samples the book's premium
/// over the oracle price into the time-weighted rate (`meridian_engine::funding`): one update moves
/// the rate by one sample's weight at most, and a sample sees only orders that rested since the
/// previous one, so nobody can set it with orders placed and cancelled around the call. Without a
/// usable oracle price the interval still accrues at the rate in force (no interval is erased, and
/// none waits for a position to be opened just before the price returns) but no sample is taken;
/// nor when a side of the book cannot be read within the walk's limits. The first update starts the
/// clock; markets without an oracle pay no funding.
pub fn process_update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
    let clock = Clock::get()?;
    let mut m = ctx.accounts.market.load_mut()?;
    require!(m.kind() == MarketKind::Perpetual && m.funding_period_secs > 0, MeridianError::NotPerpetual);
    let last = m.funding_last_ts;
    if last == 0 {
        m.funding_last_ts = clock.unix_timestamp;
        m.funding_sample_seq = m.next_order_seq;
        return Ok(());
    }
    // a second update in the same second: nothing to accrue or sample
    if clock.unix_timestamp <= last || !m.has_oracle() {
        return Ok(());
    }
    let since = (clock.unix_timestamp - last).unsigned_abs(); // > 0 above
    let period = m.funding_period_secs as u64;
    // the last pushed price (stale during an outage: it only scales the rate in force)
    let oracle = Ticks(m.mark_price);
    let rate = m.funding_rate as i128;
    let delta = funding::index_delta(rate, oracle, m.tick_size, since.min(period), period)
        .ok_or(MeridianError::MathOverflow)?;
    let index = m.funding_index().checked_add(delta).ok_or(MeridianError::MathOverflow)?;
    m.set_funding_index(index);
    m.funding_last_ts = clock.unix_timestamp;
    if !m.oracle_usable(clock.slot) {
        return Ok(());
    }
    let (bid, ask) = {
        // the book is read-only here: this view never writes
        let mut data = ctx.accounts.book.try_borrow_mut_data()?;
        let (bh, nodes) = book_parts(&mut data)?;
        let book = Book::<ActiveTree>::new(bh, nodes).map_err(|_| MeridianError::InvalidBookAccount)?;
        // orders resting since the last sample, live and in the band (a taker would meet nothing
        // else)
        // a batch market's book is crossed between clearings: only orders that rested through one
        // count (what a clearing leaves does not cross)
        let young = if m.is_batch() { m.funding_sample_seq.min(m.auction_maker_seq) } else { m.funding_sample_seq };
        let (band, now) = (m.band(), clock.unix_timestamp);
        let counts = |n: &Node| n.seq < young && (n.expiry_ts == 0 || n.expiry_ts > now) && band.contains(n.price);
        (
            funding::impact_price(&book, Side::Bid, m.funding_impact_notional, m.tick_size, counts),
            funding::impact_price(&book, Side::Ask, m.funding_impact_notional, m.tick_size, counts),
        )
    };
    m.funding_sample_seq = m.next_order_seq;
    if bid == Impact::Unknown || ask == Impact::Unknown {
        return Ok(());
    }
    let sample = funding::clamp_rate(funding::premium(bid.price(), ask.price(), oracle), m.funding_max_bps);
    // both rates are clamped to +-funding_max_bps (<= 10^9 parts): the cast is exact
    m.funding_rate = funding::sample_rate(rate, sample, since, period) as i64;
    Ok(())
}
