//! The oracle role: keeps oracle aggregates fresh by sending `refresh_oracle`.
//!
//! Each poll it finds every source's current account (the freshest fully verified Pyth update of
//! the feed, the Switchboard feed account), predicts with the program's own engine code what a
//! refresh would store, and sends one (pushing the price to every market the oracle prices) when a source has published something new and either the
//! price moved by `move_bps`, the heartbeat elapsed, or the aggregate is not Valid. A refresh that
//! another keeper beat to a newer update fails with `OracleSourceReplayed`: counted as a race, not
//! an error.

use crate::{backoff::Backoff, discovery::List, metrics::Metrics, Keeper};
use anyhow::Result;
use meridian_sdk::{
    client::SdkError,
    engine::oracle::Outcome,
    ix,
    oracle::{predict, status_name, OracleStatus},
    state::{market_name_bytes, Market, OracleAggregate},
    Pubkey,
};
use std::{collections::HashSet, sync::Arc, time::Duration};
use tokio::sync::watch;

/// Compute units requested per refresh: bench/cu.json measures 7,400-8,600 for 3 sources (the
/// latter after a 3x move); this leaves room for a fourth source. Each market the price is pushed
/// to adds ~2,400 (a linear one) or ~13,000 (an option's lot revaluation).
pub const CU_REFRESH: u32 = 14_000;
pub const CU_PER_LINEAR_MARKET: u32 = 3_000;
pub const CU_PER_OPTION_MARKET: u32 = 20_000;
/// Option markets revalued per transaction: with the oracle, its sources and the fee payer, a
/// dozen writable markets keep a transaction's account list well inside its size limit.
pub const OPTIONS_PER_TX: usize = 12;

/// The markets of one oracle split into refresh transactions: the linear ones with the first
/// options, then the remaining options a dozen at a time; with each batch's compute budget.
pub fn refresh_batches(linear: &[Pubkey], options: &[Pubkey]) -> Vec<(Vec<Pubkey>, u32)> {
    let budget = |l: usize, o: usize| {
        (CU_REFRESH + CU_PER_LINEAR_MARKET * l as u32 + CU_PER_OPTION_MARKET * o as u32).min(1_400_000)
    };
    let first = options.len().min(OPTIONS_PER_TX);
    let mut out = vec![([linear, &options[..first]].concat(), budget(linear.len(), first))];
    for chunk in options[first..].chunks(OPTIONS_PER_TX) {
        out.push((chunk.to_vec(), budget(0, chunk.len())));
    }
    out
}

#[derive(Clone, Debug)]
pub struct OracleConfig {
    pub poll: Duration,
    /// Refresh at least this often while sources publish, even if the price did not move.
    pub heartbeat_secs: i64,
    /// Refresh when the predicted price is this far from the stored one.
    pub move_bps: u64,
    /// Refresh each oracle once (when a source has something new) and return.
    pub once: bool,
}

/// Why a refresh is due, or None. `markets_behind`: a market priced by this oracle holds an older
/// push than the aggregate (someone refreshed without passing the markets).
pub fn due(
    o: &OracleAggregate,
    outcome: &Outcome,
    something_new: bool,
    markets_behind: bool,
    now_ts: i64,
    cfg: &OracleConfig,
) -> Option<&'static str> {
    if markets_behind {
        return Some("markets-behind");
    }
    if !something_new {
        return None;
    }
    if cfg.once {
        return Some("once");
    }
    if o.status() != meridian_sdk::oracle::OracleStatus::Valid {
        return Some("not-valid");
    }
    if now_ts - o.price_ts >= cfg.heartbeat_secs {
        return Some("heartbeat");
    }
    match outcome {
        Outcome::Valid(q) | Outcome::Divergent(q) => {
            let moved = q.price.abs_diff(o.price) as u128 * 10_000 >= cfg.move_bps as u128 * o.price as u128;
            moved.then_some("moved")
        }
        Outcome::TooFewSources => None,
    }
}

/// One look at one oracle; refreshes it when due. Returns whether a refresh landed. `markets`:
/// the exchange's markets as last listed (those this oracle prices are read again now).
pub async fn tick(k: &Keeper, address: &Pubkey, markets: &List<Market>, cfg: &OracleConfig) -> Result<bool> {
    let metrics = &*k.metrics;
    let o = k.client.oracle(address).await?;
    let name = market_name_bytes(&o.name);
    let labels: &[(&str, &str)] = &[("oracle", &name)];
    publish_gauges(&o, labels, metrics);
    let sources = match k.client.oracle_sources(&o).await {
        Ok(s) => s,
        Err(e) => {
            metrics.add("meridian_oracle_source_missing_total", "Polls where a source had no account.", labels, 1.0);
            tracing::warn!(oracle = %name, error = %e, "cannot assemble the sources");
            return Ok(false);
        }
    };
    let clock = k.client.clock().await?;
    metrics.set(
        "meridian_oracle_age_seconds",
        "Seconds since the aggregate's price was published.",
        labels,
        (clock.unix_timestamp - o.price_ts) as f64,
    );
    let readings: Vec<_> = sources.iter().map(|(_, r)| *r).collect();
    let something_new = readings
        .iter()
        .zip(&o.sources)
        .any(|(r, s)| r.publish_ts > s.last_publish_ts || r.slot > s.last_slot || s.last_fault != 0);
    let (outcome, _) = predict(&o, &readings, clock.slot, clock.unix_timestamp);
    // the markets this oracle prices, as they are now; a settled or closed dated market's value no
    // longer depends on the oracle
    let linked: Vec<Pubkey> = markets.iter().filter(|(_, m)| m.oracle == *address).map(|(a, _)| *a).collect();
    let mut priced = k.read_markets(&linked).await?;
    priced.retain(|(_, m)| {
        m.oracle == *address && !m.is_settled() && m.status() != meridian_sdk::state::MarketStatus::Closed
    });
    let markets_behind = priced.iter().any(|(_, m)| {
        m.oracle_status != o.status || (o.status() == OracleStatus::Valid && m.oracle_slot < o.valid_slot)
    });
    let linear: Vec<Pubkey> = priced.iter().filter(|(_, m)| !m.is_option()).map(|(a, _)| *a).collect();
    let options: Vec<Pubkey> = priced.iter().filter(|(_, m)| m.is_option()).map(|(a, _)| *a).collect();
    let mut batches = refresh_batches(&linear, &options).into_iter();
    let (markets, budget) = batches.next().expect("at least one batch");
    let Some(reason) = due(&o, &outcome, something_new, markets_behind, clock.unix_timestamp, cfg) else {
        return Ok(false);
    };
    let accounts: Vec<Pubkey> = sources.iter().map(|(a, _)| *a).collect();
    let refresh = ix::refresh_oracle(address, &accounts, &markets);
    metrics.add("meridian_oracle_refresh_sent_total", "refresh_oracle transactions sent.", labels, 1.0);
    match k.send(&[refresh], budget).await {
        Ok(sig) => {
            // more option markets than one transaction revalues: the same readings again
            for (markets, budget) in batches {
                let more = ix::refresh_oracle(address, &accounts, &markets);
                if let Err(e) = k.send(&[more], budget).await {
                    tracing::warn!(oracle = %name, error = %e, "option revaluation batch failed");
                }
            }
            metrics.add("meridian_oracle_refreshes_total", "refresh_oracle transactions landed.", labels, 1.0);
            let after = k.client.oracle(address).await?;
            publish_gauges(&after, labels, metrics);
            tracing::info!(oracle = %name, reason, price = after.price, status = status_name(after.status()), %sig, "refreshed");
            Ok(true)
        }
        Err(e) if e.program_error_name() == Some("OracleSourceReplayed") => {
            metrics.add("meridian_oracle_races_total", "Refreshes another keeper landed first.", labels, 1.0);
            tracing::debug!(oracle = %name, "raced by another keeper");
            Ok(false)
        }
        Err(e) => {
            let reason = match &e {
                SdkError::Program { failure, .. } => failure.name.clone(),
                SdkError::Rpc(_) => "rpc".to_string(),
                _ => "transaction".to_string(),
            };
            metrics.add(
                "meridian_oracle_refresh_failures_total",
                "refresh_oracle transactions that failed.",
                &[("oracle", &name), ("reason", &reason)],
                1.0,
            );
            Err(e.into())
        }
    }
}

fn publish_gauges(o: &OracleAggregate, labels: &[(&str, &str)], metrics: &Metrics) {
    let scale = 1e12;
    metrics.set("meridian_oracle_price", "Aggregate price (quote per unit).", labels, o.price as f64 / scale);
    metrics.set("meridian_oracle_confidence", "Aggregate confidence (quote per unit).", labels, o.conf as f64 / scale);
    metrics.set(
        "meridian_oracle_status",
        "0 uninitialized, 1 valid, 2 divergent, 3 too few sources.",
        labels,
        o.status as f64,
    );
    metrics.set(
        "meridian_oracle_realized_vol",
        "EWMA realized volatility (annualized).",
        labels,
        o.realized_vol as f64 / scale,
    );
}

/// One oracle's loop until the keeper stops: a tick every `poll`, backing off (up to 30 s) after
/// failures. Healthy while ticks succeed: a refresh that keeps failing makes `/health` fail; sources
/// that publish nothing new do not (the keeper is not behind, the sources are:
/// `meridian_oracle_age_seconds` shows it).
async fn follow(
    k: Arc<Keeper>,
    address: Pubkey,
    name: String,
    markets: watch::Receiver<List<Market>>,
    cfg: OracleConfig,
) {
    let component = format!("oracle {name}");
    k.metrics.health.watch(&component);
    tracing::info!(oracle = %name, %address, "following");
    let mut failures = 0u32;
    loop {
        let list = markets.borrow().clone();
        match tick(&k, &address, &list, &cfg).await {
            Ok(_) => {
                failures = 0;
                k.metrics.health.progress(&component);
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                k.rpc_failure("oracle", &e);
                tracing::warn!(oracle = %name, error = %e, failures, "oracle round failed");
            }
        }
        let wait = if failures == 0 { cfg.poll } else { cfg.poll.max(Backoff::RPC.next(failures)) };
        if !k.shutdown.sleep(wait.min(Backoff::RPC.max)).await {
            break;
        }
    }
    k.metrics.health.forget(&component);
}

/// Refreshes each oracle of `oracles` once if it has news (`--once`); the first failure is returned.
pub async fn run_once(
    k: Arc<Keeper>,
    oracles: List<OracleAggregate>,
    markets: List<Market>,
    cfg: OracleConfig,
) -> Result<()> {
    for (address, _) in oracles.iter() {
        tick(&k, address, &markets, &cfg).await?;
    }
    Ok(())
}

/// Follows every oracle of `oracles` (discovered or fixed) until stopped, a task each, started as
/// oracles appear. On a stop each finishes what it has in flight.
pub async fn run(
    k: Arc<Keeper>,
    mut oracles: watch::Receiver<List<OracleAggregate>>,
    markets: watch::Receiver<List<Market>>,
    cfg: OracleConfig,
) -> Result<()> {
    let mut started: HashSet<Pubkey> = HashSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut listening = true;
    loop {
        if listening {
            let list = oracles.borrow_and_update().clone();
            for (address, o) in list.iter() {
                if started.insert(*address) {
                    tasks.spawn(follow(k.clone(), *address, market_name_bytes(&o.name), markets.clone(), cfg.clone()));
                }
            }
        }
        tokio::select! {
            changed = oracles.changed(), if listening => listening = changed.is_ok(),
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = done {
                    tracing::error!(error = %e, "an oracle's task ended abnormally");
                }
            }
            _ = k.shutdown.wait() => break,
        }
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_sdk::engine::oracle::Quote;

    fn aggregate(price: u64, price_ts: i64, status: u8) -> OracleAggregate {
        let mut o: OracleAggregate = bytemuck::Zeroable::zeroed();
        o.price = price;
        o.price_ts = price_ts;
        o.status = status;
        o
    }

    #[test]
    fn options_are_revalued_a_dozen_per_transaction() {
        let keys = |n: usize| (0..n).map(|_| Pubkey::new_unique()).collect::<Vec<_>>();
        let (linear, options) = (keys(2), keys(30));
        let batches = refresh_batches(&linear, &options);
        let sizes: Vec<usize> = batches.iter().map(|(m, _)| m.len()).collect();
        assert_eq!(sizes, [2 + 12, 12, 6]);
        assert_eq!(batches[0].0[..2], linear[..]);
        assert!(batches.iter().all(|(_, cu)| *cu <= 1_400_000));
        assert_eq!(batches[2].1, CU_REFRESH + 6 * CU_PER_OPTION_MARKET);
        // no options: one transaction at the old budget plus the linear markets
        assert_eq!(refresh_batches(&linear, &[]), vec![(linear.clone(), CU_REFRESH + 2 * CU_PER_LINEAR_MARKET)]);
    }

    #[test]
    fn refreshes_only_when_due() {
        let cfg = OracleConfig { poll: Duration::ZERO, heartbeat_secs: 10, move_bps: 10, once: false };
        let o = aggregate(1_000_000, 100, 1);
        let at = |p: u64| Outcome::Valid(Quote { price: p, conf: 0 });
        assert_eq!(due(&o, &at(1_001_000), false, false, 200, &cfg), None, "nothing new published");
        assert_eq!(due(&o, &at(1_000_999), true, false, 105, &cfg), None, "moved < 10 bp, heartbeat not due");
        assert_eq!(due(&o, &at(1_001_000), true, false, 105, &cfg), Some("moved"));
        assert_eq!(due(&o, &at(999_000), true, false, 105, &cfg), Some("moved"));
        assert_eq!(due(&o, &at(1_000_000), true, false, 110, &cfg), Some("heartbeat"));
        assert_eq!(due(&aggregate(1_000_000, 100, 2), &at(1_000_000), true, false, 105, &cfg), Some("not-valid"));
        assert_eq!(due(&o, &Outcome::TooFewSources, true, false, 105, &cfg), None);
        // someone refreshed without pushing to the markets: push even with nothing new
        assert_eq!(due(&o, &at(1_000_000), false, true, 105, &cfg), Some("markets-behind"));
        let once = OracleConfig { once: true, ..cfg };
        assert_eq!(due(&o, &at(1_000_000), true, false, 105, &once), Some("once"));
    }
}
