use anchor_lang::prelude::*;

/// Declares the error enum through Anchor's `#[error_code]` and, from the same list, `ALL`: the SDK
/// decodes error numbers with it, so the table can never drift from the enum.
macro_rules! meridian_errors {
    ($($name:ident => $msg:literal,)*) => {
        /// Every error the program returns on purpose. Codes start at 6000 (Anchor's custom range)
        /// in declaration order; append new ones at the end so existing codes stay stable.
        #[error_code]
        pub enum MeridianError {
            $(#[msg($msg)] $name,)*
        }

        impl MeridianError {
            pub const ALL: &'static [MeridianError] = &[$(MeridianError::$name,)*];

            /// The error with this custom error number, if it is one of ours.
            pub fn from_code(code: u32) -> Option<MeridianError> {
                let index = code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET)?;
                Self::ALL.get(index as usize).copied()
            }
        }
    };
}

meridian_errors! {
    NotAdmin => "signer is not the exchange admin",
    NotAccountOwner => "signer is not the margin account's owner",
    WrongExchange => "account belongs to a different exchange",
    WrongVault => "token account is not the exchange's vault",
    WrongMint => "mint is not the exchange's collateral mint",
    WrongTokenProgram => "token program does not own the collateral mint",
    ZeroAmount => "amount must be greater than zero",
    AmountTooLarge => "amount exceeds the largest supported balance (i64::MAX native units)",
    InsufficientCollateral => "not enough free collateral for this withdrawal",
    DepositsPaused => "deposits are paused",
    WithdrawalsPaused => "withdrawals are paused",
    AccountCreationPaused => "new margin accounts are paused",
    AccountNotEmpty => "margin account still holds collateral, positions or orders",
    DepositCapExceeded => "deposit would exceed the exchange's deposit cap",
    InvalidFeeShare => "fee share must be at most 10000 basis points",
    InvalidPauseFlags => "unknown pause flag bits",
    UnsupportedMintExtension => "collateral mint has a Token-2022 extension the exchange cannot custody safely",
    MathOverflow => "arithmetic overflow",
    UnknownProbeOp => "unknown math probe op",
    ProbeUndefined => "math probe op is undefined for these operands",
    NothingReceived => "deposit reached the vault short of the amount (transfer fee larger than the deposit)",
}
