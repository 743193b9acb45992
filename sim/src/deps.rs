//! Task graphs: which tasks wait for which, when a held task is released, what a failed parent
//! cancels, and the jobs' completion times against their critical paths.
//!
//! [`Graph`] is built once per run from the workload (children in one flat array, the jobs and
//! their critical-path bounds); [`Deps`] is the run's state over it. Every edge is looked at a
//! bounded number of times over a run (once when its parent finishes or fails, once for the
//! bound), so dependency tracking costs O(tasks + edges) in total.

use std::collections::HashMap;

use crate::metrics::{JobRecord, JobStats};
use crate::workload::{TaskSpec, Time};

const NO_JOB: u32 = u32::MAX;

/// The workload's dependencies and jobs, fixed for the run. Tasks are known by their position in
/// arrival order (the `seq` of the timed models).
pub(crate) struct Graph {
    /// `children[children_start[i]..children_start[i + 1]]`: the tasks waiting for task `i`, with
    /// the edge's delay.
    children_start: Vec<u32>,
    children: Vec<(u32, Time)>,
    /// Parents of each task (edges, so a repeated parent counts twice, as it is released twice).
    parents: Vec<u32>,
    /// The job of each task, `NO_JOB` when none.
    job: Vec<u32>,
    jobs: Vec<JobInfo>,
}

struct JobInfo {
    name: String,
    /// Task records in the job.
    records: u32,
    /// The first arrival among its tasks.
    arrival: Time,
    /// The critical-path lower bound of its completion time, µs; `None` when a task never ends.
    bound: Option<Time>,
}

impl Graph {
    /// The graph of `tasks` (in arrival order, dependencies already checked); `None` when no task
    /// has a job or a parent, so runs without graphs pay nothing.
    pub(crate) fn of(tasks: &[TaskSpec]) -> Option<Graph> {
        if tasks.iter().all(|t| t.job.is_none() && t.after.is_empty()) {
            return None;
        }
        let n = tasks.len();
        let mut count = vec![0u32; n + 1];
        let mut parents = vec![0u32; n];
        for (i, t) in tasks.iter().enumerate() {
            parents[i] = t.after.len() as u32;
            for a in &t.after {
                count[a.task as usize + 1] += 1;
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let children_start = count.clone();
        let mut children = vec![(0u32, 0); *count.last().unwrap_or(&0) as usize];
        for (i, t) in tasks.iter().enumerate() {
            for a in &t.after {
                let at = &mut count[a.task as usize];
                children[*at as usize] = (i as u32, a.delay);
                *at += 1;
            }
        }
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut jobs: Vec<JobInfo> = Vec::new();
        let job: Vec<u32> = tasks
            .iter()
            .map(|t| match &t.job {
                None => NO_JOB,
                Some(name) => {
                    let id = *ids.entry(name.as_str()).or_insert_with(|| {
                        jobs.push(JobInfo {
                            name: name.clone(),
                            records: 0,
                            arrival: t.arrival,
                            bound: Some(0),
                        });
                        jobs.len() as u32 - 1
                    });
                    let j = &mut jobs[id as usize];
                    j.records += 1;
                    j.arrival = j.arrival.min(t.arrival);
                    id
                }
            })
            .collect();
        let mut graph = Graph {
            children_start,
            children,
            parents,
            job,
            jobs,
        };
        graph.bound(tasks);
        Some(graph)
    }

    fn children(&self, i: u32) -> &[(u32, Time)] {
        &self.children[self.children_start[i as usize] as usize..self.children_start[i as usize + 1] as usize]
    }

    /// The critical path of every job: the earliest each task could finish with unlimited
    /// capacity (its arrival, or its parents' finishes plus delays, then its duration), in
    /// topological order; a job's bound is its latest such finish after its arrival.
    fn bound(&mut self, tasks: &[TaskSpec]) {
        let n = tasks.len();
        let mut finish: Vec<Option<Time>> = vec![None; n];
        let mut start: Vec<Option<Time>> = tasks.iter().map(|t| Some(t.arrival)).collect();
        let mut left = self.parents.clone();
        let mut ready: Vec<u32> = (0..n as u32).filter(|&i| left[i as usize] == 0).collect();
        while let Some(i) = ready.pop() {
            let iu = i as usize;
            let f = start[iu].zip(tasks[iu].duration).map(|(s, d)| s + d);
            finish[iu] = f;
            for k in self.children_start[iu] as usize..self.children_start[iu + 1] as usize {
                let (c, delay) = self.children[k];
                let cu = c as usize;
                start[cu] = match (start[cu], f) {
                    (Some(s), Some(f)) => Some(s.max(f + delay)),
                    _ => None,
                };
                left[cu] -= 1;
                if left[cu] == 0 {
                    ready.push(c);
                }
            }
        }
        for (i, f) in finish.iter().enumerate() {
            let j = self.job[i];
            if j == NO_JOB {
                continue;
            }
            let job = &mut self.jobs[j as usize];
            job.bound = match (job.bound, f) {
                (Some(b), Some(f)) => Some(b.max(f - job.arrival)),
                _ => None,
            };
        }
    }
}

/// Where a task record stands with respect to its parents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not arrived yet.
    Coming,
    /// Arrived, waiting for parents.
    Held,
    /// Schedulable: its instances are queued, running or done.
    Released,
    /// Cancelled (a parent failed) or one of its instances failed for good.
    Failed,
}

/// What the event loop must do after a change in the graph.
pub(crate) enum Release {
    /// Nothing (the task waits, or it was cancelled).
    None,
    /// Queue it now.
    Now,
    /// Queue it at this time.
    At(Time),
}

/// The run's state over a [`Graph`].
pub(crate) struct Deps {
    graph: Graph,
    state: Vec<State>,
    /// Parents not finished yet.
    waiting: Vec<u32>,
    /// The earliest release its finished parents allow.
    ready: Vec<Time>,
    /// Instances not finished yet (set on arrival).
    left: Vec<u32>,
    instances: Vec<u32>,
    /// Per job: records not yet done or failed, the last finish, the first start, a failure.
    jobs_left: Vec<u32>,
    job_finish: Vec<Time>,
    job_first_start: Vec<Option<Time>>,
    job_failed: Vec<bool>,
    job_arrived: Vec<bool>,
    /// Tasks (instances) held by their parents now.
    pub held: u64,
    /// Tasks (instances) cancelled because a parent failed.
    pub cancelled: u64,
    /// Jobs arrived and not yet ended.
    pub jobs_running: u64,
    /// Releases scheduled for later.
    pub releases_pending: u64,
}

impl Deps {
    pub(crate) fn new(graph: Graph, tasks: &[TaskSpec]) -> Deps {
        let n = tasks.len();
        Deps {
            state: vec![State::Coming; n],
            waiting: graph.parents.clone(),
            ready: vec![Time::MIN; n],
            left: vec![0; n],
            instances: tasks.iter().map(|t| t.instances.max(1)).collect(),
            jobs_left: graph.jobs.iter().map(|j| j.records).collect(),
            job_finish: graph.jobs.iter().map(|j| j.arrival).collect(),
            job_first_start: vec![None; graph.jobs.len()],
            job_failed: vec![false; graph.jobs.len()],
            job_arrived: vec![false; graph.jobs.len()],
            graph,
            held: 0,
            cancelled: 0,
            jobs_running: 0,
            releases_pending: 0,
        }
    }

    /// Task `i` (all its instances) arrives at `now`: whether it may be queued, and when.
    pub(crate) fn arrive(&mut self, i: u32, now: Time) -> Release {
        let iu = i as usize;
        self.left[iu] = self.instances[iu];
        let j = self.graph.job[iu];
        if j != NO_JOB && !self.job_arrived[j as usize] {
            self.job_arrived[j as usize] = true;
            if self.jobs_left[j as usize] > 0 {
                self.jobs_running += 1;
            }
        }
        if self.state[iu] == State::Failed {
            self.cancelled += u64::from(self.instances[iu]);
            return Release::None;
        }
        if self.waiting[iu] > 0 {
            self.state[iu] = State::Held;
            self.held += u64::from(self.instances[iu]);
            return Release::None;
        }
        self.state[iu] = State::Released;
        match self.ready[iu] {
            r if r > now => {
                self.held += u64::from(self.instances[iu]);
                self.releases_pending += 1;
                Release::At(r)
            }
            _ => Release::Now,
        }
    }

    /// A scheduled release of task `i` is due: its instances stop being held.
    pub(crate) fn released(&mut self, i: u32) {
        self.releases_pending -= 1;
        self.held -= u64::from(self.instances[i as usize]);
    }

    /// An instance of task `i` started at `now`.
    pub(crate) fn started(&mut self, i: u32, now: Time) {
        let j = self.graph.job[i as usize];
        if j != NO_JOB {
            self.job_first_start[j as usize].get_or_insert(now);
        }
    }

    /// An instance of task `i` finished at `now`; `release` is called with every child that may
    /// be queued (and when).
    pub(crate) fn finished(&mut self, i: u32, now: Time, mut release: impl FnMut(u32, Release)) {
        let iu = i as usize;
        self.left[iu] -= 1;
        if self.left[iu] > 0 || self.state[iu] == State::Failed {
            return;
        }
        self.record_done(iu, now, false);
        for &(c, delay) in self.graph.children(i) {
            let cu = c as usize;
            self.waiting[cu] -= 1;
            self.ready[cu] = self.ready[cu].max(now + delay);
            if self.waiting[cu] == 0 && self.state[cu] == State::Held {
                self.state[cu] = State::Released;
                if self.ready[cu] > now {
                    self.releases_pending += 1;
                    release(c, Release::At(self.ready[cu]));
                } else {
                    self.held -= u64::from(self.instances[cu]);
                    release(c, Release::Now);
                }
            }
        }
    }

    /// An instance of task `i` failed for good at `now`: the task fails, and every task below it
    /// is cancelled (those already held are counted failed now; the others when they arrive).
    /// Returns the held tasks that are now failed.
    pub(crate) fn failed(&mut self, i: u32, now: Time) -> Vec<u32> {
        let iu = i as usize;
        if self.state[iu] == State::Failed {
            return Vec::new();
        }
        self.state[iu] = State::Failed;
        self.record_done(iu, now, true);
        let mut newly_failed = Vec::new();
        let mut stack = vec![i];
        while let Some(p) = stack.pop() {
            let range = self.graph.children_start[p as usize] as usize
                ..self.graph.children_start[p as usize + 1] as usize;
            for k in range {
                let c = self.graph.children[k].0;
                let cu = c as usize;
                match self.state[cu] {
                    State::Failed | State::Released => continue,
                    State::Held => {
                        let n = u64::from(self.instances[cu]);
                        self.held -= n;
                        self.cancelled += n;
                        newly_failed.push(c);
                    }
                    State::Coming => {}
                }
                self.state[cu] = State::Failed;
                self.record_done(cu, now, true);
                stack.push(c);
            }
        }
        newly_failed
    }

    /// True when task `i` failed or was cancelled.
    pub(crate) fn is_failed(&self, i: u32) -> bool {
        self.state[i as usize] == State::Failed
    }

    /// Task record `i` is finished (every instance) or has failed: its job may end.
    fn record_done(&mut self, i: usize, now: Time, failed: bool) {
        let j = self.graph.job[i];
        if j == NO_JOB {
            return;
        }
        let j = j as usize;
        self.job_failed[j] |= failed;
        if !failed {
            self.job_finish[j] = self.job_finish[j].max(now);
        }
        self.jobs_left[j] -= 1;
        if self.jobs_left[j] == 0 && self.job_arrived[j] {
            self.jobs_running -= 1;
        }
    }

    /// Every job's outcome, and their statistics.
    pub(crate) fn jobs(&self) -> (Option<JobStats>, Vec<JobRecord>) {
        if self.graph.jobs.is_empty() {
            return (None, Vec::new());
        }
        let records: Vec<JobRecord> = self
            .graph
            .jobs
            .iter()
            .enumerate()
            .map(|(j, info)| {
                let done = self.jobs_left[j] == 0;
                let completed = done && !self.job_failed[j];
                JobRecord {
                    name: info.name.clone(),
                    tasks: info.records,
                    arrival: info.arrival,
                    failed: self.job_failed[j],
                    completion: completed.then(|| self.job_finish[j] - info.arrival),
                    first_start: self.job_first_start[j],
                    finish: completed.then_some(self.job_finish[j]),
                    bound: info.bound,
                }
            })
            .collect();
        (Some(JobStats::of(&records)), records)
    }
}
