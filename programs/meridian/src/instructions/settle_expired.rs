use super::settle_pnl::{load_for_settlement, load_settled_account, settle_position};
use crate::error::MeridianError;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SettleExpired<'info> {
    /// CHECK: the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: a settled dated market of the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    // remaining accounts: margin accounts of the exchange (writable)
}

/// Permissionless, once the settlement price is fixed: each account's position in `market` is
/// closed at its payoff (a future at the settlement price, a call at `max(S - K, 0)`, a put at
/// `max(K - S, 0)` per lot; long receives, short pays) and its PnL settled through the market's
/// pool (`settle_pnl`): losses realized from collateral, profits paid from what losers paid in.
/// Resting orders can no longer fill (they stay until `cancel_expired_orders`); an account with no
/// position here is skipped, so settling twice does nothing. Returns how many positions moved.
pub fn process_settle_expired<'info>(ctx: Context<'info, SettleExpired<'info>>) -> Result<u16> {
    let exchange_key = ctx.accounts.exchange.key();
    let (mut exchange, mut market) = load_for_settlement(&ctx.accounts.exchange, &ctx.accounts.market)?;
    require!(market.is_dated(), MeridianError::NotDatedMarket);
    require!(market.is_settled(), MeridianError::SettlementPriceNotFixed);
    let now_ts = Clock::get()?.unix_timestamp;
    let mut settled = 0u16;
    for info in ctx.remaining_accounts {
        let mut account = load_settled_account(info, &exchange_key)?;
        let Some(slot) = account.find_position(market.index) else { continue };
        let base = account.position(slot).base_lots;
        let moved = settle_position(&mut exchange, &mut market, &mut account, slot, None, now_ts)?;
        settled += u16::from(moved || base != 0);
    }
    Ok(settled)
}
