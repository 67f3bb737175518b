use crate::{
    account_handle::AccountHandle,
    args::CancelSide,
    error::MeridianError,
    loaders::{load, load_mut},
    state::*,
    trading,
};
use anchor_lang::prelude::*;
use std::cell::{Ref, RefMut};

#[derive(Accounts)]
pub struct CancelOrder<'info> {
    /// CHECK: a market; loaded and checked by the handler.
    pub market: UncheckedAccount<'info>,
    /// CHECK: the market's book (`market.book`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// CHECK: the owner's margin account; loaded and checked by the handler.
    #[account(mut)]
    pub margin_account: UncheckedAccount<'info>,
    pub owner: Signer<'info>,
}

pub use crate::hot_accounts::CancelAccounts;

/// The market (read-only) and the owner's account, checked against each other.
fn open<'r, A: AccountHandle>(a: &CancelAccounts<'r, A>) -> Result<(Ref<'r, Market>, RefMut<'r, MarginAccount>)> {
    let market = load::<Market, A>(a.market)?;
    require_keys_eq!(market.book, *a.book.address(), MeridianError::WrongBook);
    let account = load_mut::<MarginAccount, A>(a.margin_account)?;
    require!(account.may_trade(a.owner.address()), MeridianError::NotAccountOwner);
    require_keys_eq!(account.exchange, market.exchange, MeridianError::WrongExchange);
    market.check_can_cancel()?;
    Ok((market, account))
}

fn cancel_one<A: AccountHandle>(
    a: &CancelAccounts<A>,
    find: impl FnOnce(&MarginAccount, u16) -> Option<usize>,
) -> Result<()> {
    let (market, mut account) = open(a)?;
    let slot = find(&account, market.index).ok_or(MeridianError::OrderNotFound)?;
    let owner = *a.margin_account.address();
    let found = trading::with_book(a.book, |b| trading::cancel_slot(&market, b, &mut account, slot, &owner))?;
    require!(found, MeridianError::OrderNotFound);
    Ok(())
}

/// Cancels by order id (sequence number).
pub fn cancel_by_seq<A: AccountHandle>(a: &CancelAccounts<A>, order_seq: u64) -> Result<()> {
    cancel_one(a, |acc, market| acc.find_order(market, order_seq))
}

/// Cancels by the client order id given at placement.
pub fn cancel_by_client_id<A: AccountHandle>(a: &CancelAccounts<A>, client_order_id: u64) -> Result<()> {
    cancel_one(a, |acc, market| acc.find_order_by_client_id(market, client_order_id))
}

/// Cancels all of the account's orders in this market on `side`, at most `limit` (0 = all).
/// Orders already filled or out stay for the crank. Returns how many were cancelled.
pub fn cancel_all<A: AccountHandle>(a: &CancelAccounts<A>, side: CancelSide, limit: u8) -> Result<u8> {
    let only = side.only();
    let (market, mut account) = open(a)?;
    let owner = *a.margin_account.address();
    let limit = if limit == 0 { u8::MAX } else { limit };
    trading::with_book(a.book, |b| trading::cancel_orders_in_market(&market, b, &mut account, &owner, only, limit))
}

pub fn process_cancel_order(ctx: Context<CancelOrder>, order_seq: u64) -> Result<()> {
    cancel_by_seq(&CancelAccounts::of(&ctx), order_seq)
}

pub fn process_cancel_order_by_client_id(ctx: Context<CancelOrder>, client_order_id: u64) -> Result<()> {
    cancel_by_client_id(&CancelAccounts::of(&ctx), client_order_id)
}

pub fn process_cancel_all_orders(ctx: Context<CancelOrder>, side: CancelSide, limit: u8) -> Result<u8> {
    cancel_all(&CancelAccounts::of(&ctx), side, limit)
}
