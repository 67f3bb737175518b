use crate::{
    error::MeridianError,
    loaders::{load, load_mut},
    state::*,
    trading,
};
use anchor_lang::prelude::*;
use meridian_engine::units::Side;
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

/// The market (read-only) and the owner's account, checked against each other.
fn open<'a>(ctx: &'a Context<CancelOrder>) -> Result<(Ref<'a, Market>, RefMut<'a, MarginAccount>)> {
    let a = &ctx.accounts;
    let market = load::<Market>(&a.market)?;
    require_keys_eq!(market.book, a.book.key(), MeridianError::WrongBook);
    let account = load_mut::<MarginAccount>(&a.margin_account)?;
    require_keys_eq!(account.owner, a.owner.key(), MeridianError::NotAccountOwner);
    require_keys_eq!(account.exchange, market.exchange, MeridianError::WrongExchange);
    market.check_can_cancel()?;
    Ok((market, account))
}

fn cancel_one(ctx: Context<CancelOrder>, find: impl FnOnce(&MarginAccount, u16) -> Option<usize>) -> Result<()> {
    let (market, mut account) = open(&ctx)?;
    let slot = find(&account, market.index).ok_or(MeridianError::OrderNotFound)?;
    let owner = ctx.accounts.margin_account.key();
    let found =
        trading::with_book(&ctx.accounts.book, |b| trading::cancel_slot(&market, b, &mut account, slot, &owner))?;
    require!(found, MeridianError::OrderNotFound);
    Ok(())
}

/// Cancels by order id (sequence number).
pub fn process_cancel_order(ctx: Context<CancelOrder>, order_seq: u64) -> Result<()> {
    cancel_one(ctx, |a, market| a.find_order(market, order_seq))
}

/// Cancels by the client order id given at placement.
pub fn process_cancel_order_by_client_id(ctx: Context<CancelOrder>, client_order_id: u64) -> Result<()> {
    cancel_one(ctx, |a, market| a.find_order_by_client_id(market, client_order_id))
}

/// Cancels all of the account's orders in this market (side: 0 bids, 1 asks, 2 both), at most
/// `limit` (0 = all). Orders already filled or out stay for the crank. Returns how many were
/// cancelled.
pub fn process_cancel_all_orders(ctx: Context<CancelOrder>, side: u8, limit: u8) -> Result<u8> {
    let only = match side {
        0 | 1 => Side::from_u8(side),
        2 => None,
        _ => return err!(MeridianError::InvalidSide),
    };
    let (market, mut account) = open(&ctx)?;
    let owner = ctx.accounts.margin_account.key();
    let limit = if limit == 0 { u8::MAX } else { limit };
    trading::with_book(&ctx.accounts.book, |b| {
        let mut cancelled = 0u8;
        // a copy of the slot mask: cancelling clears bits as we go
        let mut slots = account.open_order_slots;
        while slots != 0 {
            let slot = slots.trailing_zeros() as usize;
            slots &= slots - 1;
            let o = account.open_orders[slot];
            if o.market_index != market.index || only.is_some_and(|s| s as u8 != o.side) {
                continue;
            }
            if cancelled == limit {
                break;
            }
            if trading::cancel_slot(&market, b, &mut account, slot, &owner)? {
                cancelled += 1;
            }
        }
        Ok(cancelled)
    })
}
