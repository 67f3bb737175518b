//! Meridian's engine: the pure Rust core shared by the on-chain program, the SDK, the keepers and
//! the CLI. No Solana types live here, so every piece is tested natively and the liquidator's view
//! of an account is computed by the very code the program runs.
//!
//! Rules for code in this crate:
//! - integer fixed point only, every operation checked (`Option`/`Result`, never a panic: on-chain a
//!   panic aborts without a message);
//! - rounding always favours the protocol (see [`fixed::Rounding`]);
//! - 128-bit intermediates only where a product can exceed 64 bits; divisions by 128-bit values are
//!   expensive on-chain (~hundreds of CU), so hot paths keep divisors within 64 bits.
#![forbid(unsafe_code)]

pub mod auction;
pub mod band;
pub mod book;
pub mod events;
pub mod expiry;
pub mod fixed;
pub mod funding;
pub mod health_history;
pub mod liquidation;
pub mod margin;
pub mod matching;
pub mod oracle;
pub mod portfolio;
pub mod position;
pub mod pricing;
// Math conformance ops for the test-only probe program (tests/math-probe) and its host comparison.
#[cfg(any(test, feature = "probe"))]
pub mod probe;
pub mod risk_pricing;
pub mod settlement;
pub mod ui;
pub mod units;

pub use fixed::Rounding;
