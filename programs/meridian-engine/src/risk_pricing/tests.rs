//! The 64-bit functions against f64 and the lot prices against the 12-decimal `pricing` module over
//! the accuracy grid (docs/risk-model.md); the worst errors are printed (`--nocapture`).
use super::*;
use crate::pricing;

fn f(x: i64) -> f64 {
    x as f64 / ONE as f64
}

fn q(x: f64) -> i64 {
    (x * ONE as f64).round() as i64
}

#[test]
fn exp_ln_sqrt_cdf_match_f64() {
    for i in -200..=200 {
        let x = i as f64 / 10.0;
        let (got, want) = (f(exp(q(x)).unwrap()), x.exp());
        assert!((got - want).abs() <= want * 2e-8 + 1e-8, "exp({x}) = {got}, want {want}");
    }
    assert_eq!(exp(-21 * ONE), Some(0));
    assert_eq!(exp(21 * ONE), None);
    for x in [1i64, 2, 3, 7, 1_000, 65_000_000_000, i64::MAX] {
        let (got, want) = (f(ln_int(x).unwrap()), (x as f64).ln());
        assert!((got - want).abs() < 5e-8, "ln({x}) = {got}, want {want}");
    }
    assert_eq!(ln_int(0), None);
    for i in 0..=1000 {
        let x = i as f64 * i as f64 / 10_000.0;
        // rounding the input to 2^-28 alone moves the root by up to 2e-9 / sqrt(x)
        assert!((f(sqrt(q(x)).unwrap()) - x.sqrt()).abs() < 1e-8 + 2e-9 / x.sqrt(), "sqrt({x})");
    }
    // every 1/1000 over -9..9 (the tables' entries, their midpoints and everything between)
    let mut worst = 0f64;
    for i in -9_000..=9_000 {
        let x = i as f64 / 1_000.0;
        let want = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let got = f(normal_cdf(q(x)).unwrap());
        worst = worst.max((got - want).abs());
        assert!((got - want).abs() < 1e-8, "cdf({x}) = {got}, want {want}");
    }
    println!("normal_cdf: worst error {worst:.2e}");
}

/// The CDF's tables are what their doc says: Phi and phi at k/16, rounded to nearest in `Q`.
#[test]
fn cdf_tables_are_phi_at_sixteenths() {
    for k in 0..=128usize {
        let x = k as f64 / 16.0;
        let cdf = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let pdf = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        assert_eq!(CDF_TABLE[k], q(cdf), "Phi({x})");
        assert_eq!(PDF_TABLE[k], q(pdf), "phi({x})");
    }
}

/// Over moneyness 0.2..5, volatility 5%..300%, expiry 1 hour..2 years, calls and puts, at lot
/// values from 1e4 to 1e12 native units: the value within 1e-7 of max(spot, strike) (plus a unit) and the
/// delta within 1e-5 of the 12-decimal reference (ln's ~3e-8 error is amplified by 1 / (vol sqrt T)
/// at an hour to expiry).
#[test]
fn lot_prices_match_the_reference_over_the_grid() {
    let (mut worst_value, mut worst_delta) = (0f64, 0f64);
    for strike in [10_000i64, 65_000_000_000, 1_000_000_000_000] {
        for m in [0.2, 0.5, 0.8, 0.95, 1.0, 1.05, 1.25, 2.0, 5.0] {
            for vol in [0.05, 0.2, 0.6, 1.0, 3.0] {
                for hours in [1.0, 24.0, 24.0 * 30.0, 24.0 * 365.0, 24.0 * 730.0] {
                    for kind in [OptionKind::Call, OptionKind::Put] {
                        let spot = (strike as f64 * m) as i64;
                        let years = hours / 8760.0;
                        let got = black_scholes(kind, spot, strike, q(vol), q(years)).unwrap();
                        let want = pricing::black_scholes(&pricing::OptionInputs {
                            kind,
                            spot: spot as i128 * pricing::ONE,
                            strike: strike as i128 * pricing::ONE,
                            vol: (vol * 1e12) as i128,
                            rate: 0,
                            years: (years * 1e12) as i128,
                        })
                        .unwrap();
                        let value_err = (got.value as f64 - want.price as f64 / 1e12).abs();
                        let delta_err = (f(got.delta) - want.delta as f64 / 1e12).abs();
                        let size = spot.max(strike) as f64;
                        assert!(
                            value_err <= size * 1e-7 + 1.0,
                            "{kind:?} m {m} vol {vol} h {hours}: {got:?} vs {want:?}"
                        );
                        assert!(delta_err < 1e-5, "{kind:?} m {m} vol {vol} h {hours}: delta {got:?} vs {want:?}");
                        worst_value = worst_value.max((value_err - 1.0).max(0.0) / size);
                        worst_delta = worst_delta.max(delta_err);
                        // the other greeks against the reference, relative to their at-the-money size (gamma,
                        // for display only, to 0.1%)
                        let vega_ref = want.vega as f64 / 1e12 / 100.0;
                        let atm_vega = strike as f64 * 0.4 * years.sqrt() / 100.0;
                        assert!(
                            (got.vega_1pt as f64 - vega_ref).abs() <= atm_vega * 1e-5 + 2.0,
                            "vega {got:?} vs {want:?}"
                        );
                        let theta_ref = want.theta as f64 / 1e12 / 365.0;
                        let atm_theta = strike as f64 * 0.4 * vol / (2.0 * years.sqrt()) / 365.0;
                        assert!(
                            (got.theta_1d as f64 - theta_ref).abs() <= atm_theta * 1e-5 + 2.0,
                            "theta {got:?} vs {want:?}"
                        );
                        // (in f64: the reference's 12-decimal gamma per unit of a 1e11 price is ~1e-12)
                        let sq = years.sqrt();
                        let d1 = (m.ln() + vol * vol / 2.0 * years) / (vol * sq);
                        let pdf = (-d1 * d1 / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
                        let gamma_ref = spot as f64 * pdf / (vol * sq) / 100.0;
                        let atm_gamma = strike as f64 * 0.4 / (vol * years.sqrt()) / 100.0;
                        assert!(
                            (got.gamma_1pct as f64 - gamma_ref).abs() <= atm_gamma * 1e-3 + 2.0,
                            "gamma {got:?} vs {gamma_ref}"
                        );
                    }
                }
            }
        }
    }
    println!("risk_pricing: worst value error {worst_value:.2e} of max(spot, strike) (beyond a unit), worst delta error {worst_delta:.2e}");
}

#[test]
fn expiry_and_bad_inputs() {
    let call = black_scholes(OptionKind::Call, 120, 100, q(0.5), 0).unwrap();
    assert_eq!((call.value, call.delta), (20, ONE));
    let put = black_scholes(OptionKind::Put, 120, 100, q(0.5), 0).unwrap();
    assert_eq!((put.value, put.delta), (0, 0));
    assert_eq!(black_scholes(OptionKind::Call, 0, 100, q(0.5), q(1.0)), None);
    assert_eq!(black_scholes(OptionKind::Call, 100, 100, -1, q(1.0)), None);
    assert_eq!(black_scholes(OptionKind::Call, 100, 100, 9 * ONE, q(1.0)), None);
    assert_eq!(from_12_decimals(600_000_000_000), Some(161_061_273), "0.6 x 2^28, truncated");
}
