//! Token amounts as people write them ("100.5") and as the chain stores them (native units).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    Invalid(String),
    TooManyDecimals { decimals: u8 },
    Overflow,
    Negative,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => write!(f, "empty amount"),
            AmountError::Invalid(s) => write!(f, "not a number: {s:?}"),
            AmountError::TooManyDecimals { decimals } => {
                write!(f, "more decimal places than the mint's {decimals}")
            }
            AmountError::Overflow => write!(f, "amount too large"),
            AmountError::Negative => write!(f, "amount must not be negative"),
        }
    }
}

impl std::error::Error for AmountError {}

/// Parses a UI amount ("100", "100.5", "0.000001", "1_000") into native units of a mint with
/// `decimals` decimals. Exact: digits beyond the mint's precision are an error, not rounded away.
pub fn parse_ui_amount(s: &str, decimals: u8) -> Result<u64, AmountError> {
    let s = s.trim().replace('_', "");
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    if s.starts_with('-') {
        return Err(AmountError::Negative);
    }
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s.as_str(), ""),
    };
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err(AmountError::Invalid(s.clone()));
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > decimals as usize {
        return Err(AmountError::TooManyDecimals { decimals });
    }
    let scale = crate::fixed::pow10(decimals as u32).ok_or(AmountError::Overflow)?;
    let int_value: u64 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| AmountError::Overflow)? };
    let mut frac_value: u64 = 0;
    for (i, b) in frac_trimmed.bytes().enumerate() {
        let place = crate::fixed::pow10(decimals as u32 - 1 - i as u32).ok_or(AmountError::Overflow)?;
        frac_value += (b - b'0') as u64 * place;
    }
    int_value.checked_mul(scale).and_then(|v| v.checked_add(frac_value)).ok_or(AmountError::Overflow)
}

/// Formats native units as a UI amount with all of the mint's decimals ("100.500000").
pub fn format_ui_amount(native: u64, decimals: u8) -> String {
    format_signed_ui_amount(native as i128, decimals)
}

/// Signed variant for balances that can be negative (PnL, bankrupt collateral).
pub fn format_signed_ui_amount(native: i128, decimals: u8) -> String {
    let sign = if native < 0 { "-" } else { "" };
    let abs = native.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u128.pow(decimals as u32);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = decimals as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_what_people_type() {
        assert_eq!(parse_ui_amount("100.5", 6), Ok(100_500_000));
        assert_eq!(parse_ui_amount("100", 6), Ok(100_000_000));
        assert_eq!(parse_ui_amount(".25", 2), Ok(25));
        assert_eq!(parse_ui_amount("7.", 2), Ok(700));
        assert_eq!(parse_ui_amount("1_000", 0), Ok(1000));
        assert_eq!(parse_ui_amount("0.000001", 6), Ok(1));
        assert_eq!(parse_ui_amount("1.50000000", 2), Ok(150));
        assert_eq!(parse_ui_amount("0.0000001", 6), Err(AmountError::TooManyDecimals { decimals: 6 }));
        assert_eq!(parse_ui_amount("-1", 6), Err(AmountError::Negative));
        assert_eq!(parse_ui_amount("", 6), Err(AmountError::Empty));
        assert_eq!(parse_ui_amount(".", 6), Err(AmountError::Invalid(".".into())));
        assert_eq!(parse_ui_amount("1e6", 6), Err(AmountError::Invalid("1e6".into())));
        assert_eq!(parse_ui_amount("18446744073709.551615", 6), Ok(u64::MAX));
        assert_eq!(parse_ui_amount("18446744073709.551616", 6), Err(AmountError::Overflow));
        assert_eq!(parse_ui_amount("99999999999999999999", 0), Err(AmountError::Overflow));
    }

    #[test]
    fn formats_with_the_mints_decimals() {
        assert_eq!(format_ui_amount(100_500_000, 6), "100.500000");
        assert_eq!(format_ui_amount(1, 9), "0.000000001");
        assert_eq!(format_ui_amount(42, 0), "42");
        assert_eq!(format_signed_ui_amount(-1_500, 3), "-1.500");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(native: u64, decimals in 0u8..=9) {
            prop_assert_eq!(parse_ui_amount(&format_ui_amount(native, decimals), decimals), Ok(native));
        }
    }
}
