//! The auction role: clears batch markets' auctions (`clear_auction`) as soon as each period is
//! over. The fills go to the event queue; the crank role applies them (and earns their rewards).
//! Batch markets listed after the keeper started are picked up at the next scan.

use crate::{metrics::Metrics, Keeper};
use anyhow::Result;
use meridian_sdk::{
    ix::{self, MarketAccounts},
    state::market_name,
};
use std::time::Duration;

/// Compute units requested per clearing: enough for the largest auction a batch market holds
/// (`meridian_sdk::budget::CLEAR_AUCTION_UNITS`).
pub const CU_CLEAR: u32 = meridian_sdk::budget::CLEAR_AUCTION_UNITS;

#[derive(Clone, Debug)]
pub struct AuctionConfig {
    pub poll: Duration,
    pub priority_fee: u64,
    /// Markets (addresses) to clear; empty: every batch market of the exchange.
    pub markets: Vec<meridian_sdk::Pubkey>,
    pub once: bool,
}

/// One pass over the batch markets: clears each whose auction is due. Returns the clearings sent.
pub async fn round(k: &Keeper, cfg: &AuctionConfig, metrics: &Metrics) -> Result<usize> {
    let slot = k.client.rpc().get_slot().await?;
    let mut landed = 0;
    for (address, m) in k.client.markets(&k.exchange).await? {
        if m.mode != 1 || (!cfg.markets.is_empty() && !cfg.markets.contains(&address)) {
            continue;
        }
        if m.auction_pending == 0 && slot < m.auction_end_slot {
            continue;
        }
        let name = market_name(&m);
        let labels = format!("market=\"{name}\"");
        let ix = ix::clear_auction(&MarketAccounts::of(address, &m));
        match k.client.send_with_budget(&[ix], &k.payer, &[], CU_CLEAR, cfg.priority_fee).await {
            Ok(sig) => {
                landed += 1;
                let after = k.client.market(&address).await?;
                metrics.add("meridian_auctions_cleared_total", "clear_auction transactions landed.", &labels, 1.0);
                if after.last_clearing_slot > m.last_clearing_slot {
                    metrics.set(
                        "meridian_auction_price",
                        "Last clearing price (ticks).",
                        &labels,
                        after.last_clearing_price as f64,
                    );
                    tracing::info!(market = %name, price = after.last_clearing_price, volume = after.last_clearing_volume, %sig, "auction cleared");
                } else {
                    tracing::debug!(market = %name, %sig, "auction cleared, nothing traded");
                }
            }
            Err(e) => {
                // AuctionNotDue (another keeper was first) or EventQueueFull (the crank catches up)
                metrics.add("meridian_auction_failures_total", "clear_auction transactions that failed.", &labels, 1.0);
                tracing::warn!(market = %name, error = %e, "clear_auction failed");
            }
        }
    }
    Ok(landed)
}

pub async fn run(k: &Keeper, cfg: AuctionConfig, metrics: &Metrics) -> Result<()> {
    loop {
        match round(k, &cfg, metrics).await {
            Ok(_) if cfg.once => return Ok(()),
            Ok(_) => {}
            Err(e) if cfg.once => return Err(e),
            // an RPC hiccup: try again next period
            Err(e) => tracing::warn!(error = %e, "auction round failed"),
        }
        tokio::time::sleep(cfg.poll).await;
    }
}
