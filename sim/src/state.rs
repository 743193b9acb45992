//! The simulated cluster and task table shared by every scheduler model.

use std::collections::HashMap;

use packing::{Cluster, GpuDemand, MachineId, ModelSet, Placement, Request, Schema};

use crate::error::Error;
use crate::workload::{MachineSpec, TaskSpec, Time, dims};

/// GPU model names to the small ids `packing` uses (0 = no GPU or unknown model).
#[derive(Default)]
pub(crate) struct Models {
    ids: HashMap<String, u16>,
}

impl Models {
    /// The id of `name`, registering it on first sight.
    fn id(&mut self, name: &str) -> Result<u16, Error> {
        if name.is_empty() {
            return Ok(0);
        }
        if let Some(&id) = self.ids.get(name) {
            return Ok(id);
        }
        let id = self.ids.len() as u16 + 1;
        if id >= 64 {
            return Err(Error::Workload(format!(
                "more than 63 GPU models (`{name}` is the 64th); packsim tracks at most 63"
            )));
        }
        self.ids.insert(name.to_string(), id);
        Ok(id)
    }
}

/// A task as the simulator tracks it while it is queued or running.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub demand: Vec<u64>,
    pub gpu: GpuDemand,
    pub models: ModelSet,
    /// Interned group, `u32::MAX` when none.
    pub group: u32,
    /// At most this many tasks of the group per machine; 0 means no limit.
    pub max_per_machine: u32,
    pub priority: i32,
    pub arrival: Time,
    pub duration: Option<Time>,
    pub retries: u32,
    pub placed: Option<Placement>,
    pub started: Time,
    /// Arrival order: the task's position among the workload's records.
    pub seq: u64,
    /// Queue order: arrival order, or the order of release for a task held by dependencies.
    pub order: u64,
    /// The first placement was counted in the wait times.
    pub waited: bool,
}

impl Task {
    pub(crate) fn request(&self) -> Request<'_> {
        Request {
            demand: &self.demand,
            gpu: self.gpu,
            models: self.models,
        }
    }
}

/// Running tasks by slot. Slots are reused after a task ends; each reuse bumps the slot's
/// generation, so an event scheduled for an earlier occupant is recognised as stale.
#[derive(Default)]
pub(crate) struct Tasks {
    slots: Vec<Option<Task>>,
    generations: Vec<u32>,
    free: Vec<u32>,
}

impl Tasks {
    pub(crate) fn insert(&mut self, task: Task) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(task);
                self.generations[slot as usize] = self.generations[slot as usize].wrapping_add(1);
                slot
            }
            None => {
                self.slots.push(Some(task));
                self.generations.push(0);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The generation of the slot's current occupant.
    pub(crate) fn generation(&self, slot: u32) -> u32 {
        self.generations[slot as usize]
    }

    /// True when `slot` holds the occupant of generation `generation`.
    pub(crate) fn is_live(&self, slot: u32, generation: u32) -> bool {
        self.slots.get(slot as usize).is_some_and(Option::is_some)
            && self.generations[slot as usize] == generation
    }

    pub(crate) fn get(&self, slot: u32) -> &Task {
        self.slots[slot as usize].as_ref().expect("live slot")
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> &mut Task {
        self.slots[slot as usize].as_mut().expect("live slot")
    }

    pub(crate) fn remove(&mut self, slot: u32) -> Task {
        self.free.push(slot);
        self.slots[slot as usize].take().expect("live slot")
    }

    pub(crate) fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

/// The cluster as the simulator sees it: `packing`'s cluster plus names, GPU models, the tasks on
/// each machine and per-group counts for anti-affinity.
pub(crate) struct SimCluster {
    pub schema: Schema,
    pub cluster: Cluster,
    pub names: Vec<String>,
    by_name: HashMap<String, MachineId>,
    models: Models,
    groups: HashMap<String, u32>,
    pub running_on: Vec<Vec<u32>>,
    pub group_count: HashMap<(u32, u32), u32>,
    pub gpu_dim: Option<usize>,
    pub cpu_dim: Option<usize>,
    /// Per dimension, the capacity of available machines.
    pub available_capacity: Vec<u128>,
    pub machines_available: u32,
    /// Machines with at least one running task.
    pub machines_used: u32,
}

impl SimCluster {
    pub(crate) fn new(schema: &Schema) -> SimCluster {
        let gpu_dim = schema.index_of(dims::GPUS);
        let cluster = match gpu_dim {
            Some(g) => Cluster::with_gpus(schema.len(), g),
            None => Cluster::new(schema.len()),
        };
        SimCluster {
            schema: schema.clone(),
            cluster,
            names: Vec::new(),
            by_name: HashMap::new(),
            models: Models::default(),
            groups: HashMap::new(),
            running_on: Vec::new(),
            group_count: HashMap::new(),
            gpu_dim,
            cpu_dim: schema.index_of(dims::CPUS),
            available_capacity: vec![0; schema.len()],
            machines_available: 0,
            machines_used: 0,
        }
    }

    pub(crate) fn id(&self, name: &str) -> Option<MachineId> {
        self.by_name.get(name).copied()
    }

    fn gpu_shape(&mut self, spec: &MachineSpec) -> Result<(u32, u16), Error> {
        if spec.capacity.len() != self.schema.len() {
            return Err(Error::machine(
                &spec.name,
                format!(
                    "{} capacities for the {} dimensions {}",
                    spec.capacity.len(),
                    self.schema.len(),
                    self.schema.names()
                ),
            ));
        }
        let Some(g) = self.gpu_dim else {
            return Ok((0, 0));
        };
        let milli = spec.capacity[g];
        match &spec.gpus {
            Some(inv) if u64::from(inv.count) * 1000 != milli => Err(Error::machine(
                &spec.name,
                format!("{} GPUs but {milli} milli-GPU of GPU capacity", inv.count),
            )),
            Some(inv) => Ok((inv.count, self.models.id(&inv.model)?)),
            None if milli % 1000 != 0 => Err(Error::machine(
                &spec.name,
                format!("{milli} milli-GPU is not a whole number of GPUs"),
            )),
            None => Ok(((milli / 1000) as u32, 0)),
        }
    }

    /// Adds a machine, or brings a removed one back with the new capacity.
    pub(crate) fn add(&mut self, spec: &MachineSpec) -> Result<MachineId, Error> {
        let (gpus, model) = self.gpu_shape(spec)?;
        if let Some(m) = self.id(&spec.name) {
            if !self.cluster.is_available(m) {
                self.cluster
                    .set_capacity(m, &spec.capacity)
                    .ok_or_else(|| Error::machine(&spec.name, "cannot take its new capacity"))?;
                self.set_available(m, true);
            } else {
                self.update(m, &spec.capacity)
                    .map_err(|()| Error::machine(&spec.name, "added again with a capacity below its use"))?;
            }
            return Ok(m);
        }
        let m = self
            .cluster
            .add_gpu_machine(&spec.capacity, gpus, model)
            .map_err(|e| Error::machine(&spec.name, e.to_string()))?;
        self.names.push(spec.name.clone());
        self.by_name.insert(spec.name.clone(), m);
        self.running_on.push(Vec::new());
        for (t, &c) in self.available_capacity.iter_mut().zip(&spec.capacity) {
            *t += u128::from(c);
        }
        self.machines_available += 1;
        Ok(m)
    }

    pub(crate) fn set_available(&mut self, m: MachineId, available: bool) {
        if self.cluster.is_available(m) == available {
            return;
        }
        for (t, &c) in self.available_capacity.iter_mut().zip(self.cluster.capacity(m)) {
            if available {
                *t += u128::from(c);
            } else {
                *t -= u128::from(c);
            }
        }
        if available {
            self.machines_available += 1;
        } else {
            self.machines_available -= 1;
        }
        self.cluster.set_available(m, available);
    }

    /// Changes a machine's capacity; `Err` if its current use does not fit the new capacity.
    pub(crate) fn update(&mut self, m: MachineId, capacity: &[u64]) -> Result<(), ()> {
        let old = self.cluster.capacity(m).to_vec();
        self.cluster.set_capacity(m, capacity).ok_or(())?;
        if self.cluster.is_available(m) {
            for ((t, &o), &n) in self.available_capacity.iter_mut().zip(&old).zip(capacity) {
                *t = *t - u128::from(o) + u128::from(n);
            }
        }
        Ok(())
    }

    /// The simulator's record of a workload task, checked against the schema.
    pub(crate) fn task(&mut self, spec: &TaskSpec, seq: u64) -> Result<Task, Error> {
        if spec.demand.len() != self.schema.len() {
            return Err(Error::task(
                &spec.name,
                format!(
                    "{} demands for the {} dimensions {}",
                    spec.demand.len(),
                    self.schema.len(),
                    self.schema.names()
                ),
            ));
        }
        let gpu = match (spec.gpu, self.gpu_dim) {
            (_, None) if spec.gpu != GpuDemand::None => {
                return Err(Error::task(
                    &spec.name,
                    "asks for GPUs but the workload has no `gpus` dimension",
                ));
            }
            (_, None) => GpuDemand::None,
            (request, Some(g)) => {
                let gpu = match request {
                    GpuDemand::None => GpuDemand::from_milli(spec.demand[g]).ok_or_else(|| {
                        Error::task(
                            &spec.name,
                            format!("{} milli-GPU is neither a share nor whole GPUs", spec.demand[g]),
                        )
                    })?,
                    GpuDemand::Share(m) if m >= 1000 => {
                        return Err(Error::task(
                            &spec.name,
                            format!("a share of {m} milli-GPU is a whole GPU or more"),
                        ));
                    }
                    share_or_whole => share_or_whole,
                };
                if gpu.milli() != spec.demand[g] {
                    return Err(Error::task(
                        &spec.name,
                        format!(
                            "asks {} milli-GPU of devices but {} in its `gpus` demand",
                            gpu.milli(),
                            spec.demand[g]
                        ),
                    ));
                }
                gpu
            }
        };
        let ids = spec
            .gpu_models
            .iter()
            .map(|m| self.models.id(m))
            .collect::<Result<Vec<u16>, Error>>()?;
        let models = ModelSet::of(ids).ok_or_else(|| Error::Workload("more than 63 GPU models".into()))?;
        let group = match &spec.group {
            Some(g) => {
                let next = self.groups.len() as u32;
                *self.groups.entry(g.clone()).or_insert(next)
            }
            None => u32::MAX,
        };
        Ok(Task {
            demand: spec.demand.clone(),
            gpu,
            models,
            group,
            max_per_machine: spec.max_per_machine.unwrap_or(0),
            priority: spec.priority,
            arrival: spec.arrival,
            duration: spec.duration,
            retries: 0,
            placed: None,
            started: 0,
            seq,
            order: seq,
            waited: false,
        })
    }

    /// The cluster's state as a sample of the time series, the one way every model takes one:
    /// `time` (µs, or arrivals in an arrive-only replay), `counts` so far (`unplaced` is the
    /// queue's length now), stranded capacity against `shapes`, and GPU fragmentation if measured.
    pub(crate) fn sample(
        &self,
        time: Time,
        arrived_pct: Option<f64>,
        counts: &crate::metrics::Counts,
        shapes: &[crate::metrics::Shape],
        frag: Option<&mut crate::metrics::FragCache>,
    ) -> crate::metrics::Sample {
        crate::metrics::Sample {
            time,
            arrived_pct,
            allocated: self.allocated(),
            capacity: self.available_capacity.iter().map(|&c| c as u64).collect(),
            stranded: crate::metrics::stranded(&self.cluster, shapes),
            machines_available: self.machines_available,
            machines_used: self.machines_used,
            pending: counts.unplaced,
            running: counts.running,
            arrived: counts.arrived,
            placed: counts.placed,
            finished: counts.finished,
            failed: counts.failed,
            gpu_fragmentation: frag.map(|f| f.total(&self.cluster)),
            held: counts.held,
            jobs_running: counts.jobs_running,
        }
    }

    /// True when the task's group has room on `m` (anti-affinity).
    pub(crate) fn eligible(&self, task: &Task, m: MachineId) -> bool {
        group_has_room(&self.group_count, task, m)
    }

    /// Counts a task of `group` starting on `m`.
    pub(crate) fn count_group(&mut self, group: u32, m: MachineId) {
        count_group(&mut self.group_count, group, m);
    }

    /// Records that the task in `slot`, already allocated on the cluster, runs on `m`.
    pub(crate) fn record_start(&mut self, slot: u32, m: MachineId) {
        if self.running_on[m.index()].is_empty() {
            self.machines_used += 1;
        }
        self.running_on[m.index()].push(slot);
    }

    /// Releases a running task's resources and bookkeeping.
    pub(crate) fn stop(&mut self, slot: u32, task: &Task) {
        let Some(p) = task.placed else { return };
        let m = p.machine;
        self.cluster
            .release_request(m, &task.demand, p.devices)
            .expect("a running task's allocation is released exactly once");
        let list = &mut self.running_on[m.index()];
        if let Some(pos) = list.iter().position(|&s| s == slot) {
            list.swap_remove(pos);
        }
        if list.is_empty() {
            self.machines_used -= 1;
        }
        if task.group != u32::MAX {
            if let Some(c) = self.group_count.get_mut(&(task.group, m.0)) {
                *c -= 1;
                if *c == 0 {
                    self.group_count.remove(&(task.group, m.0));
                }
            }
        }
    }

    /// Places the task with the policy if anything fits; the placement is allocated.
    pub(crate) fn place(&mut self, policy: &packing::Policy, task: &Task) -> Option<Placement> {
        let request = task.request();
        let placement = policy.place(&self.cluster, &request, |m| self.eligible(task, m))?;
        self.cluster
            .allocate_request(placement.machine, &request, placement.devices)
            .expect("the policy chose a machine where the task fits");
        self.count_group(task.group, placement.machine);
        Some(placement)
    }

    /// The allocated amount per dimension, over all machines.
    pub(crate) fn allocated(&self) -> Vec<u64> {
        self.cluster
            .total_capacity()
            .iter()
            .zip(self.cluster.total_free())
            .map(|(c, f)| (c - f) as u64)
            .collect()
    }
}

/// Tasks per (group, machine): what anti-affinity counts.
pub(crate) type GroupCounts = HashMap<(u32, u32), u32>;

/// Anti-affinity, the one rule: a task of a group with a per-machine limit may go on `m` while
/// fewer than the limit of its group run there (`u32::MAX`: no group; limit 0: no limit).
pub(crate) fn group_has_room(counts: &GroupCounts, task: &Task, m: MachineId) -> bool {
    task.max_per_machine == 0
        || task.group == u32::MAX
        || counts.get(&(task.group, m.0)).copied().unwrap_or(0) < task.max_per_machine
}

/// Counts a task of `group` starting on `m`.
pub(crate) fn count_group(counts: &mut GroupCounts, group: u32, m: MachineId) {
    if group != u32::MAX {
        *counts.entry((group, m.0)).or_insert(0) += 1;
    }
}
