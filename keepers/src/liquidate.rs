//! Liquidator role: finds every margin account of the exchange (getProgramAccounts, then a
//! programSubscribe on margin accounts and on markets, so oracle pushes and fills reach it as they
//! land), keeps their health with the SDK's engine (the program's own code), ranks those below
//! maintenance by shortfall and sends the stage each needs (`meridian_sdk::liquidation`), with a
//! compute-unit limit and priority fee. Each attempt is simulated first: an account another
//! liquidator already fixed fails simulation with a race error and costs nothing. Earnings (stage
//! 1 fees, stage 2 discount shares) go to the liquidator's margin account.

use crate::{metrics::Metrics, Keeper};
use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use meridian_sdk::{
    client::program_accounts_config,
    error::ProgramFailure,
    liquidation::{self, Candidate, RACE_ERRORS},
    state::{MarginAccount, Market, ZeroCopyAccount},
    Pubkey,
};
use solana_sdk::{signer::Signer, transaction::Transaction};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct LiquidateConfig {
    /// Re-evaluate at least this often without notifications.
    pub poll: Duration,
    /// Reload every account (getProgramAccounts) this often: subscriptions can miss updates.
    pub rescan: Duration,
    pub priority_fee: u64,
    /// Most liquidations sent per round (largest shortfall first).
    pub max_per_round: usize,
    /// The liquidator's margin account (takes positions, earns the fees).
    pub account: Pubkey,
    /// Run until no account can be liquidated, then exit.
    pub once: bool,
}

/// What the keeper knows: every margin account and market of the exchange, by address.
#[derive(Default)]
struct View {
    accounts: HashMap<Pubkey, MarginAccount>,
    markets: BTreeMap<u16, Market>,
}

/// How an attempt ended.
enum Outcome {
    /// `lots`: those a takeover took (0 for the other stages).
    Landed { earned: u64, lots: u64, latency_slots: u64 },
    /// Another liquidator (or the market) got there first.
    Raced(String),
}

pub async fn run(k: Arc<Keeper>, cfg: LiquidateConfig, metrics: Arc<Metrics>) -> Result<()> {
    let exchange = k.client.exchange(&k.exchange).await?;
    let view = Arc::new(Mutex::new(View::default()));
    let notify = Arc::new(Notify::new());
    if !cfg.once {
        tokio::spawn(subscribe::<MarginAccount>(k.clone(), MarginAccount::SPACE, view.clone(), notify.clone(), metrics.clone()));
        tokio::spawn(subscribe::<Market>(k.clone(), Market::SPACE, view.clone(), notify.clone(), metrics.clone()));
    }
    let mut last_scan: Option<Instant> = None;
    let mut earned_total = 0u64;
    loop {
        if last_scan.is_none_or(|t| t.elapsed() >= cfg.rescan) {
            let started = Instant::now();
            let accounts = k.client.margin_accounts(&k.exchange, None).await?;
            let markets = k.client.markets(&k.exchange).await?;
            let mut v = view.lock().unwrap();
            v.accounts = accounts.into_iter().collect();
            v.markets = markets.into_iter().map(|(_, m)| (m.index, m)).collect();
            metrics.set("meridian_liquidator_scan_seconds", "Duration of the last full account scan.", "", started.elapsed().as_secs_f64());
            last_scan = Some(Instant::now());
        }
        let slot = k.client.rpc().get_slot().await?;
        let (candidates, markets, tracked, rate) = {
            let v = view.lock().unwrap();
            let accounts: Vec<(Pubkey, MarginAccount)> = v.accounts.iter().map(|(a, m)| (*a, *m)).collect();
            let started = Instant::now();
            let ranked = liquidation::rank(&accounts, &v.markets, slot, &[cfg.account]);
            let rate = accounts.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
            (ranked, v.markets.clone(), accounts.len(), rate)
        };
        metrics.set("meridian_liquidator_accounts_tracked", "Margin accounts whose health is tracked.", "", tracked as f64);
        metrics.set("meridian_liquidator_accounts_liquidatable", "Accounts below maintenance that can be acted on now.", "", candidates.len() as f64);
        metrics.set("meridian_liquidator_health_evaluations_per_second", "Accounts evaluated per second in the last ranking.", "", rate);
        for c in candidates.iter().take(cfg.max_per_round) {
            let stage = c.stage.name();
            metrics.add("meridian_liquidator_attempts_total", "Liquidations attempted.", &format!("stage=\"{stage}\""), 1.0);
            match attempt(&k, &cfg, c, &markets, exchange.collateral_decimals).await {
                Ok(Outcome::Landed { earned, lots, latency_slots }) => {
                    earned_total += earned;
                    metrics.add("meridian_liquidator_wins_total", "Liquidations landed.", &format!("stage=\"{stage}\""), 1.0);
                    metrics.add("meridian_liquidator_fees_earned_total", "Fees and discount shares earned, collateral native units.", "", earned as f64);
                    metrics.set("meridian_liquidator_latency_slots", "Slots from the oracle push to the landed liquidation (last one).", "", latency_slots as f64);
                    metrics.add("meridian_liquidator_latency_slots_sum", "Sum of latency slots over landed liquidations.", "", latency_slots as f64);
                    tracing::info!(account = %c.address, stage, lots, earned, earned_total, latency_slots, shortfall = %c.shortfall, "liquidation landed");
                }
                Ok(Outcome::Raced(reason)) => {
                    metrics.add("meridian_liquidator_races_lost_total", "Attempts another liquidator or the market made moot.", &format!("stage=\"{stage}\""), 1.0);
                    tracing::info!(account = %c.address, stage, reason, "nothing to do any more");
                }
                Err(e) => {
                    metrics.add("meridian_liquidator_errors_total", "Attempts that failed for another reason.", &format!("stage=\"{stage}\""), 1.0);
                    tracing::error!(account = %c.address, stage, error = %e, "liquidation failed");
                }
            }
            // the account changed (or someone else changed it): read it again before the next stage
            if let Ok(a) = k.client.margin_account(&c.address).await {
                view.lock().unwrap().accounts.insert(c.address, a);
            }
        }
        if cfg.once && candidates.is_empty() {
            tracing::info!(earned_total, "no account left to liquidate");
            return Ok(());
        }
        if candidates.is_empty() {
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep(cfg.poll) => {}
            }
        } else if cfg.once {
            // let the cluster advance past what was just sent before ranking again
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
}

/// One liquidation: the liquidatee and the liquidator's account read fresh, the stage's
/// instruction simulated, then sent with a compute-unit limit and priority fee.
async fn attempt(k: &Keeper, cfg: &LiquidateConfig, c: &Candidate, markets: &BTreeMap<u16, Market>, decimals: u8) -> Result<Outcome> {
    let liquidatee = k.client.margin_account(&c.address).await?;
    let ours = k.client.margin_account(&cfg.account).await?;
    let ix = liquidation::instruction(&k.exchange, c.stage, (&c.address, &liquidatee), (&cfg.account, &ours), &k.payer.pubkey(), markets)
        .ok_or_else(|| anyhow!("market {} unknown", c.stage.market()))?;
    let mut ixs = meridian_sdk::budget::instructions(c.stage.compute_units(), cfg.priority_fee);
    ixs.push(ix);
    let blockhash = k.client.rpc().get_latest_blockhash().await?;
    let tx = Transaction::new_signed_with_payer(&ixs, Some(&k.payer.pubkey()), &[&k.payer], blockhash);
    let sim = k.client.rpc().simulate_transaction(&tx).await?.value;
    if let Some(err) = &sim.err {
        let logs = sim.logs.unwrap_or_default();
        return match ProgramFailure::from_transaction_error(&err.clone().into(), &logs) {
            Some(f) if RACE_ERRORS.contains(&f.name.as_str()) => Ok(Outcome::Raced(f.name)),
            Some(f) => Err(anyhow!("simulation: {f}")),
            None => Err(anyhow!("simulation: {err:?}")),
        };
    }
    // stage 2 returns the lots it takes
    let lots = sim
        .return_data
        .and_then(|r| base64_decode(&r.data.0))
        .and_then(|b| b.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap())))
        .unwrap_or(0);
    // the simulated transaction itself: no second blockhash fetch or preflight on the way to landing
    let signature = match k.client.send_signed(&tx, false).await {
        Ok(s) => s,
        Err(e) => {
            return match e.program_error_name() {
                Some(name) if RACE_ERRORS.contains(&name) => Ok(Outcome::Raced(name.to_string())),
                _ => Err(e.into()),
            }
        }
    };
    let landed = k.client.rpc().get_signature_statuses(&[signature]).await?.value[0].as_ref().map_or(0, |s| s.slot);
    // the price that made it liquidatable: the latest push among its markets
    let pushed = liquidatee
        .positions_in_use()
        .filter_map(|p| markets.get(&p.market_index))
        .filter(|m| m.has_oracle())
        .map(|m| m.oracle_slot)
        .max()
        .unwrap_or(landed);
    let earned = liquidation::earnings(c.stage, lots, &liquidatee, markets, decimals);
    Ok(Outcome::Landed { earned, lots, latency_slots: landed.saturating_sub(pushed) })
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Keeps `view` current from a programSubscribe on the exchange's accounts of type `T`; wakes the
/// ranking on each update. Reconnects with backoff.
async fn subscribe<T: ZeroCopyAccount + Send + 'static>(
    k: Arc<Keeper>,
    space: usize,
    view: Arc<Mutex<View>>,
    notify: Arc<Notify>,
    metrics: Arc<Metrics>,
) where
    View: Apply<T>,
{
    let labels = format!("accounts=\"{}\"", std::any::type_name::<T>().rsplit("::").next().unwrap_or("?"));
    let mut delay = Duration::from_millis(500);
    loop {
        let config = program_accounts_config::<T>(space, &k.exchange, k.client.rpc().commitment());
        match solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(k.ws_url.as_str()).await {
            Ok(client) => match client.program_subscribe(&meridian_sdk::PROGRAM_ID, Some(config)).await {
                Ok((mut stream, _unsubscribe)) => {
                    delay = Duration::from_millis(500);
                    metrics.set("meridian_liquidator_subscribed", "1 while the websocket subscription is live.", &labels, 1.0);
                    while let Some(update) = stream.next().await {
                        let (Ok(address), Some(data)) = (update.value.pubkey.parse::<Pubkey>(), update.value.account.data.decode()) else {
                            continue;
                        };
                        if let Ok(decoded) = T::decode(&data) {
                            view.lock().unwrap().apply(address, decoded);
                            notify.notify_one();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "program subscription failed; polling meanwhile"),
            },
            Err(e) => tracing::warn!(error = %e, "websocket connect failed; polling meanwhile"),
        }
        metrics.set("meridian_liquidator_subscribed", "1 while the websocket subscription is live.", &labels, 0.0);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

trait Apply<T> {
    fn apply(&mut self, address: Pubkey, value: T);
}

impl Apply<MarginAccount> for View {
    fn apply(&mut self, address: Pubkey, value: MarginAccount) {
        self.accounts.insert(address, value);
    }
}

impl Apply<Market> for View {
    fn apply(&mut self, _: Pubkey, value: Market) {
        self.markets.insert(value.index, value);
    }
}
