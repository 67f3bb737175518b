//! Compute budget instructions (limit and priority fee), from the ComputeBudget program's own
//! interface crate (`solana-compute-budget-interface`).

use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// A serialized transaction must fit a 1232-byte packet.
pub const PACKET_DATA_SIZE: usize = 1232;

/// Compute units to request for `clear_auction`: above the largest auction a batch market holds
/// (128 orders a side; ~139,000 measured when 128 of them share a level pro rata, ~182,000 when
/// all 256 fill: `batch_worst_case_auctions_clear_in_one_instruction`).
pub const CLEAR_AUCTION_UNITS: u32 = 400_000;

pub const COMPUTE_BUDGET_PROGRAM_ID: Pubkey = solana_compute_budget_interface::ID;

pub fn set_compute_unit_limit(units: u32) -> Instruction {
    ComputeBudgetInstruction::set_compute_unit_limit(units)
}

pub fn set_compute_unit_price(micro_lamports_per_cu: u64) -> Instruction {
    ComputeBudgetInstruction::set_compute_unit_price(micro_lamports_per_cu)
}

/// Both, skipping a zero price.
pub fn instructions(units: u32, micro_lamports_per_cu: u64) -> Vec<Instruction> {
    let mut out = vec![set_compute_unit_limit(units)];
    if micro_lamports_per_cu > 0 {
        out.push(set_compute_unit_price(micro_lamports_per_cu));
    }
    out
}

/// The accounts a transaction of `ixs` locks for writing, other than `fee_payer` (whose lock
/// nobody else contends for): what `getRecentPrioritizationFees` should be asked about.
pub fn writable_accounts(ixs: &[Instruction], fee_payer: &Pubkey) -> Vec<Pubkey> {
    let mut out: Vec<Pubkey> = Vec::new();
    for meta in ixs.iter().flat_map(|ix| &ix.accounts) {
        if meta.is_writable && meta.pubkey != *fee_payer && !out.contains(&meta.pubkey) {
            out.push(meta.pubkey);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::instruction::AccountMeta;

    #[test]
    fn the_interface_crate_writes_the_documented_wire_format() {
        // SetComputeUnitLimit = [2, u32 le], SetComputeUnitPrice = [3, u64 le]
        let ixs = instructions(200_000, 5);
        assert_eq!(ixs.len(), 2);
        assert_eq!(ixs[0].program_id, solana_sdk::pubkey!("ComputeBudget111111111111111111111111111111"));
        assert_eq!(ixs[0].data, [&[2u8][..], &200_000u32.to_le_bytes()].concat());
        assert_eq!(ixs[1].data, [&[3u8][..], &5u64.to_le_bytes()].concat());
        assert!(ixs.iter().all(|ix| ix.accounts.is_empty()));
        assert_eq!(instructions(1_000, 0).len(), 1, "a zero price is left out");
    }

    #[test]
    fn writable_accounts_skip_the_payer_readonly_and_repeats() {
        let (payer, a, b, r) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let ix =
            |metas: Vec<AccountMeta>| Instruction { program_id: Pubkey::new_unique(), accounts: metas, data: vec![] };
        let ixs = [
            ix(vec![AccountMeta::new(payer, true), AccountMeta::new(a, false), AccountMeta::new_readonly(r, false)]),
            ix(vec![AccountMeta::new(b, false), AccountMeta::new(a, false)]),
        ];
        assert_eq!(writable_accounts(&ixs, &payer), vec![a, b]);
    }
}
