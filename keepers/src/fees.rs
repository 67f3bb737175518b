//! Priority fees: a fixed price, or `auto`: a percentile of what recent blocks charged to land a
//! transaction that writes the same accounts (`getRecentPrioritizationFees` over the accounts the
//! transaction locks for writing), capped.
//!
//! The RPC answers one sample per recent slot (up to 150): the lowest priority fee (micro-lamports
//! per compute unit) paid by a transaction in that block that wrote any of the given accounts, or
//! the block's lowest fee when none did. A zero sample is evidence too (a transaction paying
//! nothing landed in that block), so zeros count in the percentile: a quiet market keeps its keeper
//! at 0, and the estimate rises only when most recent blocks charged more.

use solana_rpc_client_api::response::RpcPrioritizationFee;
use solana_sdk::pubkey::Pubkey;
use std::{
    collections::HashMap,
    str::FromStr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// `getRecentPrioritizationFees` takes at most this many addresses.
pub const MAX_ADDRESSES: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityFee {
    /// Estimated from recent blocks.
    Auto,
    /// This many micro-lamports per compute unit.
    Fixed(u64),
}

impl FromStr for PriorityFee {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(PriorityFee::Auto);
        }
        s.replace('_', "")
            .parse::<u64>()
            .map(PriorityFee::Fixed)
            .map_err(|_| format!("{s:?}: `auto` or micro-lamports per compute unit (an integer)"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeePolicy {
    pub fee: PriorityFee,
    /// Percentile of the recent samples (0 = lowest, 100 = highest).
    pub percentile: u8,
    /// `auto` never pays more than this (micro-lamports per compute unit).
    pub cap: u64,
}

/// The `percentile` (nearest rank, 0..=100) of the samples' fees, at most `cap`; 0 without
/// samples. Zeros are samples like any other.
pub fn estimate(samples: &[RpcPrioritizationFee], percentile: u8, cap: u64) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    let mut fees: Vec<u64> = samples.iter().map(|s| s.prioritization_fee).collect();
    fees.sort_unstable();
    let p = percentile.min(100) as usize;
    let rank = (p * fees.len()).div_ceil(100).max(1);
    fees[rank - 1].min(cap)
}

/// Prices transactions by policy; `auto` estimates are cached per set of written accounts for
/// `ttl` (one RPC call per set and period, not per transaction).
pub struct FeeEstimator {
    pub policy: FeePolicy,
    ttl: Duration,
    cache: Mutex<HashMap<Vec<Pubkey>, (u64, Instant)>>,
}

impl FeeEstimator {
    pub fn new(policy: FeePolicy, ttl: Duration) -> FeeEstimator {
        FeeEstimator { policy, ttl, cache: Mutex::default() }
    }

    /// The price for a transaction writing `writable`. Auto: a fresh cached estimate, else one
    /// from the RPC; if that fails, the last estimate for these accounts (Err when there is none).
    pub async fn price(&self, client: &meridian_sdk::client::Client, writable: &[Pubkey]) -> Result<u64, String> {
        if let PriorityFee::Fixed(f) = self.policy.fee {
            return Ok(f);
        }
        let mut key: Vec<Pubkey> = writable.iter().take(MAX_ADDRESSES).copied().collect();
        key.sort_unstable();
        key.dedup();
        let cached = self.cache.lock().unwrap().get(&key).copied();
        if let Some((fee, _)) = cached.filter(|(_, at)| at.elapsed() < self.ttl) {
            return Ok(fee);
        }
        match client.rpc().get_recent_prioritization_fees(&key).await {
            Ok(samples) => {
                let fee = estimate(&samples, self.policy.percentile, self.policy.cap);
                let mut cache = self.cache.lock().unwrap();
                let ttl = self.ttl;
                cache.retain(|_, (_, at)| at.elapsed() < ttl * 10);
                cache.insert(key, (fee, Instant::now()));
                Ok(fee)
            }
            Err(e) => cached.map(|(fee, _)| fee).ok_or_else(|| e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Vec<RpcPrioritizationFee> {
        // the `result` of a JSON-RPC response, decoded into the client's own type
        let response: serde_json::Value = serde_json::from_str(json).expect("JSON");
        serde_json::from_value(response["result"].clone()).expect("getRecentPrioritizationFees result")
    }

    /// A quiet market: the blocks of the last slots let zero-fee transactions in (the local test
    /// validator answers the same shape, every fee 0).
    const QUIET: &str = r#"{"jsonrpc":"2.0","result":[
        {"prioritizationFee":0,"slot":348125901},{"prioritizationFee":0,"slot":348125902},
        {"prioritizationFee":0,"slot":348125903},{"prioritizationFee":0,"slot":348125904},
        {"prioritizationFee":0,"slot":348125905},{"prioritizationFee":0,"slot":348125906},
        {"prioritizationFee":1,"slot":348125907},{"prioritizationFee":0,"slot":348125908},
        {"prioritizationFee":0,"slot":348125909},{"prioritizationFee":0,"slot":348125910},
        {"prioritizationFee":0,"slot":348125911},{"prioritizationFee":0,"slot":348125912}
    ],"id":1}"#;

    /// A contended market (a mainnet-like spread: many blocks at small fees, a tail of bidders);
    /// slots out of order, as nodes may answer.
    const BUSY: &str = r#"{"jsonrpc":"2.0","result":[
        {"prioritizationFee":1000,"slot":348126020},{"prioritizationFee":25000,"slot":348126004},
        {"prioritizationFee":0,"slot":348126001},{"prioritizationFee":5000,"slot":348126002},
        {"prioritizationFee":10000,"slot":348126003},{"prioritizationFee":50000,"slot":348126005},
        {"prioritizationFee":100000,"slot":348126006},{"prioritizationFee":2000,"slot":348126007},
        {"prioritizationFee":7500,"slot":348126008},{"prioritizationFee":12000,"slot":348126009},
        {"prioritizationFee":250000,"slot":348126010},{"prioritizationFee":15000,"slot":348126011},
        {"prioritizationFee":3000,"slot":348126012},{"prioritizationFee":40000,"slot":348126013},
        {"prioritizationFee":0,"slot":348126014},{"prioritizationFee":20000,"slot":348126015},
        {"prioritizationFee":1200000,"slot":348126016},{"prioritizationFee":8000,"slot":348126017},
        {"prioritizationFee":30000,"slot":348126018},{"prioritizationFee":60000,"slot":348126019}
    ],"id":1}"#;

    /// A node that has seen no block yet (just restarted): an empty list.
    const EMPTY: &str = r#"{"jsonrpc":"2.0","result":[],"id":1}"#;

    #[test]
    fn quiet_blocks_keep_the_fee_at_zero() {
        let samples = answer(QUIET);
        assert_eq!(samples.len(), 12);
        assert_eq!(estimate(&samples, 75, 1_000_000), 0);
        assert_eq!(estimate(&samples, 100, 1_000_000), 1, "the highest sample");
        assert_eq!(estimate(&samples, 90, 1_000_000), 0, "rank 11 of 12 is still a zero");
    }

    #[test]
    fn busy_blocks_give_the_percentile_and_the_cap_holds() {
        let samples = answer(BUSY);
        assert_eq!(samples.len(), 20);
        // sorted: 0 0 1000 2000 3000 5000 7500 8000 10000 12000 15000 20000 25000 30000 40000
        //         50000 60000 100000 250000 1200000
        assert_eq!(estimate(&samples, 75, u64::MAX), 40_000, "rank 15 of 20");
        assert_eq!(estimate(&samples, 50, u64::MAX), 12_000, "rank 10 of 20");
        assert_eq!(estimate(&samples, 90, u64::MAX), 100_000, "rank 18 of 20");
        assert_eq!(estimate(&samples, 100, u64::MAX), 1_200_000);
        assert_eq!(estimate(&samples, 0, u64::MAX), 0, "the lowest");
        assert_eq!(estimate(&samples, 255, u64::MAX), 1_200_000, "above 100 is 100");
        // the cap
        assert_eq!(estimate(&samples, 100, 200_000), 200_000);
        assert_eq!(estimate(&samples, 75, 10_000), 10_000);
        assert_eq!(estimate(&samples, 75, 0), 0, "a zero cap pays nothing");
        // the order of the answer does not matter
        let mut reversed = samples.clone();
        reversed.reverse();
        assert_eq!(estimate(&reversed, 75, u64::MAX), 40_000);
    }

    #[test]
    fn no_samples_no_fee() {
        assert!(answer(EMPTY).is_empty());
        assert_eq!(estimate(&answer(EMPTY), 75, 1_000_000), 0);
        let one = answer(r#"{"jsonrpc":"2.0","result":[{"prioritizationFee":4242,"slot":1}],"id":1}"#);
        assert_eq!([0, 1, 50, 75, 100].map(|p| estimate(&one, p, u64::MAX)), [4242; 5]);
    }

    #[test]
    fn the_flag_takes_auto_or_a_number() {
        assert_eq!("auto".parse(), Ok(PriorityFee::Auto));
        assert_eq!("AUTO".parse(), Ok(PriorityFee::Auto));
        assert_eq!("0".parse(), Ok(PriorityFee::Fixed(0)));
        assert_eq!("10_000".parse(), Ok(PriorityFee::Fixed(10_000)));
        assert!("-5".parse::<PriorityFee>().is_err());
        assert!("fast".parse::<PriorityFee>().is_err());
    }
}
