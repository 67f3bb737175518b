use crate::{error::MeridianError, state::*, token::transfer_in};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct Deposit<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        mut,
        has_one = exchange @ MeridianError::WrongExchange,
        has_one = owner @ MeridianError::NotAccountOwner,
    )]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    pub owner: Signer<'info>,
    /// Source of the tokens; the token program checks that `owner` may move them.
    #[account(mut, constraint = owner_token.mint == collateral_mint.key() @ MeridianError::WrongMint)]
    pub owner_token: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.vault @ MeridianError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(address = exchange.load()?.collateral_mint @ MeridianError::WrongMint)]
    pub collateral_mint: InterfaceAccount<'info, Mint>,
    #[account(address = exchange.load()?.collateral_token_program @ MeridianError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn process_deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
    require!(amount > 0, MeridianError::ZeroAmount);
    require!(amount <= i64::MAX as u64, MeridianError::AmountTooLarge);
    {
        let exchange = ctx.accounts.exchange.load()?;
        require!(!exchange.is_paused(PauseFlags::DEPOSITS), MeridianError::DepositsPaused);
        if exchange.deposit_cap > 0 {
            let after = (exchange.total_collateral as i128) + amount as i128;
            require!(after <= exchange.deposit_cap as i128, MeridianError::DepositCapExceeded);
        }
        let owed = exchange.vault_liabilities().ok_or(MeridianError::MathOverflow)? + amount as i128;
        require!(owed <= MAX_VAULT_LIABILITIES as i128, MeridianError::AmountTooLarge);
    }

    let accounts = ctx.accounts;
    let received = transfer_in(
        &accounts.token_program,
        &accounts.owner_token,
        &mut accounts.vault,
        &accounts.collateral_mint,
        &accounts.owner,
        amount,
    )?;
    require!(received > 0, MeridianError::NothingReceived);
    let received = received as i64; // <= amount <= i64::MAX

    let mut exchange = accounts.exchange.load_mut()?;
    let mut account = accounts.margin_account.load_mut()?;
    account.collateral = account.collateral.checked_add(received).ok_or(MeridianError::AmountTooLarge)?;
    account.total_deposited =
        account.total_deposited.checked_add(received.unsigned_abs()).ok_or(MeridianError::MathOverflow)?;
    exchange.total_collateral = exchange.total_collateral.checked_add(received).ok_or(MeridianError::AmountTooLarge)?;
    Ok(())
}
