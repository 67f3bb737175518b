//! What every role shares: the RPC client and key, the exchange, metrics and health, the priority
//! fee policy, the stop signal, and the two ways of dealing with a failing RPC node (retry with
//! backoff, count it).

use crate::{backoff::Backoff, fees::FeeEstimator, metrics::Metrics, shutdown::Shutdown};
use meridian_sdk::{
    client::{Client, SdkError},
    state::{Market, ZeroCopyAccount},
    Pubkey,
};
use solana_sdk::{
    instruction::Instruction,
    signature::{Keypair, Signature},
    signer::Signer,
};
use std::{
    fmt::Display,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

pub struct Keeper {
    pub client: Client,
    pub payer: Keypair,
    pub exchange: Pubkey,
    /// The keeper's margin account (crank rewards, liquidation fees).
    pub reward_account: Pubkey,
    pub ws_url: String,
    /// The role's name, the `role` label of the shared metrics.
    pub role: &'static str,
    pub metrics: Arc<Metrics>,
    pub fees: FeeEstimator,
    pub shutdown: Shutdown,
    /// How often the exchange's markets and oracles are listed again.
    pub rescan: Duration,
    /// One pass and exit: failures are returned, not retried.
    pub once: bool,
}

impl Keeper {
    /// The priority fee (micro-lamports per CU) for a transaction of `ixs`, by policy; 0 when an
    /// estimate is needed and the RPC cannot give one (counted).
    pub async fn priority_fee(&self, ixs: &[Instruction]) -> u64 {
        let writable = meridian_sdk::budget::writable_accounts(ixs, &self.payer.pubkey());
        let labels: &[(&str, &str)] = &[("role", self.role)];
        match self.fees.price(&self.client, &writable).await {
            Ok(fee) => {
                self.metrics.set(
                    "meridian_priority_fee_micro_lamports",
                    "Priority fee of the last transaction, micro-lamports per compute unit.",
                    labels,
                    fee as f64,
                );
                fee
            }
            Err(e) => {
                self.metrics.add(
                    "meridian_priority_fee_estimate_failures_total",
                    "getRecentPrioritizationFees calls that failed (the fee fell back to 0).",
                    labels,
                    1.0,
                );
                tracing::warn!(error = %e, "priority fee estimate failed; sending without one");
                0
            }
        }
    }

    /// Sends `ixs` with a compute-unit limit and the priority fee, waits for confirmation, and
    /// records the latency (landed) or the failure.
    pub async fn send(&self, ixs: &[Instruction], units: u32) -> Result<Signature, SdkError> {
        let fee = self.priority_fee(ixs).await;
        let started = Instant::now();
        let result = self.client.send_with_budget(ixs, &self.payer, &[], units, fee).await;
        self.record_tx(result.as_ref().err(), started.elapsed());
        result
    }

    /// Counts a transaction: its latency from send to confirmation if it landed, else its failure.
    pub fn record_tx(&self, failure: Option<&SdkError>, elapsed: Duration) {
        match failure {
            None => self.metrics.observe(
                "meridian_tx_confirm_seconds",
                "Seconds from sending a transaction to its confirmation, landed transactions.",
                &[("role", self.role)],
                crate::metrics::LATENCY_BUCKETS,
                elapsed.as_secs_f64(),
            ),
            Some(e) => {
                let kind = match e {
                    SdkError::Program { .. } => "program",
                    SdkError::Rpc(_) => "rpc",
                    _ => "transaction",
                };
                self.metrics.add(
                    "meridian_tx_failures_total",
                    "Transactions that failed: refused by the program, failed otherwise, or lost to an RPC error.",
                    &[("role", self.role), ("kind", kind)],
                    1.0,
                );
            }
        }
    }

    /// Counts a failed RPC read or round (`op`: what was being done).
    pub fn rpc_failure(&self, op: &'static str, error: &dyn Display) {
        self.metrics.add(
            "meridian_rpc_failures_total",
            "RPC calls or rounds that failed and were retried with backoff.",
            &[("role", self.role), ("op", op)],
            1.0,
        );
        tracing::debug!(op, %error, "RPC failure");
    }

    /// Runs `f` until it succeeds, waiting [`Backoff::RPC`] between failures (each counted).
    /// `Ok(None)`: stopped by a signal meanwhile. With `once`, the first failure is returned.
    pub async fn retry<T, E, Fut>(&self, op: &'static str, mut f: impl FnMut() -> Fut) -> anyhow::Result<Option<T>>
    where
        E: Display + Into<anyhow::Error>,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut failures = 0u32;
        loop {
            if self.shutdown.is_set() {
                return Ok(None);
            }
            match f().await {
                Ok(v) => return Ok(Some(v)),
                Err(e) if self.once => return Err(e.into()),
                Err(e) => {
                    failures = failures.saturating_add(1);
                    self.rpc_failure(op, &e);
                    let wait = Backoff::RPC.next(failures);
                    tracing::warn!(op, error = %e, failures, ?wait, "failed; retrying");
                    if !self.shutdown.sleep(wait).await {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The markets at `addresses`, read now (getMultipleAccounts); addresses that hold no market
    /// any more are left out.
    pub async fn read_markets(&self, addresses: &[Pubkey]) -> Result<Vec<(Pubkey, Market)>, SdkError> {
        let rpc = self.client.rpc();
        let mut out = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(100) {
            let accounts = rpc.get_multiple_accounts_with_commitment(chunk, rpc.commitment()).await?.value;
            for (address, account) in chunk.iter().zip(accounts) {
                let Some(account) = account.filter(|a| a.owner == meridian_sdk::PROGRAM_ID) else { continue };
                if let Ok(m) = Market::decode(&account.data) {
                    out.push((*address, m));
                }
            }
        }
        Ok(out)
    }

    /// Creates the keeper's margin account `sub_account` unless it exists.
    pub async fn ensure_margin_account(&self, sub_account: u16) -> anyhow::Result<Option<Pubkey>> {
        let owner = self.payer.pubkey();
        let account = meridian_sdk::pda::margin_account(&self.exchange, &owner, sub_account).0;
        let created = self
            .retry("margin account", || async {
                if self.client.account_if_exists(&account).await?.is_some() {
                    return Ok::<bool, SdkError>(false);
                }
                let ix = meridian_sdk::ix::create_margin_account(&self.exchange, &owner, &owner, sub_account);
                self.client.send(&[ix], &self.payer, &[]).await.map(|_| true)
            })
            .await?;
        if created == Some(true) {
            tracing::info!(%account, "created the keeper's margin account");
        }
        Ok(created.map(|_| account))
    }
}
