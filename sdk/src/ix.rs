//! Instruction builders, one per program instruction. Account order and data come from the program
//! crate's Anchor-generated `accounts::*` and `instruction::*` types.

use crate::pda;
use anchor_lang::solana_program::system_program;
use anchor_lang::{InstructionData, ToAccountMetas};
use meridian::{accounts, instruction, ExchangeParams};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: meridian::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// Creates exchange `params.index` of `admin`, with its vault for `collateral_mint`.
pub fn initialize_exchange(
    admin: &Pubkey,
    collateral_mint: &Pubkey,
    token_program: &Pubkey,
    params: ExchangeParams,
) -> Instruction {
    let exchange = pda::exchange(admin, params.index).0;
    build(
        accounts::InitializeExchange {
            admin: *admin,
            exchange,
            collateral_mint: *collateral_mint,
            vault: pda::vault(&exchange).0,
            token_program: *token_program,
            system_program: system_program::ID,
        },
        instruction::InitializeExchange { params },
    )
}

pub fn create_margin_account(exchange: &Pubkey, owner: &Pubkey, payer: &Pubkey, sub_account: u16) -> Instruction {
    build(
        accounts::CreateMarginAccount {
            exchange: *exchange,
            margin_account: pda::margin_account(exchange, owner, sub_account).0,
            owner: *owner,
            payer: *payer,
            system_program: system_program::ID,
        },
        instruction::CreateMarginAccount { sub_account },
    )
}

/// The accounts deposit and withdraw share, from an exchange's state.
#[derive(Clone, Copy, Debug)]
pub struct CollateralAccounts {
    pub exchange: Pubkey,
    pub vault: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

impl CollateralAccounts {
    pub fn of(exchange_address: Pubkey, exchange: &meridian::Exchange) -> Self {
        CollateralAccounts {
            exchange: exchange_address,
            vault: exchange.vault,
            mint: exchange.collateral_mint,
            token_program: exchange.collateral_token_program,
        }
    }
}

pub fn deposit(
    c: &CollateralAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    owner_token: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::Deposit {
            exchange: c.exchange,
            margin_account: *margin_account,
            owner: *owner,
            owner_token: *owner_token,
            vault: c.vault,
            collateral_mint: c.mint,
            token_program: c.token_program,
        },
        instruction::Deposit { amount },
    )
}

pub fn withdraw(
    c: &CollateralAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    recipient: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::Withdraw {
            exchange: c.exchange,
            margin_account: *margin_account,
            owner: *owner,
            recipient: *recipient,
            vault: c.vault,
            collateral_mint: c.mint,
            token_program: c.token_program,
        },
        instruction::Withdraw { amount },
    )
}

pub fn close_margin_account(exchange: &Pubkey, margin_account: &Pubkey, owner: &Pubkey) -> Instruction {
    build(
        accounts::CloseMarginAccount { exchange: *exchange, margin_account: *margin_account, owner: *owner },
        instruction::CloseMarginAccount {},
    )
}

pub fn set_paused(exchange: &Pubkey, admin: &Pubkey, flags: u8) -> Instruction {
    build(accounts::SetPaused { exchange: *exchange, admin: *admin }, instruction::SetPaused { flags })
}

pub fn math_probe(op: u8, a: i128, b: i128, c: i128) -> Instruction {
    build(accounts::MathProbe {}, instruction::MathProbe { op, a, b, c })
}
