//! Markets, every order type and flag, the crank, fees and positions on the SBF binary in LiteSVM;
//! every bad input gets its specific error and changes nothing; conservation after every step.
use anchor_lang::error::ErrorCode as Anchor;
use meridian::{
    CancelSide, ExchangeParams, MarketMode, MarketParams, MarketStatus, MassQuoteArgs, MeridianError, OrderType,
    PauseFlags, PlaceOrderArgs, QuoteLevel,
};
use meridian_engine::events::{OutReason, EVENT_FILL, EVENT_OUT};
use meridian_engine::matching::SelfTrade;
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
    pda,
};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

struct Setup {
    h: Harness,
    fx: ExchangeFixture,
    m: MarketFixture,
    alice: Trader,
    bob: Trader,
    crank: Trader,
}

/// An exchange, one market, two funded traders (100k USDC each) and a crank operator.
fn setup_with(params: MarketParams) -> Setup {
    let mut w = Scenario::market(params)
        .exchange(ExchangeParams { insurance_fee_share_bps: 2_000, ..Default::default() })
        .traders(2, 200_000 * USDC, 100_000 * USDC)
        .trader(0, 0)
        .build();
    let [alice, bob, crank] = w.take_traders();
    Setup { h: w.h, fx: w.fx, m: w.m, alice, bob, crank }
}

fn setup() -> Setup {
    setup_with(default_market_params())
}

impl Setup {
    /// Accounts any trading instruction may touch.
    fn watched(&self) -> Vec<Pubkey> {
        let a = &self.m.accounts;
        vec![self.fx.exchange, a.market, a.book, a.event_queue, self.alice.margin, self.bob.margin, self.crank.margin]
    }

    fn fails(&mut self, t: &Trader, args: PlaceOrderArgs, expected: MeridianError) {
        let ix = self.h.place_ix(&self.m, t, args);
        let w = self.watched();
        self.h.fails(&[ix], &[&t.owner], Expected::Meridian(expected), &w);
    }

    fn check(&self) {
        self.h.assert_conserved(&self.fx);
        self.h.assert_markets_balanced(&self.fx);
    }

    fn position(&self, t: &Trader) -> meridian_engine::position::Position {
        let a = self.h.margin(&t.margin);
        a.find_position(self.m.index).map(|i| *a.position(i)).unwrap_or_default()
    }
}

#[test]
fn create_market_validates_its_parameters() {
    let mut s = setup();
    let market = s.h.market(&s.m.accounts.market);
    assert_eq!((market.index, market.tick_size, market.base_lot_size, market.mark_price), (0, 10, 10_000, PRICE));
    assert_eq!(meridian_sdk::state::market_name(&market), "BTC-PERP");
    assert_eq!(s.h.exchange(&s.fx.exchange).num_markets, 1);
    let book = s.h.book(&s.m);
    assert_eq!((book.bids.len(), book.asks.len(), book.orders_per_side), (0, 0, 64));

    type Mutation = fn(&mut MarketParams);
    let bad: Vec<(&str, Mutation)> = vec![
        ("zero tick", |p| p.tick_size = 0),
        ("zero lot", |p| p.base_lot_size = 0),
        ("zero min size", |p| p.min_order_lots = 0),
        ("maintenance above initial", |p| p.maintenance_margin_bps = 2_000),
        ("zero maintenance", |p| p.maintenance_margin_bps = 0),
        ("initial above 100%", |p| p.initial_margin_bps = 10_001),
        ("rebate above taker fee", |p| p.maker_fee_ppm = -600),
        ("zero mark", |p| p.initial_mark_price = 0),
        ("zero book", |p| p.book_capacity = 0),
        ("huge queue", |p| p.event_queue_capacity = 1_000_000),
    ];
    for (what, f) in bad {
        let mut params = default_market_params();
        f(&mut params);
        let (book, queue) = (Keypair::new(), Keypair::new());
        let mut sized = params;
        sized.book_capacity = sized.book_capacity.clamp(1, 64);
        sized.event_queue_capacity = sized.event_queue_capacity.clamp(1, 64);
        let alloc = ix::allocate_market_accounts(&s.h.payer.pubkey(), &book.pubkey(), &queue.pubkey(), &sized, |l| {
            s.h.svm.minimum_balance_for_rent_exemption(l)
        });
        s.h.ok(&alloc, &[&book, &queue]);
        let create =
            ix::create_market(&s.fx.exchange, &s.fx.admin.pubkey(), 1, params, &book.pubkey(), &queue.pubkey());
        let w = [s.fx.exchange, pda::market(&s.fx.exchange, 1).0, book.pubkey(), queue.pubkey()];
        println!("{what}");
        s.h.fails(&[create], &[&s.fx.admin], Expected::Meridian(MeridianError::InvalidMarketParams), &w);
    }
    // a kind code no variant has does not deserialize (raw byte 26, after the index and the name:
    // the typed argument cannot say it)
    let (book, queue) = (Keypair::new(), Keypair::new());
    let mut create = ix::create_market(
        &s.fx.exchange,
        &s.fx.admin.pubkey(),
        1,
        default_market_params(),
        &book.pubkey(),
        &queue.pubkey(),
    );
    assert_eq!(create.data[26], meridian::MarketKind::Perpetual as u8);
    create.data[26] = 4; // the first code after Put
    let w = [s.fx.exchange, pda::market(&s.fx.exchange, 1).0];
    s.h.fails(&[create], &[&s.fx.admin], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &w);

    // a book account of the wrong size, an index out of sequence, and a non-admin
    let params = default_market_params();
    let (book, queue) = (Keypair::new(), Keypair::new());
    let mut small = params;
    small.book_capacity = 32;
    let alloc = ix::allocate_market_accounts(&s.h.payer.pubkey(), &book.pubkey(), &queue.pubkey(), &small, |l| {
        s.h.svm.minimum_balance_for_rent_exemption(l)
    });
    s.h.ok(&alloc, &[&book, &queue]);
    let w = [s.fx.exchange, book.pubkey(), queue.pubkey()];
    let create = ix::create_market(&s.fx.exchange, &s.fx.admin.pubkey(), 1, params, &book.pubkey(), &queue.pubkey());
    s.h.fails(&[create], &[&s.fx.admin], Expected::Meridian(MeridianError::InvalidBookAccount), &w);
    let create = ix::create_market(&s.fx.exchange, &s.fx.admin.pubkey(), 5, small, &book.pubkey(), &queue.pubkey());
    s.h.fails(&[create], &[&s.fx.admin], Expected::Meridian(MeridianError::InvalidMarketParams), &w);
    let intruder = Keypair::new();
    s.h.svm.airdrop(&intruder.pubkey(), 10_000_000_000).unwrap();
    let create = ix::create_market(&s.fx.exchange, &intruder.pubkey(), 1, small, &book.pubkey(), &queue.pubkey());
    s.h.fails(&[create], &[&intruder], Expected::Meridian(MeridianError::NotAdmin), &w);
    // the market's own book cannot be reused for a second market
    let create =
        ix::create_market(&s.fx.exchange, &s.fx.admin.pubkey(), 1, params, &s.m.accounts.book, &queue.pubkey());
    s.h.fails(&[create], &[&s.fx.admin], Expected::Anchor(Anchor::ConstraintZero), &w);
    let create = ix::create_market(&s.fx.exchange, &s.fx.admin.pubkey(), 1, small, &book.pubkey(), &queue.pubkey());
    s.h.ok(&[create], &[&s.fx.admin]);
}

#[test]
fn resting_orders_are_recorded_in_book_and_account() {
    let mut s = setup();
    let r = s.h.place(&s.m, &s.alice, order::limit(Side::Bid, PRICE - 10, 5).client_id(42));
    assert_eq!((r.order_seq, r.filled_lots, r.posted_lots, r.posted_price), (1, 0, 5, PRICE - 10));
    let r2 = s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + 10, 3));
    assert_eq!(r2.order_seq, 2);
    let book = s.h.book(&s.m);
    assert_eq!((book.bids[0].price, book.bids[0].size, book.bids[0].client_order_id), (PRICE - 10, 5, 42));
    assert_eq!(book.bids[0].owner, s.alice.margin);
    assert_eq!(book.asks[0].size, 3);
    let a = s.h.margin(&s.alice.margin);
    assert_eq!(a.num_open_orders(), 2);
    let p = s.position(&s.alice);
    assert_eq!((p.bid_lots, p.ask_lots, p.base_lots), (5, 3, 0));
    assert_eq!(p.bid_notional, 5 * (PRICE - 10) * 10);
    s.check();
}

#[test]
fn crossing_fills_at_the_makers_price_and_the_crank_settles_the_maker() {
    let mut s = setup();
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 10)); // maker
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + 5, 10));
    let bob_before = s.h.margin(&s.bob.margin).collateral;
    let r = s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 5, 15)); // taker
    let notional = 10 * PRICE * 10 + 5 * (PRICE + 5) * 10;
    assert_eq!((r.filled_lots, r.filled_quote, r.posted_lots), (15, notional, 0));
    assert_eq!(r.taker_fee, (notional * 500).div_ceil(1_000_000));
    // taker applied at once
    let bob = s.h.margin(&s.bob.margin);
    assert_eq!(bob.collateral, bob_before - r.taker_fee as i64);
    let p = s.position(&s.bob);
    assert_eq!((p.base_lots, p.quote_balance), (15, -(notional as i64)));
    // no oracle: the stable mark moves 60/3,660 of the way to the last fill (5 ticks): not a tick
    assert_eq!(s.h.market(&s.m.accounts.market).mark_price, PRICE);
    // maker pending: two fill events
    let events = s.h.events(&s.m);
    assert_eq!(
        events.iter().map(|e| (e.kind, e.size.0, e.maker_out)).collect::<Vec<_>>(),
        [(EVENT_FILL, 10, 1), (EVENT_FILL, 5, 0)]
    );
    s.check();
    assert_eq!(s.position(&s.alice).base_lots, 0, "maker's fill not applied before the crank");

    let alice_before = s.h.margin(&s.alice.margin).collateral;
    let applied = s.h.crank(&s.m, &s.crank.margin);
    assert_eq!(applied, 2);
    let p = s.position(&s.alice);
    assert_eq!((p.base_lots, p.quote_balance, p.ask_lots), (-15, notional as i64, 5));
    let rebate = (10 * PRICE * 10 * 100 / 1_000_000) + (5 * (PRICE + 5) * 10 * 100 / 1_000_000);
    assert_eq!(s.h.margin(&s.alice.margin).collateral, alice_before + rebate as i64);
    assert_eq!(s.h.margin(&s.alice.margin).num_open_orders(), 1, "the filled order's slot is free");
    assert_eq!(s.h.margin(&s.crank.margin).collateral, 200, "crank reward: 100 per event");
    let market = s.h.market(&s.m.accounts.market);
    assert_eq!((market.open_interest, market.pending_rebates), (15, 0));
    // fee split: taker fee - rebates - crank = protocol; 20% of it to insurance, held by the
    // market (the order flow never writes the exchange) until swept
    let protocol = r.taker_fee - rebate - 200;
    let insurance = protocol * 2_000 / 10_000;
    assert_eq!((market.unswept_insurance, market.unswept_fees), (insurance, protocol - insurance));
    let e = s.h.exchange(&s.fx.exchange);
    assert_eq!((e.insurance_balance, e.fees_accrued, e.total_collateral), (0, 0, (200_000 * USDC) as i64));
    s.check();
    s.h.ok(&[ix::sweep_market(&s.m.accounts)], &[]);
    let e = s.h.exchange(&s.fx.exchange);
    let moved = market.unswept_collateral;
    assert_eq!(moved, -(protocol as i64), "collateral left the accounts as exactly the protocol's share");
    assert_eq!(
        (e.insurance_balance, e.fees_accrued, e.total_collateral),
        (insurance, protocol - insurance, (200_000 * USDC) as i64 + moved)
    );
    let market = s.h.market(&s.m.accounts.market);
    assert_eq!((market.unswept_collateral, market.unswept_fees, market.unswept_insurance), (0, 0, 0));
    s.check();
}

#[test]
fn post_only_slide_ioc_fok_and_market_orders() {
    let mut s = setup();
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 4));
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + 10, 4));
    // post-only would cross
    s.fails(&s.bob.clone_ref(), order::limit(Side::Bid, PRICE, 1).post_only(), MeridianError::PostOnlyWouldCross);
    // post-only-slide: one tick behind the best ask
    let r = s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 50, 1).post_only_slide());
    assert_eq!((r.filled_lots, r.posted_price), (0, PRICE - 1));
    // IOC: fills 4 at PRICE, the rest is cancelled (nothing rests)
    let r = s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE, 6).immediate_or_cancel());
    assert_eq!((r.filled_lots, r.posted_lots), (4, 0));
    // FOK that cannot fill entirely: refused, nothing changes
    s.fails(
        &s.bob.clone_ref(),
        order::limit(Side::Bid, PRICE + 10, 5).fill_or_kill(),
        MeridianError::FillOrKillNotFilled,
    );
    let r = s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 10, 4).fill_or_kill());
    assert_eq!(r.filled_lots, 4);
    // market order: worst price bounds it
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + 100, 2));
    let r = s.h.place(&s.m, &s.bob, order::market(Side::Bid, PRICE + 50, 2));
    assert_eq!(r.filled_lots, 0, "nothing at or below the worst price");
    let r = s.h.place(&s.m, &s.bob, order::market(Side::Bid, PRICE + 100, 2));
    assert_eq!(r.filled_lots, 2);
    s.h.crank(&s.m, &s.crank.margin);
    assert_eq!(s.position(&s.bob).base_lots, 10);
    assert_eq!(s.position(&s.alice).base_lots, -10);
    s.check();
}

#[test]
fn reduce_only_orders_only_reduce() {
    let mut s = setup();
    s.fails(
        &s.alice.clone_ref(),
        order::limit(Side::Ask, PRICE, 1).reduce_only(),
        MeridianError::ReduceOnlyWouldIncrease,
    );
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 5));
    s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE, 5)); // bob long 5
    s.h.crank(&s.m, &s.crank.margin);
    s.fails(
        &s.bob.clone_ref(),
        order::limit(Side::Bid, PRICE, 1).reduce_only(),
        MeridianError::ReduceOnlyWouldIncrease,
    );
    // a reduce-only sell of 8 is clamped to the 5 held
    let r = s.h.place(&s.m, &s.bob, order::limit(Side::Ask, PRICE + 20, 8).reduce_only());
    assert_eq!(r.posted_lots, 5);
    // and with those 5 resting, nothing more can be reduced
    s.fails(
        &s.bob.clone_ref(),
        order::limit(Side::Ask, PRICE + 30, 1).reduce_only(),
        MeridianError::ReduceOnlyWouldIncrease,
    );
    s.check();
}

#[test]
fn self_trade_prevention() {
    let mut s = setup();
    let ask = s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 5));
    s.fails(
        &s.alice.clone_ref(),
        order::limit(Side::Bid, PRICE, 2).self_trade(SelfTrade::Abort),
        MeridianError::SelfTrade,
    );
    // decrement: 2 taken off both, no fill, an out event for the maker's side
    let r = s.h.place(&s.m, &s.alice, order::limit(Side::Bid, PRICE, 2).self_trade(SelfTrade::DecrementTake));
    assert_eq!((r.filled_lots, r.posted_lots), (0, 0));
    assert_eq!(s.h.book(&s.m).asks[0].size, 3);
    // cancel-maker: own ask removed, the bid rests
    let r = s.h.place(&s.m, &s.alice, order::limit(Side::Bid, PRICE, 1).self_trade(SelfTrade::CancelMaker));
    assert_eq!((r.filled_lots, r.posted_lots), (0, 1));
    assert!(s.h.book(&s.m).asks.is_empty());
    let events = s.h.events(&s.m);
    assert!(events.iter().all(|e| e.kind == EVENT_OUT
        && e.out_reason == OutReason::SelfTrade as u8
        && e.maker_order_seq == ask.order_seq));
    s.h.crank(&s.m, &s.crank.margin);
    let a = s.h.margin(&s.alice.margin);
    assert_eq!(a.num_open_orders(), 1, "only the resting bid");
    assert_eq!((s.position(&s.alice).ask_lots, s.position(&s.alice).bid_lots), (0, 1));
    s.check();
}

#[test]
fn cancel_by_id_by_client_id_all_and_replace() {
    let mut s = setup();
    let a = &s.alice.clone_ref();
    let owner = a.owner.pubkey();
    let o1 = s.h.place(&s.m, a, order::limit(Side::Bid, PRICE - 100, 1).client_id(7));
    let o2 = s.h.place(&s.m, a, order::limit(Side::Bid, PRICE - 200, 2).client_id(8));
    for i in 0..3 {
        s.h.place(&s.m, a, order::limit(Side::Ask, PRICE + 100 + i, 1));
    }
    s.h.ok(&[ix::cancel_order(&s.m.accounts, &a.margin, &owner, o1.order_seq)], &[&a.owner]);
    s.h.ok(&[ix::cancel_order_by_client_id(&s.m.accounts, &a.margin, &owner, 8)], &[&a.owner]);
    assert!(s.h.book(&s.m).bids.is_empty());
    let w = s.watched();
    s.h.fails(
        &[ix::cancel_order(&s.m.accounts, &a.margin, &owner, o2.order_seq)],
        &[&a.owner],
        Expected::Meridian(MeridianError::OrderNotFound),
        &w,
    );
    // someone else cannot cancel alice's order: it is not in their account
    let bob = s.bob.clone_ref();
    let ask_seq = s.h.book(&s.m).asks[0].seq;
    s.h.fails(
        &[ix::cancel_order(&s.m.accounts, &bob.margin, &bob.owner.pubkey(), ask_seq)],
        &[&bob.owner],
        Expected::Meridian(MeridianError::OrderNotFound),
        &w,
    );
    s.h.fails(
        &[ix::cancel_order(&s.m.accounts, &a.margin, &bob.owner.pubkey(), ask_seq)],
        &[&bob.owner],
        Expected::Meridian(MeridianError::NotAccountOwner),
        &w,
    );
    // replace: cancel + place atomically; the new order gets a new id
    s.h.ok(
        &[ix::replace_order(&s.m.accounts, &a.margin, &owner, ask_seq, order::limit(Side::Ask, PRICE + 500, 4), &[])],
        &[&a.owner],
    );
    let r = s.h.margin(&a.margin).last_placement;
    assert_eq!((r.posted_lots, r.posted_price), (4, PRICE + 500));
    assert!(s.h.book(&s.m).asks.iter().all(|o| o.seq != ask_seq));
    // replacing an order that is gone fails and changes nothing
    let ix = ix::replace_order(&s.m.accounts, &a.margin, &owner, ask_seq, order::limit(Side::Ask, PRICE + 600, 1), &[]);
    s.h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::OrderNotFound), &w);
    // cancel all asks
    let all = s.h.ok(&[ix::cancel_all_orders(&s.m.accounts, &a.margin, &owner, CancelSide::Asks, 0)], &[&a.owner]);
    assert_eq!(all.return_data.data, [3u8]);
    assert!(s.h.book(&s.m).asks.is_empty());
    let acc = s.h.margin(&a.margin);
    assert_eq!(acc.num_open_orders(), 0);
    assert!(acc.find_position(s.m.index).is_none(), "flat position released");
    s.check();
}

#[test]
fn expired_orders_are_refused_skipped_and_cleaned_up() {
    let mut s = setup();
    // LiteSVM's clock starts at 0 (and expiry 0 means "never"): start it at a real date
    let mut clock = s.h.svm.get_sysvar::<solana_sdk::clock::Clock>();
    clock.unix_timestamp = 1_790_000_000;
    s.h.svm.set_sysvar(&clock);
    let now = clock.unix_timestamp;
    s.fails(
        &s.alice.clone_ref(),
        order::limit(Side::Ask, PRICE, 1).expires_at(now),
        MeridianError::OrderAlreadyExpired,
    );
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 3).expires_at(now + 60));
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + 1, 3));
    let mut clock = s.h.svm.get_sysvar::<solana_sdk::clock::Clock>();
    clock.unix_timestamp = now + 61;
    s.h.svm.set_sysvar(&clock);
    let r = s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 1, 2).immediate_or_cancel());
    assert_eq!((r.filled_lots, r.filled_quote), (2, 2 * (PRICE + 1) * 10), "the expired order was skipped");
    let kinds: Vec<(u8, u8)> = s.h.events(&s.m).iter().map(|e| (e.kind, e.out_reason)).collect();
    assert_eq!(kinds, [(EVENT_OUT, OutReason::Expired as u8), (EVENT_FILL, 0)]);
    s.h.crank(&s.m, &s.crank.margin);
    assert_eq!(s.h.margin(&s.alice.margin).num_open_orders(), 1);
    assert_eq!(s.position(&s.alice).ask_lots, 1);
    s.check();
}

#[test]
fn bad_orders_get_their_error_and_change_nothing() {
    let mut s = setup();
    let a = s.alice.clone_ref();
    s.fails(&a, order::limit(Side::Bid, PRICE, 0), MeridianError::ZeroSize);
    s.fails(&a, order::limit(Side::Bid, 0, 1), MeridianError::ZeroPrice);
    // a side, order type or self-trade code no variant has does not deserialize (raw bytes: the
    // typed arguments cannot say it): offsets 8, 25 and 26 of the data
    for (at, code) in [(8, 2), (25, 6), (26, 3)] {
        let mut ix = s.h.place_ix(&s.m, &a, order::limit(Side::Bid, PRICE, 1));
        ix.data[at] = code;
        let w = s.watched();
        s.h.fails(&[ix], &[&a.owner], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &w);
    }
    s.fails(&a, order::limit(Side::Bid, PRICE, 1).match_limit(65), MeridianError::MatchLimitTooHigh);
    s.fails(&a, order::limit(Side::Bid, u64::MAX, u64::MAX), MeridianError::OrderValueOverflow);
    // far more than 100k USDC can margin: 20 BTC is $1.3M, 10% initial margin is $130k
    s.fails(&a, order::limit(Side::Bid, PRICE, 200_000), MeridianError::InsufficientMargin);

    // not the owner
    let w = s.watched();
    let ix = ix::place_order(&s.m.accounts, &a.margin, &s.bob.owner.pubkey(), order::limit(Side::Bid, PRICE, 1), &[]);
    s.h.fails(&[ix], &[&s.bob.owner], Expected::Meridian(MeridianError::NotAccountOwner), &w);
    // the owner's key present but not signing
    let mut ix = s.h.place_ix(&s.m, &a, order::limit(Side::Bid, PRICE, 1));
    ix.accounts[5].is_signer = false;
    s.h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotSigner), &w);

    // wrong market: another market's book or queue
    let other = s.h.setup_market(&s.fx, default_market_params());
    let mut w2 = w.clone();
    w2.extend([other.accounts.book, other.accounts.event_queue]);
    let mut ix = s.h.place_ix(&s.m, &a, order::limit(Side::Bid, PRICE, 1));
    ix.accounts[2].pubkey = other.accounts.book;
    s.h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::WrongBook), &w2);
    let mut ix = s.h.place_ix(&s.m, &a, order::limit(Side::Bid, PRICE, 1));
    ix.accounts[3].pubkey = other.accounts.event_queue;
    s.h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::WrongEventQueue), &w2);
    // a margin account of another exchange
    let fx2 = s.h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
    let stranger = s.h.trader(&fx2, 0);
    let ix = ix::place_order(
        &s.m.accounts,
        &stranger.margin,
        &stranger.owner.pubkey(),
        order::limit(Side::Bid, PRICE, 1),
        &[],
    );
    s.h.fails(&[ix], &[&stranger.owner], Expected::Meridian(MeridianError::WrongExchange), &w);

    // below the market's minimum size
    let mut params = default_market_params();
    params.min_order_lots = 10;
    let big = s.h.setup_market(&s.fx, params);
    let ix = s.h.place_ix(&big, &a, order::limit(Side::Bid, PRICE, 9));
    s.h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::BelowMinOrderSize), &[big.accounts.book, a.margin]);
    s.check();
}

#[test]
fn market_status_and_exchange_pause_gate_trading() {
    let mut s = setup();
    let a = s.alice.clone_ref();
    let resting = s.h.place(&s.m, &a, order::limit(Side::Bid, PRICE - 100, 1));
    let admin = s.fx.admin.pubkey();
    let w = s.watched();
    // not the admin
    s.h.fails(
        &[ix::set_market_status(&s.m.accounts, &a.owner.pubkey(), MarketStatus::Paused)],
        &[&a.owner],
        Expected::Meridian(MeridianError::NotAdmin),
        &w,
    );
    // a status code no variant has does not deserialize (raw byte 8: the typed argument cannot say it)
    let mut unknown = ix::set_market_status(&s.m.accounts, &admin, MarketStatus::Closed);
    assert_eq!(unknown.data[8], 3);
    unknown.data[8] = 4;
    s.h.fails(&[unknown], &[&s.fx.admin], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &w);
    // cancel-only: no new orders, cancels work
    s.h.ok(&[ix::set_market_status(&s.m.accounts, &admin, MarketStatus::CancelOnly)], &[&s.fx.admin]);
    s.fails(&a, order::limit(Side::Bid, PRICE - 100, 1), MeridianError::MarketCancelOnly);
    s.h.ok(&[ix::cancel_order(&s.m.accounts, &a.margin, &a.owner.pubkey(), resting.order_seq)], &[&a.owner]);
    // paused: nothing but the crank
    s.h.ok(&[ix::set_market_status(&s.m.accounts, &admin, MarketStatus::Paused)], &[&s.fx.admin]);
    s.fails(&a, order::limit(Side::Bid, PRICE - 100, 1), MeridianError::MarketPaused);
    s.h.ok(&[ix::set_market_status(&s.m.accounts, &admin, MarketStatus::Active)], &[&s.fx.admin]);
    // exchange-wide trading pause
    s.h.ok(&[ix::set_paused(&s.fx.exchange, &admin, PauseFlags::TRADING)], &[&s.fx.admin]);
    s.fails(&a, order::limit(Side::Bid, PRICE - 100, 1), MeridianError::TradingPaused);
    s.h.ok(&[ix::set_paused(&s.fx.exchange, &admin, 0)], &[&s.fx.admin]);
    // closing needs an empty book
    let o = s.h.place(&s.m, &a, order::limit(Side::Bid, PRICE - 100, 1));
    let w = s.watched();
    s.h.fails(
        &[ix::set_market_status(&s.m.accounts, &admin, MarketStatus::Closed)],
        &[&s.fx.admin],
        Expected::Meridian(MeridianError::MarketNotEmpty),
        &w,
    );
    s.h.ok(&[ix::cancel_order(&s.m.accounts, &a.margin, &a.owner.pubkey(), o.order_seq)], &[&a.owner]);
    s.h.ok(&[ix::set_market_status(&s.m.accounts, &admin, MarketStatus::Closed)], &[&s.fx.admin]);
    s.fails(&a, order::limit(Side::Bid, PRICE - 100, 1), MeridianError::MarketClosed);
    s.check();
}

#[test]
fn full_book_evicts_worse_orders_or_refuses() {
    let mut params = default_market_params();
    params.book_capacity = 4;
    let mut s = setup_with(params);
    let a = s.alice.clone_ref();
    for i in 0..4 {
        s.h.place(&s.m, &a, order::limit(Side::Bid, PRICE - 10 - i, 1));
    }
    s.fails(&s.bob.clone_ref(), order::limit(Side::Bid, PRICE - 13, 1), MeridianError::BookFull);
    // a better bid evicts the worst (PRICE - 13) with an out event
    s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE - 5, 1));
    let bids: Vec<u64> = s.h.book(&s.m).bids.iter().map(|o| o.price).collect();
    assert_eq!(bids, [PRICE - 5, PRICE - 10, PRICE - 11, PRICE - 12]);
    let e = s.h.events(&s.m);
    assert_eq!((e[0].kind, e[0].out_reason, e[0].price.0), (EVENT_OUT, OutReason::Evicted as u8, PRICE - 13));
    s.h.crank(&s.m, &s.crank.margin);
    assert_eq!(s.h.margin(&a.margin).num_open_orders(), 3);
    assert_eq!(s.position(&a).bid_lots, 3);
    s.check();
}

#[test]
fn full_event_queue_refuses_placements_that_would_add_events() {
    let mut params = default_market_params();
    params.event_queue_capacity = 2;
    let mut s = setup_with(params);
    for i in 0..3 {
        s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + i, 1));
    }
    s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 1, 2)); // two fills: queue full
                                                                    // resting orders still work (no event), crossing ones do not
    s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE - 50, 1));
    s.fails(&s.bob.clone_ref(), order::limit(Side::Bid, PRICE + 2, 1), MeridianError::EventQueueFull);
    s.h.crank(&s.m, &s.crank.margin);
    s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 2, 1));
    s.h.crank(&s.m, &s.crank.margin);
    s.check();
}

#[test]
fn consume_events_is_exact_and_tolerates_stale_cranks() {
    let mut s = setup();
    let carol = s.h.trader(&s.fx, 200_000 * USDC);
    s.h.deposit(&s.fx, &carol, 100_000 * USDC);
    s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 1));
    s.h.place(&s.m, &s.bob, order::limit(Side::Ask, PRICE + 1, 1));
    s.h.place(&s.m, &carol, order::limit(Side::Bid, PRICE + 1, 2));
    assert_eq!(s.h.events(&s.m).len(), 2);

    // only alice's account passed: one event applied, the crank stops at bob's
    let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
    let meta = s.h.ok(&[ix], &[]);
    assert_eq!(meta.return_data.data, 1u16.to_le_bytes());
    assert_eq!(s.h.events(&s.m).len(), 1);
    assert_eq!(s.position(&s.alice).base_lots, -1);
    s.check();
    // a stale crank (alice again): nothing it can apply, refused, nothing changes
    let w = s.watched();
    let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
    s.h.fails(&[ix], &[], Expected::Meridian(MeridianError::NoEventsToConsume), &w);
    // the reward account must belong to the exchange
    let fx2 = s.h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
    let outsider = s.h.trader(&fx2, 0);
    let ix = ix::consume_events(&s.m.accounts, &outsider.margin, 10, &[s.bob.margin]);
    s.h.fails(&[ix], &[], Expected::Meridian(MeridianError::WrongExchange), &w);
    // bob's event, then an empty queue
    let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.bob.margin]);
    s.h.ok(&[ix], &[]);
    assert_eq!(s.position(&s.bob).base_lots, -1);
    let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.bob.margin]);
    s.h.fails(&[ix], &[], Expected::Meridian(MeridianError::NoEventsToConsume), &w);
    s.check();
}

#[test]
fn margin_bounds_orders_and_withdrawals_across_markets() {
    let mut s = setup();
    let second = s.h.setup_market(&s.fx, default_market_params());
    let (a, b) = (s.alice.clone_ref(), s.bob.clone_ref());
    // bob goes long 1,000 lots (0.1 BTC, $6,500) in market 0
    s.h.place(&s.m, &a, order::limit(Side::Ask, PRICE, 1_000));
    s.h.place(&s.m, &b, order::limit(Side::Bid, PRICE, 1_000));
    s.h.crank(&s.m, &s.crank.margin);
    // in market 1 the margin check needs market 0's account; without it the order is refused
    let ix =
        ix::place_order(&second.accounts, &b.margin, &b.owner.pubkey(), order::limit(Side::Bid, PRICE - 100, 1), &[]);
    let w = [b.margin, second.accounts.book, second.accounts.market];
    s.h.fails(&[ix], &[&b.owner], Expected::Meridian(MeridianError::MissingMarketAccount), &w);
    // the wrong market in its place
    let ix = ix::place_order(
        &second.accounts,
        &b.margin,
        &b.owner.pubkey(),
        order::limit(Side::Bid, PRICE - 100, 1),
        &[second.accounts.market],
    );
    assert!(s.h.send(&[ix], &[&b.owner]).is_err());
    s.h.place(&second, &b, order::limit(Side::Bid, PRICE - 100, 1));

    // withdrawals stop exactly at the initial margin of both markets
    let account = s.h.margin(&b.margin);
    let m0 = s.h.market(&s.m.accounts.market);
    let m1 = s.h.market(&second.accounts.market);
    let risks = [m0.risk(), m1.risk()];
    let positions: Vec<_> = account.positions_in_use().copied().collect();
    let health = meridian_engine::margin::health(account.collateral, positions.iter().zip(risks.iter()));
    let free = health.initial_free().min(account.collateral as i128) as u64;
    assert!(free > 0 && free < account.collateral as u64);
    let markets = ix::health_markets(&s.fx.exchange, &account, None);
    let wd = |amount| ix::withdraw_checked(&s.fx.collateral, &b.margin, &b.owner.pubkey(), &b.token, amount, &markets);
    let w = [b.margin, s.fx.exchange, s.fx.collateral.vault, b.token];
    s.h.fails(&[wd(free + 1)], &[&b.owner], Expected::Meridian(MeridianError::InsufficientCollateral), &w);
    let without = ix::withdraw(&s.fx.collateral, &b.margin, &b.owner.pubkey(), &b.token, 1);
    s.h.fails(&[without], &[&b.owner], Expected::Meridian(MeridianError::MissingMarketAccount), &w);
    s.h.ok(&[wd(free)], &[&b.owner]);
    // and now no new risk fits
    s.fails(&b, order::limit(Side::Bid, PRICE, 1), MeridianError::InsufficientMargin);
    // but reduce-only orders always do
    s.h.place(&s.m, &b, order::limit(Side::Ask, PRICE + 10, 10).reduce_only());
    s.check();
}

#[test]
fn account_limits_positions_and_open_orders() {
    let mut params = default_market_params();
    params.book_capacity = 70;
    params.event_queue_capacity = 4;
    let mut s = setup_with(params);
    let a = s.alice.clone_ref();
    for i in 0..64 {
        s.h.place(&s.m, &a, order::limit(Side::Bid, PRICE - 1_000 - i, 1));
    }
    s.fails(&a, order::limit(Side::Bid, PRICE - 2_000, 1), MeridianError::TooManyOpenOrders);
    // an order that cannot rest needs no slot
    s.h.place(&s.m, &a, order::limit(Side::Ask, PRICE + 5_000, 1).immediate_or_cancel());
    s.h.ok(&[ix::cancel_all_orders(&s.m.accounts, &a.margin, &a.owner.pubkey(), CancelSide::Both, 0)], &[&a.owner]);

    // positions: 16 markets at most
    let mut small = default_market_params();
    small.book_capacity = 2;
    small.event_queue_capacity = 2;
    let mut markets = vec![s.m];
    for _ in 0..16 {
        markets.push(s.h.setup_market(&s.fx, small));
    }
    for m in &markets[..16] {
        s.h.place(m, &a, order::limit(Side::Bid, PRICE - 1_000, 1));
    }
    let last = markets[16];
    let ix = s.h.place_ix(&last, &a, order::limit(Side::Bid, PRICE - 1_000, 1));
    s.h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::TooManyPositions), &[a.margin, last.accounts.book]);
    s.check();
}

/// A trading delegate: the owner names a key that places, replaces and cancels for the account (on
/// the program's own entrypoint and Anchor's alike), and that key can do nothing else: no
/// withdrawal, no closing, no deposit from the owner's tokens, no new delegate; clearing it, or
/// another key, is refused like a stranger.
#[test]
fn a_delegate_trades_but_cannot_withdraw_close_or_redelegate() {
    let mut s = setup();
    let delegate = Keypair::new();
    let alice = s.alice.clone_ref();
    let as_delegate = Trader { owner: delegate.insecure_clone(), token: alice.token, margin: alice.margin };
    let w = s.watched();
    // before it is named, the key is a stranger
    s.fails(&as_delegate, order::limit(Side::Bid, PRICE - 10, 1), MeridianError::NotAccountOwner);
    let set = ix::set_delegate(&alice.margin, &delegate.pubkey(), &delegate.pubkey());
    s.h.fails(&[set], &[&delegate], Expected::Meridian(MeridianError::NotAccountOwner), &w);
    s.h.ok(&[ix::set_delegate(&alice.margin, &alice.owner.pubkey(), &delegate.pubkey())], &[&alice.owner]);
    assert_eq!(s.h.margin(&alice.margin).delegate, delegate.pubkey());

    // it quotes, requotes and cancels for alice; bob's fill against it lands in alice's account
    let placed = s.h.place(&s.m, &as_delegate, order::limit(Side::Bid, PRICE - 10, 3).post_only().client_id(5));
    let replace = ix::replace_order(
        &s.m.accounts,
        &alice.margin,
        &delegate.pubkey(),
        placed.order_seq,
        order::limit(Side::Bid, PRICE - 5, 3).post_only(),
        &[],
    );
    s.h.ok(&[replace], &[&delegate]);
    s.h.place(&s.m, &as_delegate, order::limit(Side::Bid, PRICE - 20, 1).client_id(9));
    s.h.ok(&[ix::cancel_order_by_client_id(&s.m.accounts, &alice.margin, &delegate.pubkey(), 9)], &[&delegate]);
    let bob = s.bob.clone_ref();
    assert_eq!(s.h.place(&s.m, &bob, order::limit(Side::Ask, PRICE - 5, 3).immediate_or_cancel()).filled_lots, 3);
    let crank = s.crank.margin;
    s.h.crank(&s.m, &crank);
    assert_eq!(s.position(&alice).base_lots, 3, "the delegate's fills are alice's");
    s.h.place(&s.m, &as_delegate, order::limit(Side::Bid, PRICE - 30, 1));
    s.h.ok(
        &[ix::cancel_all_orders(&s.m.accounts, &alice.margin, &delegate.pubkey(), CancelSide::Both, 0)],
        &[&delegate],
    );
    assert_eq!(s.h.margin(&alice.margin).num_open_orders(), 0);

    // and nothing else: withdraw, deposit, close, re-delegate
    let w = s.watched();
    let withdraw = ix::withdraw(&s.fx.collateral, &alice.margin, &delegate.pubkey(), &alice.token, 1);
    s.h.fails(&[withdraw], &[&delegate], Expected::Meridian(MeridianError::NotAccountOwner), &w);
    let deposit = ix::deposit(&s.fx.collateral, &alice.margin, &delegate.pubkey(), &alice.token, 1);
    s.h.fails(&[deposit], &[&delegate], Expected::Meridian(MeridianError::NotAccountOwner), &w);
    let close = ix::close_margin_account(&s.fx.exchange, &alice.margin, &delegate.pubkey());
    s.h.fails(&[close], &[&delegate], Expected::Meridian(MeridianError::NotAccountOwner), &w);
    let grab = ix::set_delegate(&alice.margin, &delegate.pubkey(), &Keypair::new().pubkey());
    s.h.fails(&[grab], &[&delegate], Expected::Meridian(MeridianError::NotAccountOwner), &w);
    // another account's orders stay out of reach
    let on_bob = Trader { owner: delegate.insecure_clone(), token: bob.token, margin: bob.margin };
    s.fails(&on_bob, order::limit(Side::Bid, PRICE - 10, 1), MeridianError::NotAccountOwner);

    // cleared: a stranger again
    s.h.ok(&[ix::set_delegate(&alice.margin, &alice.owner.pubkey(), &Pubkey::default())], &[&alice.owner]);
    s.fails(&as_delegate, order::limit(Side::Bid, PRICE - 10, 1), MeridianError::NotAccountOwner);
    s.check();
}

/// A ladder of `n` quotes a side, `step` ticks apart, starting `gap` ticks from PRICE.
fn ladder(n: u64, gap: u64, step: u64, size: u64) -> (Vec<QuoteLevel>, Vec<QuoteLevel>) {
    let bids = (0..n).map(|i| QuoteLevel { price: PRICE - gap - i * step, size }).collect();
    let asks = (0..n).map(|i| QuoteLevel { price: PRICE + gap + i * step, size }).collect();
    (bids, asks)
}

fn quote_args(
    cancel_all: bool,
    kind: OrderType,
    client_base: u64,
    (bids, asks): (Vec<QuoteLevel>, Vec<QuoteLevel>),
) -> MassQuoteArgs {
    MassQuoteArgs { cancel_all, order_kind: kind, client_order_id_base: client_base, bids, asks, ..Default::default() }
}

impl Setup {
    fn mass_quote_ix(&self, t: &Trader, args: MassQuoteArgs) -> solana_sdk::instruction::Instruction {
        let health = ix::health_markets(&self.m.accounts.exchange, &self.h.margin(&t.margin), Some(self.m.index));
        ix::mass_quote(&self.m.accounts, &t.margin, &t.owner.pubkey(), args, &health)
    }

    /// Sends a mass quote; returns (cancelled, posted, skipped).
    fn mass_quote(&mut self, t: &Trader, args: MassQuoteArgs) -> [u8; 3] {
        let ix = self.mass_quote_ix(t, args);
        let meta = self.h.ok(&[ix], &[&t.owner]);
        meta.return_data.data.try_into().expect("three bytes of return data")
    }

    fn mass_quote_fails(&mut self, t: &Trader, args: MassQuoteArgs, expected: MeridianError) {
        let ix = self.mass_quote_ix(t, args);
        let w = self.watched();
        self.h.fails(&[ix], &[&t.owner], Expected::Meridian(expected), &w);
    }
}

/// A 10 + 10 requote in one instruction: posted with client ids from the base, order ids in
/// argument order, the position's resting totals and open orders matching the book; the next
/// requote cancels what is left (a filled quote is the crank's) and posts anew.
#[test]
fn mass_quote_cancels_and_posts_a_ladder() {
    let mut s = setup();
    let alice = s.alice.clone_ref();
    let first_seq = s.h.market(&s.m.accounts.market).next_order_seq;
    assert_eq!(s.mass_quote(&alice, quote_args(true, OrderType::PostOnly, 100, ladder(10, 10, 10, 2))), [0, 10 * 2, 0]);
    let book = s.h.book(&s.m);
    assert_eq!((book.bids.len(), book.asks.len()), (10, 10));
    assert_eq!((book.bids[0].price, book.bids[0].client_order_id, book.bids[0].seq), (PRICE - 10, 100, first_seq));
    assert_eq!(
        (book.asks[9].price, book.asks[9].client_order_id, book.asks[9].seq),
        (PRICE + 100, 119, first_seq + 19)
    );
    let p = s.position(&alice);
    assert_eq!((p.bid_lots, p.ask_lots), (20, 20));
    assert_eq!(s.h.margin(&alice.margin).num_open_orders(), 20);
    assert_eq!(s.h.margin(&alice.margin).last_placement.posted_lots, 40);

    // bob takes the best ask; the requote cancels the other 19 and posts 5 + 5
    let bob = s.bob.clone_ref();
    assert_eq!(s.h.place(&s.m, &bob, order::limit(Side::Bid, PRICE + 10, 2).immediate_or_cancel()).filled_lots, 2);
    assert_eq!(s.mass_quote(&alice, quote_args(true, OrderType::PostOnly, 200, ladder(5, 20, 10, 1))), [19, 10, 0]);
    let crank = s.crank.margin;
    s.h.crank(&s.m, &crank);
    let book = s.h.book(&s.m);
    assert_eq!((book.bids.len(), book.asks.len()), (5, 5));
    assert!(book.bids.iter().chain(&book.asks).all(|o| (200..210).contains(&o.client_order_id)));
    let p = s.position(&alice);
    assert_eq!((p.base_lots, p.bid_lots, p.ask_lots), (-2, 5, 5));
    assert_eq!(s.h.margin(&alice.margin).num_open_orders(), 10);
    s.check();

    // cancel only (no quotes), by client ids: unknown ids are ignored
    let args =
        MassQuoteArgs { cancel_client_ids: vec![200, 206, 999], order_kind: OrderType::PostOnly, ..Default::default() };
    assert_eq!(s.mass_quote(&alice, args), [2, 0, 0]);
    assert_eq!(s.h.margin(&alice.margin).num_open_orders(), 8);
    s.check();
}

/// Quotes that cross the book: post-only skips them (and posts the rest), post-only-slide rests
/// them a tick behind the best opposite order; neither ever fills.
#[test]
fn mass_quote_crossing_quotes_are_skipped_or_slid() {
    let mut s = setup();
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    s.h.place(&s.m, &bob, order::limit(Side::Ask, PRICE, 1));
    s.h.place(&s.m, &bob, order::limit(Side::Bid, PRICE - 50, 1));
    let crossing = || {
        (
            vec![QuoteLevel { price: PRICE + 10, size: 1 }, QuoteLevel { price: PRICE - 60, size: 1 }],
            vec![QuoteLevel { price: PRICE - 50, size: 1 }],
        )
    };
    assert_eq!(s.mass_quote(&alice, quote_args(false, OrderType::PostOnly, 0, crossing())), [0, 1, 2]);
    assert!(s.h.events(&s.m).is_empty(), "nothing filled");
    assert_eq!(s.position(&alice).bid_lots, 1);
    assert_eq!(s.mass_quote(&alice, quote_args(true, OrderType::PostOnlySlide, 0, crossing())), [1, 3, 0]);
    let mine: Vec<(Side, u64)> = s.h.book(&s.m).orders_of(&alice.margin).iter().map(|o| (o.side, o.price)).collect();
    // the ask slides behind the best bid, which is by then the quote's own slid bid
    assert_eq!(mine, [(Side::Bid, PRICE - 1), (Side::Bid, PRICE - 60), (Side::Ask, PRICE)]);
    assert!(s.h.events(&s.m).is_empty(), "nothing filled");
    s.check();
}

/// Every refusal changes nothing, the cancels included: a bad kind, too many quotes, a quote the
/// account's margin cannot carry, a full book side, a stranger, a paused market.
#[test]
fn mass_quote_refusals_change_nothing() {
    let mut s = setup_with(MarketParams { book_capacity: 4, ..default_market_params() });
    let alice = s.alice.clone_ref();
    assert_eq!(s.mass_quote(&alice, quote_args(true, OrderType::PostOnly, 0, ladder(2, 10, 10, 1))), [0, 4, 0]);
    for kind in [OrderType::Limit, OrderType::ImmediateOrCancel] {
        s.mass_quote_fails(&alice, quote_args(true, kind, 0, ladder(2, 10, 10, 1)), MeridianError::InvalidOrderKind);
    }
    s.mass_quote_fails(
        &alice,
        quote_args(true, OrderType::PostOnly, 0, ladder(33, 10, 1, 1)),
        MeridianError::TooManyQuotes,
    );
    // 100k USDC at 10% initial margin carries about 1M of orders; one lot is $6.5
    s.mass_quote_fails(
        &alice,
        quote_args(true, OrderType::PostOnly, 0, ladder(1, 10, 10, 200_000)),
        MeridianError::InsufficientMargin,
    );
    s.mass_quote_fails(&alice, quote_args(true, OrderType::PostOnly, 0, ladder(1, 10, 10, 0)), MeridianError::ZeroSize);
    // four orders a side fit: with bob's two better bids the side is full, and a bid worse than
    // all four is refused
    let bob = s.bob.clone_ref();
    s.h.place(&s.m, &bob, order::limit(Side::Bid, PRICE - 1, 1));
    s.h.place(&s.m, &bob, order::limit(Side::Bid, PRICE - 2, 1));
    s.mass_quote_fails(
        &alice,
        quote_args(false, OrderType::PostOnly, 0, (vec![QuoteLevel { price: PRICE - 100, size: 1 }], vec![])),
        MeridianError::BookFull,
    );
    let stranger = Trader { owner: Keypair::new(), token: alice.token, margin: alice.margin };
    s.mass_quote_fails(
        &stranger,
        quote_args(true, OrderType::PostOnly, 0, ladder(1, 10, 10, 1)),
        MeridianError::NotAccountOwner,
    );
    let admin = s.fx.admin.insecure_clone();
    s.h.ok(&[ix::set_paused(&s.fx.exchange, &admin.pubkey(), PauseFlags::TRADING)], &[&admin]);
    s.mass_quote_fails(
        &alice,
        quote_args(true, OrderType::PostOnly, 0, ladder(1, 10, 10, 1)),
        MeridianError::TradingPaused,
    );
    // a paused exchange still lets the account cancel
    assert_eq!(s.mass_quote(&alice, quote_args(true, OrderType::PostOnly, 0, (vec![], vec![]))), [4, 0, 0]);
    s.check();
}

/// A full event queue: quotes that sweep stale (expired) orders write out events; with no room
/// for them the mass quote fails and changes nothing.
#[test]
fn mass_quote_full_event_queue_changes_nothing() {
    let mut s = setup_with(MarketParams { event_queue_capacity: 1, ..default_market_params() });
    let mut clock = s.h.svm.get_sysvar::<solana_sdk::clock::Clock>();
    clock.unix_timestamp = 1_790_000_000;
    s.h.svm.set_sysvar(&clock);
    let bob = s.bob.clone_ref();
    s.h.place(&s.m, &bob, order::limit(Side::Ask, PRICE, 1).expires_at(clock.unix_timestamp + 10));
    s.h.place(&s.m, &bob, order::limit(Side::Ask, PRICE + 10, 1).expires_at(clock.unix_timestamp + 10));
    clock.unix_timestamp += 11;
    s.h.svm.set_sysvar(&clock);
    let alice = s.alice.clone_ref();
    let sweep = (vec![QuoteLevel { price: PRICE + 20, size: 1 }], vec![]);
    s.mass_quote_fails(
        &alice,
        quote_args(true, OrderType::PostOnlySlide, 0, sweep.clone()),
        MeridianError::EventQueueFull,
    );
    // one stale order swept fits: the quoter pays its crank reward
    let one = (vec![QuoteLevel { price: PRICE, size: 1 }], vec![]);
    let before = s.h.margin(&alice.margin).collateral;
    assert_eq!(s.mass_quote(&alice, quote_args(true, OrderType::PostOnly, 0, one)), [0, 1, 0]);
    assert_eq!(s.h.margin(&alice.margin).collateral, before - 100, "one out event's crank reward");
    let crank = s.crank.margin;
    s.h.crank(&s.m, &crank);
    s.check();
}

/// Batch markets: frequent call auctions (`set_market_mode`, `clear_auction`).
mod batch {
    use super::*;
    use meridian::AuctionCleared;
    use solana_sdk::clock::Clock;

    /// A batch market (the default 2-slot period) and `n` funded traders with fixed keys.
    fn batch_setup(n: u8) -> (Harness, ExchangeFixture, MarketFixture, Vec<Trader>, Trader) {
        let mut h = Harness::new();
        let fx =
            h.setup_exchange(6, SPL_TOKEN, ExchangeParams { insurance_fee_share_bps: 2_000, ..Default::default() });
        let m = h.setup_market(&fx, default_market_params());
        h.ok(&[ix::set_market_mode(&m.accounts, &fx.admin.pubkey(), MarketMode::Batch, 0)], &[&fx.admin]);
        let traders: Vec<Trader> = (0..n)
            .map(|i| {
                let t = h.trader_as(fixed_keypair(100 + i), &fx, 200_000 * USDC);
                h.deposit(&fx, &t, 100_000 * USDC);
                t
            })
            .collect();
        let crank = h.trader(&fx, 0);
        (h, fx, m, traders, crank)
    }

    fn warp_slots(h: &mut Harness, n: u64) {
        let mut clock = h.svm.get_sysvar::<Clock>();
        clock.slot += n;
        h.svm.set_sysvar(&clock);
    }

    /// Clears once the period is over; returns what the clearing said.
    fn clear(h: &mut Harness, m: &MarketFixture) -> AuctionCleared {
        warp_slots(h, 2);
        let meta = h.ok(&[ix::clear_auction(&m.accounts)], &[]);
        anchor_lang::AnchorDeserialize::deserialize(&mut &meta.return_data.data[..]).unwrap()
    }

    fn base(h: &Harness, m: &MarketFixture, t: &Trader) -> i64 {
        let a = h.margin(&t.margin);
        a.find_position(m.index).map_or(0, |i| a.position(i).base_lots)
    }

    fn check(h: &Harness, fx: &ExchangeFixture) {
        h.assert_conserved(fx);
        h.assert_markets_balanced(fx);
    }

    #[test]
    fn set_market_mode_is_admin_only_and_needs_an_empty_book() {
        let mut s = setup();
        let (a, admin) = (s.m.accounts, s.fx.admin.pubkey());
        let w = s.watched();
        let alice = s.alice.owner.insecure_clone();
        s.h.fails(
            &[ix::set_market_mode(&a, &alice.pubkey(), MarketMode::Batch, 0)],
            &[&alice],
            Expected::Meridian(MeridianError::NotAdmin),
            &w,
        );
        let admin_kp = s.fx.admin.insecure_clone();
        let ix = ix::set_market_mode(&a, &admin, MarketMode::Batch, 151);
        s.h.fails(&[ix], &[&admin_kp], Expected::Meridian(MeridianError::InvalidMarketMode), &w);
        // a mode code no variant has does not deserialize (raw byte 8)
        let mut unknown = ix::set_market_mode(&a, &admin, MarketMode::Batch, 0);
        assert_eq!(unknown.data[8], 1);
        unknown.data[8] = 2;
        s.h.fails(&[unknown], &[&admin_kp], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &w);
        s.h.place(&s.m, &s.alice, order::limit(Side::Bid, PRICE - 10, 1));
        let ix = ix::set_market_mode(&a, &admin, MarketMode::Batch, 0);
        s.h.fails(&[ix], &[&admin_kp], Expected::Meridian(MeridianError::MarketModeNeedsEmptyBook), &w);
        // a continuous market has no auction
        s.h.fails(&[ix::clear_auction(&a)], &[], Expected::Meridian(MeridianError::NotBatchMarket), &w);
        // a book larger than a batch book may be
        let m2 = s.h.setup_market(
            &s.fx,
            MarketParams { book_capacity: 129, event_queue_capacity: 258, ..default_market_params() },
        );
        let ix = ix::set_market_mode(&m2.accounts, &admin, MarketMode::Batch, 0);
        s.h.fails(
            &[ix],
            &[&admin_kp],
            Expected::Meridian(MeridianError::MarketModeNeedsEmptyBook),
            &[m2.accounts.market],
        );
        let m3 = s.h.setup_market(&s.fx, default_market_params());
        s.h.ok(&[ix::set_market_mode(&m3.accounts, &admin, MarketMode::Batch, 5)], &[&admin_kp]);
        let market = s.h.market(&m3.accounts.market);
        assert_eq!(
            (market.mode(), market.auction_period_slots, market.auction_end_slot % 5),
            (MarketMode::Batch, 5, 0)
        );
    }

    /// docs/trading.md's worked example on the SBF binary: orders wait, the clearing trades 14 lots at one
    /// price by market pressure, fills reach both sides through the crank, the rest waits.
    #[test]
    fn orders_wait_and_clear_at_one_price() {
        let (mut h, fx, m, t, crank) = batch_setup(4);
        let (a, b, c, d) = (&t[0], &t[1], &t[2], &t[3]);
        h.place(&m, a, order::limit(Side::Bid, PRICE + 3, 5));
        h.place(&m, b, order::limit(Side::Bid, PRICE + 2, 10));
        h.place(&m, a, order::limit(Side::Bid, PRICE, 5));
        h.place(&m, c, order::limit(Side::Ask, PRICE - 1, 8));
        h.place(&m, d, order::limit(Side::Ask, PRICE + 1, 6));
        h.place(&m, c, order::limit(Side::Ask, PRICE + 4, 10));
        // nothing matched on arrival: the book is crossed until the clearing
        let book = h.book(&m);
        assert_eq!((book.bids.len(), book.asks.len()), (3, 3));
        assert!(h.events(&m).is_empty());
        // not before the period is over
        let w = vec![m.accounts.market, m.accounts.book, m.accounts.event_queue];
        h.fails(&[ix::clear_auction(&m.accounts)], &[], Expected::Meridian(MeridianError::AuctionNotDue), &w);
        let r = clear(&mut h, &m);
        assert_eq!(r, AuctionCleared { price: PRICE + 2, volume: 14, fills: 4 });
        let market = h.market(&m.accounts.market);
        assert_eq!(
            (market.last_clearing_price, market.last_clearing_volume, market.auctions_cleared),
            (PRICE + 2, 14, 1)
        );
        assert_eq!(market.auction_pending, 0);
        let fees_before: Vec<i64> = t.iter().map(|x| h.margin(&x.margin).fees_paid).collect();
        assert_eq!(h.crank(&m, &crank.margin), 4);
        assert_eq!([base(&h, &m, a), base(&h, &m, b), base(&h, &m, c), base(&h, &m, d)], [5, 9, -8, -6]);
        // every order was new in this auction: each pays the taker rate (500 ppm, rounded up) on
        // its fill at the clearing price
        let fee = |lots: u64| ((lots * (PRICE + 2) * 10 * 500).div_ceil(1_000_000)) as i64;
        let paid: Vec<i64> = t.iter().zip(&fees_before).map(|(x, f)| h.margin(&x.margin).fees_paid - f).collect();
        assert_eq!(paid, vec![fee(5), fee(9), fee(8), fee(6)]);
        // resting: b's last lot, a's bid at PRICE, c's ask at PRICE + 4; the resting totals match
        let book = h.book(&m);
        let left: Vec<(u64, u64)> = book.bids.iter().chain(book.asks.iter()).map(|o| (o.price, o.size)).collect();
        assert_eq!(left, vec![(PRICE + 2, 1), (PRICE, 5), (PRICE + 4, 10)]);
        let pos = |x: &Trader| {
            let acc = h.margin(&x.margin);
            *acc.position(acc.find_position(m.index).unwrap())
        };
        assert_eq!((pos(a).bid_lots, pos(a).bid_notional), (5, 5 * PRICE * 10));
        assert_eq!((pos(b).bid_lots, pos(b).bid_notional), (1, (PRICE + 2) * 10));
        assert_eq!((pos(c).ask_lots, pos(d).ask_lots), (10, 0));
        check(&h, &fx);
        // the next auction: nothing crosses, nothing trades
        let r = clear(&mut h, &m);
        assert_eq!(r, AuctionCleared::default());
        assert_eq!(h.market(&m.accounts.market).auctions_cleared, 2);
    }

    /// A maker who cancels in the same auction as a sniper is never picked off; once the auction
    /// has closed, its orders stay until the clearing (no last look).
    #[test]
    fn cancels_come_before_matching_and_not_after_the_close() {
        let (mut h, fx, m, t, crank) = batch_setup(2);
        let (maker, sniper) = (&t[0], &t[1]);
        h.place(&m, maker, order::limit(Side::Ask, PRICE + 1, 5).client_id(7));
        // same slot: the sniper lands first, the maker's cancel after it
        h.place(&m, sniper, order::limit(Side::Bid, PRICE + 1, 5));
        h.ok(&[ix::cancel_order_by_client_id(&m.accounts, &maker.margin, &maker.owner.pubkey(), 7)], &[&maker.owner]);
        assert_eq!(clear(&mut h, &m), AuctionCleared::default());
        assert_eq!(h.crank(&m, &crank.margin), 0);
        assert_eq!(base(&h, &m, maker), 0);
        // the sniper's bid rests into the next auction; it pulls it
        assert_eq!(h.book(&m).bids.len(), 1);
        h.ok(
            &[ix::cancel_all_orders(&m.accounts, &sniper.margin, &sniper.owner.pubkey(), CancelSide::Both, 8)],
            &[&sniper.owner],
        );

        // once the period is over, the maker's order is in the closed auction: no cancel
        h.place(&m, maker, order::limit(Side::Ask, PRICE + 1, 5).client_id(8));
        warp_slots(&mut h, 2);
        let w = vec![m.accounts.market, m.accounts.book, maker.margin];
        let ix = ix::cancel_order_by_client_id(&m.accounts, &maker.margin, &maker.owner.pubkey(), 8);
        h.fails(
            std::slice::from_ref(&ix),
            &[&maker.owner],
            Expected::Meridian(MeridianError::OrderInClosedAuction),
            &w,
        );
        // the sniper's bid now goes to the next auction and does not meet it in this one
        h.place(&m, sniper, order::limit(Side::Bid, PRICE + 1, 5));
        let meta = h.ok(&[ix::clear_auction(&m.accounts)], &[]);
        let r: AuctionCleared = anchor_lang::AnchorDeserialize::deserialize(&mut &meta.return_data.data[..]).unwrap();
        assert_eq!(r.volume, 0);
        // cleared: the maker may cancel again, and does before the next auction closes
        h.ok(&[ix], &[&maker.owner]);
        assert_eq!(clear(&mut h, &m), AuctionCleared::default());
        assert_eq!(base(&h, &m, sniper), 0);
        check(&h, &fx);
    }

    /// The same orders sent in another order give every trader the same fills (pro rata at the
    /// marginal level: 9 of 15 lots among asks of 3, 7 and 5 are 2, 4 and 3).
    #[test]
    fn arrival_order_does_not_change_the_outcome() {
        let orders = [
            (1usize, Side::Ask, PRICE, 3u64),
            (2, Side::Ask, PRICE, 7),
            (3, Side::Ask, PRICE, 5),
            (0, Side::Bid, PRICE + 1, 9),
        ];
        let mut outcomes = Vec::new();
        for arrival in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]] {
            let (mut h, fx, m, t, crank) = batch_setup(4);
            for i in arrival {
                let (who, side, price, size) = orders[i];
                h.place(&m, &t[who], order::limit(side, price, size));
            }
            let r = clear(&mut h, &m);
            h.crank(&m, &crank.margin);
            let bases: Vec<i64> = t.iter().map(|x| base(&h, &m, x)).collect();
            let collateral: Vec<i64> = t.iter().map(|x| h.margin(&x.margin).collateral).collect();
            check(&h, &fx);
            outcomes.push((r, bases, collateral));
        }
        assert_eq!(outcomes[0].0, AuctionCleared { price: PRICE, volume: 9, fills: 4 });
        assert_eq!(outcomes[0].1, vec![9, -2, -4, -3]);
        assert_eq!(outcomes[0], outcomes[1]);
        assert_eq!(outcomes[0], outcomes[2]);
    }

    /// A closed auction keeps its orders while it waits: a late clearing does not merge it with
    /// orders placed since, which form the next auction.
    #[test]
    fn a_late_clearing_does_not_merge_auctions() {
        let (mut h, fx, m, t, crank) = batch_setup(3);
        h.place(&m, &t[0], order::limit(Side::Ask, PRICE + 1, 5));
        let ask_seq = h.market(&m.accounts.market).next_order_seq - 1;
        warp_slots(&mut h, 2);
        // closes the maker's auction: this bid is in the next one
        h.place(&m, &t[1], order::limit(Side::Bid, PRICE + 1, 5));
        let boundary = h.market(&m.accounts.market).auction_boundary_seq;
        assert_eq!((boundary, h.market(&m.accounts.market).auction_pending), (ask_seq + 1, 1));
        // another period passes without a clearing: nothing moves
        warp_slots(&mut h, 4);
        h.place(&m, &t[2], order::limit(Side::Bid, PRICE + 1, 5));
        assert_eq!(h.market(&m.accounts.market).auction_boundary_seq, boundary);
        let meta = h.ok(&[ix::clear_auction(&m.accounts)], &[]);
        let r: AuctionCleared = anchor_lang::AnchorDeserialize::deserialize(&mut &meta.return_data.data[..]).unwrap();
        assert_eq!(r.volume, 0, "only the ask was in the late auction");
        // the next auction collects a whole period from the late clearing: the maker, locked
        // while it waited, may cancel now and place again (it stays in)
        let market = h.market(&m.accounts.market);
        assert!(market.auction_end_slot > h.svm.get_sysvar::<Clock>().slot && market.auction_pending == 0);
        h.ok(
            &[ix::cancel_all_orders(&m.accounts, &t[0].margin, &t[0].owner.pubkey(), CancelSide::Both, 0)],
            &[&t[0].owner],
        );
        h.place(&m, &t[0], order::limit(Side::Ask, PRICE + 1, 5));
        // the next clearing takes both bids: 5 lots shared pro rata
        let r = clear(&mut h, &m);
        assert_eq!((r.price, r.volume, r.fills), (PRICE + 1, 5, 3));
        h.crank(&m, &crank.margin);
        assert_eq!(base(&h, &m, &t[1]) + base(&h, &m, &t[2]), 5);
        check(&h, &fx);
    }

    /// An order that would breach initial margin if it filled is refused on arrival; continuous-only
    /// kinds and mass quotes are refused; nothing changes.
    #[test]
    fn batch_orders_are_margin_checked_and_limit_only() {
        let (mut h, fx, m, t, _) = batch_setup(1);
        let a = &t[0];
        let w = vec![m.accounts.market, m.accounts.book, m.accounts.event_queue, a.margin];
        // 100k USDC at 10% initial margin carries ~1M notional: 6.5 USDC a lot, ~153,846 lots
        let ix = h.place_ix(&m, a, order::limit(Side::Bid, PRICE, 200_000));
        h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::InsufficientMargin), &w);
        // the taker fee it would pay if filled must be in the account on arrival
        let broke = h.trader(&fx, 0);
        let ix = h.place_ix(&m, &broke, order::limit(Side::Bid, PRICE, 1));
        h.fails(
            &[ix],
            &[&broke.owner],
            Expected::Meridian(MeridianError::FeeExceedsCollateral),
            &[m.accounts.market, broke.margin],
        );
        for args in [
            order::limit(Side::Bid, PRICE, 1).post_only(),
            order::limit(Side::Bid, PRICE, 1).immediate_or_cancel(),
            order::market(Side::Bid, PRICE + 100, 1),
        ] {
            let ix = h.place_ix(&m, a, args);
            h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::BatchOrderKind), &w);
        }
        let quote = MassQuoteArgs {
            cancel_all: true,
            order_kind: OrderType::PostOnly,
            bids: vec![QuoteLevel { price: PRICE, size: 1 }],
            ..Default::default()
        };
        let health = ix::health_markets(&fx.exchange, &h.margin(&a.margin), Some(m.index));
        let ix = ix::mass_quote(&m.accounts, &a.margin, &a.owner.pubkey(), quote, &health);
        h.fails(&[ix], &[&a.owner], Expected::Meridian(MeridianError::BatchOrderKind), &w);
        check(&h, &fx);
    }
}

/// The study behind bench/AUCTION.md, short: jumps past the quotes cost the continuous maker,
/// never the batch one.
#[test]
fn latency_race_study_batch_maker_is_never_sniped() {
    use meridian_program_tests::auction_study::{jumps, run};
    let jumps = jumps(7, 24, 300);
    let continuous = run(false, 100, &jumps);
    let batch = run(true, 100, &jumps);
    assert!(continuous.attempts > 0 && continuous.attempts == batch.attempts);
    assert_eq!(continuous.sniped_lots, continuous.attempts as u64);
    // each sniped lot lost at least a tick beyond the half spread... and at most the largest jump
    assert!(continuous.maker_loss > 0);
    assert_eq!((batch.sniped_lots, batch.maker_loss), (0, 0));
}

/// The largest auction a batch market can hold clears in one instruction: 128 orders a side, every
/// one filling (256 events, the queue's capacity), and a marginal level of 128 orders shared pro
/// rata with 127 leftover lots to place; within the keeper's compute budget and the program's heap.
#[test]
fn batch_worst_case_auctions_clear_in_one_instruction() {
    use meridian::AuctionCleared;
    use solana_sdk::clock::Clock;
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
    let m =
        h.setup_market(&fx, MarketParams { book_capacity: 128, event_queue_capacity: 256, ..default_market_params() });
    h.ok(&[ix::set_market_mode(&m.accounts, &fx.admin.pubkey(), MarketMode::Batch, 1)], &[&fx.admin]);
    // 64 open orders an account: two accounts a side
    let traders: Vec<Trader> = (0..4)
        .map(|i| {
            let t = h.trader_as(fixed_keypair(160 + i), &fx, 200_000 * USDC);
            h.deposit(&fx, &t, 100_000 * USDC);
            t
        })
        .collect();
    let crank = h.trader(&fx, 0);
    // 256 events take more than one transaction's default compute: 64 at a time
    let drain = |h: &mut Harness| {
        let makers: Vec<Pubkey> = traders.iter().map(|t| t.margin).collect();
        let mut applied = 0;
        loop {
            let before = h.events(&m).len();
            if before == 0 {
                return applied;
            }
            h.ok(&[ix::consume_events(&m.accounts, &crank.margin, 64, &makers)], &[]);
            applied += before - h.events(&m).len();
        }
    };
    let clear = |h: &mut Harness| -> (AuctionCleared, u64) {
        let mut clock = h.svm.get_sysvar::<Clock>();
        clock.slot += 1;
        h.svm.set_sysvar(&clock);
        let mut ixs = meridian_sdk::budget::instructions(1_400_000, 0);
        ixs.push(ix::clear_auction(&m.accounts));
        let meta = h.ok(&ixs, &[]);
        (
            anchor_lang::AnchorDeserialize::deserialize(&mut &meta.return_data.data[..]).unwrap(),
            meta.compute_units_consumed,
        )
    };
    // every order crosses at a price of its own: all 256 fill at the reference
    for i in 0..128u64 {
        h.place(&m, &traders[(i / 64) as usize], order::limit(Side::Bid, PRICE + 1 + i, 1));
        h.place(&m, &traders[2 + (i / 64) as usize], order::limit(Side::Ask, PRICE - 1 - i, 1));
    }
    let (r, units) = clear(&mut h);
    assert_eq!(r, AuctionCleared { price: PRICE, volume: 128, fills: 256 });
    assert!(
        units <= meridian_sdk::budget::CLEAR_AUCTION_UNITS as u64,
        "{units} CU: above what the auction keeper requests"
    );
    println!("all 256 orders filled: {units} CU");
    assert_eq!(drain(&mut h), 256);
    // one price level a side; 128 bids of 3 share 255 lots: 1 each and 127 leftover lots
    for i in 0..128u64 {
        h.place(&m, &traders[(i / 64) as usize], order::limit(Side::Bid, PRICE, 3));
        h.place(&m, &traders[2 + (i / 64) as usize], order::limit(Side::Ask, PRICE, if i == 0 { 1 } else { 2 }));
    }
    let (r, units) = clear(&mut h);
    assert_eq!(r, AuctionCleared { price: PRICE, volume: 255, fills: 256 });
    assert!(
        units <= meridian_sdk::budget::CLEAR_AUCTION_UNITS as u64,
        "{units} CU: above what the auction keeper requests"
    );
    println!("128 orders pro rata: {units} CU");
    assert_eq!(drain(&mut h), 256);
    let bids: Vec<u64> = h.book(&m).bids.iter().map(|o| o.size).collect();
    // each bid kept 1 or 2 of its 3 lots; 1 of them kept 2 (the one without a leftover lot)
    assert_eq!((bids.len(), bids.iter().sum::<u64>()), (128, 384 - 255));
    h.assert_conserved(&fx);
    h.assert_markets_balanced(&fx);
}

/// The trade history: `consume_events` publishes what it applied, once, as an inner instruction
/// (`meridian::history`), and nothing else can publish a record.
mod history {
    use super::*;
    use meridian_sdk::history::{AppliedEvent, EventsApplied, FillRecord, OutReason as Reason, Side as RecordSide};

    fn fills(records: &[EventsApplied]) -> Vec<FillRecord> {
        records
            .iter()
            .flat_map(|r| &r.events)
            .filter_map(|e| if let AppliedEvent::Fill(f) = e { Some(*f) } else { None })
            .collect()
    }

    #[test]
    fn fills_and_outs_are_published_as_applied() {
        let mut s = setup();
        s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 2).client_id(9));
        s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE + 1, 3));
        s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE + 1, 4).immediate_or_cancel());
        let queued = s.h.events(&s.m);
        assert_eq!(queued.len(), 2);
        let fees_before = s.h.margin(&s.alice.margin).fees_paid;
        let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
        let (_, records) = s.h.ok_recorded(&[ix], &[]);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].market, s.m.accounts.market);
        let f = fills(&records);
        assert_eq!(f.len(), 2);
        for (fill, (event, (price, out))) in f.iter().zip(queued.iter().zip([(PRICE, true), (PRICE + 1, false)])) {
            assert_eq!((fill.seq_num, fill.timestamp), (event.seq_num, event.timestamp));
            assert_eq!((fill.maker, fill.taker), (s.alice.margin, s.bob.margin));
            assert_eq!(
                (fill.price, fill.size, fill.maker_side, fill.maker_out, fill.auction),
                (price, 2, RecordSide::Ask, out, false)
            );
        }
        assert_eq!(f[0].maker_client_order_id, 9);
        // the rebates as paid (maker fee -100 ppm of each fill's value)
        assert!(f.iter().all(|x| x.maker_fee < 0));
        assert_eq!(f.iter().map(|x| x.maker_fee).sum::<i64>(), s.h.margin(&s.alice.margin).fees_paid - fees_before);
        // the position moved by exactly what was published
        assert_eq!(s.position(&s.alice).base_lots, -(f.iter().map(|x| x.size as i64).sum::<i64>()));

        // an out: alice's bid meets her own resting ask (self-trade prevention cancels the ask)
        let ask_seq = s.h.book(&s.m).asks[0].seq;
        s.h.place(&s.m, &s.alice, order::limit(Side::Bid, PRICE + 1, 1).immediate_or_cancel());
        let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
        let (_, records) = s.h.ok_recorded(&[ix], &[]);
        let outs: Vec<_> = records[0]
            .events
            .iter()
            .filter_map(|e| if let AppliedEvent::Out(o) = e { Some(*o) } else { None })
            .collect();
        assert_eq!(outs.len(), 1, "{records:?}");
        assert_eq!((outs[0].owner, outs[0].order_seq, outs[0].size), (s.alice.margin, ask_seq, 1));
        assert_eq!((outs[0].side, outs[0].reason, outs[0].order_out), (RecordSide::Ask, Reason::SelfTrade, true));
        s.check();
    }

    /// One crank applies at most 64 events, so its record always fits the CPI data limit; the
    /// next crank publishes the rest, none twice.
    #[test]
    fn a_long_queue_is_published_in_bounded_batches() {
        let mut s = setup();
        s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 100));
        for _ in 0..70 {
            s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE, 1).immediate_or_cancel());
        }
        let queued: Vec<u64> = s.h.events(&s.m).iter().map(|e| e.seq_num).collect();
        assert_eq!(queued.len(), 70);
        let mut published = vec![];
        for expected in [64, 6] {
            let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 200, &[s.alice.margin]);
            let (meta, records) = s.h.ok_recorded(&[ix], &[]);
            assert_eq!(meta.return_data.data, (expected as u16).to_le_bytes());
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].events.len(), expected);
            published.extend(fills(&records).iter().map(|f| f.seq_num));
        }
        assert_eq!(published, queued);
        assert_eq!(s.position(&s.alice).base_lots, -70);
        s.check();
    }

    /// Only the program's own signed self-CPI is a record: the event authority must sign (only
    /// the program can), and a crank must name the real authority and program.
    #[test]
    fn records_cannot_be_forged_or_misrouted() {
        use solana_sdk::instruction::{AccountMeta, Instruction};
        let mut s = setup();
        s.h.place(&s.m, &s.alice, order::limit(Side::Ask, PRICE, 2));
        s.h.place(&s.m, &s.bob, order::limit(Side::Bid, PRICE, 1).immediate_or_cancel());
        let w = s.watched();
        let authority = pda::event_authority();
        let mut data = anchor_lang::event::EVENT_IX_TAG_LE.to_vec();
        data.extend_from_slice(<EventsApplied as anchor_lang::Discriminator>::DISCRIMINATOR);
        data.extend_from_slice(s.m.accounts.market.as_ref());
        data.extend_from_slice(&0u32.to_le_bytes());
        let forged = Instruction {
            program_id: meridian::ID,
            accounts: vec![AccountMeta::new_readonly(authority, false)],
            data: data.clone(),
        };
        s.h.fails(&[forged], &[], Expected::Anchor(Anchor::ConstraintSigner), &w);
        let bob_signs = Instruction {
            program_id: meridian::ID,
            accounts: vec![AccountMeta::new_readonly(s.bob.owner.pubkey(), true)],
            data,
        };
        s.h.fails(&[bob_signs], &[&s.bob.owner], Expected::Anchor(Anchor::ConstraintSeeds), &w);
        // a crank naming another account as the authority, or another program, fails whole
        let mut wrong_authority = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
        wrong_authority.accounts[4].pubkey = s.bob.margin;
        s.h.fails(&[wrong_authority], &[], Expected::Anchor(Anchor::ConstraintAddress), &w);
        let mut wrong_program = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
        wrong_program.accounts[5].pubkey = SPL_TOKEN;
        s.h.fails_any(&[wrong_program], &[], &w);
        // the real one publishes the fill
        let ix = ix::consume_events(&s.m.accounts, &s.crank.margin, 10, &[s.alice.margin]);
        let (_, records) = s.h.ok_recorded(&[ix], &[]);
        assert_eq!(fills(&records).len(), 1);
        s.check();
    }
}
