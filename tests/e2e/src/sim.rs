//! Simulated traders for the demo: a market maker quoting a ladder on both sides around each
//! market's mid (the simulated oracle's price path; one `mass_quote` per market and round), and
//! takers crossing the spread with IOC orders.

use meridian_sdk::CancelSide;
use meridian_sdk::{
    client::Client,
    engine::matching::OrderKind,
    ix::{self, MarketAccounts},
    order::{self, OrderExt, Side},
    pda, MassQuoteArgs, Pubkey, QuoteLevel,
};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::{
    sync::{
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

pub use meridian_oracle_sim::path::Rng;

pub struct SimMarket {
    pub accounts: MarketAccounts,
    pub index: u16,
    pub name: String,
    /// Mid price in ticks: the simulated feeds' price path.
    pub mid: AtomicU64,
    /// Ticks per 1 bp of the starting mid (quote spread unit).
    pub bp: u64,
    /// For printing prices and sizes as people read them.
    pub units: meridian_sdk::engine::ui::MarketUnits,
    /// Dated markets: expiry (unix seconds; 0 = a perpetual). Nobody trades it from then on.
    pub expiry_ts: i64,
    /// A batch market (orders wait for the auction keeper's clearing): limit orders only.
    pub batch: bool,
}

/// The cluster's unix time as last read (the demo refreshes it every 2 s; the validator's clock
/// need not follow the wall clock).
pub static CHAIN_TS: AtomicI64 = AtomicI64::new(0);

impl SimMarket {
    /// Still trading: a dated market stops a few seconds before its expiry on the cluster's clock.
    pub fn trading(&self) -> bool {
        self.expiry_ts == 0 || CHAIN_TS.load(Ordering::Relaxed) + 3 < self.expiry_ts
    }
}

#[derive(Default)]
pub struct SimStats {
    pub quotes: AtomicU64,
    pub takes: AtomicU64,
    pub filled_lots: AtomicU64,
    pub errors: AtomicU64,
}

/// Quotes `size_lots` at mid +- 5, 10 and 15 bp, requoting every `period` with one mass quote per
/// market, for `margin`, signed by `signer` (its owner or its trading delegate: a quoting key that
/// cannot withdraw).
pub async fn market_maker(
    client: Arc<Client>,
    signer: Keypair,
    margin: Pubkey,
    exchange: Pubkey,
    markets: Arc<Vec<SimMarket>>,
    size_lots: u64,
    period: Duration,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
) {
    while !stop.load(Ordering::Relaxed) {
        for m in markets.iter() {
            if !m.trading() {
                continue;
            }
            let mid = m.mid.load(Ordering::Relaxed);
            let Ok(account) = client.margin_account(&margin).await else { continue };
            let health = ix::health_markets(&exchange, &account, Some(m.index));
            // one instruction per market: cancel the last ladder, post three levels a side, 5, 10
            // and 15 basis points out (a crossing level slides behind the best opposite order)
            let level = |k: u64, side: Side| QuoteLevel {
                price: if side == Side::Bid { mid.saturating_sub(5 * k * m.bp).max(1) } else { mid + 5 * k * m.bp },
                size: size_lots,
            };
            let ixs = if m.batch {
                // a batch market takes limit orders, in the auction collecting now: cancel the
                // last ladder (refused while its auction awaits the clearing: next round then)
                let mut ixs = vec![ix::cancel_all_orders(&m.accounts, &margin, &signer.pubkey(), CancelSide::Both, 0)];
                for side in [Side::Bid, Side::Ask] {
                    for k in 1..=3 {
                        let q = level(k, side);
                        ixs.push(ix::place_order(
                            &m.accounts,
                            &margin,
                            &signer.pubkey(),
                            order::limit(side, q.price, q.size),
                            &health,
                        ));
                    }
                }
                ixs
            } else {
                let args = MassQuoteArgs {
                    cancel_all: true,
                    order_kind: OrderKind::PostOnlySlide.into(),
                    bids: (1..=3).map(|k| level(k, Side::Bid)).collect(),
                    asks: (1..=3).map(|k| level(k, Side::Ask)).collect(),
                    ..MassQuoteArgs::default()
                };
                vec![ix::mass_quote(&m.accounts, &margin, &signer.pubkey(), args, &health)]
            };
            match client.send(&ixs, &signer, &[]).await {
                Ok(_) => {
                    stats.quotes.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing_log(&format!("maker {}: {e}", m.name));
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}

/// Crosses the spread now and then with small IOC orders, alternating sides at random.
pub async fn taker(
    client: Arc<Client>,
    owner: Keypair,
    exchange: Pubkey,
    markets: Arc<Vec<SimMarket>>,
    max_lots: u64,
    period: Duration,
    stop: Arc<AtomicBool>,
    stats: Arc<SimStats>,
    seed: u64,
) {
    let margin = pda::margin_account(&exchange, &owner.pubkey(), 0).0;
    let mut rng = Rng::new(seed);
    while !stop.load(Ordering::Relaxed) {
        let m = &markets[rng.below(markets.len() as u64) as usize];
        if !m.trading() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let mid = m.mid.load(Ordering::Relaxed);
        let side = if rng.below(2) == 0 { Side::Bid } else { Side::Ask };
        let price = if side == Side::Bid { mid + 20 * m.bp } else { mid.saturating_sub(20 * m.bp).max(1) };
        let lots = 1 + rng.below(max_lots);
        if let Ok(account) = client.margin_account(&margin).await {
            let health = ix::health_markets(&exchange, &account, Some(m.index));
            // a batch market's order waits for the auction: a limit order, whose remainder the
            // taker pulls with its next order there
            let ixs = if m.batch {
                vec![
                    ix::cancel_all_orders(&m.accounts, &margin, &owner.pubkey(), CancelSide::Both, 0),
                    ix::place_order(&m.accounts, &margin, &owner.pubkey(), order::limit(side, price, lots), &health),
                ]
            } else {
                let o = order::limit(side, price, lots).immediate_or_cancel();
                vec![ix::place_order(&m.accounts, &margin, &owner.pubkey(), o, &health)]
            };
            match client.send(&ixs, &owner, &[]).await {
                Ok(_) => {
                    stats.takes.fetch_add(1, Ordering::Relaxed);
                    let r = client.margin_account(&margin).await.map(|a| a.last_placement).unwrap_or_default();
                    stats.filled_lots.fetch_add(r.filled_lots, Ordering::Relaxed);
                }
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing_log(&format!("taker {}: {e}", m.name));
                }
            }
        }
        tokio::time::sleep(period + Duration::from_millis(rng.below(period.as_millis() as u64 + 1))).await;
    }
}

fn tracing_log(line: &str) {
    if std::env::var_os("MERIDIAN_DEMO_VERBOSE").is_some() {
        eprintln!("{line}");
    }
}
