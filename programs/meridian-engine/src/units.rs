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

/// Money in native units of the collateral mint (signed: balances and PnL can be negative).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
pub struct Quote(pub i64);

impl Quote {
    pub const ZERO: Quote = Quote(0);
    #[inline(always)]
    pub fn checked_add(self, o: Quote) -> Option<Quote> {
        self.0.checked_add(o.0).map(Quote)
    }
    #[inline(always)]
    pub fn checked_sub(self, o: Quote) -> Option<Quote> {
        self.0.checked_sub(o.0).map(Quote)
    }
    #[inline(always)]
    pub fn checked_neg(self) -> Option<Quote> {
        self.0.checked_neg().map(Quote)
    }
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
