//! What the liquidator keeper does on every wake-up, timed: `meridian_sdk::liquidation::rank` over
//! every margin account of an exchange (the program's health code on the real account and market
//! structs, the next stage of each account below maintenance, sorted by shortfall). 100,000
//! synthetic accounts over two underlyings with a perpetual, three futures and four options each
//! (options with stored lot risks, as `refresh_oracle` leaves them); 30% hold 16 positions, the
//! rest 1-4 linear ones; about 10% are below maintenance. Single thread: per core.
//!
//!   scripts/liquidator-scan.sh   (writes bench/LIQUIDATOR.md)
//!
//! The script runs this example with the three Meridian crates optimized (opt-level 3) in the dev
//! profile, which rebuilds only them rather than a release build of the whole Solana client stack.

use meridian::state::MarketKind;
use meridian::{MarginAccount, Market};
use meridian_engine::portfolio::{LotRisk, RiskParams};
use meridian_engine::pricing::OptionKind;
use meridian_engine::units::{Lots, Side};
use meridian_sdk::liquidation;
use meridian_sdk::Pubkey;
use std::collections::BTreeMap;
use std::time::Instant;

const ACCOUNTS: usize = 100_000;
const NOW: i64 = 1_700_000_000;
const SLOT: u64 = 1_000;

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

/// Eight markets on the underlying with oracle `oracle` and lot value `spot` (quote native units,
/// tick size 1): four linear, four options revalued at volatility `vol` (12 decimals).
fn markets(first: u16, oracle: Pubkey, spot: i64, vol: i128) -> Vec<Market> {
    let grid = RiskParams::standard().grid;
    let base = |index: u16| {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.index = index;
        m.oracle = oracle;
        m.tick_size = 1;
        m.base_lot_size = 1;
        m.initial_margin_bps = 1_000;
        m.maintenance_margin_bps = 500;
        m.oracle_status = meridian::state::OracleStatus::Valid as u8;
        m.oracle_slot = SLOT;
        m.oracle_max_age_slots = 50;
        m
    };
    let mut out: Vec<Market> = (0..4)
        .map(|i| {
            let mut m = base(first + i);
            m.kind = if i == 0 { MarketKind::Perpetual } else { MarketKind::Future } as u8;
            m.mark_price = (spot + spot * i as i64 / 200) as u64;
            m
        })
        .collect();
    for (i, (k, kind)) in
        [(95, OptionKind::Put), (100, OptionKind::Call), (100, OptionKind::Put), (110, OptionKind::Call)]
            .into_iter()
            .enumerate()
    {
        let mut m = base(first + 4 + i as u16);
        m.kind = if kind == OptionKind::Call { MarketKind::Call } else { MarketKind::Put } as u8;
        let risk = LotRisk::option(kind, spot, spot * k / 100, vol, NOW, NOW + 30 * 86_400, &grid).unwrap();
        m.set_lot_risk(&risk);
        m.lot_risk_ts = NOW;
        m.mark_price = risk.now.max(1) as u64;
        out.push(m);
    }
    out
}

fn main() {
    let out_path = std::env::args().nth(1);
    // BTC lots at 6.5 USDC and ETH lots at 3.5 USDC (6-decimal quote); volatility 60% and 70%
    let mut all = markets(0, Pubkey::new_unique(), 6_500_000, 600_000_000_000);
    all.extend(markets(8, Pubkey::new_unique(), 3_500_000, 700_000_000_000));
    let markets: BTreeMap<u16, Market> = all.into_iter().map(|m| (m.index, m)).collect();
    let value = |m: &Market| m.lot_value().unwrap();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let exchange = Pubkey::new_unique();
    let accounts: Vec<(Pubkey, MarginAccount)> = (0..ACCOUNTS)
        .map(|_| {
            let mut a: MarginAccount = bytemuck::Zeroable::zeroed();
            a.exchange = exchange;
            let picks: Vec<u16> = if rng.below(10) < 3 {
                (0..16).collect()
            } else {
                (0..1 + rng.below(4)).map(|_| (rng.below(2) * 8 + rng.below(4)) as u16).collect()
            };
            let mut notional = 0u64;
            for index in picks {
                let m = &markets[&index];
                let lots = 1 + rng.below(100);
                let side = if rng.below(2) == 0 { Side::Bid } else { Side::Ask };
                // entered 2% away from the mark, either way
                let entry = value(m) * (98 + rng.below(5)) / 100;
                let slot = a.position_slot(index, 0).unwrap();
                a.position_mut(slot).apply_fill(side, Lots(lots), lots * entry).unwrap();
                notional += lots * value(m);
            }
            // about one account in ten is short of its maintenance requirement
            a.collateral = (notional / if rng.below(10) == 0 { 100 } else { 5 }) as i64;
            (Pubkey::new_unique(), a)
        })
        .collect();

    let runs = 5;
    let mut best = f64::MAX;
    let mut ranked = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        ranked = liquidation::rank(&accounts, &markets, SLOT, &[], &Pubkey::default());
        best = best.min(t.elapsed().as_secs_f64());
    }
    let stages = |name: &str| ranked.iter().filter(|c| c.stage.name() == name).count();
    let rate = ACCOUNTS as f64 / best;
    let report = format!(
        "# Liquidator ranking\n\n\
         `scripts/liquidator-scan.sh` on this machine (the example `sdk/examples/liquidator_scan.rs`, Meridian's\n\
         crates at opt-level 3; one thread; best of {runs}): what `meridian-keeper liquidate` runs on every wake-up,\n\
         `meridian_sdk::liquidation::rank` over {ACCOUNTS} margin accounts (the program's own health code on the\n\
         account and market structs; 2 underlyings x (perpetual, 3 futures, 4 options); 30% of the accounts\n\
         hold 16 positions, the rest 1-4 linear ones).\n\n\
         | accounts | below maintenance (ranked) | time | accounts per second per core |\n\
         | ---: | ---: | ---: | ---: |\n\
         | {ACCOUNTS} | {} (take_position: {}) | {:.1} ms | {:.0} |\n\n\
         The keeper's gauge `meridian_liquidator_health_evaluations_per_second` reports the same figure live.\n",
        ranked.len(),
        stages("take_position"),
        best * 1e3,
        rate,
    );
    print!("{report}");
    assert!(ranked.len() > ACCOUNTS / 20 && ranked.windows(2).all(|w| w[0].shortfall <= w[1].shortfall));
    if let Some(path) = out_path {
        std::fs::write(&path, report).unwrap();
        eprintln!("wrote {path}");
    }
}
