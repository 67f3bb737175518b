use crate::{
    error::MeridianError,
    loaders::load_mut,
    risk::{account_initial_free, health_without, slot_or_clock, HealthBuilder, Valuation},
    state::*,
    trading::{adjust_collateral, update_open_interest},
};
use anchor_lang::prelude::*;
use meridian_engine::health_history;
use meridian_engine::liquidation::{lots_needed, takeover, Takeover};
use meridian_engine::units::{Lots, Side};

/// Share of a takeover's discount that goes to the insurance fund (the rest is the liquidator's).
pub const LIQUIDATION_INSURANCE_SHARE_BPS: u32 = 2_500;

#[derive(Accounts)]
pub struct LiquidateTakePosition<'info> {
    /// CHECK: the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: the market of the position taken over (funding settlement, open interest).
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: the account below maintenance; loaded and checked by the handler.
    #[account(mut)]
    pub liquidatee: UncheckedAccount<'info>,
    /// CHECK: the caller's margin account on the exchange, which takes the position.
    #[account(mut)]
    pub liquidator_account: UncheckedAccount<'info>,
    pub liquidator: Signer<'info>,
    // remaining accounts: the markets of the liquidatee's positions other than `market`, in
    // position-slot order; then those of the liquidator's, likewise
}

/// Stage 2, permissionless: the caller's account takes over up to `max_lots` of the liquidatee's
/// position in `market` at the lot's value moved against the liquidatee by the market's discount
/// (`Market::liquidation_discount_bps`). The liquidatee must be below maintenance with `market`'s
/// oracle usable (its other positions valued conservatively) and no resting orders (stage 1
/// first); it loses the discount: the liquidator earns 75% of it and the insurance fund 25% (from
/// the collateral the account has, at most). Only the lots needed to bring the
/// liquidatee back above its liquidation end are taken, and the takeover must improve that margin
/// (taking one leg of a hedge may not). The liquidator must end above its initial requirement.
/// Returns the lots taken.
pub fn process_liquidate_take_position<'info>(
    ctx: Context<'info, LiquidateTakePosition<'info>>,
    max_lots: u64,
) -> Result<u64> {
    require!(max_lots > 0, MeridianError::ZeroSize);
    let a = &ctx.accounts;
    let exchange_key = a.exchange.key();
    let mut exchange = load_mut::<Exchange, AccountInfo>(&a.exchange)?;
    require!(!exchange.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
    let mut market = load_mut::<Market, AccountInfo>(&a.market)?;
    require_keys_eq!(market.exchange, exchange_key, MeridianError::WrongExchange);
    market.check_can_cancel()?;
    require!(!market.price_is_known(Clock::get()?.unix_timestamp), MeridianError::MarketSettled);
    let (mut account, mut liquidator) = super::liquidate_cancel_orders::load_parties(
        &exchange_key,
        &a.liquidatee,
        &a.liquidator_account,
        &a.liquidator.key(),
    )?;
    require!(account.open_order_slots == 0, MeridianError::LiquidateeHasOrders);
    let slot = account.find_position(market.index).ok_or(MeridianError::NoPositionToTake)?;
    let base = account.position(slot).base_lots;
    require!(base != 0, MeridianError::NoPositionToTake);

    let others = account.positions_in_use().filter(|p| p.market_index != market.index).count();
    let (theirs, ours) = ctx.remaining_accounts.split_at(others.min(ctx.remaining_accounts.len()));
    // the other positions are valued once; this one before and after the takeover
    let rest = health_without(
        &account,
        &exchange_key,
        market.index,
        theirs,
        Valuation::LiquidationNow { market: market.index },
    )?;
    let before = with_position(&rest, &account, slot, &market)?;
    require!(before.maintenance_free() < 0, MeridianError::NotLiquidatable);
    account.record_health(slot_or_clock(rest.slot_read())?, &before, health_history::source::LIQUIDATION);
    crate::cu_checkpoint!("take: liquidatee health");

    market.settle_funding(account.position_mut(slot))?;
    let long = base > 0;
    let (lot_value, bps) = (market.lot_value()?, market.liquidation_discount_bps());
    let saved = (*account.position(slot), account.collateral, account.realized_pnl);
    let saved_exchange = (exchange.total_collateral, exchange.insurance_balance);
    let mut lots = max_lots.min(base.unsigned_abs());
    let mut t = sell_to_liquidator(&mut exchange, &mut account, slot, lots, lot_value, bps, long)?;
    let after = with_position(&rest, &account, slot, &market)?;
    crate::cu_checkpoint!("take: liquidatee health after");
    require!(after.liquidation_end_free() > before.liquidation_end_free(), MeridianError::TakeoverWouldNotHelp);
    let needed = lots_needed(lots, before.liquidation_end_free(), after.liquidation_end_free());
    if needed < lots {
        // fewer lots restore the account: undo and take only those
        *account.position_mut(slot) = saved.0;
        (account.collateral, account.realized_pnl) = (saved.1, saved.2);
        (exchange.total_collateral, exchange.insurance_balance) = saved_exchange;
        lots = needed;
        t = sell_to_liquidator(&mut exchange, &mut account, slot, lots, lot_value, bps, long)?;
    }
    update_open_interest(&mut market, base, account.position(slot).base_lots);
    account.release_if_flat(slot);

    let lslot = liquidator.position_slot(market.index, market.funding_index())?;
    market.settle_funding(liquidator.position_mut(lslot))?;
    let p = liquidator.position_mut(lslot);
    let lbase = p.base_lots;
    let realized = p
        .apply_fill(if long { Side::Bid } else { Side::Ask }, Lots(lots), t.value)
        .ok_or(MeridianError::MathOverflow)?;
    let lafter = p.base_lots;
    liquidator.realized_pnl = liquidator.realized_pnl.saturating_add(realized);
    require!(liquidator.position(lslot).within_limits(), MeridianError::PositionLimitExceeded);
    update_open_interest(&mut market, lbase, lafter);
    liquidator.release_if_flat(lslot);
    let free = account_initial_free(&liquidator, &exchange_key, Some(&market), ours, Valuation::ConservativeNow)?;
    require!(free >= 0, MeridianError::LiquidatorBelowInitial);
    crate::cu_checkpoint!("take: liquidator health");
    Ok(lots)
}

/// The health of `account` with `rest` (its other positions) and its collateral and position in
/// `slot` (in market `m`) as they are now.
fn with_position(
    rest: &HealthBuilder,
    account: &MarginAccount,
    slot: usize,
    m: &Market,
) -> Result<meridian_engine::margin::Health> {
    let mut b = rest.clone();
    b.add_cash(account.collateral);
    b.add(account.position(slot), m)?;
    b.finish()
}

/// The liquidatee's side of a takeover: its position sells (long) or buys back (short) `lots` at
/// the discounted value, and the insurance part of the discount leaves its collateral.
fn sell_to_liquidator(
    exchange: &mut Exchange,
    account: &mut MarginAccount,
    slot: usize,
    lots: u64,
    lot_value: u64,
    bps: u32,
    long: bool,
) -> Result<Takeover> {
    let t = takeover(lots, lot_value, bps, LIQUIDATION_INSURANCE_SHARE_BPS, long).ok_or(MeridianError::MathOverflow)?;
    let side = if long { Side::Ask } else { Side::Bid };
    let realized =
        account.position_mut(slot).apply_fill(side, Lots(lots), t.value).ok_or(MeridianError::MathOverflow)?;
    account.realized_pnl = account.realized_pnl.saturating_add(realized);
    // the fund's share comes from collateral the account has, never as a debt the fund would count
    let fee = t.insurance_fee.min(account.collateral.max(0).unsigned_abs());
    adjust_collateral(exchange, account, -(fee as i64))?; // <= collateral <= i64::MAX
    exchange.insurance_balance = exchange.insurance_balance.checked_add(fee).ok_or(MeridianError::MathOverflow)?;
    Ok(t)
}
