//! meridian-sdk: everything an integrator needs to talk to the Meridian program.
//!
//! - [`pda`]: the program's addresses (exchange, vault, margin accounts);
//! - [`ix`]: one builder per instruction, returning plain `Instruction`s;
//! - [`state`]: zero-copy account decoding (`Exchange`, `MarginAccount`);
//! - [`error`]: program error numbers and logs decoded to names;
//! - [`token`]: the SPL Token / Token-2022 pieces the exchange needs (ATA address, raw layouts);
//! - [`client`]: an async client over solana-client's nonblocking RPC;
//! - [`order`]: order builders for every order type; [`book`]: L2/L3 book and event decoding;
//! - [`history`]: the fills and outs the crank published, decoded from transactions;
//! - [`oracle`]: oracle aggregates, their source accounts and what a refresh will make of them;
//! - [`amount`]: UI amounts ("100.5") to native units and back, with the mint's decimals.
//!
//! The account and instruction types are the program crate's own (built with `no-entrypoint`), so
//! the SDK cannot drift from the program.

pub mod book;
pub mod budget;
pub mod client;
pub mod error;
pub mod history;
pub mod ix;
pub mod liquidation;
pub mod oracle;
pub mod order;
pub mod pda;
pub mod risk;
pub mod settlement;
/// Black-Scholes prices and greeks in the engine's fixed point (the margin engine's math).
pub use meridian_engine::pricing;
pub mod state;
pub mod token;

pub use meridian::{
    self as program, CancelSide, ExchangeParams, MarketKind, MarketMode, MarketParams, MarketStatus, MassQuoteArgs,
    MassQuoteResult, OracleSourceKind, OrderSide, OrderType, PauseFlags, PlaceOrderArgs, QuoteLevel, SelfTradeBehavior,
    ID as PROGRAM_ID,
};
pub use meridian_engine::ui as amount;
pub use meridian_engine::{self as engine, units::Side};
pub use solana_sdk::pubkey::Pubkey;
