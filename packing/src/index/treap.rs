//! An ordered index of machines by their residual key, for best fit and worst fit.
//!
//! Best fit and worst fit score a machine by its weighted normalised free amount (its *key*,
//! [`residual_key`]): best fit prefers the smallest key among machines where the task fits, worst
//! fit the largest. A scan looks at every machine. This index keeps the machines in a treap
//! ordered by `(order, id)` — `order` is the key's bit pattern, inverted for worst fit, so the
//! preferred machine always comes first — and augments every subtree with its per-dimension
//! maximum free amount (as [`super::segment::FitIndex`] does by id). "The first machine in order
//! where this demand fits" then descends only into subtrees that could hold the demand: O(log n)
//! in one dimension, a little backtracking in several.
//!
//! Each machine is one node and the node's index is the machine id, so no map from machines to
//! nodes is needed. A change of a machine's free amounts moves its node (remove and re-insert,
//! O(log n) expected); a change of the reference capacities (a larger machine added) changes every
//! key and rebuilds the tree.
//!
//! The index never changes a decision: [`crate::policy`] uses it to find the same machine the scan
//! would (see `search::best_by_order` for why the two agree exactly, float ties included).

use super::{Position, holds, residual_key};

/// No node.
const NIL: u32 = u32::MAX;

/// The treap.
#[derive(Clone, Debug)]
pub(crate) struct OrderIndex {
    dims: usize,
    /// True: the largest key comes first (worst fit); false: the smallest (best fit).
    descending: bool,
    /// The normalised weights and inverse reference capacities the keys were computed with.
    normalised: Vec<f64>,
    inv_reference: Vec<f64>,
    root: u32,
    left: Vec<u32>,
    right: Vec<u32>,
    priority: Vec<u32>,
    order: Vec<u64>,
    /// Node `i`'s own free amounts plus one (0 in every dimension when unavailable), as in
    /// `FitIndex`: a demand fits where `demand < stored` in every dimension.
    own: Vec<u64>,
    /// The per-dimension maximum of `own` over node `i`'s subtree.
    max: Vec<u64>,
}

impl OrderIndex {
    /// An index over machines whose free amounts are the rows of `free`.
    pub(crate) fn new(
        dims: usize,
        descending: bool,
        normalised: &[f64],
        inv_reference: &[f64],
        free: &[u64],
        available: &[bool],
    ) -> OrderIndex {
        let mut index = OrderIndex {
            dims,
            descending,
            normalised: normalised.to_vec(),
            inv_reference: inv_reference.to_vec(),
            root: NIL,
            left: Vec::new(),
            right: Vec::new(),
            priority: Vec::new(),
            order: Vec::new(),
            own: Vec::new(),
            max: Vec::new(),
        };
        index.rebuild(inv_reference, free, available);
        index
    }

    /// True when this index orders by `normalised` weights in the given direction.
    pub(crate) fn serves(&self, normalised: &[f64], descending: bool) -> bool {
        self.descending == descending && self.normalised == normalised
    }

    /// The inverse reference capacities the keys were computed with.
    pub(crate) fn inv_reference(&self) -> &[f64] {
        &self.inv_reference
    }

    /// The order value of a key.
    #[inline]
    fn order_of(&self, key: f64) -> u64 {
        // Keys are sums of non-negative products, never -0.0 or NaN, so their bit patterns sort
        // as the numbers do.
        if self.descending {
            !key.to_bits()
        } else {
            key.to_bits()
        }
    }

    /// Rebuilds every node from scratch (after the reference capacities changed).
    pub(crate) fn rebuild(&mut self, inv_reference: &[f64], free: &[u64], available: &[bool]) {
        let n = available.len();
        let d = self.dims;
        self.inv_reference = inv_reference.to_vec();
        self.root = NIL;
        self.left = vec![NIL; n];
        self.right = vec![NIL; n];
        self.priority = (0..n as u32).map(priority).collect();
        self.order = vec![0; n];
        self.own = vec![0; n * d];
        self.max = vec![0; n * d];
        for m in 0..n {
            self.write(m, &free[m * d..(m + 1) * d], available[m]);
        }
        // Insert in order: building a treap from sorted positions with a right spine stack.
        let mut sorted: Vec<u32> = (0..n as u32).collect();
        sorted.sort_unstable_by_key(|&m| (self.order[m as usize], m));
        let mut spine: Vec<u32> = Vec::new();
        for &m in &sorted {
            let mut last = NIL;
            while let Some(&top) = spine.last() {
                if self.priority[top as usize] >= self.priority[m as usize] {
                    break;
                }
                last = spine.pop().expect("not empty");
                self.pull(last);
            }
            self.left[m as usize] = last;
            if let Some(&top) = spine.last() {
                self.right[top as usize] = m;
            }
            spine.push(m);
        }
        self.root = spine.first().copied().unwrap_or(NIL);
        while let Some(top) = spine.pop() {
            self.pull(top);
        }
    }

    /// Sets node `m`'s key and own amounts (it must not be linked in the tree).
    fn write(&mut self, m: usize, free: &[u64], available: bool) {
        let key = residual_key(free, &self.normalised, &self.inv_reference);
        self.order[m] = self.order_of(key);
        let d = self.dims;
        for (s, &f) in self.own[m * d..(m + 1) * d].iter_mut().zip(free) {
            *s = if available { f.saturating_add(1) } else { 0 };
        }
        self.max[m * d..(m + 1) * d].copy_from_slice(&self.own[m * d..(m + 1) * d]);
    }

    /// Adds machine `m` (its id is the next node) with its free amounts.
    pub(crate) fn push(&mut self, free: &[u64], available: bool) {
        let m = self.left.len();
        self.left.push(NIL);
        self.right.push(NIL);
        self.priority.push(priority(m as u32));
        self.order.push(0);
        self.own.extend(std::iter::repeat_n(0, self.dims));
        self.max.extend(std::iter::repeat_n(0, self.dims));
        self.write(m, free, available);
        self.root = self.insert(self.root, m as u32);
    }

    /// Records machine `m`'s new free amounts and availability, moving its node.
    pub(crate) fn update(&mut self, m: usize, free: &[u64], available: bool) {
        let old = (self.order[m], m as u32);
        self.root = self.remove(self.root, old);
        self.left[m] = NIL;
        self.right[m] = NIL;
        self.write(m, free, available);
        self.root = self.insert(self.root, m as u32);
    }

    #[inline]
    fn position(&self, m: u32) -> Position {
        (self.order[m as usize], m)
    }

    /// Recomputes node `m`'s subtree maximum from its own amounts and its children's.
    #[inline]
    fn pull(&mut self, m: u32) {
        let d = self.dims;
        let m = m as usize;
        let (l, r) = (self.left[m], self.right[m]);
        for k in 0..d {
            let mut v = self.own[m * d + k];
            if l != NIL {
                v = v.max(self.max[l as usize * d + k]);
            }
            if r != NIL {
                v = v.max(self.max[r as usize * d + k]);
            }
            self.max[m * d + k] = v;
        }
    }

    fn insert(&mut self, t: u32, x: u32) -> u32 {
        if t == NIL {
            return x;
        }
        if self.priority[x as usize] > self.priority[t as usize] {
            let (l, r) = self.split(t, self.position(x));
            self.left[x as usize] = l;
            self.right[x as usize] = r;
            self.pull(x);
            return x;
        }
        if self.position(x) < self.position(t) {
            self.left[t as usize] = self.insert(self.left[t as usize], x);
        } else {
            self.right[t as usize] = self.insert(self.right[t as usize], x);
        }
        self.pull(t);
        t
    }

    /// Splits subtree `t` into the nodes before `p` and those after it (`p` is in neither).
    fn split(&mut self, t: u32, p: Position) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.position(t) < p {
            let (l, r) = self.split(self.right[t as usize], p);
            self.right[t as usize] = l;
            self.pull(t);
            (t, r)
        } else {
            let (l, r) = self.split(self.left[t as usize], p);
            self.left[t as usize] = r;
            self.pull(t);
            (l, t)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.priority[a as usize] > self.priority[b as usize] {
            self.right[a as usize] = self.merge(self.right[a as usize], b);
            self.pull(a);
            a
        } else {
            self.left[b as usize] = self.merge(a, self.left[b as usize]);
            self.pull(b);
            b
        }
    }

    fn remove(&mut self, t: u32, p: Position) -> u32 {
        if t == NIL {
            return NIL;
        }
        let here = self.position(t);
        if here == p {
            return self.merge(self.left[t as usize], self.right[t as usize]);
        }
        if p < here {
            self.left[t as usize] = self.remove(self.left[t as usize], p);
        } else {
            self.right[t as usize] = self.remove(self.right[t as usize], p);
        }
        self.pull(t);
        t
    }

    /// A position before every machine that can hold a demand whose key is `key`, and after as
    /// many others as the order allows: a machine holding the demand has at least its free amounts
    /// in every dimension, so (the key being monotone in `fl` too) at least its key. In the
    /// ascending order (best fit) that skips every machine with a smaller key; in the descending
    /// order such machines come last anyway, so it is the start.
    pub(crate) fn start_for(&self, key: f64) -> Option<Position> {
        match key.to_bits() {
            bits if !self.descending && bits > 0 => Some((bits - 1, u32::MAX)),
            _ => None,
        }
    }

    /// The first machine after position `after` (or from the start) whose free amounts hold
    /// `demand`, with its position.
    pub(crate) fn next_fit(&self, demand: &[u64], after: Option<Position>) -> Option<(u32, Position)> {
        let m = self.search(self.root, demand, after)?;
        Some((m, self.position(m)))
    }

    fn search(&self, t: u32, demand: &[u64], after: Option<Position>) -> Option<u32> {
        let d = self.dims;
        let mut t = t;
        loop {
            if t == NIL || !holds(&self.max[t as usize * d..(t as usize + 1) * d], demand) {
                return None;
            }
            match after {
                Some(p) if self.position(t) <= p => t = self.right[t as usize],
                _ => break,
            }
        }
        if let Some(m) = self.search(self.left[t as usize], demand, after) {
            return Some(m);
        }
        if holds(&self.own[t as usize * d..(t as usize + 1) * d], demand) {
            return Some(t);
        }
        self.search(self.right[t as usize], demand, None)
    }

    /// Every node in order (for tests).
    #[cfg(test)]
    fn in_order(&self) -> Vec<u32> {
        fn walk(ix: &OrderIndex, t: u32, out: &mut Vec<u32>) {
            if t != NIL {
                walk(ix, ix.left[t as usize], out);
                out.push(t);
                walk(ix, ix.right[t as usize], out);
            }
        }
        let mut out = Vec::new();
        walk(self, self.root, &mut out);
        out
    }

    /// Checks the heap, order and maximum invariants (for tests).
    #[cfg(test)]
    fn check(&self) {
        let nodes = self.in_order();
        assert_eq!(nodes.len(), self.left.len(), "every machine is in the tree");
        for w in nodes.windows(2) {
            assert!(self.position(w[0]) < self.position(w[1]));
        }
        for &m in &nodes {
            let m = m as usize;
            for child in [self.left[m], self.right[m]] {
                if child != NIL {
                    assert!(self.priority[child as usize] <= self.priority[m]);
                }
            }
            for k in 0..self.dims {
                let mut v = self.own[m * self.dims + k];
                for child in [self.left[m], self.right[m]] {
                    if child != NIL {
                        v = v.max(self.max[child as usize * self.dims + k]);
                    }
                }
                assert_eq!(self.max[m * self.dims + k], v);
            }
        }
    }
}

/// A node's heap priority: a fixed hash of its id, so the tree's shape is deterministic.
fn priority(m: u32) -> u32 {
    (crate::hash::splitmix64(u64::from(m)) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(free: &[[u64; 2]], descending: bool) -> OrderIndex {
        let flat: Vec<u64> = free.iter().flatten().copied().collect();
        OrderIndex::new(
            2,
            descending,
            &[0.5, 0.5],
            &[0.1, 0.1],
            &flat,
            &vec![true; free.len()],
        )
    }

    #[test]
    fn orders_by_key_then_id_and_finds_the_first_fit() {
        let ix = index(&[[5, 5], [2, 9], [1, 1], [9, 9], [5, 5]], false);
        ix.check();
        // keys (times 10): 5, 5.5, 1, 9, 5 → order m2, m0, m4, m1, m3.
        assert_eq!(ix.in_order(), vec![2, 0, 4, 1, 3]);
        assert_eq!(ix.next_fit(&[0, 0], None).unwrap().0, 2);
        assert_eq!(ix.next_fit(&[2, 2], None).unwrap().0, 0);
        assert_eq!(ix.next_fit(&[0, 6], None).unwrap().0, 1);
        let after_m0 = ix.position(0);
        assert_eq!(ix.next_fit(&[2, 2], Some(after_m0)).unwrap().0, 4);
        assert_eq!(ix.next_fit(&[10, 0], None), None);
        let worst = index(&[[5, 5], [2, 9], [1, 1], [9, 9], [5, 5]], true);
        worst.check();
        assert_eq!(worst.in_order(), vec![3, 1, 0, 4, 2]);
    }

    #[test]
    fn updates_move_nodes_and_keep_the_invariants() {
        let mut ix = index(&[[5, 5], [2, 9], [1, 1], [9, 9], [5, 5]], false);
        ix.update(3, &[0, 0], true);
        ix.check();
        assert_eq!(ix.in_order()[0], 3);
        ix.update(2, &[1, 1], false);
        ix.check();
        assert_eq!(ix.next_fit(&[0, 0], None).unwrap().0, 3);
        ix.push(&[3, 3], true);
        ix.check();
        assert_eq!(ix.next_fit(&[1, 1], None).unwrap().0, 5);
        let mut rng = 1u64;
        for _ in 0..500 {
            rng = crate::hash::splitmix64(rng);
            let m = (rng % 6) as usize;
            ix.update(m, &[rng >> 60, (rng >> 40) & 15], rng & 1 == 0);
            ix.check();
        }
    }
}
