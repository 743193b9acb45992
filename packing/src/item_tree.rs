//! The remaining items of a bin-centric fill, in a k-d tree, so that a machine finds its best
//! item without looking at every item.
//!
//! A bin-centric rule (dot product, l2-norm, positive sums of them) scores an item that fits a
//! machine by a function of its demand that never decreases when a demand component grows while
//! it still fits: dot product is a sum of non-negative products, l2-norm shrinks the residual
//! `free − demand`; `fl` products, sums and square roots are monotone, so this holds in floats
//! too. An item in a subtree has a demand at most the subtree's per-dimension maximum, and a
//! fitting one at most the machine's free amount, so the score of the component-wise minimum of
//! the two bounds every fitting item below. The search keeps the usual [`Record`] (highest score,
//! lowest item index within float noise) and skips a subtree only when the record shows that no
//! item in it can win or tie: it returns exactly the item a scan of every remaining item returns.

use crate::cluster::{Cluster, MachineId};
use crate::offline::{Items, PackHooks};
use crate::policy::Policy;
use crate::rule::Record;

/// Items per leaf.
const LEAF: usize = 8;

/// A static k-d tree over the items' demands, with removal.
pub(crate) struct ItemTree {
    dims: usize,
    /// Item ids, permuted so that each node covers a range.
    ids: Vec<u32>,
    nodes: Vec<Node>,
    /// Per node, the per-dimension minimum and maximum demand of its items: `dims` each.
    min: Vec<u64>,
    max: Vec<u64>,
    /// Per item id, its leaf.
    leaf_of: Vec<u32>,
    alive: Vec<bool>,
    left: usize,
    /// Per dimension, 1 / the batch's range of demands (for choosing cuts).
    scale: Vec<f64>,
    /// Scratch of [`ItemTree::best`], kept so that a search allocates nothing.
    clipped: Vec<u64>,
    stack: Vec<u32>,
}

struct Node {
    /// The node's items: `ids[start..end]`.
    start: u32,
    end: u32,
    /// Children (`u32::MAX` for a leaf) and parent (`u32::MAX` for the root).
    children: [u32; 2],
    parent: u32,
    /// Items of the node not yet removed.
    alive: u32,
    /// The lowest item id in the node (removed ones included: a lower bound is enough).
    min_id: u32,
}

impl ItemTree {
    /// The tree of every item of `items`.
    pub(crate) fn new(items: &Items) -> ItemTree {
        let demands = items.demands();
        let dims = demands.dims();
        let n = items.len();
        let mut t = ItemTree {
            dims,
            ids: (0..n as u32).collect(),
            nodes: Vec::with_capacity(2 * n.div_ceil(LEAF) + 1),
            min: Vec::new(),
            max: Vec::new(),
            leaf_of: vec![0; n],
            alive: vec![true; n],
            left: n,
            scale: Vec::new(),
            clipped: vec![0; dims],
            stack: Vec::new(),
        };
        if n > 0 {
            t.build(items, 0, n, u32::MAX);
        }
        t
    }

    fn build(&mut self, items: &Items, start: usize, end: usize, parent: u32) -> u32 {
        let demands = items.demands();
        let me = self.nodes.len() as u32;
        let (mut lo, mut hi) = (vec![u64::MAX; self.dims], vec![0u64; self.dims]);
        let mut min_id = u32::MAX;
        for &i in &self.ids[start..end] {
            for (d, &x) in demands.row(i as usize).iter().enumerate() {
                lo[d] = lo[d].min(x);
                hi[d] = hi[d].max(x);
            }
            min_id = min_id.min(i);
        }
        self.min.extend_from_slice(&lo);
        self.max.extend_from_slice(&hi);
        self.nodes.push(Node {
            start: start as u32,
            end: end as u32,
            children: [u32::MAX; 2],
            parent,
            alive: (end - start) as u32,
            min_id,
        });
        // Cut the dimension widest relative to the whole batch's range in it: in raw units one
        // dimension (MiB against cores) would take every cut, and the bounds stay loose in the
        // others.
        if parent == u32::MAX {
            self.scale = (0..self.dims)
                .map(|d| 1.0 / (hi[d] - lo[d]).max(1) as f64)
                .collect();
        }
        let widest = (0..self.dims)
            .max_by(|&a, &b| {
                let (ra, rb) = (
                    (hi[a] - lo[a]) as f64 * self.scale[a],
                    (hi[b] - lo[b]) as f64 * self.scale[b],
                );
                ra.total_cmp(&rb)
            })
            .unwrap_or(0);
        if end - start <= LEAF || hi[widest] == lo[widest] {
            for &i in &self.ids[start..end] {
                self.leaf_of[i as usize] = me;
            }
            return me;
        }
        let mid = start + (end - start) / 2;
        self.ids[start..end].select_nth_unstable_by_key(mid - start, |&i| demands.row(i as usize)[widest]);
        let l = self.build(items, start, mid, me);
        let r = self.build(items, mid, end, me);
        self.nodes[me as usize].children = [l, r];
        me
    }

    /// Items not yet removed.
    pub(crate) fn len(&self) -> usize {
        self.left
    }

    /// Removes item `i`.
    pub(crate) fn remove(&mut self, i: u32) {
        if !std::mem::replace(&mut self.alive[i as usize], false) {
            return;
        }
        self.left -= 1;
        let mut n = self.leaf_of[i as usize];
        while n != u32::MAX {
            self.nodes[n as usize].alive -= 1;
            n = self.nodes[n as usize].parent;
        }
    }

    /// The remaining items, by id.
    pub(crate) fn remaining(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.alive.len() as u32).filter(|&i| self.alive[i as usize])
    }

    /// The remaining item that `policy`'s bin-centric rule picks for machine `m`: the scan's.
    pub(crate) fn best(
        &mut self,
        policy: &Policy,
        c: &Cluster,
        m: MachineId,
        items: &Items,
        hooks: &impl PackHooks,
    ) -> Option<u32> {
        if self.left == 0 || !c.is_available(m) {
            return None;
        }
        let free = c.free(m);
        let mut record = Record::new();
        let (mut clipped, mut stack) = (std::mem::take(&mut self.clipped), std::mem::take(&mut self.stack));
        stack.clear();
        stack.push(0);
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n as usize];
            if node.alive == 0 {
                continue;
            }
            let (lo, hi) = (
                &self.min[n as usize * self.dims..][..self.dims],
                &self.max[n as usize * self.dims..][..self.dims],
            );
            if lo.iter().zip(free).any(|(l, f)| l > f) {
                continue; // no item below fits
            }
            for d in 0..self.dims {
                clipped[d] = hi[d].min(free[d]);
            }
            if record.dominated(policy.rule_score(c, m, &clipped), node.min_id) {
                continue;
            }
            if node.children[0] == u32::MAX {
                for &i in &self.ids[node.start as usize..node.end as usize] {
                    if !self.alive[i as usize] {
                        continue;
                    }
                    let request = items.request(i as usize);
                    if c.fits_request(m, &request) && hooks.eligible(i as usize, m) {
                        record.offer(i, policy.rule_score(c, m, request.demand));
                    }
                }
            } else {
                // The right child holds the larger demands in the split dimension, often the
                // better scores: visited first, it raises the record's floor early.
                stack.push(node.children[0]);
                stack.push(node.children[1]);
            }
        }
        (self.clipped, self.stack) = (clipped, stack);
        record.winner()
    }
}
