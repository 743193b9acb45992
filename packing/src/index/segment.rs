//! A segment tree over machines holding, per dimension, the largest free amount in each subtree.
//!
//! Leaves store `free + 1` for available machines and 0 for unavailable ones, and the search asks
//! for `demand < stored`: an unavailable machine then fails every demand, even an all-zero one,
//! without a second structure.
//!
//! It answers "the lowest machine id at or after `from` where this demand fits" by descending only
//! into subtrees whose per-dimension maxima could hold the demand. In one dimension the pruning is
//! exact and a query costs O(log n); in several dimensions a subtree can pass the test without any
//! single machine fitting, so the search may backtrack, but it returns exactly what a linear scan
//! would (the same lowest id), never a different machine.

use super::holds;
use crate::rule::Record;

/// Per-dimension maximum free amounts over a power-of-two number of leaves.
#[derive(Clone, Debug)]
pub(crate) struct FitIndex {
    dims: usize,
    /// Leaf count, a power of two; leaves past the machine count hold zeros and are never returned.
    leaves: usize,
    /// Node `k` (1-based heap order) occupies `max[k * dims..(k + 1) * dims]`; node 0 is unused.
    max: Vec<u64>,
}

impl FitIndex {
    pub(crate) fn new(dims: usize) -> FitIndex {
        FitIndex {
            dims,
            leaves: 1,
            max: vec![0; 2 * dims],
        }
    }

    fn node(&self, k: usize) -> &[u64] {
        &self.max[k * self.dims..(k + 1) * self.dims]
    }

    /// Makes room for `machines` leaves, rebuilding when it grows.
    pub(crate) fn reserve(&mut self, machines: usize, free: &[u64], available: &[bool]) {
        if machines > self.leaves {
            self.rebuild(machines, free, available);
        }
    }

    /// Rebuilds the whole tree for `machines` leaves from `free` (all machines' rows) and their
    /// availability, in O(n).
    pub(crate) fn rebuild(&mut self, machines: usize, free: &[u64], available: &[bool]) {
        self.leaves = machines.next_power_of_two().max(1);
        self.max = vec![0; 2 * self.leaves * self.dims];
        let d = self.dims;
        for (m, row) in free.chunks_exact(d).enumerate() {
            let leaf = &mut self.max[(self.leaves + m) * d..(self.leaves + m + 1) * d];
            if available[m] {
                for (s, &f) in leaf.iter_mut().zip(row) {
                    *s = f.saturating_add(1);
                }
            }
        }
        for k in (1..self.leaves).rev() {
            self.pull(k);
        }
    }

    /// The dimension count, a compile-time constant in the specialised copies (`D > 0`).
    #[inline]
    fn dims_of<const D: usize>(&self) -> usize {
        if D == 0 { self.dims } else { D }
    }

    /// Recomputes internal node `k` from its two children; true if that changed it.
    fn pull(&mut self, k: usize) -> bool {
        self.pull_n::<0>(k)
    }

    #[inline]
    fn pull_n<const D: usize>(&mut self, k: usize) -> bool {
        let d = self.dims_of::<D>();
        let (parent, children) = self.max.split_at_mut(2 * k * d);
        let (left, right) = children[..2 * d].split_at(d);
        let mut changed = false;
        for ((p, &l), &r) in parent[k * d..(k + 1) * d].iter_mut().zip(left).zip(right) {
            let v = l.max(r);
            changed |= *p != v;
            *p = v;
        }
        changed
    }

    /// Records that machine `leaf` now has `free` (and whether it may be used at all).
    pub(crate) fn set(&mut self, leaf: usize, free: &[u64], available: bool) {
        // Specialised for one and two dimensions, where the per-dimension loops then vanish.
        match self.dims {
            1 => self.set_n::<1>(leaf, free, available),
            2 => self.set_n::<2>(leaf, free, available),
            _ => self.set_n::<0>(leaf, free, available),
        }
    }

    fn set_n<const D: usize>(&mut self, leaf: usize, free: &[u64], available: bool) {
        let d = self.dims_of::<D>();
        let mut k = self.leaves + leaf;
        for (s, &f) in self.max[k * d..(k + 1) * d].iter_mut().zip(free) {
            *s = if available { f.saturating_add(1) } else { 0 };
        }
        while k > 1 {
            k /= 2;
            if !self.pull_n::<D>(k) {
                // This node's maxima did not change, so no ancestor's can.
                break;
            }
        }
    }

    /// The per-dimension largest free amount over available machines, `None` if there are none.
    pub(crate) fn max_free(&self) -> Option<Vec<u64>> {
        let root = self.node(1);
        root.iter()
            .all(|&s| s > 0)
            .then(|| root.iter().map(|s| s - 1).collect())
    }

    /// True unless some dimension of `demand` exceeds every available machine's free amount.
    pub(crate) fn may_fit(&self, demand: &[u64]) -> bool {
        holds(self.node(1), demand)
    }

    /// The lowest available leaf in `from..machines` whose free amounts hold `demand`.
    pub(crate) fn first_fit(&self, demand: &[u64], from: usize, machines: usize) -> Option<usize> {
        if from >= machines {
            return None;
        }
        if from == 0 {
            let leaf = match self.dims {
                1 => self.descend_one(demand[0]),
                2 => self.descend::<2>(demand),
                _ => self.descend::<0>(demand),
            };
            if let Some(leaf) = leaf {
                return (leaf < machines).then_some(leaf);
            }
        }
        self.search(1, 0, self.leaves, demand, from, machines)
    }

    #[inline]
    fn node_holds(&self, k: usize, demand: &[u64]) -> bool {
        holds(self.node(k), demand)
    }

    /// The lowest leaf holding `demand`, by one walk down: into the left child when it holds the
    /// demand, else into the right one. In one dimension a node that holds the demand has a child
    /// that does, so the walk always ends at the answer; in several, both children can fail
    /// (their maxima come from different machines), and then this gives up (`None`) for the
    /// backtracking search. A leaf it reaches is the lowest that holds the demand: it turned right
    /// only where the left subtree could not hold it.
    #[inline]
    fn descend<const D: usize>(&self, demand: &[u64]) -> Option<usize> {
        let d = self.dims_of::<D>();
        let node_holds = |k: usize| holds(&self.max[k * d..(k + 1) * d], &demand[..d]);
        if !node_holds(1) {
            return None;
        }
        let mut k = 1;
        while k < self.leaves {
            k = if node_holds(2 * k) {
                2 * k
            } else if node_holds(2 * k + 1) {
                2 * k + 1
            } else {
                return None;
            };
        }
        Some(k - self.leaves)
    }

    /// [`FitIndex::descend`] in one dimension, where it always ends at the answer: a node that
    /// holds the demand has a child that does, the left one unless only the right one does. One
    /// comparison per level and no branch to mispredict.
    #[inline]
    fn descend_one(&self, demand: u64) -> Option<usize> {
        let max = &self.max[..2 * self.leaves];
        if max[1] <= demand {
            return None;
        }
        let mut k = 1;
        while k < self.leaves {
            k = 2 * k + usize::from(max[2 * k] <= demand);
        }
        Some(k - self.leaves)
    }

    fn search(
        &self,
        k: usize,
        lo: usize,
        hi: usize,
        demand: &[u64],
        from: usize,
        machines: usize,
    ) -> Option<usize> {
        if hi <= from || lo >= machines || !self.node_holds(k, demand) {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = lo + (hi - lo) / 2;
        self.search(2 * k, lo, mid, demand, from, machines)
            .or_else(|| self.search(2 * k + 1, mid, hi, demand, from, machines))
    }

    /// Offers to `record`, in id order, every leaf in `0..machines` passing `fit` with its
    /// `score`, skipping every subtree whose `bound` is [`Record::hopeless`].
    ///
    /// `bound(stored)` must be at least the score of any machine whose free amounts are below
    /// `stored` in every dimension (the subtree's per-dimension maximum plus one). Skipping is
    /// exact: the record's floor only rises, so a machine hopeless now stays hopeless.
    pub(crate) fn branch_and_bound(
        &self,
        demand: &[u64],
        machines: usize,
        fit: &impl Fn(usize) -> bool,
        score: &impl Fn(usize) -> f64,
        bound: &impl Fn(&[u64]) -> f64,
        record: &mut Record,
    ) {
        self.bnb(1, 0, self.leaves, demand, machines, fit, score, bound, record);
    }

    #[allow(clippy::too_many_arguments)]
    fn bnb(
        &self,
        k: usize,
        lo: usize,
        hi: usize,
        demand: &[u64],
        machines: usize,
        fit: &impl Fn(usize) -> bool,
        score: &impl Fn(usize) -> f64,
        bound: &impl Fn(&[u64]) -> f64,
        record: &mut Record,
    ) {
        let node = self.node(k);
        if lo >= machines || !holds(node, demand) || record.hopeless(bound(node)) {
            return;
        }
        if hi - lo == 1 {
            if fit(lo) {
                record.offer(lo as u32, score(lo));
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        self.bnb(2 * k, lo, mid, demand, machines, fit, score, bound, record);
        self.bnb(2 * k + 1, mid, hi, demand, machines, fit, score, bound, record);
    }
}
