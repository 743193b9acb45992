//! Offline packing: a batch of items into a set of machines with one policy.
//!
//! Item-centric policies take the batch in the policy's order (input order, or a stable decreasing
//! sort) and place each item with [`Policy::place`], exactly as the simulator and the live adapter
//! do online. Bin-centric policies (dot-product, l2-norm) fill machines one at a time with the best
//! remaining item by the same score, and DRF takes items by progressive filling across groups.
//!
//! [`pack_with`] adds what a scheduler around the packer knows: per-item eligibility beyond the
//! request (anti-affinity, ...), a callback on each placement, and mesos-batch's head-of-line rule
//! (stop at the first item that cannot be placed).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::Error;
use crate::cluster::{Cluster, MachineId};
use crate::gpu::{DeviceAlloc, GpuDemand, ModelSet, Request, default_devices};
use crate::item_tree::ItemTree;
use crate::policy::{BatchOrder, Policy};
use crate::resources::ResourceTable;
#[cfg(test)]
use crate::rule::Record;

/// A batch of items to pack: their demands and, optionally, the group (user, framework, job) of
/// each one (read by DRF), their GPU device demands and their acceptable GPU models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Items {
    demands: ResourceTable,
    groups: Option<Vec<u32>>,
    gpus: Option<Vec<GpuDemand>>,
    models: Option<Vec<ModelSet>>,
}

impl Items {
    /// Items with the given demands, no groups, no GPU devices, any GPU model.
    pub fn new(demands: ResourceTable) -> Items {
        Items {
            demands,
            groups: None,
            gpus: None,
            models: None,
        }
    }

    fn check_len(&self, len: usize, what: &str) -> Result<(), Error> {
        if len != self.demands.len() {
            return Err(Error::Items(format!(
                "{len} {what} for {} items",
                self.demands.len()
            )));
        }
        Ok(())
    }

    /// The same items with one group number per item.
    pub fn with_groups(self, groups: Vec<u32>) -> Result<Items, Error> {
        self.check_len(groups.len(), "groups")?;
        Ok(Items {
            groups: Some(groups),
            ..self
        })
    }

    /// The same items with one GPU device demand per item.
    pub fn with_gpus(self, gpus: Vec<GpuDemand>) -> Result<Items, Error> {
        self.check_len(gpus.len(), "GPU demands")?;
        Ok(Items {
            gpus: Some(gpus),
            ..self
        })
    }

    /// The same items with one set of acceptable GPU models per item.
    pub fn with_models(self, models: Vec<ModelSet>) -> Result<Items, Error> {
        self.check_len(models.len(), "model sets")?;
        Ok(Items {
            models: Some(models),
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

    /// The same items, row `k` being item `order[k]`.
    fn gathered(&self, order: &[u32]) -> Items {
        fn take<T: Copy>(column: &Option<Vec<T>>, order: &[u32]) -> Option<Vec<T>> {
            column
                .as_ref()
                .map(|c| order.iter().map(|&i| c[i as usize]).collect())
        }
        let mut demands = ResourceTable::with_capacity(self.demands.dims(), order.len());
        for &i in order {
            demands.push(self.demands.row(i as usize));
        }
        Items {
            demands,
            groups: take(&self.groups, order),
            gpus: take(&self.gpus, order),
            models: take(&self.models, order),
        }
    }

    /// Item `i` as a placement request.
    pub fn request(&self, i: usize) -> Request<'_> {
        Request {
            demand: self.demands.row(i),
            gpu: self.gpus.as_ref().map_or(GpuDemand::None, |g| g[i]),
            models: self.models.as_ref().map_or(ModelSet::ANY, |m| m[i]),
        }
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
    devices: Vec<DeviceAlloc>,
    order: Vec<u32>,
}

impl Packing {
    /// The machine of each item, by item index; `None` for an unplaced item.
    pub fn assignment(&self) -> &[Option<MachineId>] {
        &self.assignment
    }

    /// The GPU devices each placed item took (`DeviceAlloc::None` otherwise).
    pub fn devices(&self) -> &[DeviceAlloc] {
        &self.devices
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
        let Some(last) = self.assignment.iter().flatten().map(|m| m.index()).max() else {
            return 0;
        };
        let mut seen = vec![false; last + 1];
        let mut used = 0;
        for m in self.assignment.iter().flatten() {
            used += usize::from(!std::mem::replace(&mut seen[m.index()], true));
        }
        used
    }
}

/// What a scheduler around the packer adds: eligibility beyond the request, and a callback on each
/// placement (to update the state eligibility depends on).
pub trait PackHooks {
    /// True when item `item` may go on machine `m` (it already fits there).
    fn eligible(&self, item: usize, m: MachineId) -> bool;
    /// Item `item` was placed on `m`.
    fn placed(&mut self, item: usize, m: MachineId);
}

/// No constraints beyond the requests.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHooks;

impl PackHooks for NoHooks {
    fn eligible(&self, _: usize, _: MachineId) -> bool {
        true
    }
    fn placed(&mut self, _: usize, _: MachineId) {}
}

/// Packs `items` onto the machines of `cluster` with `policy`, allocating as it goes.
///
/// The cluster may already have allocations (a snapshot of a running cluster); they stay. Every
/// item ends either placed or in [`Packing::unplaced`].
///
/// # Panics
/// If the items' number of dimensions differs from the cluster's.
pub fn pack(policy: &Policy, cluster: &mut Cluster, items: &Items) -> Result<Packing, Error> {
    pack_with(policy, cluster, items, &mut NoHooks, false)
}

/// Like [`pack`], with `hooks` consulted for every candidate machine and told of every placement.
/// With `stop_at_first_unplaced`, items after the first one that cannot be placed are left
/// unplaced (mesos-batch's head-of-line behaviour); for bin-centric and DRF policies it has no
/// effect.
///
/// # Panics
/// If the items' number of dimensions differs from the cluster's.
pub fn pack_with(
    policy: &Policy,
    cluster: &mut Cluster,
    items: &Items,
    hooks: &mut impl PackHooks,
    stop_at_first_unplaced: bool,
) -> Result<Packing, Error> {
    let demands = items.demands();
    assert_eq!(
        demands.dims(),
        cluster.dims(),
        "items and machines differ in dimensions"
    );
    policy.check_batch()?;
    policy.prepare(cluster);
    let mut packing = Packing {
        assignment: vec![None; items.len()],
        devices: vec![DeviceAlloc::None; items.len()],
        order: Vec::with_capacity(items.len()),
    };
    let order = match policy.batch_order(demands, cluster) {
        BatchOrder::Fixed(order) => order,
        BatchOrder::BinCentric => {
            bin_centric(policy, cluster, items, hooks, &mut packing);
            return Ok(packing);
        }
        BatchOrder::Progressive => {
            progressive_filling(policy, cluster, items, hooks, &mut packing);
            return Ok(packing);
        }
    };
    {
        // Row `k` of `in_order` is item `order[k]`. Reading a large batch's rows through a
        // decreasing order inside the loop misses the cache on every item, on the placement's
        // critical path; gathered first, the misses are independent loads that overlap (a third
        // of FFD's time on 10^6 items).
        let gathered;
        let in_order = if order.iter().enumerate().all(|(k, &i)| i as usize == k) {
            items
        } else {
            gathered = items.gathered(&order);
            &gathered
        };
        let mut blocked = false;
        for (k, &i) in order.iter().enumerate() {
            packing.order.push(i);
            if blocked {
                continue;
            }
            let request = in_order.request(k);
            let placed = place_one(policy, cluster, request, i as usize, hooks, &mut packing);
            blocked = stop_at_first_unplaced && !placed;
        }
    }
    Ok(packing)
}

/// Textbook bin packing ("any fit"): the machines are bins, opened in id order; the policy chooses
/// among the bins opened so far and the next bin is opened only when none of them can take the
/// item. This is how the bin-packing literature defines first, best and worst fit, and what
/// optimality gaps are measured with; [`pack`] instead lets a policy choose among all machines, as
/// a scheduler does (so worst fit spreads over empty machines). Bin-centric and DRF policies fill
/// bins one at a time by construction and pack exactly as with [`pack`].
///
/// # Panics
/// If the items' number of dimensions differs from the cluster's.
pub fn pack_opening(policy: &Policy, cluster: &mut Cluster, items: &Items) -> Result<Packing, Error> {
    let demands = items.demands();
    assert_eq!(
        demands.dims(),
        cluster.dims(),
        "items and machines differ in dimensions"
    );
    let BatchOrder::Fixed(order) = policy.batch_order(demands, cluster) else {
        return pack(policy, cluster, items);
    };
    policy.prepare(cluster);
    let mut packing = Packing {
        assignment: vec![None; items.len()],
        devices: vec![DeviceAlloc::None; items.len()],
        order: Vec::with_capacity(items.len()),
    };
    // Bins not opened yet are unavailable, so the policy (and its index) sees only open bins.
    let ids: Vec<MachineId> = cluster.machine_ids().collect();
    let was_available: Vec<bool> = ids.iter().map(|&m| cluster.is_available(m)).collect();
    for &m in &ids {
        cluster.set_available(m, false);
    }
    let mut open = 0usize;
    for &i in &order {
        packing.order.push(i);
        let request = items.request(i as usize);
        let mut placement = policy.place(cluster, &request, |_| true);
        if placement.is_none() && open < ids.len() && was_available[open] {
            cluster.set_available(ids[open], true);
            placement = policy.place(cluster, &request, |m| m.index() == open);
            if placement.is_some() {
                open += 1;
            } else {
                cluster.set_available(ids[open], false);
            }
        }
        if let Some(p) = placement {
            cluster
                .allocate_request(p.machine, &request, p.devices)
                .expect("policies only choose machines where the task fits");
            packing.assignment[i as usize] = Some(p.machine);
            packing.devices[i as usize] = p.devices;
        }
    }
    for (m, available) in ids.into_iter().zip(was_available) {
        cluster.set_available(m, available);
    }
    Ok(packing)
}

/// Places item `i`, whose request is `request`, with the policy's online decision; true when it
/// was placed.
fn place_one(
    policy: &Policy,
    c: &mut Cluster,
    request: Request<'_>,
    i: usize,
    hooks: &mut impl PackHooks,
    packing: &mut Packing,
) -> bool {
    let Some(p) = policy.place(c, &request, |m| hooks.eligible(i, m)) else {
        return false;
    };
    c.allocate_request(p.machine, &request, p.devices)
        .expect("policies only choose machines where the task fits");
    hooks.placed(i, p.machine);
    packing.assignment[i] = Some(p.machine);
    // Already `None`: no write, and on a large batch no cache miss, for tasks without GPUs.
    if p.devices != DeviceAlloc::None {
        packing.devices[i] = p.devices;
    }
    true
}

/// Fills machines in id order, each time with the remaining item of highest score by the policy's
/// rule ([`Policy::rule_score`]), decided by the one scoring rule (`Record`: the highest score,
/// the lowest item index among scores within float noise of it), as every decision is. The
/// remaining items are searched through an [`ItemTree`], which returns the item a scan of all of
/// them returns (see [`bin_centric_scan`], the reference it is tested against).
fn bin_centric(
    policy: &Policy,
    c: &mut Cluster,
    items: &Items,
    hooks: &mut impl PackHooks,
    packing: &mut Packing,
) {
    let mut tree = ItemTree::new(items);
    for m in c.machine_ids() {
        while let Some(i) = tree.best(policy, c, m, items, hooks) {
            tree.remove(i);
            place_chosen(c, m, i as usize, items, hooks, packing);
        }
        if tree.len() == 0 {
            break;
        }
    }
    packing.order.extend(tree.remaining());
}

/// Allocates item `i`, chosen for machine `m`, and records it.
fn place_chosen(
    c: &mut Cluster,
    m: MachineId,
    i: usize,
    items: &Items,
    hooks: &mut impl PackHooks,
    packing: &mut Packing,
) {
    let request = items.request(i);
    let devices = default_devices(c.devices(m), request.gpu).expect("the request fits its devices");
    c.allocate_request(m, &request, devices)
        .expect("the chosen item fits");
    hooks.placed(i, m);
    packing.assignment[i] = Some(m);
    packing.devices[i] = devices;
    packing.order.push(i as u32);
}

/// The bin-centric fill by scanning every remaining item for every choice: the reference the
/// indexed fill must equal.
#[cfg(test)]
fn bin_centric_scan(
    policy: &Policy,
    c: &mut Cluster,
    items: &Items,
    hooks: &mut impl PackHooks,
    packing: &mut Packing,
) {
    let mut remaining: Vec<u32> = (0..items.len() as u32).collect();
    for m in c.machine_ids() {
        loop {
            let mut record = Record::new();
            for &i in &remaining {
                let request = items.request(i as usize);
                if c.fits_request(m, &request) && hooks.eligible(i as usize, m) {
                    record.offer(i, policy.rule_score(c, m, request.demand));
                }
            }
            let Some(i) = record.winner() else { break };
            let pos = remaining
                .binary_search(&i)
                .expect("the winner is a remaining item");
            remaining.remove(pos);
            place_chosen(c, m, i as usize, items, hooks, packing);
        }
        if remaining.is_empty() {
            break;
        }
    }
    packing.order.extend(remaining);
}

/// DRF: always serve the group with the lowest weighted dominant share, placing first-fit.
fn progressive_filling(
    policy: &Policy,
    c: &mut Cluster,
    items: &Items,
    hooks: &mut impl PackHooks,
    packing: &mut Packing,
) {
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
    let mut group_ids: Vec<u32> = groups.to_vec();
    group_ids.sort_unstable();
    group_ids.dedup();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); group_ids.len()];
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
    while let Some(Reverse((_, s))) = heap.pop() {
        let i = members[s][next[s]];
        next[s] += 1;
        packing.order.push(i);
        if place_one(policy, c, items.request(i as usize), i as usize, hooks, packing) {
            for (d, &x) in demands.row(i as usize).iter().enumerate() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random batches, small integer demands in 2 or 3 dimensions (so that exact ties are
    /// common), against random clusters: the indexed fill equals the scan, for dot product,
    /// l2-norm and a sum of them.
    #[test]
    fn the_indexed_bin_centric_fill_is_the_scan() {
        let mut rng = crate::hash::SplitMix64::new(7);
        let mut below = |n: u64| rng.next_u64() % n;
        for case in 0..300 {
            let dims = 2 + (case % 2);
            let names = ["cpus", "mem", "disk"];
            let schema = crate::schema::conventional(&names[..dims]);
            let mut c = Cluster::new(dims);
            for _ in 0..1 + below(12) {
                let cap: Vec<u64> = (0..dims).map(|_| 4 + below(20)).collect();
                c.add_machine(&cap);
            }
            let n = below(120) as usize;
            let mut table = ResourceTable::with_capacity(dims, n);
            for _ in 0..n {
                let row: Vec<u64> = (0..dims).map(|_| below(8)).collect();
                table.push(&row);
            }
            let items = Items::new(table);
            for spec in ["dot-product", "l2-norm", "dot-product*2+l2-norm*1"] {
                let policy = Policy::parse(spec, &schema).unwrap();
                let fresh = || Packing {
                    assignment: vec![None; n],
                    devices: vec![DeviceAlloc::None; n],
                    order: Vec::new(),
                };
                let (mut a, mut b) = (c.clone(), c.clone());
                let (mut pa, mut pb) = (fresh(), fresh());
                bin_centric(&policy, &mut a, &items, &mut NoHooks, &mut pa);
                bin_centric_scan(&policy, &mut b, &items, &mut NoHooks, &mut pb);
                assert_eq!(pa, pb, "case {case}, {spec}");
            }
        }
    }

    #[test]
    fn machines_used_counts_distinct_machines() {
        let packing = |assignment: Vec<Option<MachineId>>| Packing {
            devices: vec![DeviceAlloc::None; assignment.len()],
            order: (0..assignment.len() as u32).collect(),
            assignment,
        };
        let m = MachineId;
        assert_eq!(packing(vec![]).machines_used(), 0);
        assert_eq!(packing(vec![None, None]).machines_used(), 0);
        assert_eq!(
            packing(vec![Some(m(3)), None, Some(m(3)), Some(m(0)), Some(m(7))]).machines_used(),
            3
        );
    }
}
