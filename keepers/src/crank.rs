//! The crank role: keeps markets' event queues empty by sending `consume_events`.
//!
//! Per market, a watcher task subscribes to the event queue account (websocket) and wakes the
//! worker on every change; the worker also polls on an interval, so a dead websocket only slows it
//! down. Each transaction carries as many events as fit in both the compute budget and the packet
//! size. The program applies events in order and removes them in the same transaction, so a crank
//! that restarts, races another crank or works from a stale view can never apply an event twice:
//! the worst case is a refused transaction (`NoEventsToConsume`), counted and ignored.

use crate::{backoff::Backoff, discovery::List, Keeper};
use anyhow::Result;
use futures_util::StreamExt;
use meridian_sdk::{
    client::SdkError,
    ix::{self, MarketAccounts},
    state::{market_name, Market, MarketStatus},
    Pubkey,
};
use solana_sdk::{message::Message, signer::Signer};
use std::{collections::HashSet, sync::Arc, time::Duration};
use tokio::sync::{watch, Notify};

/// The compute-unit limit requested per transaction: what the program spends on `consume_events`
/// (bench/cu.json: ~1,500 for the first event, ~700 per further event with a distinct maker) with
/// 2-3x headroom. The priority fee is paid per unit requested, so asking for far more costs money.
pub const CU_BASE: u32 = 5_000;
pub const CU_PER_EVENT: u32 = 2_000;
pub const CU_MAX: u32 = 1_400_000;
pub use meridian_sdk::budget::PACKET_DATA_SIZE;

#[derive(Clone, Debug)]
pub struct CrankConfig {
    pub max_events_per_tx: u16,
    pub poll: Duration,
}

/// How many of `makers` (one per event, oldest first) fit one transaction, and the distinct
/// accounts that takes.
pub fn plan_batch(
    keeper: &Pubkey,
    m: &MarketAccounts,
    reward: &Pubkey,
    makers: &[Pubkey],
    max_events: u16,
) -> (u16, Vec<Pubkey>) {
    let mut distinct: Vec<Pubkey> = Vec::new();
    let mut n: u16 = 0;
    // the program applies at most MAX_EVENTS_PER_CONSUME per call: a larger batch would be
    // counted as applied but not be
    let max_events = max_events.min(meridian_sdk::program::history::MAX_EVENTS_PER_CONSUME);
    for maker in makers.iter().take(max_events as usize) {
        let mut next = distinct.clone();
        if !next.contains(maker) {
            next.push(*maker);
        }
        let units = CU_BASE + CU_PER_EVENT * (n as u32 + 1);
        let mut ixs = meridian_sdk::budget::instructions(units, 1);
        ixs.push(ix::consume_events(m, reward, n + 1, &next));
        let size = Message::new(&ixs, Some(keeper)).serialize().len() + 1 + 64;
        if size > PACKET_DATA_SIZE || units > CU_MAX {
            break;
        }
        distinct = next;
        n += 1;
    }
    (n, distinct)
}

/// How a drain ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Drained {
    /// The queue was seen empty (or a stop was asked for) after applying this many events.
    Applied(u64),
    /// The market is closed: nothing more will come.
    Closed,
}

/// Applies every pending event of one market; stops between transactions when the keeper is
/// asked to stop. A failure (an RPC error, a refused transaction) is returned for the caller to
/// back off; a race with another crank is not a failure.
pub async fn drain(k: &Keeper, m: &MarketAccounts, name: &str, cfg: &CrankConfig) -> Result<Drained> {
    let labels: &[(&str, &str)] = &[("market", name)];
    let component = component(name);
    let mut applied = 0u64;
    loop {
        if k.shutdown.is_set() {
            return Ok(Drained::Applied(applied));
        }
        let market = k.client.market(&m.market).await?;
        if market.status() == MarketStatus::Closed {
            return Ok(Drained::Closed); // its queue account is gone (it was empty)
        }
        let (events, _) = k.client.events(&market).await?;
        k.metrics.set(
            "meridian_event_queue_length",
            "Events waiting for the crank (lag).",
            labels,
            events.len() as f64,
        );
        if events.is_empty() {
            return Ok(Drained::Applied(applied));
        }
        let makers: Vec<Pubkey> = events.iter().map(|e| Pubkey::new_from_array(e.maker)).collect();
        let (n, accounts) = plan_batch(&k.payer.pubkey(), m, &k.reward_account, &makers, cfg.max_events_per_tx);
        let ix = ix::consume_events(m, &k.reward_account, n, &accounts);
        let units = CU_BASE + CU_PER_EVENT * n as u32;
        k.metrics.add("meridian_crank_tx_sent_total", "consume_events transactions sent.", labels, 1.0);
        match k.send(&[ix], units).await {
            Ok(sig) => {
                applied += n as u64;
                k.metrics.add(
                    "meridian_events_consumed_total",
                    "Events applied to makers' accounts.",
                    labels,
                    n as f64,
                );
                k.metrics.health.progress(&component);
                tracing::info!(market = name, events = n, %sig, "consumed events");
            }
            Err(e) if e.program_error_name() == Some("NoEventsToConsume") => {
                // another crank got there first: the queue changed under us
                k.metrics.add("meridian_crank_races_total", "Batches another crank applied first.", labels, 1.0);
                tracing::debug!(market = name, "raced by another crank");
            }
            Err(e) => {
                let reason = match &e {
                    SdkError::Program { failure, .. } => failure.name.clone(),
                    SdkError::Rpc(_) => "rpc".to_string(),
                    _ => "transaction".to_string(),
                };
                k.metrics.add(
                    "meridian_crank_tx_failures_total",
                    "consume_events transactions that failed.",
                    &[("market", name), ("reason", &reason)],
                    1.0,
                );
                return Err(e.into());
            }
        }
    }
}

fn component(market: &str) -> String {
    format!("crank {market}")
}

/// Wakes `notify` on every change of the queue account; reconnects with backoff.
async fn watch_queue(k: Arc<Keeper>, queue: Pubkey, notify: Arc<Notify>, name: String) {
    let labels: &[(&str, &str)] = &[("market", &name)];
    let help = "1 while the websocket subscription is live.";
    let mut failures = 0u32;
    loop {
        match solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(k.ws_url.as_str()).await {
            Ok(client) => match client.account_subscribe(&queue, None).await {
                Ok((mut stream, _unsubscribe)) => {
                    failures = 0;
                    k.metrics.set("meridian_crank_subscribed", help, labels, 1.0);
                    while stream.next().await.is_some() {
                        notify.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "account subscription failed; polling meanwhile"),
            },
            Err(e) => tracing::warn!(error = %e, "websocket connect failed; polling meanwhile"),
        }
        k.metrics.set("meridian_crank_subscribed", help, labels, 0.0);
        failures = failures.saturating_add(1);
        if !k.shutdown.sleep(Backoff::RPC.next(failures)).await {
            return;
        }
    }
}

/// One market's crank until it closes or the keeper stops: drains on every queue change and every
/// `poll`, backing off after failures. Returns the market's address.
async fn crank_market(k: Arc<Keeper>, address: Pubkey, market: Market, cfg: CrankConfig) -> Pubkey {
    let m = MarketAccounts::of(address, &market);
    let name = market_name(&market);
    let component = component(&name);
    k.metrics.health.watch(&component);
    let notify = Arc::new(Notify::new());
    let watcher = tokio::spawn(watch_queue(k.clone(), m.event_queue, notify.clone(), name.clone()));
    let mut failures = 0u32;
    tracing::info!(market = %name, %address, "cranking");
    loop {
        let wait = match drain(&k, &m, &name, &cfg).await {
            Ok(Drained::Closed) => {
                tracing::info!(market = %name, "market closed; its crank stops");
                k.metrics.remove_gauge("meridian_event_queue_length", &[("market", &name)]);
                break;
            }
            Ok(Drained::Applied(_)) => {
                failures = 0;
                k.metrics.health.progress(&component);
                cfg.poll
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                k.rpc_failure("crank", &e);
                let wait = Backoff::RPC.next(failures);
                tracing::warn!(market = %name, error = %e, failures, ?wait, "crank round failed; retrying");
                wait
            }
        };
        if k.shutdown.is_set() {
            break;
        }
        tokio::select! {
            _ = notify.notified(), if failures == 0 => {}
            _ = tokio::time::sleep(wait) => {}
            _ = k.shutdown.wait() => break,
        }
    }
    watcher.abort();
    k.metrics.health.forget(&component);
    address
}

/// Drains every market of `markets` once (`--once`); the first failure is returned.
pub async fn run_once(k: Arc<Keeper>, markets: List<Market>, cfg: CrankConfig) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for (address, market) in markets.iter() {
        let (k, cfg) = (k.clone(), cfg.clone());
        let m = MarketAccounts::of(*address, market);
        let name = market_name(market);
        tasks.spawn(async move { drain(&k, &m, &name, &cfg).await.map(|_| ()) });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

/// Cranks every market of `markets` (a discovered list, or a fixed one) until stopped: a task per
/// market, started as markets appear. On a stop, each task finishes the transaction it has in
/// flight, then this returns.
pub async fn run(k: Arc<Keeper>, mut markets: watch::Receiver<List<Market>>, cfg: CrankConfig) -> Result<()> {
    let mut started: HashSet<Pubkey> = HashSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut listening = true;
    loop {
        if listening {
            let list = markets.borrow_and_update().clone();
            for (address, market) in list.iter() {
                if market.status() != MarketStatus::Closed && started.insert(*address) {
                    tasks.spawn(crank_market(k.clone(), *address, *market, cfg.clone()));
                }
            }
        }
        tokio::select! {
            changed = markets.changed(), if listening => listening = changed.is_ok(),
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = done {
                    tracing::error!(error = %e, "a market's crank task ended abnormally");
                }
            }
            _ = k.shutdown.wait() => break,
        }
        if !listening && tasks.is_empty() {
            tracing::info!("every market given is closed");
            return Ok(());
        }
    }
    tracing::info!(markets = tasks.len(), "stopping: letting the transactions in flight land");
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_fit_the_packet_and_reuse_repeated_makers() {
        let m = MarketAccounts {
            exchange: Pubkey::new_unique(),
            market: Pubkey::new_unique(),
            book: Pubkey::new_unique(),
            event_queue: Pubkey::new_unique(),
        };
        let (keeper, reward) = (Pubkey::new_unique(), Pubkey::new_unique());
        let distinct: Vec<Pubkey> = (0..100).map(|_| Pubkey::new_unique()).collect();
        let (n, accounts) = plan_batch(&keeper, &m, &reward, &distinct, 500);
        println!("distinct makers per transaction: {n}");
        assert!(n >= 20 && (n as usize) < 40, "distinct makers per packet: {n}");
        assert_eq!(accounts.len(), n as usize);
        // the same maker over and over costs no extra account: bounded by the program's cap
        // on events per call instead (compute would allow more)
        let same = vec![distinct[0]; 1_000];
        let (n, accounts) = plan_batch(&keeper, &m, &reward, &same, 1_000);
        assert_eq!(accounts.len(), 1);
        assert_eq!(n, meridian_sdk::program::history::MAX_EVENTS_PER_CONSUME);
        assert!((n as u32) < (CU_MAX - CU_BASE) / CU_PER_EVENT);
        assert_eq!(plan_batch(&keeper, &m, &reward, &same, 7).0, 7);
    }
}
