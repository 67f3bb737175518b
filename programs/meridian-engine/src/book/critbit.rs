//! Critbit (PATRICIA) tree over the slab: a leaf per order, an inner node per branch point (the
//! OpenBook/Mango layout). Inner nodes store their critical bit in `parent` and their children in
//! `left` (bit 0) and `right` (bit 1). Best and worst leaves are cached.

use super::{alloc, free, BookError, BookHeader, Key, Node, SideRoot, Tree, NIL, NODE_INNER};
use crate::units::Side;

pub struct Critbit;

/// Bit `b` of the key, counting from the most significant (b = 0) to the least (b = 127).
#[inline(always)]
fn bit(k: Key, b: u32) -> usize {
    (if b < 64 { (k.hi >> (63 - b)) & 1 } else { (k.lo >> (127 - b)) & 1 }) as usize
    // 0 or 1
}

/// The first bit where two different keys differ.
#[inline(always)]
fn crit_bit(a: Key, b: Key) -> u32 {
    if a.hi != b.hi {
        (a.hi ^ b.hi).leading_zeros()
    } else {
        64 + (a.lo ^ b.lo).leading_zeros()
    }
}

#[inline(always)]
fn is_inner(n: &[Node], i: u32) -> bool {
    n[i as usize].tag == NODE_INNER
}

#[inline(always)]
fn child(n: &[Node], i: u32, dir: usize) -> u32 {
    let node = &n[i as usize];
    if dir == 0 {
        node.left
    } else {
        node.right
    }
}

#[inline(always)]
fn set_child(n: &mut [Node], i: u32, dir: usize, c: u32) {
    let node = &mut n[i as usize];
    if dir == 0 {
        node.left = c;
    } else {
        node.right = c;
    }
}

/// The leaf with the smallest (dir = 0) or largest (dir = 1) key under `i`.
fn extreme(n: &[Node], mut i: u32, dir: usize) -> u32 {
    while is_inner(n, i) {
        i = child(n, i, dir);
    }
    i
}

fn set_extremes(root: &mut SideRoot, n: &[Node]) {
    if root.root == NIL {
        root.best = NIL;
        root.worst = NIL;
    } else {
        root.best = extreme(n, root.root, 0);
        root.worst = extreme(n, root.root, 1);
    }
}

impl Tree for Critbit {
    const KIND: u8 = 2;
    const NAME: &'static str = "critbit";

    fn node_capacity(orders_per_side: u32) -> u32 {
        // per side: one leaf per order and one fewer inner nodes
        orders_per_side.saturating_mul(4)
    }

    fn insert(header: &mut BookHeader, n: &mut [Node], side: Side, leaf: u32) -> Result<(), BookError> {
        let key = Key::of(&n[leaf as usize]);
        n[leaf as usize].left = NIL;
        n[leaf as usize].right = NIL;
        let root = header.side(side).root;
        if root == NIL {
            let r = header.side_mut(side);
            *r = SideRoot { root: leaf, count: 1, best: leaf, worst: leaf };
            return Ok(());
        }
        // the leaf the new key would meet, and where the two keys part
        let mut cur = root;
        while is_inner(n, cur) {
            cur = child(n, cur, bit(key, n[cur as usize].parent));
        }
        let met = Key::of(&n[cur as usize]);
        if met == key {
            return Err(BookError::DuplicateKey);
        }
        let crit = crit_bit(key, met);
        // descend to the first node that branches at or below `crit`
        let (mut parent, mut dir) = (NIL, 0);
        cur = root;
        while is_inner(n, cur) && n[cur as usize].parent < crit {
            parent = cur;
            dir = bit(key, n[cur as usize].parent);
            cur = child(n, cur, dir);
        }
        let inner = alloc(header, n)?;
        {
            let node = &mut n[inner as usize];
            *node = Node::default();
            node.tag = NODE_INNER;
            node.side = side as u8;
            node.parent = crit;
            if bit(key, crit) == 0 {
                node.left = leaf;
                node.right = cur;
            } else {
                node.left = cur;
                node.right = leaf;
            }
        }
        let r = header.side_mut(side);
        if parent == NIL {
            r.root = inner;
        } else {
            set_child(n, parent, dir, inner);
        }
        r.count += 1;
        if key < Key::of(&n[r.best as usize]) {
            r.best = leaf;
        }
        if key > Key::of(&n[r.worst as usize]) {
            r.worst = leaf;
        }
        Ok(())
    }

    fn remove(header: &mut BookHeader, n: &mut [Node], side: Side, leaf: u32) {
        let key = Key::of(&n[leaf as usize]);
        let r = *header.side(side);
        let (mut grand, mut parent, mut cur) = (NIL, NIL, r.root);
        let (mut parent_dir, mut dir) = (0, 0);
        while is_inner(n, cur) {
            grand = parent;
            parent_dir = dir;
            parent = cur;
            dir = bit(key, n[cur as usize].parent);
            cur = child(n, cur, dir);
        }
        debug_assert_eq!(cur, leaf, "critbit remove: leaf not found by its key");
        let mut root = r;
        if parent == NIL {
            root.root = NIL;
        } else {
            let sibling = child(n, parent, 1 - dir);
            if grand == NIL {
                root.root = sibling;
            } else {
                set_child(n, grand, parent_dir, sibling);
            }
            free(header, n, parent);
        }
        root.count -= 1;
        if root.best == leaf || root.worst == leaf {
            set_extremes(&mut root, n);
        }
        *header.side_mut(side) = root;
        free(header, n, leaf);
    }

    fn find(header: &BookHeader, n: &[Node], side: Side, key: Key) -> Option<u32> {
        let mut cur = header.side(side).root;
        if cur == NIL {
            return None;
        }
        while is_inner(n, cur) {
            cur = child(n, cur, bit(key, n[cur as usize].parent));
        }
        (Key::of(&n[cur as usize]) == key).then_some(cur)
    }

    fn next(header: &BookHeader, n: &[Node], side: Side, leaf: u32) -> Option<u32> {
        // the successor is the smallest leaf of the right subtree at the deepest left turn
        let key = Key::of(&n[leaf as usize]);
        let (mut cur, mut candidate) = (header.side(side).root, NIL);
        while is_inner(n, cur) {
            if bit(key, n[cur as usize].parent) == 0 {
                candidate = n[cur as usize].right;
                cur = n[cur as usize].left;
            } else {
                cur = n[cur as usize].right;
            }
        }
        (candidate != NIL).then(|| extreme(n, candidate, 0))
    }
}

/// Checks critbit invariants (tests): crit bits strictly increase downwards, every leaf agrees with
/// the path's bits, count and cached best/worst are right.
pub fn check_invariants(header: &BookHeader, n: &[Node], side: Side) -> Result<(), &'static str> {
    fn walk(
        n: &[Node],
        i: u32,
        min_crit: u32,
        path: &mut [(u32, usize)],
        depth: usize,
        leaves: &mut u32,
    ) -> Result<(), &'static str> {
        if is_inner(n, i) {
            let c = n[i as usize].parent;
            if c < min_crit || c >= 128 {
                return Err("crit bits must increase downwards");
            }
            for dir in 0..2 {
                path[depth] = (c, dir);
                walk(n, child(n, i, dir), c + 1, path, depth + 1, leaves)?;
            }
            Ok(())
        } else {
            let k = Key::of(&n[i as usize]);
            if path[..depth].iter().any(|&(c, dir)| bit(k, c) != dir) {
                return Err("leaf off its path");
            }
            *leaves += 1;
            Ok(())
        }
    }
    let r = header.side(side);
    if r.root == NIL {
        return if r.count == 0 && r.best == NIL && r.worst == NIL { Ok(()) } else { Err("empty side state") };
    }
    let mut leaves = 0;
    walk(n, r.root, 0, &mut [(0, 0); 129], 0, &mut leaves)?;
    if leaves != r.count {
        return Err("count");
    }
    if r.best != extreme(n, r.root, 0) || r.worst != extreme(n, r.root, 1) {
        return Err("cached best/worst");
    }
    Ok(())
}
