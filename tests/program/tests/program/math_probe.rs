//! 128-bit arithmetic on SBF equals the host's, for edge cases and many random operands.
//!
//! The registry-only route links i128 libcalls through an ABI shim (programs/sbpf-i128-shim); a wrong
//! shim gives wrong numbers without any build error. Every op below crosses one of those libcalls.
//! The ops run in the test-only math probe program (tests/math-probe), built by the same toolchain,
//! shim and flags as the Meridian program.
use meridian::MeridianError;
use meridian_engine::probe::{eval, ProbeOp};
use meridian_program_tests::harness::{Expected, Harness};

fn on_chain(h: &mut Harness, op: ProbeOp, a: i128, b: i128, c: i128) -> Option<i128> {
    match h.send(&[math_probe::instruction(op as u8, a, b, c)], &[]) {
        Ok(meta) => Some(i128::from_le_bytes(meta.return_data.data[..16].try_into().unwrap())),
        Err(f) => {
            assert!(Expected::Meridian(MeridianError::ProbeUndefined).matches(&f.err), "{:?} {:?}", f.err, f.logs);
            None
        }
    }
}

use meridian_oracle_sim::path::Rng;

/// Operands of every magnitude: a random 128-bit value shifted right by a random amount.
fn operand(r: &mut Rng) -> i128 {
    let v = ((r.next_u64() as u128) << 64 | r.next_u64() as u128) as i128;
    let shift = r.below(128) as u32;
    if r.chance(500) {
        v >> shift
    } else {
        ((v as u128) >> shift) as i128
    }
}

#[test]
fn edge_cases_match_host() {
    let mut h = Harness::new().with_math_probe();
    let edges = [
        0i128,
        1,
        -1,
        2,
        7,
        -7,
        u32::MAX as i128,
        1 << 32,
        u64::MAX as i128,
        1 << 64,
        (1 << 64) + 1,
        -(1 << 64),
        i128::MAX,
        i128::MIN,
        i128::MIN + 1,
        10i128.pow(18),
        -(10i128.pow(18)),
        0x1234_5678_9abc_def0_1234_5678_9abc_def0,
    ];
    let mut checked = 0;
    for op in ProbeOp::ALL {
        for &a in &edges {
            for &b in &edges[..10] {
                let c = if matches!(op, ProbeOp::MulDivU64Down | ProbeOp::MulDivU64Up | ProbeOp::MulDivI64Down) {
                    1_000_003
                } else {
                    b | 1
                };
                assert_eq!(on_chain(&mut h, op, a, b, c), eval(op, a, b, c), "{op:?}({a}, {b}, {c})");
                checked += 1;
            }
        }
    }
    assert!(checked > 2000);
}

#[test]
fn random_operands_match_host() {
    let mut h = Harness::new().with_math_probe();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    for i in 0..1500 {
        let op = ProbeOp::ALL[i % ProbeOp::ALL.len()];
        let (a, b, c) = (operand(&mut rng), operand(&mut rng), operand(&mut rng));
        assert_eq!(on_chain(&mut h, op, a, b, c), eval(op, a, b, c), "{op:?}({a}, {b}, {c})");
    }
}

#[test]
fn unknown_op_is_rejected() {
    let mut h = Harness::new().with_math_probe();
    let ix = math_probe::instruction(ProbeOp::ALL.len() as u8, 1, 1, 1);
    h.fails(&[ix], &[], Expected::Meridian(MeridianError::UnknownProbeOp), &[]);
}

/// The pricing library (exp, ln, the normal CDF, Black-Scholes) gives the same integers on the SBF
/// binary as on the host: the margin engine and the SDK agree to the unit.
#[test]
fn pricing_functions_match_host() {
    use meridian_engine::pricing::ONE;
    let mut h = Harness::new().with_math_probe();
    let mut check = |op: ProbeOp, a: i128, b: i128, c: i128| {
        assert_eq!(on_chain(&mut h, op, a, b, c), eval(op, a, b, c), "{op:?}({a}, {b}, {c})");
    };
    for i in -45..=45 {
        check(ProbeOp::Exp, i * ONE + 123_456_789, 0, 0);
        check(ProbeOp::NormalCdf, i * ONE / 5 + 7, 0, 0);
    }
    for x in [1, 2, 999, ONE / 3, ONE, 2 * ONE, 65_000 * ONE, i128::MAX / ONE, 0, -1] {
        check(ProbeOp::Ln, x, 0, 0);
    }
    let pack = |vol: i128, years: i128| ((vol as u128) << 64 | years as u128) as i128;
    for (strike, vol, hours) in [(100, 60, 720), (50, 5, 1), (500, 300, 17_520), (95, 80, 24), (130, 25, 2_000)] {
        let c = pack(vol * ONE / 100, hours * ONE / 8760);
        check(ProbeOp::BlackScholesCall, 100 * ONE, strike * ONE, c);
    }
}

/// The risk engine's 64-bit pricing (the CDF tables, ln, an option lot's value, a whole scenario
/// grid) gives the same integers on the SBF binary as on the host; prints what each costs there
/// (`--nocapture`): the figures behind the option-revaluation row of bench/CU.md.
#[test]
fn risk_pricing_matches_host_and_its_costs() {
    use meridian_engine::risk_pricing::ONE;
    let mut h = Harness::new().with_math_probe();
    let mut check = |op: ProbeOp, a: i128, b: i128, c: i128| -> u64 {
        let meta = h.ok(&[math_probe::instruction(op as u8, a, b, c)], &[]);
        let got = i128::from_le_bytes(meta.return_data.data[..16].try_into().unwrap());
        assert_eq!(Some(got), eval(op, a, b, c), "{op:?}({a}, {b}, {c})");
        meta.compute_units_consumed
    };
    let one = ONE as i128;
    // the instruction around each figure: a shift of 128 bits by one (a few dozen units)
    let base = check(ProbeOp::Shl, 1, 1, 0);
    let mut cdf = 0;
    for i in -50..=50 {
        cdf = cdf.max(check(ProbeOp::RiskNormalCdf, i * one / 6 + 12_345, 0, 0));
    }
    let ln = check(ProbeOp::RiskLnInt, 6_500_000, 0, 0);
    let pack = |vol: i128, years: i128| ((vol as u128) << 64 | years as u128) as i128;
    let value = check(ProbeOp::RiskCallValue, 6_500_000, 6_000_000, pack(one * 6 / 10, one / 12));
    let lot = check(ProbeOp::RiskLotCall, 6_500_000, 6_000_000, 600_000_000_000);
    for (spot, strike, vol) in [(10_000, 12_000, 50_000_000_000), (65_000_000_000, 70_000_000_000, 3_000_000_000_000)] {
        check(ProbeOp::RiskLotCall, spot, strike, vol);
    }
    println!(
        "risk pricing on SBF, compute units above a math_probe call's {base}: normal_cdf <= {}, ln_int {}, \
         a call's value {}, a lot's 27 scenarios and greeks {}",
        cdf - base,
        ln - base,
        value - base,
        lot - base
    );
}
