//! Which markets and oracles the exchange has: listed once per `--rescan-secs` by one task
//! (getProgramAccounts with the size, discriminator and exchange filters) and shared with the
//! role's loops through watch channels, so a market or oracle created after the keeper started is
//! picked up at the next rescan, and no loop lists accounts on every poll. A failed listing is
//! retried with backoff (counted); the last good list stays meanwhile.
//!
//! Lists given on the command line (`--market`, `--oracle`) are fixed: a channel whose value never
//! changes.

use crate::{backoff::Backoff, Keeper};
use meridian_sdk::{
    client::SdkError,
    state::{Market, OracleAggregate},
    Pubkey,
};
use std::sync::Arc;
use tokio::sync::watch;

pub type List<T> = Arc<Vec<(Pubkey, T)>>;

/// The component name the discovery task reports progress under (`/health`).
pub const COMPONENT: &str = "discovery";

pub struct Lists {
    pub markets: watch::Receiver<List<Market>>,
    pub oracles: watch::Receiver<List<OracleAggregate>>,
}

/// A list that never changes.
pub fn fixed<T: Send + Sync + 'static>(list: Vec<(Pubkey, T)>) -> watch::Receiver<List<T>> {
    watch::channel(Arc::new(list)).1
}

/// Starts the rescan task for the lists wanted (an unwanted one stays empty). The first listing
/// starts at once; until it lands the lists are empty.
pub fn start(k: Arc<Keeper>, markets: bool, oracles: bool) -> Lists {
    let (markets_tx, markets_rx) = watch::channel(List::<Market>::default());
    let (oracles_tx, oracles_rx) = watch::channel(List::<OracleAggregate>::default());
    k.metrics.health.watch(COMPONENT);
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let scan = async {
                let m = if markets { Some(k.client.markets(&k.exchange).await?) } else { None };
                let o = if oracles { Some(k.client.oracles(&k.exchange).await?) } else { None };
                Ok::<_, SdkError>((m, o))
            };
            let wait = match scan.await {
                Ok((m, o)) => {
                    failures = 0;
                    let role = [("role", k.role)];
                    // markets first: an oracle's loop finds the markets it prices
                    if let Some(m) = m {
                        k.metrics.set(
                            "meridian_markets_discovered",
                            "Markets of the exchange at the last rescan.",
                            &role,
                            m.len() as f64,
                        );
                        announce("market", &markets_tx, m, meridian_sdk::state::market_name);
                    }
                    if let Some(o) = o {
                        k.metrics.set(
                            "meridian_oracles_discovered",
                            "Oracles of the exchange at the last rescan.",
                            &role,
                            o.len() as f64,
                        );
                        announce("oracle", &oracles_tx, o, |o| meridian_sdk::state::market_name_bytes(&o.name));
                    }
                    k.metrics.health.progress(COMPONENT);
                    k.rescan
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    k.rpc_failure("discovery", &e);
                    let wait = Backoff::RPC.next(failures).min(k.rescan);
                    tracing::warn!(error = %e, failures, ?wait, "listing the exchange's accounts failed; keeping the last list");
                    wait
                }
            };
            if !k.shutdown.sleep(wait).await {
                return;
            }
        }
    });
    Lists { markets: markets_rx, oracles: oracles_rx }
}

/// Waits for the first listing of a discovered list (at once for a fixed one); false if the
/// keeper was stopped meanwhile.
pub async fn first_listing<T>(k: &Keeper, list: &mut watch::Receiver<List<T>>) -> bool {
    if list.borrow().is_empty() {
        tokio::select! {
            _ = list.changed() => {}
            _ = k.shutdown.wait() => return false,
        }
    }
    true
}

/// Publishes a new list, logging what appeared.
fn announce<T>(what: &str, tx: &watch::Sender<List<T>>, list: Vec<(Pubkey, T)>, name: impl Fn(&T) -> String) {
    let known: Vec<Pubkey> = tx.borrow().iter().map(|(a, _)| *a).collect();
    for (address, item) in list.iter().filter(|(a, _)| !known.contains(a)) {
        tracing::info!(kind = what, name = %name(item), %address, "discovered");
    }
    tx.send_replace(Arc::new(list));
}
