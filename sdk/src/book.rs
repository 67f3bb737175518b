//! Reading a market's book and event queue from raw account data: L3 (every order) and L2 (price
//! levels), whichever tree the book was built with.

use meridian::{book_parts, queue_parts};
#[cfg(feature = "critbit")]
use meridian_engine::book::critbit::Critbit;
use meridian_engine::book::{rbtree::RedBlack, Book, BookHeader, Node, Tree};
use meridian_engine::events::{Event, EventQueue};
use meridian_engine::units::Side;
use solana_sdk::pubkey::Pubkey;

/// One resting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub side: Side,
    pub price: u64,
    pub size: u64,
    /// The order id.
    pub seq: u64,
    pub client_order_id: u64,
    pub expiry_ts: i64,
    /// Owner's margin account.
    pub owner: Pubkey,
    pub owner_slot: u8,
    pub order_kind: u8,
}

/// A price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub price: u64,
    pub size: u64,
    pub orders: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookView {
    /// Best first.
    pub bids: Vec<OrderView>,
    /// Best first.
    pub asks: Vec<OrderView>,
    pub orders_per_side: u32,
}

fn view(n: &Node, side: Side) -> OrderView {
    OrderView {
        side,
        price: n.price.0,
        size: n.size.0,
        seq: n.seq,
        client_order_id: n.client_order_id,
        expiry_ts: n.expiry_ts,
        owner: Pubkey::new_from_array(n.owner),
        owner_slot: n.owner_slot,
        order_kind: n.order_kind,
    }
}

fn read<T: Tree>(header: &mut BookHeader, nodes: &mut [Node]) -> Option<BookView> {
    let per_side = header.orders_per_side;
    let book = Book::<T>::new(header, nodes).ok()?;
    let side = |s| book.iter(s).map(|(_, n)| view(&n, s)).collect();
    Some(BookView { bids: side(Side::Bid), asks: side(Side::Ask), orders_per_side: per_side })
}

impl BookView {
    /// Decodes a book account's data (a copy is taken; the data is not modified).
    pub fn decode(data: &[u8]) -> Option<BookView> {
        let mut data = data.to_vec();
        let (header, nodes) = book_parts(&mut data).ok()?;
        match header.tree_kind {
            k if k == RedBlack::KIND => read::<RedBlack>(header, nodes),
            #[cfg(feature = "critbit")]
            k if k == Critbit::KIND => read::<Critbit>(header, nodes),
            _ => None,
        }
    }

    /// Price levels, best first, at most `depth` per side.
    pub fn levels(&self, side: Side, depth: usize) -> Vec<Level> {
        let orders = if side == Side::Bid { &self.bids } else { &self.asks };
        let mut out: Vec<Level> = Vec::new();
        for o in orders {
            match out.last_mut() {
                Some(l) if l.price == o.price => {
                    l.size += o.size;
                    l.orders += 1;
                }
                _ => {
                    if out.len() == depth {
                        break;
                    }
                    out.push(Level { price: o.price, size: o.size, orders: 1 });
                }
            }
        }
        out
    }

    pub fn best_bid(&self) -> Option<u64> {
        self.bids.first().map(|o| o.price)
    }

    pub fn best_ask(&self) -> Option<u64> {
        self.asks.first().map(|o| o.price)
    }

    /// Orders of one owner (margin account), both sides.
    pub fn orders_of(&self, owner: &Pubkey) -> Vec<OrderView> {
        self.bids.iter().chain(&self.asks).filter(|o| o.owner == *owner).copied().collect()
    }
}

/// Pending events, oldest first.
pub fn decode_events(data: &[u8]) -> Option<(Vec<Event>, u64)> {
    let mut data = data.to_vec();
    let (header, events) = queue_parts(&mut data).ok()?;
    let next = header.next_seq_num;
    let queue = EventQueue::new(header, events)?;
    Some(((0..queue.len()).filter_map(|i| queue.peek(i).copied()).collect(), next))
}

/// A batch market's auction as it would clear now: the price, volume and each side's lots at it,
/// over the book's orders that would take part (live, priced within the market's band; by default
/// the orders placed since the last clearing and those resting from earlier ones). `None` when
/// nothing would trade. The same rule the program runs (`meridian_engine::auction`).
pub fn indicative_auction(
    market: &meridian::Market,
    book: &BookView,
    now_ts: i64,
) -> Option<meridian_engine::auction::Clearing> {
    use meridian_engine::auction::{clear, AuctionOrder};
    let band = market.band();
    let take = |orders: &[OrderView]| -> Vec<AuctionOrder<([u8; 32], u64, u64)>> {
        orders
            .iter()
            .filter(|o| {
                (o.expiry_ts == 0 || o.expiry_ts > now_ts) && band.contains(meridian_engine::units::Ticks(o.price))
            })
            .map(|o| AuctionOrder {
                price: meridian_engine::units::Ticks(o.price),
                size: meridian_engine::units::Lots(o.size),
                key: (o.owner.to_bytes(), o.client_order_id, o.seq),
            })
            .collect()
    };
    clear(&take(&book.bids), &take(&book.asks), band.reference).map(|(c, _, _)| c)
}
