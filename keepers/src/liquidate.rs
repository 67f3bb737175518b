//! Liquidator role: finds every margin account of the exchange (getProgramAccounts, then a
//! programSubscribe on margin accounts and on markets at `processed` commitment, so an oracle push
//! or a fill reaches it in the slot it lands), keeps their health with the SDK's engine (the
//! program's own code), ranks those below maintenance by shortfall and sends the stage each needs
//! (`meridian_sdk::liquidation`), with a compute-unit limit and priority fee.
//!
//! Built for latency: the ranking acts on the subscribed state (no re-read), the blockhash is
//! cached, and each attempt runs on its own task, so no account waits for another's confirmation.
//! Each attempt is simulated first: an account another liquidator already fixed fails simulation
//! with a race error and costs nothing; the simulated transaction is then sent as is. An account
//! with an attempt in flight is not attempted again until that one lands or fails. Earnings (stage
//! 1 fees, stage 2 discount shares) go to the liquidator's margin account.

use crate::{backoff::Backoff, metrics::Metrics, Keeper};
use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use meridian_sdk::{
    client::{program_accounts_config, Client},
    error::ProgramFailure,
    liquidation::{self, Candidate, Stage, RACE_ERRORS},
    state::{MarginAccount, Market, ZeroCopyAccount},
    Pubkey,
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{hash::Hash, signer::Signer, transaction::Transaction};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct LiquidateConfig {
    /// Re-evaluate at least this often without notifications.
    pub poll: Duration,
    /// Most liquidations in flight at once (largest shortfall first).
    pub max_per_round: usize,
    /// The liquidator's margin account (takes positions, earns the fees).
    pub account: Pubkey,
    /// Run until no account can be liquidated, then exit.
    pub once: bool,
    /// Close what a takeover took on the book (reduce-only IOC at most this much worse than the
    /// mark, bps); None: keep it.
    pub close_slippage_bps: Option<u32>,
}

/// What the keeper knows: every margin account and market of the exchange, by address.
#[derive(Default)]
struct View {
    accounts: HashMap<Pubkey, MarginAccount>,
    markets: BTreeMap<u16, Market>,
}

/// An account below maintenance, from the ranking that first found it until it leaves the ranking:
/// the latency of its first landed liquidation is measured from `push_slot`, the latest oracle push
/// among its markets when it was found.
struct Episode {
    push_slot: u64,
    measured: bool,
}

/// State shared by the ranking loop, the subscriptions and the attempts in flight.
struct Shared {
    k: Arc<Keeper>,
    /// At `processed` commitment: reads, simulations and statuses as of the newest slot.
    fast: Client,
    cfg: LiquidateConfig,
    metrics: Arc<Metrics>,
    view: Mutex<View>,
    /// Wakes the ranking: an account or market changed, or an attempt ended.
    notify: Notify,
    /// Accounts not to attempt before the instant (an attempt in flight, or one that just failed).
    hold: Mutex<HashMap<Pubkey, Instant>>,
    episodes: Mutex<HashMap<Pubkey, Episode>>,
    blockhash: Mutex<Option<(Hash, Instant)>>,
    earned_total: AtomicU64,
    decimals: u8,
    /// Attempts running (a stop waits for them).
    in_flight: AtomicU64,
    /// Closing orders go one at a time: each reads its fill from the account's `last_placement`,
    /// which the next placement overwrites (they are off the latency path).
    closing: tokio::sync::Mutex<()>,
}

/// How an attempt ended.
enum Outcome {
    /// `lots`: those a takeover took (0 for the other stages); `long`: the side the liquidator got.
    Landed { earned: u64, lots: u64, slot: u64, long: bool },
    /// Another liquidator (or the market) got there first.
    Raced(String),
}

/// A blockhash is reused this long (they stay valid ~60 s; a fresh one per attempt costs a round
/// trip on the latency path).
const BLOCKHASH_TTL: Duration = Duration::from_secs(10);
/// An attempt not seen landed by then is given up (its blockhash may still land it; the ranking
/// sees the result either way).
const LAND_TIMEOUT: Duration = Duration::from_secs(30);
/// A closing order: the margin check of up to 16 positions (~24k) and up to 64 makers filled.
const CLOSE_COMPUTE_UNITS: u32 = 120_000;

/// The component name of the ranking loop (`/health`).
pub const COMPONENT: &str = "liquidator";

pub async fn run(k: Arc<Keeper>, cfg: LiquidateConfig) -> Result<()> {
    let metrics = k.metrics.clone();
    let Some(exchange) = k.retry("read the exchange", || k.client.exchange(&k.exchange)).await? else {
        return Ok(());
    };
    let fast = Client::new(k.client.rpc().url(), CommitmentConfig::processed());
    let s = Arc::new(Shared {
        k: k.clone(),
        fast,
        cfg: cfg.clone(),
        metrics: metrics.clone(),
        view: Mutex::new(View::default()),
        notify: Notify::new(),
        hold: Mutex::new(HashMap::new()),
        episodes: Mutex::new(HashMap::new()),
        blockhash: Mutex::new(None),
        earned_total: AtomicU64::new(0),
        decimals: exchange.collateral_decimals,
        in_flight: AtomicU64::new(0),
        closing: tokio::sync::Mutex::new(()),
    });
    if !cfg.once {
        tokio::spawn(subscribe::<MarginAccount>(s.clone(), MarginAccount::SPACE));
        tokio::spawn(subscribe::<Market>(s.clone(), Market::SPACE));
    }
    metrics.health.watch(COMPONENT);
    let mut last_scan: Option<Instant> = None;
    let mut failures = 0u32;
    loop {
        if k.shutdown.is_set() {
            let waiting = s.in_flight.load(Ordering::Relaxed);
            tracing::info!(in_flight = waiting, "stopping: letting the liquidations in flight land");
            let deadline = Instant::now() + LAND_TIMEOUT + Duration::from_secs(10);
            while s.in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return Ok(());
        }
        // an RPC failure here is retried with backoff (the view and the attempts in flight stay)
        if last_scan.is_none_or(|t| t.elapsed() >= k.rescan) {
            let started = Instant::now();
            match tokio::try_join!(s.fast.margin_accounts(&k.exchange, None), s.fast.markets(&k.exchange)) {
                Ok((accounts, markets)) => {
                    let mut v = s.view.lock().unwrap();
                    v.accounts = accounts.into_iter().collect();
                    v.markets = markets.into_iter().map(|(_, m)| (m.index, m)).collect();
                    metrics.set(
                        "meridian_liquidator_scan_seconds",
                        "Duration of the last full account scan.",
                        &[],
                        started.elapsed().as_secs_f64(),
                    );
                    last_scan = Some(Instant::now());
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    k.rpc_failure("scan", &e);
                    let wait = Backoff::RPC.next(failures);
                    if last_scan.is_some() {
                        // keep the subscribed view; the next rescan is after the backoff
                        tracing::warn!(error = %e, ?wait, "rescan failed; keeping the subscribed view");
                        last_scan = Some(
                            Instant::now().checked_sub(k.rescan.saturating_sub(wait)).unwrap_or_else(Instant::now),
                        );
                    } else {
                        tracing::warn!(error = %e, ?wait, "initial scan failed; retrying");
                        k.shutdown.sleep(wait).await;
                        continue;
                    }
                }
            }
        }
        let slot = match s.fast.rpc().get_slot().await {
            Ok(slot) => {
                failures = 0;
                metrics.health.progress(COMPONENT);
                slot
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                k.rpc_failure("get slot", &e);
                let wait = Backoff::RPC.next(failures).max(cfg.poll);
                tracing::warn!(error = %e, ?wait, "getSlot failed; retrying");
                k.shutdown.sleep(wait).await;
                continue;
            }
        };
        let (candidates, tracked, rate) = {
            let v = s.view.lock().unwrap();
            let accounts: Vec<(Pubkey, MarginAccount)> = v.accounts.iter().map(|(a, m)| (*a, *m)).collect();
            let started = Instant::now();
            let ranked = liquidation::rank(&accounts, &v.markets, slot, &[cfg.account], &s.k.payer.pubkey());
            let rate = accounts.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
            s.track_episodes(&ranked, &v);
            (ranked, accounts.len(), rate)
        };
        metrics.set(
            "meridian_liquidator_accounts_tracked",
            "Margin accounts whose health is tracked.",
            &[],
            tracked as f64,
        );
        metrics.set(
            "meridian_liquidator_accounts_liquidatable",
            "Accounts below maintenance that can be acted on now.",
            &[],
            candidates.len() as f64,
        );
        metrics.set(
            "meridian_liquidator_health_evaluations_per_second",
            "Accounts evaluated per second in the last ranking.",
            &[],
            rate,
        );
        let now = Instant::now();
        let in_flight = {
            let mut hold = s.hold.lock().unwrap();
            hold.retain(|_, until| *until > now);
            let mut started = hold.len();
            for c in &candidates {
                if started >= cfg.max_per_round || hold.contains_key(&c.address) {
                    continue;
                }
                hold.insert(c.address, now + LAND_TIMEOUT + Duration::from_secs(5));
                started += 1;
                let push_slot = s.episodes.lock().unwrap().get(&c.address).filter(|e| !e.measured).map(|e| e.push_slot);
                s.in_flight.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(attempt_and_report(s.clone(), *c, push_slot));
            }
            hold.len()
        };
        if cfg.once && candidates.is_empty() && in_flight == 0 {
            tracing::info!(earned_total = s.earned_total.load(Ordering::Relaxed), "no account left to liquidate");
            return Ok(());
        }
        tokio::select! {
            _ = s.notify.notified() => {}
            _ = tokio::time::sleep(cfg.poll) => {}
            _ = k.shutdown.wait() => {}
        }
    }
}

impl Shared {
    /// Opens an episode for each account newly below maintenance, closes those that left.
    fn track_episodes(&self, ranked: &[Candidate], v: &View) {
        let mut episodes = self.episodes.lock().unwrap();
        episodes.retain(|a, _| ranked.iter().any(|c| c.address == *a));
        for c in ranked {
            episodes.entry(c.address).or_insert_with(|| {
                let push_slot = v.accounts.get(&c.address).map_or(0, |a| {
                    a.positions_in_use()
                        .filter_map(|p| v.markets.get(&p.market_index))
                        .map(|m| m.oracle_push_slot)
                        .max()
                        .unwrap_or(0)
                });
                Episode { push_slot, measured: false }
            });
        }
    }

    /// A recent blockhash, fetched again once older than [`BLOCKHASH_TTL`].
    async fn blockhash(&self) -> Result<Hash> {
        if let Some((hash, at)) = *self.blockhash.lock().unwrap() {
            if at.elapsed() < BLOCKHASH_TTL {
                return Ok(hash);
            }
        }
        let hash = self.k.client.rpc().get_latest_blockhash().await?;
        *self.blockhash.lock().unwrap() = Some((hash, Instant::now()));
        Ok(hash)
    }

    /// Reads `address` again into the view (after an attempt, whatever happened to it).
    async fn refresh(&self, address: &Pubkey) {
        if let Ok(a) = self.fast.margin_account(address).await {
            self.view.lock().unwrap().accounts.insert(*address, a);
        }
    }
}

/// One attempt on its own task: counted, logged, and the account released for the next ranking.
/// `push_slot`: the episode's, while its latency is still to be measured (the subscription may show
/// the account healthy, closing the episode, before the attempt sees its own transaction land).
async fn attempt_and_report(s: Arc<Shared>, c: Candidate, push_slot: Option<u64>) {
    let stage = c.stage.name();
    let m = &s.metrics;
    let stage_label: &[(&str, &str)] = &[("stage", stage)];
    m.add("meridian_liquidator_attempts_total", "Liquidations attempted.", stage_label, 1.0);
    let result = attempt(&s, &c).await;
    let retry_after = match &result {
        Ok(Outcome::Landed { earned, lots, slot, long }) => {
            let total = s.earned_total.fetch_add(*earned, Ordering::Relaxed) + earned;
            m.add("meridian_liquidator_wins_total", "Liquidations landed.", stage_label, 1.0);
            m.add(
                "meridian_liquidator_fees_earned_total",
                "Fees and discount shares earned, collateral native units.",
                &[],
                *earned as f64,
            );
            let latency = push_slot.filter(|p| *p > 0).map(|p| slot.saturating_sub(p));
            if let Some(e) = s.episodes.lock().unwrap().get_mut(&c.address) {
                e.measured = true;
            }
            if let Some(l) = latency {
                m.observe(
                    "meridian_liquidator_latency_slots",
                    "Slots from the oracle push that made an account liquidatable to its first landed liquidation.",
                    &[],
                    crate::metrics::SLOT_BUCKETS,
                    l as f64,
                );
                m.set("meridian_liquidator_latency_slots_last", "The last of those latencies, slots.", &[], l as f64);
            }
            tracing::info!(account = %c.address, stage, lots, earned, earned_total = total, slot, latency_slots = ?latency, shortfall = %c.shortfall, "liquidation landed");
            if let (Some(bps), Stage::TakePosition { market, .. }, true) =
                (s.cfg.close_slippage_bps, c.stage, *lots > 0)
            {
                close_taken(&s, market, *long, *lots, bps).await;
            }
            Duration::ZERO
        }
        Ok(Outcome::Raced(reason)) => {
            m.add(
                "meridian_liquidator_races_lost_total",
                "Attempts another liquidator or the market made moot.",
                stage_label,
                1.0,
            );
            tracing::info!(account = %c.address, stage, reason, "nothing to do any more");
            Duration::ZERO
        }
        Err(e) => {
            m.add("meridian_liquidator_errors_total", "Attempts that failed for another reason.", stage_label, 1.0);
            tracing::error!(account = %c.address, stage, error = %e, "liquidation failed");
            s.cfg.poll
        }
    };
    // the account changed (or someone else changed it): read it (and ours) before the next stage
    s.refresh(&c.address).await;
    s.refresh(&s.cfg.account).await;
    s.hold.lock().unwrap().insert(c.address, Instant::now() + retry_after);
    s.in_flight.fetch_sub(1, Ordering::Relaxed);
    s.notify.notify_one();
}

/// One liquidation from the view's state: the stage's instruction simulated at `processed`, then
/// sent as simulated (no preflight) and followed until it lands.
async fn attempt(s: &Shared, c: &Candidate) -> Result<Outcome> {
    let (liquidatee, ours, markets) = {
        let v = s.view.lock().unwrap();
        let ours = v.accounts.get(&s.cfg.account).copied();
        (v.accounts.get(&c.address).copied(), ours, v.markets.clone())
    };
    let liquidatee = liquidatee.ok_or_else(|| anyhow!("account {} left the view", c.address))?;
    let ours = match ours {
        Some(a) => a,
        None => s.fast.margin_account(&s.cfg.account).await?,
    };
    let k = &s.k;
    let ix = liquidation::instruction(
        &k.exchange,
        c.stage,
        (&c.address, &liquidatee),
        (&s.cfg.account, &ours),
        &k.payer.pubkey(),
        &markets,
    )
    .ok_or_else(|| anyhow!("market {} unknown", c.stage.market()))?;
    let fee = k.priority_fee(std::slice::from_ref(&ix)).await;
    let mut ixs = meridian_sdk::budget::instructions(c.stage.compute_units(), fee);
    ixs.push(ix);
    let tx = Transaction::new_signed_with_payer(&ixs, Some(&k.payer.pubkey()), &[&k.payer], s.blockhash().await?);
    let sim = s.fast.rpc().simulate_transaction(&tx).await?.value;
    if let Some(err) = &sim.err {
        let logs = sim.logs.unwrap_or_default();
        return match ProgramFailure::from_transaction_error(&err.clone().into(), &logs) {
            Some(f) if RACE_ERRORS.contains(&f.name.as_str()) => Ok(Outcome::Raced(f.name)),
            Some(f) => Err(anyhow!("simulation: {f}")),
            None => Err(anyhow!("simulation: {err:?}")),
        };
    }
    // stage 2 returns the lots it takes
    let lots = match c.stage {
        Stage::TakePosition { .. } => sim
            .return_data
            .and_then(|r| base64_decode(&r.data.0))
            .and_then(|b| b.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap())))
            .unwrap_or(0),
        _ => 0,
    };
    let sent = Instant::now();
    let signature = s.fast.send_unconfirmed(&tx).await?;
    let (slot, failure) = s
        .fast
        .landed(&signature, Duration::from_millis(50), LAND_TIMEOUT)
        .await?
        .ok_or_else(|| anyhow!("{signature} not seen within {LAND_TIMEOUT:?}"))?;
    k.record_tx(failure.as_ref(), sent.elapsed());
    if let Some(e) = failure {
        return match e.program_error_name() {
            Some(name) if RACE_ERRORS.contains(&name) => Ok(Outcome::Raced(name.to_string())),
            _ => Err(e.into()),
        };
    }
    let earned = liquidation::earnings(c.stage, lots, &liquidatee, &markets, s.decimals);
    let long = liquidatee.find_position(c.stage.market()).is_some_and(|i| liquidatee.position(i).base_lots > 0);
    Ok(Outcome::Landed { earned, lots, slot, long })
}

/// Sells (or buys back) on the book the `lots` just taken over in `market`, reduce-only and
/// immediate-or-cancel within `bps` of the mark (`liquidation::close_order`); what does not fill
/// stays. Failures are counted and logged: the position is the liquidator's either way.
async fn close_taken(s: &Shared, market: u16, long: bool, lots: u64, bps: u32) {
    let m = &s.metrics;
    m.add("meridian_liquidator_close_attempts_total", "Orders sent to close positions taken over.", &[], 1.0);
    let result: Result<u64> = async {
        let _one_at_a_time = s.closing.lock().await;
        let k = &s.k;
        let address = meridian_sdk::pda::market(&k.exchange, market).0;
        let market_state = s.fast.market(&address).await?;
        let ours = s.fast.margin_account(&s.cfg.account).await?;
        let args = liquidation::close_order(&market_state, long, lots, bps);
        let health = meridian_sdk::ix::health_markets(&k.exchange, &ours, Some(market));
        let ix = meridian_sdk::ix::place_order(
            &meridian_sdk::ix::MarketAccounts::of(address, &market_state),
            &s.cfg.account,
            &k.payer.pubkey(),
            args,
            &health,
        );
        let fee = k.priority_fee(std::slice::from_ref(&ix)).await;
        let sent = Instant::now();
        let result = s.fast.send_with_budget(&[ix], &k.payer, &[], CLOSE_COMPUTE_UNITS, fee).await;
        k.record_tx(result.as_ref().err(), sent.elapsed());
        result?;
        Ok(s.fast.margin_account(&s.cfg.account).await?.last_placement.filled_lots)
    }
    .await;
    match result {
        Ok(filled) => {
            m.add(
                "meridian_liquidator_closed_lots_total",
                "Lots of taken-over positions closed on the book.",
                &[],
                filled as f64,
            );
            tracing::info!(market, lots, filled, slippage_bps = bps, "closed on the book");
        }
        Err(e) => {
            m.add("meridian_liquidator_close_errors_total", "Closing orders that failed.", &[], 1.0);
            tracing::warn!(market, lots, error = %e, "closing order failed; the position stays");
        }
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Keeps the view current from a programSubscribe (at `processed`) on the exchange's accounts of
/// type `T`; wakes the ranking on each update. Reconnects with backoff.
async fn subscribe<T: ZeroCopyAccount + Send + 'static>(s: Arc<Shared>, space: usize)
where
    View: Apply<T>,
{
    let kind = std::any::type_name::<T>().rsplit("::").next().unwrap_or("?");
    let labels: &[(&str, &str)] = &[("accounts", kind)];
    let mut failures = 0u32;
    loop {
        let config = program_accounts_config::<T>(space, &s.k.exchange, CommitmentConfig::processed());
        match solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(s.k.ws_url.as_str()).await {
            Ok(client) => match client.program_subscribe(&meridian_sdk::PROGRAM_ID, Some(config)).await {
                Ok((mut stream, _unsubscribe)) => {
                    failures = 0;
                    s.metrics.set(
                        "meridian_liquidator_subscribed",
                        "1 while the websocket subscription is live.",
                        labels,
                        1.0,
                    );
                    while let Some(update) = stream.next().await {
                        let (Ok(address), Some(data)) =
                            (update.value.pubkey.parse::<Pubkey>(), update.value.account.data.decode())
                        else {
                            continue;
                        };
                        if let Ok(decoded) = T::decode(&data) {
                            s.view.lock().unwrap().apply(address, decoded);
                            s.notify.notify_one();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "program subscription failed; polling meanwhile"),
            },
            Err(e) => tracing::warn!(error = %e, "websocket connect failed; polling meanwhile"),
        }
        s.metrics.set("meridian_liquidator_subscribed", "1 while the websocket subscription is live.", labels, 0.0);
        failures = failures.saturating_add(1);
        if !s.k.shutdown.sleep(Backoff::RPC.next(failures)).await {
            return;
        }
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
