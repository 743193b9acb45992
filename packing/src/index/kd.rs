//! A k-d tree of the machines by their free amounts, for decisions that depend on several
//! dimensions at once: multi-dimensional best fit and the pruning of scores.
//!
//! The id-ordered segment tree ([`super::segment::FitIndex`]) and the key-ordered treap
//! ([`super::treap::OrderIndex`]) group machines by id or by a weighted sum, so a subtree mixes
//! machines that are large in one dimension and small in another: its per-dimension maxima hold
//! almost any demand while few of its machines do, and a multi-dimensional search wanders. Here
//! the machines are grouped by *where they are* in free-amount space. The space is cut by
//! median splits on the dimension of widest spread (ties in amount split by machine id, so a
//! fleet of identical machines still spreads out) into cells of about [`LEAF`] machines; a
//! machine lives in the cell its free amounts fall in, available or not, and moves to another
//! cell when they change. Every node keeps, over the machines in its cells:
//! - the per-dimension maximum and minimum of the stored amounts (`free + 1`, 0 when unavailable,
//!   as in the other indexes: a demand fits where `demand < stored` in every dimension);
//! - the two smallest positions `(key order, id)` of different key orders, when the tree is keyed
//!   for best fit;
//! - the lowest machine id;
//! - the per-dimension maximum and minimum capacity, when the tree keeps capacities (for scores
//!   relative to each machine's own capacity, such as kube's least- and most-allocated).
//!
//! So a node whose maxima cannot hold the demand is skipped, a node whose *minima* hold it is
//! answered at once (every machine in it fits), and a node whose key bound or smallest position
//! is no better than the answer so far is skipped. A score search skips a node whose score bound
//! is below the best so far, or no higher than a candidate's with a lower id than any of the
//! node's (whole-number scores tie a lot, and ties go to the lowest id). Queries return exactly what a scan would; the
//! cut only decides how fast. When machines drift into a few crowded cells, keeping those up to
//! date costs more; once that extra work adds up to the price of a cut, the space is cut again
//! for the machines as they are (a rent-or-buy rule: never more than twice the best of the two).

use super::{Position, holds, residual_key, residual_key_by};
use crate::rule::Record;

/// Machines per cell at build time.
const LEAF: usize = 8;
/// Cells up to this size cost nothing extra to keep; beyond it, keeping them up to date runs up
/// the debt that pays for cutting the space again.
const ROOMY: usize = 2 * LEAF;

/// The tree. Nodes are in heap order (node `k` has children `2k` and `2k + 1`), leaves are nodes
/// `leaves..2 * leaves`.
#[derive(Clone, Debug)]
pub(crate) struct KdIndex {
    dims: usize,
    /// Best fit's normalised weights, when positions are kept; `None` for an unkeyed tree.
    normalised: Option<Vec<f64>>,
    inv_reference: Vec<f64>,
    leaves: usize,
    /// Internal node `k` sends machine `m` right when `(free[split_dim[k]], m) >= (split_at[k],
    /// split_id[k])`: the id breaks ties, so machines with equal amounts (a fleet of one machine
    /// type, all empty) still spread over cells.
    split_dim: Vec<u32>,
    split_at: Vec<u64>,
    split_id: Vec<u32>,
    /// Per node, `dims` values each: the maximum and minimum stored amounts over its machines
    /// (0 and `u64::MAX` for an empty node).
    hi: Vec<u64>,
    lo: Vec<u64>,
    /// Keyed trees only: per node and dimension, that dimension's term of the key at the node's
    /// minimum free amount, `ŵ_d · (lo_d − 1) / ref_d` (computed as the key computes it).
    lo_term: Vec<f64>,
    /// Per node, the smallest position over its machines (`(u64::MAX, u32::MAX)` when empty or
    /// unkeyed).
    first: Vec<Position>,
    /// Per node, the smallest position of a larger key order than `first`'s (`NONE` if none).
    second: Vec<Position>,
    /// Per node, the lowest machine id in it (`u32::MAX` when empty): a node whose machines
    /// can at best tie with a lower-id candidate cannot win ([`Record::dominated`]).
    min_id: Vec<u32>,
    /// True when the tree keeps capacities, for scores relative to each machine's own capacity:
    /// then machines' points include their capacities, and per node and dimension the maximum
    /// and minimum capacity over its machines (0 and `u64::MAX` when empty) are kept, else empty.
    keeps_capacity: bool,
    cap_hi: Vec<u64>,
    cap_lo: Vec<u64>,
    /// Per leaf, its machines as entries of `dims + 2` values: key order, id, stored amounts (a
    /// copy, so a leaf is searched in one sweep of memory); per machine, its leaf and its slot
    /// (entry number) there.
    cells: Vec<Vec<u64>>,
    leaf_of: Vec<u32>,
    slot: Vec<u32>,
    /// Per machine: stored amounts (`free + 1`, 0 when unavailable) and position order.
    own: Vec<u64>,
    /// Per machine, its point: free amounts, then capacities when the tree keeps them (so
    /// `point` values each, next to each other for the sweep over a cell). The free amounts
    /// decide the machine's cell whether or not the machine is available (so taking machines out
    /// of service, as offer cycles and bin opening do, moves none). Capacities ride along but
    /// are not cut by: cutting by them too was tried, and left the free amounts, which bound the
    /// scores more, in coarser cells (most-allocated looked at 4.7 times as many nodes).
    points: Vec<u64>,
    point: usize,
    /// The dimensions the space is cut by: those the asking policies score (a dimension no score
    /// reads only decides which machines fit, which the cells' maxima and the sweep of a cell
    /// still check). Cutting by them too spends levels on differences no bound can use: with
    /// kube's cpu-and-memory weights in a 4-D cluster, decisions took about four times the
    /// instructions.
    cut_by: Vec<bool>,
    order: Vec<u64>,
    /// Work spent on cells beyond [`ROOMY`] machines since the last cut; when it exceeds what a
    /// cut costs, the space is cut again for the machines as they are now.
    debt: usize,
}

const NONE: Position = (u64::MAX, u32::MAX);

/// What a score bound may know of a node, per dimension over its machines: the range of stored
/// amounts (`free + 1`, 0 when unavailable) and, when the tree keeps capacities, of capacities
/// (empty slices otherwise).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span<'a> {
    pub(crate) hi: &'a [u64],
    pub(crate) lo: &'a [u64],
    pub(crate) cap_hi: &'a [u64],
    pub(crate) cap_lo: &'a [u64],
}

/// Key order at most this past the best machine's `first` can still score within float noise of
/// it under best fit.
///
/// Keys are at most 1 (free amounts over reference capacities, weights summing to 1) and best
/// fit's score is `100 (1 − (key − demand key))`: a key larger than the best machine's by
/// `1e-6 (1 + key)` scores lower by about 1e-4 or more, far beyond the tolerance (1e-12 of a
/// score of at most 200) and any rounding. Being generous costs only a little search.
pub(crate) fn until(first: u64) -> u64 {
    let key = f64::from_bits(first);
    (key + 1e-6 * (1.0 + key)).to_bits()
}

/// What a search found so far and where it looks.
pub(crate) struct Found {
    /// The smallest position holding the demand.
    pub(crate) best: Position,
    /// The smallest position of a larger key group than `best`'s.
    pub(crate) runner: Position,
    /// Key orders beyond this are not looked for.
    cap: u64,
    /// Only positions after `after` count, when `strict`.
    after: Position,
    strict: bool,
    /// The key's terms at the demand's amounts (for up to [`TERMS`] dimensions).
    demand_term: [f64; TERMS],
}

/// Dimensions up to which key bounds come from precomputed terms.
const TERMS: usize = 8;

/// [`holds`] as an indexed loop over equal-length slices, which unrolls when the length is a
/// constant (the searches' `D`).
#[inline(always)]
fn holds_n(stored: &[u64], demand: &[u64]) -> bool {
    let n = demand.len();
    let stored = &stored[..n];
    let mut all = true;
    for i in 0..n {
        all &= demand[i] < stored[i];
    }
    all
}

/// The larger of two key terms. Terms are finite and non-negative (never NaN or -0.0), so this is
/// `f64::max` without its NaN handling.
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// One dimension's term of [`residual_key`]: the same operations in the same order.
#[inline]
fn term(normalised: f64, amount: u64, inv_reference: f64) -> f64 {
    normalised * amount as f64 * inv_reference
}

impl Found {
    #[inline]
    fn beyond(&self, p: Position) -> bool {
        !self.strict || p > self.after
    }

    /// The largest key order still worth looking at: within [`until`] of the best (for the
    /// runner), and within the cap.
    #[inline]
    fn limit(&self) -> u64 {
        if self.best == NONE {
            self.cap
        } else {
            until(self.best.0).min(self.cap)
        }
    }

    /// Takes position `p` (of a machine holding the demand) into account.
    #[inline]
    fn offer(&mut self, p: Position) {
        if p < self.best {
            if p.0 < self.best.0 && self.best != NONE {
                self.runner = self.runner.min(self.best);
            }
            self.best = p;
        } else if p.0 > self.best.0 && p < self.runner {
            self.runner = p;
        }
    }
}

impl KdIndex {
    /// A tree over machines whose free amounts are the rows of `free`; keyed for best fit with
    /// `normalised` weights when given, keeping capacity ranges when `capacity` (the rows of
    /// capacities) is given, and cut by the dimensions `cut_by` marks (all if it marks none).
    pub(crate) fn new(
        dims: usize,
        normalised: Option<&[f64]>,
        inv_reference: &[f64],
        free: &[u64],
        available: &[bool],
        capacity: Option<&[u64]>,
        cut_by: &[bool],
    ) -> KdIndex {
        let n = available.len();
        let point = if capacity.is_some() { 2 * dims } else { dims };
        let mut points = vec![0; n * point];
        for m in 0..n {
            points[m * point..m * point + dims].copy_from_slice(&free[m * dims..(m + 1) * dims]);
            if let Some(capacity) = capacity {
                points[m * point + dims..(m + 1) * point]
                    .copy_from_slice(&capacity[m * dims..(m + 1) * dims]);
            }
        }
        let mut index = KdIndex {
            dims,
            normalised: normalised.map(<[f64]>::to_vec),
            inv_reference: inv_reference.to_vec(),
            leaves: 1,
            split_dim: Vec::new(),
            split_at: Vec::new(),
            split_id: Vec::new(),
            hi: Vec::new(),
            lo: Vec::new(),
            lo_term: Vec::new(),
            first: Vec::new(),
            second: Vec::new(),
            min_id: Vec::new(),
            keeps_capacity: capacity.is_some(),
            cap_hi: Vec::new(),
            cap_lo: Vec::new(),
            cells: Vec::new(),
            leaf_of: vec![0; n],
            slot: vec![0; n],
            own: vec![0; n * dims],
            points,
            point,
            cut_by: if cut_by.contains(&true) {
                cut_by.to_vec()
            } else {
                vec![true; dims]
            },
            order: vec![u64::MAX; n],
            debt: 0,
        };
        for m in 0..n {
            index.write(m, &free[m * dims..(m + 1) * dims], available[m]);
        }
        index.cut();
        index
    }

    /// True when this tree keeps positions for best fit with these weights.
    pub(crate) fn serves(&self, normalised: &[f64]) -> bool {
        self.normalised.as_deref() == Some(normalised)
    }

    /// The weights positions are kept for, if any.
    pub(crate) fn normalised(&self) -> Option<&[f64]> {
        self.normalised.as_deref()
    }

    /// True when the tree keeps positions (for some weights).
    pub(crate) fn is_keyed(&self) -> bool {
        self.normalised.is_some()
    }

    /// The dimensions the space is cut by.
    pub(crate) fn cut_by(&self) -> &[bool] {
        &self.cut_by
    }

    /// True when the tree keeps capacity ranges.
    pub(crate) fn keeps_capacity(&self) -> bool {
        self.keeps_capacity
    }

    /// The inverse reference capacities the keys were computed with.
    pub(crate) fn inv_reference(&self) -> &[f64] {
        &self.inv_reference
    }

    #[cfg(test)]
    fn stored(&self, m: usize) -> &[u64] {
        &self.own[m * self.dims..(m + 1) * self.dims]
    }

    /// Machine `m`'s point: free amounts, then capacities if kept.
    #[inline]
    fn point_of(&self, m: usize) -> &[u64] {
        &self.points[m * self.point..(m + 1) * self.point]
    }

    #[cfg(test)]
    fn position(&self, m: u32) -> Position {
        (self.order[m as usize], m)
    }

    /// Sets machine `m`'s stored amounts and position order (not its cell).
    fn write(&mut self, m: usize, free: &[u64], available: bool) {
        let d = self.dims;
        self.points[m * self.point..m * self.point + d].copy_from_slice(free);
        for (s, &f) in self.own[m * d..(m + 1) * d].iter_mut().zip(free) {
            *s = if available { f.saturating_add(1) } else { 0 };
        }
        if let Some(w) = &self.normalised {
            self.order[m] = residual_key(free, w, &self.inv_reference).to_bits();
        }
    }

    /// Cuts the space for the machines as they are now and recomputes every node.
    fn cut(&mut self) {
        let n = self.leaf_of.len();
        let d = self.dims;
        self.leaves = n.div_ceil(LEAF).next_power_of_two().max(1);
        self.split_dim = vec![0; self.leaves];
        self.split_at = vec![u64::MAX; self.leaves];
        self.split_id = vec![u32::MAX; self.leaves];
        self.hi = vec![0; 2 * self.leaves * d];
        self.lo = vec![u64::MAX; 2 * self.leaves * d];
        self.lo_term = if self.is_keyed() {
            vec![0.0; 2 * self.leaves * d]
        } else {
            Vec::new()
        };
        self.first = vec![NONE; 2 * self.leaves];
        self.second = vec![NONE; 2 * self.leaves];
        self.min_id = vec![u32::MAX; 2 * self.leaves];
        let caps = if self.keeps_capacity {
            2 * self.leaves * d
        } else {
            0
        };
        self.cap_hi = vec![0; caps];
        self.cap_lo = vec![u64::MAX; caps];
        self.cells = vec![Vec::new(); self.leaves];
        let mut ids: Vec<u32> = (0..n as u32).collect();
        self.split(1, &mut ids);
        for leaf in 0..self.leaves {
            self.gather(leaf);
        }
        for k in (1..self.leaves).rev() {
            self.pull(k);
        }
        self.debt = 0;
    }

    /// Splits `ids` at node `k`: at the median (by amount, then id) of the dimension of widest
    /// spread, so the halves are equal.
    fn split(&mut self, k: usize, ids: &mut [u32]) {
        if k >= self.leaves {
            for &m in ids.iter() {
                self.place_in(k - self.leaves, m as usize);
            }
            return;
        }
        let mut best: Option<(usize, u64)> = None;
        let p = self.point;
        for dim in (0..self.dims).filter(|&i| self.cut_by[i]) {
            let (lo, hi) = ids.iter().fold((u64::MAX, 0), |(lo, hi), &m| {
                let v = self.points[m as usize * p + dim];
                (lo.min(v), hi.max(v))
            });
            let spread = hi.saturating_sub(lo);
            if best.is_none_or(|b| spread > b.1) {
                best = Some((dim, spread));
            }
        }
        let dim = best.map_or(0, |b| b.0);
        let (mut at, mut at_id) = (u64::MAX, u32::MAX);
        let mid = ids.len() / 2;
        if !ids.is_empty() {
            let points = &self.points;
            // Below the median (amount, id) go left, the rest right, as `locate` sends them.
            ids.select_nth_unstable_by_key(mid, |&m| (points[m as usize * p + dim], m));
            (at, at_id) = (points[ids[mid] as usize * p + dim], ids[mid]);
        }
        self.split_dim[k] = dim as u32;
        self.split_at[k] = at;
        self.split_id[k] = at_id;
        let (l, r) = ids.split_at_mut(mid);
        self.split(2 * k, l);
        self.split(2 * k + 1, r);
    }

    /// The leaf whose cell holds machine `m` at point `row`.
    #[inline]
    fn locate(&self, m: usize, row: &[u64]) -> usize {
        let mut k = 1;
        while k < self.leaves {
            let right = (row[self.split_dim[k] as usize], m as u32) >= (self.split_at[k], self.split_id[k]);
            k = 2 * k + usize::from(right);
        }
        k - self.leaves
    }

    /// Recomputes leaf `leaf`'s node from its machines.
    fn gather(&mut self, leaf: usize) {
        let d = self.dims;
        let k = self.leaves + leaf;
        self.debt += (self.cells[leaf].len() / (d + 2)).saturating_sub(ROOMY);
        self.hi[k * d..(k + 1) * d].fill(0);
        self.lo[k * d..(k + 1) * d].fill(u64::MAX);
        let mut first = NONE;
        let mut min_id = u32::MAX;
        if self.keeps_capacity {
            self.cap_hi[k * d..(k + 1) * d].fill(0);
            self.cap_lo[k * d..(k + 1) * d].fill(u64::MAX);
        }
        for e in self.cells[leaf].chunks_exact(d + 2) {
            for i in 0..d {
                self.hi[k * d + i] = self.hi[k * d + i].max(e[2 + i]);
                self.lo[k * d + i] = self.lo[k * d + i].min(e[2 + i]);
            }
            first = first.min((e[0], e[1] as u32));
            min_id = min_id.min(e[1] as u32);
            if self.keeps_capacity {
                let m = e[1] as usize;
                for i in 0..d {
                    let c = self.points[m * self.point + d + i];
                    self.cap_hi[k * d + i] = self.cap_hi[k * d + i].max(c);
                    self.cap_lo[k * d + i] = self.cap_lo[k * d + i].min(c);
                }
            }
        }
        self.min_id[k] = min_id;
        let mut second = NONE;
        for e in self.cells[leaf].chunks_exact(d + 2) {
            if e[0] > first.0 {
                second = second.min((e[0], e[1] as u32));
            }
        }
        let keyed = self.is_keyed();
        self.first[k] = if keyed { first } else { NONE };
        if let Some(w) = &self.normalised {
            let terms = &mut self.lo_term[k * d..(k + 1) * d];
            let lo = &self.lo[k * d..(k + 1) * d];
            for (i, t) in terms.iter_mut().enumerate() {
                *t = term(w[i], lo[i].saturating_sub(1), self.inv_reference[i]);
            }
        }
        self.second[k] = if keyed { second } else { NONE };
    }

    /// Recomputes internal node `k` from its children; true if that changed it.
    fn pull(&mut self, k: usize) -> bool {
        let d = self.dims;
        let mut changed = false;
        for i in 0..d {
            let hi = self.hi[2 * k * d + i].max(self.hi[(2 * k + 1) * d + i]);
            let lo = self.lo[2 * k * d + i].min(self.lo[(2 * k + 1) * d + i]);
            changed |= hi != self.hi[k * d + i] || lo != self.lo[k * d + i];
            self.hi[k * d + i] = hi;
            self.lo[k * d + i] = lo;
        }
        if self.keeps_capacity {
            for i in 0..d {
                let hi = self.cap_hi[2 * k * d + i].max(self.cap_hi[(2 * k + 1) * d + i]);
                let lo = self.cap_lo[2 * k * d + i].min(self.cap_lo[(2 * k + 1) * d + i]);
                changed |= hi != self.cap_hi[k * d + i] || lo != self.cap_lo[k * d + i];
                self.cap_hi[k * d + i] = hi;
                self.cap_lo[k * d + i] = lo;
            }
        }
        let min_id = self.min_id[2 * k].min(self.min_id[2 * k + 1]);
        changed |= min_id != self.min_id[k];
        self.min_id[k] = min_id;
        if self.is_keyed() {
            // A term is monotone in the amount, so the term of the minimum is the minimum term.
            for i in 0..d {
                self.lo_term[k * d + i] = self.lo_term[2 * k * d + i].min(self.lo_term[(2 * k + 1) * d + i]);
            }
        }
        let (l, r) = (2 * k, 2 * k + 1);
        let first = self.first[l].min(self.first[r]);
        let mut second = NONE;
        for p in [self.first[l], self.second[l], self.first[r], self.second[r]] {
            if p.0 > first.0 {
                second = second.min(p);
            }
        }
        changed |= first != self.first[k] || second != self.second[k];
        self.first[k] = first;
        self.second[k] = second;
        changed
    }

    /// Recomputes leaf `leaf` and the nodes above it, up to the first that does not change (its
    /// ancestors, computed from it, then do not change either; the terms follow the minima).
    fn refresh(&mut self, leaf: usize) {
        self.gather(leaf);
        let mut k = (self.leaves + leaf) / 2;
        while k >= 1 && self.pull(k) {
            k /= 2;
        }
    }

    /// Puts machine `m` in the cell its stored amounts fall in.
    fn place(&mut self, m: usize) -> usize {
        let leaf = self.locate(m, self.point_of(m));
        self.place_in(leaf, m);
        leaf
    }

    /// Appends machine `m`'s entry to leaf `leaf`.
    fn place_in(&mut self, leaf: usize, m: usize) {
        let d = self.dims;
        let cell = &mut self.cells[leaf];
        self.leaf_of[m] = leaf as u32;
        self.slot[m] = (cell.len() / (d + 2)) as u32;
        cell.push(self.order[m]);
        cell.push(m as u64);
        cell.extend_from_slice(&self.own[m * d..(m + 1) * d]);
    }

    /// Rewrites machine `m`'s entry in its leaf from its current amounts and order.
    fn rewrite(&mut self, m: usize) {
        let d = self.dims;
        let at = self.slot[m] as usize * (d + 2);
        let e = &mut self.cells[self.leaf_of[m] as usize][at..at + d + 2];
        e[0] = self.order[m];
        e[2..].copy_from_slice(&self.own[m * d..(m + 1) * d]);
    }

    /// Adds machine `m` (the next id), empty: its free amounts are its capacity.
    pub(crate) fn push(&mut self, free: &[u64], available: bool) {
        let m = self.leaf_of.len();
        self.leaf_of.push(0);
        self.slot.push(0);
        self.own.extend(std::iter::repeat_n(0, self.dims));
        self.points.extend_from_slice(free);
        if self.keeps_capacity {
            self.points.extend_from_slice(free);
        }
        self.order.push(u64::MAX);
        self.write(m, free, available);
        let leaf = self.place(m);
        self.refresh(leaf);
        self.recut_if_drifted();
    }

    /// Records machine `m`'s new capacity, if the tree keeps capacities; it counts from the next
    /// [`KdIndex::update`] of the machine, which must follow.
    pub(crate) fn set_capacity(&mut self, m: usize, capacity: &[u64]) {
        if self.keeps_capacity {
            let d = self.dims;
            self.points[m * self.point + d..(m + 1) * self.point].copy_from_slice(capacity);
        }
    }

    /// Records machine `m`'s new free amounts and availability, moving it to its new cell.
    pub(crate) fn update(&mut self, m: usize, free: &[u64], available: bool) {
        self.write(m, free, available);
        let old = self.leaf_of[m] as usize;
        let new = self.locate(m, self.point_of(m));
        if new == old {
            self.rewrite(m);
            self.refresh(old);
            return;
        }
        // Swap-remove the entry: the last entry of the cell takes its slot.
        let d = self.dims;
        let slot = self.slot[m] as usize;
        let cell = &mut self.cells[old];
        let last = cell.len() - (d + 2);
        if slot * (d + 2) != last {
            cell.copy_within(last.., slot * (d + 2));
            self.slot[cell[slot * (d + 2) + 1] as usize] = slot as u32;
        }
        cell.truncate(last);
        self.place_in(new, m);
        self.refresh(old);
        self.refresh(new);
        self.recut_if_drifted();
    }

    fn recut_if_drifted(&mut self) {
        // A cut costs about n per level of the tree.
        let n = self.leaf_of.len();
        if self.debt > n * (self.leaves.trailing_zeros() as usize + 1) {
            self.cut();
        }
    }

    /// Recomputes every key for new reference capacities (machines keep their cells).
    pub(crate) fn rekey(&mut self, inv_reference: &[f64], free: &[u64]) {
        self.inv_reference = inv_reference.to_vec();
        let Some(w) = self.normalised.take() else {
            return;
        };
        let d = self.dims;
        for m in 0..self.order.len() {
            self.order[m] = residual_key(&free[m * d..(m + 1) * d], &w, &self.inv_reference).to_bits();
            self.rewrite(m);
        }
        self.normalised = Some(w);
        for leaf in 0..self.leaves {
            self.gather(leaf);
        }
        for k in (1..self.leaves).rev() {
            self.pull(k);
        }
    }

    /// The machine with the smallest position after `after` (or from the start) whose stored
    /// amounts hold `demand`, with its position: what [`super::treap::OrderIndex::next_fit`]
    /// returns for best fit. The tree must be keyed.
    ///
    /// Only machines whose key order is at most `until` are looked for (`u64::MAX`: all).
    pub(crate) fn next_fit(
        &self,
        demand: &[u64],
        after: Option<Position>,
        until: u64,
    ) -> Option<(u32, Position)> {
        let found = self.search(demand, after, until);
        (found.best != NONE).then_some((found.best.1, found.best))
    }

    /// The first machine `next_fit` would hand out, and the *runner*: the next key group's
    /// lowest id, if its key order is at most [`until`] of the first's (no machine with a larger
    /// key can score within noise of the first). One search for what best fit needs to decide.
    pub(crate) fn first_two(&self, demand: &[u64], after: Option<Position>) -> Found {
        let mut found = self.search(demand, after, u64::MAX);
        if found.runner != NONE && found.runner.0 > until(found.best.0) {
            found.runner = NONE;
        }
        found
    }

    fn search(&self, demand: &[u64], after: Option<Position>, cap: u64) -> Found {
        debug_assert!(self.is_keyed());
        let mut found = Found {
            best: NONE,
            runner: NONE,
            cap,
            after: after.unwrap_or((0, 0)),
            strict: after.is_some(),
            demand_term: [0.0; TERMS],
        };
        if let (Some(w), true) = (&self.normalised, self.dims <= TERMS) {
            for i in 0..self.dims {
                found.demand_term[i] = term(w[i], demand[i], self.inv_reference[i]);
            }
        }
        // Specialised for the usual dimension counts, so the per-dimension loops unroll.
        match self.dims {
            2 => self.seek_from::<2>(demand, &mut found),
            3 => self.seek_from::<3>(demand, &mut found),
            4 => self.seek_from::<4>(demand, &mut found),
            5 => self.seek_from::<5>(demand, &mut found),
            _ => self.seek_from::<0>(demand, &mut found),
        }
        if found.best.0 > cap {
            found.best = NONE;
        }
        found
    }

    fn seek_from<const D: usize>(&self, demand: &[u64], found: &mut Found) {
        if self.viable::<D>(1, demand, found).is_some() {
            self.seek::<D>(1, demand, found);
        }
    }

    #[inline]
    fn dims_of<const D: usize>(&self) -> usize {
        if D == 0 { self.dims } else { D }
    }

    /// The smallest key order any machine of node `k` holding `demand` can have, if the node can
    /// hold the demand at all and could improve on what was found. The key bound takes each
    /// dimension at least the demand and at least the node's minimum: monotone in every amount,
    /// in floats too, so it is at most the key of any machine of the node that holds the demand.
    #[inline]
    fn viable<const D: usize>(&self, k: usize, demand: &[u64], found: &Found) -> Option<u64> {
        let d = self.dims_of::<D>();
        if self.first[k] >= found.runner || !holds_n(&self.hi[k * d..(k + 1) * d], &demand[..d]) {
            return None;
        }
        // The key's terms at amounts max(demand, lo - 1), summed in dimension order as the key
        // is: each term is monotone in its amount, so the term of the larger amount is the larger
        // term, and both are precomputed.
        let kb = if d <= TERMS {
            let mut sum = 0.0;
            for i in 0..d {
                sum += larger(self.lo_term[k * d + i], found.demand_term[i]);
            }
            sum
        } else {
            let lo = &self.lo[k * d..(k + 1) * d];
            let w = self.normalised.as_deref().expect("keyed");
            residual_key_by(
                d,
                |i| demand[i].max(lo[i].saturating_sub(1)),
                w,
                &self.inv_reference,
            )
        };
        // Every member's key is also at least the node's smallest; the larger bound orders better.
        Some(kb.to_bits().max(self.first[k].0)).filter(|&kb| kb <= found.limit())
    }

    /// The search below node `k`, which passed [`KdIndex::viable`].
    fn seek<const D: usize>(&self, k: usize, demand: &[u64], found: &mut Found) {
        let d = self.dims_of::<D>();
        if holds_n(&self.lo[k * d..(k + 1) * d], &demand[..d]) && found.beyond(self.first[k]) {
            // Every machine here holds the demand (and comes after `after`): the node's two
            // smallest key groups are all it can contribute.
            found.offer(self.first[k]);
            if self.second[k] != NONE {
                found.offer(self.second[k]);
            }
            return;
        }
        if k >= self.leaves {
            for e in self.cells[k - self.leaves].chunks_exact(d + 2) {
                let p = (e[0], e[1] as u32);
                if p < found.runner && found.beyond(p) && holds_n(&e[2..], &demand[..d]) {
                    found.offer(p);
                }
            }
            return;
        }
        // The child whose machines can have the smaller keys first, so the answer tightens early;
        // the other is checked again against what that found.
        let (l, r) = (2 * k, 2 * k + 1);
        let (bl, br) = (
            self.viable::<D>(l, demand, found),
            self.viable::<D>(r, demand, found),
        );
        let (first, second) = match (bl, br) {
            (Some(a), Some(b)) if b < a => ((r, b), Some((l, a))),
            (Some(a), b) => ((l, a), b.map(|b| (r, b))),
            (None, Some(b)) => ((r, b), None),
            (None, None) => return,
        };
        self.seek::<D>(first.0, demand, found);
        if let Some((c, cb)) = second {
            if cb <= found.limit() && self.first[c] < found.runner {
                self.seek::<D>(c, demand, found);
            }
        }
    }

    /// Offers to `record` every machine where `demand` fits and `fit` agrees, with its `score`,
    /// except those in nodes that cannot change the winner: nodes whose `bound` is below the
    /// record's cut, or no higher than the score of a candidate with a lower id than any of theirs
    /// ([`Record::dominated`]). `bound(span)` must be at least the score of any machine holding
    /// the demand whose stored amounts (`free + 1`) and capacities lie in the node's [`Span`].
    pub(crate) fn best(
        &self,
        demand: &[u64],
        fit: &impl Fn(usize) -> bool,
        score: &impl Fn(usize) -> f64,
        bound: &impl Fn(Span<'_>) -> f64,
        record: &mut Record,
    ) {
        if holds(&self.hi[self.dims..2 * self.dims], demand) {
            let b = bound(self.span(1));
            self.descend(1, b, demand, fit, score, bound, record);
        }
    }

    /// Node `k`'s ranges, for a bound.
    #[inline]
    fn span(&self, k: usize) -> Span<'_> {
        let d = self.dims;
        let (cap_hi, cap_lo): (&[u64], &[u64]) = if self.keeps_capacity {
            (&self.cap_hi[k * d..(k + 1) * d], &self.cap_lo[k * d..(k + 1) * d])
        } else {
            (&[], &[])
        };
        Span {
            hi: &self.hi[k * d..(k + 1) * d],
            lo: &self.lo[k * d..(k + 1) * d],
            cap_hi,
            cap_lo,
        }
    }

    /// The search below node `k`, whose maxima hold the demand and whose bound is `b`.
    #[allow(clippy::too_many_arguments)]
    fn descend(
        &self,
        k: usize,
        b: f64,
        demand: &[u64],
        fit: &impl Fn(usize) -> bool,
        score: &impl Fn(usize) -> f64,
        bound: &impl Fn(Span<'_>) -> f64,
        record: &mut Record,
    ) {
        if record.dominated(b, self.min_id[k]) {
            return;
        }
        let d = self.dims;
        if k >= self.leaves {
            for e in self.cells[k - self.leaves].chunks_exact(d + 2) {
                let m = e[1] as usize;
                if holds(&e[2..], demand) && fit(m) {
                    record.offer(m as u32, score(m));
                }
            }
            return;
        }
        // The child with the higher bound first, so the record rises early and prunes more; on
        // equal bounds (whole-number scores tie often) the one holding the lower id, which wins
        // ties.
        let (l, r) = (2 * k, 2 * k + 1);
        let holds_child = |c: usize| holds(&self.hi[c * d..(c + 1) * d], demand);
        let bl = holds_child(l).then(|| bound(self.span(l)));
        let br = holds_child(r).then(|| bound(self.span(r)));
        let right_first = match (bl, br) {
            (Some(bl), Some(br)) => br > bl || (br == bl && self.min_id[r] < self.min_id[l]),
            _ => br.is_some(),
        };
        let order = if right_first {
            [(r, br), (l, bl)]
        } else {
            [(l, bl), (r, br)]
        };
        for (c, b) in order {
            if let Some(b) = b {
                self.descend(c, b, demand, fit, score, bound, record);
            }
        }
    }

    /// Checks every node and membership invariant (for tests).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let mut seen = vec![false; self.leaf_of.len()];
        for (leaf, cell) in self.cells.iter().enumerate() {
            for (slot, e) in cell.chunks_exact(self.dims + 2).enumerate() {
                let m = e[1] as u32;
                assert_eq!(e[0], self.order[m as usize]);
                assert_eq!(&e[2..], self.stored(m as usize));
                assert!(!seen[m as usize]);
                seen[m as usize] = true;
                assert_eq!(self.leaf_of[m as usize] as usize, leaf);
                assert_eq!(self.slot[m as usize] as usize, slot);
                assert_eq!(
                    self.locate(m as usize, self.point_of(m as usize)),
                    leaf,
                    "machine {m} in its cell"
                );
            }
        }
        assert!(seen.iter().all(|&s| s));
        let mut copy = self.clone();
        for leaf in 0..copy.leaves {
            copy.gather(leaf);
        }
        for k in (1..copy.leaves).rev() {
            copy.pull(k);
        }
        assert_eq!(copy.hi, self.hi);
        assert_eq!(copy.lo, self.lo);
        assert_eq!(copy.first, self.first);
        assert_eq!(copy.second, self.second);
        assert_eq!(copy.lo_term, self.lo_term);
        assert_eq!(copy.min_id, self.min_id);
        assert_eq!(copy.cap_hi, self.cap_hi);
        assert_eq!(copy.cap_lo, self.cap_lo);
        for k in 1..self.leaves {
            assert!(
                self.cut_by[self.split_dim[k] as usize],
                "node {k} cut by another dimension"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(free: &[[u64; 2]]) -> KdIndex {
        let flat: Vec<u64> = free.iter().flatten().copied().collect();
        KdIndex::new(
            2,
            Some(&[0.5, 0.5]),
            &[0.1, 0.1],
            &flat,
            &vec![true; free.len()],
            None,
            &[true, true],
        )
    }

    /// The scan `next_fit` must equal: the smallest position after `after` holding the demand.
    fn scan(ix: &KdIndex, demand: &[u64], after: Option<Position>) -> Option<u32> {
        (0..ix.leaf_of.len() as u32)
            .filter(|&m| holds(ix.stored(m as usize), demand))
            .map(|m| ix.position(m))
            .filter(|&p| after.is_none_or(|a| p > a))
            .min()
            .map(|p| p.1)
    }

    #[test]
    fn finds_the_smallest_key_that_holds_the_demand() {
        let ix = tree(&[[5, 5], [2, 9], [1, 1], [9, 9], [5, 5], [9, 0], [0, 9], [3, 3]]);
        ix.check();
        assert_eq!(ix.next_fit(&[0, 0], None, u64::MAX).unwrap().0, 2);
        assert_eq!(ix.next_fit(&[2, 2], None, u64::MAX).unwrap().0, 7);
        assert_eq!(ix.next_fit(&[0, 6], None, u64::MAX).unwrap().0, 6);
        assert_eq!(ix.next_fit(&[6, 0], None, u64::MAX).unwrap().0, 5);
        let after = ix.position(0);
        assert_eq!(ix.next_fit(&[4, 4], Some(after), u64::MAX).unwrap().0, 4);
        assert_eq!(ix.next_fit(&[10, 0], None, u64::MAX), None);
    }

    #[test]
    fn capacity_ranges_follow_moves_resizes_and_new_machines() {
        let mut rng = 21u64;
        let mut next = || {
            rng = crate::hash::splitmix64(rng);
            rng
        };
        let caps: Vec<u64> = (0..400).map(|_| 10 + next() % 90).collect();
        let free: Vec<u64> = caps.iter().map(|&c| next() % (c + 1)).collect();
        let mut ix = KdIndex::new(
            2,
            None,
            &[0.01, 0.01],
            &free,
            &[true; 200],
            Some(&caps),
            &[true, false],
        );
        let mut caps: Vec<[u64; 2]> = caps.chunks(2).map(|c| [c[0], c[1]]).collect();
        ix.check();
        for step in 0..2000 {
            let r = next();
            let m = (r % caps.len() as u64) as usize;
            match step % 10 {
                0 => {
                    let cap = [10 + next() % 200, 10 + next() % 200];
                    ix.push(&cap, true);
                    caps.push(cap);
                }
                1 => {
                    caps[m] = [caps[m][0] + next() % 50, caps[m][1] + next() % 50];
                    ix.set_capacity(m, &caps[m]);
                    let row = [next() % (caps[m][0] + 1), next() % (caps[m][1] + 1)];
                    ix.update(m, &row, true);
                }
                _ => {
                    let row = [next() % (caps[m][0] + 1), next() % (caps[m][1] + 1)];
                    ix.update(m, &row, r & 7 != 0);
                }
            }
            if step % 100 == 0 {
                ix.check();
            }
            // The root's ranges are the fleet's, and its lowest id is 0.
            let d = ix.dims;
            for i in 0..d {
                assert_eq!(ix.cap_hi[d + i], caps.iter().map(|c| c[i]).max().unwrap());
                assert_eq!(ix.cap_lo[d + i], caps.iter().map(|c| c[i]).min().unwrap());
            }
            assert_eq!(ix.min_id[1], 0);
        }
        ix.check();
    }

    #[test]
    fn more_dimensions_than_precomputed_terms_give_the_same_answers() {
        // Ten dimensions: key bounds take the direct computation instead of the stored terms.
        let dims = TERMS + 2;
        let mut rng = 9u64;
        let mut next = || {
            rng = crate::hash::splitmix64(rng);
            rng
        };
        let free: Vec<u64> = (0..200 * dims).map(|_| next() % 20).collect();
        let w = vec![1.0 / dims as f64; dims];
        let mut ix = KdIndex::new(dims, Some(&w), &vec![0.05; dims], &free, &[true; 200], None, &[]);
        ix.check();
        for step in 0..300 {
            let demand: Vec<u64> = (0..dims).map(|_| next() % 6).collect();
            assert_eq!(
                ix.next_fit(&demand, None, u64::MAX).map(|x| x.0),
                scan(&ix, &demand, None)
            );
            let row: Vec<u64> = (0..dims).map(|_| next() % 20).collect();
            ix.update(step % 200, &row, true);
        }
        ix.check();
    }

    #[test]
    fn moves_keep_the_invariants_and_the_answers() {
        let mut rng = 3u64;
        let mut next = || {
            rng = crate::hash::splitmix64(rng);
            rng
        };
        let rows: Vec<[u64; 2]> = (0..300).map(|_| [next() % 50, next() % 50]).collect();
        let mut ix = tree(&rows);
        ix.check();
        for step in 0..3000 {
            let r = next();
            let m = (r % ix.leaf_of.len() as u64) as usize;
            // Drift towards full machines, so cells grow and the tree is cut again.
            let free = [(r >> 20) % (5 + step as u64 / 100), (r >> 40) % 5];
            if step % 97 == 0 {
                ix.push(&free, true);
            } else {
                ix.update(m, &free, r & 7 != 0);
            }
            if step % 50 == 0 {
                ix.check();
            }
            let demand = [next() % 8, next() % 8];
            let after = (step % 3 == 0).then(|| ix.position((r % 7) as u32));
            assert_eq!(
                ix.next_fit(&demand, after, u64::MAX).map(|x| x.0),
                scan(&ix, &demand, after)
            );
            // The runner: the first of the next key group, within `until` of the first.
            let found = ix.first_two(&demand, after);
            let first = scan(&ix, &demand, after);
            assert_eq!((found.best != NONE).then_some(found.best.1), first);
            let runner = first.and_then(|f| {
                let p = ix.position(f);
                scan(&ix, &demand, Some((p.0, u32::MAX))).filter(|&r| ix.position(r).0 <= until(p.0))
            });
            assert_eq!((found.runner != NONE).then_some(found.runner.1), runner);
            // A cap below the first machine's key finds nothing.
            if let Some(f) = first {
                let p = ix.position(f);
                if p.0 > 0 {
                    assert_eq!(ix.next_fit(&demand, after, p.0 - 1), None);
                }
            }
        }
        ix.check();
    }
}
