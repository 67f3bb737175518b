use crate::{error::MeridianError, loaders::load_mut, state::*};
use anchor_lang::prelude::*;
use meridian_engine::oracle::{self, Outcome, Quote, Reading, MAX_SOURCES};
use meridian_engine::portfolio::LotRisk;
use meridian_engine::pricing::OptionKind;

#[derive(Accounts)]
pub struct RefreshOracle<'info> {
    #[account(mut)]
    pub oracle: AccountLoader<'info, OracleAggregate>,
    // remaining accounts: one account per configured source, in configured order, then any
    // markets priced by this oracle (writable) to receive the new price (options on it: their
    // revalued lot)
}

/// Reads a source account after checking it is what the configuration names. Failing here is the
/// caller's fault (wrong account), so the whole refresh fails and nothing changes.
fn read_source(info: &AccountInfo, src: &OracleSource) -> Result<Reading> {
    let data = info.try_borrow_data()?;
    let reading = read_source_account(src.kind, &src.id, info.key, info.owner, &data)?;
    // an older update than one already used is a replay (it could only make the price worse)
    require!(
        reading.publish_ts >= src.last_publish_ts && reading.slot >= src.last_slot,
        MeridianError::OracleSourceReplayed
    );
    Ok(reading)
}

/// Permissionless: judges every source, aggregates the valid ones and updates price, status, TWAP
/// accumulator and realized volatility.
pub fn process_refresh_oracle(ctx: Context<RefreshOracle>) -> Result<()> {
    let clock = Clock::get()?;
    let (now_slot, now_ts) = (clock.slot, clock.unix_timestamp);
    let mut o = ctx.accounts.oracle.load_mut()?;
    let n = o.num_sources as usize;
    require!(ctx.remaining_accounts.len() >= n, MeridianError::OracleSourceCount);
    let (source_infos, market_infos) = ctx.remaining_accounts.split_at(n);
    let limits = o.limits();
    let mut quotes = [Quote::default(); MAX_SOURCES];
    let mut valid = 0;
    // the aggregate is as old as the oldest reading it used
    let mut oldest_slot = now_slot;
    for (src, info) in o.sources[..n].iter_mut().zip(source_infos) {
        let reading = read_source(info, src)?;
        match oracle::judge(&reading, &limits, now_slot, now_ts) {
            Ok(q) => {
                quotes[valid] = q;
                valid += 1;
                oldest_slot = oldest_slot.min(reading.slot);
                *src = OracleSource {
                    last_fault: 0,
                    last_publish_ts: reading.publish_ts,
                    last_slot: reading.slot,
                    last_price: q.price,
                    last_conf: q.conf,
                    ..*src
                };
            }
            Err(fault) => {
                src.last_fault = fault as u8;
                src.last_price = 0;
                src.last_conf = 0;
                // a reading seen is a reading used for the replay guard (not one from the future,
                // which would lock honest updates out): nobody can step back to an older update
                // the refresh skipped
                if reading.publish_ts <= now_ts && reading.slot <= now_slot {
                    src.last_publish_ts = src.last_publish_ts.max(reading.publish_ts);
                    src.last_slot = src.last_slot.max(reading.slot);
                }
            }
        }
    }

    // the TWAP integrates the price held since the last refresh, before it changes
    if o.price != 0 {
        let elapsed = now_ts.saturating_sub(o.twap_last_ts).max(0).unsigned_abs();
        let cumulative = oracle::accumulate_twap(o.twap_cumulative(), o.price, elapsed);
        o.set_twap_cumulative(cumulative);
    }
    match oracle::aggregate(&mut quotes[..valid], o.min_valid_sources as usize, o.max_deviation_bps) {
        Outcome::Valid(q) => {
            set_price(&mut o, q, now_slot, now_ts);
            o.status = OracleStatus::Valid as u8;
            o.valid_slot = oldest_slot;
            o.valid_ts = now_ts;
            sample_volatility(&mut o, q.price, now_ts);
        }
        Outcome::Divergent(q) => {
            set_price(&mut o, q, now_slot, now_ts);
            o.status = OracleStatus::Divergent as u8;
        }
        Outcome::TooFewSources => o.status = OracleStatus::TooFewSources as u8,
    }
    if o.price != 0 {
        o.twap_last_ts = now_ts;
    }
    o.num_refreshes += 1;
    let oracle_key = ctx.accounts.oracle.key();
    crate::cu_checkpoint!("refresh: aggregated");
    for info in market_infos {
        let mut m = load_mut::<Market, AccountInfo>(info)?;
        require_keys_eq!(m.oracle, oracle_key, MeridianError::WrongOracle);
        crate::cu_checkpoint!("refresh: market loaded");
        push_to_market(&o, &mut m, now_slot, now_ts);
        crate::cu_checkpoint!("refresh: market pushed");
    }
    Ok(())
}

/// The aggregate's price, when it has one this refresh (Valid or Divergent, the latter with its wide
/// confidence, so a withdrawal's conservative valuation sees the disagreement), reaches the market:
/// a linear market's mark follows it, an option's lot is revalued from it. Only a Valid price is
/// stamped usable, with the slot of its oldest reading. A price the market cannot take (it does not
/// fit the ticks, or the option cannot be valued) counts as not usable (status 0).
fn push_to_market(o: &OracleAggregate, m: &mut Market, now_slot: u64, now_ts: i64) {
    m.oracle_max_age_slots = o.max_age_slots;
    m.oracle_vol = o.realized_vol;
    let status = o.status();
    if status == OracleStatus::TooFewSources || status == OracleStatus::Uninitialized {
        m.oracle_status = o.status;
        return;
    }
    let conf = if m.is_option() { revalue_option(o, m, now_ts) } else { set_mark(o, m) };
    match conf {
        Some(conf) => {
            m.refresh_band();
            m.oracle_conf = conf;
            m.oracle_status = o.status;
            if status == OracleStatus::Valid {
                m.oracle_slot = o.valid_slot;
                m.oracle_push_slot = now_slot;
                if m.is_dated() && !m.is_settled() {
                    sample_settlement(o, m, now_slot, now_ts);
                }
            }
        }
        None => m.oracle_status = OracleStatus::Uninitialized as u8,
    }
}

/// A linear market: the mark becomes the price in ticks (rounded to nearest). Returns the
/// confidence in ticks (rounded up), or None (nothing changed) when either does not fit.
fn set_mark(o: &OracleAggregate, m: &mut Market) -> Option<u64> {
    let ticks =
        |v: u64, up: bool| oracle::to_ticks(v, m.quote_decimals, m.base_decimals, m.base_lot_size, m.tick_size, up);
    match (ticks(o.price, false), ticks(o.conf, true)) {
        (Some(price), Some(conf)) if price > 0 && price.checked_mul(m.tick_size).is_some() => {
            m.mark_price = price;
            Some(conf)
        }
        _ => None,
    }
}

/// An option on this underlying: its lot is revalued for the portfolio engine from the aggregate's
/// price (the underlying's value of one lot) and its realized volatility (floored and bounded,
/// `risk::PORTFOLIO`); ~13,000 CU (28 valuations, bench/CU.md). Returns the confidence in ticks
/// (u64::MAX if it does not fit), or None (nothing changed) when the lot cannot be valued.
fn revalue_option(o: &OracleAggregate, m: &mut Market, now_ts: i64) -> Option<u64> {
    let kind = if m.kind() == MarketKind::Call { OptionKind::Call } else { OptionKind::Put };
    let params = &crate::risk::PORTFOLIO;
    // the underlying's value of one lot in quote native units (a "tick" of 1)
    let spot = oracle::to_ticks(o.price, m.quote_decimals, m.base_decimals, m.base_lot_size, 1, false)?;
    let strike = m.strike.checked_mul(m.tick_size)?;
    if spot == 0 || spot > i64::MAX as u64 || strike > i64::MAX as u64 {
        return None;
    }
    let vol = params.volatility(o.realized_vol as i128);
    // both <= i64::MAX: checked just above
    crate::cu_checkpoint!("revalue: inputs");
    let risk = LotRisk::option(kind, spot as i64, strike as i64, vol, now_ts, m.expiry_ts, &params.grid)?;
    crate::cu_checkpoint!("revalue: lot risk");
    m.set_lot_risk(&risk);
    m.lot_risk_ts = now_ts;
    Some(
        oracle::to_ticks(o.conf, m.quote_decimals, m.base_decimals, m.base_lot_size, m.tick_size, true)
            .unwrap_or(u64::MAX),
    )
}

/// A dated market in its settlement window (or its extension) takes the Valid price as a sample
/// (`meridian_engine::expiry::Sampler`: at most one per slot, bucketed): a future's mark, an
/// option's underlying, both in the market's ticks per lot.
fn sample_settlement(o: &OracleAggregate, m: &mut Market, now_slot: u64, now_ts: i64) {
    let price = if m.is_option() {
        oracle::to_ticks(o.price, m.quote_decimals, m.base_decimals, m.base_lot_size, m.tick_size, false)
    } else {
        Some(m.mark_price)
    };
    let mut sampler = m.sampler();
    if price.is_some_and(|p| sampler.sample(&m.settlement_window(), p, now_slot, now_ts)) {
        m.set_sampler(&sampler);
    }
}

fn set_price(o: &mut OracleAggregate, q: Quote, slot: u64, ts: i64) {
    o.price = q.price;
    o.conf = q.conf;
    o.price_slot = slot;
    o.price_ts = ts;
}

/// One EWMA sample per Valid refresh at least `vol_sample_secs` after the last one.
fn sample_volatility(o: &mut OracleAggregate, price: u64, now_ts: i64) {
    if o.ewma_price != 0 {
        let elapsed = now_ts.saturating_sub(o.ewma_ts);
        // an aggregate created before the cadence existed reads 0: the default minute
        let cadence = if o.vol_sample_secs == 0 { 60 } else { o.vol_sample_secs as i64 };
        if elapsed <= 0 || elapsed < cadence {
            return;
        }
        if let Some(r) = oracle::log_return(o.ewma_price, price) {
            o.ewma_variance =
                oracle::update_variance(o.ewma_variance, r, elapsed.unsigned_abs(), o.vol_tau_secs as u64);
            o.realized_vol = oracle::volatility(o.ewma_variance);
        }
    }
    o.ewma_price = price;
    o.ewma_ts = now_ts;
}
