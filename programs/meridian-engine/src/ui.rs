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
        // i < frac_trimmed.len() <= decimals <= 255 (checked above): the u32 is exact
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

/// A decimal string as an exact fraction: (digits, decimal places).
fn parse_decimal(s: &str) -> Result<(u128, u32), AmountError> {
    let s = s.trim().replace('_', "");
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    if s.starts_with('-') {
        return Err(AmountError::Negative);
    }
    let (int_part, frac_part) = s.split_once('.').unwrap_or((s.as_str(), ""));
    let frac_part = frac_part.trim_end_matches('0');
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_ok(int_part)
        || !digits_ok(frac_part)
        || frac_part.len() > 18
    {
        return Err(AmountError::Invalid(s.clone()));
    }
    let all = format!("{int_part}{frac_part}");
    let significant = all.trim_start_matches('0');
    let digits: u128 =
        if significant.is_empty() { 0 } else { significant.parse().map_err(|_| AmountError::Overflow)? };
    Ok((digits, frac_part.len() as u32)) // <= 18: checked above
}

/// Why a UI price or size does not map onto a market's grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GridError {
    Amount(AmountError),
    /// Not a whole number of ticks; the nearest valid prices are given.
    OffTick {
        below: String,
        above: String,
    },
    /// Not a whole number of lots.
    OffLot {
        lot: String,
    },
    Zero,
    Overflow,
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GridError::Amount(e) => write!(f, "{e}"),
            GridError::OffTick { below, above } => {
                write!(f, "price is not on the tick grid (nearest: {below} or {above})")
            }
            GridError::OffLot { lot } => write!(f, "size is not a multiple of the lot size {lot}"),
            GridError::Zero => write!(f, "must be greater than zero"),
            GridError::Overflow => write!(f, "too large"),
        }
    }
}

impl std::error::Error for GridError {}

/// A market's units: lots of `base_lot_size` underlying atoms (`base_decimals`), ticks worth
/// `tick_size` collateral native units per lot (`quote_decimals`). Converts people's prices (quote
/// per whole base unit, e.g. USD per BTC) and sizes (base units) exactly, or says why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketUnits {
    pub base_lot_size: u64,
    pub base_decimals: u8,
    pub tick_size: u64,
    pub quote_decimals: u8,
}

impl MarketUnits {
    /// ticks = P * base_lot_size * 10^qd / (10^bd * tick_size), exact.
    pub fn price_to_ticks(&self, s: &str) -> Result<u64, GridError> {
        let (n, k) = parse_decimal(s).map_err(GridError::Amount)?;
        let num = n
            .checked_mul(self.base_lot_size as u128)
            .and_then(|v| v.checked_mul(10u128.pow(self.quote_decimals as u32)))
            .ok_or(GridError::Overflow)?;
        let den = 10u128
            .checked_pow(k + self.base_decimals as u32)
            .and_then(|v| v.checked_mul(self.tick_size as u128))
            .ok_or(GridError::Overflow)?;
        if num % den != 0 {
            // den >= 2 here, so num / den + 1 cannot overflow; beyond u64 ticks the price is too large
            let above = u64::try_from(num / den + 1).map_err(|_| GridError::Overflow)?;
            return Err(GridError::OffTick { below: self.format_price(above - 1), above: self.format_price(above) });
        }
        let ticks = u64::try_from(num / den).map_err(|_| GridError::Overflow)?;
        if ticks == 0 {
            return Err(GridError::Zero);
        }
        Ok(ticks)
    }

    /// Decimal places that show one tick exactly (at most 12).
    pub fn price_decimals(&self) -> u32 {
        (0..=12)
            .find(|&d| {
                let num = self.tick_size as u128 * 10u128.pow(self.base_decimals as u32 + d);
                num.is_multiple_of(self.base_lot_size as u128 * 10u128.pow(self.quote_decimals as u32))
            })
            .unwrap_or(12)
    }

    /// P = ticks * tick_size * 10^bd / (base_lot_size * 10^qd), shown with `price_decimals`.
    pub fn format_price(&self, ticks: u64) -> String {
        let d = self.price_decimals();
        let num = ticks as u128 * self.tick_size as u128 * 10u128.pow(self.base_decimals as u32 + d);
        let den = self.base_lot_size as u128 * 10u128.pow(self.quote_decimals as u32);
        let scaled = num / den;
        if d == 0 {
            return scaled.to_string();
        }
        let unit = 10u128.pow(d);
        format!("{}.{:0width$}", scaled / unit, scaled % unit, width = d as usize)
    }

    /// lots = S * 10^bd / base_lot_size, exact.
    pub fn size_to_lots(&self, s: &str) -> Result<u64, GridError> {
        let atoms = parse_ui_amount(s, self.base_decimals).map_err(GridError::Amount)?;
        if atoms % self.base_lot_size != 0 {
            return Err(GridError::OffLot { lot: self.format_size(1) });
        }
        let lots = atoms / self.base_lot_size;
        if lots == 0 {
            return Err(GridError::Zero);
        }
        Ok(lots)
    }

    pub fn format_size(&self, lots: u64) -> String {
        format_signed_ui_amount(lots as i128 * self.base_lot_size as i128, self.base_decimals)
    }

    pub fn format_signed_size(&self, lots: i64) -> String {
        format_signed_ui_amount(lots as i128 * self.base_lot_size as i128, self.base_decimals)
    }
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    /// BTC-PERP: 1 lot = 0.0001 BTC (8 decimals), $0.10 per BTC per tick, USDC 6 decimals:
    /// one tick on one lot is 0.1 * 0.0001 USD = 10 native units.
    const BTC: MarketUnits = MarketUnits { base_lot_size: 10_000, base_decimals: 8, tick_size: 10, quote_decimals: 6 };

    #[test]
    fn prices_and_sizes_map_exactly() {
        assert_eq!(BTC.price_to_ticks("65000"), Ok(650_000));
        assert_eq!(BTC.price_to_ticks("65000.1"), Ok(650_001));
        assert_eq!(BTC.format_price(650_001), "65000.1");
        assert_eq!(BTC.price_decimals(), 1);
        assert_eq!(
            BTC.price_to_ticks("65000.15"),
            Err(GridError::OffTick { below: "65000.1".into(), above: "65000.2".into() })
        );
        assert_eq!(BTC.price_to_ticks("0"), Err(GridError::Zero));
        assert_eq!(BTC.size_to_lots("0.25"), Ok(2_500));
        assert_eq!(BTC.size_to_lots("0.00015"), Err(GridError::OffLot { lot: "0.00010000".into() }));
        assert_eq!(BTC.format_size(2_500), "0.25000000");
    }

    #[test]
    fn round_trips_over_many_grids() {
        for (lot, bd, tick, qd) in [(1u64, 0u8, 1u64, 6u8), (10_000, 8, 10, 6), (1_000_000, 9, 25, 6), (5, 2, 3, 2)] {
            let u = MarketUnits { base_lot_size: lot, base_decimals: bd, tick_size: tick, quote_decimals: qd };
            for ticks in [1u64, 7, 100, 123_456] {
                assert_eq!(u.price_to_ticks(&u.format_price(ticks)), Ok(ticks), "{u:?} {ticks}");
            }
            for lots in [1u64, 9, 1_000] {
                assert_eq!(u.size_to_lots(&u.format_size(lots)), Ok(lots));
            }
        }
    }
}
