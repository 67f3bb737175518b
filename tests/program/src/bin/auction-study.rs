//! Writes bench/AUCTION.md: a maker's loss to snipers in continuous and batch markets.
//! Usage: `auction-study [SEED [ROUNDS [MAX_JUMP_TICKS [OUTPUT]]]]` (defaults 20261202 400 400 bench/AUCTION.md)
use meridian_program_tests::auction_study;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg =
        |i: usize, default: u64| args.get(i).map_or(Ok(default), |a| a.parse::<u64>()).map_err(anyhow::Error::from);
    let (seed, rounds, max_jump) = (arg(0, 20_261_202)?, arg(1, 400)?, arg(2, 400)?);
    let out = args
        .get(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/AUCTION.md"));
    let md = auction_study::report(seed, u32::try_from(rounds)?, max_jump, &[25, 50, 100, 150, 200, 300]);
    std::fs::write(&out, &md)?;
    print!("{md}");
    println!("wrote {}", out.display());
    Ok(())
}
