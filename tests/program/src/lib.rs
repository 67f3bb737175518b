//! Tests and compute-unit benchmarks of the Meridian SBF binary in LiteSVM.
//!
//! - `harness`: the runtime, tokens, exchanges and traders, failure and conservation checks;
//! - `oracle`: real-format Pyth and Switchboard source accounts, oracle aggregates, the clock;
//! - `cu`: one scenario per instruction, measured on the binary; `cargo run -p
//!   meridian-program-tests --bin cu-bench` writes `bench/cu.json` and `bench/CU.md`, and the test
//!   `tests/cu.rs` asserts every figure stays under its ceiling.

pub mod cu;
pub mod harness;
pub mod oracle;
pub mod portfolio;
