use crate::{error::MeridianError, loaders::load, state::*, trading};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CancelExpiredOrders<'info> {
    /// CHECK: an expired dated market; loaded and checked by the handler.
    pub market: UncheckedAccount<'info>,
    /// CHECK: the market's book (`market.book`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    // remaining accounts: margin accounts of the market's exchange with orders in it (writable)
}

/// Permissionless, from expiry on: cancels every resting order of the accounts passed in `market`
/// (they can no longer fill), freeing what they reserved. Orders already filled or out stay for
/// the crank. Returns how many were cancelled.
pub fn process_cancel_expired_orders<'info>(ctx: Context<'info, CancelExpiredOrders<'info>>) -> Result<u16> {
    let a = &ctx.accounts;
    let market = load::<Market, AccountInfo>(&a.market)?;
    require_keys_eq!(market.book, a.book.key(), MeridianError::WrongBook);
    require!(market.is_dated(), MeridianError::NotDatedMarket);
    require!(market.is_expired(Clock::get()?.unix_timestamp), MeridianError::MarketNotExpired);
    let mut cancelled = 0u16;
    trading::with_book::<AccountInfo, _>(a.book.as_ref(), |book| {
        for info in ctx.remaining_accounts {
            let mut account = super::settle_pnl::load_settled_account(info, &market.exchange)?;
            let n = trading::cancel_orders_in_market(&market, book, &mut account, info.key, None, u8::MAX)?;
            cancelled = cancelled.saturating_add(n as u16);
        }
        Ok(())
    })?;
    Ok(cancelled)
}
