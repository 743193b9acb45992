//! The sans-IO scheduler: Mesos events and clock ticks in, calls and task outcomes out. Every
//! decision of the adapter is made here and tested without a network; the shell only moves bytes.
//!
//! The shell calls [`Core::start`], then feeds [`Core::on_event`], [`Core::on_disconnected`],
//! [`Core::on_call_failed`], [`Core::submit`], [`Core::stop`] and [`Core::tick`] (at
//! [`Core::next_deadline`]), appends [`Core::take_changes`] to its state file, and executes the
//! [`Action`]s from [`Core::poll_action`] in order. Times are durations since an arbitrary start.
//!
//! Every event costs what it changes, not the number of tasks: the books in `ledger` (the queue,
//! what runs on each agent, the counts, the kill and give-up deadlines, the unsaved changes) are
//! kept as tasks change phase.

mod config;
mod ledger;
mod outcome;
mod placing;
mod updates;

pub use config::Config;
pub use outcome::{FinalState, Outcome, exit_status};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use packing::Policy;
use proto::v1::scheduler::{Call, Event, call, event};
use proto::v1::{
    AgentId, Filters, FrameworkId, FrameworkInfo, Offer, TaskId, TaskInfo, TaskState, TaskStatus,
    framework_info, task_status,
};
use serde::{Deserialize, Serialize};

use crate::offers::{self, Pool};
use crate::state::{Entry, Snapshot, SnapshotTask, TaskRecord};
use crate::tasks::{DIMENSIONS, TaskSpec};

/// What the shell must do next, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open a new subscription stream with this SUBSCRIBE call (closing any open one).
    Subscribe(Call),
    /// Send this call on the calls connection with the stream id.
    Call(Call),
    /// Close the subscription stream (heartbeats stopped or ERROR); a Subscribe follows later.
    Disconnect,
    /// A task reached its final state.
    Outcome(Outcome),
    /// Every task is final and input is closed: stop after the calls already queued.
    Done,
    /// Give up: the master keeps refusing the framework.
    Abort(String),
}

/// What [`Core::stop`] does with tasks that are not final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Tear the framework down: Mesos kills its running tasks (reported TASK_KILLED); tasks never
    /// launched are reported CANCELLED.
    Teardown,
    /// Leave the framework and its running tasks to the master (for its failover timeout):
    /// a run started again with the same state file resumes them.
    Detach,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Phase {
    Queued,
    /// ACCEPT sent or the task known to Mesos, not final.
    Launched,
    Done(Outcome),
}

#[derive(Clone, Debug)]
struct Task {
    spec: TaskSpec,
    /// The demand in the core's schema (custom resources included).
    demand: Vec<u64>,
    /// The ports of the last attempt.
    ports: Vec<u64>,
    /// The last attempt's executor and container, as its status updates name them.
    executor: Option<String>,
    container: Option<String>,
    attempt: u32,
    agent: Option<String>,
    phase: Phase,
    queued_at: Duration,
    launched_at: Option<Duration>,
    /// The launch in wall-clock time (seconds since the Unix epoch), kept across restarts.
    launched_unix: Option<f64>,
    kill_sent_at: Option<Duration>,
    killed_by_timeout: bool,
    /// This task's key in `Core::kill_due`, while it has one.
    kill_due: Option<Duration>,
    /// This task's key in `Core::give_up_due`, while it has one.
    give_up_due: Option<Duration>,
}

impl Task {
    fn new(spec: TaskSpec, demand: Vec<u64>) -> Task {
        Task {
            spec,
            demand,
            ports: Vec::new(),
            executor: None,
            container: None,
            attempt: 0,
            agent: None,
            phase: Phase::Queued,
            queued_at: Duration::ZERO,
            launched_at: None,
            launched_unix: None,
            kill_sent_at: None,
            killed_by_timeout: false,
            kill_due: None,
            give_up_due: None,
        }
    }

    fn mesos_id(&self) -> String {
        mesos_id(self.spec.id(), self.attempt)
    }
}

/// The Mesos task id of attempt `attempt` (counting from 1) of task `id`.
pub fn mesos_id(id: &str, attempt: u32) -> String {
    if attempt <= 1 {
        id.to_string()
    } else {
        format!("{id}.retry{}", attempt - 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Session {
    Disconnected {
        retry_at: Duration,
    },
    Subscribing {
        since: Duration,
    },
    Subscribed {
        heartbeat: Duration,
        last_event: Duration,
    },
}

/// Counts of tasks by phase, for progress displays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Waiting for an offer.
    pub queued: usize,
    /// Launched, not final.
    pub running: usize,
    /// Final and successful.
    pub finished: usize,
    /// Final and not successful.
    pub failed: usize,
}

const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(15);
const MISSED_HEARTBEATS: u32 = 5;
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(75);
const KILL_RESEND: Duration = Duration::from_secs(10);
const RECONCILE_RETRY_MIN: Duration = Duration::from_secs(5);
const RECONCILE_RETRY_MAX: Duration = Duration::from_secs(60);
const FATAL_ERRORS: u32 = 3;

/// The scheduler state machine.
#[derive(Debug)]
pub struct Core {
    config: Config,
    policy: Policy,
    /// The policy's schema: [`DIMENSIONS`], then any custom scalar resources.
    schema: packing::Schema,
    framework_id: Option<String>,
    session: Session,
    backoff: Duration,
    errors_since_subscribed: u32,
    tasks: Vec<Task>,
    by_mesos_id: BTreeMap<String, usize>,
    by_user_id: BTreeMap<String, usize>,
    /// Per agent: the most it was ever seen to hold for us (our launched tasks + its offer).
    ceiling: BTreeMap<String, Vec<u64>>,
    /// The books (see `ledger`): queued tasks in submission order, ...
    queued: BTreeSet<usize>,
    /// ... the demand of our launched tasks per agent, ...
    used: BTreeMap<String, Vec<u64>>,
    /// ... how many tasks are final and how many of those finished, ...
    done: usize,
    succeeded: usize,
    /// ... when each launched task is to be killed (`--kill-after`) or its KILL resent, ...
    kill_due: BTreeSet<(Duration, usize)>,
    /// ... when each queued task is checked against every agent's largest offer, ...
    give_up_due: BTreeSet<(Duration, usize)>,
    /// ... queued tasks past that check that some agent could hold (checked again when an
    /// agent goes away), ...
    overdue: BTreeSet<usize>,
    /// ... and what the state file has not seen: tasks from `journaled` on, changed tasks, the
    /// framework id.
    journaled: usize,
    changed: BTreeSet<usize>,
    framework_changed: bool,
    /// Seconds since the Unix epoch at time zero (0 until the shell says).
    wall_zero: f64,
    /// Counts SUBSCRIBEs: calls are tagged with the subscription they were sent under.
    subscription: u64,
    detached: bool,
    suppressed: bool,
    /// A DECLINE with a long filter since the last REVIVE: new work needs a REVIVE.
    filtered: bool,
    unanswered: BTreeSet<usize>,
    reconcile_retry_at: Option<Duration>,
    reconcile_retry: Duration,
    implicit_at: Option<Duration>,
    closed: bool,
    done_sent: bool,
    actions: VecDeque<Action>,
}

impl Core {
    /// A core that will place tasks with `policy`, resuming from `snapshot` if given. The
    /// policy's schema is [`crate::tasks::schema`], or [`crate::tasks::schema_with`] custom
    /// scalar resources.
    pub fn new(config: Config, policy: Policy, snapshot: Option<Snapshot>) -> Result<Core, crate::Error> {
        policy
            .check_batch()
            .map_err(|e| crate::Error::Policy(e.to_string()))?;
        let schema = policy.schema().clone();
        let adapters = schema.len() >= DIMENSIONS.len()
            && DIMENSIONS
                .iter()
                .enumerate()
                .all(|(d, n)| schema.dim(d).name() == *n);
        if !adapters {
            return Err(crate::Error::Policy(format!(
                "the policy's resources are {}; build it on live::tasks::schema() ({}), or \
                 live::tasks::schema_with(custom resources)",
                schema.names(),
                DIMENSIONS.join(", ")
            )));
        }
        let mut core = Core {
            config,
            policy,
            schema,
            framework_id: None,
            session: Session::Disconnected {
                retry_at: Duration::ZERO,
            },
            backoff: BACKOFF_MIN,
            errors_since_subscribed: 0,
            tasks: Vec::new(),
            by_mesos_id: BTreeMap::new(),
            by_user_id: BTreeMap::new(),
            ceiling: BTreeMap::new(),
            queued: BTreeSet::new(),
            used: BTreeMap::new(),
            done: 0,
            succeeded: 0,
            kill_due: BTreeSet::new(),
            give_up_due: BTreeSet::new(),
            overdue: BTreeSet::new(),
            journaled: 0,
            changed: BTreeSet::new(),
            framework_changed: false,
            wall_zero: 0.0,
            subscription: 0,
            detached: false,
            suppressed: false,
            filtered: false,
            unanswered: BTreeSet::new(),
            reconcile_retry_at: None,
            reconcile_retry: RECONCILE_RETRY_MIN,
            implicit_at: None,
            closed: false,
            done_sent: false,
            actions: VecDeque::new(),
        };
        if let Some(s) = snapshot {
            core.framework_id = s.framework_id;
            for (i, t) in s.tasks.into_iter().enumerate() {
                let info = proto::json::from_value(t.info)
                    .map_err(|e| crate::Error::State(format!("task {i}: {e}")))?;
                let spec = TaskSpec::new(info, &format!("tasks[{i}]"))?;
                let demand = spec.demand_in(&core.schema)?;
                let r = t.record;
                let mut task = Task::new(spec, demand);
                task.attempt = r.attempt;
                task.agent = r.agent;
                task.launched_unix = r.launched_unix;
                task.phase = match r.outcome {
                    Some(o) => Phase::Done(o),
                    None if r.launched => {
                        task.launched_at = Some(Duration::ZERO);
                        Phase::Launched
                    }
                    None => Phase::Queued,
                };
                core.push_task(task, Duration::ZERO);
            }
            core.journaled = core.tasks.len();
            core.changed.clear();
        }
        Ok(core)
    }

    /// Sets the wall clock: time zero is `unix` seconds since the Unix epoch. Durations of tasks
    /// launched before a restart are then counted from their launch, not from the restart.
    pub fn set_wall_clock(&mut self, unix: f64) {
        self.wall_zero = unix;
    }

    /// The framework id, once the master assigned one.
    pub fn framework_id(&self) -> Option<&str> {
        self.framework_id.as_deref()
    }

    /// Whether a subscription is established.
    pub fn is_subscribed(&self) -> bool {
        matches!(self.session, Session::Subscribed { .. })
    }

    /// Task counts by phase.
    pub fn progress(&self) -> Progress {
        Progress {
            queued: self.queued.len(),
            running: self.tasks.len() - self.queued.len() - self.done,
            finished: self.succeeded,
            failed: self.done - self.succeeded,
        }
    }

    /// The number of tasks submitted (and restored).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// The ids of the tasks that are not final, in submission order.
    pub fn unfinished(&self) -> Vec<&str> {
        self.tasks
            .iter()
            .filter(|t| !matches!(t.phase, Phase::Done(_)))
            .map(|t| t.spec.id())
            .collect()
    }

    /// Whether the run ended by [`Stop::Detach`]: its unfinished tasks still run.
    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// The final outcome of the task submitted as `id`, if it has one.
    pub fn outcome_of(&self, id: &str) -> Option<&Outcome> {
        match &self.tasks[*self.by_user_id.get(id)?].phase {
            Phase::Done(o) => Some(o),
            _ => None,
        }
    }

    /// Every final outcome so far, in submission order (`None` for unfinished tasks).
    pub fn outcomes(&self) -> Vec<Option<&Outcome>> {
        self.tasks
            .iter()
            .map(|t| match &t.phase {
                Phase::Done(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    /// The whole state, to persist.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            framework_id: self.framework_id.clone(),
            tasks: (0..self.tasks.len())
                .map(|i| SnapshotTask {
                    info: proto::json::to_value(&self.tasks[i].spec.info),
                    record: self.record(i),
                })
                .collect(),
        }
    }

    /// What changed since the last call, as state-file lines: append them before executing the
    /// pending actions (so an ACKNOWLEDGE never precedes the state it acknowledges).
    pub fn take_changes(&mut self) -> Vec<Entry> {
        let mut out = Vec::new();
        if std::mem::take(&mut self.framework_changed) {
            if let Some(id) = &self.framework_id {
                out.push(Entry::Framework(id.clone()));
            }
        }
        for i in self.journaled..self.tasks.len() {
            out.push(Entry::Task {
                i,
                info: proto::json::to_value(&self.tasks[i].spec.info),
            });
        }
        self.journaled = self.tasks.len();
        for i in std::mem::take(&mut self.changed) {
            out.push(Entry::State {
                i,
                record: self.record(i),
            });
        }
        out
    }

    fn record(&self, i: usize) -> TaskRecord {
        let t = &self.tasks[i];
        TaskRecord {
            attempt: t.attempt,
            agent: t.agent.clone(),
            launched: t.phase == Phase::Launched,
            launched_unix: t.launched_unix,
            outcome: match &t.phase {
                Phase::Done(o) => Some(o.clone()),
                _ => None,
            },
        }
    }

    /// The next action to execute.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    fn call(&mut self, c: Call) {
        self.actions.push_back(Action::Call(c));
    }

    fn base_call(&self, t: call::Type) -> Call {
        Call {
            framework_id: self.framework_id.clone().map(|value| FrameworkId { value }),
            r#type: Some(t as i32),
            ..Call::default()
        }
    }

    fn framework_info(&self) -> FrameworkInfo {
        use framework_info::capability::Type as Cap;
        let mut caps = vec![Cap::MultiRole, Cap::TaskKillingState, Cap::ReservationRefinement];
        if self.config.partition_aware {
            caps.push(Cap::PartitionAware);
        }
        for name in &self.config.capabilities {
            if let Some(c) = Cap::from_str_name(name) {
                if !caps.contains(&c) {
                    caps.push(c);
                }
            }
        }
        FrameworkInfo {
            user: self.config.user.clone(),
            name: self.config.framework_name.clone(),
            id: self.framework_id.clone().map(|value| FrameworkId { value }),
            failover_timeout: Some(self.config.failover_timeout.as_secs_f64()),
            checkpoint: Some(self.config.checkpoint),
            roles: vec![self.config.role.clone()],
            principal: self.config.principal.clone(),
            capabilities: caps
                .into_iter()
                .map(|c| framework_info::Capability {
                    r#type: Some(c as i32),
                })
                .collect(),
            ..FrameworkInfo::default()
        }
    }

    /// Starts (or restarts) subscribing: emits the SUBSCRIBE call.
    pub fn start(&mut self, now: Duration) {
        let mut c = self.base_call(call::Type::Subscribe);
        c.subscribe = Some(call::Subscribe {
            framework_info: self.framework_info(),
            suppressed_roles: Vec::new(),
            offer_constraints: None,
        });
        self.session = Session::Subscribing { since: now };
        self.subscription += 1;
        self.actions.push_back(Action::Subscribe(c));
    }

    /// The subscription stream ended or could not be opened: re-subscribe after a backoff.
    pub fn on_disconnected(&mut self, now: Duration) {
        if matches!(self.session, Session::Disconnected { .. }) || self.done_sent {
            return;
        }
        self.session = Session::Disconnected {
            retry_at: now + self.backoff,
        };
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    /// The subscription calls are sent under now: the shell tags each call with it and passes
    /// it back to [`on_call_failed`](Core::on_call_failed).
    pub fn subscription(&self) -> u64 {
        self.subscription
    }

    /// A call sent under `subscription` was answered with an error status (after the shell's own
    /// 503 retries). Only the current subscription's failures count: after a reconnect, late
    /// calls of the old stream are refused (400/403) and say nothing about the new one.
    pub fn on_call_failed(&mut self, now: Duration, status: u16, subscription: u64) {
        // 403: the master no longer considers us subscribed; anything else is logged by the shell.
        if status == 403 && self.is_subscribed() && subscription == self.subscription {
            self.actions.push_back(Action::Disconnect);
            self.on_disconnected(now);
        }
    }

    /// Adds a task; it is placed at the next offers. Returns false if its id is already in use.
    pub fn submit(&mut self, now: Duration, spec: TaskSpec) -> bool {
        if self.by_user_id.contains_key(spec.id()) {
            return false;
        }
        match spec.demand_in(&self.schema) {
            Ok(demand) => {
                self.push_task(Task::new(spec, demand), now);
                self.want_offers();
            }
            Err(e) => {
                let i = self.tasks.len();
                let zero = vec![0; self.schema.len()];
                self.push_task(Task::new(spec, zero), now);
                self.finish(i, FinalState::Error, e.to_string(), None, None, now);
            }
        }
        true
    }

    /// No more tasks will be submitted: finish once every task is final.
    pub fn close(&mut self) {
        self.closed = true;
        self.check_done();
    }

    /// Ends the run now, before every task is final (an interrupt): see [`Stop`].
    pub fn stop(&mut self, now: Duration, how: Stop, why: &str) {
        if self.done_sent {
            return;
        }
        self.closed = true;
        match how {
            Stop::Teardown => {
                let unfinished: Vec<usize> = (0..self.tasks.len())
                    .filter(|&i| !matches!(self.tasks[i].phase, Phase::Done(_)))
                    .collect();
                for i in unfinished {
                    let (state, message) = if self.tasks[i].phase == Phase::Launched {
                        (
                            FinalState::Killed,
                            format!("{why}: killed by the framework's TEARDOWN"),
                        )
                    } else {
                        (FinalState::Cancelled, format!("{why}: never launched"))
                    };
                    self.finish(i, state, message, None, None, now);
                }
                self.check_done();
            }
            Stop::Detach => {
                self.detached = true;
                self.done_sent = true;
                self.actions.push_back(Action::Done);
            }
        }
    }

    fn want_offers(&mut self) {
        if self.is_subscribed() && (self.suppressed || self.filtered) {
            let mut c = self.base_call(call::Type::Revive);
            c.revive = Some(call::Revive {
                roles: vec![self.config.role.clone()],
            });
            self.call(c);
            self.suppressed = false;
            self.filtered = false;
        }
    }

    /// One event from the subscription stream.
    pub fn on_event(&mut self, now: Duration, e: Event) {
        if self.done_sent {
            return; // torn down (or aborted): nothing more to say to the master
        }
        if let Session::Subscribed { last_event, .. } = &mut self.session {
            *last_event = now;
        }
        match e.r#type() {
            event::Type::Subscribed => {
                if let Some(s) = e.subscribed {
                    self.on_subscribed(now, s);
                }
            }
            event::Type::Offers => {
                if let Some(o) = e.offers {
                    self.on_offers(now, &o.offers);
                }
            }
            event::Type::Update => {
                if let Some(u) = e.update {
                    self.on_update(now, &u.status);
                }
            }
            event::Type::Failure => {
                if let Some(f) = e.failure {
                    // An agent is gone (no executor id): ask about its tasks; the UPDATEs decide.
                    if let (Some(agent), None) = (f.agent_id, f.executor_id) {
                        self.ceiling.remove(&agent.value);
                        self.check_overdue(now);
                        let on_agent: Vec<usize> = (0..self.tasks.len())
                            .filter(|&i| {
                                self.tasks[i].phase == Phase::Launched
                                    && self.tasks[i].agent.as_deref() == Some(&agent.value)
                            })
                            .collect();
                        self.unanswered.extend(on_agent);
                        self.reconcile_unanswered(now);
                    }
                }
            }
            event::Type::Error => {
                self.errors_since_subscribed += 1;
                let message = e.error.map(|x| x.message).unwrap_or_default();
                if self.errors_since_subscribed >= FATAL_ERRORS {
                    self.actions.push_back(Action::Abort(format!(
                        "the master sent ERROR {FATAL_ERRORS} times without a subscription: {message}"
                    )));
                    self.done_sent = true;
                    return;
                }
                self.actions.push_back(Action::Disconnect);
                self.on_disconnected(now);
            }
            // We never hold offers, so a rescinded one is already answered; a racing ACCEPT comes
            // back as TASK_DROPPED/LOST with REASON_INVALID_OFFERS and is retried.
            _ => {}
        }
    }

    fn on_subscribed(&mut self, now: Duration, s: event::Subscribed) {
        self.framework_changed |= self.framework_id.as_deref() != Some(s.framework_id.value.as_str());
        self.framework_id = Some(s.framework_id.value);
        let heartbeat =
            Duration::from_secs_f64(s.heartbeat_interval_seconds.unwrap_or(15.0).clamp(0.1, 3600.0));
        self.session = Session::Subscribed {
            heartbeat,
            last_event: now,
        };
        self.backoff = BACKOFF_MIN;
        self.errors_since_subscribed = 0;
        self.suppressed = false;
        self.filtered = false;
        // Explicit reconciliation of everything we believe launched, until each is answered.
        self.unanswered = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].phase == Phase::Launched)
            .collect();
        self.reconcile_retry = RECONCILE_RETRY_MIN;
        self.reconcile_unanswered(now);
        self.implicit_at = Some(now + self.config.reconcile_interval);
        if self.queued.is_empty() {
            self.suppress();
        }
        self.check_done();
    }

    /// When [`tick`](Core::tick) should next be called.
    pub fn next_deadline(&self) -> Option<Duration> {
        let session = match &self.session {
            Session::Disconnected { retry_at } => *retry_at,
            Session::Subscribing { since } => *since + SUBSCRIBE_TIMEOUT,
            Session::Subscribed {
                heartbeat,
                last_event,
            } => *last_event + *heartbeat * MISSED_HEARTBEATS,
        };
        [
            Some(session),
            self.reconcile_retry_at,
            self.implicit_at,
            self.kill_due.first().map(|(d, _)| *d),
            self.give_up_due.first().map(|(d, _)| *d),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The clock reached `now`: re-subscribe, detect lost heartbeats, retry reconciliation, kill
    /// overdue tasks, give up tasks no agent can hold.
    pub fn tick(&mut self, now: Duration) {
        if self.done_sent {
            return;
        }
        match self.session.clone() {
            Session::Disconnected { retry_at } if now >= retry_at => self.start(now),
            Session::Subscribing { since } if now >= since + SUBSCRIBE_TIMEOUT => {
                self.actions.push_back(Action::Disconnect);
                self.session = Session::Disconnected { retry_at: now };
                self.start(now);
            }
            Session::Subscribed {
                heartbeat,
                last_event,
            } if now >= last_event + heartbeat * MISSED_HEARTBEATS => {
                self.actions.push_back(Action::Disconnect);
                self.on_disconnected(now);
            }
            _ => {}
        }
        if !self.is_subscribed() {
            return;
        }
        if self.reconcile_retry_at.is_some_and(|t| now >= t) {
            self.reconcile_unanswered(now);
        }
        if self.implicit_at.is_some_and(|t| now >= t) {
            let mut c = self.base_call(call::Type::Reconcile);
            c.reconcile = Some(call::Reconcile { tasks: Vec::new() });
            self.call(c);
            self.implicit_at = Some(now + self.config.reconcile_interval);
        }
        while let Some(&(due, i)) = self.kill_due.first() {
            if due > now {
                break;
            }
            let t = &self.tasks[i];
            let mut c = self.base_call(call::Type::Kill);
            c.kill = Some(call::Kill {
                task_id: TaskId { value: t.mesos_id() },
                agent_id: t.agent.clone().map(|value| AgentId { value }),
                kill_policy: None,
            });
            self.call(c);
            self.tasks[i].kill_sent_at = Some(now);
            self.tasks[i].killed_by_timeout = true;
            self.set_kill_due(i, Some(now + KILL_RESEND));
        }
        self.give_up_due_tasks(now);
    }
}
