//! What a simulation replays: machines (with their GPUs), tasks and machine events.
//!
//! Every amount is in the units of the workload's [`Schema`]; by convention the dimensions are named
//! [`dims::CPUS`] (milli-cores), [`dims::MEM`] (MiB), [`dims::GPUS`] (milli-GPU, the sum over a
//! machine's devices), [`dims::DISK`] (MiB) and [`dims::RDMA`] (milli-NIC). Times are microseconds.

use packing::Schema;

/// Simulated time in microseconds. Traces may start before 0 (tasks alive at the trace start).
pub type Time = i64;

/// One second of [`Time`].
pub const SECOND: Time = 1_000_000;

pub use packing::GpuDemand;
pub use packing::schema::{conventional as schema, decimals_of, dims};

/// The GPUs of a machine: `count` devices of 1000 milli-GPU each, all of one model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GpuInventory {
    /// Number of GPU devices.
    pub count: u32,
    /// GPU model (`V100M16`, `T4`, ...); empty when the trace does not say.
    pub model: String,
}

/// A machine: its name, capacity and GPU devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineSpec {
    /// The machine's name in the trace.
    pub name: String,
    /// Capacity per dimension of the workload's schema.
    pub capacity: Vec<u64>,
    /// Its GPU devices, if any.
    pub gpus: Option<GpuInventory>,
}

/// What happens to a machine at some time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineChange {
    /// The machine joins (or rejoins) the cluster.
    Add(MachineSpec),
    /// The machine leaves (failure or removal).
    Remove,
    /// The machine's capacity changes.
    Update(Vec<u64>),
}

/// A change to one machine at one time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineEvent {
    /// When, in microseconds.
    pub time: Time,
    /// The machine's name.
    pub machine: String,
    /// What happens.
    pub change: MachineChange,
}

/// A task (or `instances` identical tasks) with its arrival, run time, demand and constraints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The task's name in the trace.
    pub name: String,
    /// Arrival time, microseconds.
    pub arrival: Time,
    /// How long it runs once placed; `None` when it never ends (arrive-only replay) or the trace
    /// does not say.
    pub duration: Option<Time>,
    /// Demand per dimension of the workload's schema.
    pub demand: Vec<u64>,
    /// Device-level view of the GPU demand.
    pub gpu: GpuDemand,
    /// GPU models the task may run on; empty means any.
    pub gpu_models: Vec<String>,
    /// The job, application or user the task belongs to.
    pub group: Option<String>,
    /// At most this many tasks of the same `group` on one machine (anti-affinity).
    pub max_per_machine: Option<u32>,
    /// Scheduling priority; higher is more important.
    pub priority: i32,
    /// Number of identical copies this record stands for (at least 1).
    pub instances: u32,
    /// The trace's class label (QoS, role, status), kept for reports.
    pub class: Option<String>,
}

impl TaskSpec {
    /// A task with only a name, an arrival and a demand; every other field at its default.
    pub fn new(name: impl Into<String>, arrival: Time, demand: Vec<u64>) -> TaskSpec {
        TaskSpec {
            name: name.into(),
            arrival,
            duration: None,
            demand,
            gpu: GpuDemand::None,
            gpu_models: Vec::new(),
            group: None,
            max_per_machine: None,
            priority: 0,
            instances: 1,
            class: None,
        }
    }
}

/// A whole workload in memory: the initial machines, later machine events, and tasks in arrival
/// order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// A short name for reports (`openb/default`, `synthetic/default`, ...).
    pub name: String,
    /// The dimensions of every capacity and demand.
    pub schema: Schema,
    /// Machines present from the start.
    pub machines: Vec<MachineSpec>,
    /// Later machine additions, removals and updates, in time order.
    pub machine_events: Vec<MachineEvent>,
    /// Tasks, in arrival order (ties keep trace order).
    pub tasks: Vec<TaskSpec>,
}

impl Workload {
    /// Puts tasks in arrival order and machine events in time order, keeping trace order on ties.
    pub fn sort(&mut self) {
        self.tasks.sort_by_key(|t| t.arrival);
        self.machine_events.sort_by_key(|e| e.time);
    }

    /// Total number of task instances (a record with `instances = n` counts `n`).
    pub fn task_instances(&self) -> u64 {
        self.tasks.iter().map(|t| u64::from(t.instances)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_units() {
        let s = schema(&[dims::CPUS, dims::MEM, dims::GPUS]);
        assert_eq!(s.dim(0).parse("0.5"), Ok(500));
        assert_eq!(s.dim(1).parse("1024"), Ok(1024));
        assert_eq!(GpuDemand::Share(460).milli(), 460);
        assert_eq!(GpuDemand::Whole(4).milli(), 4000);
    }

    #[test]
    fn sort_is_stable_by_arrival() {
        let mut w = Workload {
            name: "t".into(),
            schema: schema(&[dims::CPUS]),
            machines: vec![],
            machine_events: vec![],
            tasks: vec![
                TaskSpec::new("b", 5, vec![1]),
                TaskSpec::new("a", 1, vec![1]),
                TaskSpec::new("c", 5, vec![1]),
            ],
        };
        w.sort();
        let names: Vec<&str> = w.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
