//! The engine's stored structs as the IDL shows them.
//!
//! Accounts hold engine values (a position, a health window, an option lot's risk) byte for byte.
//! The engine has no Anchor types, so each is mirrored here by a `#[zero_copy]` struct with the
//! same fields, which gives the IDL their names and types; `same_layout!` proves at compile time
//! that mirror and engine type agree in size, alignment and every field's offset, so the accounts
//! cast one to the other (`bytemuck`) at no cost. A field added to the engine type without its
//! mirror fails the build.
//!
//! 128-bit values are stored as `_lo`/`_hi` 64-bit pairs (two's complement, low word first):
//! `i128` is 16-aligned on the host and 8-aligned on SBF, so it cannot be stored as one field.

use anchor_lang::prelude::*;
use meridian_engine::health_history::HealthSample;
use meridian_engine::portfolio::{LotRisk, SCENARIOS};
use meridian_engine::position::Position;

/// Size, alignment and each field's offset are equal; the mirror is built field by field from the
/// engine type, so every field is listed and each has the engine field's type (a signed/unsigned
/// change fails too).
macro_rules! same_layout {
    ($mirror:ident, $engine:ty, [$($field:ident),+ $(,)?]) => {
        const _: () = {
            use core::mem::{align_of, offset_of, size_of};
            assert!(size_of::<$mirror>() == size_of::<$engine>());
            assert!(align_of::<$mirror>() == align_of::<$engine>());
            $(assert!(offset_of!($mirror, $field) == offset_of!($engine, $field));)+
        };
        const _: fn(&$engine) -> $mirror = |e| $mirror { $($field: e.$field),+ };
    };
}

/// A position in one market (engine `position::Position`).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PositionRecord {
    pub market_index: u16,
    /// 1 when the slot holds a position.
    pub in_use: u8,
    pub _pad: [u8; 5],
    /// Long (+) or short (-) base lots.
    pub base_lots: i64,
    /// Cash from fills: buying pays (-), selling receives (+). Native quote units.
    pub quote_balance: i64,
    /// Cost of the open base: paid for a long (+), received for a short (-).
    pub entry_quote: i64,
    pub realized_pnl: i64,
    /// Resting bids' total size (lots); margin counts resting orders as if filled.
    pub bid_lots: u64,
    pub ask_lots: u64,
    /// Resting bids' total value (native quote units).
    pub bid_notional: u64,
    pub ask_notional: u64,
    pub taker_volume: u64,
    pub maker_volume: u64,
    /// Fees paid, net of rebates.
    pub fees_paid: i64,
    /// The market's cumulative funding index this position has settled to: an i128, low word.
    pub funding_index_lo: u64,
    /// High word of `funding_index` (two's complement).
    pub funding_index_hi: u64,
    /// Funding paid (+) or received (-) over the position's life, native units.
    pub funding_paid: i64,
    /// The market's cumulative socialized loss per lot this position has paid up to.
    pub loss_index: u64,
}

same_layout!(
    PositionRecord,
    Position,
    [
        market_index,
        in_use,
        _pad,
        base_lots,
        quote_balance,
        entry_quote,
        realized_pnl,
        bid_lots,
        ask_lots,
        bid_notional,
        ask_notional,
        taker_volume,
        maker_volume,
        fees_paid,
        funding_index_lo,
        funding_index_hi,
        funding_paid,
        loss_index,
    ]
);

/// The worst health reading of one window (engine `health_history::HealthSample`; slot 0: never
/// written).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HealthRecord {
    /// Slot of the worst reading.
    pub slot: u64,
    /// Equity, native units, saturated to 64 bits.
    pub equity: i64,
    pub maintenance: u64,
    pub initial: u64,
    /// `HEALTH_SOURCE_*` bits of every reading in the window.
    pub sources: u64,
}

same_layout!(HealthRecord, HealthSample, [slot, equity, maintenance, initial, sources]);

/// One option lot's value now and under the portfolio engine's scenarios, with its greeks (engine
/// `portfolio::LotRisk`), all in native quote units per lot.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct LotRiskRecord {
    pub now: i64,
    /// Value under scenario `price * 3 + vol` (9 price shocks x 3 volatility shocks).
    pub shocked: [i64; SCENARIOS],
    /// The underlying's value of one lot.
    pub underlying_value: i64,
    /// Value change for a 100% rise, to first order (delta x underlying value).
    pub delta_value: i64,
    /// Change of `delta_value` for a 1% rise.
    pub gamma_1pct: i64,
    /// Value change per volatility point.
    pub vega_1pt: i64,
    /// Value change per day.
    pub theta_1d: i64,
    /// 1 for an option, 0 for a linear lot.
    pub is_option: u64,
    /// `max |now - shocked[s]|`.
    pub max_move: i64,
}

same_layout!(
    LotRiskRecord,
    LotRisk,
    [now, shocked, underlying_value, delta_value, gamma_1pct, vega_1pt, theta_1d, is_option, max_move,]
);
