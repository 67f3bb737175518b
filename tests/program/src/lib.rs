//! Tests and compute-unit benchmarks of the Meridian SBF binary in LiteSVM.
//!
//! - `harness`: the runtime, tokens, exchanges and traders, failure and conservation checks;
//! - `fixture`: scenarios (an exchange, a market, traders) declared in one expression, and the
//!   constants every test shares (USDC, SLOT, TS, PRICE);
//! - `oracle`: real-format Pyth and Switchboard source accounts, oracle aggregates, the clock;
//! - `cu`: one scenario per instruction, measured on the binary; `cargo run -p
//!   meridian-program-tests --bin cu-bench` writes `bench/cu.json` and `bench/CU.md`, and the test
//!   `tests/cu.rs` asserts every figure stays under its ceiling;
//! - `fuzz`: the invariant fuzzer (every instruction in random sequences, the exchange's invariants
//!   checked after each); `meridian-fuzz N [SEED]` (`scripts/fuzz.sh`) runs it at length;
//! - `auction_study`: a maker's loss to latency races in continuous and batch markets
//!   (`scripts/auction-study.sh` writes `bench/AUCTION.md`).

pub mod auction_study;
pub mod cu;
pub mod fixture;
pub mod fuzz;
pub mod harness;
pub mod oracle;
pub mod portfolio;
