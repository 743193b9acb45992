//! Offline packing: a batch of items into a set of machines with one policy.
//!
//! Item-centric policies take the batch in the policy's order (input order, or a stable decreasing
//! sort) and place each item with [`Policy::choose`], exactly as the simulator and the live
//! adapter do online. Bin-centric policies (dot-product, l2-norm) fill machines one at a time with
//! the best remaining item by the same score, and DRF takes items by progressive filling across
//! groups.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::cluster::{Cluster, MachineId};
use crate::policy::{Kind, Policy, beats, kind_score};
use crate::resources::ResourceTable;
use crate::{Error, resources};

/// A batch of items to pack: their demands and, optionally, the group (user, framework, job) of
/// each one, which only the DRF policy reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Items {
    demands: ResourceTable,
    groups: Option<Vec<u32>>,
}

impl Items {
    /// Items with the given demands and no groups.
    pub fn new(demands: ResourceTable) -> Items {
        Items {
            demands,
            groups: None,
        }
    }

    /// The same items with one group number per item.
    pub fn with_groups(self, groups: Vec<u32>) -> Result<Items, Error> {
        if groups.len() != self.demands.len() {
            return Err(Error::Items(format!(
                "{} groups for {} items",
                groups.len(),
                self.demands.len()
            )));
        }
        Ok(Items {
            groups: Some(groups),
            ..self
        })
    }

    /// The demands, one row per item.
    pub fn demands(&self) -> &ResourceTable {
        &self.demands
    }

    /// The group of each item, if groups were given.
    pub fn groups(&self) -> Option<&[u32]> {
        self.groups.as_deref()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.demands.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.demands.is_empty()
    }
}

/// The outcome of packing a batch: where each item went and in which order items were processed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    assignment: Vec<Option<MachineId>>,
    order: Vec<u32>,
}

impl Packing {
    /// The machine of each item, by item index; `None` for an unplaced item.
    pub fn assignment(&self) -> &[Option<MachineId>] {
        &self.assignment
    }

    /// Every item index once, in the order the policy processed them (placed items of a
    /// bin-centric policy in placement order, then its unplaced items in input order).
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// The unplaced items, in processing order.
    pub fn unplaced(&self) -> Vec<u32> {
        self.order
            .iter()
            .copied()
            .filter(|&i| self.assignment[i as usize].is_none())
            .collect()
    }

    /// The items placed on each machine, in placement order, for machines `0..machines`.
    pub fn per_machine(&self, machines: usize) -> Vec<Vec<u32>> {
        let mut bins = vec![Vec::new(); machines];
        for &i in &self.order {
            if let Some(m) = self.assignment[i as usize] {
                bins[m.index()].push(i);
            }
        }
        bins
    }

    /// Number of distinct machines that received at least one item.
    pub fn machines_used(&self) -> usize {
        let mut used: Vec<MachineId> = self.assignment.iter().flatten().copied().collect();
        used.sort_unstable();
        used.dedup();
        used.len()
    }
}

/// Packs `items` onto the machines of `cluster` with `policy`, allocating as it goes.
///
/// The cluster may already have allocations (a snapshot of a running cluster); they stay. Every
/// item ends either placed or in [`Packing::unplaced`].
///
/// # Panics
/// If the items' number of dimensions differs from the cluster's.
pub fn pack(policy: &Policy, cluster: &mut Cluster, items: &Items) -> Packing {
    let demands = items.demands();
    assert_eq!(
        demands.dims(),
        cluster.dims(),
        "items and machines differ in dimensions"
    );
    if let Some(order) = policy.static_order(demands, cluster) {
        return place_in_order(policy, cluster, demands, order);
    }
    match policy.kind() {
        Some(kind @ (Kind::DotProduct | Kind::L2Norm)) => bin_centric(policy, kind, cluster, demands),
        Some(Kind::Drf) => progressive_filling(policy, cluster, items),
        _ => unreachable!("every other policy has a static order"),
    }
}

fn place_in_order(policy: &Policy, c: &mut Cluster, demands: &ResourceTable, order: Vec<u32>) -> Packing {
    let mut assignment = vec![None; demands.len()];
    for &i in &order {
        let demand = demands.row(i as usize);
        if let Some(m) = policy.choose(c, demand) {
            c.allocate(m, demand)
                .expect("policies only choose machines where the task fits");
            assignment[i as usize] = Some(m);
        }
    }
    Packing { assignment, order }
}

/// Fill machines in id order, each time with the remaining item of highest score.
fn bin_centric(policy: &Policy, kind: Kind, c: &mut Cluster, demands: &ResourceTable) -> Packing {
    let mut assignment = vec![None; demands.len()];
    let mut order = Vec::with_capacity(demands.len());
    let mut remaining: Vec<u32> = (0..demands.len() as u32).collect();
    for m in c.machine_ids() {
        loop {
            let mut best: Option<(usize, f64)> = None;
            for (pos, &i) in remaining.iter().enumerate() {
                let demand = demands.row(i as usize);
                if !resources::fits(demand, c.free(m)) {
                    continue;
                }
                let s = kind_score(kind, c, m, demand, policy.weights(), policy.seed());
                if best.is_none_or(|(_, b)| beats(s, b)) {
                    best = Some((pos, s));
                }
            }
            let Some((pos, _)) = best else { break };
            let i = remaining.remove(pos);
            c.allocate(m, demands.row(i as usize))
                .expect("the chosen item fits");
            assignment[i as usize] = Some(m);
            order.push(i);
        }
        if remaining.is_empty() {
            break;
        }
    }
    order.extend(remaining);
    Packing { assignment, order }
}

/// DRF: always serve the group with the lowest weighted dominant share, placing first-fit.
fn progressive_filling(policy: &Policy, c: &mut Cluster, items: &Items) -> Packing {
    let demands = items.demands();
    let n = demands.len();
    let own_groups: Vec<u32>;
    let groups = match items.groups() {
        Some(g) => g,
        None => {
            own_groups = (0..n as u32).collect();
            &own_groups
        }
    };
    // Per group: its items in input order, a cursor, and what it has been allocated.
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut group_ids: Vec<u32> = groups.to_vec();
    group_ids.sort_unstable();
    group_ids.dedup();
    members.resize(group_ids.len(), Vec::new());
    let slot = |g: u32| group_ids.binary_search(&g).expect("group listed");
    for (i, &g) in groups.iter().enumerate() {
        members[slot(g)].push(i as u32);
    }
    let dims = c.dims();
    let totals: Vec<f64> = c.total_capacity().iter().map(|&t| t as f64).collect();
    let weights = policy.weights().values();
    let mut allocated = vec![0.0f64; group_ids.len() * dims];
    let mut next = vec![0usize; group_ids.len()];
    // Min-heap on (dominant share, group slot); shares are non-negative, so their bits order them.
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = (0..group_ids.len())
        .map(|s| Reverse((0f64.to_bits(), s)))
        .collect();
    let mut assignment = vec![None; n];
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse((_, s))) = heap.pop() {
        let i = members[s][next[s]];
        next[s] += 1;
        order.push(i);
        let demand = demands.row(i as usize);
        if let Some(m) = policy.choose(c, demand) {
            c.allocate(m, demand)
                .expect("first fit only returns fitting machines");
            assignment[i as usize] = Some(m);
            for (d, &x) in demand.iter().enumerate() {
                allocated[s * dims + d] += x as f64;
            }
        }
        if next[s] < members[s].len() {
            let share = (0..dims)
                .filter(|&d| totals[d] > 0.0)
                .map(|d| weights[d] * allocated[s * dims + d] / totals[d])
                .fold(0.0, f64::max);
            heap.push(Reverse((share.to_bits(), s)));
        }
    }
    Packing { assignment, order }
}
