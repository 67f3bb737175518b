//! Writes bench/cu.json and bench/CU.md from a run of every instruction on the SBF binary.
//! Usage: cargo run -p meridian-program-tests --bin cu-bench [-- <output dir, default bench/>]
use meridian_program_tests::{cu, harness};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench"));
    let figures = cu::measure();
    let size = harness::program_bytes().len();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("cu.json"), cu::to_json(&figures))?;
    std::fs::write(dir.join("CU.md"), cu::to_markdown(&figures, size))?;
    for (name, units) in &figures {
        println!("{name:<28} {units:>8} CU");
    }
    println!("wrote {}", dir.join("cu.json").display());
    Ok(())
}
