//! The searches: every way a decision finds its machine, in one room.
//!
//! The cluster keeps its state and its indexes up to date ([`crate::cluster`], [`crate::index`]);
//! this module asks them questions. All searches end with the one scoring rule
//! ([`crate::rule::Record`]: the highest score, the lowest id among scores within float noise
//! of it), so whichever index answers, the machine is the one a scan of every machine returns:
//! - first fit and next fit walk the id-ordered segment tree ([`Cluster::first_fit_in`]);
//! - best and worst fit walk the treap or the keyed k-d tree in key order ([`best_by_order`]);
//! - scores prune with bounds on the k-d tree or the segment tree
//!   ([`Cluster::branch_and_bound`], [`Cluster::best_in_space`]);
//! - everything else scans ([`argmax`]).
//!
//! Policies ([`crate::policy`]) choose which search fits their rule; nothing here knows a policy.

use crate::cluster::{Cluster, MachineId};
use crate::index::{KdIndex, OrderIndex, Position, Span, kd};
use crate::rule::Record;

impl Cluster {
    /// The lowest available machine id where `demand` fits, in O(log n) for one dimension.
    pub fn first_fit(&self, demand: &[u64]) -> Option<MachineId> {
        self.fit_index()
            .first_fit(demand, 0, self.len())
            .map(|m| MachineId(m as u32))
    }

    /// The machine the scoring rule ([`Record`]: highest `score`, lowest id within float noise
    /// of it) chooses among machines passing `fit`, skipping groups of machines whose `bound`
    /// shows they cannot win: through the k-d tree when the cluster keeps one, else through the
    /// first-fit segment tree in id order. `bound(v)` must be at least the score of any machine
    /// whose free amounts are below `v` in every dimension; `fit(m)` must imply that `demand` fits
    /// on an available `m`.
    pub(crate) fn branch_and_bound(
        &self,
        demand: &[u64],
        fit: impl Fn(MachineId) -> bool,
        score: impl Fn(MachineId) -> f64,
        bound: impl Fn(&[u64]) -> f64,
    ) -> Option<MachineId> {
        if let Some(chosen) = self.best_in_space(demand, false, &fit, &score, |s| bound(s.hi)) {
            return chosen;
        }
        let mut record = Record::new();
        let fit = |m: usize| fit(MachineId(m as u32));
        let score = |m: usize| score(MachineId(m as u32));
        self.fit_index()
            .branch_and_bound(demand, self.len(), &fit, &score, &bound, &mut record);
        record.winner().map(MachineId)
    }

    /// The scoring rule's machine through the k-d tree, `None` when the cluster keeps none (or,
    /// when `by_capacity`, none that keeps capacity ranges). `bound(span)` must be at least the
    /// score of any machine where `demand` fits whose stored amounts (free plus one), and
    /// capacities when `by_capacity`, lie in the [`Span`].
    pub(crate) fn best_in_space(
        &self,
        demand: &[u64],
        by_capacity: bool,
        fit: impl Fn(MachineId) -> bool,
        score: impl Fn(MachineId) -> f64,
        bound: impl Fn(Span<'_>) -> f64,
    ) -> Option<Option<MachineId>> {
        let space = self
            .space_index()
            .filter(|s| !by_capacity || s.keeps_capacity())?;
        let mut record = Record::new();
        let fit = |m: usize| fit(MachineId(m as u32));
        let score = |m: usize| score(MachineId(m as u32));
        space.best(demand, &fit, &score, &bound, &mut record);
        Some(record.winner().map(MachineId))
    }

    /// The lowest available machine id at or after `from` (and before `to`) where `demand` fits.
    pub fn first_fit_in(&self, demand: &[u64], from: usize, to: usize) -> Option<MachineId> {
        self.fit_index()
            .first_fit(demand, from, to.min(self.len()))
            .map(|m| MachineId(m as u32))
    }

    /// The first machine where `demand` fits, searching from `start` upwards and then wrapping
    /// around to the machines below `start`.
    pub fn first_fit_from(&self, start: MachineId, demand: &[u64]) -> Option<MachineId> {
        let n = self.len();
        let start = start.index().min(n);
        self.fit_index()
            .first_fit(demand, start, n)
            .or_else(|| self.fit_index().first_fit(demand, 0, start))
            .map(|m| MachineId(m as u32))
    }
}

/// The lowest machine id in `from..to` passing `fit`, found through the cluster's first-fit index
/// (which already checks the aggregate demand and availability).
pub(crate) fn first_fit(
    c: &Cluster,
    demand: &[u64],
    from: usize,
    to: usize,
    fit: &impl Fn(MachineId) -> bool,
) -> Option<MachineId> {
    let mut from = from;
    while let Some(m) = c.first_fit_in(demand, from, to) {
        if fit(m) {
            return Some(m);
        }
        from = m.index() + 1;
    }
    None
}

/// An index that hands out the machines holding a demand in best or worst fit's preference
/// order: by position `(key order, id)`.
pub(crate) trait Ordered {
    /// A position before every machine that can hold a demand whose key is `key`.
    fn start_for(&self, key: f64) -> Option<Position>;
    /// The first machine after `after` (or from the start) whose free amounts hold `demand`; the
    /// index may stop looking past key order `until` (a hint, from [`Ordered::until`]).
    fn next_fit(&self, demand: &[u64], after: Option<Position>, until: u64) -> Option<(u32, Position)>;
    /// A key order past which no machine can score within float noise of the machine at
    /// `first`, the best one: later searches need not look further. `u64::MAX` when unknown.
    fn until(&self, first: Position) -> u64;
    /// The first machine after `after` holding `demand`, and the first of a larger key group
    /// unless no machine past [`Ordered::until`] of the first's holds the demand; `None` when
    /// the index cannot answer this in one search.
    fn first_two(&self, _demand: &[u64], _after: Option<Position>) -> Option<(Option<u32>, Option<u32>)> {
        None
    }
}

impl Ordered for OrderIndex {
    fn start_for(&self, key: f64) -> Option<Position> {
        OrderIndex::start_for(self, key)
    }
    fn next_fit(&self, demand: &[u64], after: Option<Position>, _until: u64) -> Option<(u32, Position)> {
        OrderIndex::next_fit(self, demand, after)
    }
    fn until(&self, _first: Position) -> u64 {
        u64::MAX
    }
}

impl Ordered for KdIndex {
    fn start_for(&self, key: f64) -> Option<Position> {
        // Best fit's ascending order: no machine with a smaller key can hold the demand.
        (key.to_bits() > 0).then(|| (key.to_bits() - 1, u32::MAX))
    }
    fn next_fit(&self, demand: &[u64], after: Option<Position>, until: u64) -> Option<(u32, Position)> {
        KdIndex::next_fit(self, demand, after, until)
    }
    fn until(&self, first: Position) -> u64 {
        kd::until(first.0)
    }
    fn first_two(&self, demand: &[u64], after: Option<Position>) -> Option<(Option<u32>, Option<u32>)> {
        let found = KdIndex::first_two(self, demand, after);
        let id = |p: Position| (p.1 != u32::MAX).then_some(p.1);
        Some((id(found.best), id(found.runner)))
    }
}

/// Best or worst fit through an ordered index: the machine [`argmax`] would choose with
/// `score(key)`, found without a scan.
///
/// Why it is the same machine, float ties included. The score is a function of the machine's key
/// alone and is monotone (non-increasing in the index's order: `fl` subtraction and
/// multiplication are monotone), so the first machine handed out has the highest score, and
/// machines with equal keys have bit-identical scores, of which only the lowest id can win. The
/// index hands out, in order, the lowest fitting id of each key group; they are offered to the
/// [`Record`] until one falls below the floor of the highest score, and then every later group
/// does too.
///
/// `score` must be the scan's score of a machine, a monotone function of the key the index orders
/// by (the index is rebuilt whenever the reference capacities change, so its keys are the bits
/// [`machine_key`] computes).
pub(crate) fn best_by_order(
    index: &impl Ordered,
    demand_key: f64,
    demand: &[u64],
    fit: &impl Fn(MachineId) -> bool,
    score: impl Fn(MachineId) -> f64,
) -> Option<MachineId> {
    let mut record = Record::new();
    let mut after = index.start_for(demand_key);
    // One search usually decides: the first machine fits, and the runner (if any) scores below
    // the first's floor, so no later machine can win. Otherwise (a filtered machine, or a near
    // tie) the machines are handed out one by one.
    if let Some((first, runner)) = index.first_two(demand, after) {
        // Nothing holds the demand at all.
        let first = first?;
        if fit(MachineId(first)) {
            record.offer(first, score(MachineId(first)));
            match runner {
                None => return record.winner().map(MachineId),
                Some(r) if fit(MachineId(r)) && record.hopeless(score(MachineId(r))) => {
                    return record.winner().map(MachineId);
                }
                Some(_) => record = Record::new(),
            }
        }
    }
    let mut until = u64::MAX;
    while let Some((m, position)) = index.next_fit(demand, after, until) {
        let id = MachineId(m);
        after = Some(position);
        if !fit(id) {
            continue;
        }
        let s = score(id);
        if record.hopeless(s) {
            break;
        }
        record.offer(m, s);
        if until == u64::MAX {
            until = index.until(position);
        }
        // The rest of this key group scores the same with higher ids: skip it.
        after = Some((position.0, u32::MAX));
    }
    record.winner().map(MachineId)
}

/// The machine passing `fit` with the highest score; the lowest id among scores within float
/// noise of it ([`Record`]).
#[inline]
pub(crate) fn argmax(
    c: &Cluster,
    fit: impl Fn(MachineId) -> bool,
    score: impl Fn(MachineId) -> f64,
) -> Option<MachineId> {
    let mut record = Record::new();
    for m in c.machine_ids() {
        if fit(m) {
            record.offer(m.0, score(m));
        }
    }
    record.winner().map(MachineId)
}
