//! PnL settlement on the SBF binary: a loss is realized from collateral into the market's PnL pool,
//! a profit paid from it (an open position's at a usable price, 80% at most, 10% of its notional an
//! hour); a winner withdraws more than it deposited once the loser has paid, to the unit; funding
//! flows through; flat positions free their slots; every bad input changes nothing; conservation
//! (vault = collateral + fees + insurance + pools) after every step.

use meridian::{ExchangeParams, MarketParams, MeridianError, PauseFlags};
use meridian_program_tests::harness::*;
use meridian_program_tests::oracle::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
};
use solana_sdk::{pubkey::Pubkey, signer::Signer};

const USDC: u64 = 1_000_000;
const SLOT: u64 = 4_000;
const TS: i64 = 1_700_000_000;
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
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
    let (m, o) = h.setup_oracle_market(&fx, SLOT, TS);
    let alice = h.funded_trader(&fx, 100_000 * USDC, 20_000 * USDC);
    let bob = h.funded_trader(&fx, 200_000 * USDC, bob_usdc * USDC);
    let carol = h.funded_trader(&fx, 2_000_000 * USDC, 1_000_000 * USDC);
    let mut s = Setup { h, fx, m, o, alice, bob, carol, slot: SLOT, ts: TS };
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
    // anyone settles bob's loss: 5,000 USDC from his collateral into the pool
    assert_eq!(s.settle(&[&bob]), 1);
    assert_eq!((s.collateral(&bob), s.pool()), (15_006_500_000, 5_000_000_000));
    // alice, still open: 80% of her 5,000 (within 10% of her 70,000 notional)
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
        let params = MarketParams { name: meridian_sdk::state::encode_name(&format!("M{i}")), book_capacity: 8, ..default_market_params() };
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
    let foreign_market = ix::settle_pnl(&meridian_sdk::ix::MarketAccounts { exchange: s.fx.exchange, ..m2.accounts }, &[alice.margin]);
    s.h.fails(&[foreign_market], &[], Expected::Meridian(MeridianError::WrongExchange), &watched);
    let foreign_account = ix::settle_pnl(&s.m.accounts, &[stranger.margin]);
    s.h.fails(&[foreign_account], &[], Expected::Meridian(MeridianError::WrongExchange), &watched);
    // an account with no position in the market
    s.h.fails(&[ix::settle_pnl(&s.m.accounts, &[carol.margin])], &[], Expected::Meridian(MeridianError::NoPositionToSettle), &watched);
    // not a margin account; read-only
    let market_as_account = ix::settle_pnl(&s.m.accounts, &[s.m.accounts.book]);
    s.h.fails(&[market_as_account], &[], Expected::Anchor(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch), &watched);
    let mut read_only = ix::settle_pnl(&s.m.accounts, &[alice.margin]);
    read_only.accounts[2].is_writable = false;
    s.h.fails(&[read_only], &[], Expected::Meridian(MeridianError::AccountNotWritable), &watched);
    // paused trading
    let admin = s.fx.admin.insecure_clone();
    s.h.ok(&[ix::set_paused(&s.fx.exchange, &admin.pubkey(), PauseFlags::TRADING)], &[&admin]);
    s.h.fails(&[ix::settle_pnl(&s.m.accounts, &[alice.margin])], &[], Expected::Meridian(MeridianError::TradingPaused), &watched);
    s.check();
}
