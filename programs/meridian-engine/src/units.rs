//! Quantities that must not be mixed up, as newtypes (Phoenix's lesson): prices in ticks, sizes in
//! lots, money in native quote units. Arithmetic between them is explicit and checked.

use bytemuck::{Pod, Zeroable};

macro_rules! unsigned_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
        pub struct $name(pub u64);

        impl $name {
            pub const ZERO: $name = $name(0);
            pub const MAX: $name = $name(u64::MAX);
            #[inline(always)]
            pub fn checked_add(self, o: $name) -> Option<$name> {
                self.0.checked_add(o.0).map($name)
            }
            #[inline(always)]
            pub fn checked_sub(self, o: $name) -> Option<$name> {
                self.0.checked_sub(o.0).map($name)
            }
            #[inline(always)]
            pub fn saturating_sub(self, o: $name) -> $name {
                $name(self.0.saturating_sub(o.0))
            }
            #[inline(always)]
            pub fn min(self, o: $name) -> $name {
                if self.0 <= o.0 { self } else { o }
            }
            #[inline(always)]
            pub fn is_zero(self) -> bool {
                self.0 == 0
            }
        }
    };
}

unsigned_newtype!(
    /// A price in ticks of the market (the smallest price increment).
    Ticks
);
unsigned_newtype!(
    /// A size in base lots of the market (the smallest tradable quantity).
    Lots
);

/// A 128-bit value as stored: two u64 words, low first. Stored structs hold words because `i128` is
/// 16-aligned on the host and 8-aligned on SBF, so a field of it would lay accounts out differently
/// on the two. Every split and join goes through these two functions.
#[inline(always)]
pub const fn split_u128(v: u128) -> (u64, u64) {
    // deliberate truncation: the low word, then the high word (lossless as a pair)
    (v as u64, (v >> 64) as u64)
}

/// The value `split_u128` split (bit for bit; reinterpret as `i128` for signed values).
#[inline(always)]
pub const fn join_u128(lo: u64, hi: u64) -> u128 {
    (hi as u128) << 64 | lo as u128
}

/// Quote value of `lots` at `price`: lots * ticks * tick_size (quote units per lot per tick).
#[inline(always)]
pub fn notional(price: Ticks, lots: Lots, tick_size: u64) -> Option<u64> {
    crate::fixed::mul_u64(crate::fixed::mul_u64(price.0, lots.0)?, tick_size)
}

/// Which side of the book an order rests on.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Bid = 0,
    Ask = 1,
}

impl Side {
    pub fn from_u8(v: u8) -> Option<Side> {
        match v {
            0 => Some(Side::Bid),
            1 => Some(Side::Ask),
            _ => None,
        }
    }
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }
    /// +1 for bids (buying adds base), -1 for asks.
    pub fn sign(self) -> i64 {
        match self {
            Side::Bid => 1,
            Side::Ask => -1,
        }
    }
}
