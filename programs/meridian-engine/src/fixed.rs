//! Checked fixed-point helpers with explicit rounding.

/// Which way a division rounds. Callers pick the direction that favours the protocol: what a user
/// is owed rounds down, what a user owes rounds up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    Down,
    Up,
}

/// Checked u64 multiply. Both operands below 2^32 is one native multiply; on SBF (no high-multiply
/// instruction) `checked_mul` becomes a 128-bit multiply libcall.
#[inline(always)]
pub fn mul_u64(a: u64, b: u64) -> Option<u64> {
    if (a | b) >> 32 == 0 {
        Some(a.wrapping_mul(b)) // cannot overflow: both factors are below 2^32
    } else {
        a.checked_mul(b)
    }
}

/// `a * b / c` with a 128-bit intermediate. `None` on division by zero or a result above u64::MAX.
/// When `a` and `b` are below 2^32 (fees, margins on ordinary sizes) everything stays in native
/// 64-bit arithmetic; on SBF the 128-bit multiply, divide and remainder are libcalls.
#[inline]
// `%` rather than `is_multiple_of`: `c` is non-zero here, and is_multiple_of tests it again (more CU
// on every fee and margin product).
#[allow(clippy::manual_is_multiple_of)]
pub fn mul_div_u64(a: u64, b: u64, c: u64, rounding: Rounding) -> Option<u64> {
    if c == 0 {
        return None;
    }
    if (a | b) >> 32 == 0 {
        let product = a.wrapping_mul(b); // both factors below 2^32: exact
        let q = product / c;
        return Some(if rounding == Rounding::Up && product % c != 0 { q + 1 } else { q });
    }
    let product = a as u128 * b as u128;
    let c = c as u128;
    let mut q = product / c;
    if rounding == Rounding::Up && product % c != 0 {
        q += 1;
    }
    u64::try_from(q).ok()
}

/// Signed `a * b / c`, rounding toward -inf (Down) or +inf (Up) whatever the signs.
#[inline]
pub fn mul_div_i64(a: i64, b: i64, c: i64, rounding: Rounding) -> Option<i64> {
    if c == 0 {
        return None;
    }
    let product = a as i128 * b as i128;
    div_round_i128(product, c as i128, rounding).and_then(|q| i64::try_from(q).ok())
}

/// Signed division rounding toward -inf (Down) or +inf (Up).
#[inline]
pub fn div_round_i128(n: i128, d: i128, rounding: Rounding) -> Option<i128> {
    let q = n.checked_div(d)?;
    let r = n.checked_rem(d)?;
    if r == 0 {
        return Some(q);
    }
    // truncation went toward zero; the exact quotient is positive iff the signs agree
    let exact_positive = (r > 0) == (d > 0);
    Some(match (rounding, exact_positive) {
        (Rounding::Up, true) => q + 1,
        (Rounding::Down, false) => q - 1,
        _ => q,
    })
}

/// 10^exp as u64, for exp <= 19.
#[inline]
pub fn pow10(exp: u32) -> Option<u64> {
    10u64.checked_pow(exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mul_div_rounds_as_asked() {
        assert_eq!(mul_div_u64(10, 10, 3, Rounding::Down), Some(33));
        assert_eq!(mul_div_u64(10, 10, 3, Rounding::Up), Some(34));
        assert_eq!(mul_div_u64(9, 10, 3, Rounding::Up), Some(30));
        assert_eq!(mul_div_u64(1, 1, 0, Rounding::Down), None);
        assert_eq!(mul_div_u64(u64::MAX, u64::MAX, u64::MAX, Rounding::Down), Some(u64::MAX));
        assert_eq!(mul_div_u64(u64::MAX, 2, 1, Rounding::Down), None);
        assert_eq!(mul_div_i64(-10, 10, 3, Rounding::Down), Some(-34));
        assert_eq!(mul_div_i64(-10, 10, 3, Rounding::Up), Some(-33));
        assert_eq!(mul_div_i64(10, 10, -3, Rounding::Down), Some(-34));
        assert_eq!(mul_div_i64(-10, -10, -3, Rounding::Up), Some(-33));
        assert_eq!(mul_div_i64(i64::MIN, -1, 1, Rounding::Down), None);
    }

    proptest! {
        #[test]
        fn mul_u64_is_checked_mul(a: u64, b: u64, small in (0u64..(1 << 32), 0u64..(1 << 32))) {
            prop_assert_eq!(mul_u64(a, b), a.checked_mul(b));
            prop_assert_eq!(mul_u64(small.0, small.1), small.0.checked_mul(small.1));
        }

        #[test]
        fn fast_path_equals_wide_path(a in 0u64..(1 << 32), b in 0u64..(1 << 32), c in 1u64..) {
            let exact = a as u128 * b as u128;
            let down = (exact / c as u128) as u64;
            let up = exact.div_ceil(c as u128) as u64;
            prop_assert_eq!(mul_div_u64(a, b, c, Rounding::Down), Some(down));
            prop_assert_eq!(mul_div_u64(a, b, c, Rounding::Up), Some(up));
        }

        #[test]
        fn mul_div_u64_brackets_exact(a: u64, b: u64, c in 1u64..) {
            let exact = a as u128 * b as u128;
            if let Some(d) = mul_div_u64(a, b, c, Rounding::Down) {
                prop_assert!(d as u128 * c as u128 <= exact);
                prop_assert!((d as u128 + 1) * c as u128 > exact);
            }
            if let Some(u) = mul_div_u64(a, b, c, Rounding::Up) {
                prop_assert!(u as u128 * c as u128 >= exact);
            }
        }

        #[test]
        fn signed_rounding_brackets_exact(n: i64, d in any::<i64>().prop_filter("nonzero", |d| *d != 0)) {
            let (n, d) = (n as i128, d as i128);
            let down = div_round_i128(n, d, Rounding::Down).unwrap();
            let up = div_round_i128(n, d, Rounding::Up).unwrap();
            // down <= n/d <= up, and they differ by at most one
            let le = |q: i128| if d > 0 { q * d <= n } else { q * d >= n };
            let ge = |q: i128| if d > 0 { q * d >= n } else { q * d <= n };
            prop_assert!(le(down) && ge(up));
            prop_assert!(up - down <= 1);
        }
    }
}
