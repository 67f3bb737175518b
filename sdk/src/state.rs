//! Decoding the program's zero-copy accounts from raw account data.

use anchor_lang::Discriminator;
pub use meridian::{
    Exchange, LastPlacement, MarginAccount, Market, MarketKind, MarketMode, MarketStatus, OracleAggregate,
    OracleStatus, SettlementSource,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("account data is {got} bytes, a {what} needs {need}")]
    WrongSize { what: &'static str, got: usize, need: usize },
    #[error("account is not a {what} (discriminator mismatch)")]
    WrongDiscriminator { what: &'static str },
}

/// A zero-copy account type of the program.
pub trait ZeroCopyAccount: bytemuck::Pod + Discriminator {
    const NAME: &'static str;

    /// Reads the account from its data (8-byte discriminator, then the struct).
    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let need = 8 + core::mem::size_of::<Self>();
        if data.len() < need {
            return Err(DecodeError::WrongSize { what: Self::NAME, got: data.len(), need });
        }
        if &data[..8] != Self::DISCRIMINATOR {
            return Err(DecodeError::WrongDiscriminator { what: Self::NAME });
        }
        Ok(bytemuck::pod_read_unaligned(&data[8..need]))
    }
}

impl ZeroCopyAccount for Exchange {
    const NAME: &'static str = "Exchange";
}

impl ZeroCopyAccount for MarginAccount {
    const NAME: &'static str = "MarginAccount";
}

impl ZeroCopyAccount for Market {
    const NAME: &'static str = "Market";
}

impl ZeroCopyAccount for OracleAggregate {
    const NAME: &'static str = "OracleAggregate";
}

/// A market's name as text (the 16-byte field, NUL-padded).
pub fn market_name(m: &Market) -> String {
    market_name_bytes(&m.name)
}

pub fn market_name_bytes(name: &[u8; 16]) -> String {
    String::from_utf8_lossy(name).trim_end_matches('\0').to_string()
}

/// Encodes a name into the 16-byte field (longer names are cut).
pub fn encode_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(name.bytes()) {
        *o = b;
    }
    out
}

/// A market's units, for UI prices and sizes (the collateral decimals come from the exchange).
pub fn market_units(m: &Market, quote_decimals: u8) -> meridian_engine::ui::MarketUnits {
    meridian_engine::ui::MarketUnits {
        base_lot_size: m.base_lot_size,
        base_decimals: m.base_decimals,
        tick_size: m.tick_size,
        quote_decimals,
    }
}
