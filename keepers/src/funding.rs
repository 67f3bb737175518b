//! The funding role: accrues perpetual funding by sending `update_funding` for every perpetual on
//! a fixed cadence. Funding settles into accounts lazily (at their next fill, or by anyone with
//! `settle_funding`), so this role only keeps the index current.

use crate::{metrics::Metrics, Keeper};
use anyhow::Result;
use meridian_sdk::{
    ix::{self, MarketAccounts},
    state::market_name,
    Pubkey,
};
use std::time::Duration;

/// Compute units requested per update: bench/cu.json measures ~2,950 with the best prices; the
/// impact walk visits at most 32 orders per side (engine `funding::IMPACT_WALK_LIMIT`).
pub const CU_UPDATE: u32 = 15_000;

#[derive(Clone, Debug)]
pub struct FundingConfig {
    pub interval: Duration,
    pub priority_fee: u64,
    pub once: bool,
}

/// One update of every selected perpetual; returns how many landed.
pub async fn round(k: &Keeper, markets: &[Pubkey], cfg: &FundingConfig, metrics: &Metrics) -> Result<usize> {
    let mut landed = 0;
    for address in markets {
        let m = k.client.market(address).await?;
        let name = market_name(&m);
        let labels = format!("market=\"{name}\"");
        let ix = ix::update_funding(&MarketAccounts::of(*address, &m));
        match k.client.send_with_budget(&[ix], &k.payer, &[], CU_UPDATE, cfg.priority_fee).await {
            Ok(sig) => {
                landed += 1;
                let after = k.client.market(address).await?;
                metrics.add("meridian_funding_updates_total", "update_funding transactions landed.", &labels, 1.0);
                metrics.set(
                    "meridian_funding_rate",
                    "Last funding rate per period (fraction; positive: longs pay).",
                    &labels,
                    after.funding_rate as f64 / 1e9,
                );
                tracing::info!(market = %name, rate_ppb = after.funding_rate, %sig, "funding updated");
            }
            Err(e) => {
                metrics.add("meridian_funding_failures_total", "update_funding transactions that failed.", &labels, 1.0);
                tracing::warn!(market = %name, error = %e, "update_funding failed");
            }
        }
    }
    Ok(landed)
}

pub async fn run(k: &Keeper, markets: Vec<Pubkey>, cfg: FundingConfig, metrics: &Metrics) -> Result<()> {
    loop {
        let landed = round(k, &markets, &cfg, metrics).await?;
        if cfg.once {
            anyhow::ensure!(landed == markets.len(), "{} of {} updates failed", markets.len() - landed, markets.len());
            return Ok(());
        }
        tokio::time::sleep(cfg.interval).await;
    }
}
