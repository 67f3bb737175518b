//! The SPL Token / Token-2022 pieces Meridian needs: program ids, associated token addresses, the
//! base account and mint layouts (identical in both programs), and the few instructions the CLI,
//! demo and tests use. Token builders come from spl-token-2022's interface crate, which accepts
//! either program id; associated token accounts (address and instruction) from
//! `spl-associated-token-account-interface`.

pub use anchor_spl::token_2022::spl_token_2022;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};
use spl_associated_token_account_interface as ata;

pub const TOKEN_PROGRAM_ID: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022_PROGRAM_ID: Pubkey = anchor_spl::token_2022::ID;
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey = ata::program::ID;
/// Size of a token account without extensions, and of a mint without extensions.
pub const ACCOUNT_LEN: usize = 165;
pub const MINT_LEN: usize = 82;

pub fn is_token_program(id: &Pubkey) -> bool {
    *id == TOKEN_PROGRAM_ID || *id == TOKEN_2022_PROGRAM_ID
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    ata::address::get_associated_token_address_with_program_id(owner, mint, token_program)
}

/// Creates the associated token account if it does not exist yet (CreateIdempotent).
pub fn create_associated_token_account_idempotent(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    ata::instruction::create_associated_token_account_idempotent(payer, owner, mint, token_program)
}

/// The base fields of a token account (same layout in SPL Token and Token-2022).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAccountInfo {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

pub fn decode_token_account(data: &[u8]) -> Option<TokenAccountInfo> {
    if data.len() < ACCOUNT_LEN {
        return None;
    }
    Some(TokenAccountInfo {
        mint: Pubkey::try_from(&data[0..32]).ok()?,
        owner: Pubkey::try_from(&data[32..64]).ok()?,
        amount: u64::from_le_bytes(data[64..72].try_into().ok()?),
    })
}

/// The base fields of a mint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MintInfo {
    pub supply: u64,
    pub decimals: u8,
}

pub fn decode_mint(data: &[u8]) -> Option<MintInfo> {
    if data.len() < MINT_LEN || data[45] != 1 {
        return None; // too short or not initialized
    }
    Some(MintInfo { supply: u64::from_le_bytes(data[36..44].try_into().ok()?), decimals: data[44] })
}

/// Instructions to create and initialize a mint (no extensions) at `mint`.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
    rent_lamports: u64,
) -> Vec<Instruction> {
    vec![
        anchor_lang::solana_program::system_instruction::create_account(
            payer,
            mint,
            rent_lamports,
            MINT_LEN as u64,
            token_program,
        ),
        spl_token_2022::instruction::initialize_mint2(token_program, mint, authority, None, decimals)
            .expect("token program id checked by caller"),
    ]
}

pub fn mint_to(token_program: &Pubkey, mint: &Pubkey, to: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    spl_token_2022::instruction::mint_to(token_program, mint, to, authority, &[], amount)
        .expect("token program id checked by caller")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn associated_token_accounts_follow_the_program_derivation() {
        let (payer, owner, mint) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        for program in [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID] {
            let seeds = [owner.as_ref(), program.as_ref(), mint.as_ref()];
            let expected = Pubkey::find_program_address(&seeds, &ASSOCIATED_TOKEN_PROGRAM_ID).0;
            assert_eq!(associated_token_address(&owner, &mint, &program), expected);
            let ix = create_associated_token_account_idempotent(&payer, &owner, &mint, &program);
            assert_eq!((ix.program_id, ix.data.as_slice()), (ASSOCIATED_TOKEN_PROGRAM_ID, &[1u8][..]));
            let keys: Vec<Pubkey> = ix.accounts.iter().map(|m| m.pubkey).collect();
            assert_eq!(
                keys,
                [payer, expected, owner, mint, solana_sdk::pubkey!("11111111111111111111111111111111"), program]
            );
            assert!(ix.accounts[0].is_signer && ix.accounts[0].is_writable && ix.accounts[1].is_writable);
        }
    }
}
