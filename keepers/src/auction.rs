//! The auction role: clears batch markets' auctions (`clear_auction`) as soon as each period is
//! over. The fills go to the event queue; the crank role applies them (and earns their rewards).
//! Which markets are batch markets comes from the shared discovery (a rescan every
//! `--rescan-secs`, so a batch market listed later is picked up); each poll reads only those
//! markets (getMultipleAccounts), never the whole program.

use crate::{backoff::Backoff, discovery::List, Keeper};
use anyhow::Result;
use meridian_sdk::{
    ix::{self, MarketAccounts},
    state::{market_name, Market},
    Pubkey,
};
use std::time::Duration;
use tokio::sync::watch;

/// Compute units requested per clearing: enough for the largest auction a batch market holds
/// (`meridian_sdk::budget::CLEAR_AUCTION_UNITS`).
pub const CU_CLEAR: u32 = meridian_sdk::budget::CLEAR_AUCTION_UNITS;

/// The component name of the role's loop (`/health`).
pub const COMPONENT: &str = "auction";

#[derive(Clone, Debug)]
pub struct AuctionConfig {
    pub poll: Duration,
}

/// The batch markets of a listing.
pub fn batch_markets(list: &List<Market>) -> Vec<Pubkey> {
    list.iter().filter(|(_, m)| m.is_batch()).map(|(a, _)| *a).collect()
}

/// One pass over `markets`: reads them, clears each batch market whose auction is due. Returns the
/// clearings that landed; an RPC failure reading the slot or the markets is an error.
pub async fn round(k: &Keeper, markets: &[Pubkey]) -> Result<usize> {
    if markets.is_empty() {
        return Ok(0);
    }
    let slot = k.client.rpc().get_slot().await?;
    let mut landed = 0;
    for (address, m) in k.read_markets(markets).await? {
        if k.shutdown.is_set() {
            break;
        }
        if !m.is_batch() || (m.auction_pending == 0 && slot < m.auction_end_slot) {
            continue;
        }
        let name = market_name(&m);
        let labels: &[(&str, &str)] = &[("market", &name)];
        let ix = ix::clear_auction(&MarketAccounts::of(address, &m));
        match k.send(&[ix], CU_CLEAR).await {
            Ok(sig) => {
                landed += 1;
                k.metrics.add("meridian_auctions_cleared_total", "clear_auction transactions landed.", labels, 1.0);
                match k.client.market(&address).await {
                    Ok(after) if after.last_clearing_slot > m.last_clearing_slot => {
                        k.metrics.set(
                            "meridian_auction_price",
                            "Last clearing price (ticks).",
                            labels,
                            after.last_clearing_price as f64,
                        );
                        tracing::info!(market = %name, price = after.last_clearing_price, volume = after.last_clearing_volume, %sig, "auction cleared");
                    }
                    _ => tracing::debug!(market = %name, %sig, "auction cleared, nothing traded"),
                }
            }
            Err(e) => {
                // AuctionNotDue (another keeper was first) or EventQueueFull (the crank catches up)
                k.metrics.add(
                    "meridian_auction_failures_total",
                    "clear_auction transactions that failed.",
                    labels,
                    1.0,
                );
                tracing::warn!(market = %name, error = %e, "clear_auction failed");
            }
        }
    }
    Ok(landed)
}

/// Clears what is due once (`--once`).
pub async fn run_once(k: &Keeper, markets: List<Market>) -> Result<()> {
    round(k, &batch_markets(&markets)).await.map(|_| ())
}

/// Clears the batch markets of `markets` (discovered or fixed) every `poll` until stopped; RPC
/// failures back off.
pub async fn run(k: &Keeper, mut markets: watch::Receiver<List<Market>>, cfg: AuctionConfig) -> Result<()> {
    k.metrics.health.watch(COMPONENT);
    if !crate::discovery::first_listing(k, &mut markets).await {
        return Ok(());
    }
    let mut failures = 0u32;
    loop {
        let selected = batch_markets(&markets.borrow());
        let wait = match round(k, &selected).await {
            Ok(_) => {
                failures = 0;
                k.metrics.health.progress(COMPONENT);
                cfg.poll
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                k.rpc_failure("auction", &e);
                let wait = cfg.poll.max(Backoff::RPC.next(failures));
                tracing::warn!(error = %e, failures, ?wait, "auction round failed");
                wait
            }
        };
        if !k.shutdown.sleep(wait).await {
            return Ok(());
        }
    }
}
