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
    /// The job the task belongs to, for job metrics (completion time, slowdown).
    pub job: Option<String>,
    /// The tasks it waits for: it becomes schedulable once every instance of each has finished,
    /// plus the edge's delay.
    pub after: Vec<After>,
}

/// A dependency: the parent, by its position in [`Workload::tasks`], and how long after the
/// parent's last instance finishes the child may start (µs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct After {
    /// The parent's index in [`Workload::tasks`].
    pub task: u32,
    /// Delay after the parent finishes, µs (0 for none).
    pub delay: Time,
}

/// What is wrong with a workload's dependencies: the task (its index in [`Workload::tasks`]) and
/// the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    /// The task's index in [`Workload::tasks`].
    pub task: usize,
    /// What is wrong, in words.
    pub problem: String,
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
            job: None,
            after: Vec::new(),
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
    /// Puts tasks in arrival order and machine events in time order, keeping trace order on ties;
    /// dependencies follow their parents to their new positions.
    pub fn sort(&mut self) {
        self.machine_events.sort_by_key(|e| e.time);
        sort_tasks(&mut self.tasks);
    }

    /// True when some task waits for another.
    pub fn has_dependencies(&self) -> bool {
        self.tasks.iter().any(|t| !t.after.is_empty())
    }

    /// Checks the dependencies (see [`check_graph`]).
    pub fn check_graph(&self) -> Result<(), GraphError> {
        check_graph(&self.tasks)
    }

    /// Total number of task instances (a record with `instances = n` counts `n`).
    pub fn task_instances(&self) -> u64 {
        self.tasks.iter().map(|t| u64::from(t.instances)).sum()
    }
}

/// Puts `tasks` in arrival order, keeping their order on ties; dependencies follow their parents
/// to their new positions.
pub fn sort_tasks(tasks: &mut Vec<TaskSpec>) {
    if tasks.windows(2).all(|w| w[0].arrival <= w[1].arrival) {
        return;
    }
    if tasks.iter().all(|t| t.after.is_empty()) {
        tasks.sort_by_key(|t| t.arrival);
        return;
    }
    let mut order: Vec<u32> = (0..tasks.len() as u32).collect();
    order.sort_by_key(|&i| tasks[i as usize].arrival);
    let mut position = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old as usize] = new as u32;
    }
    let mut old: Vec<Option<TaskSpec>> = std::mem::take(tasks).into_iter().map(Some).collect();
    *tasks = order
        .iter()
        .map(|&i| {
            let mut t = old[i as usize].take().expect("each task once");
            for a in &mut t.after {
                if let Some(&p) = position.get(a.task as usize) {
                    a.task = p;
                }
            }
            t
        })
        .collect();
}

/// Checks the dependencies: every parent exists, no task waits for itself, the graph has no
/// cycle, and delays are not negative. The first problem names the task (for a cycle, the
/// first task on it in workload order). O(tasks + edges).
pub fn check_graph(tasks: &[TaskSpec]) -> Result<(), GraphError> {
    let n = tasks.len();
    let mut indegree = vec![0u32; n];
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, t) in tasks.iter().enumerate() {
        for a in &t.after {
            let p = a.task as usize;
            if p >= n {
                return Err(GraphError {
                    task: i,
                    problem: format!("waits for task #{p}, but the workload has {n} tasks"),
                });
            }
            if p == i {
                return Err(GraphError {
                    task: i,
                    problem: "waits for itself".into(),
                });
            }
            if a.delay < 0 {
                return Err(GraphError {
                    task: i,
                    problem: format!("has a negative delay ({} µs) after `{}`", a.delay, tasks[p].name),
                });
            }
            indegree[i] += 1;
            children[p].push(i as u32);
        }
    }
    let mut ready: Vec<u32> = (0..n as u32).filter(|&i| indegree[i as usize] == 0).collect();
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for &c in &children[i as usize] {
            indegree[c as usize] -= 1;
            if indegree[c as usize] == 0 {
                ready.push(c);
            }
        }
    }
    if seen == n {
        return Ok(());
    }
    // Every task left with parents is on a cycle or below one; walk parents from the first
    // until a task repeats: that task is on a cycle.
    let start = (0..n).find(|&i| indegree[i] > 0).expect("a task is left");
    let mut next = vec![usize::MAX; n];
    let mut i = start;
    while next[i] == usize::MAX {
        next[i] = tasks[i]
            .after
            .iter()
            .map(|a| a.task as usize)
            .find(|&p| indegree[p] > 0)
            .expect("a task left over has a parent left over");
        i = next[i];
    }
    let mut cycle = vec![tasks[i].name.clone()];
    let mut j = next[i];
    while j != i {
        cycle.push(tasks[j].name.clone());
        j = next[j];
    }
    cycle.push(tasks[i].name.clone());
    Err(GraphError {
        task: i,
        problem: format!("is on a dependency cycle: {}", cycle.join(" waits for ")),
    })
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
