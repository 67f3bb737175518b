use crate::{account_handle::AccountHandle, error::MeridianError, instructions::place_order::*, trading};
use anchor_lang::prelude::*;

/// Cancels the account's order `cancel_seq` and places `args` in one instruction (what market
/// makers use to requote). The cancel must succeed: an order already filled fails the replace.
pub fn replace_checked<A: AccountHandle>(
    a: &PlaceAccounts<A>,
    cancel_seq: u64,
    args: &trading::PlaceOrderArgs,
) -> Result<()> {
    let owner = *a.margin_account.address();
    place_checked(a, args, |market, account| {
        let slot = account.find_order(market.index, cancel_seq).ok_or(MeridianError::OrderNotFound)?;
        let found = trading::with_book(a.book, |b| trading::cancel_slot(market, b, account, slot, &owner))?;
        require!(found, MeridianError::OrderNotFound);
        Ok(())
    })
}

pub fn process_replace_order<'info>(
    ctx: Context<'info, PlaceOrder<'info>>,
    cancel_seq: u64,
    args: trading::PlaceOrderArgs,
) -> Result<()> {
    replace_checked(&PlaceAccounts::of(&ctx), cancel_seq, &args)
}
