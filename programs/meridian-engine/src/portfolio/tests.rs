use super::*;
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
const GRID: Grid = Grid::standard();
/// BTC at 65,000 USDC (6 decimals): a perpetual lot is 0.0001 BTC, an option lot 0.01 BTC.
const PERP_LOT: i64 = 6_500_000;
const OPTION_LOT_SPOT: i64 = 650_000_000;
const VOL: i128 = ONE_12 * 6 / 10;

fn perp(lots: i64) -> (Holding, LotRisk) {
    // bought at the mark
    let h = Holding { base_lots: lots, quote_balance: -lots * PERP_LOT, ..Holding::default() };
    (h, LotRisk::linear(PERP_LOT, &GRID).unwrap())
}

fn option(kind: OptionKind, strike_usd: i64, days: i64, lots: i64) -> (Holding, LotRisk) {
    let r = LotRisk::option(kind, OPTION_LOT_SPOT, strike_usd * 10_000, VOL, NOW, NOW + days * DAY, &GRID).unwrap();
    // traded at the model value
    (Holding { base_lots: lots, quote_balance: -lots * r.now, ..Holding::default() }, r)
}

fn maintenance(holdings: Vec<(Holding, LotRisk)>) -> i128 {
    portfolio_health(0, &[holdings], &RiskParams::standard()).unwrap().maintenance
}

#[test]
fn a_linear_position_needs_its_worst_16_percent_move() {
    // 1 BTC = 10,000 lots; 16% of 65,000 = 10,400 USDC
    let p = RiskParams { concentration_threshold: i128::MAX / 4, ..RiskParams::standard() };
    let h = portfolio_health(0, &[vec![perp(10_000)]], &p).unwrap();
    assert_eq!(h.maintenance, 10_400_000_000);
    assert_eq!(h.initial, 15_600_000_000);
    assert_eq!(h.liquidation_end, 12_480_000_000);
    assert!(h.initial > h.liquidation_end && h.liquidation_end > h.maintenance);
    assert_eq!(h.equity, 0, "bought at the mark");
    // a short needs the same for the rise
    assert_eq!(portfolio_health(0, &[vec![perp(-10_000)]], &p).unwrap().maintenance, 10_400_000_000);
}

#[test]
fn linear_shocks_round_away_from_zero() {
    let r = LotRisk::linear(1_001, &GRID).unwrap();
    // 16% of 1,001 = 160.16: the lot falls to 840 and rises to 1,162
    assert_eq!((r.shocked[0], r.shocked[26]), (1_001 - 161, 1_001 + 161));
    assert_eq!(r.shocked[12..15], [1_001; 3], "no move: every vol column");
}

#[test]
fn hedges_need_less_than_their_legs() {
    // covered call: long 1 BTC, short 100 x 0.01 BTC 70k calls
    let (long, call) = (perp(10_000), option(OptionKind::Call, 70_000, 30, -100));
    assert!(maintenance(vec![long, call]) < maintenance(vec![long]) + maintenance(vec![call]));
    // protective put
    let put = option(OptionKind::Put, 60_000, 30, 100);
    assert!(maintenance(vec![long, put]) < maintenance(vec![long]));
    // a long and an equal short perp: nothing at risk
    assert_eq!(maintenance(vec![perp(10_000), perp(-10_000)]), 0);
    // calendar spread (long the far, short the near call) needs less than the short alone
    let (near, far) = (option(OptionKind::Call, 65_000, 7, -100), option(OptionKind::Call, 65_000, 60, 100));
    assert!(maintenance(vec![near, far]) < maintenance(vec![near]));
    // the same legs on two different underlyings do not offset
    let apart = portfolio_health(0, &[vec![perp(10_000)], vec![perp(-10_000)]], &RiskParams::standard()).unwrap();
    assert_eq!(apart.maintenance, 2 * 10_400_000_000);
}

#[test]
fn short_options_pay_at_least_the_minimum() {
    // far out of the money: the grid sees little, the 1% minimum of 1 BTC (650 USDC) applies
    let far = option(OptionKind::Call, 200_000, 1, -100);
    assert!(maintenance(vec![far]) >= 650_000_000);
    // resting asks count as future shorts
    let (mut quoting, r) = option(OptionKind::Call, 200_000, 1, 0);
    quoting.ask_lots = 100;
    quoting.ask_notional = 1;
    assert!(maintenance(vec![(quoting, r)]) >= 650_000_000);
}

#[test]
fn resting_orders_count_with_their_worst_case() {
    // flat with 10,000 lots bid and 5,000 offered: the bids filling is the worst case
    let (mut h, r) = perp(0);
    h.bid_lots = 10_000;
    h.bid_notional = 10_000 * PERP_LOT as u64;
    h.ask_lots = 5_000;
    h.ask_notional = 5_000 * PERP_LOT as u64;
    let p = RiskParams { concentration_threshold: i128::MAX / 4, ..RiskParams::standard() };
    assert_eq!(portfolio_health(0, &[vec![(h, r)]], &p).unwrap().maintenance, 10_400_000_000);
}

#[test]
fn concentration_adds_on_beyond_the_threshold() {
    let p = RiskParams { concentration_threshold: 65_000_000_000, ..RiskParams::standard() }; // 1 BTC
    let two = portfolio_health(0, &[vec![perp(20_000)]], &p).unwrap().maintenance;
    // 2 BTC: grid 20,800 USDC + 2% of the 65,000 above the threshold
    assert_eq!(two, 20_800_000_000 + 1_300_000_000);
}

#[test]
fn unrealized_profit_counts_after_the_haircut_losses_in_full() {
    let p = RiskParams::standard();
    let (h, _) = perp(10_000);
    let up = LotRisk::linear(PERP_LOT + 100_000, &GRID).unwrap(); // 66,000: +1,000 USDC
    assert_eq!(portfolio_health(5, &[vec![(h, up)]], &p).unwrap().equity, 5 + 800_000_000);
    let down = LotRisk::linear(PERP_LOT - 100_000, &GRID).unwrap();
    assert_eq!(portfolio_health(5, &[vec![(h, down)]], &p).unwrap().equity, 5 - 1_000_000_000);
}

#[test]
fn the_haircut_is_per_holding_so_settling_a_loss_leaves_equity_unchanged() {
    let p = RiskParams::standard();
    let (long, _) = perp(10_000);
    let up = LotRisk::linear(PERP_LOT + 100_000, &GRID).unwrap(); // long +1,000 USDC
    let short = Holding { base_lots: -10_000, quote_balance: 10_000 * PERP_LOT, ..Holding::default() };
    // a long and a short on two markets of the same underlying: +1,000 and -1,000
    let before = portfolio_health(5_000_000_000, &[vec![(long, up), (short, up)]], &p).unwrap();
    assert_eq!(before.equity, 5_000_000_000 + 800_000_000 - 1_000_000_000, "the profit is haircut on its own");
    // the short's loss settled: 1,000 from collateral into its quote balance
    let settled = Holding { quote_balance: short.quote_balance + 1_000_000_000, ..short };
    let after = portfolio_health(4_000_000_000, &[vec![(long, up), (settled, up)]], &p).unwrap();
    assert_eq!(after.equity, before.equity);
    assert_eq!(after.maintenance, before.maintenance);
}

#[test]
fn stale_lots_are_valued_at_the_worse_end_of_their_range() {
    let p = RiskParams::standard();
    let health = |holdings: &[(Holding, LotRisk)], stale: bool| {
        let mut pf = Portfolio::with_capacity(1);
        for (h, r) in holdings {
            let band = if stale && r.is_option == 1 { r.range() } else { (r.now, r.now) };
            pf.add_in_band(0, h, r, band, &p).unwrap();
        }
        pf.health(0, &p).unwrap()
    };
    let (long, r) = option(OptionKind::Call, 65_000, 30, 100);
    let (lo, hi) = r.range();
    assert!(lo < r.now && r.now < hi);
    // alone or hedged, long or short: the equity falls to the worse end, the requirement stays
    let (short, _) = option(OptionKind::Call, 65_000, 30, -100);
    let (perp_short, lr) = perp(-5_000);
    for (holdings, end) in [(vec![(long, r)], lo), (vec![(long, r), (perp_short, lr)], lo), (vec![(short, r)], hi)] {
        let (fresh, stale) = (health(&holdings, false), health(&holdings, true));
        assert_eq!(stale.maintenance, fresh.maintenance);
        assert_eq!(fresh.equity - stale.equity, (holdings[0].0.base_lots as i128 * (r.now - end) as i128).abs());
    }
    // resting orders on the other side cannot make a stale holding worth more: a long with an ask
    // below its value loses on the ask at the high end
    let mut quoting = long;
    quoting.ask_lots = 100;
    quoting.ask_notional = 100 * (r.now as u64 / 2);
    let (fresh, stale) = (health(&[(quoting, r)], false), health(&[(quoting, r)], true));
    assert!(stale.equity <= fresh.equity, "{} > {}", stale.equity, fresh.equity);
}

#[test]
fn greeks_of_a_book() {
    let one_btc = |(h, r): (Holding, LotRisk)| greeks([(&h, &r)]);
    assert_eq!(one_btc(perp(10_000)).delta_value, 65_000_000_000, "1 BTC");
    let call = one_btc(option(OptionKind::Call, 65_000, 30, 100));
    let delta = call.delta_value as f64 / 65e9;
    assert!(delta > 0.45 && delta < 0.6, "{delta}");
    assert!(call.gamma_1pct > 0 && call.vega_1pt > 0 && call.theta_1d < 0);
    let put = one_btc(option(OptionKind::Put, 65_000, 30, 100));
    assert!((call.delta_value - put.delta_value - 65_000_000_000).abs() < 1_000, "parity: call - put delta = 1 BTC");
    let (hp, rp) = perp(-5_300);
    let (hc, rc) = option(OptionKind::Call, 65_000, 30, 100);
    let hedged = greeks([(&hp, &rp), (&hc, &rc)]);
    assert!(hedged.delta_value.abs() < 65_000_000_000 / 20, "delta-hedged: {}", hedged.delta_value);
    assert!(RiskParams::standard().volatility(ONE_12 / 10) == ONE_12 * 3 / 10, "floor");
    assert!(RiskParams::standard().volatility(ONE_12 * 9) == ONE_12 * 5, "bound");
}

/// The per-scenario sum of extremes equals the plain definition: the worst of three order cases.
#[test]
fn extremes_equal_the_three_order_cases() {
    let (mut h, r) = option(OptionKind::Put, 60_000, 30, -7);
    h.bid_lots = 3;
    h.ask_lots = 11;
    let mut u = UnderlyingRisk::default();
    u.add(&h, &r, &RiskParams::standard()).unwrap();
    for s in 0..SCENARIOS {
        let per_lot = (r.now - r.shocked[s]) as i128;
        let cases = [-7i128, -7 + 3, -7 - 11].map(|lots| lots * per_lot);
        assert_eq!(u.loss(s), *cases.iter().max().unwrap());
    }
}

fn arb_holding() -> impl Strategy<Value = (Holding, LotRisk)> {
    (0u8..3, 40_000i64..100_000, 1i64..120, -200i64..200, 0u64..50, 0u64..50).prop_map(
        |(k, strike, days, lots, bids, asks)| {
            let (mut h, r) = match k {
                0 => perp(lots * 50),
                1 => option(OptionKind::Call, strike, days, lots),
                _ => option(OptionKind::Put, strike, days, lots),
            };
            h.bid_lots = bids;
            h.ask_lots = asks;
            h.bid_notional = bids * 1_000;
            h.ask_notional = asks * 1_000;
            (h, r)
        },
    )
}

/// Scenario losses of many holdings, small and huge (the i64 path and the checked i128 path), equal
/// the plain i128 sums.
#[test]
fn fast_and_wide_accumulation_agree() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |bits: u32| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> (64 - bits)) as i64
    };
    for _ in 0..200 {
        let mut u = UnderlyingRisk::default();
        let mut want = [0i128; SCENARIOS];
        for _ in 0..40 {
            // ordinary, huge values with small lots, huge lots with small values
            let (lot_bits, value_bits) = [(20, 30), (20, 30), (10, 50), (40, 20)][next(2) as usize];
            let h = Holding {
                base_lots: next(lot_bits) - (1 << (lot_bits - 1)),
                bid_lots: next(lot_bits - 2) as u64,
                ask_lots: next(lot_bits - 2) as u64,
                ..Holding::default()
            };
            let mut r = LotRisk::linear(next(value_bits).max(1), &GRID).unwrap();
            for v in r.shocked.iter_mut() {
                *v = next(value_bits);
            }
            let r = r.with_max_move();
            u.add(&h, &r, &RiskParams::standard()).unwrap();
            for (s, w) in want.iter_mut().enumerate() {
                let drop = (r.now - r.shocked[s]) as i128;
                let cases = [
                    h.base_lots as i128,
                    h.base_lots as i128 + h.bid_lots as i128,
                    h.base_lots as i128 - h.ask_lots as i128,
                ];
                *w += cases.iter().map(|l| l * drop).max().unwrap();
            }
        }
        for (s, w) in want.iter().enumerate() {
            assert_eq!(u.loss(s), *w);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn requirements_are_never_negative_and_ordered(holdings in prop::collection::vec(arb_holding(), 0..5)) {
        let h = portfolio_health(0, &[holdings], &RiskParams::standard()).unwrap();
        prop_assert!(h.maintenance >= 0);
        prop_assert!(h.initial >= h.liquidation_end && h.liquidation_end >= h.maintenance);
    }

    #[test]
    fn requirements_grow_with_size(holdings in prop::collection::vec(arb_holding(), 1..4), k in 2i64..5) {
        let scaled: Vec<(Holding, LotRisk)> = holdings.iter().map(|(h, r)| (Holding {
            base_lots: h.base_lots * k,
            bid_lots: h.bid_lots * k as u64,
            ask_lots: h.ask_lots * k as u64,
            ..*h
        }, *r)).collect();
        prop_assert!(maintenance(scaled) >= maintenance(holdings));
    }

    #[test]
    fn option_lot_risk_is_deterministic_and_bounded(strike in 20_000i64..200_000, days in 0i64..400, put in any::<bool>()) {
        let kind = if put { OptionKind::Put } else { OptionKind::Call };
        let (_, r) = option(kind, strike, days, 1);
        prop_assert_eq!(Some(r), LotRisk::option(kind, OPTION_LOT_SPOT, strike * 10_000, VOL, NOW, NOW + days * DAY, &GRID));
        // a call is worth at most the underlying, a put at most the strike; neither below zero
        let cap = if put { strike * 10_000 } else { OPTION_LOT_SPOT * 116 / 100 + 1 };
        prop_assert!(r.shocked.iter().chain([&r.now]).all(|v| (0..=cap).contains(v)));
    }
}
