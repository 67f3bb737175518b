use crate::{
    account_handle::AccountHandle,
    error::MeridianError,
    loaders::{load, load_mut},
    risk::{account_health_builder, health_without, HealthBuilder, Valuation},
    state::*,
    trading::{self, PlaceOrderArgs, Trade},
};
use anchor_lang::prelude::*;
use meridian_engine::health_history;
use meridian_engine::margin::Health;
use meridian_engine::position::Position;
use std::cell::{Ref, RefMut};

/// Accounts shared by place_order and replace_order (loaded explicitly, see `loaders`).
/// Remaining accounts: the markets of the account's other positions, in position-slot order (for
/// the margin check).
#[derive(Accounts)]
pub struct PlaceOrder<'info> {
    /// CHECK: the exchange; loaded and checked by the handler. Read only: order flow in one market
    /// never waits on another's.
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: a market of the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: the market's book (`market.book`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the market's event queue (`market.event_queue`).
    #[account(mut)]
    pub event_queue: UncheckedAccount<'info>,
    /// CHECK: the owner's margin account on the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub margin_account: UncheckedAccount<'info>,
    pub owner: Signer<'info>,
}

pub use crate::hot_accounts::PlaceAccounts;

impl<'r, A: AccountHandle> PlaceAccounts<'r, A> {
    /// The exchange, the market and the margin account, checked to belong together (the market's
    /// book and queue are the ones given) and the signer to trade for the account (its owner or
    /// delegate).
    #[allow(clippy::type_complexity)]
    pub fn load_checked(&self) -> Result<(Ref<'r, Exchange>, RefMut<'r, Market>, RefMut<'r, MarginAccount>)> {
        let exchange_key = self.exchange.address();
        let exchange = load::<Exchange, A>(self.exchange)?;
        let market = load_mut::<Market, A>(self.market)?;
        require_keys_eq!(market.exchange, *exchange_key, MeridianError::WrongExchange);
        require_keys_eq!(market.book, *self.book.address(), MeridianError::WrongBook);
        require_keys_eq!(market.event_queue, *self.event_queue.address(), MeridianError::WrongEventQueue);
        let account = load_mut::<MarginAccount, A>(self.margin_account)?;
        require_keys_eq!(account.exchange, *exchange_key, MeridianError::WrongExchange);
        require!(account.may_trade(self.owner.address()), MeridianError::NotAccountOwner);
        Ok((exchange, market, account))
    }
}

/// Places, then checks the account's margin:
/// - any order must leave it above its initial requirement; one that filled must also have found
///   it above maintenance (below it, only reduce-only orders trade). A resting order needs no look
///   back: it cannot raise equity nor lower a requirement, so an account above initial after one
///   was above maintenance before;
/// - a reduce-only order may leave it below initial, but never with a larger maintenance
///   requirement (under portfolio margin closing one leg of a hedge can add risk);
/// - a reduce-only order may lower equity by at most its fee plus the band's half width on the lots
///   it filled or rested (what the band lets a price differ from the mark), and never below zero
///   (nor further below, for an account already in deficit): a deficit is paid by the insurance
///   fund, so closing into one at a confederate's price would be a way to draw on it.
///
/// The account's other positions are valued once; this market's position is added as it is now,
/// and as it was when a check needs that (same marks, so only the order's own effect is measured).
/// The signer and writable flags were checked by the entry path.
pub fn place_checked<A: AccountHandle>(
    a: &PlaceAccounts<A>,
    args: &PlaceOrderArgs,
    before_place: impl FnOnce(&Market, &mut MarginAccount) -> Result<()>,
) -> Result<()> {
    crate::cu_checkpoint!("place: accounts validated");
    let exchange_key = a.exchange.address();
    let (exchange, mut market, mut account) = a.load_checked()?;
    require!(!exchange.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
    market.check_can_place()?;
    crate::cu_checkpoint!("place: loaded");
    before_place(&market, &mut account)?;
    let placed = trading::place(
        &mut Trade {
            insurance_fee_share_bps: exchange.insurance_fee_share_bps,
            market: &mut market,
            account: &mut account,
            account_key: *a.margin_account.address(),
        },
        a.book,
        a.event_queue,
        args,
        || Ok(Clock::get()?.unix_timestamp),
    )?;
    crate::cu_checkpoint!("place: placed");
    // positions in markets whose oracle is stale or degraded count at the conservative price
    let valuation = Valuation::ConservativeNow;
    let (health, slot, before) = match &placed.prior {
        // a plain resting order: the account as it is, in one pass
        None => {
            let b = account_health_builder(&account, exchange_key, Some(&market), a.remaining, valuation)?;
            let slot = b.slot_read();
            (b.finish()?, slot, None)
        }
        // the other positions once, this one as it was and as it is (its slot released if flat)
        Some((p, collateral)) => {
            let rest = health_without(&account, exchange_key, market.index, a.remaining, valuation)?;
            let (before, _) = with_position(rest.clone(), *collateral, Some(p), &market)?;
            let now = Some(account.position(placed.pos_slot)).filter(|p| p.in_use != 0);
            let (health, slot) = with_position(rest, account.collateral, now, &market)?;
            (health, slot, Some(before))
        }
    };
    let result = account.last_placement;
    match before {
        Some(before) if args.reduce_only => {
            let lots = result.filled_lots as u128 + result.posted_lots as u128;
            // what the band lets a price differ from the reference, plus a tick: an option's
            // reference is its model value rounded to a tick
            let slippage = lots * (placed.band.max_distance() as u128 + 1) * market.tick_size as u128;
            let allowance = slippage.saturating_add(result.taker_fee as u128).min(i128::MAX as u128) as i128; // clamped: exact
            require!(health.equity >= before.equity.saturating_sub(allowance), MeridianError::ReduceOnlyLosesEquity);
            // and never into a deficit (or deeper into one): a deficit is the insurance fund's,
            // then everyone's; an account that cannot close without one is liquidated instead
            require!(health.equity >= before.equity.min(0), MeridianError::ReduceOnlyLosesEquity);
            require!(
                health.initial_free() >= 0 || health.maintenance <= before.maintenance,
                MeridianError::InsufficientMargin
            );
        }
        before => {
            require!(health.initial_free() >= 0, MeridianError::InsufficientMargin);
            if let Some(before) = before {
                require!(before.maintenance_free() >= 0, MeridianError::BelowMaintenanceReduceOnly);
            }
        }
    }
    crate::cu_checkpoint!("place: margin checked");
    if let Some(slot) = slot {
        account.record_health(slot, &health, health_history::source::ORDER);
    }
    Ok(())
}

/// `rest` (the account's other positions) with `collateral` and the position `p` in `market`, and
/// the clock's slot if a valuation read it.
fn with_position(
    mut rest: HealthBuilder,
    collateral: i64,
    p: Option<&Position>,
    market: &Market,
) -> Result<(Health, Option<u64>)> {
    rest.add_cash(collateral);
    if let Some(p) = p.filter(|p| p.in_use != 0) {
        rest.add(p, market)?;
    }
    let slot = rest.slot_read();
    Ok((rest.finish()?, slot))
}

/// The result is recorded in the margin account (`last_placement`) rather than returned: clients
/// and CPI callers read it there, and the return-data syscall is saved.
pub fn process_place_order<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: PlaceOrderArgs) -> Result<()> {
    place_checked(&PlaceAccounts::of(&ctx), &args, |_, _| Ok(()))
}
