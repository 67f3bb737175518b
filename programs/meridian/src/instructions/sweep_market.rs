use crate::{error::MeridianError, state::*};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SweepMarket<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(mut, has_one = exchange @ MeridianError::WrongExchange)]
    pub market: AccountLoader<'info, Market>,
}

/// Permissionless: moves what the market's order flow collected and moved (fees, the insurance
/// share, the collateral total) into the exchange's totals. The order flow never writes the
/// exchange, so markets trade in parallel; this is the one place their totals meet (settlements
/// and bankruptcies sweep their market too). Nothing is owed to anyone by it: the vault holds the
/// same tokens before and after, counted in one place instead of another.
pub fn process_sweep_market(ctx: Context<SweepMarket>) -> Result<()> {
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    ctx.accounts.market.load_mut()?.sweep_into(&mut exchange)
}
