//! Writing simulated source accounts on a local validator through the test-only oracle writer
//! program (tests/oracle-writer), deployed there at the Pyth and Switchboard program addresses.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};

/// Largest write per instruction, so a write and its signatures fit one 1232-byte transaction.
pub const MAX_WRITE: usize = 900;

/// Writes `bytes` at `offset` into `account` (owned by `program`, the writer deployed at an oracle
/// program's address; `account` signs).
pub fn write_ix(program: &Pubkey, account: &Pubkey, offset: usize, bytes: &[u8]) -> Instruction {
    let mut data = (offset as u32).to_le_bytes().to_vec();
    data.extend_from_slice(bytes);
    Instruction { program_id: *program, accounts: vec![AccountMeta::new(*account, true)], data }
}

/// The byte ranges where `new` differs from `old` (same length), as (offset, bytes) writes of at
/// most [`MAX_WRITE`] bytes; differences closer than 32 bytes are merged into one write.
pub fn diff_writes(old: &[u8], new: &[u8]) -> Vec<(usize, Vec<u8>)> {
    assert_eq!(old.len(), new.len());
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for i in (0..new.len()).filter(|&i| old[i] != new[i]) {
        match ranges.last_mut() {
            Some((_, end)) if i <= *end + 32 => *end = i + 1,
            _ => ranges.push((i, i + 1)),
        }
    }
    let mut out = Vec::new();
    for (start, end) in ranges {
        let mut at = start;
        while at < end {
            let stop = (at + MAX_WRITE).min(end);
            out.push((at, new[at..stop].to_vec()));
            at = stop;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_writes_cover_exactly_the_changes() {
        let old = vec![0u8; 3_000];
        let mut new = old.clone();
        new[5] = 1;
        new[20] = 2; // merged with 5
        new[100] = 3;
        for b in &mut new[1_000..2_500] {
            *b = 9; // split at MAX_WRITE
        }
        let writes = diff_writes(&old, &new);
        assert_eq!(writes[0], (5, new[5..21].to_vec()));
        assert_eq!(writes[1], (100, vec![3]));
        assert_eq!((writes[2].0, writes[2].1.len()), (1_000, MAX_WRITE));
        assert_eq!((writes[3].0, writes[3].1.len()), (1_900, 600));
        let mut applied = old.clone();
        for (at, bytes) in &writes {
            applied[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        assert_eq!(applied, new);
        assert!(diff_writes(&new, &new).is_empty());
    }
}
