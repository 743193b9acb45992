//! packsim's cluster simulator, and the workload model it replays.
//!
//! A run replays a [`Workload`] against a cluster under one `packing` [`Policy`],
//! used unchanged, in one of three scheduler [`Model`]s: the global view (kube/Borg-like), the
//! Mesos offer cycle, or the FGD paper's arrive-only packing replay. The engine is a priority queue
//! of integer-time events with ties broken by scheduling order; there is no wall clock, no thread
//! and no global state, so the same workload, policy, configuration and seed give byte-identical
//! output. Parallelism belongs across runs (the `reports` crate), never inside one.
//!
//! `sim` knows workloads, not files: trace formats are the `datasets` crate's business.
//!
//! Map:
//! - [`workload`]: machines, tasks and machine events in integer units and microseconds.
//! - [`engine`]: the event queue.
//! - [`config`]: models and options.
//! - [`metrics`]: samples, the summary, and the CSV of a time series.
//! - `state`, `timed`, `arrive`: the simulated cluster, the timed models, the arrive-only replay.
//!
//! A first tour: two machines, six tasks arriving a second apart, first fit in the global model.
//!
//! ```
//! use sim::{Config, MachineSpec, SECOND, TaskSpec, Workload};
//!
//! let schema = sim::workload::schema(&["cpus", "mem"]); // milli-cores, MiB
//! let machines = (0..2)
//!     .map(|i| MachineSpec { name: format!("m{i}"), capacity: vec![4000, 8192], gpus: None })
//!     .collect();
//! let tasks = (0..6)
//!     .map(|i| {
//!         let mut t = TaskSpec::new(format!("t{i}"), i * SECOND, vec![2000, 1024]);
//!         t.duration = Some(10 * SECOND);
//!         t
//!     })
//!     .collect();
//! let workload = Workload {
//!     name: "tour".into(),
//!     schema: schema.clone(),
//!     machines,
//!     machine_events: Vec::new(),
//!     tasks,
//! };
//! let policy = packing::Policy::parse("first-fit", &schema).unwrap();
//! let outcome = sim::run(&workload, &policy, &Config::default()).unwrap();
//! // Four tasks fit at once; the fifth and sixth wait for the first two to end at 10 s and 11 s.
//! let s = &outcome.summary;
//! assert_eq!((s.arrived, s.finished, s.unplaced), (6, 6, 0));
//! assert_eq!(s.wait.unwrap().max, 6.0);
//! ```

mod arrive;
pub mod config;
mod deps;
pub mod engine;
mod error;
pub mod metrics;
mod setup;
mod state;
mod target;
mod timed;
pub mod workload;

use packing::{Policy, Schema};

pub use config::{ArriveOnly, Config, Model, ModelKind, Offers, OnMachineLoss, QueueOrder};
pub use error::Error;
pub use metrics::{JobRecord, JobStats, Sample, Spread, Summary, WaitStats, write_jobs, write_series};
pub use workload::{
    After, GpuDemand, GpuInventory, GraphError, MachineChange, MachineEvent, MachineSpec, SECOND, TaskSpec,
    Time, Workload,
};

/// What a run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The dimensions of the series' amounts.
    pub schema: Schema,
    /// The summary.
    pub summary: Summary,
    /// The time series.
    pub series: Vec<Sample>,
    /// Each job's outcome, when the workload names jobs (in order of first appearance).
    pub jobs: Vec<JobRecord>,
}

/// How far a run has got, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Tasks arrived so far.
    pub arrived: u64,
    /// Simulated time (µs), or tasks arrived in an arrive-only replay.
    pub time: Time,
}

/// A task instance that started on a machine, as an [`Observer`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// When, in µs (arrive-only: the number of tasks arrived before it).
    pub time: Time,
    /// The task's position in arrival order (the workload's order among equal arrival times;
    /// arrive-only: its position among the sampled tasks).
    pub task: u64,
    /// The machine, by its position among the cluster's machines (initial ones first, in order).
    pub machine: packing::MachineId,
    /// The GPU devices it took there.
    pub devices: packing::DeviceAlloc,
}

/// What a caller sees of a run while it goes on. Both methods do nothing by default.
pub trait Observer {
    /// Called now and then, for progress displays.
    fn progress(&mut self, _progress: Progress) {}
    /// Called whenever a task instance starts on a machine.
    fn started(&mut self, _started: Started) {}
}

/// A progress callback as an [`Observer`].
struct ProgressOnly<'a>(&'a mut dyn FnMut(Progress));

impl Observer for ProgressOnly<'_> {
    fn progress(&mut self, progress: Progress) {
        (self.0)(progress);
    }
}

/// Runs `workload` under `policy` with `config`.
pub fn run(workload: &Workload, policy: &Policy, config: &Config) -> Result<Outcome, Error> {
    run_with_progress(workload, policy, config, &mut |_| {})
}

/// Like [`run`], calling `progress` now and then.
pub fn run_with_progress(
    workload: &Workload,
    policy: &Policy,
    config: &Config,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, Error> {
    run_observed(workload, policy, config, &mut ProgressOnly(progress))
}

/// Like [`run`], telling `observer` of progress and of every start.
pub fn run_observed(
    workload: &Workload,
    policy: &Policy,
    config: &Config,
    observer: &mut dyn Observer,
) -> Result<Outcome, Error> {
    let progress = observer;
    workload.check_graph().map_err(|e| {
        let name = workload.tasks.get(e.task).map_or("?", |t| t.name.as_str());
        Error::task(name, e.problem)
    })?;
    match &config.model {
        Model::ArriveOnly(spec) => arrive::run(workload, policy, config, spec, progress),
        _ => {
            let span = workload
                .tasks
                .first()
                .zip(workload.tasks.last())
                .map(|(a, b)| (a.arrival, b.arrival));
            let mut sorted;
            let tasks: &[TaskSpec] = if workload.tasks.windows(2).all(|w| w[0].arrival <= w[1].arrival) {
                &workload.tasks
            } else {
                sorted = workload.clone();
                sorted.sort();
                &sorted.tasks
            };
            let deps = deps::Graph::of(tasks).map(|g| deps::Deps::new(g, tasks));
            let mut events = workload.machine_events.clone();
            events.sort_by_key(|e| e.time);
            timed::run(
                timed::Input {
                    name: &workload.name,
                    schema: &workload.schema,
                    machines: &workload.machines,
                    machine_events: &events,
                    tasks: tasks.iter().cloned(),
                    span,
                    target: Some(&workload.tasks),
                    deps,
                },
                policy,
                config,
                progress,
            )
        }
    }
}

/// Runs a timed model over `tasks`, streamed in arrival order, on the machines and machine events
/// of `cluster` (whose own task list must be empty): memory holds only live and queued tasks.
pub fn run_stream(
    cluster: &Workload,
    tasks: impl Iterator<Item = TaskSpec>,
    policy: &Policy,
    config: &Config,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, Error> {
    if matches!(config.model, Model::ArriveOnly(_)) {
        return Err(Error::Workload(
            "the arrive-only replay samples from the whole workload: use `run`".into(),
        ));
    }
    if !cluster.tasks.is_empty() {
        return Err(Error::Workload(
            "run_stream takes its tasks from the stream: the workload's own list must be empty".into(),
        ));
    }
    let mut events = cluster.machine_events.clone();
    events.sort_by_key(|e| e.time);
    timed::run(
        timed::Input {
            name: &cluster.name,
            schema: &cluster.schema,
            machines: &cluster.machines,
            machine_events: &events,
            tasks,
            span: None,
            target: None,
            deps: None,
        },
        policy,
        config,
        &mut ProgressOnly(progress),
    )
}
