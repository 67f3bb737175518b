//! Liquidation stage 1 on the SBF binary: an account below maintenance has its resting orders
//! cancelled by anyone for a small fee; a healthy account, a stale oracle, the liquidatee itself
//! and a liquidator signing for someone else's account are refused, changing nothing.

use meridian::MeridianError;
use meridian_program_tests::harness::*;
use meridian_program_tests::portfolio::*;
use meridian_sdk::{ix, risk::health_of};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::collections::BTreeMap;

const USDC: u64 = 1_000_000;
const SLOT: u64 = 3_000;
const TS: i64 = 1_700_000_000;

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
        ix::liquidate_cancel_orders(&fx.exchange, &perp.accounts, &alice.margin, &liquidator_account.margin, &signer.pubkey(), &[])
    };
    let watched = [fx.exchange, alice.margin, bob.margin, perp.accounts.book];
    let health = |h: &Harness| {
        health_of(&h.margin(&alice.margin), &BTreeMap::from([(perp.index, h.market(&perp.accounts.market))])).unwrap()
    };

    // healthy: refused
    assert!(health(&h).maintenance_free() > 0);
    h.fails(&[liquidate(&bob, &bob.owner)], &[&bob.owner], Expected::Meridian(MeridianError::NotLiquidatable), &watched);

    // BTC falls to 58,000: 3,500 lost on the long, below the 16% requirement on 58,000
    btc.dollars = 58_000.0;
    h.push_underlying(&btc);
    assert!(health(&h).maintenance_free() < 0, "{:?}", health(&h));
    // not on a stale price
    h.set_clock(SLOT + 51, TS + 30);
    h.fails(&[liquidate(&bob, &bob.owner)], &[&bob.owner], Expected::Meridian(MeridianError::OracleNotUsable), &watched);
    h.push_underlying(&btc);
    // not by the liquidatee itself, nor with another's account
    let own = ix::liquidate_cancel_orders(&fx.exchange, &perp.accounts, &alice.margin, &alice.margin, &alice.owner.pubkey(), &[]);
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
    h.fails(&[liquidate(&bob, &bob.owner)], &[&bob.owner], Expected::Meridian(MeridianError::NoOrdersToCancel), &watched);
    h.crank(&perp, &maker.margin);
    h.assert_conserved(&fx);
    h.assert_markets_balanced(&fx);
}
