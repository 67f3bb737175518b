use crate::{error::MeridianError, loaders::load_mut, state::*, trading::adjust_collateral};
use anchor_lang::prelude::*;
use meridian_engine::health_history;
use meridian_engine::liquidation::socialize;
use meridian_engine::margin::Health;

#[derive(Accounts)]
pub struct LiquidateBankruptcy<'info> {
    /// CHECK: the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: a market where the account owes (negative quote balance): where what the insurance
    /// fund cannot cover is socialized.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: the market's event queue (`market.event_queue`), which must be empty.
    pub event_queue: UncheckedAccount<'info>,
    /// CHECK: the bankrupt account; loaded and checked by the handler.
    #[account(mut)]
    pub liquidatee: UncheckedAccount<'info>,
    pub caller: Signer<'info>,
    // remaining accounts: other markets of the exchange (writable), swept first
}

/// What a bankruptcy resolution did, native units (the instruction's return data).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BankruptcyResolved {
    pub deficit: u64,
    pub insurance_paid: u64,
    pub socialized: u64,
}

/// Stage 3, permissionless: an account with no positions (base) and no orders left whose equity
/// (collateral + quote balances) is negative is bankrupt. The insurance fund pays its deficit into
/// its collateral, as far as it can. What is left is written off the account's negative quote
/// balance in `market` and socialized over that market's open interest, longs and shorts alike,
/// through the market's loss index: the positions still exposed to the market pay per lot. (A
/// haircut on positive PnL would fall on whoever closed with a profit before the bankruptcy
/// resolved; the open interest is who still bears the market's risk, and the index charges it in
/// one write, as funding does.) With debts in several markets, call once per market.
pub fn process_liquidate_bankruptcy<'info>(
    ctx: Context<'info, LiquidateBankruptcy<'info>>,
) -> Result<BankruptcyResolved> {
    let a = &ctx.accounts;
    let exchange_key = a.exchange.key();
    let mut exchange = load_mut::<Exchange, AccountInfo>(&a.exchange)?;
    let mut market = load_mut::<Market, AccountInfo>(&a.market)?;
    require_keys_eq!(market.exchange, exchange_key, MeridianError::WrongExchange);
    require_keys_eq!(market.event_queue, a.event_queue.key(), MeridianError::WrongEventQueue);
    // the insurance share this market collected counts, and that of every market passed after
    // the accounts (writable): the fund draws on all it has been paid
    market.sweep_into(&mut exchange)?;
    for info in ctx.remaining_accounts {
        require!(info.is_writable, MeridianError::AccountNotWritable);
        let mut other = load_mut::<Market, AccountInfo>(info)?;
        require_keys_eq!(other.exchange, exchange_key, MeridianError::WrongExchange);
        other.sweep_into(&mut exchange)?;
    }
    let mut account = super::liquidate_cancel_orders::load_liquidatee(&exchange_key, &a.liquidatee)?;
    require!(account.open_order_slots == 0, MeridianError::LiquidateeHasOrders);
    require!(account.positions_in_use().all(|p| p.base_lots == 0), MeridianError::PositionsLeft);
    // with no base, no funding or socialized loss is pending: equity is cash
    let quote: i128 = account.positions_in_use().map(|p| p.quote_balance as i128).sum();
    let equity = account.collateral as i128 + quote;
    require!(equity < 0, MeridianError::NotBankrupt);
    let deficit = u64::try_from(-equity).map_err(|_| MeridianError::MathOverflow)?;
    let reading = Health { equity, ..Health::default() };
    account.record_health(Clock::get()?.slot, &reading, health_history::source::BANKRUPTCY);

    let insurance_paid = deficit.min(exchange.insurance_balance);
    exchange.insurance_balance -= insurance_paid;
    exchange.insurance_paid = exchange.insurance_paid.saturating_add(insurance_paid);
    let paid = i64::try_from(insurance_paid).map_err(|_| MeridianError::MathOverflow)?;
    adjust_collateral(&mut exchange, &mut account, paid)?;

    let rest = deficit - insurance_paid;
    let mut socialized = 0;
    // a settled market's positions are cash, some already paid out: there is no open interest
    // left to share a loss fairly, so what the fund cannot pay stays owed there
    // (docs/risk-model.md, "Expiry settlement")
    if rest > 0 && !market.is_settled() {
        let slot = account.find_position(market.index).ok_or(MeridianError::NoDebtInMarket)?;
        let owed = account.position(slot).quote_balance;
        require!(owed < 0, MeridianError::NoDebtInMarket);
        let mut queue = a.event_queue.try_borrow_mut_data()?;
        require!(queue_parts(&mut queue)?.0.count == 0, MeridianError::EventsPending);
        socialized = rest.min(owed.unsigned_abs());
        let (per_lot, excess) = socialize(socialized, market.open_interest).ok_or(MeridianError::NoOpenInterest)?;
        market.loss_index = market.loss_index.checked_add(per_lot).ok_or(MeridianError::MathOverflow)?;
        market.funding_rounding = market.funding_rounding.checked_add(excess).ok_or(MeridianError::MathOverflow)?;
        let p = account.position_mut(slot);
        // socialized <= -quote_balance: the sum stays <= 0 (exact even for quote_balance = i64::MIN)
        p.quote_balance = p.quote_balance.checked_add_unsigned(socialized).ok_or(MeridianError::MathOverflow)?;
        p.realized_pnl = p.realized_pnl.saturating_add_unsigned(socialized);
        account.release_if_flat(slot);
        exchange.socialized_loss = exchange.socialized_loss.saturating_add(socialized);
    }
    Ok(BankruptcyResolved { deficit, insurance_paid, socialized })
}
