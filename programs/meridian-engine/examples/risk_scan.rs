//! Off-chain margin scan benchmark: 100,000 synthetic accounts over two underlyings, judged by the
//! portfolio engine (`portfolio::Portfolio`, what the program enforces on markets with an oracle,
//! lot risks computed once per market as a liquidator's scan does) and, for comparison, by the
//! per-market rule (`margin::health`, markets without an oracle). Single thread: per core.
//!
//!   cargo run --release -p meridian-engine --example risk_scan [-- bench/RISK_SCAN.md]

use meridian_engine::margin::{self, MarketRisk};
use meridian_engine::portfolio::{Holding, LotRisk, Portfolio, RiskParams};
use meridian_engine::position::Position;
use meridian_engine::pricing::OptionKind;
use meridian_engine::units::Ticks;
use std::time::Instant;

const ACCOUNTS: usize = 100_000;
const NOW: i64 = 1_700_000_000;

/// A market: how to build its lot risk, and its per-market rule.
enum Lot {
    Linear(i64),
    Option { kind: OptionKind, strike: i64 },
}

struct Market {
    lot: Lot,
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

/// A perpetual, three futures and four options on an underlying whose lot is worth `spot` native.
fn markets(spot: i64) -> Vec<Market> {
    let risk = |mark: i64| MarketRisk {
        mark: Ticks(mark as u64),
        tick_size: 1,
        initial_bps: 1_000,
        maintenance_bps: 500,
        funding_index: 0,
        loss_index: 0,
    };
    let mut out: Vec<Market> =
        (0..4).map(|i| Market { lot: Lot::Linear(spot + spot * i / 200), risk: risk(spot) }).collect();
    for (k, kind) in [(95, OptionKind::Put), (100, OptionKind::Call), (100, OptionKind::Put), (110, OptionKind::Call)] {
        out.push(Market { lot: Lot::Option { kind, strike: spot * k / 100 }, risk: risk(spot / 20) });
    }
    out
}

fn main() {
    let out_path = std::env::args().nth(1);
    let params = RiskParams::standard();
    // BTC lots of 0.0001 at 65,000 and ETH lots of 0.001 at 3,500 (6-decimal quote); vol 60%, 70%
    let underlyings = [(6_500_000i64, 600_000_000_000i128), (3_500_000, 700_000_000_000)];
    let markets: Vec<Vec<Market>> = underlyings.iter().map(|(spot, _)| markets(*spot)).collect();
    let t = Instant::now();
    let risks: Vec<Vec<LotRisk>> = underlyings
        .iter()
        .zip(&markets)
        .map(|((spot, vol), ms)| {
            ms.iter()
                .map(|m| match m.lot {
                    Lot::Linear(per_lot) => LotRisk::linear(per_lot, &params.grid).unwrap(),
                    Lot::Option { kind, strike } => {
                        LotRisk::option(kind, *spot, strike, *vol, NOW, NOW + 30 * 86_400, &params.grid).unwrap()
                    }
                })
                .collect()
        })
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
                    let lots = rng.below(200) as i64 - 100;
                    let h = Holding {
                        base_lots: lots,
                        quote_balance: -lots * risks[u][m].now,
                        bid_lots: rng.below(20),
                        ask_lots: rng.below(20),
                        bid_notional: 1_000,
                        ask_notional: 1_000,
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
                (p, markets[*u][*m].risk)
            })
            .collect();
        checksum += margin::health(1_000_000_000, positions.iter().map(|(p, r)| (p, r))).maintenance;
    }
    let per_market = t.elapsed();

    let t = Instant::now();
    for a in &accounts {
        let mut portfolio = Portfolio::with_capacity(2);
        for (u, m, h) in a {
            portfolio.add(*u, h, &risks[*u][*m], &params).unwrap();
        }
        checksum += portfolio.health(1_000_000_000, &params).unwrap().maintenance;
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
         | lot risks of the 16 markets (27 scenarios + greeks each, once per scan; on-chain each option's is stored by `refresh_oracle`) | {:.1} ms | |\n\
         | per-market rule (`margin::health`: markets without an oracle) | {:.1} ms | {:.0} |\n\
         | portfolio engine (`portfolio::Portfolio`: markets with an oracle, as the program checks them) | {:.1} ms | {:.0} |\n\n\
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
