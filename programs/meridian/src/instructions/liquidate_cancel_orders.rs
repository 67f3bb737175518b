use crate::{
    error::MeridianError,
    loaders::{load, load_mut},
    risk::{account_health_builder, slot_or_clock, Valuation},
    state::*,
    trading,
};
use anchor_lang::prelude::*;
use core::cell::RefMut;
use meridian_engine::health_history::source;

/// What the caller of a successful stage-1 liquidation earns from the liquidatee: 0.1 unit of the
/// collateral (10^(decimals-1) native units), at most the liquidatee's collateral.
pub fn cancel_fee(collateral_decimals: u8) -> u64 {
    // a mint with 21 or more decimals: saturates (the fee is capped at the collateral anyway)
    10u64.checked_pow(u32::from(collateral_decimals.saturating_sub(1))).unwrap_or(u64::MAX)
}

/// The account being liquidated, loaded and checked: a margin account of `exchange`.
pub(crate) fn load_liquidatee<'a>(exchange: &Pubkey, info: &'a AccountInfo) -> Result<RefMut<'a, MarginAccount>> {
    let account = load_mut::<MarginAccount, AccountInfo>(info)?;
    require_keys_eq!(account.exchange, *exchange, MeridianError::WrongExchange);
    Ok(account)
}

/// The liquidatee and the liquidator's margin account, loaded and checked (every stage that pays
/// the caller): both of `exchange`, the latter owned by the signer, and not the same owner (a
/// sibling sub-account would farm the fees and discounts of an account whose deficit the
/// insurance fund then pays).
pub(crate) fn load_parties<'a>(
    exchange: &Pubkey,
    liquidatee: &'a AccountInfo,
    liquidator_account: &'a AccountInfo,
    liquidator: &Pubkey,
) -> Result<(RefMut<'a, MarginAccount>, RefMut<'a, MarginAccount>)> {
    require_keys_neq!(liquidatee.key(), liquidator_account.key(), MeridianError::CannotLiquidateSelf);
    let account = load_liquidatee(exchange, liquidatee)?;
    let liquidator_state = load_liquidatee(exchange, liquidator_account)?;
    require_keys_eq!(liquidator_state.owner, *liquidator, MeridianError::NotAccountOwner);
    require_keys_neq!(account.owner, *liquidator, MeridianError::CannotLiquidateSelf);
    Ok((account, liquidator_state))
}

#[derive(Accounts)]
pub struct LiquidateCancelOrders<'info> {
    /// CHECK: the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: a market of the exchange with the liquidatee's orders.
    pub market: UncheckedAccount<'info>,
    /// CHECK: the market's book (`market.book`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the account below maintenance; loaded and checked by the handler.
    #[account(mut)]
    pub liquidatee: UncheckedAccount<'info>,
    /// CHECK: the caller's margin account on the exchange, paid the fee.
    #[account(mut)]
    pub liquidator_account: UncheckedAccount<'info>,
    pub liquidator: Signer<'info>,
    // remaining accounts: the markets of the liquidatee's positions other than `market`, in
    // position-slot order
}

/// Stage 1, permissionless: an account below its maintenance requirement (judged with `market`'s
/// oracle usable, its other positions valued conservatively) has all its resting orders in `market`
/// cancelled, which frees what they reserved; the caller's account earns `cancel_fee`, from
/// collateral the account has. Returns how many were cancelled.
pub fn process_liquidate_cancel_orders<'info>(ctx: Context<'info, LiquidateCancelOrders<'info>>) -> Result<u8> {
    let a = &ctx.accounts;
    let exchange_key = a.exchange.key();
    let mut exchange = load_mut::<Exchange, AccountInfo>(&a.exchange)?;
    let market = load::<Market, AccountInfo>(&a.market)?;
    require_keys_eq!(market.exchange, exchange_key, MeridianError::WrongExchange);
    require_keys_eq!(market.book, a.book.key(), MeridianError::WrongBook);
    let (mut account, mut liquidator) =
        load_parties(&exchange_key, &a.liquidatee, &a.liquidator_account, &a.liquidator.key())?;
    market.check_can_cancel()?;

    let builder = account_health_builder(
        &account,
        &exchange_key,
        Some(&market),
        ctx.remaining_accounts,
        Valuation::LiquidationNow { market: market.index },
    )?;
    let slot = builder.slot_read();
    let health = builder.finish()?;
    require!(health.maintenance_free() < 0, MeridianError::NotLiquidatable);
    account.record_health(slot_or_clock(slot)?, &health, source::LIQUIDATION);

    let owner = a.liquidatee.key();
    let cancelled = trading::with_book::<AccountInfo, _>(a.book.as_ref(), |b| {
        trading::cancel_orders_in_market(&market, b, &mut account, &owner, None, u8::MAX)
    })?;
    require!(cancelled > 0, MeridianError::NoOrdersToCancel);

    // at most the collateral: a fee comes from money the account has (<= i64::MAX, so the cast is exact)
    let fee = cancel_fee(exchange.collateral_decimals).min(account.collateral.max(0).unsigned_abs()) as i64;
    trading::adjust_collateral(&mut exchange, &mut account, -fee)?;
    trading::adjust_collateral(&mut exchange, &mut liquidator, fee)?;
    Ok(cancelled)
}
