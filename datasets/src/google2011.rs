//! Google cluster-data 2011 (clusterdata-2011-2): `machine_events` and `task_events`.
//!
//! Files have no header and may be plain or gzip; a table's path may be one file or the directory of
//! its `part-NNNNN-of-MMMMM.csv.gz` files, read in name order. Times are microseconds since 600 s
//! before the trace window: packsim's time is `raw − 600 s`, so the window starts at 0; the
//! sentinels 0 ("before the trace") and 2^63−1 ("after the trace") map to the window's edges.
//! CPU, memory and disk are normalised to the largest machine and become absolute units through
//! the [`MachineScale`] (default [`MachineScale::GOOGLE`]).
//!
//! - `machine_events` (`time, machine ID, event type, platform ID, CPUs, memory`): 0 ADD, 1 REMOVE,
//!   2 UPDATE. An ADD or UPDATE without capacity is ignored and counted. The table has no disk
//!   column, so every machine gets the full disk of the scale.
//! - `task_events` (13 columns) are read as [`TaskEvent`]s; [`Tasks`] turns them into tasks: each
//!   SUBMIT starts a task (request, priority, the job as its group, anti-affinity when the
//!   different-machines restriction is set), SCHEDULE marks its start and the next EVICT, FAIL,
//!   FINISH, KILL or LOST its end; duration = end − SCHEDULE. Tasks come out in SUBMIT order.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use packing::Schema;
use sim::workload::{MachineChange, MachineEvent, MachineSpec, TaskSpec, Time, dims, schema};

use crate::rows::{Chain, Columns, Parsed, ReadOptions, Records, RowError, Skipped, need_fields};
use crate::{Error, MachineScale};

/// The schema of Google 2011 machines and tasks: `cpus`, `mem`, `disk`.
pub fn google2011_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM, dims::DISK])
}

/// The trace window starts 600 s after the trace's time origin.
const WINDOW_START_US: i64 = 600_000_000;
/// The "after the end of the trace" sentinel.
const AFTER_TRACE: i64 = i64::MAX;

/// Trace microseconds to packsim time (0 = start of the window).
pub fn trace_time(raw: i64) -> Time {
    match raw {
        0 => 0,
        AFTER_TRACE => AFTER_TRACE,
        t => t.saturating_sub(WINDOW_START_US),
    }
}

const MACHINE_EVENTS: [&str; 6] = [
    "time",
    "machine_id",
    "event_type",
    "platform_id",
    "cpus",
    "memory",
];

/// Reads `machine_events` (a file or a directory of parts).
pub fn machine_events(path: &Path, options: &ReadOptions) -> Result<Chain<MachineEvent>, Error> {
    let options = options.clone();
    Chain::new(path, move |file| machine_events_file(file, &options))
}

fn machine_events_file(path: &Path, options: &ReadOptions) -> Result<Records<MachineEvent>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::GOOGLE);
    Records::open(path, options, Columns::Fixed(&MACHINE_EVENTS), move |_| {
        Ok(Box::new(move |row| {
            need_fields(row, 6)?;
            let time = trace_time(row.i64(0)?);
            let machine = row.str(1)?.to_string();
            let capacity = match (row.opt_nonneg(4)?, row.opt_nonneg(5)?) {
                // machine_events carry no disk: every machine gets the scale's (largest) disk.
                (Some(c), Some(m)) => Some(vec![scale.cpus_milli(c), scale.mem_mib(m), scale.disk_mib(1.0)]),
                _ => None,
            };
            let change = match (row.u64(2)?, capacity) {
                (0, Some(capacity)) => MachineChange::Add(MachineSpec {
                    name: machine.clone(),
                    capacity,
                    gpus: None,
                }),
                (1, _) => MachineChange::Remove,
                (2, Some(capacity)) => MachineChange::Update(capacity),
                (0 | 2, None) => return Ok(Parsed::Ignore("machine ADD or UPDATE without capacity")),
                (other, _) => {
                    return Err(RowError::new(
                        "event_type",
                        &other.to_string(),
                        "is not 0 (ADD), 1 (REMOVE) or 2 (UPDATE)",
                    ));
                }
            };
            Ok(Parsed::Record(MachineEvent {
                time,
                machine,
                change,
            }))
        }))
    })
}

/// What happened to a task, by the 2011 event codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskEventKind {
    /// 0: the task became eligible for scheduling.
    Submit,
    /// 1: the task was placed on a machine.
    Schedule,
    /// 2: descheduled for a higher-priority task or a machine failure.
    Evict,
    /// 3: the task failed.
    Fail,
    /// 4: the task completed normally.
    Finish,
    /// 5: cancelled by the user or a dependency.
    Kill,
    /// 6: the end of the task is unknown (the record was lost).
    Lost,
    /// 7: its request changed while pending.
    UpdatePending,
    /// 8: its request changed while running.
    UpdateRunning,
}

impl TaskEventKind {
    fn from_code(code: u64) -> Option<TaskEventKind> {
        use TaskEventKind::*;
        [
            Submit,
            Schedule,
            Evict,
            Fail,
            Finish,
            Kill,
            Lost,
            UpdatePending,
            UpdateRunning,
        ]
        .get(code as usize)
        .copied()
    }

    /// True for the events that end a run.
    pub fn ends_run(self) -> bool {
        use TaskEventKind::*;
        matches!(self, Evict | Fail | Finish | Kill | Lost)
    }

    /// The trace's name for the event.
    pub fn name(self) -> &'static str {
        use TaskEventKind::*;
        match self {
            Submit => "SUBMIT",
            Schedule => "SCHEDULE",
            Evict => "EVICT",
            Fail => "FAIL",
            Finish => "FINISH",
            Kill => "KILL",
            Lost => "LOST",
            UpdatePending => "UPDATE_PENDING",
            UpdateRunning => "UPDATE_RUNNING",
        }
    }
}

/// One row of `task_events`, in packsim units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskEvent {
    /// When (packsim time).
    pub time: Time,
    /// Job id.
    pub job: u64,
    /// Task index within the job.
    pub index: u64,
    /// What happened.
    pub kind: TaskEventKind,
    /// Priority 0–11.
    pub priority: i32,
    /// Requested (cpus milli-cores, mem MiB, disk MiB), when the row has them.
    pub request: Option<[u64; 3]>,
    /// No two tasks of the job on one machine.
    pub different_machines: bool,
}

const TASK_EVENTS: [&str; 13] = [
    "time",
    "missing_info",
    "job_id",
    "task_index",
    "machine_id",
    "event_type",
    "user",
    "scheduling_class",
    "priority",
    "cpu_request",
    "memory_request",
    "disk_request",
    "different_machines_restriction",
];

/// Reads `task_events` (a file or a directory of parts) as events.
pub fn task_events(path: &Path, options: &ReadOptions) -> Result<Chain<TaskEvent>, Error> {
    let options = options.clone();
    Chain::new(path, move |file| task_events_file(file, &options))
}

fn task_events_file(path: &Path, options: &ReadOptions) -> Result<Records<TaskEvent>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::GOOGLE);
    Records::open(path, options, Columns::Fixed(&TASK_EVENTS), move |_| {
        Ok(Box::new(move |row| {
            need_fields(row, 13)?;
            let code = row.u64(5)?;
            let kind = TaskEventKind::from_code(code).ok_or_else(|| {
                RowError::new("event_type", row.str(5).unwrap_or(""), "is not an event code 0–8")
            })?;
            let request = match (row.opt_nonneg(9)?, row.opt_nonneg(10)?, row.opt_nonneg(11)?) {
                (Some(c), Some(m), d) => Some([
                    scale.cpus_milli(c),
                    scale.mem_mib(m),
                    scale.disk_mib(d.unwrap_or(0.0)),
                ]),
                _ => None,
            };
            let priority = row.opt_str(8).map(|_| row.i64(8)).transpose()?.unwrap_or(0);
            Ok(Parsed::Record(TaskEvent {
                time: trace_time(row.i64(0)?),
                job: row.u64(2)?,
                index: row.u64(3)?,
                kind,
                priority: i32::try_from(priority).unwrap_or(i32::MAX),
                request,
                different_machines: row.opt_str(12).is_some_and(|v| v == "1"),
            }))
        }))
    })
}

/// A task being assembled from its events.
struct Partial {
    task: TaskSpec,
    scheduled: Option<Time>,
    done: bool,
}

/// Turns a stream of [`TaskEvent`]s into tasks, in SUBMIT order.
///
/// A task is emitted once its run has ended and every task submitted before it has been emitted,
/// so memory holds the tasks submitted since the oldest one still running (not the whole trace).
/// At the end of the input, tasks still running are emitted without a duration, and tasks never
/// scheduled get duration 0 with their last event as class.
pub struct Tasks<I> {
    events: I,
    order: VecDeque<u64>,
    partial: HashMap<u64, Partial>,
    open: HashMap<(u64, u64), u64>,
    next_seq: u64,
    runs: HashMap<(u64, u64), u32>,
    ignored: HashMap<&'static str, u64>,
    exhausted: bool,
}

impl<I: Iterator<Item = Result<TaskEvent, Error>>> Tasks<I> {
    /// Assembles the tasks of `events`.
    pub fn new(events: I) -> Tasks<I> {
        Tasks {
            events,
            order: VecDeque::new(),
            partial: HashMap::new(),
            open: HashMap::new(),
            next_seq: 0,
            runs: HashMap::new(),
            ignored: HashMap::new(),
            exhausted: false,
        }
    }

    /// Events that did not start or change a task, by reason.
    pub fn ignored(&self) -> &HashMap<&'static str, u64> {
        &self.ignored
    }

    /// The underlying event stream (for its skip counts).
    pub fn events(&self) -> &I {
        &self.events
    }

    fn ignore(&mut self, reason: &'static str) {
        *self.ignored.entry(reason).or_insert(0) += 1;
    }

    fn apply(&mut self, e: &TaskEvent) {
        let key = (e.job, e.index);
        match e.kind {
            TaskEventKind::Submit => {
                let Some([cpus, mem, disk]) = e.request else {
                    return self.ignore("SUBMIT without a request");
                };
                if let Some(seq) = self.open.remove(&key) {
                    // Resubmitted without an end event: close the earlier run where it is.
                    if let Some(p) = self.partial.get_mut(&seq) {
                        p.done = true;
                    }
                }
                let run = self.runs.entry(key).or_insert(0);
                *run += 1;
                let mut task = TaskSpec::new(
                    format!("{}-{}#{}", e.job, e.index, run),
                    e.time,
                    vec![cpus, mem, disk],
                );
                task.priority = e.priority;
                task.group = Some(e.job.to_string());
                task.max_per_machine = e.different_machines.then_some(1);
                let seq = self.next_seq;
                self.next_seq += 1;
                self.order.push_back(seq);
                self.open.insert(key, seq);
                self.partial.insert(
                    seq,
                    Partial {
                        task,
                        scheduled: None,
                        done: false,
                    },
                );
            }
            kind => {
                let Some(&seq) = self.open.get(&key) else {
                    return self.ignore("event of a task submitted before the trace or already ended");
                };
                let p = self.partial.get_mut(&seq).expect("open tasks are partial");
                match kind {
                    TaskEventKind::Schedule => p.scheduled = Some(e.time),
                    TaskEventKind::UpdatePending | TaskEventKind::UpdateRunning => {
                        if let (Some([c, m, d]), None) = (e.request, p.scheduled) {
                            p.task.demand = vec![c, m, d];
                        }
                    }
                    end => {
                        p.task.duration = Some(p.scheduled.map_or(0, |s| (e.time - s).max(0)));
                        p.task.class = Some(end.name().to_string());
                        p.done = true;
                        self.open.remove(&key);
                    }
                }
            }
        }
    }

    fn pop_ready(&mut self, force: bool) -> Option<TaskSpec> {
        let &seq = self.order.front()?;
        let ready = force || self.partial.get(&seq).is_some_and(|p| p.done);
        if !ready {
            return None;
        }
        self.order.pop_front();
        let mut p = self.partial.remove(&seq).expect("ordered tasks are partial");
        if !p.done {
            // Still pending or running at the end of the trace.
            if p.scheduled.is_none() {
                p.task.duration = Some(0);
                p.task.class = Some("never scheduled".into());
            } else {
                p.task.class = Some("running at trace end".into());
            }
        }
        Some(p.task)
    }
}

impl<I: Iterator<Item = Result<TaskEvent, Error>>> Iterator for Tasks<I> {
    type Item = Result<TaskSpec, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(task) = self.pop_ready(self.exhausted) {
                return Some(Ok(task));
            }
            if self.exhausted {
                return None;
            }
            match self.events.next() {
                Some(Ok(e)) => self.apply(&e),
                Some(Err(e)) => return Some(Err(e)),
                None => self.exhausted = true,
            }
        }
    }
}

/// Skip counts of a task stream built on a [`Chain`].
pub fn skipped_of(tasks: &Tasks<Chain<TaskEvent>>) -> Skipped {
    tasks.events().skipped()
}
