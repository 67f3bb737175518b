//! The trade history from the chain: the `EventsApplied` records `consume_events` publishes (one
//! per crank transaction, every fill and out exactly once; see `meridian::history`).
//!
//! A record is an inner instruction of a successful transaction: program Meridian, first account
//! the event authority (a PDA only the program signs for), data = Anchor's event-CPI tag, the
//! event's discriminator, its Borsh encoding. [`market_history`] reads a market's records from its
//! transaction signatures (backfill; polled with `until` = the newest seen, it follows the market).

use crate::client::{Client, SdkError};
use anchor_lang::{AnchorDeserialize, Discriminator};
pub use meridian::history::{AppliedEvent, EventsApplied, FillRecord, OutReason, OutRecord, Side};
use solana_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_client::rpc_config::RpcTransactionConfig;
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, EncodedConfirmedTransactionWithStatusMeta, UiInstruction,
    UiTransactionEncoding,
};
use std::str::FromStr;

/// One record with the transaction that carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub signature: Signature,
    pub slot: u64,
    pub block_time: Option<i64>,
    pub events: EventsApplied,
}

/// A fill with the market it happened in, as the history lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub market: Pubkey,
    pub record: FillRecord,
}

/// Decodes an instruction as the program's record, or None when it is anything else.
pub fn decode_instruction(program_id: &Pubkey, accounts: &[Pubkey], data: &[u8]) -> Option<EventsApplied> {
    if *program_id != meridian::ID || accounts.first() != Some(&crate::pda::event_authority()) {
        return None;
    }
    let body = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)?;
    let mut body = body.strip_prefix(EventsApplied::DISCRIMINATOR)?;
    EventsApplied::deserialize(&mut body).ok()
}

/// The records in a transaction's inner instructions (`keys`: the message's account keys, then
/// the loaded writable and read-only addresses). A failed transaction has none.
pub fn records_in<'a>(
    keys: &[Pubkey],
    inner: impl IntoIterator<Item = (u8, &'a [u8], &'a [u8])>,
) -> Vec<EventsApplied> {
    let key = |i: u8| keys.get(i as usize).copied();
    inner
        .into_iter()
        .filter_map(|(program, accounts, data)| {
            let program = key(program)?;
            let accounts: Option<Vec<Pubkey>> = accounts.iter().map(|&i| key(i)).collect();
            decode_instruction(&program, &accounts?, data)
        })
        .collect()
}

/// The records of a transaction fetched with [`transaction_config`] (base64 encoding).
pub fn records_in_transaction(tx: &EncodedConfirmedTransactionWithStatusMeta) -> Vec<EventsApplied> {
    let Some(meta) = &tx.transaction.meta else { return vec![] };
    if meta.err.is_some() {
        return vec![];
    }
    let Some(decoded) = tx.transaction.transaction.decode() else { return vec![] };
    let mut keys: Vec<Pubkey> = decoded.message.static_account_keys().to_vec();
    if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
        for k in loaded.writable.iter().chain(&loaded.readonly) {
            keys.push(Pubkey::from_str(k).unwrap_or_default());
        }
    }
    let OptionSerializer::Some(inner) = &meta.inner_instructions else { return vec![] };
    let compiled: Vec<(u8, Vec<u8>, Vec<u8>)> = inner
        .iter()
        .flat_map(|set| &set.instructions)
        .filter_map(|ix| match ix {
            UiInstruction::Compiled(c) => {
                Some((c.program_id_index, c.accounts.clone(), bs58::decode(&c.data).into_vec().ok()?))
            }
            UiInstruction::Parsed(_) => None,
        })
        .collect();
    records_in(&keys, compiled.iter().map(|(p, a, d)| (*p, a.as_slice(), d.as_slice())))
}

/// How transactions are fetched for decoding: base64 (the account keys are then exact) and
/// versioned transactions allowed.
pub fn transaction_config(commitment: CommitmentConfig) -> RpcTransactionConfig {
    RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(commitment),
        max_supported_transaction_version: Some(0),
    }
}

/// The fills of a list of records, oldest first, optionally only those where `account` is the
/// maker or the taker.
pub fn fills<'a>(applied: impl IntoIterator<Item = &'a Applied>, account: Option<&Pubkey>) -> Vec<(&'a Applied, Fill)> {
    let mut out = Vec::new();
    for a in applied {
        for e in &a.events.events {
            if let AppliedEvent::Fill(f) = e {
                if account.is_none_or(|k| f.maker == *k || f.taker == *k) {
                    out.push((a, Fill { market: a.events.market, record: *f }));
                }
            }
        }
    }
    out
}

/// What [`market_history`] read.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The records, oldest first.
    pub applied: Vec<Applied>,
    /// The newest transaction read (a crank or not): `until` for the next poll.
    pub newest: Option<Signature>,
    /// False when a listed transaction could not be fetched yet (its records are missing: read
    /// again from the same `until`).
    pub complete: bool,
}

/// The market's records from its transactions: the newest `limit` successful transactions that
/// touched the market (before `before` when given, after `until`), those that are cranks decoded.
/// Only this market's records are kept: anyone can name the market in a crank of another (their
/// own exchange's, with made-up prices). Costs one `getTransaction` per transaction.
pub async fn market_history(
    client: &Client,
    market: &Pubkey,
    before: Option<Signature>,
    until: Option<Signature>,
    limit: usize,
) -> Result<History, SdkError> {
    let rpc = client.rpc();
    let commitment = CommitmentConfig::confirmed();
    let mut out = History { complete: true, ..History::default() };
    let mut before = before;
    let mut remaining = limit;
    while remaining > 0 {
        let asked = remaining.min(1_000);
        let config =
            GetConfirmedSignaturesForAddress2Config { before, until, limit: Some(asked), commitment: Some(commitment) };
        let page = match rpc.get_signatures_for_address_with_config(market, config).await {
            Ok(page) => page,
            // the node cannot look up `until` or `before` yet (a local validator's status index
            // lags its roots at times): what was read stands, the rest is read again later
            Err(e) if filter_not_found(&e) => {
                out.complete = false;
                break;
            }
            Err(e) => return Err(SdkError::from(e)),
        };
        if page.is_empty() {
            break;
        }
        if out.newest.is_none() {
            out.newest = Signature::from_str(&page[0].signature).ok();
        }
        remaining = remaining.saturating_sub(page.len());
        for s in &page {
            if s.err.is_some() {
                continue;
            }
            let Ok(signature) = Signature::from_str(&s.signature) else { continue };
            match fetch(client, &signature, commitment).await? {
                // newest first here; the whole list is turned round at the end
                Some(a) => out.applied.extend(a.into_iter().filter(|r| r.events.market == *market).rev()),
                None => out.complete = false,
            }
        }
        if page.len() < asked {
            break; // the last page (asking past it names a signature the node may not look up yet)
        }
        before = page.last().and_then(|s| Signature::from_str(&s.signature).ok());
    }
    out.applied.reverse();
    Ok(out)
}

/// The records of one transaction (None when it is not found yet).
pub async fn fetch(
    client: &Client,
    signature: &Signature,
    commitment: CommitmentConfig,
) -> Result<Option<Vec<Applied>>, SdkError> {
    let tx = match client.rpc().get_transaction_with_config(signature, transaction_config(commitment)).await {
        Ok(tx) => tx,
        Err(e) if e.to_string().contains("not found") || e.to_string().contains("invalid type: null") => {
            return Ok(None)
        }
        Err(e) => return Err(SdkError::from(e)),
    };
    Ok(Some(
        records_in_transaction(&tx)
            .into_iter()
            .map(|events| Applied { signature: *signature, slot: tx.slot, block_time: tx.block_time, events })
            .collect(),
    ))
}

/// Streams a market's records to `on`, oldest first, until `on` returns false: those after
/// `until` first (backfill from signatures), then new ones, read whenever a logs notification
/// mentions the market (a `logsSubscribe` over `ws_url`) and at least every `poll`. Every record is
/// delivered once: a read pages back all the way to the newest transaction the last complete read
/// saw, and records at or below the highest event number delivered are skipped (a market's cranks
/// publish its events in order).
pub async fn follow_market(
    client: &Client,
    ws_url: &str,
    market: &Pubkey,
    mut until: Option<Signature>,
    poll: std::time::Duration,
    mut on: impl FnMut(&Applied) -> bool,
) -> Result<(), SdkError> {
    use futures_util::StreamExt;
    use solana_client::rpc_config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    let pubsub = PubsubClient::new(ws_url).await.ok();
    let filter = RpcTransactionLogsFilter::Mentions(vec![market.to_string()]);
    let config = RpcTransactionLogsConfig { commitment: Some(CommitmentConfig::confirmed()) };
    let mut notifications = match &pubsub {
        Some(p) => p.logs_subscribe(filter, config).await.ok().map(|(stream, _unsubscribe)| stream),
        None => None,
    };
    let mut delivered: Option<u64> = None;
    loop {
        let read = market_history(client, market, None, until, usize::MAX).await?;
        if read.complete {
            until = read.newest.or(until);
        }
        for a in &read.applied {
            let last = a.events.events.iter().map(event_seq_num).max();
            if last.is_none() || (delivered.is_some() && last <= delivered) {
                continue;
            }
            delivered = last.max(delivered);
            if !on(a) {
                return Ok(());
            }
        }
        match notifications.as_mut() {
            Some(stream) => {
                // a notification or the poll interval, whichever is first; a closed stream falls
                // back to polling
                if let Ok(None) = tokio::time::timeout(poll, stream.next()).await {
                    notifications = None;
                }
            }
            None => tokio::time::sleep(poll).await,
        }
    }
}

/// The event-history number of a published event.
pub fn event_seq_num(e: &AppliedEvent) -> u64 {
    match e {
        AppliedEvent::Fill(f) => f.seq_num,
        AppliedEvent::Out(o) => o.seq_num,
    }
}

/// The node's "Transaction ... not found" for a `before`/`until` filter signature (-32020).
fn filter_not_found(e: &solana_client::client_error::ClientError) -> bool {
    use solana_client::{client_error::ClientErrorKind, rpc_request::RpcError};
    matches!(e.kind(), ClientErrorKind::RpcError(RpcError::RpcResponseError { code: -32020, .. }))
}
