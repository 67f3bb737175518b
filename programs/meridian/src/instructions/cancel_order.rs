use crate::{error::MeridianError, state::*, trading};
use anchor_lang::prelude::*;
use meridian_engine::units::Side;

#[derive(Accounts)]
pub struct CancelOrder<'info> {
    #[account(has_one = book @ MeridianError::WrongBook)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's book (has_one above).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    #[account(mut, has_one = owner @ MeridianError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
}

fn cancel_one(ctx: Context<CancelOrder>, find: impl FnOnce(&MarginAccount, u16) -> Option<usize>) -> Result<()> {
    let market = ctx.accounts.market.load()?;
    market.check_can_cancel()?;
    let mut account = ctx.accounts.margin_account.load_mut()?;
    require_keys_eq!(account.exchange, market.exchange, MeridianError::WrongExchange);
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
    let market = ctx.accounts.market.load()?;
    market.check_can_cancel()?;
    let mut account = ctx.accounts.margin_account.load_mut()?;
    require_keys_eq!(account.exchange, market.exchange, MeridianError::WrongExchange);
    let owner = ctx.accounts.margin_account.key();
    let limit = if limit == 0 { u8::MAX } else { limit };
    trading::with_book(&ctx.accounts.book, |b| {
        let mut cancelled = 0u8;
        for slot in 0..MAX_OPEN_ORDERS {
            let o = account.open_orders[slot];
            if o.in_use == 0 || o.market_index != market.index || only.is_some_and(|s| s as u8 != o.side) {
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
