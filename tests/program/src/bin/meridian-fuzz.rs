//! `meridian-fuzz N [SEED]`: the invariant fuzzer (`meridian_program_tests::fuzz`) for N operations
//! on the SBF binary; prints what ran (successes and errors per instruction) as Markdown. On a
//! violation it prints the shrunk replay and exits 1. `scripts/fuzz.sh` builds and runs it.

use meridian_program_tests::fuzz;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), seed) = (args.get(1).and_then(|s| s.parse::<usize>().ok()), args.get(2)) else {
        eprintln!("usage: meridian-fuzz OPERATIONS [SEED]");
        std::process::exit(2);
    };
    let seed = seed.map_or(Ok(0x4d45_5249_4449_414e), |s| s.parse::<u64>()).unwrap_or_else(|e| {
        eprintln!("SEED: {e}");
        std::process::exit(2)
    });
    let started = Instant::now();
    match fuzz::fuzz(seed, n) {
        Ok(report) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{n} operations, seed {seed}: no violation ({} transactions, {secs:.0} s, {:.0} operations/s)\n",
                report.stats.transactions,
                n as f64 / secs
            );
            println!("{}", report.stats.table());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
