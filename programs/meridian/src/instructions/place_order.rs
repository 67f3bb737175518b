use crate::{
    account_view::AccountView,
    error::MeridianError,
    loaders::load_mut,
    risk::{account_health, account_health_builder, Valuation},
    state::*,
    trading::{self, PlaceOrderArgs, Trade},
};
use anchor_lang::prelude::*;
use meridian_engine::health_history;

/// Accounts shared by place_order and replace_order (loaded explicitly, see `loaders`).
/// Remaining accounts: the markets of the account's other positions, in position-slot order (for
/// the margin check).
#[derive(Accounts)]
pub struct PlaceOrder<'info> {
    /// CHECK: the exchange; loaded and checked by the handler.
    #[account(mut)]
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

/// The accounts of place_order and replace_order, from either entry path.
pub struct PlaceAccounts<'r, A> {
    pub exchange: &'r A,
    pub market: &'r A,
    pub book: &'r A,
    pub event_queue: &'r A,
    pub margin_account: &'r A,
    pub owner: &'r A,
    /// The markets of the account's other positions, in position-slot order.
    pub remaining: &'r [A],
}

impl<'r, 'info> PlaceAccounts<'r, AccountInfo<'info>> {
    pub fn of(ctx: &'r Context<'info, PlaceOrder<'info>>) -> Self {
        let a = &ctx.accounts;
        PlaceAccounts {
            exchange: &a.exchange,
            market: &a.market,
            book: &a.book,
            event_queue: &a.event_queue,
            margin_account: &a.margin_account,
            owner: &a.owner,
            remaining: ctx.remaining_accounts,
        }
    }
}

/// Places, then checks that the account stays above initial margin. A reduce-only order may leave
/// it below, but never with a larger maintenance requirement than before: under portfolio margin
/// closing one leg of a hedge can add risk. The signer and writable flags were checked by the
/// entry path.
pub fn place_checked<A: AccountView>(
    a: &PlaceAccounts<A>,
    args: &PlaceOrderArgs,
    before_place: impl FnOnce(&Market, &mut MarginAccount) -> Result<()>,
) -> Result<()> {
    crate::cu_checkpoint!("place: accounts validated");
    let exchange_key = a.exchange.address();
    let mut exchange = load_mut::<Exchange, A>(a.exchange)?;
    let mut market = load_mut::<Market, A>(a.market)?;
    require_keys_eq!(market.exchange, *exchange_key, MeridianError::WrongExchange);
    require_keys_eq!(market.book, *a.book.address(), MeridianError::WrongBook);
    require_keys_eq!(market.event_queue, *a.event_queue.address(), MeridianError::WrongEventQueue);
    let mut account = load_mut::<MarginAccount, A>(a.margin_account)?;
    require_keys_eq!(account.exchange, *exchange_key, MeridianError::WrongExchange);
    require_keys_eq!(account.owner, *a.owner.address(), MeridianError::NotAccountOwner);
    require!(!exchange.is_paused(PauseFlags::TRADING), MeridianError::TradingPaused);
    market.check_can_place()?;
    crate::cu_checkpoint!("place: loaded");
    before_place(&market, &mut account)?;
    // positions in markets whose oracle is stale or degraded count at the conservative price
    let valuation = Valuation::ConservativeNow;
    let required_before = match args.reduce_only {
        true => Some(account_health(&account, exchange_key, Some(&market), a.remaining, valuation)?.maintenance),
        false => None,
    };
    let result = trading::place(
        &mut Trade {
            exchange: &mut exchange,
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
    let builder = account_health_builder(&account, exchange_key, Some(&market), a.remaining, valuation)?;
    let slot = builder.slot_read();
    let health = builder.finish()?;
    let reduced = required_before.is_some_and(|before| health.maintenance <= before);
    require!(health.initial_free() >= 0 || reduced, MeridianError::InsufficientMargin);
    crate::cu_checkpoint!("place: margin checked");
    if let Some(slot) = slot {
        account.record_health(slot, &health, health_history::source::ORDER);
    }
    account.last_placement = result;
    Ok(())
}

/// The result is recorded in the margin account (`last_placement`) rather than returned: clients
/// and CPI callers read it there, and the return-data syscall is saved.
pub fn process_place_order<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: PlaceOrderArgs) -> Result<()> {
    place_checked(&PlaceAccounts::of(&ctx), &args, |_, _| Ok(()))
}
