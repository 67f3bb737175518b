use crate::{
    error::MeridianError,
    loaders::load_mut,
    state::*,
    trading::{adjust_collateral, update_open_interest},
};
use anchor_lang::prelude::*;
use core::cell::RefMut;
use meridian_engine::expiry;
use meridian_engine::settlement::{self, RULES};

#[derive(Accounts)]
pub struct SettlePnl<'info> {
    /// CHECK: the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: a market of the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    // remaining accounts: margin accounts of the exchange with a position in the market (writable)
}

/// A lot's value to settle an open position at (the SDK previews with this too): the mark (the
/// oracle's price, usable; the stable mark without an oracle) or an option's model value (revalued,
/// usable). None: open positions wait for a usable price, or past a dated market's expiry for its
/// settlement price (they are worth their payoff then, not the oracle's price).
pub fn settlement_value(m: &Market, slot: u64, now_ts: i64) -> Option<i64> {
    if m.is_expired(now_ts) || (m.has_oracle() && (m.awaits_revaluation() || !m.oracle_usable(slot))) {
        return None;
    }
    i64::try_from(m.lot_value().ok()?).ok()
}

/// Permissionless: settles each account's position in `market` (its funding and socialized loss
/// first) between its quote balance and its collateral, through the market's PnL pool
/// (`meridian_engine::settlement`): a loss is realized from collateral into the pool, a profit paid
/// from the pool into collateral (an open position's only at a usable price, 80% of it at most, and
/// at most 10% of its notional per account per hour). In a settled dated market the position is
/// first closed at the settlement price (`settle_expired`). A position left with nothing frees its
/// slot. An account without a position here, or whose open position has no usable price now, is
/// skipped (one such account does not fail a batch); `NoPositionToSettle` / `OracleNotUsable`
/// only when that is true of every account passed. Returns how many positions moved money.
pub fn process_settle_pnl<'info>(ctx: Context<'info, SettlePnl<'info>>) -> Result<u16> {
    let exchange_key = ctx.accounts.exchange.key();
    let (mut exchange, mut market) = load_for_settlement(&ctx.accounts.exchange, &ctx.accounts.market)?;
    let clock = Clock::get()?;
    let value = settlement_value(&market, clock.slot, clock.unix_timestamp);
    let (mut settled, mut held, mut waiting) = (0u16, 0u16, 0u16);
    for info in ctx.remaining_accounts {
        let mut account = load_settled_account(info, &exchange_key)?;
        let Some(slot) = account.find_position(market.index) else { continue };
        held += 1;
        if value.is_none() && !market.is_settled() && account.position(slot).base_lots != 0 {
            waiting += 1;
            continue;
        }
        if settle_position(&mut exchange, &mut market, &mut account, slot, value, clock.unix_timestamp)? {
            settled += 1;
        }
    }
    require!(held > 0, MeridianError::NoPositionToSettle);
    require!(waiting < held, MeridianError::OracleNotUsable);
    Ok(settled)
}

/// The exchange (trading not paused) and one of its markets, for a settlement; the market's
/// unswept totals are swept, as both are written anyway.
pub(crate) fn load_for_settlement<'a>(
    exchange: &'a AccountInfo,
    market: &'a AccountInfo,
) -> Result<(RefMut<'a, Exchange>, RefMut<'a, Market>)> {
    let mut e = load_mut::<Exchange, AccountInfo>(exchange)?;
    require!(!e.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
    let mut m = load_mut::<Market, AccountInfo>(market)?;
    require_keys_eq!(m.exchange, *exchange.key, MeridianError::WrongExchange);
    m.sweep_into(&mut e)?;
    Ok((e, m))
}

/// A margin account of the exchange passed to be settled (writable).
pub(crate) fn load_settled_account<'a>(info: &'a AccountInfo, exchange: &Pubkey) -> Result<RefMut<'a, MarginAccount>> {
    require!(info.is_writable, MeridianError::AccountNotWritable);
    let account = load_mut::<MarginAccount, AccountInfo>(info)?;
    require_keys_eq!(account.exchange, *exchange, MeridianError::WrongExchange);
    Ok(account)
}

/// Settles the position in `slot` (in `market`) through the pool; an open position at `value` per
/// lot (None: it waits for a usable price). In a settled market the position is closed at the
/// settlement price first. Frees the slot if nothing is left. Returns whether money moved.
pub(crate) fn settle_position(
    exchange: &mut Exchange,
    market: &mut Market,
    account: &mut MarginAccount,
    slot: usize,
    value: Option<i64>,
    now_ts: i64,
) -> Result<bool> {
    market.settle_funding(account.position_mut(slot))?;
    if market.is_settled() {
        close_at_settlement(market, account, slot)?;
    }
    let p = *account.position(slot);
    let open = p.base_lots != 0;
    let lot_value = if open { value.ok_or(MeridianError::OracleNotUsable)? } else { 0 };
    let window = account.upnl_window().at(now_ts, &RULES);
    // |base| <= 2^48 (position limits) and a lot's value < 2^63: saturates only beyond reach
    let notional =
        u64::try_from(p.base_lots.unsigned_abs() as u128 * lot_value.unsigned_abs() as u128).unwrap_or(u64::MAX);
    let s = settlement::plan(
        settlement::pnl(&p, lot_value),
        open,
        account.collateral,
        market.pnl_pool,
        window.left(notional, &RULES),
        &RULES,
    );
    if s.amount == 0 {
        account.release_if_flat(slot);
        return Ok(false);
    }
    settlement::apply(account.position_mut(slot), &s).ok_or(MeridianError::MathOverflow)?;
    adjust_collateral(exchange, account, s.amount)?;
    // the pool takes a loss in and pays a profit out (a profit is at most the pool: plan)
    let pool = (market.pnl_pool as i128).checked_sub(s.amount as i128).and_then(|v| u64::try_from(v).ok());
    market.pnl_pool = pool.ok_or(MeridianError::MathOverflow)?;
    let pools = (exchange.pnl_pools as i128).checked_sub(s.amount as i128).and_then(|v| u64::try_from(v).ok());
    exchange.pnl_pools = pools.ok_or(MeridianError::MathOverflow)?;
    account.pnl_settled = account.pnl_settled.saturating_add(s.amount);
    if s.unrealized {
        account.upnl_window_start = window.start_ts;
        account.upnl_window_paid = window.paid.saturating_add(s.amount.unsigned_abs());
    }
    account.release_if_flat(slot);
    Ok(true)
}

/// A settled market: closes the position's base at the payoff (its quote balance becomes its whole
/// PnL) and counts it. Nothing happens to a position with no base (settling twice does nothing).
pub(crate) fn close_at_settlement(market: &mut Market, account: &mut MarginAccount, slot: usize) -> Result<()> {
    let base = account.position(slot).base_lots;
    if base == 0 {
        return Ok(());
    }
    let lot_value = market.settled_lot_value()?;
    let realized = expiry::settle_position(account.position_mut(slot), lot_value).ok_or(MeridianError::MathOverflow)?;
    account.realized_pnl = account.realized_pnl.saturating_add(realized);
    update_open_interest(market, base, 0);
    if base < 0 {
        market.short_interest = market.short_interest.saturating_sub(base.unsigned_abs());
    }
    market.positions_settled = market.positions_settled.saturating_add(1);
    Ok(())
}
