//! The fixed-point functions against f64 references (libm's erfc for the normal distribution),
//! the accuracy grid (docs/risk-model.md), put-call parity and no-arbitrage properties.
use super::*;
use proptest::prelude::*;

fn f(x: i128) -> f64 {
    x as f64 / ONE as f64
}

fn fx(x: f64) -> i128 {
    (x * ONE as f64).round() as i128
}

fn cdf_ref(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

fn pdf_ref(x: f64) -> f64 {
    (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Black-Scholes in f64: (price, delta, gamma, vega, theta).
fn bs_ref(kind: OptionKind, s: f64, k: f64, vol: f64, r: f64, t: f64) -> (f64, f64, f64, f64, f64) {
    let sq = t.sqrt();
    let d1 = ((s / k).ln() + (r + vol * vol / 2.0) * t) / (vol * sq);
    let d2 = d1 - vol * sq;
    let pv = k * (-r * t).exp();
    let sign = if kind == OptionKind::Call { 1.0 } else { -1.0 };
    let price = sign * (s * cdf_ref(sign * d1) - pv * cdf_ref(sign * d2));
    let delta = sign * cdf_ref(sign * d1);
    let gamma = pdf_ref(d1) / (s * vol * sq);
    let vega = s * pdf_ref(d1) * sq;
    let theta = -s * pdf_ref(d1) * vol / (2.0 * sq) - sign * r * pv * cdf_ref(sign * d2);
    (price, delta, gamma, vega, theta)
}

#[test]
fn exp_ln_sqrt_match_f64() {
    for i in -400..=400 {
        let x = i as f64 / 10.0;
        let got = f(exp(fx(x)).unwrap());
        let want = x.exp();
        assert!((got - want).abs() <= want * 1e-11 + 2e-12, "exp({x}) = {got}, want {want}");
    }
    assert_eq!(exp(-41 * ONE), Some(0));
    assert_eq!(exp(41 * ONE), None);
    for i in 1..=2000 {
        let x = i as f64 * i as f64 / 1000.0; // 0.001 .. 4000
                                              // the input itself is rounded to 1e-12: that alone moves ln by up to 0.5e-12 / x
        let got = f(ln(fx(x)).unwrap());
        assert!((got - x.ln()).abs() < 1e-11 + 1e-12 / x, "ln({x}) = {got}, want {}", x.ln());
        let got = f(sqrt(fx(x)).unwrap());
        assert!((got - x.sqrt()).abs() < 1e-11, "sqrt({x}) = {got}");
    }
    assert_eq!(ln(1), Some(-27_631_021_115_929)); // ln 1e-12 = -27.631021115928548, rounded
    assert_eq!(ln(0), None);
    assert_eq!(sqrt(4 * ONE), Some(2 * ONE));
    assert_eq!(sqrt(-1), None);
}

#[test]
fn normal_distribution_matches_f64_everywhere() {
    let mut worst = 0f64;
    for i in -1000..=1000 {
        let x = i as f64 / 100.0; // -10 .. 10, across both methods' switch points
        let got = f(normal_cdf(fx(x)).unwrap());
        worst = worst.max((got - cdf_ref(x)).abs());
        let got = f(normal_pdf(fx(x)).unwrap());
        assert!((got - pdf_ref(x)).abs() < 1e-11, "pdf({x})");
    }
    println!("normal cdf: worst absolute error {worst:e}");
    assert!(worst < 5e-11, "{worst}");
    assert_eq!(normal_cdf(0), Some(ONE / 2));
}

/// The grid: moneyness 0.2..5, volatility 5%..300%, expiry 1 hour..2 years, calls and puts,
/// two rates. Reports the worst errors; prices must be within 1e-9 of the spot.
#[test]
fn pricing_accuracy_grid() {
    let spot = 100.0;
    let (mut worst_abs, mut worst_rel, mut worst_delta, mut worst_greek_rel) = (0f64, 0f64, 0f64, 0f64);
    let mut n = 0;
    let mut worst_case = String::new();
    for mi in 0..=24 {
        let moneyness = 0.2 * 25f64.powf(mi as f64 / 24.0);
        for vi in 0..=11 {
            let vol = 0.05 * 60f64.powf(vi as f64 / 11.0);
            for ti in 0..=11 {
                let years = (1.0 / 8760.0) * (2.0 * 8760.0f64).powf(ti as f64 / 11.0);
                for rate in [0.0, 0.05] {
                    for kind in [OptionKind::Call, OptionKind::Put] {
                        let strike = spot * moneyness;
                        let i = OptionInputs {
                            kind,
                            spot: fx(spot),
                            strike: fx(strike),
                            vol: fx(vol),
                            rate: fx(rate),
                            years: fx(years),
                        };
                        let g = black_scholes(&i).unwrap();
                        let (p, d, gm, vg, th) = bs_ref(kind, spot, f(i.strike), f(i.vol), rate, f(i.years));
                        let abs = (f(g.price) - p).abs() / spot;
                        worst_abs = worst_abs.max(abs);
                        if p > 1e-6 * spot {
                            worst_rel = worst_rel.max((f(g.price) - p).abs() / p);
                        }
                        worst_delta = worst_delta.max((f(g.delta) - d).abs());
                        // each greek's error against its at-the-money size for these inputs
                        let atm = pdf_ref(0.0);
                        let sq = f(i.years).sqrt();
                        let scales = [atm / (spot * vol * sq), spot * atm * sq, spot * atm * vol / (2.0 * sq)];
                        for ((name, got, want), scale) in
                            [("gamma", g.gamma, gm), ("vega", g.vega, vg), ("theta", g.theta, th)]
                                .into_iter()
                                .zip(scales)
                        {
                            let e = (f(got) - want).abs() / scale;
                            if e > worst_greek_rel {
                                worst_greek_rel = e;
                                worst_case = format!(
                                    "{name} {kind:?} K/S {moneyness:.3} vol {vol:.3} T {years:.6}: {} vs {want}",
                                    f(got)
                                );
                            }
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    println!(
        "{n} options: worst |price error| / spot {worst_abs:e}; worst relative price error (price > 1e-6 spot) \
         {worst_rel:e}; worst delta error {worst_delta:e}; worst gamma/vega/theta error (relative to its \
         at-the-money size) {worst_greek_rel:e}"
    );
    println!("worst greek: {worst_case}");
    assert!(worst_abs <= 1e-9, "price error {worst_abs:e} of the spot");
    assert!(worst_delta <= 1e-9, "delta error {worst_delta:e}");
    assert!(worst_greek_rel <= 1e-8, "greek error {worst_greek_rel:e}");
}

#[test]
fn at_expiry_and_without_volatility_options_are_worth_their_intrinsic_value() {
    let mut i =
        OptionInputs { kind: OptionKind::Call, spot: 110 * ONE, strike: 100 * ONE, vol: 0, rate: 0, years: ONE };
    assert_eq!(black_scholes(&i).unwrap(), Greeks { price: 10 * ONE, delta: ONE, ..Greeks::default() });
    i.kind = OptionKind::Put;
    assert_eq!(black_scholes(&i).unwrap(), Greeks::default());
    i.vol = ONE / 2;
    i.years = 0;
    assert_eq!(black_scholes(&i).unwrap(), Greeks::default());
    i.strike = 120 * ONE;
    assert_eq!(black_scholes(&i).unwrap(), Greeks { price: 10 * ONE, delta: -ONE, ..Greeks::default() });
    for bad in [
        OptionInputs { spot: 0, ..i },
        OptionInputs { strike: -1, ..i },
        OptionInputs { vol: -1, ..i },
        OptionInputs { years: -1, ..i },
    ] {
        assert_eq!(black_scholes(&bad), None);
    }
}

#[test]
fn parse_and_format() {
    assert_eq!(parse_fixed("65000"), Some(65_000 * ONE));
    assert_eq!(parse_fixed("0.65"), Some(650_000_000_000));
    assert_eq!(parse_fixed("-0.000000000001"), Some(-1));
    assert_eq!(parse_fixed(".5"), Some(ONE / 2));
    for bad in ["", ".", "1.2.3", "1e5", "0.0000000000001", "abc", "--1"] {
        assert_eq!(parse_fixed(bad), None, "{bad}");
    }
    assert_eq!(format_fixed(1_234_567_890_123, 4), "1.2346");
    assert_eq!(format_fixed(-ONE / 2, 0), "-1");
    assert_eq!(format_fixed(-1, 6), "0.000000");
}

fn inputs() -> impl Strategy<Value = OptionInputs> {
    (1u64..1_000_000, 20u64..500, 5u64..300, 0u64..10, 1u64..17_520).prop_map(|(spot, m, vol, rate, hours)| {
        let spot = spot as i128 * ONE / 100;
        OptionInputs {
            kind: OptionKind::Call,
            spot,
            strike: spot * m as i128 / 100,
            vol: vol as i128 * ONE / 100,
            rate: rate as i128 * ONE / 100,
            years: hours as i128 * ONE / 8760,
        }
    })
}

proptest! {
    /// C - P = S - K e^-rT, and no-arbitrage bounds.
    #[test]
    fn put_call_parity_and_bounds(i in inputs()) {
        let call = black_scholes(&i).unwrap();
        let put = black_scholes(&OptionInputs { kind: OptionKind::Put, ..i }).unwrap();
        let pv_strike = mul(i.strike, exp(-mul(i.rate, i.years).unwrap()).unwrap()).unwrap();
        let parity = (call.price - put.price) - (i.spot - pv_strike);
        prop_assert!(parity.abs() <= i.spot / 1_000_000_000 + 10, "parity off by {parity}");
        prop_assert!(call.price >= (i.spot - pv_strike).max(0) - i.spot / 1_000_000_000 - 10);
        prop_assert!(call.price <= i.spot);
        prop_assert!(put.price <= pv_strike + 10);
        prop_assert!((0..=ONE).contains(&call.delta) && (-ONE..=0).contains(&put.delta));
        prop_assert!(call.delta - put.delta == ONE || (call.delta - put.delta - ONE).abs() <= 1);
        prop_assert!(call.gamma >= 0 && call.vega >= 0 && call.gamma == put.gamma && call.vega == put.vega);
    }

    /// More spot or more volatility never makes a call cheaper; a higher strike never dearer.
    #[test]
    fn call_prices_are_monotone(i in inputs(), bump in 1u64..1_000) {
        let base = black_scholes(&i).unwrap().price;
        let more_spot = black_scholes(&OptionInputs { spot: i.spot + i.spot * bump as i128 / 10_000, ..i }).unwrap().price;
        let more_vol = black_scholes(&OptionInputs { vol: i.vol + i.vol * bump as i128 / 10_000, ..i }).unwrap().price;
        let more_strike = black_scholes(&OptionInputs { strike: i.strike + i.strike * bump as i128 / 10_000, ..i }).unwrap().price;
        let tol = i.spot / 1_000_000_000 + 10;
        prop_assert!(more_spot >= base - tol);
        prop_assert!(more_vol >= base - tol);
        prop_assert!(more_strike <= base + tol);
    }
}
