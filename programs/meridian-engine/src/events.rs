//! Maker events and the fixed-size ring buffer that holds them until the crank applies them.
//!
//! Matching writes one event per maker touched: a fill, or an "out" (the order left the book
//! without the owner present: expired, evicted by a better order on a full book, removed or
//! decremented by self-trade prevention). The crank consumes them in order into the makers'
//! margin accounts. A full queue makes placement fail: an event is never dropped.

use crate::units::{Lots, Ticks};
use bytemuck::{Pod, Zeroable};

pub const EVENT_FILL: u8 = 1;
pub const EVENT_OUT: u8 = 2;

/// Why an order left (or shrank) without its owner's instruction.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutReason {
    Expired = 1,
    /// Self-trade prevention removed or decremented it.
    SelfTrade = 2,
    /// A better order took its place on a full book.
    Evicted = 3,
    /// The owner's account was liquidated (stage 1).
    Liquidated = 4,
    /// Its price is outside the band around the market's reference now: removed when a taker met
    /// it, not filled (no fill happens outside the band).
    OutOfBand = 5,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Event {
    pub kind: u8,
    /// Fill: the taker's side. Out: the side of the order.
    pub side: u8,
    /// The maker order's index in its owner's open-order list.
    pub maker_slot: u8,
    /// Out: an [`OutReason`].
    pub out_reason: u8,
    /// 1 when the maker order left the book (fully filled, or removed).
    pub maker_out: u8,
    /// Fill: 1 when the taker's fee funded the crank's reward for this event (the crank is paid
    /// only for these).
    pub rewarded: u8,
    /// Fill: 1 for a batch auction's fill (`crate::auction`): no taker is present, `maker` is the
    /// order's owner whichever its role, `maker_fee` is that order's own fee (never a rebate),
    /// charged when the crank applies the event, and `order_price` is the order's limit price.
    pub auction: u8,
    pub _pad: [u8; 1],
    /// Position of the event in the market's event history (monotone).
    pub seq_num: u64,
    pub timestamp: i64,
    pub maker: [u8; 32],
    /// Fill: the taker's margin account.
    pub taker: [u8; 32],
    pub maker_order_seq: u64,
    pub maker_client_order_id: u64,
    pub price: Ticks,
    /// Fill: size filled. Out: size removed from the order.
    pub size: Lots,
    /// Fill: fee charged to the maker in quote units (negative = rebate).
    pub maker_fee: i64,
    /// Fill: the market's funding index at the fill (i128 as lo/hi). The crank settles the maker's
    /// funding to it before applying the fill, so funding stays exact while the event waits.
    pub funding_index_lo: u64,
    pub funding_index_hi: u64,
    /// Auction fill: the order's limit price (its resting value is released at it; `price` is the
    /// clearing price). 0 otherwise: the order's price is `price`.
    pub order_price: Ticks,
}

impl Event {
    pub fn funding_index(&self) -> i128 {
        // bit for bit: the two's complement words the matcher stored
        crate::units::join_u128(self.funding_index_lo, self.funding_index_hi) as i128
    }
}

/// The queue account's header; the events follow it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct QueueHeader {
    pub head: u32,
    pub count: u32,
    pub capacity: u32,
    pub _pad: u32,
    /// Sequence number the next pushed event gets.
    pub next_seq_num: u64,
    pub reserved: [u64; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull;

/// A ring buffer over borrowed storage.
pub struct EventQueue<'a> {
    pub header: &'a mut QueueHeader,
    pub events: &'a mut [Event],
}

impl<'a> EventQueue<'a> {
    pub fn new(header: &'a mut QueueHeader, events: &'a mut [Event]) -> Option<Self> {
        (header.capacity as usize == events.len()
            && header.count <= header.capacity
            && header.head < header.capacity.max(1))
        .then_some(EventQueue { header, events })
    }

    pub fn len(&self) -> u32 {
        self.header.count
    }

    pub fn is_empty(&self) -> bool {
        self.header.count == 0
    }

    pub fn free_slots(&self) -> u32 {
        self.header.capacity - self.header.count
    }

    /// Appends; gives the event its sequence number.
    pub fn push(&mut self, mut event: Event) -> Result<u64, QueueFull> {
        let h = &mut *self.header;
        if h.count >= h.capacity {
            return Err(QueueFull);
        }
        let mut slot = h.head + h.count;
        if slot >= h.capacity {
            slot -= h.capacity;
        }
        event.seq_num = h.next_seq_num;
        self.events[slot as usize] = event;
        h.count += 1;
        h.next_seq_num += 1;
        Ok(event.seq_num)
    }

    /// The `i`-th oldest event.
    pub fn peek(&self, i: u32) -> Option<&Event> {
        if i >= self.header.count {
            return None;
        }
        let mut slot = self.header.head + i;
        if slot >= self.header.capacity {
            slot -= self.header.capacity;
        }
        Some(&self.events[slot as usize])
    }

    /// Drops the oldest `n` events (after the crank applied them).
    pub fn pop_front(&mut self, n: u32) {
        let h = &mut *self.header;
        let n = n.min(h.count);
        h.head += n;
        if h.head >= h.capacity {
            h.head -= h.capacity;
        }
        h.count -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_wraps_keeps_order_and_refuses_when_full() {
        let mut header = QueueHeader { capacity: 3, ..Default::default() };
        let mut events = [Event::default(); 3];
        let mut q = EventQueue::new(&mut header, &mut events).unwrap();
        let ev = |size| Event { kind: EVENT_FILL, size: Lots(size), ..Default::default() };
        for round in 0..5u64 {
            assert_eq!(q.push(ev(round * 10)).unwrap(), round * 3);
            assert_eq!(q.push(ev(round * 10 + 1)).unwrap(), round * 3 + 1);
            assert_eq!(q.push(ev(round * 10 + 2)).unwrap(), round * 3 + 2);
            assert_eq!(q.push(ev(99)), Err(QueueFull));
            assert_eq!(q.peek(0).unwrap().size, Lots(round * 10));
            assert_eq!(q.peek(2).unwrap().size, Lots(round * 10 + 2));
            assert!(q.peek(3).is_none());
            q.pop_front(1);
            assert_eq!(q.peek(0).unwrap().size, Lots(round * 10 + 1));
            q.pop_front(5);
            assert!(q.is_empty());
        }
    }

    #[test]
    fn event_layout_is_stable() {
        assert_eq!(core::mem::size_of::<Event>(), 152);
        assert_eq!(core::mem::size_of::<QueueHeader>(), 40);
    }
}
