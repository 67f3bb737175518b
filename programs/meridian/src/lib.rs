//! Meridian: a derivatives exchange on Solana.
//!
//! This crate is the thin Anchor layer: account validation, token CPIs and state updates. The
//! arithmetic lives in `meridian-engine`, shared with the SDK, keepers and CLI.
#![allow(unexpected_cfgs)]

// The registry-only SBF route links memcpy & co. and the i128 libcall shim from these crates.
#[cfg(meridian_upstream_sbf)]
use {sbpf_i128_shim as _, solana_compiler_builtins as _};

use anchor_lang::prelude::*;

pub mod error;
pub mod instructions;
pub mod state;
pub mod token;

pub use error::MeridianError;
pub use instructions::*;
pub use state::*;

declare_id!("Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA");

#[program]
pub mod meridian {
    use super::*;

    /// Creates an exchange: its state account, the collateral vault, fee and insurance fields.
    pub fn initialize_exchange(ctx: Context<InitializeExchange>, params: ExchangeParams) -> Result<()> {
        instructions::process_initialize_exchange(ctx, params)
    }

    /// Creates the caller's margin account number `sub_account` on an exchange.
    pub fn create_margin_account(ctx: Context<CreateMarginAccount>, sub_account: u16) -> Result<()> {
        instructions::process_create_margin_account(ctx, sub_account)
    }

    /// Moves `amount` native units of collateral from the owner's token account into the vault.
    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::process_deposit(ctx, amount)
    }

    /// Moves `amount` native units of collateral from the vault to any token account of the mint.
    pub fn withdraw(ctx: Context<Withdraw>, amount: u64) -> Result<()> {
        instructions::process_withdraw(ctx, amount)
    }

    /// Closes an empty margin account and returns its rent to the owner.
    pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
        instructions::process_close_margin_account(ctx)
    }

    /// Admin: sets the pause flags (bits of `PauseFlags`); 0 resumes everything.
    pub fn set_paused(ctx: Context<SetPaused>, flags: u8) -> Result<()> {
        instructions::process_set_paused(ctx, flags)
    }

    /// Read-only: evaluates one of the engine's math conformance ops and returns the result as return
    /// data, so the SBF binary's arithmetic can be compared with the host's for any input.
    pub fn math_probe(ctx: Context<MathProbe>, op: u8, a: i128, b: i128, c: i128) -> Result<i128> {
        instructions::process_math_probe(ctx, op, a, b, c)
    }
}
