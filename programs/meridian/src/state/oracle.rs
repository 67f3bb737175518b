use crate::args::OracleSourceKind;
use crate::error::MeridianError;
use anchor_lang::prelude::*;
use meridian_engine::oracle::{
    read_pyth_price_update, read_switchboard_pull_feed, Limits, Reading, SourceKind, MAX_SOURCES,
};

pub const ORACLE_SEED: &[u8] = b"oracle";

/// Owner programs a source account may have.
pub mod oracle_programs {
    use anchor_lang::prelude::*;
    /// Pyth Solana receiver: pull `PriceUpdateV2` accounts posted by anyone for any feed.
    pub const PYTH_RECEIVER: Pubkey = pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");
    /// Pyth push oracle: the sponsored feed accounts (same `PriceUpdateV2` format, fixed addresses).
    pub const PYTH_PUSH_ORACLE: Pubkey = pubkey!("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");
    /// Switchboard on-demand (mainnet and devnet deployments).
    pub const SWITCHBOARD_ON_DEMAND: Pubkey = pubkey!("SBondMDrcV3K4kxZR1HNVT7osZxAHVHgYXL5Ze1oMUv");
    pub const SWITCHBOARD_ON_DEMAND_DEVNET: Pubkey = pubkey!("Aio4gaXjXzJNVLtzwtNVmSqGKpANtXhybbkhtAC94ji2");
}

/// The owner programs a source of `kind` may have.
pub const fn source_owners(kind: SourceKind) -> [Pubkey; 2] {
    use oracle_programs::*;
    match kind {
        SourceKind::Pyth => [PYTH_RECEIVER, PYTH_PUSH_ORACLE],
        SourceKind::Switchboard => [SWITCHBOARD_ON_DEMAND, SWITCHBOARD_ON_DEMAND_DEVNET],
    }
}

/// `owner` may own a source of `kind` (compared in place: no copies on the refresh path).
#[inline]
fn is_source_owner(kind: SourceKind, owner: &Pubkey) -> bool {
    const PYTH: [Pubkey; 2] = source_owners(SourceKind::Pyth);
    const SWITCHBOARD: [Pubkey; 2] = source_owners(SourceKind::Switchboard);
    let owners = match kind {
        SourceKind::Pyth => &PYTH,
        SourceKind::Switchboard => &SWITCHBOARD,
    };
    owner == &owners[0] || owner == &owners[1]
}

/// Reads a source account after checking it is what a configured source (`kind`, `id`) names:
/// owner program, format, identity (Pyth feed id / Switchboard address), and for Pyth full
/// verification (anyone can post an update verified by a few guardians only: never use one).
/// The program's `refresh_oracle` and the SDK both judge accounts with this.
pub fn read_source_account(
    kind: u8,
    id: &[u8; 32],
    address: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
) -> core::result::Result<Reading, MeridianError> {
    let kind = SourceKind::from_u8(kind).ok_or(MeridianError::InvalidOracleParams)?;
    if !is_source_owner(kind, owner) {
        return Err(MeridianError::OracleSourceWrongOwner);
    }
    let reading = match kind {
        SourceKind::Pyth => read_pyth_price_update(data),
        SourceKind::Switchboard => read_switchboard_pull_feed(data),
    }
    .map_err(|_| MeridianError::OracleSourceInvalidData)?;
    let identity = match kind {
        SourceKind::Pyth => reading.feed_id == *id,
        SourceKind::Switchboard => address.as_ref() == id.as_slice(),
    };
    if !identity {
        return Err(MeridianError::OracleSourceWrongFeed);
    }
    if !reading.fully_verified {
        return Err(MeridianError::OracleSourceNotVerified);
    }
    Ok(reading)
}

/// What the aggregate says about its price.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleStatus {
    /// Never refreshed with enough valid sources: no price yet.
    Uninitialized = 0,
    /// The last refresh had enough sources and they agreed.
    Valid = 1,
    /// The last refresh had enough sources but one diverged from the median beyond the limit; the
    /// price is the median, the confidence covers every source.
    Divergent = 2,
    /// The last refresh had too few valid sources; the price is the last good one.
    TooFewSources = 3,
}

impl OracleStatus {
    pub fn from_u8(v: u8) -> OracleStatus {
        match v {
            1 => OracleStatus::Valid,
            2 => OracleStatus::Divergent,
            3 => OracleStatus::TooFewSources,
            _ => OracleStatus::Uninitialized,
        }
    }
}

/// One configured source and what the last refresh made of it.
#[zero_copy]
#[derive(Debug, Default)]
pub struct OracleSource {
    /// Pyth: the feed id. Switchboard: the pull feed account's address.
    pub id: [u8; 32],
    /// `SourceKind`'s code (`OracleSourceKind` in arguments).
    pub kind: u8,
    /// 0 = used at the last refresh, else a `SourceFault`.
    pub last_fault: u8,
    pub _pad: [u8; 6],
    /// Publish time of the last reading used: an older one is refused (no replay).
    pub last_publish_ts: i64,
    pub last_slot: u64,
    /// Last judged price and confidence (12 decimals), 0 when it was refused.
    pub last_price: u64,
    pub last_conf: u64,
}

/// The oracle aggregate of one underlying. PDA [ORACLE_SEED, exchange, name].
///
/// Prices and confidences are u64 with 12 decimals of the collateral currency per whole unit of the
/// underlying (engine `oracle::PRICE_DECIMALS`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct OracleAggregate {
    pub exchange: Pubkey,
    pub name: [u8; 16],
    pub num_sources: u8,
    pub min_valid_sources: u8,
    /// `OracleStatus` of the last refresh.
    pub status: u8,
    pub bump: u8,
    pub max_conf_bps: u32,
    pub max_deviation_bps: u32,
    /// EWMA memory (seconds): a return over `dt` enters with weight dt / (dt + tau).
    pub vol_tau_secs: u32,
    pub max_age_slots: u64,
    pub max_age_secs: u64,
    pub sources: [OracleSource; MAX_SOURCES],
    pub price: u64,
    pub conf: u64,
    /// Slot and time of the last refresh that produced a price (Valid or Divergent).
    pub price_slot: u64,
    pub price_ts: i64,
    /// Slot and time of the last Valid refresh.
    pub valid_slot: u64,
    pub valid_ts: i64,
    /// Sum of price x seconds since the first price (wrapping u128 as lo/hi). The TWAP between two
    /// snapshots is the difference over the time between them.
    pub twap_cumulative_lo: u64,
    pub twap_cumulative_hi: u64,
    pub twap_last_ts: i64,
    /// EWMA of annualized squared log returns and its square root (12 decimals), from Valid prices.
    pub ewma_variance: u64,
    pub realized_vol: u64,
    /// The price and time the last return was measured from.
    pub ewma_price: u64,
    pub ewma_ts: i64,
    pub num_refreshes: u64,
    /// The volatility EWMA samples at most once per this many seconds (a fixed cadence: refreshing
    /// every second, or picking among recent updates, cannot inflate it with noise).
    pub vol_sample_secs: u32,
    pub _pad: u32,
    pub reserved: [u64; 15],
}

impl OracleAggregate {
    pub const SPACE: usize = 8 + core::mem::size_of::<OracleAggregate>();

    pub fn status(&self) -> OracleStatus {
        OracleStatus::from_u8(self.status)
    }

    pub fn limits(&self) -> Limits {
        Limits { max_age_slots: self.max_age_slots, max_age_secs: self.max_age_secs, max_conf_bps: self.max_conf_bps }
    }

    pub fn twap_cumulative(&self) -> u128 {
        meridian_engine::units::join_u128(self.twap_cumulative_lo, self.twap_cumulative_hi)
    }

    pub fn set_twap_cumulative(&mut self, v: u128) {
        (self.twap_cumulative_lo, self.twap_cumulative_hi) = meridian_engine::units::split_u128(v);
    }

    /// A price consumers may act on: the last refresh was Valid and is no older than the sources'
    /// own staleness limit.
    pub fn is_usable(&self, now_slot: u64) -> bool {
        self.status() == OracleStatus::Valid && now_slot.saturating_sub(self.valid_slot) <= self.max_age_slots
    }
}

/// One source of `create_oracle`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleSourceParams {
    pub kind: OracleSourceKind,
    pub id: [u8; 32],
}

/// Parameters of `create_oracle` (and `configure_oracle`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct OracleParams {
    pub sources: Vec<OracleSourceParams>,
    pub min_valid_sources: u8,
    pub max_age_slots: u64,
    pub max_age_secs: u64,
    pub max_conf_bps: u32,
    pub max_deviation_bps: u32,
    pub vol_tau_secs: u32,
    /// The volatility's sampling cadence, seconds (1 to `vol_tau_secs`; 60 is a sane choice).
    pub vol_sample_secs: u32,
}

impl OracleParams {
    pub fn is_valid(&self) -> bool {
        let n = self.sources.len();
        let distinct = (0..n).all(|i| (0..i).all(|j| self.sources[i] != self.sources[j]));
        (1..=MAX_SOURCES).contains(&n)
            && distinct
            && (1..=n).contains(&(self.min_valid_sources as usize))
            && self.max_age_slots > 0
            && self.max_age_secs > 0
            && (1..=10_000).contains(&self.max_conf_bps)
            && (1..=10_000).contains(&self.max_deviation_bps)
            && self.vol_tau_secs > 0
            && (1..=self.vol_tau_secs).contains(&self.vol_sample_secs)
    }
}
