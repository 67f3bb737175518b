use super::*;
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
/// BTC: 8 decimals, lot 0.0001 BTC; USDC 6 decimals.
const BTC: LotScale = LotScale { quote_decimals: 6, base_decimals: 8, base_lot_size: 10_000 };
/// Option lots of 0.01 BTC.
const BTC_OPT: LotScale = LotScale { quote_decimals: 6, base_decimals: 8, base_lot_size: 1_000_000 };

fn usd(x: i128) -> i128 {
    x * ONE
}

fn u() -> Underlying {
    Underlying { spot: usd(65_000), vol: ONE * 6 / 10, now_ts: NOW }
}

fn perp(lots: i64) -> Holding {
    Holding {
        instrument: Instrument::Linear,
        scale: BTC,
        base_lots: lots,
        quote_balance: -(lots as i128 * 6_500_000) as i64, // bought at 65,000
        bid_lots: 0,
        ask_lots: 0,
        bid_notional: 0,
        ask_notional: 0,
        mark: usd(65_000),
    }
}

fn option(kind: OptionKind, strike: i128, days: i64, lots: i64) -> Holding {
    let instrument = Instrument::Option { kind, strike: usd(strike), expiry_ts: NOW + days * DAY };
    let mark = match lot_value(&instrument, &LotScale { base_lot_size: 100_000_000, ..BTC }, usd(65_000), ONE * 6 / 10, NOW) {
        Some(v) => v * 1_000_000, // native per BTC (6 decimals) back to 12-decimal price
        None => 0,
    };
    Holding {
        instrument,
        scale: BTC_OPT,
        base_lots: lots,
        quote_balance: -(BTC_OPT.value(mark, lots as i128).unwrap() as i64),
        bid_lots: 0,
        ask_lots: 0,
        bid_notional: 0,
        ask_notional: 0,
        mark,
    }
}

fn maintenance(holdings: Vec<Holding>) -> i128 {
    portfolio_health(0, &[(u(), holdings)], &RiskParams::standard()).unwrap().maintenance
}

#[test]
fn a_linear_position_needs_its_worst_16_percent_move() {
    // 1 BTC = 10,000 lots; 16% of 65,000 = 10,400 USDC
    let p = RiskParams { concentration_threshold: i128::MAX / 4, ..RiskParams::standard() };
    let h = portfolio_health(0, &[(u(), vec![perp(10_000)])], &p).unwrap();
    assert_eq!(h.maintenance, 10_400_000_000);
    assert_eq!(h.initial, 15_600_000_000);
    assert_eq!(h.liquidation_end, 12_480_000_000);
    assert!(h.initial > h.liquidation_end && h.liquidation_end > h.maintenance);
    assert_eq!(h.equity, 0, "bought at the mark");
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
}

#[test]
fn short_options_pay_at_least_the_minimum() {
    // far out of the money: the grid sees little, the 1% minimum of 1 BTC (650 USDC) applies
    let far = option(OptionKind::Call, 200_000, 1, -100);
    assert!(maintenance(vec![far]) >= 650_000_000);
    // resting asks count as future shorts
    let mut quoting = option(OptionKind::Call, 200_000, 1, 0);
    quoting.ask_lots = 100;
    quoting.ask_notional = 1;
    assert!(maintenance(vec![quoting]) >= 650_000_000);
}

#[test]
fn concentration_adds_on_beyond_the_threshold() {
    let p = RiskParams { concentration_threshold: 65_000_000_000, ..RiskParams::standard() }; // 1 BTC
    let two = portfolio_health(0, &[(u(), vec![perp(20_000)])], &p).unwrap().maintenance;
    // 2 BTC: grid 20,800 USDC + 2% of the 65,000 above the threshold
    assert_eq!(two, 20_800_000_000 + 1_300_000_000);
}

#[test]
fn unrealized_profit_counts_after_the_haircut_losses_in_full() {
    let mut winner = perp(10_000);
    winner.mark = usd(66_000); // +1,000 USDC
    let p = RiskParams::standard();
    assert_eq!(portfolio_health(5, &[(u(), vec![winner])], &p).unwrap().equity, 5 + 800_000_000);
    let mut loser = perp(10_000);
    loser.mark = usd(64_000);
    assert_eq!(portfolio_health(5, &[(u(), vec![loser])], &p).unwrap().equity, 5 - 1_000_000_000);
}

#[test]
fn greeks_of_a_book() {
    let g = greeks(&[perp(10_000)], &u()).unwrap();
    assert_eq!(g.delta, ONE, "1 BTC");
    let call = greeks(&[option(OptionKind::Call, 65_000, 30, 100)], &u()).unwrap();
    assert!(call.delta > ONE * 45 / 100 && call.delta < ONE * 60 / 100, "{}", call.delta);
    assert!(call.gamma > 0 && call.vega > 0 && call.theta < 0);
    let put = greeks(&[option(OptionKind::Put, 65_000, 30, 100)], &u()).unwrap();
    assert!((call.delta - put.delta - ONE).abs() < ONE / 1_000_000, "parity: call - put delta = 1");
    let hedged = greeks(&[perp(-5_300), option(OptionKind::Call, 65_000, 30, 100)], &u()).unwrap();
    assert!(hedged.delta.abs() < ONE / 20, "delta-hedged: {}", hedged.delta);
    assert!(RiskParams::standard().volatility(ONE / 10) == ONE * 3 / 10, "floor");
    assert!(RiskParams::standard().volatility(ONE * 9) == ONE * 5, "bound");
}

fn arb_holding() -> impl Strategy<Value = Holding> {
    (0u8..3, 40_000i128..100_000, 1i64..120, -200i64..200, 0u64..50, 0u64..50).prop_map(|(k, strike, days, lots, bids, asks)| {
        let mut h = match k {
            0 => perp(lots * 50),
            1 => option(OptionKind::Call, strike, days, lots),
            _ => option(OptionKind::Put, strike, days, lots),
        };
        h.bid_lots = bids;
        h.ask_lots = asks;
        h.bid_notional = bids * 1_000;
        h.ask_notional = asks * 1_000;
        h
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn requirements_are_never_negative_and_ordered(holdings in prop::collection::vec(arb_holding(), 0..5)) {
        let h = portfolio_health(0, &[(u(), holdings)], &RiskParams::standard()).unwrap();
        prop_assert!(h.maintenance >= 0);
        prop_assert!(h.initial >= h.liquidation_end && h.liquidation_end >= h.maintenance);
    }

    #[test]
    fn requirements_grow_with_size(holdings in prop::collection::vec(arb_holding(), 1..4), k in 2i64..5) {
        let scaled: Vec<Holding> = holdings.iter().map(|h| Holding {
            base_lots: h.base_lots * k,
            bid_lots: h.bid_lots * k as u64,
            ask_lots: h.ask_lots * k as u64,
            ..*h
        }).collect();
        prop_assert!(maintenance(scaled) >= maintenance(holdings));
    }
}
