//! Oracle aggregates off-chain: finding source accounts, reading them with the program's own
//! readers, and predicting what `refresh_oracle` will make of them (the same engine code).

use crate::client::{Client, Result};
use meridian::OracleAggregate;
use meridian_engine::oracle::{self, Outcome, Quote, Reading, SourceFault, SourceKind};
use solana_client::rpc_config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_client::rpc_filter::{Memcmp, RpcFilterType};
use solana_sdk::pubkey::Pubkey;

pub use meridian::{OracleParams, OracleSourceParams, OracleStatus};

pub use meridian::{read_source_account, source_owners};

/// What a refresh at (`slot`, `ts`) with these readings (one per configured source) would store:
/// the outcome and each source's fault (None = used). Mirrors `refresh_oracle`.
pub fn predict(o: &OracleAggregate, readings: &[Reading], slot: u64, ts: i64) -> (Outcome, Vec<Option<SourceFault>>) {
    let limits = o.limits();
    let mut quotes: Vec<Quote> = Vec::new();
    let mut faults = Vec::new();
    for r in readings {
        match oracle::judge(r, &limits, slot, ts) {
            Ok(q) => {
                quotes.push(q);
                faults.push(None);
            }
            Err(f) => faults.push(Some(f)),
        }
    }
    (oracle::aggregate(&mut quotes, o.min_valid_sources as usize, o.max_deviation_bps), faults)
}

/// A source fault's name.
pub fn fault_name(code: u8) -> &'static str {
    match code {
        0 => "ok",
        1 => "stale",
        2 => "wide-confidence",
        3 => "no-price",
        4 => "exponent-out-of-range",
        5 => "partially-verified",
        _ => "unknown",
    }
}

pub fn status_name(s: OracleStatus) -> &'static str {
    match s {
        OracleStatus::Uninitialized => "uninitialized",
        OracleStatus::Valid => "valid",
        OracleStatus::Divergent => "divergent",
        OracleStatus::TooFewSources => "too-few-sources",
    }
}

/// Parses a 32-byte Pyth feed id from hex (with or without 0x).
pub fn parse_feed_id(s: &str) -> Option<[u8; 32]> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

pub fn feed_id_hex(id: &[u8; 32]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cluster's clock as the program sees it (the Clock sysvar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClusterClock {
    pub slot: u64,
    pub unix_timestamp: i64,
}

impl Client {
    /// Reads the Clock sysvar (slot at offset 0, unix_timestamp at 32).
    pub async fn clock(&self) -> Result<ClusterClock> {
        let account = self.account(&solana_sdk::sysvar::clock::ID).await?;
        let d = &account.data;
        let word = |at: usize| u64::from_le_bytes(d[at..at + 8].try_into().unwrap());
        Ok(ClusterClock { slot: word(0), unix_timestamp: word(32) as i64 })
    }

    pub async fn oracle(&self, address: &Pubkey) -> Result<OracleAggregate> {
        self.decode(address).await
    }

    /// Every oracle aggregate of an exchange, by name.
    pub async fn oracles(&self, exchange: &Pubkey) -> Result<Vec<(Pubkey, OracleAggregate)>> {
        let mut out = self.program_accounts::<OracleAggregate>(OracleAggregate::SPACE, exchange, None).await?;
        out.sort_by_key(|(_, o)| o.name);
        Ok(out)
    }

    /// The markets of an exchange priced by `oracle` (their addresses go to `refresh_oracle`).
    pub async fn markets_priced_by(
        &self,
        exchange: &Pubkey,
        oracle: &Pubkey,
    ) -> Result<Vec<(Pubkey, meridian::Market)>> {
        Ok(self.markets(exchange).await?.into_iter().filter(|(_, m)| m.oracle == *oracle).collect())
    }

    /// An oracle given as its name or address.
    pub async fn find_oracle(&self, exchange: &Pubkey, s: &str) -> Result<Option<(Pubkey, OracleAggregate)>> {
        if let Ok(address) = s.parse::<Pubkey>() {
            if let Ok(o) = self.oracle(&address).await {
                return Ok(Some((address, o)));
            }
        }
        let address = crate::pda::oracle(exchange, &crate::state::encode_name(s)).0;
        Ok(self.oracle(&address).await.ok().map(|o| (address, o)))
    }

    /// Fully verified `PriceUpdateV2` accounts of a Pyth feed, owned by the receiver or the push
    /// oracle (getProgramAccounts: discriminator, verification level Full, feed id at offset 41).
    pub async fn pyth_updates(&self, feed_id: &[u8; 32]) -> Result<Vec<(Pubkey, Reading)>> {
        let mut out = Vec::new();
        for program in source_owners(SourceKind::Pyth) {
            let config = RpcProgramAccountsConfig {
                filters: Some(vec![
                    RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, &oracle::PYTH_PRICE_UPDATE_V2_DISCRIMINATOR)),
                    RpcFilterType::Memcmp(Memcmp::new_base58_encoded(40, &[1])),
                    RpcFilterType::Memcmp(Memcmp::new_base58_encoded(41, feed_id)),
                ]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(solana_client::rpc_config::UiAccountEncoding::Base64),
                    commitment: Some(self.rpc().commitment()),
                    ..RpcAccountInfoConfig::default()
                },
                ..RpcProgramAccountsConfig::default()
            };
            let accounts = match self.rpc().get_program_ui_accounts_with_config(&program, config).await {
                Ok(a) => a,
                Err(_) => continue, // the program does not exist on this cluster
            };
            for (address, account) in accounts {
                let data = account.data.decode().unwrap_or_default();
                if let Ok(r) = oracle::read_pyth_price_update(&data) {
                    out.push((address, r));
                }
            }
        }
        Ok(out)
    }

    /// The account to pass for each configured source, with its reading: for Pyth the freshest
    /// fully verified update of the feed, for Switchboard the feed account. Err names a source
    /// with no usable account.
    pub async fn oracle_sources(&self, o: &OracleAggregate) -> std::result::Result<Vec<(Pubkey, Reading)>, String> {
        let mut out = Vec::new();
        for (i, s) in o.sources[..o.num_sources as usize].iter().enumerate() {
            let kind = SourceKind::from_u8(s.kind).ok_or(format!("source {i}: unknown kind {}", s.kind))?;
            match kind {
                SourceKind::Pyth => {
                    let updates = self.pyth_updates(&s.id).await.map_err(|e| format!("source {i}: {e}"))?;
                    let best = updates
                        .into_iter()
                        .max_by_key(|(_, r)| (r.publish_ts, r.slot))
                        .ok_or(format!("source {i}: no PriceUpdateV2 for Pyth feed {}", feed_id_hex(&s.id)))?;
                    out.push(best);
                }
                SourceKind::Switchboard => {
                    let address = Pubkey::new_from_array(s.id);
                    let account = self.account(&address).await.map_err(|e| format!("source {i}: {e}"))?;
                    let r = read_source_account(s.kind, &s.id, &address, &account.owner, &account.data)
                        .map_err(|e| format!("source {i} ({address}): {}", e.name()))?;
                    out.push((address, r));
                }
            }
        }
        Ok(out)
    }
}
