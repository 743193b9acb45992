//! Machines (bins) with capacity and free amounts, and the allocate/release operations on them.

mod devices;

use std::fmt;

use crate::Error;
use crate::gpu::{DeviceAlloc, GPU_MILLI, GpuDemand, Request, default_devices, devices_fit};
use crate::index::{FitIndex, KdIndex, OrderIndex};
use crate::resources::{ResourceTable, fits};

/// A machine's position in its [`Cluster`]: ids are dense, start at 0, and follow insertion order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MachineId(pub u32);

impl MachineId {
    /// The id as an index into per-machine arrays.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for MachineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// The state placement policies decide on: every machine's capacity and what is still free.
///
/// Invariants: for every machine and dimension `free ≤ capacity` (so `used = capacity − free` is
/// never negative and never exceeds the capacity), and on GPU machines the free amount of the GPU
/// dimension equals the sum of the devices' free milli-GPU. [`allocate`](Cluster::allocate) and
/// [`release`](Cluster::release) keep them by answering `None` instead of overdrawing.
///
/// A machine can be made unavailable (failed, removed, draining): it keeps its allocations until
/// they are released but is never chosen for a new task. Ids are never reused.
///
/// Besides the raw amounts the cluster keeps what policies need to decide quickly without
/// allocating: the per-dimension reference capacity (the largest machine's) used to normalise
/// scores, per-dimension totals, an index for first-fit queries, a generation counter that changes
/// with every change of state, and the last machine allocated to (next-fit's cursor).
#[derive(Clone, Debug)]
pub struct Cluster {
    dims: usize,
    capacity: Vec<u64>,
    free: Vec<u64>,
    available: Vec<bool>,
    /// How many of `available` are true.
    available_count: usize,
    reference: Vec<u64>,
    inv_reference: Vec<f64>,
    total_capacity: Vec<u128>,
    total_free: Vec<u128>,
    index: FitIndex,
    generation: u64,
    cursor: usize,
    /// The dimension holding the sum of a machine's GPU devices, if the cluster has GPUs.
    gpu_dim: Option<usize>,
    /// Machine `m`'s devices are `dev_free[dev_start[m]..dev_start[m + 1]]`.
    dev_start: Vec<u32>,
    /// Free milli-GPU of each device.
    dev_free: Vec<u16>,
    /// GPU model id of each machine (0 when it has no GPUs or the model is unknown).
    model: Vec<u16>,
    /// Per machine, the GPU demands of the tasks allocated there and how many of each (GPU
    /// clustering groups tasks by this "affinity").
    gpu_tasks: Vec<Vec<(GpuDemand, u32)>>,
    /// Best/worst fit's ordered index, when a policy asked for one ([`Cluster::index_residual`]).
    order: Option<Box<OrderIndex>>,
    /// The k-d tree multi-dimensional best fit and the pruned scores decide with, when a policy
    /// asked for one ([`Cluster::index_space`]).
    space: Option<Box<KdIndex>>,
}

impl Cluster {
    /// An empty cluster whose machines have `dims` dimensions, without GPU devices.
    ///
    /// # Panics
    /// If `dims` is zero.
    pub fn new(dims: usize) -> Cluster {
        assert!(dims > 0, "a resource vector has at least one dimension");
        Cluster {
            dims,
            capacity: Vec::new(),
            free: Vec::new(),
            available: Vec::new(),
            available_count: 0,
            reference: vec![0; dims],
            inv_reference: vec![0.0; dims],
            total_capacity: vec![0; dims],
            total_free: vec![0; dims],
            index: FitIndex::new(dims),
            generation: 0,
            cursor: 0,
            gpu_dim: None,
            dev_start: vec![0],
            dev_free: Vec::new(),
            model: Vec::new(),
            gpu_tasks: Vec::new(),
            order: None,
            space: None,
        }
    }

    /// An empty cluster whose dimension `gpu_dim` is the GPU dimension (milli-GPU, the sum over a
    /// machine's devices).
    ///
    /// # Panics
    /// If `dims` is zero or `gpu_dim` is not a dimension.
    pub fn with_gpus(dims: usize, gpu_dim: usize) -> Cluster {
        assert!(gpu_dim < dims, "the GPU dimension must be one of the dimensions");
        Cluster {
            gpu_dim: Some(gpu_dim),
            ..Cluster::new(dims)
        }
    }

    /// A cluster of empty machines with the given capacities, ids in row order, without GPUs.
    pub fn from_capacities(capacities: &ResourceTable) -> Cluster {
        let mut cluster = Cluster::new(capacities.dims());
        cluster.capacity.reserve(capacities.len() * capacities.dims());
        cluster.free.reserve(capacities.len() * capacities.dims());
        for row in capacities.rows() {
            cluster.push_machine(row, 0, 0);
        }
        cluster
            .index
            .rebuild(cluster.len(), &cluster.free, &cluster.available);
        // The generation counts machines added, as if they had been added one by one: the same
        // cluster built either way decides the same (random policies mix the generation in).
        cluster.generation = cluster.len() as u64;
        cluster
    }

    fn push_machine(&mut self, capacity: &[u64], gpus: u32, model: u16) -> MachineId {
        assert_eq!(
            capacity.len(),
            self.dims,
            "capacity has the wrong number of dimensions"
        );
        let id = MachineId(u32::try_from(self.len()).expect("more than 2^32 machines"));
        self.capacity.extend_from_slice(capacity);
        self.free.extend_from_slice(capacity);
        self.available.push(true);
        self.available_count += 1;
        for (d, &c) in capacity.iter().enumerate() {
            self.total_capacity[d] += u128::from(c);
            self.total_free[d] += u128::from(c);
            if c > self.reference[d] {
                self.reference[d] = c;
                self.inv_reference[d] = 1.0 / c as f64;
            }
        }
        self.dev_free
            .extend(std::iter::repeat_n(GPU_MILLI as u16, gpus as usize));
        self.dev_start.push(self.dev_free.len() as u32);
        self.model.push(model);
        self.gpu_tasks.push(Vec::new());
        id
    }

    /// Adds an empty machine and returns its id. In a GPU cluster its GPU capacity is split into
    /// whole devices of unknown model.
    ///
    /// # Panics
    /// If `capacity` has the wrong number of dimensions, or its GPU capacity is not a multiple of
    /// 1000 milli-GPU (use [`Cluster::add_gpu_machine`] to be told instead).
    pub fn add_machine(&mut self, capacity: &[u64]) -> MachineId {
        let gpus = self.gpu_dim.map_or(0, |g| capacity[g] / u64::from(GPU_MILLI));
        self.add_gpu_machine(capacity, gpus as u32, 0)
            .expect("GPU capacity is a whole number of devices")
    }

    /// Adds an empty machine with `gpus` devices of model `model`; its capacity in the GPU
    /// dimension must be `1000 × gpus`.
    pub fn add_gpu_machine(&mut self, capacity: &[u64], gpus: u32, model: u16) -> Result<MachineId, Error> {
        if capacity.len() != self.dims {
            return Err(Error::Machine(format!(
                "{} capacities for {} dimensions",
                capacity.len(),
                self.dims
            )));
        }
        match self.gpu_dim {
            None if gpus > 0 => {
                return Err(Error::Machine(
                    "GPU devices on a cluster without a GPU dimension".into(),
                ));
            }
            Some(g) if capacity[g] != u64::from(gpus) * u64::from(GPU_MILLI) => {
                return Err(Error::Machine(format!(
                    "GPU capacity {} milli-GPU does not match {gpus} devices of 1000",
                    capacity[g]
                )));
            }
            _ => {}
        }
        if gpus > 64 {
            return Err(Error::Machine(format!("{gpus} GPUs on one machine (at most 64)")));
        }
        let id = self.push_machine(capacity, gpus, model);
        self.index.reserve(self.len(), &self.free, &self.available);
        self.index.set(id.index(), capacity, true);
        if let Some(order) = &mut self.order {
            if order.inv_reference() == self.inv_reference.as_slice() {
                order.push(capacity, true);
            } else {
                order.rebuild(&self.inv_reference, &self.free, &self.available);
            }
        }
        if let Some(space) = &mut self.space {
            if space.inv_reference() != self.inv_reference.as_slice() {
                space.rekey(&self.inv_reference, &self.free[..id.index() * self.dims]);
            }
            space.push(capacity, true);
        }
        self.generation += 1;
        Ok(id)
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of machines ever added (available or not).
    pub fn len(&self) -> usize {
        self.available.len()
    }

    /// Number of machines that are available (may receive new tasks).
    pub fn available_count(&self) -> usize {
        self.available_count
    }

    /// True when the cluster has no machines.
    pub fn is_empty(&self) -> bool {
        self.available.is_empty()
    }

    /// Every machine id, lowest first.
    pub fn machine_ids(&self) -> impl ExactSizeIterator<Item = MachineId> + use<> {
        (0..self.len() as u32).map(MachineId)
    }

    /// The machine's capacity.
    #[inline]
    pub fn capacity(&self, m: MachineId) -> &[u64] {
        let i = m.index() * self.dims;
        &self.capacity[i..i + self.dims]
    }

    /// What is still free on the machine.
    #[inline]
    pub fn free(&self, m: MachineId) -> &[u64] {
        let i = m.index() * self.dims;
        &self.free[i..i + self.dims]
    }

    /// What is allocated on the machine: `capacity − free`.
    pub fn used(&self, m: MachineId) -> Vec<u64> {
        let cap = self.capacity(m);
        self.free(m).iter().zip(cap).map(|(f, c)| c - f).collect()
    }

    /// True when nothing is allocated on the machine.
    pub fn is_idle(&self, m: MachineId) -> bool {
        self.free(m) == self.capacity(m)
    }

    /// True when the machine may receive new tasks.
    #[inline]
    pub fn is_available(&self, m: MachineId) -> bool {
        self.available[m.index()]
    }

    /// Makes the machine available or not for new tasks; its allocations are not touched.
    pub fn set_available(&mut self, m: MachineId, available: bool) {
        if self.available[m.index()] != available {
            self.available[m.index()] = available;
            if available {
                self.available_count += 1;
            } else {
                self.available_count -= 1;
            }
            let i = m.index() * self.dims;
            self.index.set(m.index(), &self.free[i..i + self.dims], available);
            self.touch_order(m);
            self.generation += 1;
        }
    }

    /// Changes the machine's capacity; `None`, and no change, if that would put its allocations
    /// over the new capacity, or change the GPU capacity of a machine whose GPUs are in use.
    pub fn set_capacity(&mut self, m: MachineId, capacity: &[u64]) -> Option<()> {
        if capacity.len() != self.dims || m.index() >= self.len() {
            return None;
        }
        let used = self.used(m);
        if used.iter().zip(capacity).any(|(u, c)| u > c) {
            return None;
        }
        if let Some(g) = self.gpu_dim {
            if capacity[g] != self.capacity(m)[g] && (used[g] > 0 || capacity[g] % u64::from(GPU_MILLI) != 0)
            {
                return None;
            }
            if capacity[g] != self.capacity(m)[g] {
                self.resize_devices(m, (capacity[g] / u64::from(GPU_MILLI)) as usize);
            }
        }
        let i = m.index() * self.dims;
        for d in 0..self.dims {
            let (old_cap, old_free) = (self.capacity[i + d], self.free[i + d]);
            let new_free = capacity[d] - used[d];
            self.total_capacity[d] = self.total_capacity[d] - u128::from(old_cap) + u128::from(capacity[d]);
            self.total_free[d] = self.total_free[d] - u128::from(old_free) + u128::from(new_free);
            self.capacity[i + d] = capacity[d];
            self.free[i + d] = new_free;
            if capacity[d] > self.reference[d] {
                self.reference[d] = capacity[d];
                self.inv_reference[d] = 1.0 / capacity[d] as f64;
            }
        }
        self.index
            .set(m.index(), &self.free[i..i + self.dims], self.available[m.index()]);
        match &mut self.order {
            Some(order) if order.inv_reference() != self.inv_reference.as_slice() => {
                order.rebuild(&self.inv_reference, &self.free, &self.available);
            }
            Some(order) => order.update(m.index(), &self.free[i..i + self.dims], self.available[m.index()]),
            None => {}
        }
        if let Some(space) = &mut self.space {
            if space.inv_reference() != self.inv_reference.as_slice() {
                space.rekey(&self.inv_reference, &self.free);
            }
            space.set_capacity(m.index(), capacity);
            space.update(m.index(), &self.free[i..i + self.dims], self.available[m.index()]);
        }
        self.generation += 1;
        Some(())
    }

    /// Tells the ordered index and the k-d tree, if any, that machine `m`'s free amounts or
    /// availability changed.
    #[inline]
    fn touch_order(&mut self, m: MachineId) {
        let i = m.index() * self.dims;
        if let Some(order) = &mut self.order {
            order.update(m.index(), &self.free[i..i + self.dims], self.available[m.index()]);
        }
        if let Some(space) = &mut self.space {
            space.update(m.index(), &self.free[i..i + self.dims], self.available[m.index()]);
        }
    }

    /// Keeps a k-d tree of the machines by free amounts, keyed for best fit with `normalised`
    /// weights when given, keeping capacity ranges when `capacity`, and cut by the dimensions
    /// `scored` marks (those the asking policy's score reads). A no-op if the cluster keeps a tree
    /// that serves the weights and the capacities (any cut serves, only slower); otherwise
    /// replaces it with one that also serves what the old one did (the new weights win, the cut
    /// takes both policies' dimensions), so policies taking turns on one cluster do not rebuild
    /// it each turn. Costs O(log n) per later change of a machine.
    pub(crate) fn index_space(&mut self, normalised: Option<&[f64]>, capacity: bool, scored: &[bool]) {
        let old = self.space.as_deref();
        let keyed = |s: &KdIndex| normalised.is_none_or(|w| s.serves(w));
        if old.is_some_and(|s| keyed(s) && (!capacity || s.keeps_capacity())) {
            return;
        }
        let normalised = normalised
            .map(<[f64]>::to_vec)
            .or_else(|| old.and_then(KdIndex::normalised).map(<[f64]>::to_vec));
        let capacity = capacity || old.is_some_and(KdIndex::keeps_capacity);
        let cut_by: Vec<bool> = match old {
            Some(old) => scored.iter().zip(old.cut_by()).map(|(a, b)| *a || *b).collect(),
            None => scored.to_vec(),
        };
        self.space = Some(Box::new(KdIndex::new(
            self.dims,
            normalised.as_deref(),
            &self.inv_reference,
            &self.free,
            &self.available,
            capacity.then_some(self.capacity.as_slice()),
            &cut_by,
        )));
    }

    /// The id-ordered segment tree every cluster keeps.
    #[inline]
    pub(crate) fn fit_index(&self) -> &FitIndex {
        &self.index
    }

    /// The k-d tree, if the cluster keeps one.
    #[inline]
    pub(crate) fn space_index(&self) -> Option<&KdIndex> {
        self.space.as_deref()
    }

    /// Keeps an ordered index of the machines by their best/worst-fit key for these weights
    /// (`descending`: largest key first, for worst fit), so best and worst fit find their machine
    /// without a scan. Replaces an index for other weights; a no-op if this one exists. Costs
    /// O(log n) per later change of a machine.
    pub(crate) fn index_residual(&mut self, normalised: &[f64], descending: bool) {
        if self
            .order
            .as_ref()
            .is_some_and(|o| o.serves(normalised, descending))
        {
            return;
        }
        self.order = Some(Box::new(OrderIndex::new(
            self.dims,
            descending,
            normalised,
            &self.inv_reference,
            &self.free,
            &self.available,
        )));
    }

    /// The ordered index for these weights and direction, if the cluster keeps one.
    #[inline]
    pub(crate) fn residual_index(&self, normalised: &[f64], descending: bool) -> Option<&OrderIndex> {
        self.order.as_deref().filter(|o| o.serves(normalised, descending))
    }

    /// True when `demand` fits in what is free on an available machine.
    #[inline]
    pub fn fits(&self, m: MachineId, demand: &[u64]) -> bool {
        self.available[m.index()] && fits(demand, self.free(m))
    }

    /// Takes `demand` from the machine's free amounts; `None`, and no change, if it does not fit.
    ///
    /// On a GPU cluster the GPU amount is taken from devices chosen by [`default_devices`]: a share
    /// below 1000 from one device, whole GPUs from free devices.
    pub fn allocate(&mut self, m: MachineId, demand: &[u64]) -> Option<DeviceAlloc> {
        let gpu = match self.gpu_dim {
            Some(g) if demand.len() == self.dims => GpuDemand::from_milli(demand[g])?,
            _ => GpuDemand::None,
        };
        if m.index() >= self.len() {
            return None;
        }
        let devices = default_devices(self.devices(m), gpu)?;
        let request = Request {
            demand,
            gpu,
            models: crate::gpu::ModelSet::ANY,
        };
        self.allocate_request(m, &request, devices).map(|()| devices)
    }

    /// Gives `demand` back to the machine; `None`, and no change, if more than is allocated. On a
    /// GPU cluster use [`Cluster::release_request`] with the devices the allocation took.
    pub fn release(&mut self, m: MachineId, demand: &[u64]) -> Option<()> {
        match self.gpu_dim {
            Some(g) if demand.get(g).is_some_and(|&x| x > 0) => None,
            _ => self.release_request(m, demand, DeviceAlloc::None),
        }
    }

    /// Per dimension, the largest capacity of any machine: the unit that scores normalise by.
    pub fn reference(&self) -> &[u64] {
        &self.reference
    }

    /// Per dimension, `1 / reference` (0 where every machine has zero capacity).
    #[inline]
    pub fn inv_reference(&self) -> &[f64] {
        &self.inv_reference
    }

    /// Per dimension, the capacity summed over all machines.
    pub fn total_capacity(&self) -> &[u128] {
        &self.total_capacity
    }

    /// Per dimension, the free amount summed over all machines.
    pub fn total_free(&self) -> &[u128] {
        &self.total_free
    }

    /// Per dimension, the largest free amount on any available machine (`None` without any).
    pub fn max_free(&self) -> Option<Vec<u64>> {
        self.index.max_free()
    }

    /// False when some dimension of `demand` exceeds the free amount of every available machine
    /// (then nothing fits); true otherwise (something may fit). O(d), from the index's root.
    #[inline]
    pub fn may_fit(&self, demand: &[u64]) -> bool {
        self.index.may_fit(demand)
    }

    /// A counter that changes with every machine added, allocation, release or other change.
    ///
    /// Seeded random policies mix it into their choice, so they stay pure functions of the state.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The machine of the latest allocation (machine 0 before any): next-fit starts here.
    pub fn cursor(&self) -> MachineId {
        MachineId(self.cursor as u32)
    }

    /// Checks every internal invariant; for tests and debug assertions.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut total_free = vec![0u128; self.dims];
        for m in self.machine_ids() {
            for (d, (&f, &c)) in self.free(m).iter().zip(self.capacity(m)).enumerate() {
                if f > c {
                    return Err(format!("{m}: free {f} > capacity {c} in dimension {d}"));
                }
                total_free[d] += u128::from(f);
            }
            if let Some(g) = self.gpu_dim {
                let devices: u64 = self.devices(m).iter().map(|&f| u64::from(f)).sum();
                if devices != self.free(m)[g] {
                    return Err(format!(
                        "{m}: devices hold {devices} milli-GPU, the GPU dimension {}",
                        self.free(m)[g]
                    ));
                }
                if self.devices(m).iter().any(|&f| u32::from(f) > GPU_MILLI) {
                    return Err(format!("{m}: a device has more than 1000 milli-GPU free"));
                }
            }
        }
        let available = self.available.iter().filter(|&&a| a).count();
        if available != self.available_count {
            return Err(format!(
                "{available} machines available, counted {}",
                self.available_count
            ));
        }
        if total_free != self.total_free {
            return Err(format!("total free {:?} != sum {total_free:?}", self.total_free));
        }
        let scan = |demand: &[u64]| self.machine_ids().find(|&m| self.fits(m, demand));
        for m in self.machine_ids() {
            if self.first_fit(self.free(m)) != scan(self.free(m)) {
                return Err(format!("index disagrees with a scan for {m}'s free vector"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::ModelSet;

    fn cluster(rows: &[[u64; 2]]) -> Cluster {
        Cluster::from_capacities(&ResourceTable::from_rows(2, rows))
    }

    #[test]
    fn a_cluster_built_at_once_or_machine_by_machine_is_the_same_state() {
        let rows = [[4, 8], [2, 2], [6, 1]];
        let at_once = cluster(&rows);
        let mut one_by_one = Cluster::new(2);
        for r in &rows {
            one_by_one.add_machine(r);
        }
        assert_eq!(at_once.generation(), one_by_one.generation());
        assert_eq!(at_once.reference(), one_by_one.reference());
    }

    #[test]
    fn allocate_that_does_not_fit_is_none_and_changes_nothing() {
        let mut c = cluster(&[[4, 4]]);
        let g = c.generation();
        assert_eq!(c.allocate(MachineId(0), &[5, 1]), None);
        assert_eq!(c.allocate(MachineId(7), &[1, 1]), None);
        assert_eq!(c.free(MachineId(0)), &[4, 4]);
        assert_eq!(c.generation(), g);
    }

    #[test]
    fn release_more_than_allocated_is_none() {
        let mut c = cluster(&[[4, 4]]);
        c.allocate(MachineId(0), &[1, 2]).unwrap();
        assert_eq!(c.release(MachineId(0), &[2, 1]), None);
        assert_eq!(c.used(MachineId(0)), vec![1, 2]);
        c.release(MachineId(0), &[1, 2]).unwrap();
        assert!(c.is_idle(MachineId(0)));
    }

    #[test]
    fn first_fit_index_finds_the_lowest_fitting_machine() {
        let mut c = cluster(&[[1, 9], [9, 1], [5, 5], [9, 9]]);
        assert_eq!(c.first_fit(&[5, 5]), Some(MachineId(2)));
        assert_eq!(c.first_fit(&[6, 2]), Some(MachineId(3)));
        assert_eq!(c.first_fit(&[10, 1]), None);
        c.allocate(MachineId(2), &[1, 0]).unwrap();
        assert_eq!(c.first_fit(&[5, 5]), Some(MachineId(3)));
        assert_eq!(c.first_fit_from(MachineId(2), &[9, 1]), Some(MachineId(3)));
        c.allocate(MachineId(3), &[9, 9]).unwrap();
        // Nothing at or after machine 2 fits any more: the search wraps around to machine 1.
        assert_eq!(c.first_fit_from(MachineId(2), &[9, 1]), Some(MachineId(1)));
        c.check_invariants().unwrap();
    }

    #[test]
    fn machines_added_one_by_one_are_indexed() {
        let mut c = Cluster::new(1);
        for cap in [3, 1, 4, 1, 5, 9, 2, 6] {
            c.add_machine(&[cap]);
        }
        assert_eq!(c.first_fit(&[5]), Some(MachineId(4)));
        assert_eq!(c.first_fit(&[7]), Some(MachineId(5)));
        assert_eq!(c.reference(), &[9]);
        c.check_invariants().unwrap();
    }

    #[test]
    fn unavailable_machines_are_never_chosen_even_for_zero_demand() {
        let mut c = cluster(&[[4, 4], [4, 4]]);
        c.set_available(MachineId(0), false);
        assert_eq!(c.first_fit(&[0, 0]), Some(MachineId(1)));
        assert!(!c.fits(MachineId(0), &[0, 0]));
        c.set_available(MachineId(1), false);
        assert_eq!(c.first_fit(&[0, 0]), None);
        assert_eq!(c.max_free(), None);
        assert_eq!(c.available_count(), 0);
        c.set_available(MachineId(0), true);
        c.set_available(MachineId(0), true);
        assert_eq!(c.available_count(), 1);
        assert_eq!(c.max_free(), Some(vec![4, 4]));
        c.check_invariants().unwrap();
    }

    #[test]
    fn capacity_updates_keep_allocations_within_capacity() {
        let mut c = cluster(&[[4, 4]]);
        c.allocate(MachineId(0), &[3, 1]).unwrap();
        assert_eq!(
            c.set_capacity(MachineId(0), &[2, 8]),
            None,
            "3 cpu used, 2 offered"
        );
        c.set_capacity(MachineId(0), &[3, 8]).unwrap();
        assert_eq!(c.free(MachineId(0)), &[0, 7]);
        assert_eq!(c.total_capacity(), &[3, 8]);
        c.check_invariants().unwrap();
    }

    #[test]
    fn gpu_devices_follow_allocations() {
        let mut c = Cluster::with_gpus(2, 1);
        let m = c.add_gpu_machine(&[8000, 2000], 2, 3).unwrap();
        assert!(c.add_gpu_machine(&[8000, 1500], 2, 3).is_err());
        let share = Request {
            demand: &[1000, 600],
            gpu: GpuDemand::Share(600),
            models: ModelSet::ANY,
        };
        let d = default_devices(c.devices(m), share.gpu).unwrap();
        c.allocate_request(m, &share, d).unwrap();
        assert_eq!(c.devices(m), &[400, 1000]);
        // A second 600 share only fits the other device; then no whole GPU is left.
        let d2 = default_devices(c.devices(m), share.gpu).unwrap();
        assert_eq!(
            d2,
            DeviceAlloc::Share {
                device: 1,
                milli: 600
            }
        );
        c.allocate_request(m, &share, d2).unwrap();
        let half = Request {
            demand: &[0, 500],
            gpu: GpuDemand::Share(500),
            models: ModelSet::ANY,
        };
        assert!(
            !c.fits_request(m, &half),
            "800 milli free in total, but 400 on each device"
        );
        assert!(c.fits(m, half.demand), "the aggregate alone would say it fits");
        // Model constraints.
        let picky = Request {
            models: ModelSet::of([2]).unwrap(),
            ..share
        };
        assert!(!c.fits_request(m, &picky));
        // Wrong devices are refused; the right release restores the device.
        assert_eq!(
            c.release_request(
                m,
                share.demand,
                DeviceAlloc::Share {
                    device: 0,
                    milli: 700
                }
            ),
            None
        );
        c.release_request(m, share.demand, d).unwrap();
        assert_eq!(c.devices(m), &[1000, 400]);
        c.check_invariants().unwrap();
    }
}
