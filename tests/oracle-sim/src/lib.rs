//! Oracle simulator: price paths written as REAL Pyth `PriceUpdateV2` and Switchboard on-demand
//! `PullFeedAccountData` accounts, serialized with the oracle crates' own types, so the program
//! reads exactly the bytes it meets on mainnet.
//!
//! Used by the program tests (LiteSVM: set the accounts), the end-to-end tests and the local demo.

use anchor_lang::AccountSerialize;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
use switchboard_on_demand::anchor_traits::Discriminator as _;
use switchboard_on_demand::on_demand::accounts::pull_feed::PullFeedAccountData;

pub use pyth_solana_receiver_sdk::ID as PYTH_RECEIVER_ID;
pub use pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID;

/// Switchboard on-demand program (mainnet), owner of pull feed accounts.
pub fn switchboard_program_id() -> anchor_lang::prelude::Pubkey {
    anchor_lang::prelude::Pubkey::new_from_array(switchboard_on_demand::ON_DEMAND_MAINNET_PID.to_bytes())
}

/// Space the Pyth receiver allocates for a `PriceUpdateV2`.
pub const PYTH_ACCOUNT_LEN: usize = PriceUpdateV2::LEN;
/// Size of a Switchboard pull feed account (discriminator + struct).
pub const SWITCHBOARD_ACCOUNT_LEN: usize = 8 + core::mem::size_of::<PullFeedAccountData>();

/// One Pyth price as the receiver program stores it.
#[derive(Clone, Copy, Debug)]
pub struct PythPrice {
    pub feed_id: [u8; 32],
    /// Price and confidence in units of 10^exponent.
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
    pub publish_time: i64,
    pub posted_slot: u64,
    /// `Partial { num_signatures }` when Some.
    pub partial_signatures: Option<u8>,
}

/// A `PriceUpdateV2` account's data, serialized by Anchor with the receiver SDK's own type and
/// padded to the receiver's allocation.
pub fn pyth_account_data(p: &PythPrice) -> Vec<u8> {
    let update = PriceUpdateV2 {
        write_authority: anchor_lang::prelude::Pubkey::new_from_array([9; 32]),
        verification_level: match p.partial_signatures {
            Some(n) => VerificationLevel::Partial { num_signatures: n },
            None => VerificationLevel::Full,
        },
        price_message: PriceFeedMessage {
            feed_id: p.feed_id,
            price: p.price,
            conf: p.conf,
            exponent: p.exponent,
            publish_time: p.publish_time,
            prev_publish_time: p.publish_time - 1,
            ema_price: p.price,
            ema_conf: p.conf,
        },
        posted_slot: p.posted_slot,
    };
    let mut data = Vec::with_capacity(PYTH_ACCOUNT_LEN);
    update.try_serialize(&mut data).expect("serialize PriceUpdateV2");
    data.resize(PYTH_ACCOUNT_LEN, 0);
    data
}

/// One Switchboard on-demand result: value and standard deviation with 18 decimals.
#[derive(Clone, Copy, Debug)]
pub struct SwitchboardPrice {
    pub value: i128,
    pub std_dev: i128,
    pub slot: u64,
    pub timestamp: i64,
    pub num_samples: u8,
}

/// A `PullFeedAccountData` account's data: the crate's zero-copy struct with the current result
/// (and the submission it came from) filled in, after its discriminator.
pub fn switchboard_account_data(p: &SwitchboardPrice) -> Vec<u8> {
    let mut feed: PullFeedAccountData = bytemuck::Zeroable::zeroed();
    feed.result.value = p.value;
    feed.result.std_dev = p.std_dev;
    feed.result.mean = p.value;
    feed.result.min_value = p.value - p.std_dev;
    feed.result.max_value = p.value + p.std_dev;
    feed.result.range = 2 * p.std_dev;
    feed.result.num_samples = p.num_samples;
    feed.result.submission_idx = 0;
    feed.result.slot = p.slot;
    feed.result.min_slot = p.slot;
    feed.result.max_slot = p.slot;
    feed.submissions[0].slot = p.slot;
    feed.submissions[0].landed_at = p.slot;
    feed.submissions[0].value = p.value;
    feed.submission_timestamps[0] = p.timestamp;
    feed.last_update_timestamp = p.timestamp;
    feed.max_staleness = 250;
    feed.min_sample_size = 1;
    let mut data = PullFeedAccountData::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytemuck::bytes_of(&feed));
    data
}

pub mod path;
pub mod writer;
