//! Decoding the program's zero-copy accounts from raw account data.

use anchor_lang::Discriminator;
pub use meridian::{Exchange, MarginAccount};

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
