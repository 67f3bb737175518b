//! Black-Scholes for the risk engine, in 64-bit fixed point with 28 fractional bits (`Q`), so that
//! almost every operation is one native instruction on-chain: the `pricing` module's 12-decimal
//! i128 arithmetic costs 13,000-82,000 CU a price (128-bit divisions are libcalls), this a few
//! hundred. The portfolio engine revalues an option market's lot 28 times per oracle refresh with
//! it; quotes and `meridian risk price` use `pricing`. Error bound against the 12-decimal
//! reference over moneyness 0.2..5, volatility 5%..300%, expiry an hour..2 years (tests assert
//! 1e-7 and 1e-5, and print the measured worst): values within 7.1e-8 of max(spot, strike) plus a
//! unit, delta within 1.1e-6.
//!
//! Prices are quote native units per lot (`i64`); volatility and time are `Q` fixed point. exp and
//! ln are `pricing`'s range-reduced series at lower precision; the CDF is read from tables of Phi
//! and phi at sixteenths with a Taylor step (`normal_cdf`). A scenario grid shares the work that
//! does not change between its valuations: ln(strike) and sqrt(T) per option, vol sqrt T per
//! volatility, ln(spot) per spot (`OptionTerms`, `VolTerms`).
//!
//! Why not one algorithm generic over the two precisions: they differ in more than the word. This
//! one reads the CDF from tables and shares terms across a grid; `pricing` evaluates series to
//! ~1e-14 for quotes. A generic version over a number trait would either carry `pricing`'s series
//! into the risk engine (13,000+ CU a valuation on SBF instead of ~1,100) or the tables into the
//! quotes (losing their accuracy). The tests pin this module to `pricing` over the whole grid.

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

/// A 12-decimal fixed-point value (the `pricing`/oracle convention) in `Q`, truncated.
pub fn from_12_decimals(v: i128) -> Option<i64> {
    // 2^28 / 10^12 = 2^16 / 5^12: in 64 bits for |v| < 2^47 (volatilities up to ~140,000%), the
    // same quotient, truncated alike
    if v.unsigned_abs() < 1 << 47 {
        return Some(div((v as i64) << 16, 244_140_625)); // |v| < 2^47: the cast and the shift are exact
    }
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

/// 1/n in `Q`, rounded to nearest, for n = 0..=32 (entry 0 unused): ln's series and the CDF's
/// Taylor step multiply by these instead of dividing; the rounding (half a unit of `Q` relative to
/// 1/n) stays far below the terms' own truncation.
const INV: [i64; 33] = {
    let mut t = [0i64; 33];
    let mut n = 1;
    while n < 33 {
        t[n] = (ONE + n as i64 / 2) / n as i64;
        n += 1;
    }
    t
};

/// `n / d` for `d > 0`, truncated toward zero like `/`, through an unsigned division (measured on
/// SBF: ~17 units against ~37 for a signed one).
#[inline(always)]
fn div(n: i64, d: i64) -> i64 {
    debug_assert!(d > 0);
    let q = (n.unsigned_abs() / d as u64) as i64; // |n| / d <= |n| <= 2^63 - 1 unless n = i64::MIN
    if n < 0 {
        q.wrapping_neg()
    } else {
        q
    }
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
    let k = div(x + signed(x.signum(), LN2 / 2), LN2); // rounded to nearest
    let r = x - (k.wrapping_mul(LN2_Q40) >> 12); // |k| <= 30
    let (mut sum, mut term, mut n) = (ONE, ONE, 1);
    // divided, not multiplied by `INV`: the sum is shifted by up to 30 bits afterwards, so its
    // rounding must stay at one unit (exp runs once per revaluation, for the greeks)
    while term != 0 {
        term = div(mul(term, r), n); // |term|, |r| < 2^28: the product fits
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
    let z = div((y - ONE) << Q, y + ONE);
    let z2 = mul(z, z);
    // 0 <= z < ONE / 3: every power, term and partial sum lies in [0, ONE); wrapping adds
    let (mut sum, mut power, mut n) = (z, z, 3);
    while n < INV.len() {
        power = mul(power, z2);
        let term = mul(power, INV[n]);
        if term == 0 {
            break;
        }
        sum = sum.wrapping_add(term);
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
    Some(mul(exp(-(mul(x, x) >> 1))?, INV_SQRT_2PI)) // |x| <= 2^31: x^2 fits
}

/// log2 of the tables' step (1/16).
const TABLE_STEP_BITS: u32 = 4;

/// Phi(k / 16), k = 0..=128, in `Q`, rounded to nearest.
static CDF_TABLE: [i64; 129] = [
    134217728, 140906514, 147569231, 154180115, 160714006, 167146630, 173454876, 179617039, 185613041, 191424625,
    197035509, 202431513, 207600639, 212533130, 217221473, 221660387, 225846761, 229779575, 233459788, 236890202,
    240075311, 243021130, 245735018, 248225491, 250502034, 252574914, 254454994, 256153561, 257682158, 259052432,
    260275995, 261364295, 262328514, 263179469, 263927537, 264582596, 265153974, 265650419, 266080076, 266450481,
    266768562, 267040644, 267272473, 267469235, 267635582, 267775668, 267893179, 267991370, 268073096, 268140853,
    268196810, 268242842, 268280562, 268311350, 268336382, 268356655, 268373010, 268386152, 268396672, 268405060,
    268411722, 268416992, 268421145, 268424405, 268426954, 268428940, 268430480, 268431670, 268432587, 268433289,
    268433826, 268434234, 268434544, 268434778, 268434953, 268435085, 268435183, 268435256, 268435310, 268435350,
    268435379, 268435400, 268435416, 268435427, 268435436, 268435441, 268435446, 268435449, 268435451, 268435452,
    268435454, 268435454, 268435455, 268435455, 268435455, 268435456, 268435456, 268435456, 268435456, 268435456,
    268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456,
    268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456,
    268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456, 268435456,
];

/// phi(k / 16), k = 0..=128, in `Q`, rounded to nearest.
static PDF_TABLE: [i64; 129] = [
    107090253, 106881296, 106256870, 105224256, 103795432, 101986846, 99819092, 97316528, 94506817, 91420417, 88090039,
    84550065, 80835964, 76983710, 73029208, 69007752, 64953522, 60899127, 56875204, 52910078, 49029491, 45256388,
    41610788, 38109700, 34767115, 31594051, 28598649, 25786313, 23159891, 20719884, 18464675, 16390778, 14493090,
    12765150, 11199392, 9787380, 8520048, 7387902, 6381221, 5490223, 4705217, 4016733, 3415621, 2893144, 2441035,
    2051546, 1717482, 1432210, 1189665, 984343, 811281, 666040, 544668, 443678, 360004, 290971, 234259, 187865, 150072,
    119414, 94649, 74728, 58769, 46038, 35925, 27924, 21620, 16674, 12809, 9802, 7472, 5673, 4291, 3232, 2426, 1813,
    1350, 1001, 740, 544, 399, 291, 212, 154, 111, 80, 57, 41, 29, 20, 14, 10, 7, 5, 3, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// The standard normal distribution function: the nearest table entry (|h| <= 1/32 away) and a
/// fourth-order Taylor step, Phi(x0 + h) = Phi(x0) + phi(x0) (h - x0 h^2/2 + (x0^2 - 1) h^3/6 -
/// (x0^3 - 3 x0) h^4/24). Truncation stays below 3e-10; with the tables' and the arithmetic's
/// rounding (a unit of `Q` is 3.7e-9) the result is within 1e-8 of the exact value (tests), in a
/// few dozen instructions where the series and continued fraction it replaces took hundreds (no
/// exponential, no division but by constants).
pub fn normal_cdf(x: i64) -> Option<i64> {
    Some(cdf(x))
}

/// `normal_cdf`, total. Wrapping arithmetic: every operand's bound is shown where it is used (the
/// release build's overflow checks would double the instructions of the hottest function of a
/// revaluation, ~56 calls).
#[inline(always)]
fn cdf(x: i64) -> i64 {
    if x <= -CDF_CUTOFF {
        return 0;
    }
    if x >= CDF_CUTOFF {
        return ONE;
    }
    let a = x.unsigned_abs() as i64; // |x| < 8 ONE = 2^31
    let shift = Q - TABLE_STEP_BITS;
    let k = (a + (1 << (shift - 1))) >> shift; // the nearest entry, 0..=128
    let h = a - (k << shift); // |h| <= 2^23
                              // the powers of x0 = k/16 in Q, exact: k <= 128, so k^3 << 16 <= 2^37
    let x0 = k << shift;
    let x0_2 = k.wrapping_mul(k) << (2 * shift - Q);
    let x0_3 = k.wrapping_mul(k).wrapping_mul(k) << (3 * shift - 2 * Q);
    let c4 = -mul(x0_3.wrapping_sub(3 * x0), INV[24]); // below 2^37 x 2^24: c4 < 2^33
    let c3 = mul(x0_2 - ONE, INV[6]); // below 2^34 x 2^26: c3 < 2^32
    let c2 = -(x0 >> 1); // x0 >= 0 and even; |c2| <= 2^30
                         // |h| <= 2^23 and each coefficient below 2^33: every product and sum fits
    let inner = c3.wrapping_add(mul(h, c4));
    let poly = mul(h, ONE.wrapping_add(mul(h, c2.wrapping_add(mul(h, inner)))));
    let k = k as usize; // 0..=128: inside the tables
                        // |poly| < 2^24, phi < 2^27
    let phi = CDF_TABLE[k].wrapping_add(mul(PDF_TABLE[k], poly));
    if x > 0 {
        phi
    } else {
        ONE - phi
    }
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

/// (n << Q) / d for n >= 0 and d > 0 (None for d = 0), saturated at i64::MAX; in 64 bits when the
/// shift fits (on SBF a 128-bit division is a libcall of hundreds of units).
fn shifted_quotient(n: i64, d: i64) -> Option<i64> {
    if d <= 0 {
        return None;
    }
    if n < 1 << 34 {
        return Some(div(n << Q, d)); // n < 2^34: the shift stays below 2^62
    }
    Some(i64::try_from(((n as i128) << Q) / d as i128).unwrap_or(i64::MAX))
}

/// `scale` for an amount `v >= 0` and a fraction `0 <= q <= ONE` (a CDF): v = a 2^Q + b, so
/// v q >> Q = a q + (b q >> Q) exactly, each product below 2^63, without the 128-bit multiply
/// (a libcall on SBF) that `scale` needs in general.
#[inline(always)]
fn scale_fraction(v: i64, q: i64) -> i64 {
    debug_assert!(v >= 0 && (0..=ONE).contains(&q));
    // v >> Q < 2^35 and q <= 2^28: below 2^63; the low part below 2^56; their sum is at most v
    (v >> Q).wrapping_mul(q).wrapping_add(((v & (ONE - 1)).wrapping_mul(q)) >> Q)
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

/// What one volatility contributes to d1 across spots: vol sqrt T and half its square.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolTerms {
    vol_sqrt_t: i64,
    half_variance: i64,
}

impl OptionTerms {
    pub fn new(kind: OptionKind, strike: i64, years: i64) -> Option<OptionTerms> {
        if strike <= 0 || years < 0 {
            return None;
        }
        let sign = if kind == OptionKind::Call { 1 } else { -1 };
        Some(OptionTerms { sign, strike, ln_strike: ln_int(strike)?, sqrt_t: sqrt(years)? })
    }

    /// The terms of volatility `vol` (`Q`, 0..=8), shared by every spot valued at it.
    pub fn at_vol(&self, vol: i64) -> Option<VolTerms> {
        if !(0..=8 * ONE).contains(&vol) {
            return None;
        }
        // vol <= 2^31 and sqrt_t < 2^32: the product fits
        let vol_sqrt_t = vol.wrapping_mul(self.sqrt_t) >> Q;
        Some(VolTerms { vol_sqrt_t, half_variance: mul_wide(vol_sqrt_t, vol_sqrt_t) >> 1 })
        // a square: >= 0
    }

    /// d1 and d2 from ln(spot) (`ln_int`) and the volatility's terms.
    fn ds(&self, ln_spot: i64, v: &VolTerms) -> Option<Ds> {
        if v.vol_sqrt_t == 0 {
            return None;
        }
        // d1 = (ln(S/K) + vol^2 T / 2) / (vol sqrt T), clamped where the CDF saturates
        // |ln| of a positive i64 < 44 ONE < 2^34, half_variance < 2^41 (`at_vol`): the sum fits
        let numerator = ln_spot.wrapping_sub(self.ln_strike).wrapping_add(v.half_variance);
        let d1 = if numerator.unsigned_abs() < 1 << 34 {
            div(numerator << Q, v.vol_sqrt_t)
        } else {
            i64::try_from(((numerator as i128) << Q) / v.vol_sqrt_t as i128).unwrap_or(numerator.signum() * i64::MAX)
        };
        let d1 = d1.clamp(-2 * CDF_CUTOFF, 2 * CDF_CUTOFF);
        // |d1| <= 2^32, 0 < vol_sqrt_t < 2^35
        Some(Ds { d1, d2: d1.wrapping_sub(v.vol_sqrt_t), vol_sqrt_t: v.vol_sqrt_t })
    }

    fn intrinsic(&self, spot: i64) -> i64 {
        signed(self.sign, spot - self.strike).max(0)
    }

    /// The value of one lot at `spot` and `vol`.
    pub fn value(&self, spot: i64, vol: i64) -> Option<i64> {
        if spot <= 0 {
            return None;
        }
        self.value_at(spot, ln_int(spot)?, &self.at_vol(vol)?)
    }

    /// The value of one lot at `spot` (> 0), given `ln_int(spot)` and the volatility's terms: a
    /// scenario grid computes each once, not once per valuation.
    pub fn value_at(&self, spot: i64, ln_spot: i64, v: &VolTerms) -> Option<i64> {
        let Some(d) = self.ds(ln_spot, v) else {
            return Some(self.intrinsic(spot));
        };
        let (n1, n2) = (cdf(signed(self.sign, d.d1)), cdf(signed(self.sign, d.d2)));
        // spot, strike > 0 and CDFs in 0..=ONE: both scaled values in [0, 2^63), so is |difference|
        Some(signed(self.sign, scale_fraction(spot, n1).wrapping_sub(scale_fraction(self.strike, n2))).max(0))
    }

    /// Value and sensitivities of one lot at `spot` and `vol`.
    pub fn greeks(&self, spot: i64, vol: i64) -> Option<LotGreeks> {
        if spot <= 0 {
            return None;
        }
        let Some(d) = self.ds(ln_int(spot)?, &self.at_vol(vol)?) else {
            let intrinsic = self.intrinsic(spot);
            return Some(LotGreeks {
                value: intrinsic,
                delta: if intrinsic > 0 { signed(self.sign, ONE) } else { 0 },
                ..LotGreeks::default()
            });
        };
        let sign = self.sign;
        let (n1, n2) = (cdf(signed(sign, d.d1)), cdf(signed(sign, d.d2)));
        let pdf1 = normal_pdf(d.d1)?;
        let spot_pdf = scale_fraction(spot, pdf1); // spot > 0, a density in 0..ONE
                                                   // gamma x S x 1% x S = S phi(d1) / (vol sqrt T) / 100
                                                   // saturated (>= 0): a display greek; a lot worth ~2^57 just before expiry exceeds i64
        let gamma_1pct = shifted_quotient(spot_pdf, d.vol_sqrt_t.checked_mul(100)?)?;
        // -S phi(d1) vol / (2 sqrt T), per year, / 365; saturated like gamma
        let theta = shifted_quotient(scale(spot_pdf, vol), self.sqrt_t.checked_mul(2 * 365)?)?;
        Some(LotGreeks {
            value: signed(sign, scale_fraction(spot, n1) - scale_fraction(self.strike, n2)).max(0),
            delta: signed(sign, n1),
            gamma_1pct,
            vega_1pt: div(scale(spot_pdf, self.sqrt_t), 100),
            theta_1d: -theta,
        })
    }
}

#[cfg(test)]
mod tests;
