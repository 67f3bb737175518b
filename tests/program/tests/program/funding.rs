//! Perpetual funding on the SBF binary: the premium of the book over the oracle, the clamp, the
//! index, lazy settlement (in margin before it is settled, exactly while fills wait for the crank),
//! conservation (funding paid = received + the market's rounding), and every bad input.

use meridian::{ExchangeParams, MarketKind, MeridianError};
use meridian_engine::funding::{index_delta, sample_rate, FUNDING_SCALE};
use meridian_engine::units::Ticks;
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_program_tests::oracle::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
    risk::health_of,
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
    carol: Trader,
    crank: Trader,
}

fn setup() -> Setup {
    let mut w = Scenario::oracle_market().traders(3, 300_000 * USDC, 200_000 * USDC).trader(0, 0).build();
    let [alice, bob, carol, crank] = w.take_traders();
    let mut s = Setup { o: w.o.expect("oracle scenario"), h: w.h, fx: w.fx, m: w.m, alice, bob, carol, crank };
    s.at(0, 65_000.0);
    s
}

impl Setup {
    /// Moves the clock `secs` after the start (a slot per second) and pushes an oracle price.
    fn at(&mut self, secs: i64, dollars: f64) {
        self.h.set_clock(SLOT + secs as u64, TS + secs);
        self.h.set_sources(&self.o, &[dollars, dollars, dollars]);
        self.h.ok(&[self.o.refresh_markets_ix(&[self.m.accounts.market])], &[]);
    }
    fn update(&mut self) {
        self.h.ok(&[ix::update_funding(&self.m.accounts)], &[]);
    }
    fn market(&self) -> meridian::Market {
        self.h.market(&self.m.accounts.market)
    }
    fn position(&self, t: &Trader) -> meridian_engine::position::Position {
        let a = self.h.margin(&t.margin);
        let p = *a.positions_in_use().find(|p| p.market_index == 0).unwrap();
        p
    }
    fn equity(&self, t: &Trader) -> i128 {
        let markets = BTreeMap::from([(0u16, self.market())]);
        health_of(&self.h.margin(&t.margin), &markets).unwrap().equity
    }
    fn settle_all(&mut self) {
        let accounts = [self.alice.margin, self.bob.margin, self.carol.margin];
        let meta = self.h.ok(&[ix::settle_funding(&self.m.accounts.market, &accounts)], &[]);
        assert_eq!(meta.return_data.data, 3u16.to_le_bytes());
    }
    fn check(&self) {
        self.h.assert_conserved(&self.fx);
        self.h.assert_markets_balanced(&self.fx);
    }
}

/// alice long 1 BTC (10,000 lots) from bob at 65,200; carol quotes 65,100 / 65,300 (1 lot each).
fn positions(s: &mut Setup) {
    let (alice, bob, carol, crank) = (s.alice.clone_ref(), s.bob.clone_ref(), s.carol.clone_ref(), s.crank.margin);
    s.h.place(&s.m, &bob, order::limit(Side::Ask, 652_000, 10_000).post_only());
    s.h.place(&s.m, &alice, order::limit(Side::Bid, 652_000, 10_000).immediate_or_cancel());
    s.h.crank(&s.m, &crank);
    s.h.place(&s.m, &carol, order::limit(Side::Bid, 651_000, 1).post_only());
    s.h.place(&s.m, &carol, order::limit(Side::Ask, 653_000, 1).post_only());
}

#[test]
fn longs_pay_shorts_when_the_book_trades_above_the_oracle() {
    let mut s = setup();
    let m = s.market();
    assert_eq!((m.funding_period_secs, m.funding_max_bps, m.funding_last_ts), (3_600, 10, 0));
    positions(&mut s);
    s.update(); // starts the clock
    assert_eq!((s.market().funding_last_ts, s.market().funding_index()), (TS, 0));
    let equity_before = s.equity(&s.alice);

    // a minute later the impact bid is 65,100 > 65,000: premium 0.154%, clamped to 0.1%/hour. The
    // minute accrues at the rate in force (0); the sample moves the rate 60/3,660 of the way
    s.at(60, 65_000.0);
    s.update();
    let first = sample_rate(0, 1_000_000, 60, 3_600);
    assert_eq!((s.market().funding_rate, s.market().funding_index()), (first as i64, 0));
    assert_eq!(first, 16_393);
    // half an hour later: that half hour accrues at the rate in force
    s.at(1_860, 65_000.0);
    s.update();
    let m = s.market();
    let index = index_delta(first, Ticks(650_000), 10, 1_800, 3_600).unwrap();
    assert_eq!(m.funding_index(), index);
    assert_eq!(m.funding_rate, sample_rate(first, 1_000_000, 1_800, 3_600) as i64);
    // unsettled, it already counts: alice owes 10,000 lots x the index, rounded up
    let owed = ((10_000 * index + FUNDING_SCALE - 1) / FUNDING_SCALE) as i64;
    assert_eq!(owed, 532_773, "16,393 parts per 10^9 of 6,500,000 units, half an hour, 10,000 lots");
    assert_eq!(equity_before - s.equity(&s.alice), owed as i128);
    s.check();

    s.settle_all();
    let (a, b) = (s.position(&s.alice), s.position(&s.bob));
    assert_eq!((a.funding_paid, b.funding_paid), (owed, -(10_000 * index / FUNDING_SCALE) as i64));
    assert_eq!(s.equity(&s.alice), equity_before - owed as i128, "settling changes nothing in equity");
    assert_eq!(a.funding_paid + b.funding_paid, rounded(&s));
    s.check();
}

#[test]
fn shorts_pay_when_the_book_trades_below_and_nothing_accrues_inside_the_spread() {
    let mut s = setup();
    positions(&mut s);
    s.update();
    // the oracle at 65,250: inside carol's 65,100 / 65,300 spread
    s.at(600, 65_250.0);
    s.update();
    assert_eq!((s.market().funding_rate, s.market().funding_index()), (0, 0));
    // the oracle at 65,320: the ask 65,300 is below it by 0.0306%
    s.at(1_200, 65_320.0);
    s.update();
    let premium = -(200i128 * 1_000_000_000 / 653_200);
    assert_eq!(premium, -306_184, "-(65,320 - 65,300) / 65,320");
    assert_eq!(s.market().funding_rate, sample_rate(0, premium, 600, 3_600) as i64);
    assert_eq!(s.market().funding_index(), 0, "accrued at the rate in force: 0");
    s.at(1_800, 65_320.0);
    s.update();
    assert!(s.market().funding_index() < 0);
    s.settle_all();
    assert!(s.position(&s.alice).funding_paid < 0, "the long receives");
    // paid + received (negative) = what rounding kept, under a unit per settlement
    assert_eq!(s.position(&s.alice).funding_paid + s.position(&s.bob).funding_paid, rounded(&s));
    assert!((0..=2).contains(&rounded(&s)));
    s.check();
}

/// Funding paid minus funding received, in whole units (the rounding the market kept).
fn rounded(s: &Setup) -> i64 {
    (s.market().funding_rounding / FUNDING_SCALE as u64) as i64
}

#[test]
fn a_fill_waiting_for_the_crank_settles_at_its_own_index() {
    let mut s = setup();
    positions(&mut s);
    s.update();
    s.at(900, 65_000.0);
    s.update();
    let at_fill = s.market().funding_index();
    // bob sells 1 lot into carol's bid (a second one keeps the book's bid side): carol's side of the
    // fill waits in the queue
    let (bob, carol) = (s.bob.clone_ref(), s.carol.clone_ref());
    s.h.place(&s.m, &carol, order::limit(Side::Bid, 651_000, 1).post_only());
    s.h.place(&s.m, &bob, order::limit(Side::Ask, 651_000, 1).immediate_or_cancel());
    s.at(1_800, 65_000.0);
    s.update();
    let now = s.market().funding_index();
    assert!(now > at_fill);
    let crank = s.crank.margin;
    s.h.crank(&s.m, &crank);
    // carol's long lot accrues from the fill, not from the crank's visit
    let c = s.position(&s.carol);
    assert_eq!((c.base_lots, c.funding_index()), (1, at_fill));
    s.check(); // exact: base x (index - position index) over everyone, plus rounding, is zero
    s.settle_all();
    let c = s.position(&s.carol);
    assert_eq!(c.funding_paid as i128, ((now - at_fill) + FUNDING_SCALE - 1) / FUNDING_SCALE);
    s.check();
}

#[test]
fn an_unusable_oracle_accrues_at_the_rate_in_force_and_long_gaps_one_period() {
    let mut s = setup();
    positions(&mut s);
    s.update();
    s.at(60, 65_000.0);
    s.update(); // a first sample: the rate in force is now 16,393 parts per 10^9
    let rate = s.market().funding_rate as i128;
    // 100 slots without a push: the oracle is stale; an update accrues the 100 s at the rate in
    // force (nothing is erased) and takes no sample
    s.h.set_clock(SLOT + 160, TS + 160);
    s.update();
    let stale = index_delta(rate, Ticks(650_000), 10, 100, 3_600).unwrap();
    assert_eq!((s.market().funding_index(), s.market().funding_last_ts), (stale, TS + 160));
    assert_eq!(s.market().funding_rate as i128, rate);
    // ten hours without an update: one period accrues at the rate in force
    s.at(160 + 36_000, 65_000.0);
    s.update();
    assert_eq!(s.market().funding_index(), stale + index_delta(rate, Ticks(650_000), 10, 3_600, 3_600).unwrap());
    assert_eq!(s.market().funding_index() - stale, 16_393 * 6_500_000);
    // a second update in the same second changes nothing
    let before = s.market();
    s.update();
    assert_eq!(s.market().funding_index(), before.funding_index());
}

#[test]
fn funding_params_and_bad_inputs() {
    let mut s = setup();
    let admin = s.fx.admin.insecure_clone();
    let set = |p, b, i| ix::set_funding_params(&s.m.accounts, &admin.pubkey(), p, b, i);
    let (good, zero_period, long_period, wide) =
        (set(900, 25, 1_000_000), set(0, 10, 0), set(30 * 86_400 + 1, 10, 0), set(3_600, 10_001, 0));
    s.h.ok(&[good], &[&admin]);
    let m = s.market();
    assert_eq!((m.funding_period_secs, m.funding_max_bps, m.funding_impact_notional), (900, 25, 1_000_000));
    let watched = [s.m.accounts.market];
    for bad in [zero_period, long_period, wide] {
        s.h.fails(&[bad], &[&admin], Expected::Meridian(MeridianError::InvalidFundingParams), &watched);
    }
    let intruder = Keypair::new();
    s.h.svm.airdrop(&intruder.pubkey(), 1_000_000_000).unwrap();
    let ix = ix::set_funding_params(&s.m.accounts, &intruder.pubkey(), 900, 10, 0);
    s.h.fails(&[ix], &[&intruder], Expected::Meridian(MeridianError::NotAdmin), &watched);

    // through another exchange (its admin signs)
    let other = s.h.setup_exchange(6, SPL_TOKEN, ExchangeParams { index: 1, ..Default::default() });
    let mut via_other = s.m.accounts;
    via_other.exchange = other.exchange;
    let ix = ix::set_funding_params(&via_other, &other.admin.pubkey(), 900, 10, 0);
    s.h.fails(&[ix], &[&other.admin], Expected::Meridian(MeridianError::WrongExchange), &watched);

    // not a perpetual
    let future = s.h.setup_market(
        &s.fx,
        meridian::MarketParams { kind: MarketKind::Future, expiry_ts: 4_102_444_800, ..default_market_params() },
    );
    let w = [future.accounts.market];
    s.h.fails(&[ix::update_funding(&future.accounts)], &[], Expected::Meridian(MeridianError::NotPerpetual), &w);
    let ix = ix::set_funding_params(&future.accounts, &admin.pubkey(), 900, 10, 0);
    s.h.fails(&[ix], &[&admin], Expected::Meridian(MeridianError::NotPerpetual), &w);
    // another market's book
    let mut wrong = s.m.accounts;
    wrong.book = future.accounts.book;
    s.h.fails(&[ix::update_funding(&wrong)], &[], Expected::Meridian(MeridianError::WrongBook), &watched);

    // settle_funding: an account of another exchange, a read-only account
    let stranger = s.h.trader(&other, 0);
    let ix = ix::settle_funding(&s.m.accounts.market, &[stranger.margin]);
    s.h.fails(&[ix], &[], Expected::Meridian(MeridianError::WrongExchange), &[stranger.margin]);
    let mut ix = ix::settle_funding(&s.m.accounts.market, &[s.alice.margin]);
    ix.accounts[1].is_writable = false;
    s.h.fails(&[ix], &[], Expected::Meridian(MeridianError::AccountNotWritable), &[s.alice.margin]);
    // an account without a position here is skipped
    let meta = s.h.ok(&[ix::settle_funding(&s.m.accounts.market, &[s.alice.margin])], &[]);
    assert_eq!(meta.return_data.data, 0u16.to_le_bytes());
}
