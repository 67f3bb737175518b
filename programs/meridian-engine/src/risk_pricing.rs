//! Black-Scholes for the risk engine, in 64-bit fixed point with 28 fractional bits (`Q`), so that
//! almost every operation is one native instruction on-chain: the `pricing` module's 12-decimal
//! i128 arithmetic costs 13,000-82,000 CU a price (128-bit divisions are libcalls), this a few
//! hundred. The portfolio engine revalues an option market's lot 28 times per oracle refresh with
//! it. Accuracy against `pricing` over the grid: values within 1e-7 of max(spot, strike),
//! delta within 1e-5 (tests), ample for margin; quotes and `meridian risk price` use `pricing`.
//!
//! Prices are quote native units per lot (`i64`); volatility and time are `Q` fixed point. The
//! algorithms are `pricing`'s (range-reduced series; the CDF's series up to |x| = 1.5 here, where its
//! truncation errors stay below 5e-8, the continued fraction beyond) at lower precision.

use crate::oracle::isqrt_u64;
use crate::pricing::OptionKind;

/// Fractional bits.
pub const Q: u32 = 28;
pub const ONE: i64 = 1 << Q;
/// ln 2 with 40 fractional bits (the reduction multiplies it by up to ~64).
const LN2_Q40: i64 = 762_123_384_786;
const LN2: i64 = 186_065_279;
/// 1 / sqrt(2 pi).
const INV_SQRT_2PI: i64 = 107_090_253;
/// Beyond |x| = 8 the normal CDF is 0 or 1 at this precision.
const CDF_CUTOFF: i64 = 8 * ONE;
const SERIES_LIMIT: i64 = 3 * ONE / 2;
const CONTINUED_FRACTION_DEPTH: i64 = 40;

/// A 12-decimal fixed-point value (the `pricing`/oracle convention) in `Q`, truncated.
pub fn from_12_decimals(v: i128) -> Option<i64> {
    i64::try_from(v.checked_mul(ONE as i128)? / 1_000_000_000_000).ok()
}

#[inline(always)]
fn mul(a: i64, b: i64) -> i64 {
    // callers keep |a|, |b| such that the product fits (documented at each use)
    a.wrapping_mul(b) >> Q
}

/// `mul` in 128 bits, for the rare operands that can reach 2^32.
fn mul_wide(a: i64, b: i64) -> i64 {
    // two i64 factors cannot overflow i128; the one caller squares vol sqrt T < 2^35: below 2^42
    ((a as i128).wrapping_mul(b as i128) >> Q) as i64
}

/// `x` with the option's sign (calls +1, puts -1): a negation, not a (checked) multiply.
#[inline(always)]
fn signed(sign: i64, x: i64) -> i64 {
    if sign > 0 {
        x
    } else {
        -x
    }
}

/// e^x for x <= 20 (the risk engine needs x <= 0); 0 below -20.
pub fn exp(x: i64) -> Option<i64> {
    if x < -20 * ONE {
        return Some(0);
    }
    if x > 20 * ONE {
        return None;
    }
    // x = k ln2 + r, |r| <= ln2 / 2
    let k = (x + signed(x.signum(), LN2 / 2)) / LN2; // rounded to nearest
    let r = x - (k.wrapping_mul(LN2_Q40) >> 12); // |k| <= 30
    let (mut sum, mut term, mut n) = (ONE, ONE, 1);
    while term != 0 {
        term = mul(term, r) / n; // |term|, |r| < 2^28: the product fits
        sum += term;
        n += 1;
    }
    Some(if k >= 0 { sum << k } else { (sum + (1 << (-k - 1))) >> -k })
}

/// ln of a positive integer (not a `Q` value: ln of a price or a lot value directly).
pub fn ln_int(x: i64) -> Option<i64> {
    if x <= 0 {
        return None;
    }
    // x = 2^k y, y in [1, 2) held in Q
    let k = 63 - x.leading_zeros() as i64;
    let y = if k <= Q as i64 { x << (Q as i64 - k) } else { x >> (k - Q as i64) };
    // ln y = 2 (z + z^3/3 + z^5/5 + ...), z = (y-1)/(y+1) < 1/3
    let z = ((y - ONE) << Q) / (y + ONE);
    let z2 = mul(z, z);
    let (mut sum, mut power, mut n) = (z, z, 3);
    loop {
        power = mul(power, z2);
        let term = power / n;
        if term == 0 {
            break;
        }
        sum += term;
        n += 2;
    }
    Some(2 * sum + (k.wrapping_mul(LN2_Q40) >> 12)) // k <= 62
}

/// Square root of a `Q` value.
pub fn sqrt(x: i64) -> Option<i64> {
    if !(0..1 << 35).contains(&x) {
        return None;
    }
    Some(isqrt_u64((x as u64) << Q) as i64) // x in [0, 2^35): x << Q < 2^63, its root < 2^32
}

pub fn normal_pdf(x: i64) -> Option<i64> {
    if x.abs() > CDF_CUTOFF {
        return Some(0);
    }
    Some(mul(exp(-mul(x, x) / 2)?, INV_SQRT_2PI)) // |x| <= 2^31: x^2 fits
}

/// The standard normal distribution function.
pub fn normal_cdf(x: i64) -> Option<i64> {
    if x <= -CDF_CUTOFF {
        return Some(0);
    }
    if x >= CDF_CUTOFF {
        return Some(ONE);
    }
    let pdf = normal_pdf(x)?;
    if x.abs() <= SERIES_LIMIT {
        // Phi(x) = 1/2 + phi(x) (x + x^3/3 + x^5/(3*5) + ...); terms stay below 2^33, x^2 below 2^31
        let x2 = mul(x, x);
        let (mut sum, mut term, mut n) = (x, x, 1);
        while term != 0 {
            term = mul(term, x2) / (2 * n + 1);
            sum += term;
            n += 1;
        }
        return Some(ONE / 2 + mul(pdf, sum));
    }
    // upper tail Q(|x|) = phi(x) / (|x| + 1/(|x| + 2/(|x| + ...)))
    let a = x.abs();
    let mut f = a;
    for k in (1..=CONTINUED_FRACTION_DEPTH).rev() {
        f = a + (k << (2 * Q)) / f;
    }
    let tail = (pdf << Q) / f;
    Some(if x > 0 { ONE - tail } else { tail })
}

/// One option lot's value and sensitivities, quote native units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LotGreeks {
    pub value: i64,
    /// Delta as a fraction of the underlying (`Q`; -1..1).
    pub delta: i64,
    /// Change of the value's delta (in quote: delta x underlying lot value) for a 1% rise.
    pub gamma_1pct: i64,
    /// Value change per volatility point.
    pub vega_1pt: i64,
    /// Value change per day (negative: decay).
    pub theta_1d: i64,
}

/// `v * q >> Q` for a native amount `v` and a `Q` fraction, in 128 bits (amounts reach 2^40+).
/// Values pass |q| <= ONE (CDFs, densities): at most |v|, exact. Greeks also pass vol (<= 8 ONE) and
/// sqrt T (< 2^32), which a lot worth over ~2^61 can push past i64: saturated (display figures).
fn scale(v: i64, q: i64) -> i64 {
    let x = (v as i128).wrapping_mul(q as i128) >> Q;
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

/// A European option on one lot: `spot` and `strike` are the underlying's and the strike's value
/// of one lot (quote native units), `vol` and `years` in `Q`. None when an input is out of range
/// (non-positive prices, volatility outside 0..8, negative time).
pub fn black_scholes(kind: OptionKind, spot: i64, strike: i64, vol: i64, years: i64) -> Option<LotGreeks> {
    OptionTerms::new(kind, strike, years)?.greeks(spot, vol)
}

/// What does not change across a scenario grid: the option, its strike's logarithm and the square
/// root of its time to expiry (valuing many spots and volatilities then costs only the CDFs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionTerms {
    sign: i64,
    strike: i64,
    ln_strike: i64,
    sqrt_t: i64,
}

/// d1, d2 and vol sqrt T of an option at `spot` and `vol`, or None when `vol sqrt T` is 0 (the
/// option is worth its intrinsic value).
struct Ds {
    d1: i64,
    d2: i64,
    vol_sqrt_t: i64,
}

impl OptionTerms {
    pub fn new(kind: OptionKind, strike: i64, years: i64) -> Option<OptionTerms> {
        if strike <= 0 || years < 0 {
            return None;
        }
        let sign = if kind == OptionKind::Call { 1 } else { -1 };
        Some(OptionTerms { sign, strike, ln_strike: ln_int(strike)?, sqrt_t: sqrt(years)? })
    }

    fn ds(&self, spot: i64, vol: i64) -> Option<Option<Ds>> {
        if spot <= 0 || !(0..=8 * ONE).contains(&vol) {
            return None;
        }
        // vol <= 2^31 and sqrt_t < 2^32: the product fits
        let vol_sqrt_t = vol.wrapping_mul(self.sqrt_t) >> Q;
        if vol_sqrt_t == 0 {
            return Some(None);
        }
        // d1 = (ln(S/K) + vol^2 T / 2) / (vol sqrt T), clamped where the CDF saturates
        let numerator = ln_int(spot)? - self.ln_strike + mul_wide(vol_sqrt_t, vol_sqrt_t) / 2;
        let d1 = if numerator.unsigned_abs() < 1 << 34 {
            (numerator << Q) / vol_sqrt_t
        } else {
            i64::try_from(((numerator as i128) << Q) / vol_sqrt_t as i128).unwrap_or(numerator.signum() * i64::MAX)
        };
        let d1 = d1.clamp(-2 * CDF_CUTOFF, 2 * CDF_CUTOFF);
        Some(Some(Ds { d1, d2: d1 - vol_sqrt_t, vol_sqrt_t }))
    }

    fn intrinsic(&self, spot: i64) -> i64 {
        signed(self.sign, spot - self.strike).max(0)
    }

    /// The value of one lot at `spot` and `vol`.
    pub fn value(&self, spot: i64, vol: i64) -> Option<i64> {
        let Some(d) = self.ds(spot, vol)? else {
            return Some(self.intrinsic(spot));
        };
        let (n1, n2) = (normal_cdf(signed(self.sign, d.d1))?, normal_cdf(signed(self.sign, d.d2))?);
        Some(signed(self.sign, scale(spot, n1) - scale(self.strike, n2)).max(0))
    }

    /// Value and sensitivities of one lot at `spot` and `vol`.
    pub fn greeks(&self, spot: i64, vol: i64) -> Option<LotGreeks> {
        let Some(d) = self.ds(spot, vol)? else {
            let intrinsic = self.intrinsic(spot);
            return Some(LotGreeks {
                value: intrinsic,
                delta: if intrinsic > 0 { signed(self.sign, ONE) } else { 0 },
                ..LotGreeks::default()
            });
        };
        let sign = self.sign;
        let (n1, n2) = (normal_cdf(signed(sign, d.d1))?, normal_cdf(signed(sign, d.d2))?);
        let pdf1 = normal_pdf(d.d1)?;
        let spot_pdf = scale(spot, pdf1);
        Some(LotGreeks {
            value: signed(sign, scale(spot, n1) - scale(self.strike, n2)).max(0),
            delta: signed(sign, n1),
            // gamma x S x 1% x S = S phi(d1) / (vol sqrt T) / 100
            // saturated (>= 0): a display greek; a lot worth ~2^57 just before expiry exceeds i64
            gamma_1pct: i64::try_from(((spot_pdf as i128) << Q).checked_div(d.vol_sqrt_t as i128 * 100)?).unwrap_or(i64::MAX),
            vega_1pt: scale(spot_pdf, self.sqrt_t) / 100,
            // -S phi(d1) vol / (2 sqrt T), per year, / 365
            // saturated (the quotient is >= 0): a display greek, like gamma
            theta_1d: -i64::try_from(((scale(spot_pdf, vol) as i128) << Q) / (2 * self.sqrt_t as i128 * 365)).unwrap_or(i64::MAX),
        })
    }
}

#[cfg(test)]
mod tests;
