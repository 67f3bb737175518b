//! Math probe: a test-only program. It runs the engine's math ops (`meridian_engine::probe`), built
//! by the same toolchain, shim and flags as the Meridian program, so tests can check for any input
//! that the SBF binary computes exactly what the host computes. A miscompiled 128-bit libcall (see
//! programs/sbpf-i128-shim) then shows up as a failed comparison instead of a wrong balance. It is
//! loaded by the program tests only; the production program carries no probe.
//!
//! One instruction, no accounts: data = op (u8) ++ a ++ b ++ c (i128 little endian, 49 bytes). The
//! result is the return data (i128 little endian). Errors use the Meridian program's codes:
//! `UnknownProbeOp` (6018) for an op it does not know, `ProbeUndefined` (6019) when the op is
//! undefined for the operands (a zero divisor, an overflow).

#[cfg(meridian_upstream_sbf)]
use {sbpf_i128_shim as _, solana_compiler_builtins as _};

use meridian_engine::probe::{eval, ProbeOp};
use solana_account_info::AccountInfo;
use solana_instruction::Instruction;
use solana_program_error::{ProgramError, ProgramResult};
use solana_pubkey::Pubkey;

/// Where the tests load the probe (it is never deployed to a cluster).
pub const ID: Pubkey = Pubkey::new_from_array(*b"meridian-math-probe-test-program");

/// Custom error codes, equal to the Meridian program's `UnknownProbeOp` and `ProbeUndefined`.
pub const UNKNOWN_OP: u32 = 6018;
pub const UNDEFINED: u32 = 6019;

#[cfg(target_os = "solana")]
solana_program_entrypoint::entrypoint!(process_instruction);

/// The instruction evaluating `op` on `a`, `b`, `c` (an op number the probe may not know is
/// allowed, to test the rejection).
pub fn instruction(op: u8, a: i128, b: i128, c: i128) -> Instruction {
    let mut data = vec![op];
    for v in [a, b, c] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    Instruction { program_id: ID, accounts: vec![], data }
}

pub fn process_instruction(_program_id: &Pubkey, _accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let [op, rest @ ..] = data else { return Err(ProgramError::InvalidInstructionData) };
    let rest: &[u8; 48] = rest.try_into().map_err(|_| ProgramError::InvalidInstructionData)?;
    let word = |i: usize| i128::from_le_bytes(rest[16 * i..16 * (i + 1)].try_into().expect("16 bytes"));
    let op = ProbeOp::from_u8(*op).ok_or(ProgramError::Custom(UNKNOWN_OP))?;
    let result = eval(op, word(0), word(1), word(2)).ok_or(ProgramError::Custom(UNDEFINED))?;
    solana_cpi::set_return_data(&result.to_le_bytes());
    Ok(())
}
