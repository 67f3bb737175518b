//! Oracle aggregates on the SBF binary: every row of the fault matrix (docs/oracles.md), the
//! median, TWAP accumulator and realized volatility, and admin checks. Source accounts are real
//! Pyth `PriceUpdateV2` and Switchboard pull feed data owned by the real oracle program ids.

use anchor_lang::error::ErrorCode as Anchor;
use meridian::{MeridianError, OracleStatus};
use meridian_engine::oracle::{self as engine, SourceFault};
use meridian_oracle_sim::{PythPrice, SwitchboardPrice};
use meridian_program_tests::fixture::{SLOT, TS};
use meridian_program_tests::harness::{ExchangeFixture, Expected, Harness, SPL_TOKEN};
use meridian_program_tests::oracle::*;
use meridian_sdk::{ix, state::encode_name};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

const D: u64 = 1_000_000_000_000; // $1 in 12 decimals

fn setup() -> (Harness, ExchangeFixture) {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, Default::default());
    h.set_clock(SLOT, TS);
    (h, fx)
}

/// Two Pyth feeds and one Switchboard feed, 2 of 3 required.
fn three_sources(h: &mut Harness, fx: &ExchangeFixture) -> OracleFixture {
    h.setup_oracle(fx, "SOL", 2, 1, None)
}

fn refresh(h: &mut Harness, o: &OracleFixture) {
    h.ok(&[o.refresh_ix()], &[]);
}

fn fails(h: &mut Harness, o: &OracleFixture, e: MeridianError) {
    let watched = [o.address];
    h.fails(&[o.refresh_ix()], &[], Expected::Meridian(e), &watched);
}

fn faults(h: &Harness, o: &OracleFixture) -> Vec<u8> {
    let a = h.oracle(&o.address);
    a.sources[..a.num_sources as usize].iter().map(|s| s.last_fault).collect()
}

#[test]
fn three_agreeing_sources_give_their_median() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    assert_eq!(h.oracle(&o.address).status(), OracleStatus::Uninitialized);
    h.set_sources(&o, &[150.0, 150.6, 149.7]);
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!(a.status(), OracleStatus::Valid);
    assert_eq!(a.price, 150 * D);
    // covers every source: 150.6 is 0.6 away with a 0.05% confidence (0.0753)
    assert_eq!(a.conf, 600_000_000_000 + 75_300_000_000);
    assert_eq!((a.valid_slot, a.valid_ts, a.price_slot, a.num_refreshes), (SLOT, TS, SLOT, 1));
    assert_eq!(faults(&h, &o), vec![0, 0, 0]);
    assert!(a.is_usable(SLOT + 50) && !a.is_usable(SLOT + 51));
    h.assert_conserved(&fx);
}

#[test]
fn stale_sources_by_slots_or_seconds_are_left_out() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    h.set_sources(&o, &[150.0, 151.0, 152.0]);
    // 50 slots and 30 s old: still fresh
    h.set_clock(SLOT + 50, TS + 30);
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).price, 151 * D);
    // source 0 republished late: 51 slots old for the others
    h.set_clock(SLOT + 51, TS + 30);
    let Source::Pyth { account, feed_id } = o.sources[0] else { unreachable!() };
    h.set_pyth(account, &pyth_price(feed_id, 150.5, TS + 30, SLOT + 51));
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!(a.status(), OracleStatus::TooFewSources, "one valid of the two required");
    assert_eq!(a.price, 151 * D, "price kept");
    assert_eq!(faults(&h, &o), vec![0, SourceFault::Stale as u8, SourceFault::Stale as u8]);
    // by seconds: fresh slots, 31 s old
    h.set_sources(&o, &[150.0, 151.0, 152.0]);
    h.set_clock(SLOT + 52, TS + 61);
    let sb = o.sources[2].account();
    h.set_switchboard(sb, &switchboard_price(152.0, TS + 61, SLOT + 52));
    refresh(&mut h, &o);
    assert_eq!(faults(&h, &o), vec![SourceFault::Stale as u8, SourceFault::Stale as u8, 0]);
    // a source published in the future (clock skew) is stale too
    h.set_sources(&o, &[150.0, 151.0, 152.0]);
    h.set_pyth(account, &pyth_price(feed_id, 150.0, TS + 62, SLOT + 52));
    refresh(&mut h, &o);
    assert_eq!(faults(&h, &o), vec![SourceFault::Stale as u8, 0, 0]);
    assert_eq!(h.oracle(&o.address).status(), OracleStatus::Valid);
}

#[test]
fn wide_confidence_nonpositive_prices_and_exponent_extremes_are_faults() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    let Source::Pyth { account, feed_id } = o.sources[0] else { unreachable!() };
    let cases = [
        (PythPriceEdit::Conf(300_000_001), SourceFault::WideConfidence), // 2% of $150 is 3.0
        (PythPriceEdit::Price(0), SourceFault::NoPrice),
        (PythPriceEdit::Price(-15_000_000_000), SourceFault::NoPrice),
        (PythPriceEdit::Expo(-31), SourceFault::ExponentOutOfRange),
        (PythPriceEdit::Expo(12), SourceFault::ExponentOutOfRange), // 1.5e22: beyond u64 at 12 decimals
        (PythPriceEdit::Expo(-24), SourceFault::ExponentOutOfRange), // 1.5e-14: below 10^-12
    ];
    for (edit, fault) in cases {
        h.set_sources(&o, &[150.0, 151.0, 152.0]);
        let mut p = pyth_price(feed_id, 150.0, TS, SLOT);
        match edit {
            PythPriceEdit::Conf(c) => p.conf = c,
            PythPriceEdit::Price(v) => p.price = v,
            PythPriceEdit::Expo(e) => p.exponent = e,
        }
        h.set_pyth(account, &p);
        refresh(&mut h, &o);
        assert_eq!(faults(&h, &o), vec![fault as u8, 0, 0], "{edit:?}");
        let a = h.oracle(&o.address);
        assert_eq!((a.status(), a.price), (OracleStatus::Valid, 151_500_000_000_000), "median of the other two");
        assert_eq!(a.sources[0].last_price, 0);
    }
    // exactly at the 2% limit is accepted; other exponents convert
    let mut p = pyth_price(feed_id, 150.0, TS, SLOT);
    p.conf = 300_000_000;
    h.set_pyth(account, &p);
    refresh(&mut h, &o);
    assert_eq!(faults(&h, &o), vec![0, 0, 0]);
    h.set_pyth(account, &PythPrice { price: 150_100, exponent: -3, conf: 10, ..p });
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).sources[0].last_price, 150_100_000_000_000);
    // a Switchboard feed without samples has no price
    let sb = o.sources[2].account();
    h.set_switchboard(sb, &SwitchboardPrice { num_samples: 0, ..switchboard_price(152.0, TS, SLOT) });
    refresh(&mut h, &o);
    assert_eq!(faults(&h, &o)[2], SourceFault::NoPrice as u8);
}

#[derive(Debug, Clone, Copy)]
enum PythPriceEdit {
    Conf(u64),
    Price(i64),
    Expo(i32),
}

#[test]
fn divergent_sources_degrade_the_aggregate() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    h.set_sources(&o, &[100.0, 100.0, 105.0]);
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).status(), OracleStatus::Valid, "5% is the limit");
    h.set_clock(SLOT + 1, TS + 1);
    h.set_sources(&o, &[100.0, 100.0, 105.1]);
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!(a.status(), OracleStatus::Divergent);
    assert_eq!(a.price, 100 * D, "the median");
    assert!(a.conf >= 5_100_000_000_000, "confidence covers the divergent source");
    assert_eq!(a.valid_slot, SLOT, "last valid refresh unchanged");
    assert!(!a.is_usable(SLOT + 1));
    // back in line
    h.set_clock(SLOT + 2, TS + 2);
    h.set_sources(&o, &[100.0, 100.0, 101.0]);
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).status(), OracleStatus::Valid);
}

#[test]
fn too_few_valid_sources_keep_the_last_price() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    // before any price: stays without one
    h.set_sources(&o, &[150.0, 150.0, 150.0]);
    h.set_clock(SLOT + 100, TS + 100);
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!((a.status(), a.price), (OracleStatus::TooFewSources, 0));
    h.set_sources(&o, &[150.0, 150.0, 150.0]);
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).status(), OracleStatus::Valid);
    h.set_clock(SLOT + 200, TS + 200);
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!((a.status(), a.price, a.valid_slot), (OracleStatus::TooFewSources, 150 * D, SLOT + 100));
    assert!(!a.is_usable(SLOT + 200));
}

#[test]
fn wrong_accounts_fail_the_refresh_and_change_nothing() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    h.set_sources(&o, &[150.0, 150.0, 150.0]);
    refresh(&mut h, &o);
    let Source::Pyth { account, feed_id } = o.sources[0] else { unreachable!() };
    let good = pyth_price(feed_id, 150.0, TS, SLOT);

    // wrong owner: the same bytes owned by another program
    h.set_pyth_owned_by(account, Pubkey::new_unique(), &good);
    fails(&mut h, &o, MeridianError::OracleSourceWrongOwner);
    let sb = o.sources[2].account();
    h.set_pyth_owned_by(sb, meridian_oracle_sim::PYTH_RECEIVER_ID, &good);
    fails(&mut h, &o, MeridianError::OracleSourceWrongOwner);
    h.set_sources(&o, &[150.0, 150.0, 150.0]);

    // wrong feed: another Pyth feed id, another Switchboard feed account
    h.set_pyth(account, &pyth_price([0xAA; 32], 150.0, TS, SLOT));
    fails(&mut h, &o, MeridianError::OracleSourceWrongFeed);
    h.set_pyth(account, &good);
    let other = Pubkey::new_unique();
    h.set_switchboard(other, &switchboard_price(150.0, TS, SLOT));
    let mut keys = o.source_accounts();
    keys[2] = other;
    h.fails(
        &[ix::refresh_oracle(&o.address, &keys, &[])],
        &[],
        Expected::Meridian(MeridianError::OracleSourceWrongFeed),
        &[o.address],
    );
    // a Switchboard feed in the Pyth slot: the owner is not Pyth's
    keys = o.source_accounts();
    keys[0] = o.sources[2].account();
    h.fails(
        &[ix::refresh_oracle(&o.address, &keys, &[])],
        &[],
        Expected::Meridian(MeridianError::OracleSourceWrongOwner),
        &[o.address],
    );

    // not an oracle format at all (a Pyth-owned account with garbage)
    h.svm
        .set_account(
            account,
            solana_sdk::account::Account {
                lamports: 1_000_000_000,
                data: vec![7; 134],
                owner: meridian_oracle_sim::PYTH_RECEIVER_ID,
                executable: false,
                rent_epoch: 0,
            },
        )
        .unwrap();
    fails(&mut h, &o, MeridianError::OracleSourceInvalidData);
    h.set_pyth(account, &good);

    // partially verified Pyth update
    h.set_pyth(account, &PythPrice { partial_signatures: Some(5), ..good });
    fails(&mut h, &o, MeridianError::OracleSourceNotVerified);
    h.set_pyth(account, &good);

    // missing accounts; an account after the sources must be a market priced by this oracle
    let keys = o.source_accounts();
    h.fails(
        &[ix::refresh_oracle(&o.address, &keys[..2], &[])],
        &[],
        Expected::Meridian(MeridianError::OracleSourceCount),
        &[o.address],
    );
    h.fails(
        &[ix::refresh_oracle(&o.address, &keys, &[keys[2]])],
        &[],
        Expected::Anchor(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram),
        &[o.address],
    );

    // a replay: an update older than the one already used
    h.set_clock(SLOT + 5, TS + 5);
    h.set_pyth(account, &pyth_price(feed_id, 151.0, TS + 5, SLOT + 5));
    refresh(&mut h, &o);
    h.set_pyth(account, &good);
    fails(&mut h, &o, MeridianError::OracleSourceReplayed);

    // the aggregate itself must be the program's
    let fake = Pubkey::new_unique();
    h.svm
        .set_account(
            fake,
            solana_sdk::account::Account {
                lamports: 1_000_000_000,
                data: vec![0; meridian::OracleAggregate::SPACE],
                owner: Pubkey::new_unique(),
                executable: false,
                rent_epoch: 0,
            },
        )
        .unwrap();
    h.fails(
        &[ix::refresh_oracle(&fake, &o.source_accounts(), &[])],
        &[],
        Expected::Anchor(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram),
        &[fake],
    );
    assert_eq!(h.oracle(&o.address).status(), OracleStatus::Valid);
}

#[test]
fn pyth_push_oracle_accounts_are_accepted() {
    let (mut h, fx) = setup();
    let o = h.setup_oracle(&fx, "BTC", 1, 0, None);
    let Source::Pyth { account, feed_id } = o.sources[0] else { unreachable!() };
    h.set_pyth_owned_by(account, meridian_oracle_sim::PYTH_PUSH_ORACLE_ID, &pyth_price(feed_id, 97_000.5, TS, SLOT));
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!((a.status(), a.price), (OracleStatus::Valid, 97_000_500_000_000_000));
}

#[test]
fn twap_accumulates_price_times_time() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    h.set_sources(&o, &[100.0, 100.0, 100.0]);
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).twap_cumulative(), 0);
    h.set_clock(SLOT + 10, TS + 10);
    h.set_sources(&o, &[110.0, 110.0, 110.0]);
    refresh(&mut h, &o);
    // a degraded refresh still integrates the price that was in force
    h.set_clock(SLOT + 40, TS + 30);
    h.set_sources(&o, &[110.0, 110.0, 200.0]);
    refresh(&mut h, &o);
    let a = h.oracle(&o.address);
    assert_eq!(a.status(), OracleStatus::Divergent);
    assert_eq!(a.twap_cumulative(), (100 * 10 + 110 * 20) as u128 * D as u128);
    assert_eq!(a.twap_last_ts, TS + 30);
    // the TWAP over [TS, TS + 30] from two snapshots
    assert_eq!(a.twap_cumulative() / 30, 106_666_666_666_666);
}

#[test]
fn realized_volatility_follows_the_engine_to_the_unit() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    let prices = [100.0, 101.0, 99.5, 100.2, 102.0, 101.1, 101.1, 98.0, 99.0, 100.0];
    let (mut var, mut prev) = (0u64, 0u64);
    for (i, &p) in prices.iter().enumerate() {
        h.set_clock(SLOT + 2 * i as u64, TS + 20 * i as i64);
        h.set_sources(&o, &[p, p, p]);
        refresh(&mut h, &o);
        let price = h.oracle(&o.address).price;
        if prev != 0 {
            var = engine::update_variance(var, engine::log_return(prev, price).unwrap(), 20, 3_600);
        }
        prev = price;
    }
    let a = h.oracle(&o.address);
    assert_eq!(a.ewma_variance, var);
    assert_eq!(a.realized_vol, engine::volatility(var));
    assert!(a.realized_vol > 0);
    // a second refresh in the same second takes no sample
    h.set_sources(&o, &[130.0, 130.0, 130.0]);
    refresh(&mut h, &o);
    assert_eq!(h.oracle(&o.address).ewma_variance, var);
}

#[test]
fn create_and_configure_are_admin_only_and_validated() {
    let (mut h, fx) = setup();
    let o = three_sources(&mut h, &fx);
    let intruder = Keypair::new();
    h.svm.airdrop(&intruder.pubkey(), 10_000_000_000).unwrap();
    let mut params = default_oracle_params(&o.sources);
    let name = encode_name("ETH");
    let create = ix::create_oracle(&fx.exchange, &intruder.pubkey(), name, params.clone());
    h.fails(&[create], &[&intruder], Expected::Meridian(MeridianError::NotAdmin), &[]);
    let configure = ix::configure_oracle(&fx.exchange, &intruder.pubkey(), &o.address, params.clone());
    h.fails(&[configure], &[&intruder], Expected::Meridian(MeridianError::NotAdmin), &[o.address]);

    // another exchange's admin cannot configure this exchange's oracle through their own exchange
    let other = h.setup_exchange(6, SPL_TOKEN, meridian::ExchangeParams { index: 1, ..Default::default() });
    let configure = ix::configure_oracle(&other.exchange, &other.admin.pubkey(), &o.address, params.clone());
    h.fails(&[configure], &[&other.admin], Expected::Meridian(MeridianError::WrongExchange), &[o.address]);

    type Mutation = Box<dyn Fn(&mut meridian::OracleParams)>;
    let bad: Vec<Mutation> = vec![
        Box::new(|p| p.sources.clear()),
        Box::new(|p| p.sources = vec![p.sources[0]; 5]),
        Box::new(|p| p.sources[1] = p.sources[0]),
        Box::new(|p| p.min_valid_sources = 0),
        Box::new(|p| p.min_valid_sources = 4),
        Box::new(|p| p.max_age_slots = 0),
        Box::new(|p| p.max_age_secs = 0),
        Box::new(|p| p.max_conf_bps = 10_001),
        Box::new(|p| p.max_deviation_bps = 0),
        Box::new(|p| p.vol_tau_secs = 0),
    ];
    for edit in &bad {
        let mut p = params.clone();
        edit(&mut p);
        let create = ix::create_oracle(&fx.exchange, &fx.admin.pubkey(), name, p.clone());
        h.fails(&[create], &[&fx.admin], Expected::Meridian(MeridianError::InvalidOracleParams), &[]);
        let configure = ix::configure_oracle(&fx.exchange, &fx.admin.pubkey(), &o.address, p);
        h.fails(&[configure], &[&fx.admin], Expected::Meridian(MeridianError::InvalidOracleParams), &[o.address]);
    }
    // a source kind no variant has (2, the first, and 255) does not deserialize, in any source
    // (raw bytes: a source is its kind then its 32-byte id; the sources follow the name and the
    // vector's length in `create_oracle`, the length in `configure_oracle`)
    assert_eq!(params.sources.len(), 3);
    for (source, code) in [(0, 2), (1, 255), (2, 2)] {
        let mut create = ix::create_oracle(&fx.exchange, &fx.admin.pubkey(), name, params.clone());
        assert_eq!(create.data[8 + 16 + 4 + 33 * source], params.sources[source].kind as u8);
        create.data[8 + 16 + 4 + 33 * source] = code;
        h.fails(&[create], &[&fx.admin], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &[]);
        let mut configure = ix::configure_oracle(&fx.exchange, &fx.admin.pubkey(), &o.address, params.clone());
        assert_eq!(configure.data[8 + 4 + 33 * source], params.sources[source].kind as u8);
        configure.data[8 + 4 + 33 * source] = code;
        h.fails(&[configure], &[&fx.admin], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &[o.address]);
    }

    // configure: drop the Switchboard source, require both Pyth feeds
    h.set_sources(&o, &[150.0, 150.0, 150.0]);
    refresh(&mut h, &o);
    params.sources.truncate(2);
    params.min_valid_sources = 2;
    h.ok(&[ix::configure_oracle(&fx.exchange, &fx.admin.pubkey(), &o.address, params)], &[&fx.admin]);
    let a = h.oracle(&o.address);
    assert_eq!((a.num_sources, a.sources[0].last_publish_ts, a.sources[2].kind), (2, TS, 0));
    // the dropped source's account now stands where a market would: refused
    h.fails(
        &[o.refresh_ix()],
        &[],
        Expected::Anchor(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram),
        &[o.address],
    );
    h.ok(&[ix::refresh_oracle(&o.address, &o.source_accounts()[..2], &[])], &[]);
    assert_eq!(h.oracle(&o.address).price, 150 * D);
}
