//! Liquidation on the SBF binary. Stage 1: an account below maintenance has its resting orders
//! cancelled by anyone for a small fee. Stage 2: a liquidator takes over just the lots that
//! restore it, at the discount, to the unit. Stage 3: a bankrupt account's deficit is paid by the
//! insurance fund, the rest socialized over the market's open interest. Every refusal (a healthy
//! account, a stale oracle, the liquidatee itself, a foreign signer, orders left, a liquidator that
//! would fall below initial margin, ...) changes nothing; funds are conserved and markets balance.

use meridian::MeridianError;
use meridian_engine::margin::Health;
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_program_tests::portfolio::*;
use meridian_sdk::order::{self, OrderExt, Side};
use meridian_sdk::{ix, risk::health_of};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::collections::BTreeMap;

#[test]
fn stage_one_cancels_the_orders_of_an_account_below_maintenance() {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, meridian::ExchangeParams::default());
    h.set_clock(SLOT, TS);
    let mut btc = h.setup_underlying(&fx, "BTC", 65_000.0, 1, &[], TS + 30 * DAY);
    let maker = h.funded_trader(&fx, 10_000_000 * USDC, 5_000_000 * USDC);
    let alice = h.leveraged_quoter(&fx, &btc, &maker, 16);
    let bob = h.funded_trader(&fx, 1_000 * USDC, 1_000 * USDC);
    let perp = btc.linear[0];
    let liquidate = |liquidator_account: &Trader, signer: &Keypair| {
        ix::liquidate_cancel_orders(
            &fx.exchange,
            &perp.accounts,
            &alice.margin,
            &liquidator_account.margin,
            &signer.pubkey(),
            &[],
        )
    };
    let watched = [fx.exchange, alice.margin, bob.margin, perp.accounts.book];
    let health = |h: &Harness| {
        health_of(&h.margin(&alice.margin), &BTreeMap::from([(perp.index, h.market(&perp.accounts.market))])).unwrap()
    };

    // healthy: refused
    assert!(health(&h).maintenance_free() > 0);
    h.fails(
        &[liquidate(&bob, &bob.owner)],
        &[&bob.owner],
        Expected::Meridian(MeridianError::NotLiquidatable),
        &watched,
    );

    // BTC falls to 58,000: 3,500 lost on the long, below the 16% requirement on 58,000
    btc.dollars = 58_000.0;
    h.push_underlying(&btc);
    assert!(health(&h).maintenance_free() < 0, "{:?}", health(&h));
    // not on a stale price
    h.set_clock(SLOT + 51, TS + 30);
    h.fails(
        &[liquidate(&bob, &bob.owner)],
        &[&bob.owner],
        Expected::Meridian(MeridianError::OracleNotUsable),
        &watched,
    );
    h.push_underlying(&btc);
    // not by the liquidatee itself, nor with another's account
    let own = ix::liquidate_cancel_orders(
        &fx.exchange,
        &perp.accounts,
        &alice.margin,
        &alice.margin,
        &alice.owner.pubkey(),
        &[],
    );
    h.fails(&[own], &[&alice.owner], Expected::Meridian(MeridianError::CannotLiquidateSelf), &watched);
    let intruder = Keypair::new();
    h.svm.airdrop(&intruder.pubkey(), 1_000_000_000).unwrap();
    h.fails(&[liquidate(&bob, &intruder)], &[&intruder], Expected::Meridian(MeridianError::NotAccountOwner), &watched);

    // anyone else: the 16 orders go, the fee (0.1 USDC) moves from alice to bob
    let (alice_before, bob_before) = (h.margin(&alice.margin).collateral, h.margin(&bob.margin).collateral);
    let meta = h.ok(&[liquidate(&bob, &bob.owner)], &[&bob.owner]);
    assert_eq!(meta.return_data.data, [16u8]);
    let account = h.margin(&alice.margin);
    assert_eq!(account.num_open_orders(), 0);
    assert_eq!(h.book(&perp).bids.len(), 0, "alice's bids left the book");
    assert_eq!((account.collateral, h.margin(&bob.margin).collateral), (alice_before - 100_000, bob_before + 100_000));
    assert_eq!(account.positions_in_use().next().unwrap().bid_lots, 0);
    // nothing left to cancel
    h.fails(
        &[liquidate(&bob, &bob.owner)],
        &[&bob.owner],
        Expected::Meridian(MeridianError::NoOrdersToCancel),
        &watched,
    );
    h.crank(&perp, &maker.margin);
    h.assert_conserved(&fx);
    h.assert_markets_balanced(&fx);
}

/// An exchange with one BTC perpetual (oracle-priced), a maker, alice long 0.5 BTC with 8,100 USDC
/// (near her initial requirement, no orders) and bob, a liquidator with `bob_usdc`.
struct Crash {
    h: Harness,
    fx: ExchangeFixture,
    btc: Underlying,
    maker: Trader,
    alice: Trader,
    bob: Trader,
}

impl Crash {
    fn new(bob_usdc: u64) -> Crash {
        Crash::with_params(bob_usdc, meridian::ExchangeParams::default())
    }

    fn with_params(bob_usdc: u64, params: meridian::ExchangeParams) -> Crash {
        let mut h = Harness::new();
        let fx = h.setup_exchange(6, SPL_TOKEN, params);
        h.set_clock(SLOT, TS);
        let btc = h.setup_underlying(&fx, "BTC", 65_000.0, 2, &[], TS + 30 * DAY);
        let maker = h.funded_trader(&fx, 10_000_000 * USDC, 5_000_000 * USDC);
        let alice = h.leveraged_quoter(&fx, &btc, &maker, 0);
        let bob = h.funded_trader(&fx, bob_usdc * USDC, bob_usdc * USDC);
        h.crank(&btc.linear[0], &maker.margin);
        Crash { h, fx, btc, maker, alice, bob }
    }

    fn perp(&self) -> MarketFixture {
        self.btc.linear[0]
    }

    fn price(&mut self, dollars: f64) {
        self.btc.dollars = dollars;
        self.h.push_underlying(&self.btc);
    }

    fn markets(&self) -> BTreeMap<u16, meridian::Market> {
        markets_of(&self.h, &self.btc)
    }

    fn health(&self, t: &Trader) -> meridian_engine::margin::Health {
        health_of(&self.h.margin(&t.margin), &self.markets()).unwrap()
    }

    fn take(&self, liquidator: &Trader, max_lots: u64) -> solana_sdk::instruction::Instruction {
        let perp = self.perp();
        let theirs = ix::health_markets(&self.fx.exchange, &self.h.margin(&self.alice.margin), Some(perp.index));
        let ours = ix::health_markets(&self.fx.exchange, &self.h.margin(&liquidator.margin), Some(perp.index));
        ix::liquidate_take_position(
            &self.fx.exchange,
            &perp.accounts,
            &self.alice.margin,
            &liquidator.margin,
            &liquidator.owner.pubkey(),
            max_lots,
            &theirs,
            &ours,
        )
    }

    fn watched(&self) -> Vec<solana_sdk::pubkey::Pubkey> {
        vec![self.fx.exchange, self.alice.margin, self.bob.margin, self.perp().accounts.market]
    }
}

/// The liquidatee's side of a takeover of `lots` at the market's current value and discount,
/// applied to a copy of its account (what the program does, computed by the engine on the host).
fn taken(
    account: &meridian::MarginAccount,
    market: &meridian::Market,
    lots: u64,
) -> (meridian::MarginAccount, meridian_engine::liquidation::Takeover) {
    use meridian_engine::units::{Lots, Side};
    let mut a = *account;
    let slot = a.find_position(market.index).unwrap();
    let long = a.position(slot).base_lots > 0;
    let t = meridian_engine::liquidation::takeover(
        lots,
        market.lot_value().unwrap(),
        market.liquidation_discount_bps(),
        meridian::LIQUIDATION_INSURANCE_SHARE_BPS,
        long,
    )
    .unwrap();
    a.position_mut(slot).apply_fill(if long { Side::Ask } else { Side::Bid }, Lots(lots), t.value).unwrap();
    a.collateral -= t.insurance_fee as i64;
    (a, t)
}

#[test]
fn stage_two_takes_over_just_enough_at_the_discount() {
    let mut c = Crash::new(20_000);
    let perp = c.perp();
    let carol = c.h.funded_trader(&c.fx, 100 * USDC, 100 * USDC);
    let watched = c.watched();
    let bob = c.bob.owner.insecure_clone();

    // healthy: refused
    c.h.fails(&[c.take(&c.bob, 5_000)], &[&bob], Expected::Meridian(MeridianError::NotLiquidatable), &watched);
    c.h.place(&perp, &c.alice, order::limit(Side::Ask, 700_000, 1).post_only());
    c.price(58_000.0);
    let before = c.health(&c.alice);
    assert!(before.maintenance_free() < 0, "{before:?}");
    // with resting orders: stage 1 first
    c.h.fails(&[c.take(&c.bob, 5_000)], &[&bob], Expected::Meridian(MeridianError::LiquidateeHasOrders), &watched);
    let cancel =
        ix::liquidate_cancel_orders(&c.fx.exchange, &perp.accounts, &c.alice.margin, &c.bob.margin, &bob.pubkey(), &[]);
    c.h.ok(&[cancel], &[&bob]);
    // nothing to take in the future market, not by itself, not on a stale price
    let future = c.btc.linear[1];
    let wrong_market = ix::liquidate_take_position(
        &c.fx.exchange,
        &future.accounts,
        &c.alice.margin,
        &c.bob.margin,
        &bob.pubkey(),
        5_000,
        &[perp.accounts.market],
        &[],
    );
    c.h.fails(&[wrong_market], &[&bob], Expected::Meridian(MeridianError::NoPositionToTake), &watched);
    let own = ix::liquidate_take_position(
        &c.fx.exchange,
        &perp.accounts,
        &c.alice.margin,
        &c.alice.margin,
        &c.alice.owner.pubkey(),
        5_000,
        &[],
        &[],
    );
    c.h.fails(&[own], &[&c.alice.owner], Expected::Meridian(MeridianError::CannotLiquidateSelf), &watched);
    c.h.set_clock(SLOT + 51, TS + 30);
    c.h.fails(&[c.take(&c.bob, 5_000)], &[&bob], Expected::Meridian(MeridianError::OracleNotUsable), &watched);
    c.h.push_underlying(&c.btc);
    // carol's 100 USDC cannot carry the position
    c.h.fails(
        &[c.take(&carol, 5_000)],
        &[&carol.owner],
        Expected::Meridian(MeridianError::LiquidatorBelowInitial),
        &watched,
    );

    // bob asks for everything and gets only the lots that restore alice's liquidation end
    let market = c.h.market(&perp.accounts.market);
    let alice_before = c.h.margin(&c.alice.margin);
    let (bob_before, insurance_before) = (c.h.margin(&c.bob.margin), c.h.exchange(&c.fx.exchange).insurance_balance);
    let before = c.health(&c.alice);
    let meta = c.h.ok(&[c.take(&c.bob, 5_000)], &[&bob]);
    let lots = u64::from_le_bytes(meta.return_data.data[..8].try_into().unwrap());
    assert!(0 < lots && lots < 5_000, "a partial takeover: {lots}");
    let (expected, t) = taken(&alice_before, &market, lots);
    let alice = c.h.margin(&c.alice.margin);
    let slot = alice.find_position(perp.index).unwrap();
    assert_eq!(alice.position(slot), expected.position(slot), "alice sold {lots} lots for {}", t.value);
    assert_eq!(alice.collateral, expected.collateral, "and paid the insurance part of the discount");
    // the discount to the unit: scaled by BTC's realized volatility, which the crash took to the
    // cap (10%); a quarter of it to the insurance fund
    let vol = c.h.decode::<meridian::OracleAggregate>(&c.btc.oracle.address).realized_vol;
    assert_eq!(market.liquidation_discount_bps(), meridian_engine::liquidation::discount_bps(Some(vol), 0));
    assert_eq!(market.liquidation_discount_bps(), 1_000);
    let notional = lots * market.lot_value().unwrap();
    assert_eq!(t.discount, (notional * 1_000).div_ceil(10_000));
    assert_eq!(c.h.exchange(&c.fx.exchange).insurance_balance, insurance_before + t.insurance_fee);
    let bob_after = c.h.margin(&c.bob.margin);
    let bp = bob_after.position(bob_after.find_position(perp.index).unwrap());
    assert_eq!((bp.base_lots, bp.quote_balance), (lots as i64, -(t.value as i64)));
    assert_eq!(bob_after.collateral, bob_before.collateral);
    // bob is up the rest of the discount at the mark (counted after the 20% haircut on positive PnL)
    let bob_health = c.health(&c.bob);
    let haircut = meridian::risk::PORTFOLIO.upnl_haircut_bps as u64;
    assert_eq!(
        bob_health.equity - bob_before.collateral as i128,
        ((t.discount - t.insurance_fee) * (10_000 - haircut) / 10_000) as i128
    );
    // no over-liquidation: alice is back above her liquidation end, and one lot fewer would not do
    let after = c.health(&c.alice);
    assert!(after.liquidation_end_free() >= 0, "{after:?}");
    let (one_fewer, _) = taken(&alice_before, &market, lots - 1);
    let one_fewer = health_of(&one_fewer, &c.markets()).unwrap();
    assert!(one_fewer.liquidation_end_free() < 0, "{lots} lots taken, {} would have done", lots - 1);
    assert!(before.liquidation_end_free() < 0);
    // healthy again: nothing more to take
    c.h.fails(&[c.take(&c.bob, 5_000)], &[&bob], Expected::Meridian(MeridianError::NotLiquidatable), &watched);
    c.h.assert_conserved(&c.fx);
    c.h.assert_markets_balanced(&c.fx);
}

#[test]
fn stage_three_draws_the_insurance_fund_then_socializes_the_rest() {
    let mut c = Crash::new(20_000);
    let perp = c.perp();
    let bob = c.bob.owner.insecure_clone();
    // the admin seeds the insurance fund with 1,000 USDC
    let admin = c.h.funded_trader(&c.fx, 1_001 * USDC, USDC);
    c.h.ok(
        &[ix::deposit_insurance(&c.fx.collateral, &admin.owner.pubkey(), &admin.token, 1_000 * USDC)],
        &[&admin.owner],
    );
    assert_eq!(c.h.exchange(&c.fx.exchange).insurance_balance, 1_000 * USDC);
    c.h.assert_conserved(&c.fx);
    let bankruptcy = |c: &Crash, m: &MarketFixture| {
        ix::liquidate_bankruptcy(&c.fx.exchange, &m.accounts, &c.alice.margin, &bob.pubkey())
    };

    // BTC falls to 45,000: alice lost 10,000 on 8,100
    c.price(45_000.0);
    assert!(c.health(&c.alice).equity < 0);
    let watched = c.watched();
    c.h.fails(&[bankruptcy(&c, &perp)], &[&bob], Expected::Meridian(MeridianError::PositionsLeft), &watched);
    // the whole position goes: the account cannot be restored
    let meta = c.h.ok(&[c.take(&c.bob, 5_000)], &[&bob]);
    assert_eq!(meta.return_data.data[..8], 5_000u64.to_le_bytes());
    let alice = c.h.margin(&c.alice.margin);
    assert!(alice.positions_in_use().all(|p| p.base_lots == 0));
    let deficit = (-c.health(&c.alice).equity) as u64;
    let insurance = c.h.exchange(&c.fx.exchange).insurance_balance;
    assert!(deficit > insurance, "deficit {deficit}, insurance {insurance}");
    // debts are socialized where they are owed, with the crank done
    let future = c.btc.linear[1];
    c.h.fails(&[bankruptcy(&c, &future)], &[&bob], Expected::Meridian(MeridianError::NoDebtInMarket), &watched);
    c.h.place(&perp, &c.maker, order::limit(Side::Ask, 460_000, 1).post_only());
    c.h.place(&perp, &c.bob, order::limit(Side::Bid, 460_000, 1).immediate_or_cancel());
    c.h.fails(&[bankruptcy(&c, &perp)], &[&bob], Expected::Meridian(MeridianError::EventsPending), &watched);
    c.h.crank(&perp, &c.maker.margin);

    let market = c.h.market(&perp.accounts.market);
    let (maker_before, bob_before) = (c.health(&c.maker), c.health(&c.bob));
    let meta = c.h.ok(&[bankruptcy(&c, &perp)], &[&bob]);
    let resolved =
        <meridian::BankruptcyResolved as anchor_lang::AnchorDeserialize>::deserialize(&mut &meta.return_data.data[..])
            .unwrap();
    assert_eq!(
        resolved,
        meridian::BankruptcyResolved { deficit, insurance_paid: insurance, socialized: deficit - insurance }
    );
    let exchange = c.h.exchange(&c.fx.exchange);
    assert_eq!(
        (exchange.insurance_balance, exchange.insurance_paid, exchange.socialized_loss),
        (0, insurance, deficit - insurance)
    );
    assert_eq!(c.health(&c.alice).equity, 0, "the account's deficit is gone");
    let newest = *c.h.margin(&c.alice.margin).health_history().last().unwrap();
    assert_eq!(
        newest.sources & meridian_engine::health_history::source::BANKRUPTCY,
        meridian_engine::health_history::source::BANKRUPTCY
    );
    // the window (stage 2 was in it too) keeps the worst reading: at least the deficit short
    assert!(newest.maintenance_free() <= -(deficit as i128), "{newest:?}");
    // both sides of the open interest pay the rest, per lot, rounded up
    let after = c.h.market(&perp.accounts.market);
    let (per_lot, _) = meridian_engine::liquidation::socialize(deficit - insurance, market.open_interest).unwrap();
    assert_eq!(after.loss_index, per_lot);
    let charge = (5_001 * per_lot as u128).div_ceil(1_000_000_000) as i64;
    assert_eq!(market.open_interest, 5_001);
    assert!(
        charge * 2 >= (deficit - insurance) as i64 && charge * 2 <= (deficit - insurance) as i64 + 2,
        "{charge} {deficit} {insurance}"
    );
    let position = |c: &Crash, t: &Trader| {
        let a = c.h.margin(&t.margin);
        *a.position(a.find_position(perp.index).unwrap())
    };
    for (t, before) in [(&c.maker, maker_before), (&c.bob, bob_before)] {
        assert_eq!(meridian_engine::liquidation::pending_loss(&position(&c, t), per_lot), Some(charge));
        assert!(c.health(t).equity < before.equity, "the debt counts at once");
    }
    let quotes = (position(&c, &c.maker).quote_balance, position(&c, &c.bob).quote_balance);
    // nothing left to resolve
    c.h.fails(&[bankruptcy(&c, &perp)], &[&bob], Expected::Meridian(MeridianError::NotBankrupt), &watched);
    c.h.assert_conserved(&c.fx);
    c.h.assert_markets_balanced(&c.fx);
    // the charge is settled into the quote balances at the next settlement
    let settle = ix::settle_funding(&perp.accounts.market, &[c.maker.margin, c.bob.margin]);
    c.h.ok(&[settle], &[]);
    assert_eq!(position(&c, &c.maker).loss_index, per_lot);
    assert_eq!(
        (position(&c, &c.maker).quote_balance, position(&c, &c.bob).quote_balance),
        (quotes.0 - charge, quotes.1 - charge)
    );
    c.h.assert_markets_balanced(&c.fx);
}

/// The insurance share other markets collected and hold unswept counts in a bankruptcy when they
/// are passed (writable, of the same exchange); anything else passed there is refused, unchanged.
#[test]
fn stage_three_sweeps_the_insurance_other_markets_hold() {
    let params = meridian::ExchangeParams { insurance_fee_share_bps: 5_000, ..meridian::ExchangeParams::default() };
    let mut c = Crash::with_params(20_000, params);
    let (perp, future) = (c.perp(), c.btc.linear[1]);
    let bob = c.bob.owner.insecure_clone();
    // a taker's fee in the future leaves half of the protocol's part unswept there
    c.h.place(&future, &c.maker, order::limit(Side::Ask, 650_000, 100).post_only());
    c.h.place(&future, &c.bob, order::limit(Side::Bid, 650_000, 100).immediate_or_cancel());
    c.h.crank(&future, &c.maker.margin);
    let held = c.h.market(&future.accounts.market).unswept_insurance;
    assert!(held > 0);
    c.price(45_000.0);
    c.h.ok(&[c.take(&c.bob, 5_000)], &[&bob]);
    let bankruptcy = |c: &Crash, others: &[solana_sdk::pubkey::Pubkey]| {
        ix::liquidate_bankruptcy_sweeping(&c.fx.exchange, &perp.accounts, &c.alice.margin, &bob.pubkey(), others)
    };
    let mut watched = c.watched();
    watched.push(future.accounts.market);

    // read-only, a market of another exchange, not a market: refused, nothing changes
    let mut read_only = bankruptcy(&c, &[future.accounts.market]);
    read_only.accounts.last_mut().unwrap().is_writable = false;
    c.h.fails(&[read_only], &[&bob], Expected::Meridian(MeridianError::AccountNotWritable), &watched);
    let other_fx = c.h.setup_exchange(6, SPL_TOKEN, meridian::ExchangeParams { index: 1, ..params });
    let foreign = c.h.setup_market(&other_fx, default_market_params());
    let ix = bankruptcy(&c, &[foreign.accounts.market]);
    c.h.fails(&[ix], &[&bob], Expected::Meridian(MeridianError::WrongExchange), &watched);
    let ix = bankruptcy(&c, &[c.alice.margin]);
    c.h.fails(&[ix], &[&bob], Expected::Anchor(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch), &watched);

    // the fund pays what it holds, this market's share and the future's
    let fund =
        c.h.exchange(&c.fx.exchange).insurance_balance + c.h.market(&perp.accounts.market).unswept_insurance + held;
    let deficit = (-c.health(&c.alice).equity) as u64;
    assert!(deficit > fund, "deficit {deficit}, fund {fund}");
    let meta = c.h.ok(&[bankruptcy(&c, &[future.accounts.market])], &[&bob]);
    let resolved =
        <meridian::BankruptcyResolved as anchor_lang::AnchorDeserialize>::deserialize(&mut &meta.return_data.data[..])
            .unwrap();
    assert_eq!((resolved.deficit, resolved.insurance_paid), (deficit, fund));
    assert_eq!(c.h.market(&future.accounts.market).unswept_insurance, 0);
    assert_eq!(c.h.exchange(&c.fx.exchange).insurance_balance, 0);
    c.h.assert_conserved(&c.fx);
    c.h.assert_markets_balanced(&c.fx);
}

#[test]
fn the_health_history_keeps_the_worst_reading_of_each_window() {
    use meridian_engine::health_history::{source, HealthSample, WINDOW_SLOTS};
    let mut c = Crash::new(20_000);
    let perp = c.perp();
    let bob = c.bob.owner.insecure_clone();
    let history = |c: &Crash, t: &Trader| c.h.margin(&t.margin).health_history().copied().collect::<Vec<_>>();
    let worst = |a: Health, b: Health| if b.maintenance_free() < a.maintenance_free() { b } else { a };
    // the market has the slot of the push that set its price
    assert_eq!(c.h.market(&perp.accounts.market).oracle_push_slot, SLOT);
    // alice's orders read the clock (her position's market has an oracle): one window holding the
    // worse of the readings after her fill and after her resting ask
    let filled = c.health(&c.alice);
    c.h.place(&perp, &c.alice, order::limit(Side::Ask, 700_000, 1).post_only());
    let rested = c.health(&c.alice);
    let first = HealthSample::new(SLOT, &worst(filled, rested), source::ORDER);
    assert_eq!(history(&c, &c.alice), vec![first]);
    assert!(history(&c, &c.bob).is_empty(), "bob has not traded");

    // a window later BTC crashes: stage 1 then stage 2 read her health below maintenance, in a
    // new window that keeps the worse of the two
    let crash = SLOT + WINDOW_SLOTS;
    c.h.set_clock(crash, TS + 60);
    c.price(58_000.0);
    assert_eq!(c.h.market(&perp.accounts.market).oracle_push_slot, crash);
    let before_cancel = c.health(&c.alice);
    let cancel =
        ix::liquidate_cancel_orders(&c.fx.exchange, &perp.accounts, &c.alice.margin, &c.bob.margin, &bob.pubkey(), &[]);
    c.h.ok(&[cancel], &[&bob]);
    let h = history(&c, &c.alice);
    assert_eq!(h, vec![first, HealthSample::new(crash, &before_cancel, source::LIQUIDATION)]);
    let before_take = c.health(&c.alice);
    c.h.ok(&[c.take(&c.bob, 5_000)], &[&bob]);
    let h = history(&c, &c.alice);
    assert_eq!(h.len(), 2, "the same window");
    assert_eq!(h[1], HealthSample::new(crash, &worst(before_cancel, before_take), source::LIQUIDATION));
    assert!(h[1].maintenance_free() < 0 && h[0].maintenance_free() > 0);

    // bob, who took the position over, withdraws: his reading is his health less the amount
    let mut withdraw = ix::withdraw(&c.fx.collateral, &c.bob.margin, &bob.pubkey(), &c.bob.token, USDC);
    let markets = ix::health_markets(&c.fx.exchange, &c.h.margin(&c.bob.margin), None);
    withdraw.accounts.extend(markets.iter().map(|m| solana_sdk::instruction::AccountMeta::new_readonly(*m, false)));
    c.h.ok(&[withdraw], &[&bob]);
    let after = c.health(&c.bob);
    assert_eq!(history(&c, &c.bob), vec![HealthSample::new(crash, &after, source::WITHDRAWAL)]);
    c.h.assert_conserved(&c.fx);
}

/// Every market of underlying `u`, by index, as the runtime holds them now.
fn markets_of(h: &Harness, u: &Underlying) -> BTreeMap<u16, meridian::Market> {
    u.all_markets().map(|m| (m.index, h.market(&m.accounts.market))).collect()
}

/// What the keeper's decision code (`meridian_sdk::liquidation`: rank, next stage, instruction)
/// did in one run to quiescence.
#[derive(Debug, Default)]
struct KeeperRun {
    cancels: usize,
    takeovers: usize,
    bankruptcies: usize,
    races: usize,
    liquidated: std::collections::BTreeSet<solana_sdk::pubkey::Pubkey>,
}

/// Runs the liquidator's loop on the runtime's state until no account can be liquidated: rank every
/// margin account of the exchange, then send each candidate's stage from its current state (a race
/// error, as the keeper counts it, is not a failure; anything else is).
fn liquidate_to_quiescence(
    h: &mut Harness,
    fx: &ExchangeFixture,
    btc: &Underlying,
    liquidator: &Trader,
    slot: u64,
) -> KeeperRun {
    use meridian_sdk::liquidation::{self, Stage, RACE_ERRORS};
    let mut run = KeeperRun::default();
    for _round in 0..16 {
        let ranked = liquidation::rank(
            &h.margin_accounts(&fx.exchange),
            &markets_of(h, btc),
            slot,
            &[liquidator.margin],
            &liquidator.owner.pubkey(),
        );
        if ranked.is_empty() {
            return run;
        }
        for c in ranked {
            let markets = markets_of(h, btc);
            let (theirs, ours) = (h.margin(&c.address), h.margin(&liquidator.margin));
            let ix = liquidation::instruction(
                &fx.exchange,
                c.stage,
                (&c.address, &theirs),
                (&liquidator.margin, &ours),
                &liquidator.owner.pubkey(),
                &markets,
            )
            .unwrap();
            match h.send(&[ix], &[&liquidator.owner]) {
                Ok(_) => {
                    run.liquidated.insert(c.address);
                    match c.stage {
                        Stage::CancelOrders { .. } => run.cancels += 1,
                        Stage::TakePosition { .. } => run.takeovers += 1,
                        Stage::Bankruptcy { .. } => run.bankruptcies += 1,
                    }
                }
                Err(f) => {
                    let failure = meridian_sdk::error::ProgramFailure::from_transaction_error(&f.err, &f.logs);
                    match failure {
                        Some(p) if RACE_ERRORS.contains(&p.name.as_str()) => run.races += 1,
                        _ => panic!("{:?} on {}: {:?}\n{}", c.stage, c.address, f.err, f.logs.join("\n")),
                    }
                }
            }
        }
    }
    panic!("still liquidating after 16 rounds: {run:?}");
}

#[test]
fn a_cascade_over_many_accounts_ends_solvent_and_reconciled() {
    use meridian_engine::health_history::source;
    const TRADERS: u64 = 24;
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, meridian::ExchangeParams::default());
    h.set_clock(SLOT, TS);
    let mut btc = h.setup_underlying(&fx, "BTC", 65_000.0, 2, &[], TS + 30 * DAY);
    let perp = btc.linear[0];
    let maker = h.funded_trader(&fx, 100_000_000 * USDC, 50_000_000 * USDC);
    h.place(&perp, &maker, order::limit(Side::Ask, 650_000, 5_000 * TRADERS).post_only());
    // 24 longs of 0.5 BTC (32,500 USDC) on 8,000 to 9,380 USDC; every third also bids below
    let mut traders = vec![];
    for i in 0..TRADERS {
        let collateral = (8_000 + 60 * i) * USDC;
        let t = h.funded_trader(&fx, collateral, collateral);
        assert_eq!(
            h.place(&perp, &t, order::limit(Side::Bid, 650_000, 5_000).immediate_or_cancel()).filled_lots,
            5_000
        );
        if i % 3 == 0 {
            h.place(&perp, &t, order::limit(Side::Bid, 600_000 - i, 1).post_only());
        }
        traders.push(t);
    }
    h.crank(&perp, &maker.margin);
    let admin = h.funded_trader(&fx, 10_001 * USDC, USDC);
    h.ok(&[ix::deposit_insurance(&fx.collateral, &admin.owner.pubkey(), &admin.token, 10_000 * USDC)], &[&admin.owner]);
    let liquidator = h.funded_trader(&fx, 5_000_000 * USDC, 5_000_000 * USDC);
    let health =
        |h: &Harness, btc: &Underlying, t: &Trader| health_of(&h.margin(&t.margin), &markets_of(h, btc)).unwrap();
    assert!(traders.iter().all(|t| health(&h, &btc, t).maintenance_free() > 0));

    // BTC falls 11%, then 10% more, the liquidator's loop running after each move
    let mut total = KeeperRun::default();
    for (step, dollars) in [(1u64, 58_000.0), (2, 52_000.0)] {
        let slot = SLOT + 10 * step;
        h.set_clock(slot, TS + 5 * step as i64);
        btc.dollars = dollars;
        h.push_underlying(&btc);
        let below: Vec<_> =
            traders.iter().filter(|t| health(&h, &btc, t).maintenance_free() < 0).map(|t| t.margin).collect();
        let run = liquidate_to_quiescence(&mut h, &fx, &btc, &liquidator, slot);
        assert!(below.iter().all(|a| run.liquidated.contains(a)), "step {step}: {} below, {run:?}", below.len());
        total.cancels += run.cancels;
        total.takeovers += run.takeovers;
        total.bankruptcies += run.bankruptcies;
        total.races += run.races;
        total.liquidated.extend(run.liquidated);
        h.assert_conserved(&fx);
        h.assert_markets_balanced(&fx);
    }
    // most of the book went through the stages; the thinnest accounts were bankrupt
    assert!(total.liquidated.len() as u64 >= TRADERS / 2, "{total:?}");
    assert!(total.cancels >= 1 && total.takeovers >= total.liquidated.len() && total.bankruptcies >= 1, "{total:?}");
    println!(
        "cascade over {TRADERS} accounts: {} liquidated; {} cancels, {} takeovers, {} bankruptcies, {} races",
        total.liquidated.len(),
        total.cancels,
        total.takeovers,
        total.bankruptcies,
        total.races
    );
    // every trader is above maintenance or closed out at zero, each liquidated one has the
    // liquidation in its health history, and the exchange is solvent
    let exchange = h.exchange(&fx.exchange);
    let mut equity = 0i128;
    for (address, a) in h.margin_accounts(&fx.exchange) {
        let hl = health_of(&a, &markets_of(&h, &btc)).unwrap();
        assert!(hl.maintenance_free() >= 0 || hl.equity == 0, "{address}: {hl:?}");
        if total.liquidated.contains(&address) {
            assert!(
                a.health_history().any(|s| s.sources & source::LIQUIDATION != 0 && s.maintenance_free() < 0),
                "{address}"
            );
        }
        equity += hl.equity;
    }
    assert!(equity + exchange.insurance_balance as i128 >= 0, "solvent: {equity} + {}", exchange.insurance_balance);
    assert!(exchange.insurance_paid > 0, "{exchange:?}");
}
