//! Compute units per instruction, measured on the SBF binary.

use crate::harness::{default_market_params, fixed_keypair, Harness, MarketFixture, Trader, SPL_TOKEN, TOKEN_2022};
use litesvm::types::TransactionMetadata;
use meridian::MarketKind::{self, Call, Put};
use meridian::{CancelSide, ExchangeParams, MarketMode, MarketParams, MarketStatus, OrderType, PauseFlags};
use meridian_engine::probe::ProbeOp;
use meridian_sdk::ix;
use meridian_sdk::{
    ix::MarketAccounts,
    order::{self, OrderExt, Side},
    pda,
};
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use std::collections::BTreeMap;

/// A measured instruction: its name in `bench/cu.json`, what the scenario does, and the ceiling the
/// tests hold it to.
pub struct Row {
    pub name: &'static str,
    pub scenario: &'static str,
    pub ceiling: u64,
}

/// Every benchmarked instruction. Ceilings sit ~10-20% above the measured figure (the resting order
/// path at 10% over its figure before the price band: the budget the band had): a regression fails
/// the test suite, noise cannot (CU counts are deterministic for a given binary and keys). The two
/// PDA-creating instructions search their canonical bump on-chain (~1.5k CU per try), so their
/// cost depends on the keys; their ceilings leave room for that.
pub const ROWS: &[Row] = &[
    Row { name: "initialize_exchange", scenario: "SPL Token mint; creates exchange + vault PDAs", ceiling: 27_000 },
    Row { name: "create_margin_account", scenario: "PDA init, sub-account 0", ceiling: 11_500 },
    Row { name: "deposit", scenario: "SPL Token transfer_checked into the vault", ceiling: 8_250 },
    Row { name: "deposit_token_2022", scenario: "Token-2022 mint, same deposit", ceiling: 10_750 },
    Row { name: "withdraw", scenario: "SPL Token transfer_checked out, PDA-signed", ceiling: 8_150 },
    Row { name: "withdraw_token_2022", scenario: "Token-2022 mint, same withdrawal", ceiling: 10_550 },
    Row { name: "close_margin_account", scenario: "empty account, rent to owner", ceiling: 1_950 },
    Row { name: "set_delegate", scenario: "owner names a trading delegate", ceiling: 2_000 },
    Row { name: "set_paused", scenario: "admin sets all pause flags", ceiling: 1_250 },
    Row { name: "math_probe", scenario: "test-only probe program: u128 / u128, 128-bit divisor (worst case)", ceiling: 950 },
    Row { name: "create_market", scenario: "64 orders/side book, 128-event queue", ceiling: 12_050 },
    Row { name: "set_market_status", scenario: "admin sets cancel-only", ceiling: 2_450 },
    Row { name: "set_price_band", scenario: "admin sets a market's band to 5%", ceiling: 2_450 },
    Row { name: "settle_pnl_1", scenario: "one account's open position settled through the PnL pool (target <= 3,000)", ceiling: 2_900 },
    Row { name: "settle_pnl_per_extra_account", scenario: "each further account in the same settle_pnl", ceiling: 1_600 },
    Row { name: "cancel_expired_orders_1", scenario: "an expired future: one account's resting order cancelled", ceiling: 3_500 },
    Row { name: "fix_settlement_price", scenario: "30 bucket samples averaged, price fixed (logs the price)", ceiling: 5_000 },
    Row { name: "settle_expired_1", scenario: "one short future position closed at the settlement price, its loss into the pool", ceiling: 3_500 },
    Row {
        name: "settle_expired_per_account",
        scenario: "each further account of 20 in one settle_expired, paid from the pool (target <= 1,500)",
        ceiling: 1_500,
    },
    Row { name: "set_settlement_price", scenario: "admin price for a market without samples, a day after expiry", ceiling: 5_000 },
    Row { name: "close_market", scenario: "settled, no open interest: book and queue closed, rent to the admin", ceiling: 6_000 },
    Row { name: "create_oracle", scenario: "PDA init, 3 sources", ceiling: 8_000 },
    Row { name: "configure_oracle", scenario: "admin replaces 3 sources' limits", ceiling: 2_350 },
    Row {
        name: "refresh_oracle_3_sources",
        scenario: "2 Pyth PriceUpdateV2 + 1 Switchboard pull feed, all valid; median, TWAP, EWMA volatility",
        ceiling: 8_900,
    },
    Row { name: "set_market_oracle", scenario: "admin links a market to an oracle", ceiling: 2_250 },
    Row {
        name: "refresh_oracle_3_sources_1_market",
        scenario: "refresh as above, the price pushed to one market (converted to ticks)",
        ceiling: 11_800,
    },
    Row {
        name: "place_limit_resting_oracle_market",
        scenario: "place_limit_resting on a market priced by an oracle (clock read, usability check, portfolio margin of its 1 position)",
        ceiling: 4_700,
    },
    Row {
        name: "refresh_oracle_3_sources_1_option",
        scenario: "refresh as above, one option market's lot revalued (28 Black-Scholes valuations; target <= 20,000)",
        ceiling: REVALUE_1_CEILING,
    },
    Row {
        name: "refresh_oracle_3_sources_10_options",
        scenario: "refresh as above, a chain of 10 options of one underlying and expiry revalued",
        ceiling: REVALUE_10_CEILING,
    },
    Row {
        name: "margin_check_1_position",
        scenario: "portfolio margin check of 1 perpetual position (withdraw minus withdraw without positions)",
        ceiling: 3_000,
    },
    Row {
        name: "margin_check_16_positions",
        scenario: "8 options + 8 perpetuals/futures over 2 underlyings, same measure (target <= 40,000)",
        ceiling: 30_500,
    },
    Row {
        name: "place_limit_resting_16_positions",
        scenario: "resting bid by that 16-position account (portfolio check over 15 remaining markets)",
        ceiling: 28_600,
    },
    Row {
        name: "liquidate_cancel_orders_16",
        scenario: "stage 1: health check of a 1-position account below maintenance, its 16 resting orders cancelled, fee paid",
        ceiling: 13_100,
    },
    Row {
        name: "liquidate_take_position_16",
        scenario: "stage 2 on a 16-position account (8 options, 8 linear, 2 underlyings): its other 15 positions valued once, the taken one before and after, the liquidator's check (target <= 60,000)",
        ceiling: 42_000,
    },
    Row {
        name: "liquidate_take_position",
        scenario: "stage 2 on a 1-position account: the whole position taken over",
        ceiling: 13_000,
    },
    Row {
        name: "liquidate_bankruptcy",
        scenario: "stage 3: insurance fund draw, the rest socialized over a perpetual's open interest",
        ceiling: 3_200,
    },
    Row { name: "deposit_insurance", scenario: "SPL Token transfer into the vault, fund credited", ceiling: 8_000 },
    Row { name: "update_funding", scenario: "premium from the book's best prices, index accrued", ceiling: 3_550 },
    Row { name: "set_funding_params", scenario: "admin sets period, clamp, impact size", ceiling: 1_800 },
    Row { name: "settle_funding_1", scenario: "one margin account's position settled", ceiling: 1_550 },
    Row {
        name: "refresh_oracle_3_sources_3x_move",
        scenario: "same, the price tripled since the last refresh (the costliest volatility update)",
        ceiling: 10_000,
    },
    Row {
        name: "place_limit_resting",
        scenario: "bid rests in a book of 32 orders/side; account with 1 position; margin check",
        ceiling: 2_575,
    },
    Row { name: "place_post_only", scenario: "post-only bid, same book, behind the best bid (a tree search)", ceiling: 2_750 },
    Row {
        name: "place_reduce_only",
        scenario: "reduce-only post-only ask on a long of 9 lots (health checked before and after)",
        ceiling: 3_900,
    },
    Row {
        name: "taker_fill_1_maker",
        scenario: "IOC bid fills 1 maker order fully (the account valued as it was too: below maintenance only reduce-only fills)",
        ceiling: 4_300,
    },
    Row {
        name: "taker_fill_per_extra_maker",
        scenario: "slope over 1..8 makers filled (distinct accounts)",
        ceiling: 600,
    },
    Row { name: "cancel", scenario: "cancel by order id, book of 32 orders/side", ceiling: 1_250 },
    Row { name: "cancel_by_client_id", scenario: "cancel by client order id", ceiling: 1_250 },
    Row { name: "cancel_all_16", scenario: "16 resting orders of the account", ceiling: 10_500 },
    Row { name: "replace", scenario: "cancel + place a resting order", ceiling: 3_130 },
    Row {
        name: "mass_quote_10x10",
        scenario: "cancel the account's 20 quotes, post 10 bids + 10 asks (post-only), one margin check; book of ~1,000 orders/side (target <= 10,000)",
        ceiling: MASS_QUOTE_CEILING,
    },
    Row {
        name: "mass_quote_per_level",
        scenario: "slope per level (one quote cancelled, one posted) between 1+1 and 10+10",
        ceiling: MASS_QUOTE_PER_LEVEL_CEILING,
    },
    Row {
        name: "auction_clear_20x20",
        scenario: "batch market, 20 bids + 20 asks in the auction, 5 + 5 of them cross: 10 fill events (target <= 20,000)",
        ceiling: AUCTION_CLEAR_CEILING,
    },
    Row {
        name: "auction_clear_per_fill",
        scenario: "slope per fill event between 1 + 1 and 5 + 5 crossing orders, same depth",
        ceiling: AUCTION_PER_FILL_CEILING,
    },
    Row { name: "place_limit_batch", scenario: "a limit bid into a batch market's auction (no matching), margin check", ceiling: 3_200 },
    Row { name: "set_market_mode", scenario: "admin: an empty market to batch mode, 2-slot auctions", ceiling: 3_000 },
    Row { name: "sweep_market", scenario: "a market's unswept fees, insurance share and collateral total moved into the exchange", ceiling: 1_450 },
    Row {
        name: "consume_events_1",
        scenario: "one fill event, published by the EventsApplied self-CPI (~1,700 CU of it)",
        ceiling: 3_600,
    },
    Row {
        name: "consume_events_per_extra_event",
        scenario: "slope over 1..8 fill events (distinct makers), each also written into the record",
        ceiling: 1_000,
    },
];

/// Above the option revaluation figures (`measure_portfolio`) and the requote's (`measure_mass_quote`).
const REVALUE_1_CEILING: u64 = 22_000;
const REVALUE_10_CEILING: u64 = 155_000;
const MASS_QUOTE_CEILING: u64 = 10_000; // the target of issue 16
const MASS_QUOTE_PER_LEVEL_CEILING: u64 = 780;
/// Above the batch auction's figures (`measure_auction`; the target is 20,000 for 20 + 20).
const AUCTION_CLEAR_CEILING: u64 = 11_000;
const AUCTION_PER_FILL_CEILING: u64 = 650;

fn collateral_flow(h: &mut Harness, seed: u8, token_program: Pubkey, suffix: &str, out: &mut BTreeMap<String, u64>) {
    let mint = h.create_mint(6, token_program);
    let fx = h.setup_exchange_as(fixed_keypair(seed), mint, token_program, ExchangeParams::default());
    let t = h.trader_as(fixed_keypair(seed + 1), &fx, 1_000_000_000);
    out.insert(format!("deposit{suffix}"), h.deposit(&fx, &t, 500_000_000).compute_units_consumed);
    out.insert(format!("withdraw{suffix}"), h.withdraw(&fx, &t, 200_000_000).compute_units_consumed);
}

/// Runs every scenario on a fresh runtime and returns {instruction: compute units}. Every key that
/// feeds a PDA is fixed, so the on-chain bump searches, and with them the figures, reproduce exactly.
pub fn measure() -> BTreeMap<String, u64> {
    let mut h = Harness::new().with_math_probe();
    let mut out = BTreeMap::new();

    let mint = h.create_mint(6, SPL_TOKEN);
    let admin = fixed_keypair(1);
    h.svm.airdrop(&admin.pubkey(), 10_000_000_000).unwrap();
    let init = ix::initialize_exchange(&admin.pubkey(), &mint, &SPL_TOKEN, ExchangeParams::default());
    out.insert("initialize_exchange".into(), h.ok(&[init], &[&admin]).compute_units_consumed);
    let fx = h.setup_exchange_as(fixed_keypair(2), mint, SPL_TOKEN, ExchangeParams::default());

    let owner = fixed_keypair(3);
    h.svm.airdrop(&owner.pubkey(), 10_000_000_000).unwrap();
    let create = ix::create_margin_account(&fx.exchange, &owner.pubkey(), &owner.pubkey(), 0);
    out.insert("create_margin_account".into(), h.ok(&[create], &[&owner]).compute_units_consumed);
    let margin = meridian_sdk::pda::margin_account(&fx.exchange, &owner.pubkey(), 0).0;
    let delegate = ix::set_delegate(&margin, &owner.pubkey(), &fixed_keypair(4).pubkey());
    out.insert("set_delegate".into(), h.ok(&[delegate], &[&owner]).compute_units_consumed);
    let clear = ix::set_delegate(&margin, &owner.pubkey(), &Pubkey::default());
    h.ok(&[clear], &[&owner]);
    let close = ix::close_margin_account(&fx.exchange, &margin, &owner.pubkey());
    out.insert("close_margin_account".into(), h.ok(&[close], &[&owner]).compute_units_consumed);

    collateral_flow(&mut h, 10, SPL_TOKEN, "", &mut out);
    collateral_flow(&mut h, 20, TOKEN_2022, "_token_2022", &mut out);

    let pause = ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::ALL);
    out.insert("set_paused".into(), h.ok(&[pause], &[&fx.admin]).compute_units_consumed);

    // the test-only probe program (tests/math-probe): what the worst 128-bit libcall costs on SBF
    let probe = math_probe::instruction(ProbeOp::DivU128 as u8, -1, (u64::MAX as i128) << 3 | 5, 0);
    out.insert("math_probe".into(), h.ok(&[probe], &[]).compute_units_consumed);

    measure_trading(&mut h, &mut out);
    measure_mass_quote(&mut h, &mut out);
    measure_auction(&mut h, &mut out);
    measure_oracle(&mut h, &mut out);
    measure_portfolio(&mut h, &mut out);
    measure_expiry(&mut h, &mut out);

    for row in ROWS {
        assert!(out.contains_key(row.name), "no measurement for {}", row.name);
    }
    assert_eq!(out.len(), ROWS.len(), "a measurement without a row: {:?}", out.keys());
    out
}

/// A market with makers on both sides, fixed keys throughout.
fn measure_trading(h: &mut Harness, out: &mut BTreeMap<String, u64>) {
    const PRICE: u64 = 650_000;
    let mint = h.create_mint(6, SPL_TOKEN);
    let fx = h.setup_exchange_as(fixed_keypair(40), mint, SPL_TOKEN, ExchangeParams::default());
    let params = default_market_params();
    let (book, queue) = (fixed_keypair(41), fixed_keypair(42));
    let alloc = ix::allocate_market_accounts(&h.payer.pubkey(), &book.pubkey(), &queue.pubkey(), &params, |l| {
        h.svm.minimum_balance_for_rent_exemption(l)
    });
    h.ok(&alloc, &[&book, &queue]);
    let create = ix::create_market(&fx.exchange, &fx.admin.pubkey(), 0, params, &book.pubkey(), &queue.pubkey());
    out.insert("create_market".into(), h.ok(&[create], &[&fx.admin]).compute_units_consumed);
    let market = pda::market(&fx.exchange, 0).0;
    let m = MarketFixture { index: 0, accounts: MarketAccounts::of(market, &h.market(&market)) };

    let funded = |h: &mut Harness, seed: u8| {
        let t = h.trader_as(fixed_keypair(seed), &fx, 10_000_000 * 1_000_000);
        h.deposit(&fx, &t, 5_000_000 * 1_000_000);
        t
    };
    let depth = funded(h, 50);
    for i in 0..32 {
        h.place(&m, &depth, order::limit(Side::Bid, PRICE - 100 - i, 1));
        h.place(&m, &depth, order::limit(Side::Ask, PRICE + 100 + i, 1));
    }
    let trader = funded(h, 51);
    h.place(&m, &trader, order::limit(Side::Bid, PRICE - 500, 1)); // the account's one position
    let cu = |meta: TransactionMetadata| meta.compute_units_consumed;

    let r = h.try_place(&m, &trader, order::limit(Side::Bid, PRICE - 50, 1).client_id(9)).unwrap();
    out.insert("place_limit_resting".into(), cu(r.1));
    let r = h.try_place(&m, &trader, order::limit(Side::Bid, PRICE - 51, 1).post_only()).unwrap();
    out.insert("place_post_only".into(), cu(r.1));
    let post_only = r.0.order_seq;
    let owner = trader.owner.pubkey();
    let ix = ix::cancel_order(&m.accounts, &trader.margin, &owner, post_only);
    out.insert("cancel".into(), cu(h.ok(&[ix], &[&trader.owner])));
    let ix = ix::cancel_order_by_client_id(&m.accounts, &trader.margin, &owner, 9);
    out.insert("cancel_by_client_id".into(), cu(h.ok(&[ix], &[&trader.owner])));
    let r = h.place(&m, &trader, order::limit(Side::Bid, PRICE - 60, 1));
    let ix = ix::replace_order(
        &m.accounts,
        &trader.margin,
        &owner,
        r.order_seq,
        order::limit(Side::Bid, PRICE - 61, 1),
        &[],
    );
    out.insert("replace".into(), cu(h.ok(&[ix], &[&trader.owner])));
    // with the position's first order and the replacement: 16 resting orders
    for i in 0..14 {
        h.place(&m, &trader, order::limit(Side::Bid, PRICE - 70 - i, 1));
    }
    let ix = ix::cancel_all_orders(&m.accounts, &trader.margin, &owner, CancelSide::Both, 0);
    let meta = h.ok(&[ix], &[&trader.owner]);
    assert_eq!(meta.return_data.data, [16u8]);
    out.insert("cancel_all_16".into(), cu(meta));

    // taker fills against 1..=8 makers (distinct accounts), then the crank over 1..=8 events
    let makers: Vec<Trader> = (0..8).map(|i| funded(h, 60 + i)).collect();
    let taker = funded(h, 70);
    let reward = funded(h, 71);
    let (mut fill, mut crank) = (BTreeMap::new(), BTreeMap::new());
    for k in [1usize, 8] {
        for (i, maker) in makers.iter().take(k).enumerate() {
            h.place(&m, maker, order::limit(Side::Ask, PRICE + i as u64, 1));
        }
        let r = h.try_place(&m, &taker, order::limit(Side::Bid, PRICE + 8, k as u64).immediate_or_cancel()).unwrap();
        assert_eq!(r.0.filled_lots, k as u64);
        fill.insert(k, cu(r.1));
        let keys: Vec<_> = makers.iter().take(k).map(|t| t.margin).collect();
        let ix = ix::consume_events(&m.accounts, &reward.margin, k as u16, &keys);
        let meta = h.ok(&[ix], &[]);
        assert_eq!(meta.return_data.data, (k as u16).to_le_bytes());
        crank.insert(k, cu(meta));
    }
    out.insert("taker_fill_1_maker".into(), fill[&1]);
    out.insert("taker_fill_per_extra_maker".into(), (fill[&8] - fill[&1]) / 7);
    out.insert("consume_events_1".into(), crank[&1]);
    out.insert("consume_events_per_extra_event".into(), (crank[&8] - crank[&1]) / 7);
    // the taker is long 9 lots: a reduce-only ask rests, after the extra health check that makes
    // sure it cannot raise the maintenance requirement
    let r = h.try_place(&m, &taker, order::limit(Side::Ask, PRICE + 200, 1).post_only().reduce_only()).unwrap();
    out.insert("place_reduce_only".into(), cu(r.1));

    // PnL settlement (no oracle: at the stable mark): the taker bought above it, a loss into the
    // pool; then makers 1..=7, who sold above it, are paid from the pool
    let one = h.ok(&[ix::settle_pnl(&m.accounts, &[taker.margin])], &[]);
    assert_eq!(one.return_data.data, 1u16.to_le_bytes(), "the taker's loss realized");
    let keys: Vec<_> = makers[1..].iter().map(|t| t.margin).collect();
    let seven = h.ok(&[ix::settle_pnl(&m.accounts, &keys)], &[]);
    assert_eq!(seven.return_data.data, 7u16.to_le_bytes(), "each maker's profit paid");
    let (seven, one) = (cu(seven), cu(one));
    out.insert("settle_pnl_1".into(), one);
    out.insert("settle_pnl_per_extra_account".into(), seven.saturating_sub(one) / 6);
    let ix = ix::set_price_band(&m.accounts, &fx.admin.pubkey(), 500);
    out.insert("set_price_band".into(), cu(h.ok(&[ix], &[&fx.admin])));
    let ix = ix::set_market_status(&m.accounts, &fx.admin.pubkey(), MarketStatus::CancelOnly);
    out.insert("set_market_status".into(), cu(h.ok(&[ix], &[&fx.admin])));
    h.assert_conserved(&fx);
}

/// A requote on a deep book: 32 accounts rest ~31 orders a side each (992 per side, mass quotes
/// themselves), the quoter's ladder of 10 + 10 sits inside them; it is cancelled and reposted in
/// one instruction. The slope: the same with 1 + 1.
fn measure_mass_quote(h: &mut Harness, out: &mut BTreeMap<String, u64>) {
    use meridian::{MassQuoteArgs, QuoteLevel};
    const PRICE: u64 = 650_000;
    let mint = h.create_mint(6, SPL_TOKEN);
    let params = ExchangeParams { insurance_fee_share_bps: 2_000, ..ExchangeParams::default() };
    let fx = h.setup_exchange_as(fixed_keypair(200), mint, SPL_TOKEN, params);
    let m =
        h.setup_market(&fx, MarketParams { book_capacity: 1_024, event_queue_capacity: 64, ..default_market_params() });
    let funded = |h: &mut Harness, seed: u8| {
        let t = h.trader_as(fixed_keypair(seed), &fx, 10_000_000 * 1_000_000);
        h.deposit(&fx, &t, 5_000_000 * 1_000_000);
        t
    };
    let quote = |h: &mut Harness, t: &Trader, cancel_all: bool, bids: Vec<QuoteLevel>, asks: Vec<QuoteLevel>| {
        let args =
            MassQuoteArgs { cancel_all, order_kind: OrderType::PostOnly, bids, asks, ..MassQuoteArgs::default() };
        let health = ix::health_markets(&fx.exchange, &h.margin(&t.margin), Some(m.index));
        h.ok(&[ix::mass_quote(&m.accounts, &t.margin, &t.owner.pubkey(), args, &health)], &[&t.owner])
    };
    let level = |price: u64| QuoteLevel { price, size: 1 };
    for a in 0..32u64 {
        let depth = funded(h, 201 + a as u8);
        // three transactions of 11 + 10 + 10 levels a side (a transaction holds 1,232 bytes)
        for (first, n) in [(0u64, 11u64), (11, 10), (21, 10)] {
            let bids = (first..first + n).map(|i| level(PRICE - 100 - a - 32 * i)).collect();
            let asks = (first..first + n).map(|i| level(PRICE + 100 + a + 32 * i)).collect();
            quote(h, &depth, false, bids, asks);
        }
    }
    let book = h.book(&m);
    assert_eq!((book.bids.len(), book.asks.len()), (992, 992));
    let quoter = funded(h, 233);
    let ladder = |n: u64, off: u64| -> (Vec<QuoteLevel>, Vec<QuoteLevel>) {
        ((0..n).map(|i| level(PRICE - 10 - off - i)).collect(), (0..n).map(|i| level(PRICE + 10 + off + i)).collect())
    };
    let (b, a) = ladder(10, 0);
    quote(h, &quoter, false, b, a);
    let (b, a) = ladder(10, 20);
    let meta = quote(h, &quoter, true, b, a);
    assert_eq!(meta.return_data.data, [20, 20, 0]);
    let ten = meta.compute_units_consumed;
    let (b, a) = ladder(1, 40);
    assert_eq!(quote(h, &quoter, true, b, a).return_data.data, [20, 2, 0]);
    let (b, a) = ladder(1, 0);
    let meta = quote(h, &quoter, true, b, a);
    assert_eq!(meta.return_data.data, [2, 2, 0]);
    let one = meta.compute_units_consumed;
    out.insert("mass_quote_10x10".into(), ten);
    out.insert("mass_quote_per_level".into(), (ten - one) / 9);

    // a taker's fee leaves every unswept total non-zero; the sweep moves them
    let taker = funded(h, 234);
    h.place(&m, &taker, order::limit(Side::Bid, PRICE + 10, 1).immediate_or_cancel());
    let reward = funded(h, 235);
    h.crank(&m, &reward.margin);
    let market = h.market(&m.accounts.market);
    assert!(market.unswept_fees > 0 && market.unswept_insurance > 0 && market.unswept_collateral < 0);
    out.insert("sweep_market".into(), h.ok(&[ix::sweep_market(&m.accounts)], &[]).compute_units_consumed);
    h.assert_conserved(&fx);
}

/// A batch market's clearing: 20 orders a side in the auction, `crossing` of each cross (one lot
/// each, balanced: they clear at the reference price), the rest lie outside the crossed range.
fn measure_auction(h: &mut Harness, out: &mut BTreeMap<String, u64>) {
    const PRICE: u64 = 650_000;
    let mint = h.create_mint(6, SPL_TOKEN);
    let fx = h.setup_exchange_as(fixed_keypair(240), mint, SPL_TOKEN, ExchangeParams::default());
    let funded = |h: &mut Harness, seed: u8| {
        let t = h.trader_as(fixed_keypair(seed), &fx, 10_000_000 * 1_000_000);
        h.deposit(&fx, &t, 5_000_000 * 1_000_000);
        t
    };
    let (buyer, seller) = (funded(h, 241), funded(h, 242));
    let clear = |h: &mut Harness, crossing: u64, out: &mut BTreeMap<String, u64>| {
        let m = h.setup_market(&fx, default_market_params());
        let set = h.ok(&[ix::set_market_mode(&m.accounts, &fx.admin.pubkey(), MarketMode::Batch, 0)], &[&fx.admin]);
        out.insert("set_market_mode".into(), set.compute_units_consumed);
        for i in 0..20 {
            let (bid, ask) = if i < crossing { (PRICE + 5, PRICE - 5) } else { (PRICE - 20 - i, PRICE + 20 + i) };
            let ix = h.place_ix(&m, &buyer, order::limit(Side::Bid, bid, 1));
            let meta = h.ok(&[ix], &[&buyer.owner]);
            out.insert("place_limit_batch".into(), meta.compute_units_consumed);
            h.place(&m, &seller, order::limit(Side::Ask, ask, 1));
        }
        let mut clock = h.svm.get_sysvar::<solana_sdk::clock::Clock>();
        clock.slot += 2;
        h.svm.set_sysvar(&clock);
        let meta = h.ok(&[ix::clear_auction(&m.accounts)], &[]);
        let r: meridian::AuctionCleared =
            anchor_lang::AnchorDeserialize::deserialize(&mut &meta.return_data.data[..]).unwrap();
        assert_eq!((r.price, r.volume, r.fills as u64), (PRICE, crossing, 2 * crossing));
        h.crank(&m, &buyer.margin);
        h.assert_conserved(&fx);
        meta.compute_units_consumed
    };
    let five = clear(h, 5, out);
    let one = clear(h, 1, out);
    out.insert("auction_clear_20x20".into(), five);
    out.insert("auction_clear_per_fill".into(), (five - one) / 8);
}

/// Portfolio margin: two underlyings (BTC, ETH), each with a perpetual, three futures and four
/// options linked to its oracle. A margin check's own cost is a `withdraw` by an account with N
/// positions minus the same `withdraw` by an account with none.
fn measure_portfolio(h: &mut Harness, out: &mut BTreeMap<String, u64>) {
    use crate::portfolio::DAY;
    const TS: i64 = 1_700_000_000;
    let mint = h.create_mint(6, SPL_TOKEN);
    let fx = h.setup_exchange_as(fixed_keypair(90), mint, SPL_TOKEN, ExchangeParams::default());
    h.set_clock(9_000, TS);
    let expiry = TS + 30 * DAY;
    let mut btc = h.setup_underlying(
        &fx,
        "BTC",
        65_000.0,
        4,
        &[(Call, 70_000), (Put, 60_000), (Call, 65_000), (Put, 65_000)],
        expiry,
    );
    let eth =
        h.setup_underlying(&fx, "ETH", 3_500.0, 4, &[(Call, 4_000), (Put, 3_000), (Call, 3_500), (Put, 3_500)], expiry);
    // one option's revaluation within a refresh
    h.set_sources(&btc.oracle, &[65_000.0; 3]);
    let meta = h.ok(&[btc.oracle.refresh_markets_ix(&[btc.options[0].accounts.market])], &[]);
    out.insert("refresh_oracle_3_sources_1_option".into(), meta.compute_units_consumed);

    let funded = |h: &mut Harness, seed: u8| {
        let t = h.trader_as(fixed_keypair(seed), &fx, 100_000_000 * 1_000_000);
        h.deposit(&fx, &t, 50_000_000 * 1_000_000);
        t
    };
    let (maker, full, single, empty) = (funded(h, 91), funded(h, 92), funded(h, 93), funded(h, 94));
    // `full` takes 8 linear and 8 option positions, long and short, from the maker
    for (i, m) in btc.all_markets().chain(eth.all_markets()).enumerate() {
        let market = h.market(&m.accounts.market);
        let price = if market.is_option() {
            (market.lot_risk().now as u64 / market.tick_size).max(1)
        } else {
            market.mark_price
        };
        let (side, maker_side) = if i % 2 == 0 { (Side::Bid, Side::Ask) } else { (Side::Ask, Side::Bid) };
        h.place(m, &maker, order::limit(maker_side, price, 20).post_only());
        assert_eq!(h.place(m, &full, order::limit(side, price, 10).immediate_or_cancel()).filled_lots, 10);
        if i == 0 {
            assert_eq!(h.place(m, &single, order::limit(side, price, 10).immediate_or_cancel()).filled_lots, 10);
        }
    }
    let withdraw = |h: &mut Harness, t: &Trader, markets: &[Pubkey]| {
        let ix = ix::withdraw_checked(&fx.collateral, &t.margin, &t.owner.pubkey(), &t.token, 1, markets);
        h.ok(&[ix], &[&t.owner]).compute_units_consumed
    };
    let base = withdraw(h, &empty, &[]);
    let btc_perp = btc.linear[0].accounts.market;
    let one = withdraw(h, &single, &[btc_perp]);
    out.insert("margin_check_1_position".into(), one - base);
    let markets: Vec<Pubkey> = btc.all_markets().chain(eth.all_markets()).map(|m| m.accounts.market).collect();
    assert_eq!(h.margin(&full.margin).positions_in_use().count(), 16);
    let sixteen = withdraw(h, &full, &markets);
    out.insert("margin_check_16_positions".into(), sixteen - base);
    // a resting order by the 16-position account: its market travels with the order, the other 15
    // as remaining accounts
    let others: Vec<Pubkey> = markets[1..].to_vec();
    let args = order::limit(Side::Bid, 640_000, 1);
    let place = ix::place_order(&btc.linear[0].accounts, &full.margin, &full.owner.pubkey(), args, &others);
    out.insert("place_limit_resting_16_positions".into(), h.ok(&[place], &[&full.owner]).compute_units_consumed);
    let cancel =
        ix::cancel_all_orders(&btc.linear[0].accounts, &full.margin, &full.owner.pubkey(), CancelSide::Both, 0);
    h.ok(&[cancel], &[&full.owner]);

    // liquidation stage 1: a leveraged long with 16 resting bids, BTC down 11%
    let quoter = h.leveraged_quoter(&fx, &btc, &maker, 16);
    btc.dollars = 58_000.0;
    h.push_underlying(&btc);
    let liquidator = funded(h, 95);
    let perp = &btc.linear[0].accounts;
    let ix = ix::liquidate_cancel_orders(
        &fx.exchange,
        perp,
        &quoter.margin,
        &liquidator.margin,
        &liquidator.owner.pubkey(),
        &[],
    );
    let meta = h.ok(&[ix], &[&liquidator.owner]);
    assert_eq!(meta.return_data.data, [16u8]);
    out.insert("liquidate_cancel_orders_16".into(), meta.compute_units_consumed);
    h.assert_conserved(&fx);

    // liquidation stage 2 of a 16-position account: 15 small positions like `full`'s and a
    // leveraged BTC perpetual long, collateral withdrawn down to the initial requirement, then BTC
    // down another 12%: the liquidator takes over (part of) the perpetual
    let lev = funded(h, 96);
    for (i, m) in btc.all_markets().chain(eth.all_markets()).enumerate().skip(1) {
        // the maker quotes 10 lots at the price now (its orders at the old price are outside the
        // band since the crash), taken up to the band's edge
        let band = h.market(&m.accounts.market).band();
        let (side, limit, maker_side) =
            if i % 2 == 0 { (Side::Bid, band.high.0, Side::Ask) } else { (Side::Ask, band.low.0, Side::Bid) };
        h.place(m, &maker, order::limit(maker_side, band.reference.0, 10).post_only_slide());
        let others = ix::health_markets(&fx.exchange, &h.margin(&lev.margin), Some(m.index));
        let place = ix::place_order(
            &m.accounts,
            &lev.margin,
            &lev.owner.pubkey(),
            order::limit(side, limit, 10).immediate_or_cancel(),
            &others,
        );
        h.ok(&[place], &[&lev.owner]);
    }
    let perp_fx = btc.linear[0];
    let price = h.market(&perp_fx.accounts.market).mark_price;
    h.place(&perp_fx, &maker, order::limit(Side::Ask, price, 5_000).post_only());
    let others = ix::health_markets(&fx.exchange, &h.margin(&lev.margin), Some(perp_fx.index));
    let buy = ix::place_order(
        &perp_fx.accounts,
        &lev.margin,
        &lev.owner.pubkey(),
        order::limit(Side::Bid, price, 5_000).immediate_or_cancel(),
        &others,
    );
    h.ok(&[buy], &[&lev.owner]);
    let market_list: Vec<MarketFixture> = btc.all_markets().chain(eth.all_markets()).copied().collect();
    let all_markets = |h: &Harness| -> BTreeMap<u16, meridian::Market> {
        market_list.iter().map(|m| (m.index, h.market(&m.accounts.market))).collect()
    };
    let account = h.margin(&lev.margin);
    assert_eq!(account.positions_in_use().count(), 16);
    let free = meridian_sdk::risk::health_of(&account, &all_markets(h)).unwrap().initial_free();
    let health_list = ix::health_markets(&fx.exchange, &account, None);
    let ix =
        ix::withdraw_checked(&fx.collateral, &lev.margin, &lev.owner.pubkey(), &lev.token, free as u64, &health_list);
    h.ok(&[ix], &[&lev.owner]);
    btc.dollars = 51_000.0;
    h.push_underlying(&btc);
    h.crank(&perp_fx, &maker.margin);
    let account = h.margin(&lev.margin);
    assert!(meridian_sdk::risk::health_of(&account, &all_markets(h)).unwrap().maintenance_free() < 0);
    let theirs = ix::health_markets(&fx.exchange, &account, Some(perp_fx.index));
    let take = ix::liquidate_take_position(
        &fx.exchange,
        perp,
        &lev.margin,
        &liquidator.margin,
        &liquidator.owner.pubkey(),
        5_010,
        &theirs,
        &[],
    );
    let meta = h.ok(&[take], &[&liquidator.owner]);
    let lots = u64::from_le_bytes(meta.return_data.data[..8].try_into().unwrap());
    assert!(lots > 0);
    out.insert("liquidate_take_position_16".into(), meta.compute_units_consumed);
    h.assert_conserved(&fx);

    // stage 3: a 1-position account the crash made bankrupt, its position taken over; the
    // insurance fund pays part of the deficit, the rest is socialized over the perpetual
    let broke = h.leveraged_quoter(&fx, &btc, &maker, 0);
    h.crank(&perp_fx, &maker.margin);
    btc.dollars = 30_000.0;
    h.push_underlying(&btc);
    let take = ix::liquidate_take_position(
        &fx.exchange,
        perp,
        &broke.margin,
        &liquidator.margin,
        &liquidator.owner.pubkey(),
        5_000,
        &[],
        &[],
    );
    out.insert("liquidate_take_position".into(), h.ok(&[take], &[&liquidator.owner]).compute_units_consumed);
    let top_up = ix::deposit_insurance(&fx.collateral, &maker.owner.pubkey(), &maker.token, 100_000_000);
    out.insert("deposit_insurance".into(), h.ok(&[top_up], &[&maker.owner]).compute_units_consumed);
    let bankruptcy = ix::liquidate_bankruptcy(&fx.exchange, perp, &broke.margin, &liquidator.owner.pubkey());
    let meta = h.ok(&[bankruptcy], &[&liquidator.owner]);
    let resolved =
        <meridian::BankruptcyResolved as anchor_lang::AnchorDeserialize>::deserialize(&mut &meta.return_data.data[..])
            .unwrap();
    assert!(resolved.insurance_paid > 0 && resolved.socialized > 0, "{resolved:?}");
    out.insert("liquidate_bankruptcy".into(), meta.compute_units_consumed);
    h.assert_conserved(&fx);

    // an option chain: 10 options (5 strikes, calls and puts) of one underlying and expiry, all
    // revalued by one refresh
    let strikes = [120, 130, 140, 150, 160];
    let chain: Vec<(MarketKind, u64)> = strikes.iter().flat_map(|k| [(Call, *k), (Put, *k)]).collect();
    let sol = h.setup_underlying(&fx, "SOL", 140.0, 0, &chain, expiry);
    h.set_sources(&sol.oracle, &[141.0; 3]);
    let options: Vec<Pubkey> = sol.options.iter().map(|m| m.accounts.market).collect();
    // more than the default 200,000 units a transaction: a compute budget (its own instruction
    // costs nothing from the meter)
    let budget = meridian_sdk::budget::set_compute_unit_limit(1_400_000);
    let meta = h.ok(&[budget, sol.oracle.refresh_markets_ix(&options)], &[]);
    out.insert("refresh_oracle_3_sources_10_options".into(), meta.compute_units_consumed);
}

/// An aggregate over two Pyth feeds and one Switchboard feed, refreshed twice (the second refresh
/// takes a volatility sample, the costlier path).
fn measure_oracle(h: &mut Harness, out: &mut BTreeMap<String, u64>) {
    use crate::oracle::{default_oracle_params, Source};
    let mint = h.create_mint(6, SPL_TOKEN);
    let fx = h.setup_exchange_as(fixed_keypair(80), mint, SPL_TOKEN, ExchangeParams::default());
    let sources = vec![
        Source::Pyth { account: fixed_keypair(81).pubkey(), feed_id: [81; 32] },
        Source::Pyth { account: fixed_keypair(82).pubkey(), feed_id: [82; 32] },
        Source::Switchboard { account: fixed_keypair(83).pubkey() },
    ];
    let params = default_oracle_params(&sources);
    let name = meridian_sdk::state::encode_name("SOL");
    let create = ix::create_oracle(&fx.exchange, &fx.admin.pubkey(), name, params.clone());
    out.insert("create_oracle".into(), h.ok(&[create], &[&fx.admin]).compute_units_consumed);
    let o = crate::oracle::OracleFixture { address: pda::oracle(&fx.exchange, &name).0, sources };
    let configure = ix::configure_oracle(&fx.exchange, &fx.admin.pubkey(), &o.address, params);
    out.insert("configure_oracle".into(), h.ok(&[configure], &[&fx.admin]).compute_units_consumed);
    h.set_clock(5_000, 1_700_000_000);
    h.set_sources(&o, &[150.0, 150.2, 149.9]);
    h.ok(&[o.refresh_ix()], &[]);
    h.set_clock(5_002, 1_700_000_001);
    h.set_sources(&o, &[150.3, 150.4, 150.2]);
    let meta = h.ok(&[o.refresh_ix()], &[]);
    assert_eq!(h.oracle(&o.address).status(), meridian::OracleStatus::Valid);
    assert!(h.oracle(&o.address).ewma_variance > 0);
    out.insert("refresh_oracle_3_sources".into(), meta.compute_units_consumed);
    // the costliest refresh: a 3x jump (longer 128-bit divisions in the volatility update)
    h.set_clock(5_004, 1_700_000_002);
    h.set_sources(&o, &[450.0, 450.5, 449.0]);
    let meta = h.ok(&[o.refresh_ix()], &[]);
    out.insert("refresh_oracle_3_sources_3x_move".into(), meta.compute_units_consumed);

    // a market priced by the oracle: link, push, and a resting order's placement on it
    let params = default_market_params();
    let (book, queue) = (fixed_keypair(84), fixed_keypair(85));
    let alloc = ix::allocate_market_accounts(&h.payer.pubkey(), &book.pubkey(), &queue.pubkey(), &params, |l| {
        h.svm.minimum_balance_for_rent_exemption(l)
    });
    h.ok(&alloc, &[&book, &queue]);
    let create = ix::create_market(&fx.exchange, &fx.admin.pubkey(), 0, params, &book.pubkey(), &queue.pubkey());
    h.ok(&[create], &[&fx.admin]);
    let market = pda::market(&fx.exchange, 0).0;
    let link = ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &market, &o.address);
    out.insert("set_market_oracle".into(), h.ok(&[link], &[&fx.admin]).compute_units_consumed);
    h.set_clock(5_006, 1_700_000_003);
    h.set_sources(&o, &[65_000.0, 65_010.0, 64_990.0]);
    let meta = h.ok(&[o.refresh_markets_ix(&[market])], &[]);
    out.insert("refresh_oracle_3_sources_1_market".into(), meta.compute_units_consumed);
    let m = MarketFixture { index: 0, accounts: MarketAccounts::of(market, &h.market(&market)) };
    let trader = h.trader_as(fixed_keypair(86), &fx, 1_000_000 * 1_000_000);
    h.deposit(&fx, &trader, 500_000 * 1_000_000);
    h.place(&m, &trader, order::limit(Side::Bid, 640_000, 1)); // the account's position slot
    let r = h.try_place(&m, &trader, order::limit(Side::Bid, 640_001, 1)).unwrap();
    out.insert("place_limit_resting_oracle_market".into(), r.1.compute_units_consumed);

    // funding on that market: the clock starts, an update samples the best bid above the oracle,
    // and the next accrues at that rate and samples again (the measured one)
    h.place(&m, &trader, order::limit(Side::Bid, 651_000, 1));
    h.place(&m, &trader, order::limit(Side::Ask, 660_000, 1));
    h.ok(&[ix::update_funding(&m.accounts)], &[]);
    for (slot, ts) in [(5_010, 1_700_000_600), (5_020, 1_700_001_200)] {
        h.set_clock(slot, ts);
        h.set_sources(&o, &[65_000.0, 65_010.0, 64_990.0]);
        h.ok(&[o.refresh_markets_ix(&[market])], &[]);
        assert_eq!(h.market(&market).funding_index(), 0, "the first interval accrues at the rate in force: 0");
        h.ok(&[ix::update_funding(&m.accounts)], &[]);
    }
    // the second update accrued at the first sample's rate; the third is measured
    assert_ne!(h.market(&market).funding_index(), 0);
    h.set_clock(5_030, 1_700_001_800);
    h.set_sources(&o, &[65_000.0, 65_010.0, 64_990.0]);
    h.ok(&[o.refresh_markets_ix(&[market])], &[]);
    let meta = h.ok(&[ix::update_funding(&m.accounts)], &[]);
    out.insert("update_funding".into(), meta.compute_units_consumed);
    let params = ix::set_funding_params(&m.accounts, &fx.admin.pubkey(), 3_600, 10, 0);
    out.insert("set_funding_params".into(), h.ok(&[params], &[&fx.admin]).compute_units_consumed);
    let taker = h.trader_as(fixed_keypair(87), &fx, 1_000_000 * 1_000_000);
    h.deposit(&fx, &taker, 500_000 * 1_000_000);
    h.place(&m, &taker, order::limit(Side::Ask, 640_000, 1).immediate_or_cancel()); // fills a bid
    h.set_clock(5_011, 1_700_000_700);
    h.ok(&[o.refresh_markets_ix(&[market])], &[]);
    h.ok(&[ix::update_funding(&m.accounts)], &[]);
    let meta = h.ok(&[ix::settle_funding(&market, &[taker.margin])], &[]);
    assert_eq!(meta.return_data.data, 1u16.to_le_bytes());
    out.insert("settle_funding_1".into(), meta.compute_units_consumed);
    h.assert_conserved(&fx);
}

/// `bench/cu.json`: {"instruction_name": compute_units}, sorted by name.
pub fn to_json(figures: &BTreeMap<String, u64>) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        figures.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect();
    serde_json::to_string_pretty(&serde_json::Value::Object(map)).unwrap() + "\n"
}

/// Agave's cost-model limits: per writable account and per block (SIMD-0256).
const MAX_WRITABLE_ACCOUNT_UNITS: u64 = 12_000_000;
const MAX_BLOCK_UNITS: u64 = 60_000_000;

/// `bench/CU.md`: the same figures with scenarios and ceilings.
pub fn to_markdown(figures: &BTreeMap<String, u64>, binary_size: usize) -> String {
    let mut md = String::from(
        "# Compute units per instruction\n\n\
         Measured on the SBF binary (`target/deploy/meridian.so`, SBPF v3) in LiteSVM with the mainnet\n\
         feature set. Regenerate with `scripts/cu.sh`; `tests/program/tests/cu.rs` fails when a figure\n\
         exceeds its ceiling.\n\n",
    );
    md.push_str(&format!("Binary size: {binary_size} bytes.\n\n"));
    md.push_str(&format!(
        "Account sizes (bytes, with the 8-byte discriminator): Exchange {}, MarginAccount {} (16 positions, 64 open orders), Market {}; \
         a book holding N orders per side needs {} + {} x N bytes, an event queue of N events {} + {} x N.\n\n",
        meridian::Exchange::SPACE,
        meridian::MarginAccount::SPACE,
        meridian::Market::SPACE,
        meridian::book_account_len(0),
        meridian::book_account_len(1) - meridian::book_account_len(0),
        meridian::queue_account_len(0),
        meridian::queue_account_len(1) - meridian::queue_account_len(0),
    ));
    let place = figures["place_limit_resting"];
    let per_block = |units: u64| MAX_WRITABLE_ACCOUNT_UNITS / units.max(1);
    md.push_str(&format!(
        "## Order flow against the targets\n\n\
         | measure | Meridian | target / reference |\n| --- | ---: | --- |\n\
         | place a resting order, margin check included | {place} | aim <= 3,000; Manifest p50 3,221; Phoenix p50 6,787 |\n\
         | each extra maker filled | {} | <= 1,500 |\n\
         | cancel | {} | <= 1,500 |\n\
         | requote 10 bids + 10 asks (cancel 20, post 20) on a book of ~1,000 orders/side | {} | <= 10,000; Manifest batch_update ~61,000 |\n\
         | revalue one option market (a refresh pushing to 10 options, less the refresh alone, per option) | {} | <= 20,000; 72,000 before |\n\n\
         ### Capacity per block\n\n\
         The scheduler gives one writable account at most {}M CU per block and the block {}M CU (Agave's \
         `MAX_WRITABLE_ACCOUNT_UNITS`, `MAX_BLOCK_UNITS_SIMD_0256`). The order flow (place, replace, the cancels, \
         mass_quote, consume_events) writes only the market, its book and event queue and the traders' margin \
         accounts; the exchange is read-only to it (its fees and totals accumulate in the market until \
         `sweep_market`), so markets do not share a write lock (`tests/program/tests/idl.rs` checks the \
         writable set of every order-flow instruction). One market takes about {} resting placements, {} \
         one-maker taker orders, {} cancels or {} 10+10 requotes per block. N markets take N times that \
         until the block limit binds: at {} CU a placement, {} resting placements per block in all, reached with \
         {} markets or more (before this change every order wrote the exchange, capping the whole exchange at \
         one market's figure).\n\n",
        figures["taker_fill_per_extra_maker"],
        figures["cancel"],
        figures["mass_quote_10x10"],
        figures["refresh_oracle_3_sources_10_options"].saturating_sub(figures["refresh_oracle_3_sources"]) / 10,
        MAX_WRITABLE_ACCOUNT_UNITS / 1_000_000,
        MAX_BLOCK_UNITS / 1_000_000,
        per_block(place),
        per_block(figures["taker_fill_1_maker"]),
        per_block(figures["cancel"]),
        per_block(figures["mass_quote_10x10"]),
        place,
        MAX_BLOCK_UNITS / place.max(1),
        MAX_BLOCK_UNITS.div_ceil(MAX_WRITABLE_ACCOUNT_UNITS),
    ));
    md.push_str(
        "Entry paths: the order flow (place, replace, the cancels, mass_quote, consume_events) runs from the program's own \
         entrypoint, which reads the accounts in place (`programs/meridian/src/fast_entry.rs`); through Anchor's \
         standard entry the same instructions cost 1,000-1,400 CU more (`tests/program/tests/entrypoint.rs` runs \
         both paths and compares). Every other instruction is handed to Anchor after that entrypoint's walk over \
         the accounts, which adds ~100-300 CU to it.\n\n",
    );
    md.push_str(
        "## Every instruction\n\n| instruction | compute units | ceiling | scenario |\n| --- | ---: | ---: | --- |\n",
    );
    for row in ROWS {
        md.push_str(&format!("| `{}` | {} | {} | {} |\n", row.name, figures[row.name], row.ceiling, row.scenario));
    }
    md
}

/// A dated future on an oracle: a maker sells one lot to each of 20 traders, the price rises over
/// the settlement window (one refresh per bucket), the future expires; its orders are cancelled,
/// its price fixed, its positions settled (the maker's loss first, then the 20 winners in one
/// transaction), the market closed. A second future never sampled gets the admin's price.
fn measure_expiry(h: &mut Harness, out: &mut BTreeMap<String, u64>) {
    use crate::portfolio::linear_params;
    const TS: i64 = 1_700_000_000;
    const EXPIRY: i64 = TS + 3_600;
    let mint = h.create_mint(6, SPL_TOKEN);
    let fx = h.setup_exchange_as(fixed_keypair(110), mint, SPL_TOKEN, ExchangeParams::default());
    h.set_clock(20_000, TS);
    let o = h.setup_oracle(&fx, "SOL", 2, 1, None);
    let dated = |h: &mut Harness, name: &str| {
        let params =
            MarketParams { settlement_window_secs: 300, ..linear_params(name, MarketKind::Future, 100.0, EXPIRY) };
        let m = h.setup_market(&fx, params);
        h.ok(&[ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &m.accounts.market, &o.address)], &[&fx.admin]);
        m
    };
    let (m, unsampled) = (dated(h, "SOL-FUT"), dated(h, "SOL-FUT2"));
    let funded = |h: &mut Harness, seed: u8| {
        let t = h.trader_as(fixed_keypair(seed), &fx, 1_000_000_000);
        h.deposit(&fx, &t, 500_000_000);
        t
    };
    let push = |h: &mut Harness, slot: u64, ts: i64, dollars: f64| {
        h.set_clock(slot, ts);
        h.set_sources(&o, &[dollars; 3]);
        h.ok(&[o.refresh_markets_ix(&[m.accounts.market])], &[]);
    };
    push(h, 20_000, TS, 100.0);
    let maker = funded(h, 111);
    let takers: Vec<Trader> = (0..20).map(|i| funded(h, 112 + i)).collect();
    for t in &takers {
        h.place(&m, &maker, order::limit(Side::Ask, 1_000, 1).post_only());
        assert_eq!(h.place(&m, t, order::limit(Side::Bid, 1_000, 1).immediate_or_cancel()).filled_lots, 1);
    }
    h.place(&m, &maker, order::limit(Side::Ask, 1_050, 1).post_only());
    h.crank(&m, &maker.margin);
    for b in 0..30 {
        push(h, 21_000 + b, EXPIRY - 295 + 10 * b as i64, 104.0);
    }
    h.set_clock(22_000, EXPIRY);
    let meta = h.ok(&[ix::cancel_expired_orders(&m.accounts, &[maker.margin])], &[]);
    assert_eq!(meta.return_data.data, 1u16.to_le_bytes());
    out.insert("cancel_expired_orders_1".into(), meta.compute_units_consumed);
    out.insert(
        "fix_settlement_price".into(),
        h.ok(&[ix::fix_settlement_price(&m.accounts)], &[]).compute_units_consumed,
    );
    assert_eq!(h.market(&m.accounts.market).settlement_price, 1_040);
    let one = h.ok(&[ix::settle_expired(&m.accounts, &[maker.margin])], &[]);
    assert_eq!(one.return_data.data, 1u16.to_le_bytes(), "the maker's loss realized");
    let keys: Vec<Pubkey> = takers.iter().map(|t| t.margin).collect();
    let twenty = h.ok(&[ix::settle_expired(&m.accounts, &keys)], &[]);
    assert_eq!(twenty.return_data.data, 20u16.to_le_bytes(), "each taker paid");
    let (one, twenty) = (one.compute_units_consumed, twenty.compute_units_consumed);
    out.insert("settle_expired_1".into(), one);
    out.insert("settle_expired_per_account".into(), twenty.saturating_sub(one) / 19);
    let close = ix::close_market(&m.accounts, &fx.admin.pubkey());
    out.insert("close_market".into(), h.ok(&[close], &[&fx.admin]).compute_units_consumed);
    h.set_clock(23_000, EXPIRY + meridian_engine::expiry::ADMIN_GRACE_SECS);
    let set = ix::set_settlement_price(&unsampled.accounts, &fx.admin.pubkey(), 1_000);
    out.insert("set_settlement_price".into(), h.ok(&[set], &[&fx.admin]).compute_units_consumed);
    h.assert_conserved(&fx);
    h.assert_markets_balanced(&fx);
}
