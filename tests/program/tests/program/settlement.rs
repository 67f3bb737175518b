//! PnL settlement on the SBF binary: a loss is realized from collateral into the market's PnL pool,
//! a profit paid from it (an open position's at a usable price, 80% at most, 10% of its notional an
//! hour); a winner withdraws more than it deposited once the loser has paid, to the unit; funding
//! flows through; flat positions free their slots; every bad input changes nothing; conservation
//! (vault = collateral + fees + insurance + pools) after every step.

use meridian::{ExchangeParams, MarketParams, MeridianError, PauseFlags};
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_program_tests::oracle::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
};
use solana_sdk::{pubkey::Pubkey, signer::Signer};

const BTC: u64 = 10_000; // lots in one BTC

/// BTC-PERP priced by an oracle at 65,000; alice long 1 BTC and bob short 1 BTC between them, each
/// with 20,000 USDC; carol, a maker with 1M.
struct Setup {
    h: Harness,
    fx: ExchangeFixture,
    m: MarketFixture,
    o: OracleFixture,
    alice: Trader,
    bob: Trader,
    carol: Trader,
    slot: u64,
    ts: i64,
}

fn setup(bob_usdc: u64) -> Setup {
    let mut w = Scenario::oracle_market()
        .trader(100_000 * USDC, 20_000 * USDC)
        .trader(200_000 * USDC, bob_usdc * USDC)
        .trader(2_000_000 * USDC, 1_000_000 * USDC)
        .build();
    let [alice, bob, carol] = w.take_traders();
    let o = w.o.expect("oracle scenario");
    let mut s = Setup { h: w.h, fx: w.fx, m: w.m, o, alice, bob, carol, slot: SLOT, ts: TS };
    s.price(0, 65_000.0);
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    s.h.place(&s.m, &bob, order::limit(Side::Ask, 650_000, BTC).post_only());
    assert_eq!(s.h.place(&s.m, &alice, order::limit(Side::Bid, 650_000, BTC).immediate_or_cancel()).filled_lots, BTC);
    s.crank();
    s
}

impl Setup {
    /// `secs` later (a slot per second), every source at `dollars`, pushed to the market.
    fn price(&mut self, secs: i64, dollars: f64) {
        (self.slot, self.ts) = (self.slot + secs as u64, self.ts + secs);
        self.h.set_clock(self.slot, self.ts);
        self.h.set_sources(&self.o, &[dollars; 3]);
        self.h.ok(&[self.o.refresh_markets_ix(&[self.m.accounts.market])], &[]);
    }
    fn crank(&mut self) {
        let carol = self.carol.margin;
        self.h.crank(&self.m, &carol);
    }
    fn settle(&mut self, accounts: &[&Trader]) -> u16 {
        let keys: Vec<Pubkey> = accounts.iter().map(|t| t.margin).collect();
        let meta = self.h.ok(&[ix::settle_pnl(&self.m.accounts, &keys)], &[]);
        self.check();
        u16::from_le_bytes(meta.return_data.data[..2].try_into().unwrap())
    }
    /// What the SDK predicts `settle_pnl` would move for `t` now.
    fn preview(&self, t: &Trader) -> meridian_sdk::settlement::PositionPnl {
        let markets = [(0u16, self.h.market(&self.m.accounts.market))].into();
        meridian_sdk::settlement::preview(&self.h.margin(&t.margin), &markets, self.slot, self.ts)[0]
    }
    fn pool(&self) -> u64 {
        self.h.market(&self.m.accounts.market).pnl_pool
    }
    fn collateral(&self, t: &Trader) -> i64 {
        self.h.margin(&t.margin).collateral
    }
    fn check(&self) {
        self.h.assert_conserved(&self.fx);
        self.h.assert_markets_balanced(&self.fx);
    }
}

#[test]
fn a_winner_withdraws_its_profit_once_the_loser_has_paid() {
    let mut s = setup(20_000);
    let (alice, bob, carol) = (s.alice.clone_ref(), s.bob.clone_ref(), s.carol.clone_ref());
    // alice paid 5 bp on 65,000; bob earned 1 bp
    assert_eq!((s.collateral(&alice), s.collateral(&bob)), (19_967_500_000, 20_006_500_000));
    s.price(10, 70_000.0);
    // a winner cannot be paid before the loss exists: the pool is empty
    assert_eq!(s.settle(&[&alice]), 0);
    assert_eq!(s.collateral(&alice), 19_967_500_000);
    // anyone settles bob's loss: 5,000 USDC from his collateral into the pool (as the SDK predicts)
    assert_eq!(s.preview(&bob).settle_now, -5_000_000_000);
    assert_eq!(s.settle(&[&bob]), 1);
    assert_eq!((s.collateral(&bob), s.pool()), (15_006_500_000, 5_000_000_000));
    // alice, still open: 80% of her 5,000 (within 10% of her 70,000 notional)
    let predicted = s.preview(&alice);
    assert_eq!((predicted.settle_now, predicted.held_back()), (4_000_000_000, 1_000_000_000));
    assert_eq!(s.settle(&[&alice]), 1);
    assert_eq!((s.collateral(&alice), s.pool()), (23_967_500_000, 1_000_000_000));
    // she closes at 70,000 (5 bp: 35 USDC) and is paid the rest; her slot is free
    s.h.place(&s.m, &carol, order::limit(Side::Bid, 700_000, BTC).post_only());
    assert_eq!(s.h.place(&s.m, &alice, order::limit(Side::Ask, 700_000, BTC).immediate_or_cancel()).filled_lots, BTC);
    s.crank();
    assert_eq!(s.settle(&[&alice]), 1);
    let account = s.h.margin(&alice.margin);
    assert_eq!((account.collateral, account.pnl_settled, s.pool()), (24_932_500_000, 5_000_000_000, 0));
    assert!(account.positions_in_use().next().is_none(), "flat and settled: the slot is free");
    // she withdraws it all: 4,932.5 USDC more than she deposited (5,000 less 32.5 and 35 of fees)
    let before = s.h.token_balance(&alice.token);
    s.h.withdraw(&s.fx, &alice, 24_932_500_000);
    assert_eq!(s.h.token_balance(&alice.token) - before, 20_000 * USDC + 4_932_500_000);
    s.h.ok(&[ix::close_margin_account(&s.fx.exchange, &alice.margin, &alice.owner.pubkey())], &[&alice.owner]);
    assert!(!s.h.exists(&alice.margin));
    s.check();
}

#[test]
fn unrealized_profit_under_a_pumped_price_stays_within_the_limit() {
    let mut s = setup(100_000);
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    // one source pumped: the aggregate is Divergent, not usable; an open position settles nothing
    s.slot += 1;
    s.ts += 1;
    s.h.set_clock(s.slot, s.ts);
    s.h.set_sources(&s.o, &[65_000.0, 65_000.0, 650_000.0]);
    s.h.ok(&[s.o.refresh_markets_ix(&[s.m.accounts.market])], &[]);
    let watched = [s.fx.exchange, s.m.accounts.market, alice.margin, bob.margin];
    let settle = |k: &[Pubkey]| ix::settle_pnl(&s.m.accounts, k);
    s.h.fails(&[settle(&[bob.margin])], &[], Expected::Meridian(MeridianError::OracleNotUsable), &watched);
    // all sources pumped 2x: bob's 65,000 loss is realized, alice is paid 10% of her notional this
    // hour (13,000 of 130,000), nothing more until the hour is over
    s.price(10, 130_000.0);
    assert_eq!(s.preview(&alice).settle_now, 0, "the pool is empty until bob's loss is in");
    assert_eq!(s.settle(&[&bob, &alice]), 2);
    assert_eq!(s.pool(), 65_000 * USDC - 13_000 * USDC);
    assert_eq!(s.collateral(&alice), 19_967_500_000 + 13_000 * USDC as i64);
    assert_eq!(s.settle(&[&alice]), 0, "the same hour");
    s.price(3_599, 130_000.0);
    assert_eq!(s.settle(&[&alice]), 0, "one second short of the hour");
    s.price(1, 130_000.0);
    assert_eq!(s.settle(&[&alice]), 1);
    assert_eq!(s.collateral(&alice), 19_967_500_000 + 26_000 * USDC as i64);
    let account = s.h.margin(&alice.margin);
    assert_eq!((account.upnl_window_start, account.upnl_window_paid), (s.ts, 13_000 * USDC));
}

#[test]
fn settling_a_hedged_loss_leaves_the_equity_where_it_was() {
    let mut s = setup(20_000);
    let carol = s.carol.clone_ref();
    let dave = s.h.funded_trader(&s.fx, 100_000 * USDC, 20_000 * USDC);
    // a second BTC perpetual on the same oracle: dave long 1 BTC on the first, short 1 on the second
    let params = MarketParams { name: meridian_sdk::state::encode_name("BTC-PERP-2"), ..default_market_params() };
    let b = s.h.setup_market(&s.fx, params);
    s.h.ok(
        &[ix::set_market_oracle(&s.fx.exchange, &s.fx.admin.pubkey(), &b.accounts.market, &s.o.address)],
        &[&s.fx.admin],
    );
    let both = [s.m.accounts.market, b.accounts.market];
    s.h.ok(&[s.o.refresh_markets_ix(&both)], &[]);
    s.h.place(&s.m, &carol, order::limit(Side::Ask, 650_000, BTC).post_only());
    assert_eq!(s.h.place(&s.m, &dave, order::limit(Side::Bid, 650_000, BTC).immediate_or_cancel()).filled_lots, BTC);
    s.h.place(&b, &carol, order::limit(Side::Bid, 650_000, BTC).post_only());
    assert_eq!(s.h.place(&b, &dave, order::limit(Side::Ask, 650_000, BTC).immediate_or_cancel()).filled_lots, BTC);
    s.crank();
    s.h.crank(&b, &carol.margin);
    // BTC to 70,000: +5,000 on the long, -5,000 on the short
    (s.slot, s.ts) = (s.slot + 10, s.ts + 10);
    s.h.set_clock(s.slot, s.ts);
    s.h.set_sources(&s.o, &[70_000.0; 3]);
    s.h.ok(&[s.o.refresh_markets_ix(&both)], &[]);
    let health = |s: &Setup| {
        let markets = both.iter().map(|k| s.h.market(k)).map(|m| (m.index, m)).collect();
        meridian_sdk::risk::health_of(&s.h.margin(&dave.margin), &markets).unwrap()
    };
    let before = health(&s);
    // anyone settles the short's loss: 5,000 from collateral into the pool, the equity unchanged
    // (the long's profit is haircut on its own, not net of the short's loss)
    let collateral = s.collateral(&dave);
    assert_eq!(s.h.ok(&[ix::settle_pnl(&b.accounts, &[dave.margin])], &[]).return_data.data, 1u16.to_le_bytes());
    assert_eq!(s.collateral(&dave), collateral - 5_000 * USDC as i64);
    assert_eq!(health(&s), before);
    s.check();
}

#[test]
fn funding_flows_through_settlement() {
    let mut s = setup(20_000);
    let (alice, bob, carol) = (s.alice.clone_ref(), s.bob.clone_ref(), s.carol.clone_ref());
    // carol quotes 65,100 / 65,300 around the oracle at 65,000: longs pay
    s.h.place(&s.m, &carol, order::limit(Side::Bid, 651_000, 1).post_only());
    s.h.place(&s.m, &carol, order::limit(Side::Ask, 653_000, 1).post_only());
    s.h.ok(&[ix::update_funding(&s.m.accounts)], &[]);
    for _ in 0..3 {
        s.price(600, 65_000.0);
        s.h.ok(&[ix::update_funding(&s.m.accounts)], &[]);
    }
    assert!(s.h.market(&s.m.accounts.market).funding_index() > 0);
    // settling settles the funding first: alice owes it, bob receives it, at a flat price
    assert_eq!(s.settle(&[&alice]), 1);
    let paid = s.h.margin(&alice.margin).positions_in_use().next().unwrap().funding_paid;
    assert!(paid > 0);
    assert_eq!(s.h.margin(&alice.margin).pnl_settled, -paid, "her funding, realized from collateral");
    assert_eq!(s.pool(), paid as u64);
    assert_eq!(s.settle(&[&bob]), 1);
    let received = -s.h.margin(&bob.margin).positions_in_use().next().unwrap().funding_paid;
    assert_eq!(s.h.margin(&bob.margin).pnl_settled, received * 8 / 10, "80% of an open position's profit");
    s.check();
}

#[test]
fn flat_positions_free_their_slots_and_an_account_trades_twenty_markets() {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
    let maker = h.funded_trader(&fx, 2_000_000 * USDC, 1_000_000 * USDC);
    let trader = h.funded_trader(&fx, 100_000 * USDC, 10_000 * USDC);
    for i in 0..20 {
        let params = MarketParams {
            name: meridian_sdk::state::encode_name(&format!("M{i}")),
            book_capacity: 8,
            ..default_market_params()
        };
        let m = h.setup_market(&fx, params);
        // the trader buys 10 lots at 65,000 and sells them at 65,010: +10,000 units in the quote
        // balance, the maker -10,000; both flat, both holding a slot until settled
        h.place(&m, &maker, order::limit(Side::Ask, 650_000, 10).post_only());
        h.place(&m, &trader, order::limit(Side::Bid, 650_000, 10).immediate_or_cancel());
        h.place(&m, &maker, order::limit(Side::Bid, 650_100, 10).post_only());
        h.place(&m, &trader, order::limit(Side::Ask, 650_100, 10).immediate_or_cancel());
        h.crank(&m, &maker.margin);
        assert_eq!(h.margin(&trader.margin).positions_in_use().count(), 1);
        let meta = h.ok(&[ix::settle_pnl(&m.accounts, &[maker.margin, trader.margin])], &[]);
        assert_eq!(meta.return_data.data, 2u16.to_le_bytes());
        assert_eq!(h.margin(&trader.margin).positions_in_use().count(), 0, "market {i}: the slot is free");
        h.assert_conserved(&fx);
        h.assert_markets_balanced(&fx);
    }
    let account = h.margin(&trader.margin);
    assert_eq!(account.pnl_settled, 20 * 10_000);
    let all = account.collateral as u64;
    h.withdraw(&fx, &trader, all);
    h.ok(&[ix::close_margin_account(&fx.exchange, &trader.margin, &trader.owner.pubkey())], &[&trader.owner]);
    h.assert_conserved(&fx);
}

#[test]
fn settle_pnl_rejects_bad_input_and_changes_nothing() {
    let mut s = setup(20_000);
    let (alice, carol) = (s.alice.clone_ref(), s.carol.clone_ref());
    s.price(10, 70_000.0);
    let watched = vec![s.fx.exchange, s.m.accounts.market, alice.margin, carol.margin];
    // another exchange's market and account
    let fx2 = s.h.setup_exchange(6, SPL_TOKEN, ExchangeParams { index: 1, ..Default::default() });
    let m2 = s.h.setup_market(&fx2, default_market_params());
    let stranger = s.h.funded_trader(&fx2, 1_000 * USDC, 1_000 * USDC);
    let foreign_market =
        ix::settle_pnl(&meridian_sdk::ix::MarketAccounts { exchange: s.fx.exchange, ..m2.accounts }, &[alice.margin]);
    s.h.fails(&[foreign_market], &[], Expected::Meridian(MeridianError::WrongExchange), &watched);
    let foreign_account = ix::settle_pnl(&s.m.accounts, &[stranger.margin]);
    s.h.fails(&[foreign_account], &[], Expected::Meridian(MeridianError::WrongExchange), &watched);
    // an account with no position in the market: alone, an error; in a batch, skipped (one account
    // settled meanwhile by someone else does not fail a keeper's batch)
    s.h.fails(
        &[ix::settle_pnl(&s.m.accounts, &[carol.margin])],
        &[],
        Expected::Meridian(MeridianError::NoPositionToSettle),
        &watched,
    );
    let batch = s.h.ok(&[ix::settle_pnl(&s.m.accounts, &[carol.margin, s.bob.margin])], &[]);
    assert_eq!(batch.return_data.data, 1u16.to_le_bytes(), "bob's loss realized, carol skipped");
    // not a margin account; read-only
    let market_as_account = ix::settle_pnl(&s.m.accounts, &[s.m.accounts.book]);
    s.h.fails(
        &[market_as_account],
        &[],
        Expected::Anchor(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch),
        &watched,
    );
    let mut read_only = ix::settle_pnl(&s.m.accounts, &[alice.margin]);
    read_only.accounts[2].is_writable = false;
    s.h.fails(&[read_only], &[], Expected::Meridian(MeridianError::AccountNotWritable), &watched);
    // paused trading
    let admin = s.fx.admin.insecure_clone();
    s.h.ok(&[ix::set_paused(&s.fx.exchange, &admin.pubkey(), PauseFlags::TRADING)], &[&admin]);
    s.h.fails(
        &[ix::settle_pnl(&s.m.accounts, &[alice.margin])],
        &[],
        Expected::Meridian(MeridianError::TradingPaused),
        &watched,
    );
    s.check();
}

/// Expiry settlement (part 2): a dated future and options on one oracle, sampled over the window,
/// priced, settled to cash, closed.
mod expiry {
    use super::*;
    use meridian::{MarketKind, SettlementSource};
    use meridian_engine::expiry::{ADMIN_GRACE_SECS, BUCKETS};
    use meridian_program_tests::portfolio::{linear_params, option_params};
    use meridian_sdk::settlement::{expiry_state, predicted_price, ExpiryState};

    const EXPIRY: i64 = TS + 3_600;
    /// Ten-second buckets.
    const WINDOW: u32 = 300;

    /// SOL at $100: SOL-FUT (lot 0.0001 SOL, 10 ticks = $1 a unit... $100 = 1,000 ticks), a call
    /// struck at 100 and a put at 110 (lot 0.01 SOL, $100 = 1,000 ticks), all expiring at EXPIRY.
    /// Alice buys 1 SOL of the future and 10 calls from bob, and sells bob 10 puts.
    struct Dated {
        h: Harness,
        fx: ExchangeFixture,
        o: OracleFixture,
        fut: MarketFixture,
        call: MarketFixture,
        put: MarketFixture,
        alice: Trader,
        bob: Trader,
        slot: u64,
        ts: i64,
    }

    fn dated() -> Dated {
        let mut h = Harness::new();
        let fx = h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
        h.set_clock(SLOT, TS);
        let o = h.setup_oracle(&fx, "SOL", 2, 1, None);
        let market = |h: &mut Harness, params: MarketParams| {
            let m = h.setup_market(&fx, MarketParams { settlement_window_secs: WINDOW, ..params });
            h.ok(
                &[ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &m.accounts.market, &o.address)],
                &[&fx.admin],
            );
            m
        };
        let fut = market(&mut h, linear_params("SOL-FUT", MarketKind::Future, 100.0, EXPIRY));
        let call = market(&mut h, option_params("SOL-C100", MarketKind::Call, 100, EXPIRY));
        let put = market(&mut h, option_params("SOL-P110", MarketKind::Put, 110, EXPIRY));
        let alice = h.funded_trader(&fx, 100_000 * USDC, 10_000 * USDC);
        let bob = h.funded_trader(&fx, 100_000 * USDC, 10_000 * USDC);
        let mut d = Dated { h, fx, o, fut, call, put, alice, bob, slot: SLOT, ts: TS };
        d.price(0, 100.0);
        let (alice, bob) = (d.alice.clone_ref(), d.bob.clone_ref());
        d.trade(d.fut, &bob, &alice, None, 10_000);
        d.trade(d.call, &bob, &alice, None, 10);
        d.trade(d.put, &alice, &bob, None, 10);
        d
    }

    impl Dated {
        /// `secs` later (a slot per second), every source at `dollars`, pushed to each market.
        fn price(&mut self, secs: i64, dollars: f64) {
            (self.slot, self.ts) = (self.slot + secs as u64, self.ts + secs);
            self.h.set_clock(self.slot, self.ts);
            self.h.set_sources(&self.o, &[dollars; 3]);
            for m in [self.fut, self.call, self.put] {
                self.h.ok(&[self.o.refresh_markets_ix(&[m.accounts.market])], &[]);
            }
        }
        /// `seller` rests `lots` at `price` (the band's reference when None), `buyer` takes them.
        fn trade(&mut self, m: MarketFixture, seller: &Trader, buyer: &Trader, price: Option<u64>, lots: u64) -> u64 {
            let price = price.unwrap_or_else(|| self.h.market(&m.accounts.market).band_reference);
            self.h.place(&m, seller, order::limit(Side::Ask, price, lots).post_only());
            assert_eq!(
                self.h.place(&m, buyer, order::limit(Side::Bid, price, lots).immediate_or_cancel()).filled_lots,
                lots
            );
            self.h.crank(&m, &seller.margin);
            price
        }
        fn market(&self, m: &MarketFixture) -> meridian::Market {
            self.h.market(&m.accounts.market)
        }
        fn quote(&self, t: &Trader, m: &MarketFixture) -> i64 {
            self.h.margin(&t.margin).positions_in_use().find(|p| p.market_index == m.index).unwrap().quote_balance
        }
        fn collateral(&self, t: &Trader) -> i64 {
            self.h.margin(&t.margin).collateral
        }
        /// One refresh per bucket through the window at `dollars`.
        fn sample_window(&mut self, dollars: f64) {
            let start = EXPIRY - WINDOW as i64;
            self.price(start - self.ts + 5, dollars);
            for _ in 1..BUCKETS {
                self.price(10, dollars);
            }
        }
        fn settle(&mut self, m: MarketFixture, accounts: &[&Trader]) -> u16 {
            let keys: Vec<Pubkey> = accounts.iter().map(|t| t.margin).collect();
            let meta = self.h.ok(&[ix::settle_expired(&m.accounts, &keys)], &[]);
            self.check();
            u16::from_le_bytes(meta.return_data.data[..2].try_into().unwrap())
        }
        fn check(&self) {
            self.h.assert_conserved(&self.fx);
            self.h.assert_markets_balanced(&self.fx);
        }
    }

    #[test]
    fn a_future_and_options_settle_to_cash_to_the_unit_and_pay_out() {
        let mut d = dated();
        let (alice, bob) = (d.alice.clone_ref(), d.bob.clone_ref());
        let (call_premium, put_premium) = (-d.quote(&alice, &d.call), d.quote(&alice, &d.put));
        assert!(call_premium > 0 && put_premium > 0);
        assert_eq!(
            expiry_state(&d.market(&d.fut), d.ts),
            ExpiryState::Trading { window_start: EXPIRY - WINDOW as i64 }
        );
        // SOL rises to $104 for the whole window; the option's value tracks it as expiry nears
        d.sample_window(104.0);
        assert_eq!(expiry_state(&d.market(&d.call), d.ts), ExpiryState::Sampling);
        let near = d.market(&d.call).lot_risk().now;
        assert!(
            (39_000..=41_000).contains(&near),
            "a call 5 s from expiry is worth about its intrinsic 40,000: {near}"
        );
        for m in [d.fut, d.call, d.put] {
            assert_eq!(d.market(&m).sample_bucket, BUCKETS);
        }
        // the price cannot be fixed before expiry, and from expiry no order is taken
        d.h.fails(
            &[ix::fix_settlement_price(&d.fut.accounts)],
            &[],
            Expected::Meridian(MeridianError::MarketNotExpired),
            &[d.fut.accounts.market],
        );
        d.price(EXPIRY - d.ts, 104.0);
        let late = d.h.try_place(&d.fut, &alice, order::limit(Side::Bid, 1_040, 1)).unwrap_err();
        assert!(Expected::Meridian(MeridianError::MarketExpired).matches(&late.err), "{:?}", late.err);
        // the window is complete: 30 buckets at 104
        for m in [d.fut, d.call, d.put] {
            assert_eq!(predicted_price(&d.market(&m), d.ts), Some(1_040), "the SDK predicts the price");
            d.h.ok(&[ix::fix_settlement_price(&m.accounts)], &[]);
            let mk = d.market(&m);
            assert_eq!((mk.settlement_price, mk.settlement_source), (1_040, SettlementSource::Window as u8));
        }
        d.h.fails(
            &[ix::fix_settlement_price(&d.fut.accounts)],
            &[],
            Expected::Meridian(MeridianError::SettlementPriceFixed),
            &[d.fut.accounts.market],
        );

        // payoffs, to the unit: the future $4 on 1 SOL, the call (104 - 100) x 0.01 SOL on 10 lots, the
        // put (110 - 104) x 0.01 on 10 lots; the SDK's payout agrees
        let (fut_pnl, call_pnl, put_pnl) = (4_000_000, 400_000 - call_premium, put_premium - 600_000);
        let payout = |d: &Dated, t: &Trader, m: &MarketFixture| {
            meridian_sdk::settlement::expiry_payout(&d.h.margin(&t.margin), &d.market(m), 1_040).unwrap()
        };
        assert_eq!(
            (payout(&d, &alice, &d.fut), payout(&d, &alice, &d.call), payout(&d, &alice, &d.put)),
            (fut_pnl as i128, call_pnl as i128, put_pnl as i128)
        );
        let (a0, b0) = (d.collateral(&alice), d.collateral(&bob));
        // losers first: the pool then holds what the winners are paid
        for m in [d.fut, d.call, d.put] {
            let (loser, winner) = if payout(&d, &alice, &m) < 0 { (&alice, &bob) } else { (&bob, &alice) };
            assert_eq!(d.settle(m, &[loser, winner]), 2);
        }
        let total = fut_pnl + call_pnl + put_pnl;
        assert_eq!((d.collateral(&alice) - a0, d.collateral(&bob) - b0), (total, -total));
        for m in [d.fut, d.call, d.put] {
            let mk = d.market(&m);
            assert_eq!((mk.open_interest, mk.pnl_pool, mk.positions_settled), (0, 0, 2));
        }
        for t in [&alice, &bob] {
            assert_eq!(d.h.margin(&t.margin).positions_in_use().count(), 0, "every slot is free");
        }
        // settling again does nothing
        let before = d.h.snapshot(&[alice.margin, bob.margin, d.fut.accounts.market]);
        assert_eq!(d.settle(d.fut, &[&bob, &alice]), 0);
        assert_eq!(d.h.snapshot(&[alice.margin, bob.margin, d.fut.accounts.market]), before);

        // the admin closes the markets and takes back the book and queue rent
        let admin = d.fx.admin.insecure_clone();
        let lamports = d.h.lamports(&admin.pubkey());
        for m in [d.fut, d.call, d.put] {
            d.h.ok(&[ix::close_market(&m.accounts, &admin.pubkey())], &[&admin]);
            assert!(!d.h.exists(&m.accounts.book) && !d.h.exists(&m.accounts.event_queue));
            assert_eq!(d.market(&m).status(), meridian::MarketStatus::Closed);
        }
        assert!(d.h.lamports(&admin.pubkey()) > lamports);
        d.check();
        // alice withdraws her profit
        let all = d.collateral(&alice) as u64;
        let before = d.h.token_balance(&alice.token);
        d.h.withdraw(&d.fx, &alice, all);
        assert_eq!(d.h.token_balance(&alice.token) - before, all);
        assert!(all > 10_000 * USDC, "more than she deposited: {all}");
        d.check();
    }

    #[test]
    fn one_spiked_refresh_moves_the_settlement_price_by_its_weight() {
        let mut d = dated();
        let start = EXPIRY - WINDOW as i64;
        d.price(start - d.ts + 5, 100.0);
        for i in 1..BUCKETS {
            // one refresh at 10x the price, in the middle of the window
            d.price(10, if i == 15 { 1_000.0 } else { 100.0 });
        }
        d.price(EXPIRY - d.ts, 100.0);
        d.h.ok(&[ix::fix_settlement_price(&d.fut.accounts)], &[]);
        // 29 buckets at 1,000 ticks and one at 10,000: the spike weighs 1/30
        assert_eq!(d.market(&d.fut).settlement_price, (29 * 1_000 + 10_000) / 30);
    }

    #[test]
    fn too_few_samples_wait_then_extend_and_the_admin_price_is_a_last_resort() {
        let mut d = dated();
        let admin = d.fx.admin.insecure_clone();
        // the oracle was refreshed in 10 of the window's 30 buckets
        let start = EXPIRY - WINDOW as i64;
        d.price(start - d.ts + 5, 100.0);
        for _ in 1..10 {
            d.price(10, 100.0);
        }
        (d.slot, d.ts) = (d.slot + 1_000, EXPIRY + 1);
        d.h.set_clock(d.slot, d.ts);
        let watched = [d.fut.accounts.market];
        d.h.fails(
            &[ix::fix_settlement_price(&d.fut.accounts)],
            &[],
            Expected::Meridian(MeridianError::SettlementSamplesTooFew),
            &watched,
        );
        assert_eq!(expiry_state(&d.market(&d.fut), d.ts), ExpiryState::AwaitingPrice { filled: 10, needed: 15 });
        // the admin may not step in before the grace period
        let set = ix::set_settlement_price(&d.fut.accounts, &admin.pubkey(), 1_000);
        d.h.fails(
            std::slice::from_ref(&set),
            &[&admin],
            Expected::Meridian(MeridianError::SettlementGraceNotOver),
            &watched,
        );
        // a degraded oracle (one source far off: Divergent) is not sampled
        let sampler = d.market(&d.fut).sampler();
        d.h.set_clock(d.slot + 5, d.ts + 5);
        d.h.set_sources(&d.o, &[100.0, 100.0, 500.0]);
        d.h.ok(&[d.o.refresh_markets_ix(&[d.fut.accounts.market])], &[]);
        assert_eq!(d.market(&d.fut).sampler(), sampler);
        // valid refreshes after expiry extend the window: 5 more buckets at $102; the sixth is not
        // needed and not taken (the put is left out: its oracle pushes stop)
        for _ in 0..6 {
            (d.slot, d.ts) = (d.slot + 10, d.ts + 10);
            d.h.set_clock(d.slot, d.ts);
            d.h.set_sources(&d.o, &[102.0; 3]);
            for m in [d.fut, d.call] {
                d.h.ok(&[d.o.refresh_markets_ix(&[m.accounts.market])], &[]);
            }
        }
        d.h.ok(&[ix::fix_settlement_price(&d.fut.accounts)], &[]);
        // (10 x 1,000 + 5 x 1,020) / 15 = 1,006.7, rounded to nearest
        assert_eq!(d.market(&d.fut).settlement_price, 1_007);

        // the put never got its samples: a day after expiry the admin sets its price, on the record
        (d.slot, d.ts) = (d.slot + 100, EXPIRY + ADMIN_GRACE_SECS);
        d.h.set_clock(d.slot, d.ts);
        let put_set = ix::set_settlement_price(&d.put.accounts, &admin.pubkey(), 1_010);
        // not the admin
        let mut forged = put_set.clone();
        forged.accounts[3].pubkey = d.bob.owner.pubkey();
        let bob_owner = d.bob.owner.insecure_clone();
        d.h.fails(&[forged], &[&bob_owner], Expected::Meridian(MeridianError::NotAdmin), &[d.put.accounts.market]);
        d.h.fails(
            &[ix::set_settlement_price(&d.put.accounts, &admin.pubkey(), 0)],
            &[&admin],
            Expected::Meridian(MeridianError::InvalidSettlementPrice),
            &[d.put.accounts.market],
        );
        // the window's 10 buckets averaged 1,000 ticks: the admin's price stays within the band (10%)
        d.h.fails(
            &[ix::set_settlement_price(&d.put.accounts, &admin.pubkey(), 1_101)],
            &[&admin],
            Expected::Meridian(MeridianError::InvalidSettlementPrice),
            &[d.put.accounts.market],
        );
        d.h.ok(&[put_set], &[&admin]);
        let put = d.market(&d.put);
        assert_eq!((put.settlement_price, put.settlement_source), (1_010, SettlementSource::Admin as u8));
        // the call's window, refreshed like the future's, has enough: the admin cannot override it
        d.h.fails(
            &[ix::set_settlement_price(&d.call.accounts, &admin.pubkey(), 1)],
            &[&admin],
            Expected::Meridian(MeridianError::SettlementGraceNotOver),
            &[d.call.accounts.market],
        );
        d.check();
    }

    #[test]
    fn expiry_instructions_reject_bad_input_and_change_nothing() {
        let mut d = dated();
        let (alice, bob) = (d.alice.clone_ref(), d.bob.clone_ref());
        let admin = d.fx.admin.insecure_clone();
        let watched = vec![d.fx.exchange, d.fut.accounts.market, d.fut.accounts.book, alice.margin, bob.margin];
        // listing: a future without an expiry in the future, an option without a strike, a perpetual with an expiry, a ragged window
        for bad in [
            linear_params("F", MarketKind::Future, 100.0, d.ts),
            MarketParams { strike: 0, ..option_params("C", MarketKind::Call, 100, EXPIRY) },
            MarketParams { expiry_ts: EXPIRY, ..default_market_params() },
            MarketParams { settlement_window_secs: 31, ..linear_params("F", MarketKind::Future, 100.0, EXPIRY) },
        ] {
            d.h.market_creation_fails(&d.fx, bad, Expected::Meridian(MeridianError::InvalidDatedParams));
        }
        // before expiry: nothing settles, nothing is cancelled, the admin cannot close
        let resting = d.h.place(&d.fut, &bob, order::limit(Side::Ask, 1_050, 5).post_only());
        assert_eq!(resting.posted_lots, 5);
        d.h.fails(
            &[ix::settle_expired(&d.fut.accounts, &[alice.margin])],
            &[],
            Expected::Meridian(MeridianError::SettlementPriceNotFixed),
            &watched,
        );
        d.h.fails(
            &[ix::cancel_expired_orders(&d.fut.accounts, &[bob.margin])],
            &[],
            Expected::Meridian(MeridianError::MarketNotExpired),
            &watched,
        );
        d.h.fails(
            &[ix::close_market(&d.fut.accounts, &admin.pubkey())],
            &[&admin],
            Expected::Meridian(MeridianError::SettlementPriceNotFixed),
            &watched,
        );
        // a perpetual has no expiry
        let perp = d.h.setup_market(&d.fx, default_market_params());
        d.h.fails(
            &[ix::fix_settlement_price(&perp.accounts)],
            &[],
            Expected::Meridian(MeridianError::NotDatedMarket),
            &[perp.accounts.market],
        );
        d.h.fails(
            &[ix::settle_expired(&perp.accounts, &[alice.margin])],
            &[],
            Expected::Meridian(MeridianError::NotDatedMarket),
            &[perp.accounts.market],
        );
        d.h.fails(
            &[ix::cancel_expired_orders(&perp.accounts, &[bob.margin])],
            &[],
            Expected::Meridian(MeridianError::NotDatedMarket),
            &[perp.accounts.book],
        );
        // another market's book or queue; another signer than the admin
        let wrong_book = meridian_sdk::ix::MarketAccounts { book: perp.accounts.book, ..d.fut.accounts };
        d.h.fails(
            &[ix::cancel_expired_orders(&wrong_book, &[bob.margin])],
            &[],
            Expected::Meridian(MeridianError::WrongBook),
            &watched,
        );
        let wrong_queue = meridian_sdk::ix::MarketAccounts { event_queue: perp.accounts.event_queue, ..d.fut.accounts };
        d.h.fails(
            &[ix::fix_settlement_price(&wrong_queue)],
            &[],
            Expected::Meridian(MeridianError::WrongEventQueue),
            &watched,
        );
        let bob_owner = bob.owner.insecure_clone();
        d.h.fails(
            &[ix::close_market(&d.fut.accounts, &bob_owner.pubkey())],
            &[&bob_owner],
            Expected::Meridian(MeridianError::NotAdmin),
            &watched,
        );
        d.h.fails(
            &[ix::set_settlement_price(&d.fut.accounts, &bob_owner.pubkey(), 1_000)],
            &[&bob_owner],
            Expected::Meridian(MeridianError::NotAdmin),
            &watched,
        );
        // expired, with a fill the crank has not applied: the price waits for the queue
        d.sample_window(100.0);
        d.h.place(&d.fut, &alice, order::limit(Side::Bid, 1_000, 1).immediate_or_cancel());
        d.h.place(&d.fut, &alice, order::limit(Side::Bid, 1_050, 1).immediate_or_cancel());
        d.price(EXPIRY - d.ts, 100.0);
        d.h.fails(
            &[ix::fix_settlement_price(&d.fut.accounts)],
            &[],
            Expected::Meridian(MeridianError::EventsPending),
            &watched,
        );
        d.h.crank(&d.fut, &bob.margin);
        // resting orders are cancelled by anyone from expiry on
        let meta = d.h.ok(&[ix::cancel_expired_orders(&d.fut.accounts, &[bob.margin, alice.margin])], &[]);
        assert_eq!(meta.return_data.data, 1u16.to_le_bytes());
        assert_eq!(d.h.margin(&bob.margin).num_open_orders(), 0);
        d.h.ok(&[ix::fix_settlement_price(&d.fut.accounts)], &[]);
        // wrong exchange; not writable; a settled market is not liquidated
        let fx2 = d.h.setup_exchange(6, SPL_TOKEN, ExchangeParams { index: 1, ..Default::default() });
        let stranger = d.h.funded_trader(&fx2, 1_000 * USDC, 1_000 * USDC);
        d.h.fails(
            &[ix::settle_expired(&d.fut.accounts, &[stranger.margin])],
            &[],
            Expected::Meridian(MeridianError::WrongExchange),
            &watched,
        );
        let mut read_only = ix::settle_expired(&d.fut.accounts, &[alice.margin]);
        read_only.accounts[2].is_writable = false;
        d.h.fails(&[read_only], &[], Expected::Meridian(MeridianError::AccountNotWritable), &watched);
        // the admin cannot close while positions hold base
        d.h.fails(
            &[ix::close_market(&d.fut.accounts, &admin.pubkey())],
            &[&admin],
            Expected::Meridian(MeridianError::OpenInterestLeft),
            &watched,
        );
        d.h.fails(
            &[ix::set_market_status(&d.fut.accounts, &admin.pubkey(), meridian::MarketStatus::Closed)],
            &[&admin],
            Expected::Meridian(MeridianError::OpenInterestLeft),
            &watched,
        );
        // paused trading pauses settlement too
        d.h.ok(&[ix::set_paused(&d.fx.exchange, &admin.pubkey(), PauseFlags::TRADING)], &[&admin]);
        d.h.fails(
            &[ix::settle_expired(&d.fut.accounts, &[alice.margin])],
            &[],
            Expected::Meridian(MeridianError::TradingPaused),
            &watched,
        );
        d.h.ok(&[ix::set_paused(&d.fx.exchange, &admin.pubkey(), 0)], &[&admin]);
        // a settled market's positions are not liquidated: they settle
        let take = ix::liquidate_take_position(
            &d.fx.exchange,
            &d.fut.accounts,
            &alice.margin,
            &bob.margin,
            &bob.owner.pubkey(),
            1,
            &[],
            &[],
        );
        d.h.fails(&[take], &[&bob.owner], Expected::Meridian(MeridianError::MarketSettled), &watched);
        // the long settled alone: no long lots left, but bob's short still holds base, so the market
        // stays open until it settles too
        assert_eq!(d.settle(d.fut, &[&alice]), 1);
        assert_eq!(d.market(&d.fut).open_interest, 0);
        d.h.fails(
            &[ix::close_market(&d.fut.accounts, &admin.pubkey())],
            &[&admin],
            Expected::Meridian(MeridianError::OpenInterestLeft),
            &watched,
        );
        d.h.fails(
            &[ix::set_market_status(&d.fut.accounts, &admin.pubkey(), meridian::MarketStatus::Closed)],
            &[&admin],
            Expected::Meridian(MeridianError::OpenInterestLeft),
            &watched,
        );
        // alice's loss was realized and her slot freed: only bob moves
        assert_eq!(d.settle(d.fut, &[&bob, &alice]), 1);
        d.h.ok(&[ix::close_market(&d.fut.accounts, &admin.pubkey())], &[&admin]);
        d.check();
    }
}
