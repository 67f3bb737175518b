//! Math conformance ops. The program exposes them through its read-only `math_probe` instruction so
//! tests can check, for any input, that the SBF binary computes exactly what the host computes. This
//! is how a miscompiled 128-bit libcall (see programs/sbpf-i128-shim) or a platform difference in the
//! engine's math shows up as a failed comparison instead of a wrong balance.

use crate::fixed::{div_round_i128, mul_div_i64, mul_div_u64, Rounding};
use crate::{portfolio, pricing, risk_pricing};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ProbeOp {
    /// a * b, i128 wrapping (`__multi3`)
    MulI128 = 0,
    /// a / b, i128 (`__divti3`)
    DivI128 = 1,
    /// a % b, i128 (`__modti3`)
    RemI128 = 2,
    /// a / b, u128 (`__udivti3`)
    DivU128 = 3,
    /// a % b, u128 (`__umodti3`)
    RemU128 = 4,
    /// a << (b & 127) (`__ashlti3`)
    Shl = 5,
    /// a >> (b & 127), logical (`__lshrti3`)
    Shr = 6,
    /// a >> (b & 127), arithmetic (`__ashrti3`)
    Sar = 7,
    /// mul_div_u64(a, b, c, Down)
    MulDivU64Down = 8,
    /// mul_div_u64(a, b, c, Up)
    MulDivU64Up = 9,
    /// mul_div_i64(a, b, c, Down)
    MulDivI64Down = 10,
    /// div_round_i128(a * b (wrapping), c, Up)
    MulDivRoundUpI128 = 11,
    /// a.checked_mul(b), i128 (`__muloti4`)
    CheckedMulI128 = 12,
    /// (a as u128).checked_mul(b as u128)
    CheckedMulU128 = 13,
    /// pricing::exp(a)
    Exp = 14,
    /// pricing::ln(a)
    Ln = 15,
    /// pricing::normal_cdf(a)
    NormalCdf = 16,
    /// pricing::black_scholes call price: spot a, strike b, vol c >> 64, years c & (2^64 - 1)
    BlackScholesCall = 17,
    /// risk_pricing::normal_cdf(a) (`Q` fixed point)
    RiskNormalCdf = 18,
    /// risk_pricing::ln_int(a)
    RiskLnInt = 19,
    /// risk_pricing::OptionTerms::value of a call: spot a, strike b, vol (`Q`) c >> 64, years (`Q`)
    /// c & (2^64 - 1)
    RiskCallValue = 20,
    /// portfolio::LotRisk::option of a call on the standard grid (spot a, strike b, volatility c in
    /// 12 decimals, 30 days to expiry): its value now
    RiskLotCall = 21,
}

impl ProbeOp {
    pub const ALL: [ProbeOp; 22] = [
        ProbeOp::MulI128,
        ProbeOp::DivI128,
        ProbeOp::RemI128,
        ProbeOp::DivU128,
        ProbeOp::RemU128,
        ProbeOp::Shl,
        ProbeOp::Shr,
        ProbeOp::Sar,
        ProbeOp::MulDivU64Down,
        ProbeOp::MulDivU64Up,
        ProbeOp::MulDivI64Down,
        ProbeOp::MulDivRoundUpI128,
        ProbeOp::CheckedMulI128,
        ProbeOp::CheckedMulU128,
        ProbeOp::Exp,
        ProbeOp::Ln,
        ProbeOp::NormalCdf,
        ProbeOp::BlackScholesCall,
        ProbeOp::RiskNormalCdf,
        ProbeOp::RiskLnInt,
        ProbeOp::RiskCallValue,
        ProbeOp::RiskLotCall,
    ];

    pub fn from_u8(op: u8) -> Option<ProbeOp> {
        Self::ALL.get(op as usize).copied()
    }
}

/// Evaluates `op`; `None` where the operation is undefined (division by zero, overflow of a checked
/// op). Operands are taken as i128 and reinterpreted as the op needs.
#[inline(never)]
pub fn eval(op: ProbeOp, a: i128, b: i128, c: i128) -> Option<i128> {
    let (ua, ub) = (a as u128, b as u128);
    let shift = (ub & 127) as u32;
    Some(match op {
        ProbeOp::MulI128 => a.wrapping_mul(b),
        ProbeOp::DivI128 => a.checked_div(b)?,
        ProbeOp::RemI128 => a.checked_rem(b)?,
        ProbeOp::DivU128 => ua.checked_div(ub)? as i128,
        ProbeOp::RemU128 => ua.checked_rem(ub)? as i128,
        ProbeOp::Shl => (ua << shift) as i128,
        ProbeOp::Shr => (ua >> shift) as i128,
        ProbeOp::Sar => a >> shift,
        ProbeOp::MulDivU64Down => mul_div_u64(a as u64, b as u64, c as u64, Rounding::Down)? as i128,
        ProbeOp::MulDivU64Up => mul_div_u64(a as u64, b as u64, c as u64, Rounding::Up)? as i128,
        ProbeOp::MulDivI64Down => mul_div_i64(a as i64, b as i64, c as i64, Rounding::Down)? as i128,
        ProbeOp::MulDivRoundUpI128 => div_round_i128(a.wrapping_mul(b), c, Rounding::Up)?,
        ProbeOp::CheckedMulI128 => a.checked_mul(b)?,
        ProbeOp::CheckedMulU128 => ua.checked_mul(ub)? as i128,
        ProbeOp::Exp => pricing::exp(a)?,
        ProbeOp::Ln => pricing::ln(a)?,
        ProbeOp::NormalCdf => pricing::normal_cdf(a)?,
        ProbeOp::BlackScholesCall => {
            let (vol, years) = ((c as u128 >> 64) as i128, (c as u128 & u64::MAX as u128) as i128);
            let inputs =
                pricing::OptionInputs { kind: pricing::OptionKind::Call, spot: a, strike: b, vol, rate: 0, years };
            pricing::black_scholes(&inputs)?.price
        }
        ProbeOp::RiskNormalCdf => risk_pricing::normal_cdf(i64::try_from(a).ok()?)? as i128,
        ProbeOp::RiskLnInt => risk_pricing::ln_int(i64::try_from(a).ok()?)? as i128,
        ProbeOp::RiskCallValue => {
            let (vol, years) =
                (i64::try_from(c as u128 >> 64).ok()?, i64::try_from(c as u128 & u64::MAX as u128).ok()?);
            let terms = risk_pricing::OptionTerms::new(pricing::OptionKind::Call, i64::try_from(b).ok()?, years)?;
            terms.value(i64::try_from(a).ok()?, vol)? as i128
        }
        ProbeOp::RiskLotCall => {
            let grid = portfolio::Grid::standard();
            let (spot, strike) = (i64::try_from(a).ok()?, i64::try_from(b).ok()?);
            portfolio::LotRisk::option(pricing::OptionKind::Call, spot, strike, c, 0, 30 * 86_400, &grid)?.now as i128
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip_through_u8() {
        for op in ProbeOp::ALL {
            assert_eq!(ProbeOp::from_u8(op as u8), Some(op));
        }
        assert_eq!(ProbeOp::from_u8(ProbeOp::ALL.len() as u8), None);
    }

    #[test]
    fn undefined_ops_are_none_not_panics() {
        assert_eq!(eval(ProbeOp::DivI128, 1, 0, 0), None);
        assert_eq!(eval(ProbeOp::DivI128, i128::MIN, -1, 0), None);
        assert_eq!(eval(ProbeOp::RemU128, 1, 0, 0), None);
        assert_eq!(eval(ProbeOp::MulDivU64Down, 1, 1, 0), None);
        assert_eq!(eval(ProbeOp::Sar, -8, 1, 0), Some(-4));
        assert_eq!(eval(ProbeOp::Shr, -1, 127, 0), Some(1));
    }
}
