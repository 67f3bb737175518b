//! The engine's byte readers against accounts serialized by the oracle crates' own types.

use meridian_engine::oracle::{self, switchboard_layout as sb};
use meridian_oracle_sim::*;
use switchboard_on_demand::on_demand::accounts::pull_feed::{CurrentResult, PullFeedAccountData};

#[test]
fn switchboard_offsets_match_the_crate() {
    use core::mem::offset_of;
    let result = offset_of!(PullFeedAccountData, result);
    assert_eq!(8 + offset_of!(PullFeedAccountData, last_update_timestamp), sb::LAST_UPDATE_TIMESTAMP);
    assert_eq!(8 + result + offset_of!(CurrentResult, value), sb::RESULT_VALUE);
    assert_eq!(8 + result + offset_of!(CurrentResult, std_dev), sb::RESULT_STD_DEV);
    assert_eq!(8 + result + offset_of!(CurrentResult, num_samples), sb::RESULT_NUM_SAMPLES);
    assert_eq!(8 + result + offset_of!(CurrentResult, slot), sb::RESULT_SLOT);
    assert_eq!(SWITCHBOARD_ACCOUNT_LEN, sb::ACCOUNT_LEN);
}

#[test]
fn switchboard_account_reads_back() {
    let p = SwitchboardPrice {
        value: 151_250_000_000_000_000_000,
        std_dev: 30_000_000_000_000_000,
        slot: 777,
        timestamp: 1_700_000_123,
        num_samples: 5,
    };
    let r = oracle::read_switchboard_pull_feed(&switchboard_account_data(&p)).unwrap();
    assert_eq!((r.price, r.conf, r.expo), (p.value, p.std_dev as u128, -18));
    assert_eq!((r.slot, r.publish_ts, r.fully_verified), (777, 1_700_000_123, true));
    // a feed without samples has no price
    let empty =
        oracle::read_switchboard_pull_feed(&switchboard_account_data(&SwitchboardPrice { num_samples: 0, ..p }));
    assert_eq!(empty.unwrap().price, 0);
}

#[test]
fn pyth_account_reads_back_both_verification_levels() {
    let p = PythPrice {
        feed_id: [0xef; 32],
        price: 15_125_000_000,
        conf: 3_000_000,
        exponent: -8,
        publish_time: 1_700_000_100,
        posted_slot: 770,
        partial_signatures: None,
    };
    let data = pyth_account_data(&p);
    assert_eq!(data.len(), 134);
    let r = oracle::read_pyth_price_update(&data).unwrap();
    assert_eq!((r.feed_id, r.price, r.conf, r.expo), ([0xef; 32], 15_125_000_000, 3_000_000, -8));
    assert_eq!((r.publish_ts, r.slot, r.fully_verified), (1_700_000_100, 770, true));
    let partial = oracle::read_pyth_price_update(&pyth_account_data(&PythPrice { partial_signatures: Some(5), ..p }));
    let partial = partial.unwrap();
    assert_eq!((partial.price, partial.slot, partial.fully_verified), (15_125_000_000, 770, false));
    // the receiver SDK deserializes what we wrote
    use anchor_lang::AccountDeserialize;
    let back = pyth_solana_receiver_sdk::price_update::PriceUpdateV2::try_deserialize(&mut &data[..]).unwrap();
    assert_eq!(back.price_message.price, 15_125_000_000);
}
