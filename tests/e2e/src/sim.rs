//! Simulated traders for the demo: a market maker per market quoting both sides around the mid
//! (the simulated oracle's price path; requoting with `replace_order`), and takers crossing the
//! spread with IOC orders.

use meridian_sdk::{
    client::Client,
    ix::{self, MarketAccounts},
    order::{self, OrderExt, Side},
    pda, Pubkey,
};
use solana_sdk::{signature::Keypair, signer::Signer};
use std::{
    sync::{
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

/// xorshift: deterministic and dependency-free.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

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

/// Quotes `size_lots` on both sides at mid +- 5 bp, requoting every `period`, for `margin`, signed
/// by `signer` (its owner or its trading delegate: a quoting key that cannot withdraw).
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
    let mut live: Vec<[Option<u64>; 2]> = vec![[None, None]; markets.len()];
    while !stop.load(Ordering::Relaxed) {
        for (i, m) in markets.iter().enumerate() {
            if !m.trading() {
                continue;
            }
            let mid = m.mid.load(Ordering::Relaxed);
            let Ok(account) = client.margin_account(&margin).await else { continue };
            let health = ix::health_markets(&exchange, &account, Some(m.index));
            for (s, side) in [Side::Bid, Side::Ask].into_iter().enumerate() {
                let price = if side == Side::Bid { mid.saturating_sub(5 * m.bp).max(1) } else { mid + 5 * m.bp };
                let args = order::limit(side, price, size_lots).post_only_slide();
                // requote if our order is still there, else place anew
                let still_open = live[i][s].filter(|seq| account.find_order(m.index, *seq).is_some());
                let place = ix::place_order(&m.accounts, &margin, &signer.pubkey(), args, &health);
                let mut sent = match still_open {
                    Some(seq) => {
                        let ix = ix::replace_order(&m.accounts, &margin, &signer.pubkey(), seq, args, &health);
                        client.send(&[ix], &signer, &[]).await
                    }
                    None => client.send(&[place.clone()], &signer, &[]).await,
                };
                // the quote was filled since we looked (its fill may still wait for the crank):
                // nothing to replace, so quote anew, as a market maker would
                if still_open.is_some()
                    && sent.as_ref().err().and_then(|e| e.program_error_name()) == Some("OrderNotFound")
                {
                    sent = client.send(&[place], &signer, &[]).await;
                }
                match sent {
                    Ok(_) => {
                        let r = client.margin_account(&margin).await.map(|a| a.last_placement).unwrap_or_default();
                        live[i][s] = (r.posted_lots > 0).then_some(r.order_seq);
                        stats.quotes.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        live[i][s] = None;
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                        tracing_log(&format!("maker {}: {e}", m.name));
                    }
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
    let mut rng = Rng(seed);
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
            let ix = ix::place_order(
                &m.accounts,
                &margin,
                &owner.pubkey(),
                order::limit(side, price, lots).immediate_or_cancel(),
                &health,
            );
            match client.send(&[ix], &owner, &[]).await {
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
