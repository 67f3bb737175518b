use anchor_lang::prelude::*;

pub const MARGIN_ACCOUNT_SEED: &[u8] = b"margin";

/// A trader's cross-margin account on one exchange: PDA [MARGIN_ACCOUNT_SEED, exchange, owner,
/// sub_account (u16 le)], so one wallet can keep several isolated books of risk.
#[account(zero_copy)]
#[derive(Debug)]
pub struct MarginAccount {
    pub exchange: Pubkey,
    pub owner: Pubkey,
    pub sub_account: u16,
    pub bump: u8,
    pub flags: u8,
    pub _padding: [u8; 4],
    /// Collateral in native units of the exchange's mint (deposits - withdrawals + realized PnL
    /// - fees). Signed: only a bankruptcy takes it below zero.
    pub collateral: i64,
    /// Lifetime totals, for statements.
    pub total_deposited: u64,
    pub total_withdrawn: u64,
    pub realized_pnl: i64,
    pub reserved: [u64; 16],
}

impl MarginAccount {
    pub const SPACE: usize = 8 + core::mem::size_of::<MarginAccount>();

    /// Collateral that can leave the account now: everything it holds, less what it owes. Positions
    /// and orders (later) add margin requirements here.
    pub fn free_collateral(&self) -> i64 {
        self.collateral.max(0)
    }

    pub fn is_empty(&self) -> bool {
        self.collateral == 0
    }
}
