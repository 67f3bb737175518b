//! Red-black tree over the slab: one node per order, parent pointers, best/worst cached.
//! Classic algorithm (CLRS), with `NIL` instead of a sentinel node; the delete fixup carries the
//! parent of a nil `x` explicitly.

use super::{free, BookError, BookHeader, Key, Node, SideRoot, Tree, NIL};
use crate::units::Side;

const RED: u8 = 1;
const BLACK: u8 = 0;

pub struct RedBlack;

#[inline(always)]
fn left(n: &[Node], i: u32) -> u32 {
    n[i as usize].left
}
#[inline(always)]
fn right(n: &[Node], i: u32) -> u32 {
    n[i as usize].right
}
#[inline(always)]
fn parent(n: &[Node], i: u32) -> u32 {
    n[i as usize].parent
}
#[inline(always)]
fn is_red(n: &[Node], i: u32) -> bool {
    i != NIL && n[i as usize].color == RED
}
#[inline(always)]
fn set_color(n: &mut [Node], i: u32, c: u8) {
    if i != NIL {
        n[i as usize].color = c;
    }
}
#[inline(always)]
fn set_parent(n: &mut [Node], i: u32, p: u32) {
    if i != NIL {
        n[i as usize].parent = p;
    }
}

fn minimum(n: &[Node], mut i: u32) -> u32 {
    while left(n, i) != NIL {
        i = left(n, i);
    }
    i
}

fn maximum(n: &[Node], mut i: u32) -> u32 {
    while right(n, i) != NIL {
        i = right(n, i);
    }
    i
}

fn successor(n: &[Node], mut i: u32) -> u32 {
    if right(n, i) != NIL {
        return minimum(n, right(n, i));
    }
    let mut p = parent(n, i);
    while p != NIL && i == right(n, p) {
        i = p;
        p = parent(n, p);
    }
    p
}

fn predecessor(n: &[Node], mut i: u32) -> u32 {
    if left(n, i) != NIL {
        return maximum(n, left(n, i));
    }
    let mut p = parent(n, i);
    while p != NIL && i == left(n, p) {
        i = p;
        p = parent(n, p);
    }
    p
}

/// Replaces the link to `old` (from its parent, or the root) by `new`.
#[inline(always)]
fn replace_child(root: &mut SideRoot, n: &mut [Node], old_parent: u32, old: u32, new: u32) {
    if old_parent == NIL {
        root.root = new;
    } else if left(n, old_parent) == old {
        n[old_parent as usize].left = new;
    } else {
        n[old_parent as usize].right = new;
    }
}

fn rotate_left(root: &mut SideRoot, n: &mut [Node], x: u32) {
    let y = right(n, x);
    let yl = left(n, y);
    n[x as usize].right = yl;
    set_parent(n, yl, x);
    let xp = parent(n, x);
    n[y as usize].parent = xp;
    replace_child(root, n, xp, x, y);
    n[y as usize].left = x;
    n[x as usize].parent = y;
}

fn rotate_right(root: &mut SideRoot, n: &mut [Node], x: u32) {
    let y = left(n, x);
    let yr = right(n, y);
    n[x as usize].left = yr;
    set_parent(n, yr, x);
    let xp = parent(n, x);
    n[y as usize].parent = xp;
    replace_child(root, n, xp, x, y);
    n[y as usize].right = x;
    n[x as usize].parent = y;
}

fn insert_fixup(root: &mut SideRoot, n: &mut [Node], mut z: u32) {
    while is_red(n, parent(n, z)) {
        let p = parent(n, z);
        let g = parent(n, p); // p is red, so not the root: g exists
        if p == left(n, g) {
            let u = right(n, g);
            if is_red(n, u) {
                set_color(n, p, BLACK);
                set_color(n, u, BLACK);
                set_color(n, g, RED);
                z = g;
            } else {
                let mut p = p;
                if z == right(n, p) {
                    z = p;
                    rotate_left(root, n, z);
                    p = parent(n, z);
                }
                set_color(n, p, BLACK);
                set_color(n, g, RED);
                rotate_right(root, n, g);
            }
        } else {
            let u = left(n, g);
            if is_red(n, u) {
                set_color(n, p, BLACK);
                set_color(n, u, BLACK);
                set_color(n, g, RED);
                z = g;
            } else {
                let mut p = p;
                if z == left(n, p) {
                    z = p;
                    rotate_right(root, n, z);
                    p = parent(n, z);
                }
                set_color(n, p, BLACK);
                set_color(n, g, RED);
                rotate_left(root, n, g);
            }
        }
    }
    let r = root.root;
    set_color(n, r, BLACK);
}

fn delete_fixup(root: &mut SideRoot, n: &mut [Node], mut x: u32, mut xp: u32) {
    while x != root.root && !is_red(n, x) {
        if x == left(n, xp) {
            let mut w = right(n, xp);
            if is_red(n, w) {
                set_color(n, w, BLACK);
                set_color(n, xp, RED);
                rotate_left(root, n, xp);
                w = right(n, xp);
            }
            if !is_red(n, left(n, w)) && !is_red(n, right(n, w)) {
                set_color(n, w, RED);
                x = xp;
                xp = parent(n, x);
            } else {
                if !is_red(n, right(n, w)) {
                    let wl = left(n, w);
                    set_color(n, wl, BLACK);
                    set_color(n, w, RED);
                    rotate_right(root, n, w);
                    w = right(n, xp);
                }
                let c = n[xp as usize].color;
                set_color(n, w, c);
                set_color(n, xp, BLACK);
                let wr = right(n, w);
                set_color(n, wr, BLACK);
                rotate_left(root, n, xp);
                x = root.root;
                xp = NIL;
            }
        } else {
            let mut w = left(n, xp);
            if is_red(n, w) {
                set_color(n, w, BLACK);
                set_color(n, xp, RED);
                rotate_right(root, n, xp);
                w = left(n, xp);
            }
            if !is_red(n, right(n, w)) && !is_red(n, left(n, w)) {
                set_color(n, w, RED);
                x = xp;
                xp = parent(n, x);
            } else {
                if !is_red(n, left(n, w)) {
                    let wr = right(n, w);
                    set_color(n, wr, BLACK);
                    set_color(n, w, RED);
                    rotate_left(root, n, w);
                    w = left(n, xp);
                }
                let c = n[xp as usize].color;
                set_color(n, w, c);
                set_color(n, xp, BLACK);
                let wl = left(n, w);
                set_color(n, wl, BLACK);
                rotate_right(root, n, xp);
                x = root.root;
                xp = NIL;
            }
        }
    }
    set_color(n, x, BLACK);
}

impl Tree for RedBlack {
    const KIND: u8 = 1;
    const NAME: &'static str = "red-black";

    fn node_capacity(orders_per_side: u32) -> u32 {
        orders_per_side.saturating_mul(2)
    }

    fn insert(header: &mut BookHeader, n: &mut [Node], side: Side, z: u32) -> Result<(), BookError> {
        let root = header.side_mut(side);
        let key = Key::of(&n[z as usize]);
        let mut y = NIL;
        let mut x = root.root;
        let mut go_left = false;
        // a new best (worst) order goes under the current best (worst), which has no left (right)
        // child: no search. A maker posting a ladder from its far end, or improving the best
        // price, pays O(1) before the rebalancing
        if root.best != NIL && key < Key::of(&n[root.best as usize]) {
            (y, x, go_left) = (root.best, NIL, true);
        } else if root.worst != NIL && key > Key::of(&n[root.worst as usize]) {
            (y, x, go_left) = (root.worst, NIL, false);
        }
        while x != NIL {
            y = x;
            let kx = Key::of(&n[x as usize]);
            if key == kx {
                return Err(BookError::DuplicateKey);
            }
            go_left = key < kx;
            x = if go_left { left(n, x) } else { right(n, x) };
        }
        {
            let node = &mut n[z as usize];
            node.parent = y;
            node.left = NIL;
            node.right = NIL;
            node.color = RED;
        }
        if y == NIL {
            root.root = z;
        } else if go_left {
            n[y as usize].left = z;
        } else {
            n[y as usize].right = z;
        }
        insert_fixup(root, n, z);
        root.count += 1;
        // (rotations move no node out of the in-order sequence: best and worst stay nodes)
        if root.best == NIL || (y == root.best && go_left) {
            root.best = z;
        }
        if root.worst == NIL || (y == root.worst && !go_left) {
            root.worst = z;
        }
        Ok(())
    }

    fn remove(header: &mut BookHeader, n: &mut [Node], side: Side, z: u32) {
        {
            let root = header.side_mut(side);
            if root.best == z {
                root.best = successor(n, z);
            }
            if root.worst == z {
                root.worst = predecessor(n, z);
            }
            let mut y_color = n[z as usize].color;
            let (x, xp);
            let (zl, zr, zp) = (left(n, z), right(n, z), parent(n, z));
            if zl == NIL {
                x = zr;
                xp = zp;
                replace_child(root, n, zp, z, zr);
                set_parent(n, zr, zp);
            } else if zr == NIL {
                x = zl;
                xp = zp;
                replace_child(root, n, zp, z, zl);
                set_parent(n, zl, zp);
            } else {
                let y = minimum(n, zr);
                y_color = n[y as usize].color;
                x = right(n, y);
                if parent(n, y) == z {
                    xp = y;
                } else {
                    xp = parent(n, y);
                    replace_child(root, n, xp, y, x);
                    set_parent(n, x, xp);
                    n[y as usize].right = zr;
                    n[zr as usize].parent = y;
                }
                replace_child(root, n, zp, z, y);
                n[y as usize].parent = zp;
                n[y as usize].left = zl;
                n[zl as usize].parent = y;
                n[y as usize].color = n[z as usize].color;
            }
            if y_color == BLACK {
                delete_fixup(root, n, x, xp);
            }
            root.count -= 1;
        }
        free(header, n, z);
    }

    fn find(header: &BookHeader, n: &[Node], side: Side, key: Key) -> Option<u32> {
        let mut x = header.side(side).root;
        while x != NIL {
            let kx = Key::of(&n[x as usize]);
            if key == kx {
                return Some(x);
            }
            x = if key < kx { left(n, x) } else { right(n, x) };
        }
        None
    }

    fn next(_header: &BookHeader, n: &[Node], _side: Side, leaf: u32) -> Option<u32> {
        let s = successor(n, leaf);
        (s != NIL).then_some(s)
    }

    fn keeps_order(_header: &BookHeader, n: &[Node], leaf: u32, key: Key) -> bool {
        // the order stays behind its successor when it moves ahead, and the other way round: only
        // the neighbour it moves towards needs a walk
        if key < Key::of(&n[leaf as usize]) {
            let p = predecessor(n, leaf);
            p == NIL || Key::of(&n[p as usize]) < key
        } else {
            let s = successor(n, leaf);
            s == NIL || key < Key::of(&n[s as usize])
        }
    }
}

/// Checks the red-black invariants of a side (tests and debugging): BST order, parent links, no red
/// node with a red child, equal black height on every path, root black, count/best/worst right.
pub fn check_invariants(header: &BookHeader, n: &[Node], side: Side) -> Result<(), &'static str> {
    fn walk(
        n: &[Node],
        i: u32,
        p: u32,
        lo: Option<Key>,
        hi: Option<Key>,
        count: &mut u32,
    ) -> Result<u32, &'static str> {
        if i == NIL {
            return Ok(1);
        }
        let node = &n[i as usize];
        if node.parent != p {
            return Err("parent link");
        }
        let k = Key::of(node);
        if lo.is_some_and(|lo| k <= lo) || hi.is_some_and(|hi| k >= hi) {
            return Err("order");
        }
        if node.color == RED && (is_red(n, node.left) || is_red(n, node.right)) {
            return Err("red node with a red child");
        }
        *count += 1;
        let bl = walk(n, node.left, i, lo, Some(k), count)?;
        let br = walk(n, node.right, i, Some(k), hi, count)?;
        if bl != br {
            return Err("black height");
        }
        Ok(bl + (node.color == BLACK) as u32)
    }
    let root = header.side(side);
    if is_red(n, root.root) {
        return Err("red root");
    }
    let mut count = 0;
    walk(n, root.root, NIL, None, None, &mut count)?;
    if count != root.count {
        return Err("count");
    }
    let (best, worst) = if root.root == NIL { (NIL, NIL) } else { (minimum(n, root.root), maximum(n, root.root)) };
    if best != root.best || worst != root.worst {
        return Err("cached best/worst");
    }
    Ok(())
}
