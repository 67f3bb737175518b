//! Both trees against a BTreeMap model: after every operation the tree's invariants hold, the
//! book iterates in exactly the model's order, best/worst/find agree, and freed nodes are reused.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

pub(crate) struct Storage {
    pub header: BookHeader,
    pub nodes: Vec<Node>,
}

impl Storage {
    pub fn new<T: Tree>(orders_per_side: u32) -> Storage {
        let header = BookHeader::new::<T>(orders_per_side);
        let nodes = vec![Node::default(); header.node_capacity as usize];
        Storage { header, nodes }
    }

    pub fn book<T: Tree>(&mut self) -> Book<'_, T> {
        Book::new(&mut self.header, &mut self.nodes).unwrap()
    }
}

fn order(side: Side, price: u64, seq: u64) -> NewOrder {
    NewOrder {
        side,
        price: Ticks(price),
        size: Lots(1 + seq % 7),
        seq,
        client_order_id: seq * 10,
        expiry_ts: 0,
        owner: [seq as u8; 32],
        owner_slot: 0,
        order_kind: 0,
        flags: 0,
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert { side: bool, price: u64 },
    RemoveAt { side: bool, pick: usize },
    RemoveBest { side: bool },
    RemoveWorst { side: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 1u64..40).prop_map(|(side, price)| Op::Insert { side, price }),
        2 => (any::<bool>(), any::<usize>()).prop_map(|(side, pick)| Op::RemoveAt { side, pick }),
        1 => any::<bool>().prop_map(|side| Op::RemoveBest { side }),
        1 => any::<bool>().prop_map(|side| Op::RemoveWorst { side }),
    ]
}

fn check<T: Tree>(
    s: &Storage,
    models: &[BTreeMap<Key, u32>; 2],
    invariants: fn(&BookHeader, &[Node], Side) -> Result<(), &'static str>,
) {
    let header = &s.header;
    for side in [Side::Bid, Side::Ask] {
        invariants(header, &s.nodes, side).unwrap_or_else(|e| panic!("{} {side:?}: {e}", T::NAME));
        let model = &models[side as usize];
        let mut h = *header;
        let mut nodes = s.nodes.clone();
        let book = Book::<T>::new(&mut h, &mut nodes).unwrap();
        let got: Vec<u32> = book.iter(side).map(|(i, _)| i).collect();
        let want: Vec<u32> = model.values().copied().collect();
        assert_eq!(got, want, "{} {side:?}: iteration order", T::NAME);
        assert_eq!(book.best(side), model.values().next().copied());
        assert_eq!(book.worst(side), model.values().next_back().copied());
        assert_eq!(book.len(side) as usize, model.len());
        for (k, &i) in model {
            let node = book.node(i);
            assert_eq!(Key::of(node), *k);
            assert_eq!(book.find(side, node.price, node.seq), Some(i));
        }
    }
}

fn run<T: Tree>(ops: &[Op], invariants: fn(&BookHeader, &[Node], Side) -> Result<(), &'static str>) {
    let cap = 24;
    let mut s = Storage::new::<T>(cap);
    let mut models: [BTreeMap<Key, u32>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let mut seq = 0u64;
    for op in ops {
        let mut book = s.book::<T>();
        match *op {
            Op::Insert { side, price } => {
                let side = if side { Side::Bid } else { Side::Ask };
                if book.is_full(side) {
                    continue;
                }
                seq += 1;
                let o = order(side, price, seq);
                let i = book.insert(&o).expect("room for the order");
                models[side as usize].insert(Key::new(side, o.price, seq), i);
            }
            Op::RemoveAt { side, pick } => {
                let side = if side { Side::Bid } else { Side::Ask };
                let model = &mut models[side as usize];
                if model.is_empty() {
                    continue;
                }
                let k = *model.keys().nth(pick % model.len()).unwrap();
                let i = model.remove(&k).unwrap();
                let removed = book.remove(side, i);
                assert_eq!(Key::of(&removed), k);
            }
            Op::RemoveBest { side } | Op::RemoveWorst { side } => {
                let s2 = if side { Side::Bid } else { Side::Ask };
                let best = matches!(op, Op::RemoveBest { .. });
                let got = if best { book.best(s2) } else { book.worst(s2) };
                let model = &mut models[s2 as usize];
                let want = if best { model.pop_first() } else { model.pop_last() };
                assert_eq!(got, want.map(|(_, i)| i));
                if let Some(i) = got {
                    book.remove(s2, i);
                }
            }
        }
        check::<T>(&s, &models, invariants);
    }
}

#[test]
fn price_time_priority_on_both_sides() {
    fn go<T: Tree>() {
        let mut s = Storage::new::<T>(8);
        let mut book = s.book::<T>();
        for (seq, price) in [(1, 100), (2, 101), (3, 100), (4, 99)] {
            book.insert(&order(Side::Bid, price, seq)).unwrap();
            book.insert(&order(Side::Ask, price + 10, seq)).unwrap();
        }
        let bids: Vec<(u64, u64)> = book.iter(Side::Bid).map(|(_, n)| (n.price.0, n.seq)).collect();
        assert_eq!(bids, [(101, 2), (100, 1), (100, 3), (99, 4)], "{}", T::NAME);
        let asks: Vec<(u64, u64)> = book.iter(Side::Ask).map(|(_, n)| (n.price.0, n.seq)).collect();
        assert_eq!(asks, [(109, 4), (110, 1), (110, 3), (111, 2)], "{}", T::NAME);
    }
    go::<rbtree::RedBlack>();
    go::<critbit::Critbit>();
}

#[test]
fn full_side_uses_exactly_its_capacity_and_reuses_nodes() {
    fn go<T: Tree>() {
        let cap = 50;
        let mut s = Storage::new::<T>(cap);
        let mut book = s.book::<T>();
        for round in 0..3u64 {
            for i in 0..cap as u64 {
                for side in [Side::Bid, Side::Ask] {
                    book.insert(&order(side, 1 + (i * 7919) % 97, round * 1000 + i + 1)).unwrap();
                }
            }
            assert!(book.is_full(Side::Bid) && book.is_full(Side::Ask));
            for side in [Side::Bid, Side::Ask] {
                while let Some(b) = book.best(side) {
                    book.remove(side, b);
                }
            }
        }
        assert!(book.header.next_unused <= book.header.node_capacity, "{}", T::NAME);
    }
    go::<rbtree::RedBlack>();
    go::<critbit::Critbit>();
}

#[test]
fn duplicate_keys_are_refused_and_leak_nothing() {
    fn go<T: Tree>() {
        let mut s = Storage::new::<T>(4);
        let mut book = s.book::<T>();
        book.insert(&order(Side::Ask, 5, 1)).unwrap();
        book.insert(&order(Side::Ask, 6, 2)).unwrap();
        assert_eq!(book.insert(&order(Side::Ask, 5, 1)), Err(BookError::DuplicateKey));
        assert_eq!(book.len(Side::Ask), 2);
        book.insert(&order(Side::Ask, 7, 3)).unwrap();
        // no leak: every node ever handed out is either free or part of the tree
        let mut free_len = 0;
        let mut f = book.header.free_head;
        while f != NIL {
            free_len += 1;
            f = book.nodes[f as usize].left;
        }
        let live = book.nodes[..book.header.next_unused as usize].iter().filter(|n| n.tag != NODE_FREE).count();
        assert_eq!(live + free_len, book.header.next_unused as usize, "{}", T::NAME);
        let orders = book.nodes.iter().filter(|n| n.tag == NODE_ORDER).count();
        assert_eq!(orders, 3, "{}", T::NAME);
    }
    go::<rbtree::RedBlack>();
    go::<critbit::Critbit>();
}

#[test]
fn a_book_is_never_read_with_the_other_tree() {
    let mut s = Storage::new::<rbtree::RedBlack>(4);
    assert_eq!(Book::<critbit::Critbit>::new(&mut s.header, &mut s.nodes).err(), Some(BookError::WrongLayout));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn red_black_matches_model(ops in prop::collection::vec(op(), 1..200)) {
        run::<rbtree::RedBlack>(&ops, rbtree::check_invariants);
    }

    #[test]
    fn critbit_matches_model(ops in prop::collection::vec(op(), 1..200)) {
        run::<critbit::Critbit>(&ops, critbit::check_invariants);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A requote in place happens exactly when the new key keeps the order between its neighbours,
    /// and leaves a valid tree whose orders come out in key order with the new one where it was.
    #[test]
    fn red_black_requotes_in_place_only_between_neighbours(
        prices in prop::collection::vec(1u64..60, 1..40),
        pick in any::<prop::sample::Index>(),
        new_price in 1u64..60,
        bid in any::<bool>(),
    ) {
        let side = if bid { Side::Bid } else { Side::Ask };
        let mut s = Storage::new::<rbtree::RedBlack>(64);
        let mut book = s.book::<rbtree::RedBlack>();
        let nodes: Vec<u32> = prices.iter().enumerate().map(|(i, p)| book.insert(&order(side, *p, i as u64 + 1)).unwrap()).collect();
        let target = nodes[pick.index(nodes.len())];
        let before: Vec<u32> = book.iter(side).map(|(i, _)| i).collect();
        let at = before.iter().position(|i| *i == target).unwrap();
        let new = order(side, new_price, 1_000);
        let key = Key::new(side, Ticks(new_price), 1_000);
        let fits = (at == 0 || Key::of(book.node(before[at - 1])) < key)
            && (at + 1 == before.len() || key < Key::of(book.node(before[at + 1])));
        prop_assert_eq!(book.requote_in_place(target, &new), fits);
        rbtree::check_invariants(book.header, book.nodes, side).unwrap();
        let after: Vec<u32> = book.iter(side).map(|(i, _)| i).collect();
        prop_assert_eq!(&after, &before, "no node moved");
        prop_assert_eq!(book.node(target).price.0, if fits { new_price } else { prices[nodes.iter().position(|n| *n == target).unwrap()] });
        // and a critbit book never requotes in place
        let mut c = Storage::new::<critbit::Critbit>(64);
        let mut cb = c.book::<critbit::Critbit>();
        let first = cb.insert(&order(side, 5, 1)).unwrap();
        prop_assert!(!cb.requote_in_place(first, &order(side, 5, 2)));
    }
}
