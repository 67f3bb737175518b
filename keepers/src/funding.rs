//! The funding role: accrues perpetual funding by sending `update_funding` for every perpetual on
//! a fixed cadence. Funding settles into accounts lazily (at their next fill, or by anyone with
//! `settle_funding`), so this role only keeps the index current. Perpetuals listed after the keeper
//! started are picked up at the next rescan (unless `--market` fixed the list).

use crate::{backoff::Backoff, discovery::List, Keeper};
use anyhow::Result;
use meridian_sdk::{
    ix::{self, MarketAccounts},
    state::{market_name, Market, MarketKind, MarketStatus},
    Pubkey,
};
use std::time::Duration;
use tokio::sync::watch;

/// Compute units requested per update: bench/cu.json measures ~2,950 with the best prices; the
/// impact walk visits at most 32 orders per side (engine `funding::IMPACT_WALK_LIMIT`).
pub const CU_UPDATE: u32 = 15_000;

/// The component name of the role's loop (`/health`).
pub const COMPONENT: &str = "funding";

#[derive(Clone, Debug)]
pub struct FundingConfig {
    pub interval: Duration,
}

/// Funding accrues on perpetuals only.
pub fn is_perpetual(m: &Market) -> bool {
    m.kind() == MarketKind::Perpetual && m.funding_period_secs > 0
}

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub landed: usize,
    /// Updates refused or lost (counted per market).
    pub failed: usize,
    /// Markets that could not be read (RPC).
    pub unread: usize,
}

/// One update of every perpetual of `markets`. A market that cannot be read or whose update
/// fails is counted and the round goes on with the next.
pub async fn round(k: &Keeper, markets: &[Pubkey]) -> Round {
    let mut r = Round::default();
    for address in markets {
        if k.shutdown.is_set() {
            break;
        }
        let m = match k.client.market(address).await {
            Ok(m) => m,
            Err(e) => {
                r.unread += 1;
                k.rpc_failure("read market", &e);
                tracing::warn!(market = %address, error = %e, "cannot read the market");
                continue;
            }
        };
        if !is_perpetual(&m) || m.status() == MarketStatus::Closed {
            continue;
        }
        let name = market_name(&m);
        let labels: &[(&str, &str)] = &[("market", &name)];
        let ix = ix::update_funding(&MarketAccounts::of(*address, &m));
        match k.send(&[ix], CU_UPDATE).await {
            Ok(sig) => {
                r.landed += 1;
                k.metrics.add("meridian_funding_updates_total", "update_funding transactions landed.", labels, 1.0);
                match k.client.market(address).await {
                    Ok(after) => {
                        k.metrics.set(
                            "meridian_funding_rate",
                            "Last funding rate per period (fraction; positive: longs pay).",
                            labels,
                            after.funding_rate as f64 / 1e9,
                        );
                        tracing::info!(market = %name, rate_ppb = after.funding_rate, %sig, "funding updated");
                    }
                    Err(e) => tracing::info!(market = %name, %sig, error = %e, "funding updated (rate not read)"),
                }
            }
            Err(e) => {
                r.failed += 1;
                k.metrics.add(
                    "meridian_funding_failures_total",
                    "update_funding transactions that failed.",
                    labels,
                    1.0,
                );
                tracing::warn!(market = %name, error = %e, "update_funding failed");
            }
        }
    }
    r
}

fn perpetuals(list: &List<Market>) -> Vec<Pubkey> {
    list.iter().filter(|(_, m)| is_perpetual(m)).map(|(a, _)| *a).collect()
}

/// Updates each perpetual of `markets` once (`--once`): an error unless every update landed.
pub async fn run_once(k: &Keeper, markets: List<Market>) -> Result<()> {
    let selected = perpetuals(&markets);
    anyhow::ensure!(!selected.is_empty(), "the exchange has no perpetual market");
    let r = round(k, &selected).await;
    anyhow::ensure!(r.landed == selected.len(), "{} of {} updates failed", selected.len() - r.landed, selected.len());
    Ok(())
}

/// Updates every perpetual of `markets` (discovered or fixed) each interval until stopped. A
/// round where a market could not be read is retried sooner, with backoff.
pub async fn run(k: &Keeper, mut markets: watch::Receiver<List<Market>>, cfg: FundingConfig) -> Result<()> {
    k.metrics.health.watch(COMPONENT);
    if !crate::discovery::first_listing(k, &mut markets).await {
        return Ok(());
    }
    let mut failures = 0u32;
    loop {
        let selected = perpetuals(&markets.borrow());
        let r = round(k, &selected).await;
        let wait = if r.unread == 0 {
            failures = 0;
            k.metrics.health.progress(COMPONENT);
            if selected.is_empty() {
                tracing::debug!("no perpetual market yet");
            }
            cfg.interval
        } else {
            failures = failures.saturating_add(1);
            cfg.interval.min(Backoff::RPC.next(failures))
        };
        if !k.shutdown.sleep(wait).await {
            return Ok(());
        }
    }
}
