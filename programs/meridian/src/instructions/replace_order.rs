use crate::{error::MeridianError, instructions::place_order::*, trading};
use anchor_lang::prelude::*;

/// Cancels the account's order `cancel_seq` and places `args` in one instruction (what market
/// makers use to requote). The cancel must succeed: an order already filled fails the replace.
pub fn process_replace_order<'info>(
    ctx: Context<'info, PlaceOrder<'info>>,
    cancel_seq: u64,
    args: trading::PlaceOrderArgs,
) -> Result<()> {
    let book = ctx.accounts.book.to_account_info();
    let owner = ctx.accounts.margin_account.key();
    place_checked(&ctx, &args, |market, account| {
        let slot = account.find_order(market.index, cancel_seq).ok_or(MeridianError::OrderNotFound)?;
        let found = trading::with_book(&book, |b| trading::cancel_slot(market, b, account, slot, &owner))?;
        require!(found, MeridianError::OrderNotFound);
        Ok(())
    })
}
