//! The integer codes accounts store, as named constants in the IDL (`constants`), so a client
//! reads `SIDE_ASK` instead of a bare 1. Each is defined from the enum the program itself uses: the
//! IDL cannot drift from the code. Instructions take these as enums (`args.rs`, the market's
//! enums in `state::market`), whose wire tags are the same codes.

use crate::state::{MarketKind, MarketMode, MarketStatus, OracleStatus, PauseFlags, SettlementSource};
use anchor_lang::prelude::*;
use meridian_engine::events::OutReason;
use meridian_engine::health_history::source;
use meridian_engine::matching::{OrderKind, SelfTrade};
use meridian_engine::oracle::{SourceFault, SourceKind};
use meridian_engine::units::Side;

// `OpenOrder::side` (`OrderSide` in arguments).
#[constant]
pub const SIDE_BID: u8 = Side::Bid as u8;
#[constant]
pub const SIDE_ASK: u8 = Side::Ask as u8;

// `OpenOrder::order_kind` (`OrderType` in arguments).
#[constant]
pub const ORDER_KIND_LIMIT: u8 = OrderKind::Limit as u8;
#[constant]
pub const ORDER_KIND_POST_ONLY: u8 = OrderKind::PostOnly as u8;
#[constant]
pub const ORDER_KIND_POST_ONLY_SLIDE: u8 = OrderKind::PostOnlySlide as u8;
#[constant]
pub const ORDER_KIND_IMMEDIATE_OR_CANCEL: u8 = OrderKind::ImmediateOrCancel as u8;
#[constant]
pub const ORDER_KIND_FILL_OR_KILL: u8 = OrderKind::FillOrKill as u8;
#[constant]
pub const ORDER_KIND_MARKET: u8 = OrderKind::Market as u8;

// `SelfTradeBehavior`'s tags.
#[constant]
pub const SELF_TRADE_CANCEL_MAKER: u8 = SelfTrade::CancelMaker as u8;
#[constant]
pub const SELF_TRADE_DECREMENT_TAKE: u8 = SelfTrade::DecrementTake as u8;
#[constant]
pub const SELF_TRADE_ABORT: u8 = SelfTrade::Abort as u8;

// `Market::kind` (`MarketKind` in arguments).
#[constant]
pub const MARKET_KIND_PERPETUAL: u8 = MarketKind::Perpetual as u8;
#[constant]
pub const MARKET_KIND_FUTURE: u8 = MarketKind::Future as u8;
#[constant]
pub const MARKET_KIND_CALL: u8 = MarketKind::Call as u8;
#[constant]
pub const MARKET_KIND_PUT: u8 = MarketKind::Put as u8;

// `Market::status` (`MarketStatus` in arguments).
#[constant]
pub const MARKET_STATUS_ACTIVE: u8 = MarketStatus::Active as u8;
#[constant]
pub const MARKET_STATUS_CANCEL_ONLY: u8 = MarketStatus::CancelOnly as u8;
#[constant]
pub const MARKET_STATUS_PAUSED: u8 = MarketStatus::Paused as u8;
#[constant]
pub const MARKET_STATUS_CLOSED: u8 = MarketStatus::Closed as u8;

// `Market::mode` (`MarketMode` in arguments).
#[constant]
pub const MARKET_MODE_CONTINUOUS: u8 = MarketMode::Continuous as u8;
#[constant]
pub const MARKET_MODE_BATCH: u8 = MarketMode::Batch as u8;

// `Market::settlement_source`.
#[constant]
pub const SETTLEMENT_SOURCE_NONE: u8 = SettlementSource::None as u8;
#[constant]
pub const SETTLEMENT_SOURCE_WINDOW: u8 = SettlementSource::Window as u8;
#[constant]
pub const SETTLEMENT_SOURCE_ADMIN: u8 = SettlementSource::Admin as u8;

// `OracleAggregate::status`.
#[constant]
pub const ORACLE_STATUS_UNINITIALIZED: u8 = OracleStatus::Uninitialized as u8;
#[constant]
pub const ORACLE_STATUS_VALID: u8 = OracleStatus::Valid as u8;
#[constant]
pub const ORACLE_STATUS_DIVERGENT: u8 = OracleStatus::Divergent as u8;
#[constant]
pub const ORACLE_STATUS_TOO_FEW_SOURCES: u8 = OracleStatus::TooFewSources as u8;

// `OracleSource::kind` (`OracleSourceKind` in arguments).
#[constant]
pub const SOURCE_KIND_PYTH: u8 = SourceKind::Pyth as u8;
#[constant]
pub const SOURCE_KIND_SWITCHBOARD: u8 = SourceKind::Switchboard as u8;

// `OracleSource::last_fault` (0: the source was used).
#[constant]
pub const SOURCE_FAULT_STALE: u8 = SourceFault::Stale as u8;
#[constant]
pub const SOURCE_FAULT_WIDE_CONFIDENCE: u8 = SourceFault::WideConfidence as u8;
#[constant]
pub const SOURCE_FAULT_NO_PRICE: u8 = SourceFault::NoPrice as u8;
#[constant]
pub const SOURCE_FAULT_EXPONENT_OUT_OF_RANGE: u8 = SourceFault::ExponentOutOfRange as u8;
#[constant]
pub const SOURCE_FAULT_PARTIALLY_VERIFIED: u8 = SourceFault::PartiallyVerified as u8;

// Bits of `HealthRecord::sources`.
#[constant]
pub const HEALTH_SOURCE_ORDER: u64 = source::ORDER;
#[constant]
pub const HEALTH_SOURCE_WITHDRAWAL: u64 = source::WITHDRAWAL;
#[constant]
pub const HEALTH_SOURCE_LIQUIDATION: u64 = source::LIQUIDATION;
#[constant]
pub const HEALTH_SOURCE_BANKRUPTCY: u64 = source::BANKRUPTCY;

// Bits of `Exchange::paused`.
#[constant]
pub const PAUSED_DEPOSITS: u8 = PauseFlags::DEPOSITS;
#[constant]
pub const PAUSED_WITHDRAWALS: u8 = PauseFlags::WITHDRAWALS;
#[constant]
pub const PAUSED_TRADING: u8 = PauseFlags::TRADING;
#[constant]
pub const PAUSED_ACCOUNT_CREATION: u8 = PauseFlags::ACCOUNT_CREATION;

// Event queue entries (`Event::kind`, `Event::out_reason`; the crank's `EventsApplied` names
// them as enums).
#[constant]
pub const OUT_REASON_EXPIRED: u8 = OutReason::Expired as u8;
#[constant]
pub const OUT_REASON_SELF_TRADE: u8 = OutReason::SelfTrade as u8;
#[constant]
pub const OUT_REASON_EVICTED: u8 = OutReason::Evicted as u8;
#[constant]
pub const OUT_REASON_LIQUIDATED: u8 = OutReason::Liquidated as u8;
#[constant]
pub const OUT_REASON_OUT_OF_BAND: u8 = OutReason::OutOfBand as u8;
