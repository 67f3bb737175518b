//! The crank role: keeps markets' event queues empty by sending `consume_events`.
//!
//! Per market, a watcher task subscribes to the event queue account (websocket) and wakes the
//! worker on every change; the worker also polls on an interval, so a dead websocket only slows it
//! down. Each transaction carries as many events as fit in both the compute budget and the packet
//! size. The program applies events in order and removes them in the same transaction, so a crank
//! that restarts, races another crank or works from a stale view can never apply an event twice:
//! the worst case is a refused transaction (`NoEventsToConsume`), counted and ignored.

use crate::{metrics::Metrics, Keeper};
use anyhow::Result;
use futures_util::StreamExt;
use meridian_sdk::{
    client::SdkError,
    ix::{self, MarketAccounts},
    state::market_name,
    Pubkey,
};
use solana_sdk::{message::Message, signer::Signer};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;

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
    pub priority_fee: u64,
    /// Drain once and return (cron, tests).
    pub once: bool,
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

/// Applies every pending event of one market. Returns the events applied.
pub async fn drain(k: &Keeper, m: &MarketAccounts, name: &str, cfg: &CrankConfig, metrics: &Metrics) -> Result<u64> {
    let labels = format!("market=\"{name}\"");
    let mut applied = 0u64;
    let mut failures = 0u32;
    loop {
        let market = k.client.market(&m.market).await?;
        if market.status == meridian_sdk::state::MarketStatus::Closed as u8 {
            return Ok(applied); // its queue account is gone (it was empty)
        }
        let (events, _) = k.client.events(&market).await?;
        metrics.set("meridian_event_queue_length", "Events waiting for the crank (lag).", &labels, events.len() as f64);
        if events.is_empty() {
            return Ok(applied);
        }
        let makers: Vec<Pubkey> = events.iter().map(|e| Pubkey::new_from_array(e.maker)).collect();
        let (n, accounts) = plan_batch(&k.payer.pubkey(), m, &k.reward_account, &makers, cfg.max_events_per_tx);
        let ix = ix::consume_events(m, &k.reward_account, n, &accounts);
        let units = CU_BASE + CU_PER_EVENT * n as u32;
        metrics.add("meridian_crank_tx_sent_total", "consume_events transactions sent.", &labels, 1.0);
        match k.client.send_with_budget(&[ix], &k.payer, &[], units, cfg.priority_fee).await {
            Ok(sig) => {
                applied += n as u64;
                failures = 0;
                metrics.add("meridian_events_consumed_total", "Events applied to makers' accounts.", &labels, n as f64);
                tracing::info!(market = name, events = n, %sig, "consumed events");
            }
            Err(e) if e.program_error_name() == Some("NoEventsToConsume") => {
                // another crank got there first: the queue changed under us
                metrics.add("meridian_crank_races_total", "Batches another crank applied first.", &labels, 1.0);
                tracing::debug!(market = name, "raced by another crank");
            }
            Err(e) => {
                failures += 1;
                let reason = match &e {
                    SdkError::Program { failure, .. } => failure.name.clone(),
                    SdkError::Rpc(_) => "rpc".to_string(),
                    _ => "transaction".to_string(),
                };
                metrics.add(
                    "meridian_crank_tx_failures_total",
                    "consume_events transactions that failed.",
                    &format!("{labels},reason=\"{reason}\""),
                    1.0,
                );
                let backoff = Duration::from_millis(200 * 2u64.pow(failures.min(5)));
                tracing::warn!(market = name, error = %e, ?backoff, "consume_events failed; retrying");
                if failures >= 8 {
                    return Err(e.into());
                }
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

/// Wakes `notify` on every change of the queue account; reconnects with backoff.
async fn watch(ws_url: String, queue: Pubkey, notify: Arc<Notify>, metrics: Arc<Metrics>, labels: String) {
    let mut delay = Duration::from_millis(500);
    loop {
        match solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(ws_url.as_str()).await {
            Ok(client) => match client.account_subscribe(&queue, None).await {
                Ok((mut stream, _unsubscribe)) => {
                    delay = Duration::from_millis(500);
                    metrics.set(
                        "meridian_crank_subscribed",
                        "1 while the websocket subscription is live.",
                        &labels,
                        1.0,
                    );
                    while stream.next().await.is_some() {
                        notify.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "account subscription failed; polling meanwhile"),
            },
            Err(e) => tracing::warn!(error = %e, "websocket connect failed; polling meanwhile"),
        }
        metrics.set("meridian_crank_subscribed", "1 while the websocket subscription is live.", &labels, 0.0);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// Runs the crank for `markets` until stopped (or once, with `cfg.once`).
pub async fn run(
    k: Arc<Keeper>,
    markets: Vec<(Pubkey, meridian_sdk::state::Market)>,
    cfg: CrankConfig,
    metrics: Arc<Metrics>,
) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for (address, market) in markets {
        let (k, cfg, metrics) = (k.clone(), cfg.clone(), metrics.clone());
        let m = MarketAccounts::of(address, &market);
        let name = market_name(&market);
        tasks.spawn(async move {
            if cfg.once {
                return drain(&k, &m, &name, &cfg, &metrics).await.map(|_| ());
            }
            let notify = Arc::new(Notify::new());
            let labels = format!("market=\"{name}\"");
            tokio::spawn(watch(k.ws_url.clone(), m.event_queue, notify.clone(), metrics.clone(), labels));
            loop {
                if let Err(e) = drain(&k, &m, &name, &cfg, &metrics).await {
                    tracing::error!(market = %name, error = %e, "crank round failed");
                }
                tokio::select! {
                    _ = notify.notified() => {}
                    _ = tokio::time::sleep(cfg.poll) => {}
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
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
        // the same maker over and over costs no extra account: bounded by compute instead
        let same = vec![distinct[0]; 1_000];
        let (n, accounts) = plan_batch(&keeper, &m, &reward, &same, 1_000);
        assert_eq!(accounts.len(), 1);
        assert_eq!(n as u32, (CU_MAX - CU_BASE) / CU_PER_EVENT);
        assert_eq!(plan_batch(&keeper, &m, &reward, &same, 7).0, 7);
    }
}
