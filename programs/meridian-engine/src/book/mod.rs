//! The order book: one fixed array of nodes (a slab with a free list) holding the bid and ask trees.
//!
//! Both sides are ordered by a priority key, smallest = best: asks by (price, seq), bids by
//! (!price, seq). So "best" is the minimum of either tree, price-time priority is a plain key
//! comparison, and one tree implementation serves both sides. Two implementations exist behind
//! [`Tree`]: [`rbtree::RedBlack`] (one node per order) and `critbit::Critbit` (one leaf per order
//! plus one inner node per branch). bench/BOOK.md has their measured costs; [`ActiveTree`] is the
//! one the program uses.
//!
//! Layout (inside the book account, after its discriminator): [`BookHeader`], then
//! `node_capacity` [`Node`]s. Capacity per side is fixed at creation.

// The critbit tree is the measured alternative (bench/BOOK.md), not what the program ships: it is
// compiled only for tests, benches and the `critbit` feature.
#[cfg(any(test, feature = "critbit"))]
pub mod critbit;
pub mod rbtree;

use crate::units::{Lots, Side, Ticks};
use bytemuck::{Pod, Zeroable};
use core::marker::PhantomData;

/// "No node".
pub const NIL: u32 = u32::MAX;

pub const NODE_FREE: u8 = 0;
pub const NODE_ORDER: u8 = 1;
/// Critbit branch node (no order).
pub const NODE_INNER: u8 = 2;

/// A slab node: an order (leaf), a critbit branch, or free.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Node {
    pub tag: u8,
    pub side: u8,
    /// Red-black color (RED = 1).
    pub color: u8,
    /// Index of this order in its owner's open-order list (lets the crank find it without a search).
    pub owner_slot: u8,
    /// The order kind it was placed with (see `matching::OrderKind`), for display.
    pub order_kind: u8,
    pub flags: u8,
    pub _pad0: [u8; 2],
    /// Red-black: children. Critbit inner node: children 0 and 1. Free node: `left` = next free.
    pub left: u32,
    pub right: u32,
    /// Red-black: parent. Critbit inner node: the critical bit (0 = most significant of the key).
    pub parent: u32,
    pub _pad1: u32,
    pub price: Ticks,
    /// Monotone per market: time priority and the order id.
    pub seq: u64,
    /// Remaining size.
    pub size: Lots,
    pub client_order_id: u64,
    /// Unix time after which the order is dead (0 = good till cancelled).
    pub expiry_ts: i64,
    /// The owner's margin account.
    pub owner: [u8; 32],
}

/// A 128-bit priority key as two words (no u128 shifts: on SBF those are libcalls).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub hi: u64,
    pub lo: u64,
}

impl Key {
    #[inline(always)]
    pub fn new(side: Side, price: Ticks, seq: u64) -> Key {
        let hi = match side {
            Side::Ask => price.0,
            Side::Bid => !price.0,
        };
        Key { hi, lo: seq }
    }

    #[inline(always)]
    pub fn of(node: &Node) -> Key {
        let hi = if node.side == Side::Ask as u8 { node.price.0 } else { !node.price.0 };
        Key { hi, lo: node.seq }
    }
}

/// One side's tree: root, size and the cached best (minimum key) and worst (maximum key) orders.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct SideRoot {
    pub root: u32,
    pub count: u32,
    pub best: u32,
    pub worst: u32,
}

impl SideRoot {
    pub const EMPTY: SideRoot = SideRoot { root: NIL, count: 0, best: NIL, worst: NIL };
}

/// The book account's header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct BookHeader {
    pub bids: SideRoot,
    pub asks: SideRoot,
    /// Head of the free list (nodes released by removals).
    pub free_head: u32,
    /// Nodes at or past this index were never used (saves initializing a free list at creation).
    pub next_unused: u32,
    pub node_capacity: u32,
    pub orders_per_side: u32,
    /// Which [`Tree`] built this book (`Tree::KIND`).
    pub tree_kind: u8,
    pub _pad: [u8; 7],
    pub reserved: [u64; 4],
}

impl BookHeader {
    pub fn new<T: Tree>(orders_per_side: u32) -> BookHeader {
        BookHeader {
            bids: SideRoot::EMPTY,
            asks: SideRoot::EMPTY,
            free_head: NIL,
            next_unused: 0,
            node_capacity: T::node_capacity(orders_per_side),
            orders_per_side,
            tree_kind: T::KIND,
            _pad: [0; 7],
            reserved: [0; 4],
        }
    }

    pub fn side(&self, side: Side) -> &SideRoot {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    pub fn side_mut(&mut self, side: Side) -> &mut SideRoot {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }
}

/// Bytes a book account's data needs after its discriminator.
pub fn book_data_len<T: Tree>(orders_per_side: u32) -> usize {
    core::mem::size_of::<BookHeader>() + T::node_capacity(orders_per_side) as usize * core::mem::size_of::<Node>()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookError {
    /// No free node (cannot happen while per-side capacity is respected; a corrupt book otherwise).
    SlabFull,
    /// The tree already holds this key.
    DuplicateKey,
    /// The order is not in the book.
    NotFound,
    /// The book was built by another tree kind or its capacity does not match its account.
    WrongLayout,
}

/// Node allocation over the slab's free list.
#[inline(always)]
pub fn alloc(header: &mut BookHeader, nodes: &mut [Node]) -> Result<u32, BookError> {
    let index = if header.free_head != NIL {
        let i = header.free_head;
        header.free_head = nodes[i as usize].left;
        i
    } else if header.next_unused < header.node_capacity {
        header.next_unused += 1;
        header.next_unused - 1
    } else {
        return Err(BookError::SlabFull);
    };
    Ok(index)
}

#[inline(always)]
pub fn free(header: &mut BookHeader, nodes: &mut [Node], index: u32) {
    let node = &mut nodes[index as usize];
    *node = Node::zeroed();
    node.tag = NODE_FREE;
    node.left = header.free_head;
    header.free_head = index;
}

/// An ordered tree of orders inside the slab, smallest [`Key`] first.
pub trait Tree {
    /// Stored in the book header, so a book is never read with the other tree.
    const KIND: u8;
    const NAME: &'static str;

    /// Slab nodes a book with `orders_per_side` orders on each side can need.
    fn node_capacity(orders_per_side: u32) -> u32;

    /// Links the order already written at `leaf` into `side`.
    fn insert(header: &mut BookHeader, nodes: &mut [Node], side: Side, leaf: u32) -> Result<(), BookError>;

    /// Unlinks the order at `leaf` (which must be in `side`) and frees its node(s).
    fn remove(header: &mut BookHeader, nodes: &mut [Node], side: Side, leaf: u32);

    /// The order with `key`, if present.
    fn find(header: &BookHeader, nodes: &[Node], side: Side, key: Key) -> Option<u32>;

    /// The order after `leaf` in priority order (the next worse one).
    fn next(header: &BookHeader, nodes: &[Node], side: Side, leaf: u32) -> Option<u32>;

    /// Whether the order at `leaf` may take `key` where it is: its neighbours in priority order
    /// stay on either side of it. Trees whose shape depends on the key bits (critbit) say no.
    fn keeps_order(_header: &BookHeader, _nodes: &[Node], _leaf: u32, _key: Key) -> bool {
        false
    }
}

#[cfg(not(feature = "critbit-book"))]
pub type ActiveTree = rbtree::RedBlack;
#[cfg(feature = "critbit-book")]
pub type ActiveTree = critbit::Critbit;

/// A book over borrowed storage: the header and node array of a book account (or test memory).
pub struct Book<'a, T: Tree = ActiveTree> {
    pub header: &'a mut BookHeader,
    pub nodes: &'a mut [Node],
    tree: PhantomData<T>,
}

/// An order as it enters the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub side: Side,
    pub price: Ticks,
    pub size: Lots,
    pub seq: u64,
    pub client_order_id: u64,
    pub expiry_ts: i64,
    pub owner: [u8; 32],
    pub owner_slot: u8,
    pub order_kind: u8,
    pub flags: u8,
}

impl<'a, T: Tree> Book<'a, T> {
    /// Wraps initialized storage, checking that it was laid out for this tree.
    pub fn new(header: &'a mut BookHeader, nodes: &'a mut [Node]) -> Result<Self, BookError> {
        if header.tree_kind != T::KIND || nodes.len() != header.node_capacity as usize {
            return Err(BookError::WrongLayout);
        }
        Ok(Book { header, nodes, tree: PhantomData })
    }

    /// Initializes zeroed storage as an empty book.
    pub fn init(header: &'a mut BookHeader, nodes: &'a mut [Node], orders_per_side: u32) -> Result<Self, BookError> {
        *header = BookHeader::new::<T>(orders_per_side);
        Self::new(header, nodes)
    }

    pub fn len(&self, side: Side) -> u32 {
        self.header.side(side).count
    }

    pub fn is_full(&self, side: Side) -> bool {
        self.header.side(side).count >= self.header.orders_per_side
    }

    pub fn best(&self, side: Side) -> Option<u32> {
        let b = self.header.side(side).best;
        (b != NIL).then_some(b)
    }

    pub fn worst(&self, side: Side) -> Option<u32> {
        let w = self.header.side(side).worst;
        (w != NIL).then_some(w)
    }

    #[inline(always)]
    pub fn node(&self, index: u32) -> &Node {
        &self.nodes[index as usize]
    }

    /// The node at `index`, if the book has one there.
    #[inline(always)]
    pub fn get(&self, index: u32) -> Option<&Node> {
        self.nodes.get(index as usize)
    }

    #[inline(always)]
    pub fn node_mut(&mut self, index: u32) -> &mut Node {
        &mut self.nodes[index as usize]
    }

    /// Adds an order (the caller checked capacity and crossing). Returns its node.
    pub fn insert(&mut self, o: &NewOrder) -> Result<u32, BookError> {
        let index = alloc(self.header, self.nodes)?;
        let node = &mut self.nodes[index as usize];
        *node = Node {
            tag: NODE_ORDER,
            side: o.side as u8,
            color: 0,
            owner_slot: o.owner_slot,
            order_kind: o.order_kind,
            flags: o.flags,
            _pad0: [0; 2],
            left: NIL,
            right: NIL,
            parent: NIL,
            _pad1: 0,
            price: o.price,
            seq: o.seq,
            size: o.size,
            client_order_id: o.client_order_id,
            expiry_ts: o.expiry_ts,
            owner: o.owner,
        };
        if let Err(e) = T::insert(self.header, self.nodes, o.side, index) {
            free(self.header, self.nodes, index);
            return Err(e);
        }
        Ok(index)
    }

    /// Removes the order at `index` and returns it.
    pub fn remove(&mut self, side: Side, index: u32) -> Node {
        let order = self.nodes[index as usize];
        T::remove(self.header, self.nodes, side, index);
        order
    }

    /// Gives the order at `index` (on `o.side`) the price, sequence number, size, client id,
    /// expiry, kind and flags of `o` without moving it, when that keeps it between its neighbours
    /// (`Tree::keeps_order`): a requote shifting a maker's ladder costs two neighbour lookups
    /// instead of a removal and an insertion. False, and nothing changed, otherwise. The owner and
    /// its slot stay the node's.
    pub fn requote_in_place(&mut self, index: u32, o: &NewOrder) -> bool {
        if !T::keeps_order(self.header, self.nodes, index, Key::new(o.side, o.price, o.seq)) {
            return false;
        }
        let n = &mut self.nodes[index as usize];
        n.price = o.price;
        n.seq = o.seq;
        n.size = o.size;
        n.client_order_id = o.client_order_id;
        n.expiry_ts = o.expiry_ts;
        n.order_kind = o.order_kind;
        n.flags = o.flags;
        true
    }

    pub fn find(&self, side: Side, price: Ticks, seq: u64) -> Option<u32> {
        T::find(self.header, self.nodes, side, Key::new(side, price, seq))
    }

    pub fn next(&self, side: Side, index: u32) -> Option<u32> {
        T::next(self.header, self.nodes, side, index)
    }

    /// Orders of a side in priority order (best first).
    pub fn iter(&self, side: Side) -> BookIter<'_, 'a, T> {
        BookIter { book: self, side, at: self.best(side) }
    }
}

pub struct BookIter<'b, 'a, T: Tree> {
    book: &'b Book<'a, T>,
    side: Side,
    at: Option<u32>,
}

impl<T: Tree> Iterator for BookIter<'_, '_, T> {
    type Item = (u32, Node);
    fn next(&mut self) -> Option<(u32, Node)> {
        let i = self.at?;
        self.at = self.book.next(self.side, i);
        Some((i, *self.book.node(i)))
    }
}

#[cfg(test)]
pub(crate) mod tests;
