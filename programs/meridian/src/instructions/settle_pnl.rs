use crate::{
    error::MeridianError,
    loaders::load_mut,
    state::*,
    trading::adjust_collateral,
};
use anchor_lang::prelude::*;
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

/// A lot's value to settle an open position at: the mark (the oracle's price, usable; the stable
/// mark without an oracle) or an option's model value (revalued, usable). None: open positions
/// wait for a usable price.
fn settlement_value(m: &Market, slot: u64) -> Option<i64> {
    if m.has_oracle() && (m.awaits_revaluation() || !m.oracle_usable(slot)) {
        return None;
    }
    i64::try_from(m.lot_value().ok()?).ok()
}

/// Permissionless: settles each account's position in `market` (its funding and socialized loss
/// first) between its quote balance and its collateral, through the market's PnL pool
/// (`meridian_engine::settlement`): a loss is realized from collateral into the pool, a profit paid
/// from the pool into collateral (an open position's only at a usable price, 80% of it at most, and
/// at most 10% of its notional per account per hour). A position left with nothing frees its slot.
/// Returns how many positions moved money.
pub fn process_settle_pnl<'info>(ctx: Context<'info, SettlePnl<'info>>) -> Result<u16> {
    let a = &ctx.accounts;
    let exchange_key = a.exchange.key();
    let mut exchange = load_mut::<Exchange, AccountInfo>(&a.exchange)?;
    require!(!exchange.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
    let mut market = load_mut::<Market, AccountInfo>(&a.market)?;
    require_keys_eq!(market.exchange, exchange_key, MeridianError::WrongExchange);
    let clock = Clock::get()?;
    let value = settlement_value(&market, clock.slot);
    let mut settled = 0u16;
    for info in ctx.remaining_accounts {
        require!(info.is_writable, MeridianError::AccountNotWritable);
        let mut account = load_mut::<MarginAccount, AccountInfo>(info)?;
        require_keys_eq!(account.exchange, exchange_key, MeridianError::WrongExchange);
        let slot = account.find_position(market.index).ok_or(MeridianError::NoPositionToSettle)?;
        market.settle_funding(account.position_mut(slot))?;
        let p = *account.position(slot);
        let open = p.base_lots != 0;
        let lot_value = if open { value.ok_or(MeridianError::OracleNotUsable)? } else { 0 };
        let window = account.upnl_window().at(clock.unix_timestamp, &RULES);
        // |base| <= 2^48 (position limits) and a lot's value < 2^63: saturates only beyond reach
        let notional = u64::try_from(p.base_lots.unsigned_abs() as u128 * lot_value.unsigned_abs() as u128).unwrap_or(u64::MAX);
        let s = settlement::plan(settlement::pnl(&p, lot_value), open, account.collateral, market.pnl_pool, window.left(notional, &RULES), &RULES);
        if s.amount == 0 {
            account.release_if_flat(slot);
            continue;
        }
        settlement::apply(account.position_mut(slot), &s).ok_or(MeridianError::MathOverflow)?;
        adjust_collateral(&mut exchange, &mut account, s.amount)?;
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
        settled += 1;
    }
    Ok(settled)
}
