//! Portfolio margin on the SBF binary: option lots revalued by `refresh_oracle` exactly as the
//! engine computes them, hedges across markets of one underlying needing less than their legs, and
//! order placement and withdrawals judged as the SDK predicts, to the unit, fresh and stale.

use meridian::{MarketKind, MeridianError, OracleStatus};
use meridian_engine::portfolio::LotRisk;
use meridian_engine::pricing::OptionKind;
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_program_tests::portfolio::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
    risk::{health_with, Valuation, PORTFOLIO},
};
use solana_sdk::signer::Signer;
use std::collections::BTreeMap;

struct Setup {
    h: Harness,
    fx: ExchangeFixture,
    btc: Underlying,
    maker: Trader,
}

/// BTC at $65,000 with a perpetual, a future and a 70,000 call expiring in 30 days; a maker with
/// deep pockets.
fn setup() -> Setup {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, meridian::ExchangeParams::default());
    h.set_clock(SLOT, TS);
    let btc = h.setup_underlying(&fx, "BTC", 65_000.0, 2, &[(MarketKind::Call, 70_000)], TS + 30 * DAY);
    let maker = h.funded_trader(&fx, 10_000_000 * USDC, 5_000_000 * USDC);
    Setup { h, fx, btc, maker }
}

impl Setup {
    fn perp(&self) -> MarketFixture {
        self.btc.linear[0]
    }
    fn future(&self) -> MarketFixture {
        self.btc.linear[1]
    }
    fn call(&self) -> MarketFixture {
        self.btc.options[0]
    }

    /// `taker` takes `lots` on `side` from the maker at `price` (the maker's order rests first).
    fn trade(&mut self, m: MarketFixture, taker: &Trader, side: Side, price: u64, lots: u64) {
        let maker_side = if side == Side::Bid { Side::Ask } else { Side::Bid };
        let maker = self.maker.clone_ref();
        self.h.place(&m, &maker, order::limit(maker_side, price, lots).post_only());
        let r = self.h.place(&m, taker, order::limit(side, price, lots).immediate_or_cancel());
        assert_eq!(r.filled_lots, lots);
    }

    /// Every market of the underlying, by index, as the SDK takes them.
    fn markets(&self) -> BTreeMap<u16, meridian::Market> {
        self.btc.all_markets().map(|m| (m.index, self.h.market(&m.accounts.market))).collect()
    }

    /// The trader's health by the SDK.
    fn health(&self, t: &Trader, valuation: Valuation) -> meridian_engine::margin::Health {
        health_with(&self.h.margin(&t.margin), &self.markets(), valuation).unwrap()
    }

    /// The account's free collateral as `withdraw` judges it, by the SDK.
    fn predicted_free(&self, t: &Trader, now_slot: u64) -> u64 {
        let collateral = self.h.margin(&t.margin).collateral as i128;
        self.health(t, Valuation::Conservative { now_slot }).initial_free().clamp(0, collateral) as u64
    }

    /// Withdrawing one unit more than the SDK predicts fails, exactly the prediction succeeds.
    fn withdraw_exactly_the_prediction(&mut self, t: &Trader, now_slot: u64) -> u64 {
        let free = self.predicted_free(t, now_slot);
        let account = self.h.margin(&t.margin);
        let markets: Vec<_> = account
            .positions_in_use()
            .map(|p| self.btc.all_markets().find(|m| m.index == p.market_index).unwrap().accounts.market)
            .collect();
        let wd = |amount| {
            ix::withdraw_checked(&self.fx.collateral, &t.margin, &t.owner.pubkey(), &t.token, amount, &markets)
        };
        let watched = [self.fx.exchange, t.margin, t.token, self.fx.collateral.vault];
        self.h.fails(&[wd(free + 1)], &[&t.owner], Expected::Meridian(MeridianError::InsufficientCollateral), &watched);
        self.h.ok(&[wd(free)], &[&t.owner]);
        free
    }
}

#[test]
fn refresh_revalues_option_lots_as_the_engine_does() {
    let s = setup();
    let o = s.h.oracle(&s.btc.oracle.address);
    let call = s.h.market(&s.call().accounts.market);
    assert_eq!((call.oracle_status, call.oracle_slot, call.lot_risk_ts), (OracleStatus::Valid as u8, SLOT, TS));
    // one lot is 0.01 BTC: $650 of underlying, a $700 strike
    let want = LotRisk::option(
        OptionKind::Call,
        650_000_000,
        700_000_000,
        PORTFOLIO.volatility(o.realized_vol as i128),
        TS,
        TS + 30 * DAY,
        &PORTFOLIO.grid,
    )
    .unwrap();
    assert_eq!(*call.lot_risk(), want, "the SBF binary computes the host's integers");
    assert!(want.now > 0 && want.now < 650_000_000 / 10, "an out-of-the-money call: {}", want.now);
    // the linear markets took the price as their mark; their lot risk is built per check
    assert_eq!(s.h.market(&s.future().accounts.market).mark_price, 650_000);
}

#[test]
fn a_hedge_needs_less_margin_than_its_legs() {
    let mut s = setup();
    // 5,000 USDC: a naked 1 BTC long needs 1.5 x 16% of 65,000 = 15,600
    let alice = s.h.funded_trader(&s.fx, 5_000 * USDC, 5_000 * USDC);
    let naked = s.h.place_ix(&s.perp(), &alice, order::limit(Side::Bid, 650_000, 10_000));
    let watched = [alice.margin, s.perp().accounts.market, s.perp().accounts.book];
    s.h.fails(&[naked], &[&alice.owner], Expected::Meridian(MeridianError::InsufficientMargin), &watched);
    // built up in 0.2 BTC steps, long the perpetual and short the future on the same oracle
    let (perp, future) = (s.perp(), s.future());
    for _ in 0..5 {
        s.trade(perp, &alice, Side::Bid, 650_000, 2_000);
        s.trade(future, &alice, Side::Ask, 650_000, 2_000);
    }
    let account = s.h.margin(&alice.margin);
    assert_eq!(account.positions_in_use().map(|p| p.base_lots).collect::<Vec<_>>(), [10_000, -10_000]);
    let markets = BTreeMap::from([
        (perp.index, s.h.market(&perp.accounts.market)),
        (future.index, s.h.market(&future.accounts.market)),
    ]);
    let h = health_with(&account, &markets, Valuation::Mark).unwrap();
    assert_eq!(h.maintenance, 0, "the legs offset in every scenario");
    assert!(h.initial_free() > 0);
    // closing one leg reduce-only would leave a naked 1 BTC short the 5,000 cannot carry: refused
    let maker = s.maker.clone_ref();
    s.h.place(&perp, &maker, order::limit(Side::Bid, 650_000, 10_000).post_only());
    let close =
        s.h.place_ix(&perp, &alice, order::limit(Side::Ask, 650_000, 10_000).immediate_or_cancel().reduce_only());
    let watched = [alice.margin, perp.accounts.market, perp.accounts.book];
    s.h.fails(&[close], &[&alice.owner], Expected::Meridian(MeridianError::InsufficientMargin), &watched);
    // a part the account can carry is fine
    let part = s.h.place(&perp, &alice, order::limit(Side::Ask, 650_000, 1_000).immediate_or_cancel().reduce_only());
    assert_eq!(part.filled_lots, 1_000);
    s.h.crank(&perp, &s.maker.margin);
    s.h.crank(&future, &s.maker.margin);
    s.h.assert_conserved(&s.fx);
    s.h.assert_markets_balanced(&s.fx);
}

#[test]
fn a_covered_call_withdraws_what_the_sdk_predicts_fresh_and_stale() {
    let mut s = setup();
    let alice = s.h.funded_trader(&s.fx, 40_000 * USDC, 40_000 * USDC);
    let (perp, call) = (s.perp(), s.call());
    // long 1 BTC, then short 100 calls of 0.01 BTC at the model value
    s.trade(perp, &alice, Side::Bid, 650_000, 10_000);
    let premium_ticks = (s.h.market(&call.accounts.market).lot_risk().now / 1_000) as u64;
    s.trade(call, &alice, Side::Ask, premium_ticks, 100);

    // the hedge: less required than the perpetual alone plus the calls alone
    let account = s.h.margin(&alice.margin);
    let markets = s.markets();
    let legs: Vec<i128> = (0..2)
        .map(|i| {
            let mut one = account;
            let keep = account.positions_in_use().nth(i).unwrap().market_index;
            for slot in 0..16 {
                if one.position(slot).market_index != keep {
                    *one.position_mut(slot) = meridian_engine::position::Position::default();
                }
            }
            health_with(&one, &markets, Valuation::Mark).unwrap().maintenance
        })
        .collect();
    let both = health_with(&account, &markets, Valuation::Mark).unwrap().maintenance;
    assert!(both < legs[0] + legs[1], "covered call {both} vs legs {legs:?}");

    let fresh = s.withdraw_exactly_the_prediction(&alice, SLOT);
    assert!(fresh > 0);
    // stale: the option at its worst scenario for a short, the perpetual at the band's low end
    s.h.set_clock(SLOT + 51, TS + 20);
    let stale = s.health(&alice, Valuation::Conservative { now_slot: SLOT + 51 });
    assert!(stale.initial_free() < s.health(&alice, Valuation::Mark).initial_free(), "stale valuations are worse");
    // selling more calls on a stale underlying is refused; buying them back is not (from the
    // maker, whose offer reduces its own long)
    let maker = s.maker.clone_ref();
    let more = s.h.place_ix(&call, &alice, order::limit(Side::Ask, premium_ticks, 10).immediate_or_cancel());
    let watched = [alice.margin, call.accounts.market, call.accounts.book];
    s.h.fails(&[more], &[&alice.owner], Expected::Meridian(MeridianError::OracleNotUsable), &watched);
    s.h.crank(&call, &maker.margin); // the maker's fills apply when cranked
    s.h.place(&call, &maker, order::limit(Side::Ask, premium_ticks, 10).post_only().reduce_only());
    let back = s.h.place(&call, &alice, order::limit(Side::Bid, premium_ticks, 10).immediate_or_cancel().reduce_only());
    assert_eq!(back.filled_lots, 10);
    s.h.deposit(&s.fx, &alice, 10_000 * USDC);
    assert!(s.withdraw_exactly_the_prediction(&alice, SLOT + 51) > 0);
    for m in [perp, call] {
        s.h.crank(&m, &s.maker.margin.clone());
    }
    s.h.assert_conserved(&s.fx);
    s.h.assert_markets_balanced(&s.fx);
}

#[test]
fn an_option_keeps_its_own_rule_until_its_lot_is_revalued() {
    let mut s = setup();
    // an option traded before it had an oracle: the market's own rule
    let fx = &s.fx;
    let put = s.h.setup_market(
        fx,
        meridian::MarketParams {
            initial_mark_price: 5_000,
            ..option_params("BTC-P60", MarketKind::Put, 60_000, TS + 7 * DAY)
        },
    );
    let alice = s.h.funded_trader(&s.fx, 40_000 * USDC, 40_000 * USDC);
    s.trade(put, &alice, Side::Ask, 5_000, 100);
    let health = |s: &Setup| {
        let account = s.h.margin(&alice.margin);
        let m = s.h.market(&put.accounts.market);
        health_with(&account, &BTreeMap::from([(put.index, m)]), Valuation::Mark).unwrap()
    };
    let own_rule = health(&s);
    // linked: until a refresh revalues its lot, nothing changes (a zero lot risk would need nothing)
    let link = ix::set_market_oracle(&s.fx.exchange, &s.fx.admin.pubkey(), &put.accounts.market, &s.btc.oracle.address);
    s.h.ok(&[link], &[&s.fx.admin]);
    assert_eq!(s.h.market(&put.accounts.market).lot_risk_ts, 0);
    assert_eq!(health(&s), own_rule);
    let wd = |amount| {
        ix::withdraw_checked(
            &s.fx.collateral,
            &alice.margin,
            &alice.owner.pubkey(),
            &alice.token,
            amount,
            &[put.accounts.market],
        )
    };
    let free = own_rule.initial_free().min(40_000 * USDC as i128) as u64;
    let watched = [alice.margin, alice.token, s.fx.collateral.vault];
    s.h.fails(&[wd(free + 1)], &[&alice.owner], Expected::Meridian(MeridianError::InsufficientCollateral), &watched);
    // revalued: the portfolio engine (a short put's scenarios and minimum)
    s.h.set_sources(&s.btc.oracle, &[65_000.0; 3]);
    s.h.ok(&[s.btc.oracle.refresh_markets_ix(&[put.accounts.market])], &[]);
    let portfolio = health(&s);
    assert_ne!(portfolio, own_rule);
    assert!(portfolio.maintenance >= 100 * 6_500_000, "at least 1% of the underlying per short lot");
    s.h.crank(&put, &s.maker.margin.clone());
    s.h.assert_conserved(&s.fx);
}

#[test]
fn a_stale_or_missing_lot_risk_is_not_usable() {
    let mut s = setup();
    // an option linked but never pushed takes no risk-increasing orders
    let fx = &s.fx;
    let late = s.h.setup_market(fx, option_params("BTC-LATE", MarketKind::Put, 60_000, TS + 7 * DAY));
    let link = ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &late.accounts.market, &s.btc.oracle.address);
    s.h.ok(&[link], &[&fx.admin]);
    let alice = s.h.funded_trader(&s.fx, 40_000 * USDC, 40_000 * USDC);
    let buy = s.h.place_ix(&late, &alice, order::limit(Side::Bid, 100, 1));
    let watched = [alice.margin, late.accounts.market, late.accounts.book];
    s.h.fails(&[buy], &[&alice.owner], Expected::Meridian(MeridianError::OracleNotUsable), &watched);
    // pushed: accepted
    s.h.push_underlying(&s.btc);
    s.h.set_sources(&s.btc.oracle, &[65_000.0; 3]);
    s.h.ok(&[s.btc.oracle.refresh_markets_ix(&[late.accounts.market])], &[]);
    assert_eq!(s.h.market(&late.accounts.market).oracle_status, OracleStatus::Valid as u8);
    s.h.place(&late, &alice, order::limit(Side::Bid, 100, 1));
}
