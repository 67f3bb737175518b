use crate::{
    error::MeridianError,
    state::*,
    token::{check_collateral_mint, create_vault},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};

#[derive(Accounts)]
#[instruction(params: ExchangeParams)]
pub struct InitializeExchange<'info> {
    /// Becomes the exchange admin, pays rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(
        init,
        payer = admin,
        space = Exchange::SPACE,
        seeds = [EXCHANGE_SEED, admin.key().as_ref(), &params.index.to_le_bytes()],
        bump,
    )]
    pub exchange: AccountLoader<'info, Exchange>,
    #[account(
        constraint = *collateral_mint.to_account_info().owner == token_program.key()
            @ MeridianError::WrongTokenProgram,
    )]
    pub collateral_mint: InterfaceAccount<'info, Mint>,
    /// CHECK: the vault token account, created by the handler once the mint and token program are
    /// validated (an Anchor `init` here would run its CPI before those checks).
    #[account(mut, seeds = [VAULT_SEED, exchange.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn process_initialize_exchange(ctx: Context<InitializeExchange>, params: ExchangeParams) -> Result<()> {
    require!(params.insurance_fee_share_bps <= 10_000, MeridianError::InvalidFeeShare);
    let accounts = &ctx.accounts;
    check_collateral_mint(&accounts.collateral_mint.to_account_info())?;
    let exchange_key = accounts.exchange.key();
    create_vault(
        &accounts.admin,
        &accounts.vault,
        &accounts.collateral_mint,
        &accounts.exchange.to_account_info(),
        &accounts.token_program,
        &accounts.system_program,
        &[VAULT_SEED, exchange_key.as_ref(), &[ctx.bumps.vault]],
    )?;

    let mut exchange = accounts.exchange.load_init()?;
    exchange.admin = accounts.admin.key();
    exchange.creator = accounts.admin.key();
    exchange.collateral_mint = accounts.collateral_mint.key();
    exchange.collateral_token_program = accounts.token_program.key();
    exchange.vault = accounts.vault.key();
    exchange.index = params.index;
    exchange.bump = ctx.bumps.exchange;
    exchange.vault_bump = ctx.bumps.vault;
    exchange.collateral_decimals = accounts.collateral_mint.decimals;
    exchange.deposit_cap = params.deposit_cap;
    exchange.insurance_fee_share_bps = params.insurance_fee_share_bps;
    Ok(())
}
