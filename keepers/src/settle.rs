//! The settle role: realizes losses so winners can be paid, and takes dated markets through expiry.
//! Every round it reads every margin account and market of the exchange and:
//! - for a dated market past expiry: cancels its resting orders, fixes its settlement price once
//!   the window has enough samples, settles every position at its payoff (losers first), and, if
//!   configured and the keeper is the admin, closes the market (rent back);
//! - for every other market: previews each position's settlement with the program's rules
//!   (`meridian_sdk::settlement`) and sends `settle_pnl` for the positions that would realize a loss
//!   (and, once the pool holds enough, the flat winners: their slots free up);
//!
//! many accounts per transaction. It also reports the next expiries (seconds left per market).

use crate::{backoff::Backoff, Keeper};
use anyhow::Result;
use meridian_sdk::{
    ix::{self, MarketAccounts},
    settlement::{self, ExpiryStep},
    state::{market_name, MarginAccount, Market, MarketStatus},
    Pubkey,
};
use solana_sdk::signer::Signer;
use std::{collections::BTreeMap, time::Duration};

/// Compute units per transaction: bench/cu.json measures ~2,450 for the first account, ~890 for
/// each further one; this leaves room.
pub fn compute_units(accounts: usize) -> u32 {
    5_000 + 3_000 * accounts as u32
}

#[derive(Clone, Debug)]
pub struct SettleConfig {
    pub interval: Duration,
    /// Most accounts per transaction (the packet fits about 30).
    pub batch: usize,
    pub once: bool,
    /// Close settled markets (the keeper's key must be the exchange admin).
    pub close_markets: bool,
}

/// The accounts worth settling in `market`: those that would realize a loss, then flat ones the
/// pool (as the losses just found will fill it) can pay.
pub fn candidates(
    accounts: &[(Pubkey, MarginAccount)],
    markets: &BTreeMap<u16, Market>,
    index: u16,
    slot: u64,
    unix_ts: i64,
) -> Vec<Pubkey> {
    let mut losers = vec![];
    let mut winners = vec![];
    let mut pool = markets.get(&index).map_or(0, |m| m.pnl_pool);
    for (address, a) in accounts {
        for p in settlement::preview(a, markets, slot, unix_ts).into_iter().filter(|p| p.market == index) {
            if p.settle_now < 0 {
                pool = pool.saturating_add(p.settle_now.unsigned_abs());
                losers.push(*address);
            } else if p.base_lots == 0 && p.unsettled.unwrap_or(0) > 0 {
                winners.push((*address, p.unsettled.unwrap_or(0)));
            }
        }
    }
    // the flat winners the pool covers in full, smallest first (each frees a slot)
    winners.sort_by_key(|(_, v)| *v);
    for (address, v) in winners {
        if v > pool as i128 {
            break;
        }
        pool -= v as u64;
        losers.push(address);
    }
    losers
}

/// One round over every market; returns how many accounts were settled.
pub async fn round(k: &Keeper, cfg: &SettleConfig) -> Result<usize> {
    let metrics = &*k.metrics;
    let accounts = k.client.margin_accounts(&k.exchange, None).await?;
    let markets: Vec<(Pubkey, Market)> = k.client.markets(&k.exchange).await?;
    let by_index: BTreeMap<u16, Market> = markets.iter().map(|(_, m)| (m.index, *m)).collect();
    let clock = k.client.clock().await?;
    let mut settled = 0;
    let mut awaiting = 0;
    for (address, m) in &markets {
        if k.shutdown.is_set() {
            break;
        }
        let name = market_name(m);
        let labels: &[(&str, &str)] = &[("market", &name)];
        if m.is_dated() && m.status() != MarketStatus::Closed {
            let left = m.expiry_ts.saturating_sub(clock.unix_timestamp);
            metrics.set(
                "meridian_expiry_seconds_left",
                "Seconds until the dated market expires (negative: past).",
                labels,
                left as f64,
            );
        }
        if m.is_expired(clock.unix_timestamp)
            && (m.holds_base() || !m.is_settled() || m.status() != MarketStatus::Closed)
        {
            awaiting += 1;
            settled += expire(k, cfg, address, m, &accounts, clock.unix_timestamp).await?;
            continue;
        }
        let todo = candidates(&accounts, &by_index, m.index, clock.slot, clock.unix_timestamp);
        for chunk in todo.chunks(cfg.batch.max(1)) {
            if k.shutdown.is_set() {
                break;
            }
            let ix = ix::settle_pnl(&MarketAccounts::of(*address, m), chunk);
            match k.send(&[ix], compute_units(chunk.len())).await {
                Ok(sig) => {
                    settled += chunk.len();
                    metrics.add("meridian_settle_tx_total", "settle_pnl transactions landed.", labels, 1.0);
                    metrics.add(
                        "meridian_settle_accounts_total",
                        "Positions passed to settle_pnl in landed transactions.",
                        labels,
                        chunk.len() as f64,
                    );
                    tracing::info!(market = %market_name(m), accounts = chunk.len(), %sig, "settled");
                }
                Err(e) => {
                    // an account that traded meanwhile is settled next round
                    metrics.add("meridian_settle_failures_total", "settle_pnl transactions that failed.", labels, 1.0);
                    tracing::warn!(market = %market_name(m), error = %e, "settle_pnl failed");
                }
            }
        }
        // a market nobody settled in this round: its fees and totals reach the exchange anyway
        // (settle_pnl sweeps its market itself)
        if todo.is_empty() && (m.unswept_fees != 0 || m.unswept_insurance != 0 || m.unswept_collateral != 0) {
            match k.send(&[ix::sweep_market(&MarketAccounts::of(*address, m))], 10_000).await {
                Ok(sig) => tracing::info!(market = %market_name(m), %sig, "swept"),
                Err(e) => tracing::warn!(market = %market_name(m), error = %e, "sweep_market failed"),
            }
        }
        let pool = k.client.market(address).await.map_or(m.pnl_pool, |m| m.pnl_pool);
        metrics.set("meridian_settle_pnl_pool", "The market's PnL pool, native units.", labels, pool as f64);
    }
    metrics.set(
        "meridian_expiry_markets_awaiting",
        "Expired markets not yet settled and closed.",
        &[],
        awaiting as f64,
    );
    Ok(settled)
}

/// Takes one expired market a step further: its orders cancelled, its price fixed, its positions
/// settled, then (configured, as admin) closed. Stops at the first step the program refuses for
/// now (too few samples, fills to crank) and tries again next round. Returns positions settled.
async fn expire(
    k: &Keeper,
    cfg: &SettleConfig,
    address: &Pubkey,
    m: &Market,
    accounts: &[(Pubkey, MarginAccount)],
    now: i64,
) -> Result<usize> {
    let metrics = &*k.metrics;
    let name = market_name(m);
    let labels: &[(&str, &str)] = &[("market", &name)];
    let mut settled = 0;
    for (step, ix) in settlement::expiry_instructions(address, m, accounts, now, cfg.batch) {
        if k.shutdown.is_set() {
            return Ok(settled);
        }
        let units = match step {
            ExpiryStep::Settle(n) => compute_units(n) + 1_000 * n as u32,
            _ => 200_000,
        };
        match k.send(&[ix], units).await {
            Ok(sig) => {
                tracing::info!(market = %name, ?step, %sig, "expiry step");
                if let ExpiryStep::Settle(n) = step {
                    settled += n;
                    metrics.add(
                        "meridian_expiry_positions_settled_total",
                        "Positions passed to settle_expired in landed transactions.",
                        labels,
                        n as f64,
                    );
                }
            }
            Err(e) => {
                // the price waits for samples or for the crank; anything else is retried next round
                let waiting = matches!(e.program_error_name(), Some("SettlementSamplesTooFew" | "EventsPending"));
                if !waiting {
                    metrics.add("meridian_expiry_failures_total", "Expiry transactions that failed.", labels, 1.0);
                }
                tracing::warn!(market = %name, ?step, error = %e, "expiry step not done; next round");
                return Ok(settled);
            }
        }
    }
    let m = k.client.market(address).await?;
    if m.is_settled() && !m.holds_base() {
        metrics.set(
            "meridian_expiry_settled_seconds",
            "Seconds from expiry to the last position settled.",
            labels,
            (now - m.expiry_ts) as f64,
        );
        if cfg.close_markets && m.status() != MarketStatus::Closed {
            let admin = k.client.exchange(&k.exchange).await?.admin;
            if admin == k.payer.pubkey() {
                let sig = k.send(&[ix::close_market(&MarketAccounts::of(*address, &m), &admin)], 200_000).await?;
                tracing::info!(market = %name, %sig, "closed the settled market");
            } else {
                tracing::warn!(market = %name, "settled, but only the admin can close it (--close-markets needs the admin key)");
            }
        }
    }
    Ok(settled)
}

/// The component name of the role's loop (`/health`).
pub const COMPONENT: &str = "settle";

/// Rounds every `interval` until stopped (with `once`: until a round settles nothing; failed
/// rounds are retried then too). Each round
/// lists the exchange's markets and accounts again, so markets listed later are settled too. A
/// failed round (RPC) is retried with backoff.
pub async fn run(k: &Keeper, cfg: SettleConfig) -> Result<()> {
    k.metrics.health.watch(COMPONENT);
    let mut failures = 0u32;
    loop {
        let wait = match round(k, &cfg).await {
            Ok(0) if cfg.once => return Ok(()),
            Ok(_) => {
                failures = 0;
                k.metrics.health.progress(COMPONENT);
                cfg.interval
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                k.rpc_failure("settle", &e);
                let wait = cfg.interval.min(Backoff::RPC.next(failures));
                tracing::warn!(error = %e, failures, ?wait, "settle round failed; retrying");
                wait
            }
        };
        if !k.shutdown.sleep(wait).await {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meridian_engine::units::{Lots, Side};

    #[test]
    fn losers_first_then_the_winners_the_pool_covers() {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.tick_size = 1;
        m.mark_price = 100;
        let markets = BTreeMap::from([(0u16, m)]);
        let account = |quote: i64, collateral: i64| {
            let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
            a.collateral = collateral;
            let s = a.position_slot(0, 0).unwrap();
            a.position_mut(s).quote_balance = quote;
            a
        };
        let mut long: MarginAccount = account(0, 1_000);
        let s = long.find_position(0).unwrap();
        long.position_mut(s).apply_fill(Side::Bid, Lots(1), 100).unwrap(); // flat value: no loss
        let keys: Vec<Pubkey> = (0..4).map(|_| Pubkey::new_unique()).collect();
        let accounts = vec![
            (keys[0], account(-300, 1_000)),
            (keys[1], account(250, 0)),
            (keys[2], account(100, 0)),
            (keys[3], long),
        ];
        // the loser's 300 pays the two flat winners (100, then 250 would need 350: only 100)
        assert_eq!(candidates(&accounts, &markets, 0, 0, 0), vec![keys[0], keys[2]]);
    }
}
