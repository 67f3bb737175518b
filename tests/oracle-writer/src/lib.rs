//! Oracle writer: a test-only program. On a local validator it is deployed at the Pyth receiver,
//! Pyth push oracle and Switchboard on-demand addresses, so the accounts the oracle simulator
//! creates are owned by those real program ids and Meridian's owner checks run unchanged. Never
//! deployed anywhere else.
//!
//! One instruction: data = offset (u32 le) ++ bytes. Writes `bytes` at `offset` into account 0,
//! which must be owned by this program and sign (the simulator holds each feed account's keypair).

#[cfg(meridian_upstream_sbf)]
use {sbpf_i128_shim as _, solana_compiler_builtins as _};

use solana_account_info::AccountInfo;
use solana_program_error::{ProgramError, ProgramResult};
use solana_pubkey::Pubkey;

#[cfg(target_os = "solana")]
solana_program_entrypoint::entrypoint!(process_instruction);

/// The instruction data for writing `bytes` at `offset`.
pub fn write_data(offset: u32, bytes: &[u8]) -> Vec<u8> {
    let mut data = offset.to_le_bytes().to_vec();
    data.extend_from_slice(bytes);
    data
}

pub fn process_instruction(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let account = accounts.first().ok_or(ProgramError::NotEnoughAccountKeys)?;
    if account.owner != program_id {
        return Err(ProgramError::IncorrectProgramId);
    }
    if !account.is_signer {
        return Err(ProgramError::MissingRequiredSignature);
    }
    let (offset, bytes) = data.split_at_checked(4).ok_or(ProgramError::InvalidInstructionData)?;
    let offset = u32::from_le_bytes(offset.try_into().unwrap()) as usize;
    let mut dst = account.try_borrow_mut_data()?;
    let end = offset.checked_add(bytes.len()).ok_or(ProgramError::InvalidInstructionData)?;
    dst.get_mut(offset..end).ok_or(ProgramError::AccountDataTooSmall)?.copy_from_slice(bytes);
    Ok(())
}
