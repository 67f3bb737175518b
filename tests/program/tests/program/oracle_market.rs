//! Markets priced by an oracle aggregate, on the SBF binary: `set_market_oracle`, the price pushed
//! by `refresh_oracle`, and what a stale or degraded oracle means: no risk-increasing orders,
//! withdrawals judged at the conservative price (as the SDK computes it, to the unit).

use meridian::CancelSide;
use meridian::{ExchangeParams, MeridianError, OracleStatus};
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_program_tests::oracle::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
    risk::{health_with, Valuation},
};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::collections::BTreeMap;

struct Setup {
    h: Harness,
    fx: ExchangeFixture,
    m: MarketFixture,
    o: OracleFixture,
    alice: Trader,
    bob: Trader,
}

/// BTC-PERP (lot 0.0001 BTC, tick $0.1) priced by a 3-source BTC oracle; two funded traders.
fn setup() -> Setup {
    let mut w = Scenario::oracle_market().traders(2, 200_000 * USDC, 100_000 * USDC).build();
    let [alice, bob] = w.take_traders();
    Setup { o: w.o.expect("oracle scenario"), h: w.h, fx: w.fx, m: w.m, alice, bob }
}

impl Setup {
    fn push(&mut self, dollars: &[f64]) {
        self.h.set_sources(&self.o, dollars);
        let ix = self.o.refresh_markets_ix(&[self.m.accounts.market]);
        self.h.ok(&[ix], &[]);
    }
    fn fails(&mut self, t: &Trader, args: meridian::PlaceOrderArgs, e: MeridianError) {
        let ix = self.h.place_ix(&self.m, t, args);
        let watched = [self.fx.exchange, self.m.accounts.market, self.m.accounts.book, t.margin];
        self.h.fails(&[ix], &[&t.owner], Expected::Meridian(e), &watched);
    }
}

#[test]
fn the_oracle_sets_the_mark_and_fills_do_not() {
    let mut s = setup();
    let market = s.h.market(&s.m.accounts.market);
    assert_eq!((market.oracle, market.oracle_status), (s.o.address, 0));
    // linked but no price pushed yet: only reduce-only orders
    s.fails(&s.alice.clone_ref(), order::limit(Side::Bid, 640_000, 1), MeridianError::OracleNotUsable);

    s.push(&[65_000.0, 65_010.0, 64_990.0]);
    let market = s.h.market(&s.m.accounts.market);
    assert_eq!((market.mark_price, market.oracle_status, market.oracle_slot), (650_000, 1, SLOT));
    // confidence: the band covers the sources 10 away with their 0.05% ($32.505): 425.05 ticks, up
    assert_eq!(market.oracle_conf, 426);
    assert_eq!(market.oracle_max_age_slots, 50);

    // a trade away from the oracle leaves the mark alone
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    s.h.place(&s.m, &bob, order::limit(Side::Ask, 660_000, 10).post_only());
    let r = s.h.place(&s.m, &alice, order::limit(Side::Bid, 660_000, 10).immediate_or_cancel());
    assert_eq!(r.filled_lots, 10);
    assert_eq!(s.h.market(&s.m.accounts.market).mark_price, 650_000);

    // the next push moves it
    s.h.set_clock(SLOT + 1, TS + 1);
    s.push(&[66_000.0, 66_000.0, 66_000.0]);
    assert_eq!(s.h.market(&s.m.accounts.market).mark_price, 660_000);
    s.h.assert_conserved(&s.fx);
}

#[test]
fn a_stale_or_degraded_oracle_takes_only_reduce_only_orders() {
    let mut s = setup();
    s.push(&[65_000.0, 65_000.0, 65_000.0]);
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    s.h.place(&s.m, &bob, order::limit(Side::Ask, 650_000, 100).post_only());
    s.h.place(&s.m, &alice, order::limit(Side::Bid, 650_000, 100).immediate_or_cancel());
    s.h.place(&s.m, &bob, order::limit(Side::Bid, 640_000, 100).post_only());

    // 50 slots after the push: still usable; 51: stale
    s.h.set_clock(SLOT + 50, TS + 20);
    s.h.place(&s.m, &alice, order::limit(Side::Bid, 600_000, 1));
    s.h.set_clock(SLOT + 51, TS + 20);
    s.fails(&alice, order::limit(Side::Bid, 600_000, 1), MeridianError::OracleNotUsable);
    s.fails(&alice, order::limit(Side::Ask, 700_000, 1), MeridianError::OracleNotUsable);
    // reducing the long is still possible (and fills against bob's bid)
    let r = s.h.place(&s.m, &alice, order::limit(Side::Ask, 640_000, 40).immediate_or_cancel().reduce_only());
    assert_eq!(r.filled_lots, 40);
    // cancels too
    let ix = ix::cancel_all_orders(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), CancelSide::Both, 0);
    s.h.ok(&[ix], &[&alice.owner]);

    // fresh sources but divergent: degraded, the market says so
    s.push(&[65_000.0, 65_000.0, 70_000.0]);
    let market = s.h.market(&s.m.accounts.market);
    assert_eq!(market.oracle_status, OracleStatus::Divergent as u8);
    assert_eq!(market.mark_price, 650_000, "the median");
    assert!(market.oracle_conf >= 50_000, "the confidence covers the divergent source ($5,000)");
    s.fails(&alice, order::limit(Side::Bid, 600_000, 1), MeridianError::OracleNotUsable);
    s.push(&[65_100.0, 65_100.0, 65_100.0]);
    s.h.place(&s.m, &alice, order::limit(Side::Bid, 600_000, 1));
    s.h.assert_conserved(&s.fx);
}

#[test]
fn withdrawals_use_the_conservative_price_when_the_oracle_is_not_usable() {
    let mut s = setup();
    s.push(&[65_000.0, 65_020.0, 64_980.0]);
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    // alice long 1 BTC
    s.h.place(&s.m, &bob, order::limit(Side::Ask, 650_000, 10_000).post_only());
    s.h.place(&s.m, &alice, order::limit(Side::Bid, 650_000, 10_000).immediate_or_cancel());
    let free = |s: &Setup, valuation| {
        let account = s.h.margin(&alice.margin);
        let markets = BTreeMap::from([(0u16, s.h.market(&s.m.accounts.market))]);
        let h = health_with(&account, &markets, valuation).unwrap();
        (h.initial_free().min(account.collateral as i128)) as u64
    };
    let at_mark = free(&s, Valuation::Mark);
    s.h.set_clock(SLOT + 51, TS + 20);
    let conservative = free(&s, Valuation::Conservative { now_slot: SLOT + 51 });
    let conf = s.h.market(&s.m.accounts.market).oracle_conf;
    // 1 BTC valued 'conf' ticks lower (10 USDC units per tick per lot), and the portfolio engine's
    // initial requirement (1.5 x its worst 16% move, rounded up per lot) measured from the band's
    // top, 'conf' ticks higher
    let initial = |per_lot: u64| 10_000 * (per_lot * 1_600).div_ceil(10_000) * 3 / 2;
    let value_lost = 10_000 * conf * 10;
    assert_eq!(at_mark - conservative, value_lost + (initial((650_000 + conf) * 10) - initial(6_500_000)));
    let watched = [s.fx.exchange, alice.margin, alice.token, s.fx.collateral.vault];
    let too_much = meridian_sdk::ix::withdraw_checked(
        &s.fx.collateral,
        &alice.margin,
        &alice.owner.pubkey(),
        &alice.token,
        conservative + 1,
        &[s.m.accounts.market],
    );
    s.h.fails(&[too_much], &[&alice.owner], Expected::Meridian(MeridianError::InsufficientCollateral), &watched);
    let exact = meridian_sdk::ix::withdraw_checked(
        &s.fx.collateral,
        &alice.margin,
        &alice.owner.pubkey(),
        &alice.token,
        conservative,
        &[s.m.accounts.market],
    );
    s.h.ok(&[exact], &[&alice.owner]);
    s.h.assert_conserved(&s.fx);
}

#[test]
fn linking_and_pushing_are_checked() {
    let mut s = setup();
    let intruder = Keypair::new();
    s.h.svm.airdrop(&intruder.pubkey(), 1_000_000_000).unwrap();
    let link = ix::set_market_oracle(&s.fx.exchange, &intruder.pubkey(), &s.m.accounts.market, &s.o.address);
    s.h.fails(&[link], &[&intruder], Expected::Meridian(MeridianError::NotAdmin), &[s.m.accounts.market]);
    // an oracle of another exchange
    let other = s.h.setup_exchange(6, SPL_TOKEN, ExchangeParams { index: 1, ..Default::default() });
    let foreign = s.h.setup_oracle(&other, "BTC", 1, 0, None);
    let link = ix::set_market_oracle(&s.fx.exchange, &s.fx.admin.pubkey(), &s.m.accounts.market, &foreign.address);
    s.h.fails(&[link], &[&s.fx.admin], Expected::Meridian(MeridianError::WrongOracle), &[s.m.accounts.market]);
    // a market of another exchange
    let foreign_market = s.h.setup_market(&other, default_market_params());
    let link =
        ix::set_market_oracle(&s.fx.exchange, &s.fx.admin.pubkey(), &foreign_market.accounts.market, &s.o.address);
    s.h.fails(
        &[link],
        &[&s.fx.admin],
        Expected::Meridian(MeridianError::WrongExchange),
        &[foreign_market.accounts.market],
    );
    // an option priced from its underlying needs a strike and an expiry: it cannot even be listed
    // without them
    let no_expiry =
        meridian::MarketParams { kind: meridian::MarketKind::Call, strike: 700_000, ..default_market_params() };
    s.h.market_creation_fails(&s.fx, no_expiry, Expected::Meridian(MeridianError::InvalidDatedParams));
    // pushing to a market this oracle does not price
    let other_market = foreign_market;
    s.h.set_sources(&s.o, &[65_000.0, 65_000.0, 65_000.0]);
    let ix = s.o.refresh_markets_ix(&[other_market.accounts.market]);
    s.h.fails(&[ix], &[], Expected::Meridian(MeridianError::WrongOracle), &[s.o.address, other_market.accounts.market]);
}
