//! Order builders for every order type: `order::limit(Side::Bid, ticks, lots).post_only()...`.

use meridian::PlaceOrderArgs;
use meridian_engine::matching::{OrderKind, SelfTrade};
pub use meridian_engine::units::Side;

/// Starts a limit order (rests what does not cross).
pub fn limit(side: Side, price_ticks: u64, size_lots: u64) -> PlaceOrderArgs {
    PlaceOrderArgs { side: side.into(), price: price_ticks, size: size_lots, ..PlaceOrderArgs::default() }
}

/// A market order: takes liquidity up to `worst_price_ticks`, cancels the rest.
pub fn market(side: Side, worst_price_ticks: u64, size_lots: u64) -> PlaceOrderArgs {
    limit(side, worst_price_ticks, size_lots).kind(OrderKind::Market)
}

/// Chainable options on an order.
pub trait OrderExt: Sized {
    fn kind(self, kind: OrderKind) -> Self;
    /// Rejected if it would cross.
    fn post_only(self) -> Self {
        self.kind(OrderKind::PostOnly)
    }
    /// Re-priced one tick behind the best opposite order if it would cross.
    fn post_only_slide(self) -> Self {
        self.kind(OrderKind::PostOnlySlide)
    }
    fn immediate_or_cancel(self) -> Self {
        self.kind(OrderKind::ImmediateOrCancel)
    }
    fn fill_or_kill(self) -> Self {
        self.kind(OrderKind::FillOrKill)
    }
    fn reduce_only(self) -> Self;
    fn client_id(self, id: u64) -> Self;
    /// Dead after this unix time.
    fn expires_at(self, unix_ts: i64) -> Self;
    fn self_trade(self, behavior: SelfTrade) -> Self;
    /// Most makers to match (1..=64).
    fn match_limit(self, limit: u8) -> Self;
}

impl OrderExt for PlaceOrderArgs {
    fn kind(mut self, kind: OrderKind) -> Self {
        self.order_kind = kind.into();
        self
    }
    fn reduce_only(mut self) -> Self {
        self.reduce_only = true;
        self
    }
    fn client_id(mut self, id: u64) -> Self {
        self.client_order_id = id;
        self
    }
    fn expires_at(mut self, unix_ts: i64) -> Self {
        self.expiry_ts = unix_ts;
        self
    }
    fn self_trade(mut self, behavior: SelfTrade) -> Self {
        self.self_trade = behavior.into();
        self
    }
    fn match_limit(mut self, limit: u8) -> Self {
        self.match_limit = limit;
        self
    }
}
