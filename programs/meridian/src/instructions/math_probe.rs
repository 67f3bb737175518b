use crate::error::MeridianError;
use anchor_lang::prelude::*;
use meridian_engine::probe::{eval, ProbeOp};

#[derive(Accounts)]
pub struct MathProbe {}

pub fn process_math_probe(_ctx: Context<MathProbe>, op: u8, a: i128, b: i128, c: i128) -> Result<i128> {
    let op = ProbeOp::from_u8(op).ok_or(MeridianError::UnknownProbeOp)?;
    eval(op, a, b, c).ok_or_else(|| error!(MeridianError::ProbeUndefined))
}
