use crate::{
    error::MeridianError,
    risk::{account_health, Valuation},
    state::*,
    token::transfer_out,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use meridian_engine::health_history;

#[derive(Accounts)]
pub struct Withdraw<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = owner @ MeridianError::NotAccountOwner,
    )]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
    /// Any token account of the collateral mint.
    #[account(mut, constraint = recipient.mint == collateral_mint.key() @ MeridianError::WrongMint)]
    pub recipient: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.vault @ MeridianError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(address = exchange.load()?.collateral_mint @ MeridianError::WrongMint)]
    pub collateral_mint: InterfaceAccount<'info, Mint>,
    #[account(address = exchange.load()?.collateral_token_program @ MeridianError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

/// Remaining accounts: the markets of the account's positions, in position-slot order. Only
/// settled collateral leaves, and never below the initial margin of open positions and orders.
pub fn process_withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, MeridianError::ZeroAmount);
    let (creator, index, bump) = {
        let exchange = ctx.accounts.exchange.load()?;
        require!(!exchange.is_paused(PauseFlags::WITHDRAWALS), MeridianError::WithdrawalsPaused);
        (exchange.creator, exchange.index, exchange.bump)
    };
    // with positions: the health before, read at this slot (recorded, less the amount, once paid)
    let mut reading = None;
    {
        let account = ctx.accounts.margin_account.load()?;
        let mut free = account.collateral.max(0) as i128;
        if account.positions_in_use().next().is_some() {
            // a position in a market whose oracle is stale or degraded counts at the conservative price
            let now_slot = Clock::get()?.slot;
            let valuation = Valuation::Conservative { now_slot };
            let exchange = ctx.accounts.exchange.key();
            let health = account_health(&account, &exchange, None, ctx.remaining_accounts, valuation)?;
            free = free.min(health.initial_free());
            reading = Some((now_slot, health));
        }
        // amount > i64::MAX can never be covered, so this also rejects u64::MAX
        require!(amount as i128 <= free, MeridianError::InsufficientCollateral);
    }

    transfer_out(
        &ctx.accounts.token_program,
        &ctx.accounts.vault,
        &ctx.accounts.recipient,
        &ctx.accounts.collateral_mint,
        &ctx.accounts.exchange.to_account_info(),
        &creator,
        index,
        bump,
        amount,
    )?;

    let amount = amount as i64; // <= free collateral <= i64::MAX
    let mut exchange = ctx.accounts.exchange.load_mut()?;
    let mut account = ctx.accounts.margin_account.load_mut()?;
    account.collateral -= amount;
    if let Some((slot, mut health)) = reading {
        health.equity -= amount as i128;
        account.record_health(slot, &health, health_history::source::WITHDRAWAL);
    }
    account.total_withdrawn =
        account.total_withdrawn.checked_add(amount.unsigned_abs()).ok_or(MeridianError::MathOverflow)?;
    exchange.total_collateral = exchange.total_collateral.checked_sub(amount).ok_or(MeridianError::MathOverflow)?;
    Ok(())
}
