//! Machines (bins) with capacity and free amounts, and the allocate/release operations on them.

use std::fmt;

use crate::index::FitIndex;
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
/// Invariant: for every machine and dimension, `free ≤ capacity` (so `used = capacity − free` is
/// never negative and never exceeds the capacity). [`allocate`](Cluster::allocate) and
/// [`release`](Cluster::release) keep it by answering `None` instead of overdrawing.
///
/// Besides the raw amounts the cluster keeps what policies need to decide quickly without
/// allocating: the per-dimension reference capacity (the largest machine's) used to normalise
/// scores, per-dimension totals, an index for first-fit queries, a generation counter that changes
/// with every allocation or release, and the last machine allocated to (next-fit's cursor).
#[derive(Clone, Debug)]
pub struct Cluster {
    dims: usize,
    capacity: Vec<u64>,
    free: Vec<u64>,
    reference: Vec<u64>,
    inv_reference: Vec<f64>,
    total_capacity: Vec<u128>,
    total_free: Vec<u128>,
    index: FitIndex,
    generation: u64,
    cursor: usize,
}

impl Cluster {
    /// An empty cluster whose machines have `dims` dimensions.
    ///
    /// # Panics
    /// If `dims` is zero.
    pub fn new(dims: usize) -> Cluster {
        assert!(dims > 0, "a resource vector has at least one dimension");
        Cluster {
            dims,
            capacity: Vec::new(),
            free: Vec::new(),
            reference: vec![0; dims],
            inv_reference: vec![0.0; dims],
            total_capacity: vec![0; dims],
            total_free: vec![0; dims],
            index: FitIndex::new(dims),
            generation: 0,
            cursor: 0,
        }
    }

    /// A cluster of empty machines with the given capacities, ids in row order.
    pub fn from_capacities(capacities: &ResourceTable) -> Cluster {
        let mut cluster = Cluster::new(capacities.dims());
        cluster.capacity.reserve(capacities.len() * capacities.dims());
        cluster.free.reserve(capacities.len() * capacities.dims());
        for row in capacities.rows() {
            cluster.push_machine(row);
        }
        cluster.index.rebuild(cluster.len(), &cluster.free);
        cluster
    }

    fn push_machine(&mut self, capacity: &[u64]) -> MachineId {
        assert_eq!(
            capacity.len(),
            self.dims,
            "capacity has the wrong number of dimensions"
        );
        let id = MachineId(u32::try_from(self.len()).expect("more than 2^32 machines"));
        self.capacity.extend_from_slice(capacity);
        self.free.extend_from_slice(capacity);
        for (d, &c) in capacity.iter().enumerate() {
            self.total_capacity[d] += u128::from(c);
            self.total_free[d] += u128::from(c);
            if c > self.reference[d] {
                self.reference[d] = c;
                self.inv_reference[d] = 1.0 / c as f64;
            }
        }
        id
    }

    /// Adds an empty machine and returns its id.
    ///
    /// # Panics
    /// If `capacity` has the wrong number of dimensions.
    pub fn add_machine(&mut self, capacity: &[u64]) -> MachineId {
        let id = self.push_machine(capacity);
        self.index.reserve(self.len(), &self.free);
        self.index.set(id.index(), capacity);
        self.generation += 1;
        id
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of machines.
    pub fn len(&self) -> usize {
        self.capacity.len() / self.dims
    }

    /// True when the cluster has no machines.
    pub fn is_empty(&self) -> bool {
        self.capacity.is_empty()
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

    /// True when `demand` fits in what is free on the machine.
    #[inline]
    pub fn fits(&self, m: MachineId, demand: &[u64]) -> bool {
        fits(demand, self.free(m))
    }

    /// Takes `demand` from the machine's free amounts; `None`, and no change, if it does not fit.
    pub fn allocate(&mut self, m: MachineId, demand: &[u64]) -> Option<()> {
        if m.index() >= self.len() || demand.len() != self.dims || !self.fits(m, demand) {
            return None;
        }
        let i = m.index() * self.dims;
        for (d, &x) in demand.iter().enumerate() {
            self.free[i + d] -= x;
            self.total_free[d] -= u128::from(x);
        }
        self.index.set(m.index(), &self.free[i..i + self.dims]);
        self.generation += 1;
        self.cursor = m.index();
        Some(())
    }

    /// Gives `demand` back to the machine; `None`, and no change, if more than is allocated.
    pub fn release(&mut self, m: MachineId, demand: &[u64]) -> Option<()> {
        if m.index() >= self.len() || demand.len() != self.dims {
            return None;
        }
        let i = m.index() * self.dims;
        let within = (0..self.dims).all(|d| demand[d] <= self.capacity[i + d] - self.free[i + d]);
        if !within {
            return None;
        }
        for (d, &x) in demand.iter().enumerate() {
            self.free[i + d] += x;
            self.total_free[d] += u128::from(x);
        }
        self.index.set(m.index(), &self.free[i..i + self.dims]);
        self.generation += 1;
        Some(())
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

    /// A counter that changes with every machine added, allocation and release.
    ///
    /// Seeded random policies mix it into their choice, so they stay pure functions of the state.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The machine of the latest allocation (machine 0 before any): next-fit starts here.
    pub fn cursor(&self) -> MachineId {
        MachineId(self.cursor as u32)
    }

    /// The lowest machine id where `demand` fits, in O(log n) for one dimension.
    pub fn first_fit(&self, demand: &[u64]) -> Option<MachineId> {
        self.index
            .first_fit(demand, 0, self.len())
            .map(|m| MachineId(m as u32))
    }

    /// The first machine where `demand` fits, searching from `start` upwards and then wrapping
    /// around to the machines below `start`.
    pub fn first_fit_from(&self, start: MachineId, demand: &[u64]) -> Option<MachineId> {
        let n = self.len();
        let start = start.index().min(n);
        self.index
            .first_fit(demand, start, n)
            .or_else(|| self.index.first_fit(demand, 0, start))
            .map(|m| MachineId(m as u32))
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

    fn cluster(rows: &[[u64; 2]]) -> Cluster {
        Cluster::from_capacities(&ResourceTable::from_rows(2, rows))
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
}
