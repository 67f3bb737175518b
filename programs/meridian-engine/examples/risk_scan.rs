//! Off-chain margin scan benchmark: 100,000 synthetic accounts over two underlyings, judged by the
//! per-market rule (`margin::health`, what the program enforces today) and by the portfolio engine
//! (`portfolio::portfolio_health_cached`, lot risks computed once per market as a liquidator's scan
//! does). Single thread: the figures are per core.
//!
//!   cargo run --release -p meridian-engine --example risk_scan [-- bench/RISK_SCAN.md]

use meridian_engine::margin::{self, MarketRisk};
use meridian_engine::portfolio::{self, Holding, Instrument, LotRisk, LotScale, RiskParams, Underlying};
use meridian_engine::position::Position;
use meridian_engine::pricing::{OptionKind, ONE};
use meridian_engine::units::Ticks;
use std::time::Instant;

const ACCOUNTS: usize = 100_000;
const NOW: i64 = 1_700_000_000;

struct Market {
    instrument: Instrument,
    scale: LotScale,
    mark: i128,
    risk: MarketRisk,
}

/// xorshift: reproducible accounts without a dependency.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn markets(spot: i128, lot: u64) -> Vec<Market> {
    let scale = LotScale { quote_decimals: 6, base_decimals: 8, base_lot_size: lot };
    let linear = |mark: i128| Market {
        instrument: Instrument::Linear,
        scale,
        mark,
        risk: MarketRisk { mark: Ticks(1), tick_size: 1, initial_bps: 1_000, maintenance_bps: 500, funding_index: 0 },
    };
    let mut out: Vec<Market> = (0..4).map(|i| linear(spot + spot * i / 200)).collect(); // perp + 3 futures
    for (k, kind) in [(95, OptionKind::Put), (100, OptionKind::Call), (100, OptionKind::Put), (110, OptionKind::Call)] {
        out.push(Market {
            instrument: Instrument::Option { kind, strike: spot * k / 100, expiry_ts: NOW + 30 * 86_400 },
            scale,
            mark: spot / 20,
            risk: MarketRisk { mark: Ticks(1), tick_size: 1, initial_bps: 1_000, maintenance_bps: 500, funding_index: 0 },
        });
    }
    out
}

fn main() {
    let out_path = std::env::args().nth(1);
    let params = RiskParams::standard();
    let underlyings = [
        (Underlying { spot: 65_000 * ONE, vol: ONE * 6 / 10, now_ts: NOW }, markets(65_000 * ONE, 10_000)),
        (Underlying { spot: 3_500 * ONE, vol: ONE * 7 / 10, now_ts: NOW }, markets(3_500 * ONE, 100_000)),
    ];
    let t = Instant::now();
    let risks: Vec<Vec<LotRisk>> = underlyings
        .iter()
        .map(|(u, ms)| ms.iter().map(|m| portfolio::lot_risk(&m.instrument, &m.scale, u, &params.grid).unwrap()).collect())
        .collect();
    let lot_risk_time = t.elapsed();

    // accounts: 30% hold 16 positions (8 options + 8 linear over both underlyings), 70% 1-4 linear
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let accounts: Vec<Vec<(usize, usize, Holding)>> = (0..ACCOUNTS)
        .map(|_| {
            let full = rng.below(10) < 3;
            let picks: Vec<(usize, usize)> = if full {
                (0..2).flat_map(|u| (0..8).map(move |m| (u, m))).collect()
            } else {
                (0..1 + rng.below(4)).map(|_| (rng.below(2) as usize, rng.below(4) as usize)).collect()
            };
            picks
                .into_iter()
                .map(|(u, m)| {
                    let mk = &underlyings[u].1[m];
                    let lots = rng.below(200) as i64 - 100;
                    let h = Holding {
                        instrument: mk.instrument,
                        scale: mk.scale,
                        base_lots: lots,
                        quote_balance: -(mk.scale.value(mk.mark, lots as i128).unwrap() as i64),
                        bid_lots: rng.below(20),
                        ask_lots: rng.below(20),
                        bid_notional: 1_000,
                        ask_notional: 1_000,
                        mark: mk.mark,
                    };
                    (u, m, h)
                })
                .collect()
        })
        .collect();

    let t = Instant::now();
    let mut checksum = 0i128;
    for a in &accounts {
        let positions: Vec<(Position, MarketRisk)> = a
            .iter()
            .map(|(u, m, h)| {
                let mut p = Position::new(0);
                p.base_lots = h.base_lots;
                p.quote_balance = h.quote_balance;
                p.bid_lots = h.bid_lots;
                p.ask_lots = h.ask_lots;
                (p, underlyings[*u].1[*m].risk)
            })
            .collect();
        checksum += margin::health(1_000_000_000, positions.iter().map(|(p, r)| (p, r))).maintenance;
    }
    let per_market = t.elapsed();

    let t = Instant::now();
    for a in &accounts {
        let mut groups: Vec<(Underlying, Vec<(&Holding, &LotRisk)>)> =
            underlyings.iter().map(|(u, _)| (*u, Vec::new())).collect();
        for (u, m, h) in a {
            groups[*u].1.push((h, &risks[*u][*m]));
        }
        groups.retain(|(_, hs)| !hs.is_empty());
        checksum += portfolio::portfolio_health_cached(1_000_000_000, &groups, &params).unwrap().maintenance;
    }
    let portfolio_time = t.elapsed();

    let rate = |d: std::time::Duration| ACCOUNTS as f64 / d.as_secs_f64();
    let report = format!(
        "# Off-chain margin scan\n\n\
         `cargo run --release -p meridian-engine --example risk_scan -- bench/RISK_SCAN.md` on this machine\n\
         (one thread; {ACCOUNTS} synthetic accounts over two underlyings with a perpetual, three futures and\n\
         four options each; 30% of the accounts hold 16 positions: 8 options + 8 linear, the rest 1-4\n\
         linear positions; every position with resting orders on both sides).\n\n\
         | step | time | accounts per second per core |\n| --- | ---: | ---: |\n\
         | lot risks of the 16 markets (27 scenarios + greeks each, once per scan) | {:.1} ms | |\n\
         | per-market rule (`margin::health`, enforced on-chain today) | {:.1} ms | {:.0} |\n\
         | portfolio engine (`portfolio::portfolio_health_cached`) | {:.1} ms | {:.0} |\n\n\
         (checksum {checksum})\n",
        lot_risk_time.as_secs_f64() * 1e3,
        per_market.as_secs_f64() * 1e3,
        rate(per_market),
        portfolio_time.as_secs_f64() * 1e3,
        rate(portfolio_time),
    );
    print!("{report}");
    if let Some(path) = out_path {
        std::fs::write(&path, report).expect("write the report");
        println!("wrote {path}");
    }
}
