//! The SPL Token / Token-2022 pieces Meridian needs: program ids, associated token addresses, the
//! base account and mint layouts (identical in both programs), and the few instructions the CLI,
//! demo and tests use. Builders come from spl-token-2022's interface crate, which accepts either
//! program id.

use anchor_lang::solana_program::system_program;
pub use anchor_spl::token_2022::spl_token_2022;
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
};

pub const TOKEN_PROGRAM_ID: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022_PROGRAM_ID: Pubkey = anchor_spl::token_2022::ID;
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey = solana_sdk::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
/// Size of a token account without extensions, and of a mint without extensions.
pub const ACCOUNT_LEN: usize = 165;
pub const MINT_LEN: usize = 82;

pub fn is_token_program(id: &Pubkey) -> bool {
    *id == TOKEN_PROGRAM_ID || *id == TOKEN_2022_PROGRAM_ID
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[owner.as_ref(), token_program.as_ref(), mint.as_ref()], &ASSOCIATED_TOKEN_PROGRAM_ID)
        .0
}

/// Creates the associated token account if it does not exist yet (instruction 1, CreateIdempotent).
pub fn create_associated_token_account_idempotent(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(associated_token_address(owner, mint, token_program), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(system_program::ID, false),
            AccountMeta::new_readonly(*token_program, false),
        ],
        data: vec![1],
    }
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
