//! The i128 libcall ABI shim of the registry-only SBF route (`scripts/sbf.sh`).
//!
//! Why it exists: rustc 1.96 passes and returns values wider than 64 bits on BPF through a hidden
//! pointer, while LLVM 23's BPF back end calls the i128 libcalls (`__multi3`, `__udivti3`, ...) with
//! i128 by value in register pairs. compiler_builtins' versions, compiled by rustc, disagree with
//! their callers about where arguments and results live: no build error, silent memory corruption.
//! `scripts/sbf/i128-libcalls.ll` defines the libcalls with LLVM's own signature and forwards each
//! one to an `extern "C"` function below whose arguments are five u64/pointers and which returns
//! nothing, a signature both compilers agree on.
//!
//! Everything here is u64-only on purpose: a u128 operation inside would call back into a libcall.
//! The arithmetic is plain Rust, so it is tested natively against u128/i128 (see the tests).
#![no_std]

const LO32: u64 = 0xffff_ffff;

/// Full 64x64 -> 128 multiply as (lo, hi), from four 32x32 products.
#[inline(always)]
pub fn mul64(a: u64, b: u64) -> (u64, u64) {
    let (a0, a1) = (a & LO32, a >> 32);
    let (b0, b1) = (b & LO32, b >> 32);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 32) + (p01 & LO32) + (p10 & LO32);
    ((p00 & LO32) | (mid << 32), p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32))
}

/// Wrapping 128x128 -> 128 multiply (what `__multi3` computes).
#[inline(always)]
pub fn mul128(al: u64, ah: u64, bl: u64, bh: u64) -> (u64, u64) {
    let (lo, hi) = mul64(al, bl);
    (lo, hi.wrapping_add(al.wrapping_mul(bh)).wrapping_add(ah.wrapping_mul(bl)))
}

/// (u1:u0) / v for u1 < v: quotient and remainder, each fits in 64 bits.
/// Hacker's Delight `divlu`: two 32-bit quotient digits, each estimated with the native 64-bit divide
/// and corrected at most twice, instead of a 128-step shift-subtract loop.
#[inline(always)]
fn div_2by1(u1: u64, u0: u64, v: u64) -> (u64, u64) {
    const B: u64 = 1 << 32;
    debug_assert!(u1 < v);
    let s = v.leading_zeros();
    let v = v << s;
    let (vn1, vn0) = (v >> 32, v & LO32);
    let un32 = if s == 0 { u1 } else { (u1 << s) | (u0 >> (64 - s)) };
    let un10 = u0 << s;
    let (un1, un0) = (un10 >> 32, un10 & LO32);

    let mut q1 = un32 / vn1;
    let mut rhat = un32 - q1 * vn1;
    while q1 >= B || q1 * vn0 > (rhat << 32) + un1 {
        q1 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    let un21 = (un32 << 32).wrapping_add(un1).wrapping_sub(q1.wrapping_mul(v));

    let mut q0 = un21 / vn1;
    let mut rhat = un21 - q0 * vn1;
    while q0 >= B || q0 * vn0 > (rhat << 32) + un0 {
        q0 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    let r = (un21 << 32).wrapping_add(un0).wrapping_sub(q0.wrapping_mul(v)) >> s;
    ((q1 << 32) + q0, r)
}

#[inline(always)]
fn ge128(al: u64, ah: u64, bl: u64, bh: u64) -> bool {
    ah > bh || (ah == bh && al >= bl)
}

#[inline(always)]
fn sub128(al: u64, ah: u64, bl: u64, bh: u64) -> (u64, u64) {
    let (l, borrow) = al.overflowing_sub(bl);
    (l, ah.wrapping_sub(bh).wrapping_sub(borrow as u64))
}

/// Unsigned 128-bit division: (quotient lo, hi, remainder lo, hi). Division by zero is checked by
/// Rust before any libcall; here it returns all ones rather than trapping.
pub fn udivmod128(nl: u64, nh: u64, dl: u64, dh: u64) -> (u64, u64, u64, u64) {
    if dh == 0 {
        if dl == 0 {
            return (u64::MAX, u64::MAX, nl, nh);
        }
        if nh == 0 {
            return (nl / dl, 0, nl % dl, 0);
        }
        let (qh, rh) = (nh / dl, nh % dl);
        let (ql, r) = div_2by1(rh, nl, dl);
        return (ql, qh, r, 0);
    }
    if !ge128(nl, nh, dl, dh) {
        return (0, 0, nl, nh);
    }
    // Divisor >= 2^64, so the quotient fits in 64 bits. Hacker's Delight 9-5: divide n/2 by the
    // normalized top word of d, undo the scaling, then correct the estimate by at most one.
    let n = dh.leading_zeros();
    let v1 = if n == 0 { dh } else { (dh << n) | (dl >> (64 - n)) };
    let (u1l, u1h) = ((nl >> 1) | (nh << 63), nh >> 1);
    let (q1, _) = div_2by1(u1h, u1l, v1);
    let mut q0 = q1 >> (63 - n);
    q0 = q0.saturating_sub(1);
    let (pl, ph) = mul128(q0, 0, dl, dh);
    let (mut rl, mut rh) = sub128(nl, nh, pl, ph);
    if ge128(rl, rh, dl, dh) {
        q0 += 1;
        (rl, rh) = sub128(rl, rh, dl, dh);
    }
    (q0, 0, rl, rh)
}

#[inline(always)]
fn neg128(l: u64, h: u64) -> (u64, u64) {
    let (l2, carry) = (!l).overflowing_add(1);
    (l2, (!h).wrapping_add(carry as u64))
}

/// Signed 128-bit division truncating toward zero; remainder takes the dividend's sign.
pub fn sdivmod128(nl: u64, nh: u64, dl: u64, dh: u64) -> (u64, u64, u64, u64) {
    let (n_neg, d_neg) = ((nh as i64) < 0, (dh as i64) < 0);
    let (ul, uh) = if n_neg { neg128(nl, nh) } else { (nl, nh) };
    let (vl, vh) = if d_neg { neg128(dl, dh) } else { (dl, dh) };
    let (mut ql, mut qh, mut rl, mut rh) = udivmod128(ul, uh, vl, vh);
    if n_neg != d_neg {
        (ql, qh) = neg128(ql, qh);
    }
    if n_neg {
        (rl, rh) = neg128(rl, rh);
    }
    (ql, qh, rl, rh)
}

/// Signed 128x128 multiply with overflow detection (what `__muloti4` computes): the wrapped product
/// and whether the exact product falls outside i128.
pub fn smulo128(al: u64, ah: u64, bl: u64, bh: u64) -> (u64, u64, bool) {
    let (wl, wh) = mul128(al, ah, bl, bh);
    let (a_neg, b_neg) = ((ah as i64) < 0, (bh as i64) < 0);
    let (ual, uah) = if a_neg { neg128(al, ah) } else { (al, ah) };
    let (ubl, ubh) = if b_neg { neg128(bl, bh) } else { (bl, bh) };
    // |a| * |b| as an unsigned 128-bit value, or overflow of 128 bits
    let overflow = if uah != 0 && ubh != 0 {
        true
    } else {
        let (lo, hi) = mul64(ual, ubl);
        let (cl, ch) = if uah != 0 { mul64(uah, ubl) } else { mul64(ual, ubh) };
        let (hi, carry) = hi.overflowing_add(cl);
        if ch != 0 || carry {
            true
        } else {
            // the magnitude must fit the result's sign: < 2^127, or exactly 2^127 when negative
            let negative = a_neg != b_neg && (lo | hi) != 0;
            if negative {
                hi > 1 << 63 || (hi == 1 << 63 && lo != 0)
            } else {
                hi >= 1 << 63
            }
        }
    };
    (wl, wh, overflow)
}

/// 128-bit shifts by `b & 127`; kind 0 = shl, 1 = logical shr, 2 = arithmetic shr.
pub fn shift128(l: u64, h: u64, b: u64, kind: u64) -> (u64, u64) {
    let b = (b & 127) as u32;
    if b == 0 {
        return (l, h);
    }
    match kind {
        0 if b >= 64 => (0, l << (b - 64)),
        0 => (l << b, (h << b) | (l >> (64 - b))),
        1 if b >= 64 => (h >> (b - 64), 0),
        1 => ((l >> b) | (h << (64 - b)), h >> b),
        _ if b >= 64 => (((h as i64) >> (b - 64)) as u64, ((h as i64) >> 63) as u64),
        _ => ((l >> b) | (h << (64 - b)), ((h as i64) >> b) as u64),
    }
}

/// The symbols the IR wrappers call. Only in the SBF build: on the host, rustc's own u128 is used.
#[cfg(target_arch = "bpf")]
mod exports {
    use super::*;

    #[unsafe(no_mangle)]
    #[inline(never)]
    pub unsafe extern "C" fn sbpf_shim_mul128(al: u64, ah: u64, bl: u64, bh: u64, out: *mut u64) {
        let (lo, hi) = mul128(al, ah, bl, bh);
        unsafe {
            *out = lo;
            *out.add(1) = hi;
        }
    }

    #[unsafe(no_mangle)]
    #[inline(never)]
    pub unsafe extern "C" fn sbpf_shim_udivmod128(nl: u64, nh: u64, dl: u64, dh: u64, out: *mut u64) {
        let (ql, qh, rl, rh) = udivmod128(nl, nh, dl, dh);
        unsafe {
            *out = ql;
            *out.add(1) = qh;
            *out.add(2) = rl;
            *out.add(3) = rh;
        }
    }

    #[unsafe(no_mangle)]
    #[inline(never)]
    pub unsafe extern "C" fn sbpf_shim_sdivmod128(nl: u64, nh: u64, dl: u64, dh: u64, out: *mut u64) {
        let (ql, qh, rl, rh) = sdivmod128(nl, nh, dl, dh);
        unsafe {
            *out = ql;
            *out.add(1) = qh;
            *out.add(2) = rl;
            *out.add(3) = rh;
        }
    }

    /// out = [product lo, product hi, overflow (0/1)]
    #[unsafe(no_mangle)]
    #[inline(never)]
    pub unsafe extern "C" fn sbpf_shim_smulo128(al: u64, ah: u64, bl: u64, bh: u64, out: *mut u64) {
        let (lo, hi, overflow) = smulo128(al, ah, bl, bh);
        unsafe {
            *out = lo;
            *out.add(1) = hi;
            *out.add(2) = overflow as u64;
        }
    }

    #[unsafe(no_mangle)]
    #[inline(never)]
    pub unsafe extern "C" fn sbpf_shim_shift128(l: u64, h: u64, b: u64, kind: u64, out: *mut u64) {
        let (lo, hi) = shift128(l, h, b, kind);
        unsafe {
            *out = lo;
            *out.add(1) = hi;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;

    fn split(x: u128) -> (u64, u64) {
        (x as u64, (x >> 64) as u64)
    }
    fn join(l: u64, h: u64) -> u128 {
        ((h as u128) << 64) | l as u128
    }

    fn check_udiv(n: u128, d: u128) {
        let ((nl, nh), (dl, dh)) = (split(n), split(d));
        let (ql, qh, rl, rh) = udivmod128(nl, nh, dl, dh);
        assert_eq!(join(ql, qh), n / d, "{n} / {d}");
        assert_eq!(join(rl, rh), n % d, "{n} % {d}");
    }

    fn check_sdiv(n: i128, d: i128) {
        let ((nl, nh), (dl, dh)) = (split(n as u128), split(d as u128));
        let (ql, qh, rl, rh) = sdivmod128(nl, nh, dl, dh);
        assert_eq!(join(ql, qh) as i128, n.wrapping_div(d), "{n} / {d}");
        assert_eq!(join(rl, rh) as i128, n.wrapping_rem(d), "{n} % {d}");
    }

    #[test]
    fn division_edge_cases() {
        let edges = [
            1u128,
            2,
            3,
            7,
            u32::MAX as u128,
            1 << 32,
            u64::MAX as u128,
            1 << 64,
            (1 << 64) + 1,
            u128::MAX >> 1,
            u128::MAX - 1,
            u128::MAX,
            0x8000_0000_0000_0000_0000_0000_0000_0001,
            0xffff_ffff_0000_0000_ffff_ffff_0000_0000,
        ];
        for &n in edges.iter().chain([0u128].iter()) {
            for &d in &edges {
                check_udiv(n, d);
                check_sdiv(n as i128, d as i128);
            }
        }
        check_sdiv(i128::MIN, -1);
        check_sdiv(i128::MIN, 1);
        check_sdiv(i128::MIN + 1, i128::MIN);
    }

    #[test]
    fn shifts_match_native() {
        let x = 0x8123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        for b in 0..128u32 {
            let (l, h) = split(x);
            assert_eq!(join_pair(shift128(l, h, b as u64, 0)), x << b);
            assert_eq!(join_pair(shift128(l, h, b as u64, 1)), x >> b);
            assert_eq!(join_pair(shift128(l, h, b as u64, 2)) as i128, (x as i128) >> b);
        }
    }

    fn join_pair((l, h): (u64, u64)) -> u128 {
        join(l, h)
    }

    proptest! {
        #[test]
        fn mul_matches_native(a: u128, b: u128) {
            let ((al, ah), (bl, bh)) = (split(a), split(b));
            prop_assert_eq!(join_pair(mul128(al, ah, bl, bh)), a.wrapping_mul(b));
        }

        #[test]
        fn udiv_matches_native(n: u128, d in 1u128..) {
            check_udiv(n, d);
        }

        #[test]
        fn udiv_small_divisor(n: u128, d in 1u128..=u64::MAX as u128) {
            check_udiv(n, d);
        }

        #[test]
        fn udiv_close_operands(n: u128, k in 0u32..8) {
            // divisors just below the dividend exercise the quotient correction steps
            let d = (n >> k).max(1);
            check_udiv(n, d);
            check_udiv(n, d.saturating_add(1));
        }

        #[test]
        fn smulo_matches_native(a: i128, b: i128, small in any::<(i64, i64)>()) {
            for (a, b) in [(a, b), (small.0 as i128, small.1 as i128), (a >> 64, b), (i128::MIN, b & 3)] {
                let ((al, ah), (bl, bh)) = (split(a as u128), split(b as u128));
                let (l, h, overflow) = smulo128(al, ah, bl, bh);
                let (want, want_overflow) = a.overflowing_mul(b);
                prop_assert_eq!(join(l, h) as i128, want);
                prop_assert_eq!(overflow, want_overflow, "{} * {}", a, b);
            }
        }

        #[test]
        fn sdiv_matches_native(n: i128, d in any::<i128>().prop_filter("nonzero", |d| *d != 0)) {
            check_sdiv(n, d);
        }
    }
}
