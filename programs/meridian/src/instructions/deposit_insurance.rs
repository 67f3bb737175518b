use crate::{error::MeridianError, state::*, token::transfer_in};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct DepositInsurance<'info> {
    #[account(mut)]
    pub exchange: AccountLoader<'info, Exchange>,
    pub depositor: Signer<'info>,
    /// Source of the tokens; the token program checks that `depositor` may move them.
    #[account(mut, constraint = source.mint == collateral_mint.key() @ MeridianError::WrongMint)]
    pub source: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, address = exchange.load()?.vault @ MeridianError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
    #[account(address = exchange.load()?.collateral_mint @ MeridianError::WrongMint)]
    pub collateral_mint: InterfaceAccount<'info, Mint>,
    #[account(address = exchange.load()?.collateral_token_program @ MeridianError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

/// Permissionless: tops up the insurance fund with `amount` native units of collateral (the admin's
/// seed and anyone's gift alike). Nothing withdraws from the fund: it pays bankruptcies only.
pub fn process_deposit_insurance(ctx: Context<DepositInsurance>, amount: u64) -> Result<()> {
    require!(amount > 0, MeridianError::ZeroAmount);
    {
        let exchange = ctx.accounts.exchange.load()?;
        require!(!exchange.is_paused(PauseFlags::DEPOSITS), MeridianError::DepositsPaused);
        let owed = exchange.vault_liabilities().ok_or(MeridianError::MathOverflow)? + amount as i128;
        require!(owed <= MAX_VAULT_LIABILITIES as i128, MeridianError::AmountTooLarge);
    }
    let accounts = ctx.accounts;
    let received = transfer_in(
        &accounts.token_program,
        &accounts.source,
        &mut accounts.vault,
        &accounts.collateral_mint,
        &accounts.depositor,
        amount,
    )?;
    require!(received > 0, MeridianError::NothingReceived);
    let mut exchange = accounts.exchange.load_mut()?;
    exchange.insurance_balance =
        exchange.insurance_balance.checked_add(received).ok_or(MeridianError::AmountTooLarge)?;
    exchange.insurance_deposited = exchange.insurance_deposited.saturating_add(received);
    Ok(())
}
