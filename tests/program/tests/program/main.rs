//! The program tests: the SBF binary in the Solana runtime (LiteSVM), one test binary (each binary
//! links the Solana stack, so one is much faster to build than one per file). A module per area;
//! fixtures and scenarios are in `meridian_program_tests::{harness, fixture}`.
mod collateral;
mod cu;
mod docs;
mod entrypoint;
mod exchange;
mod funding;
mod idl;
mod liquidation;
mod math_probe;
mod oracle;
mod oracle_market;
mod oracle_writer;
mod portfolio_margin;
mod sbf_binary;
mod security;
mod settlement;
mod trading;
