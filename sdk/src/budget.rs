//! Compute budget instructions (limit and priority fee), built from the documented wire format of
//! the ComputeBudget program: SetComputeUnitLimit = [2, u32 le], SetComputeUnitPrice = [3, u64 le].

use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// A serialized transaction must fit a 1232-byte packet.
pub const PACKET_DATA_SIZE: usize = 1232;

/// Compute units to request for `clear_auction`: above the largest auction a batch market holds
/// (128 orders a side; ~139,000 measured when 128 of them share a level pro rata, ~182,000 when
/// all 256 fill: `batch_worst_case_auctions_clear_in_one_instruction`).
pub const CLEAR_AUCTION_UNITS: u32 = 400_000;

pub const COMPUTE_BUDGET_PROGRAM_ID: Pubkey = solana_sdk::pubkey!("ComputeBudget111111111111111111111111111111");

pub fn set_compute_unit_limit(units: u32) -> Instruction {
    let mut data = vec![2];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: vec![], data }
}

pub fn set_compute_unit_price(micro_lamports_per_cu: u64) -> Instruction {
    let mut data = vec![3];
    data.extend_from_slice(&micro_lamports_per_cu.to_le_bytes());
    Instruction { program_id: COMPUTE_BUDGET_PROGRAM_ID, accounts: vec![], data }
}

/// Both, skipping a zero price.
pub fn instructions(units: u32, micro_lamports_per_cu: u64) -> Vec<Instruction> {
    let mut out = vec![set_compute_unit_limit(units)];
    if micro_lamports_per_cu > 0 {
        out.push(set_compute_unit_price(micro_lamports_per_cu));
    }
    out
}
