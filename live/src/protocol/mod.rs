//! The sans-IO scheduler: Mesos events and clock ticks in, calls and task outcomes out. Every
//! decision of the adapter is made here and tested without a network; the shell only moves bytes.
//!
//! The shell calls [`Core::start`], then feeds [`Core::on_event`], [`Core::on_disconnected`],
//! [`Core::on_call_failed`], [`Core::submit`] and [`Core::tick`] (at [`Core::next_deadline`]),
//! persists [`Core::snapshot`] when [`Core::take_dirty`] says so, and executes the
//! [`Action`]s from [`Core::poll_action`] in order. Times are durations since an arbitrary start.

mod placing;
mod updates;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use packing::Policy;
use proto::v1::scheduler::{Call, Event, call, event};
use proto::v1::{
    AgentId, Filters, FrameworkId, FrameworkInfo, Offer, TaskId, TaskState, TaskStatus, framework_info,
    task_status,
};
use serde::{Deserialize, Serialize};

use crate::offers::{self, Pool};
use crate::tasks::{DIMENSIONS, TaskSpec};

/// What the adapter does beyond the policy: mesos-batch's options and the protocol's timers.
#[derive(Clone, Debug)]
pub struct Config {
    /// FrameworkInfo.name.
    pub framework_name: String,
    /// FrameworkInfo.user, the user tasks run as.
    pub user: String,
    /// The role offers are asked for.
    pub role: String,
    /// FrameworkInfo.principal (with a secret, the shell also sends HTTP basic auth).
    pub principal: Option<String>,
    /// FrameworkInfo.checkpoint: tasks survive an agent restart.
    pub checkpoint: bool,
    /// How long the master keeps the framework's tasks after the adapter disconnects.
    pub failover_timeout: Duration,
    /// Extra FrameworkInfo.Capability names (MULTI_ROLE, TASK_KILLING_STATE and
    /// RESERVATION_REFINEMENT are always set; PARTITION_AWARE by `partition_aware`).
    pub capabilities: Vec<String>,
    /// Ask for PARTITION_AWARE (TASK_DROPPED/UNREACHABLE/GONE instead of TASK_LOST).
    pub partition_aware: bool,
    /// Kill a task this long after it was launched.
    pub kill_after: Option<Duration>,
    /// Launch attempts after an infrastructure failure (LOST, DROPPED, GONE, agent failure).
    pub retries: u32,
    /// The refusal sent with a DECLINE, seconds.
    pub decline_refuse: f64,
    /// The refusal for an accepted offer's unused remainder, seconds (≈0 so packing continues).
    pub accept_refuse: f64,
    /// Period of implicit reconciliation.
    pub reconcile_interval: Duration,
    /// A queued task larger than every agent's largest offer for this long is reported
    /// unschedulable instead of waiting for ever.
    pub unschedulable_after: Duration,
    /// Tear the framework down once every task is final and no more will come.
    pub teardown: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            framework_name: "packsim".into(),
            user: "root".into(),
            role: "*".into(),
            principal: None,
            checkpoint: false,
            failover_timeout: Duration::from_secs(7 * 24 * 3600),
            capabilities: Vec::new(),
            partition_aware: true,
            kill_after: None,
            retries: 3,
            decline_refuse: 3600.0,
            accept_refuse: 0.0,
            reconcile_interval: Duration::from_secs(300),
            unschedulable_after: Duration::from_secs(60),
            teardown: true,
        }
    }
}

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FinalState {
    /// TASK_FINISHED: the command exited 0.
    Finished,
    /// TASK_FAILED: the command failed (never retried).
    Failed,
    /// TASK_KILLED (by `kill_after` or a KILL).
    Killed,
    /// TASK_ERROR: Mesos refused the task as invalid.
    Error,
    /// TASK_LOST after every retry.
    Lost,
    /// TASK_DROPPED after every retry.
    Dropped,
    /// TASK_GONE / TASK_GONE_BY_OPERATOR after every retry.
    Gone,
    /// No agent ever offered enough for it.
    Unschedulable,
}

impl FinalState {
    /// Whether the task did what it was asked.
    pub fn is_success(self) -> bool {
        self == FinalState::Finished
    }

    /// The name shown in tables: Mesos's state name, or UNSCHEDULABLE.
    pub fn name(self) -> &'static str {
        match self {
            FinalState::Finished => "TASK_FINISHED",
            FinalState::Failed => "TASK_FAILED",
            FinalState::Killed => "TASK_KILLED",
            FinalState::Error => "TASK_ERROR",
            FinalState::Lost => "TASK_LOST",
            FinalState::Dropped => "TASK_DROPPED",
            FinalState::Gone => "TASK_GONE",
            FinalState::Unschedulable => "UNSCHEDULABLE",
        }
    }
}

/// A task's one final result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The task id as submitted.
    pub task_id: String,
    /// Where its last attempt ran.
    pub agent: Option<String>,
    /// How it ended.
    pub state: FinalState,
    /// The exit status, when Mesos reports one ("Command exited with status N").
    pub exit_status: Option<i32>,
    /// Mesos's message (or packsim's, for unschedulable and kill-after).
    pub message: String,
    /// Mesos's reason name, if any.
    pub reason: Option<String>,
    /// Launch attempts made.
    pub attempts: u32,
    /// From the last launch to the final update, seconds.
    pub duration_s: Option<f64>,
}

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
    attempt: u32,
    agent: Option<String>,
    phase: Phase,
    queued_at: Duration,
    launched_at: Option<Duration>,
    kill_sent_at: Option<Duration>,
    killed_by_timeout: bool,
}

impl Task {
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

/// What survives an adapter restart: the framework id and every task's attempt, agent and result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The framework id the master assigned, to re-subscribe as the same framework.
    pub framework_id: Option<String>,
    /// Every task in submission order.
    pub tasks: Vec<SnapshotTask>,
}

/// One task in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTask {
    /// The TaskInfo as submitted, in the Mesos JSON dialect.
    pub info: serde_json::Value,
    /// Attempts made (0 = never launched).
    pub attempt: u32,
    /// The agent of the last attempt.
    pub agent: Option<String>,
    /// Whether the last attempt was launched and is not final.
    pub launched: bool,
    /// The final result, once there is one.
    pub outcome: Option<Outcome>,
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
    framework_id: Option<String>,
    session: Session,
    backoff: Duration,
    errors_since_subscribed: u32,
    tasks: Vec<Task>,
    by_mesos_id: BTreeMap<String, usize>,
    by_user_id: BTreeMap<String, usize>,
    /// Per agent: the most it was ever seen to hold for us (our launched tasks + its offer).
    ceiling: BTreeMap<String, Vec<u64>>,
    suppressed: bool,
    /// A DECLINE with a long filter since the last REVIVE: new work needs a REVIVE.
    filtered: bool,
    unanswered: BTreeSet<usize>,
    reconcile_retry_at: Option<Duration>,
    reconcile_retry: Duration,
    implicit_at: Option<Duration>,
    closed: bool,
    done_sent: bool,
    dirty: bool,
    actions: VecDeque<Action>,
}

impl Core {
    /// A core that will place tasks with `policy`, resuming from `snapshot` if given.
    pub fn new(config: Config, policy: Policy, snapshot: Option<Snapshot>) -> Result<Core, crate::Error> {
        policy
            .check_batch()
            .map_err(|e| crate::Error::Policy(e.to_string()))?;
        let mut core = Core {
            config,
            policy,
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
            suppressed: false,
            filtered: false,
            unanswered: BTreeSet::new(),
            reconcile_retry_at: None,
            reconcile_retry: RECONCILE_RETRY_MIN,
            implicit_at: None,
            closed: false,
            done_sent: false,
            dirty: false,
            actions: VecDeque::new(),
        };
        if let Some(s) = snapshot {
            core.framework_id = s.framework_id;
            for (i, t) in s.tasks.into_iter().enumerate() {
                let info = proto::json::from_value(t.info)
                    .map_err(|e| crate::Error::State(format!("task {i}: {e}")))?;
                let spec = TaskSpec::new(info, &format!("tasks[{i}]"))?;
                let phase = match t.outcome {
                    Some(o) => Phase::Done(o),
                    None if t.launched => Phase::Launched,
                    None => Phase::Queued,
                };
                let idx = core.tasks.len();
                core.by_user_id.insert(spec.id().to_string(), idx);
                let task = Task {
                    spec,
                    attempt: t.attempt,
                    agent: t.agent,
                    phase,
                    queued_at: Duration::ZERO,
                    launched_at: t.launched.then_some(Duration::ZERO),
                    kill_sent_at: None,
                    killed_by_timeout: false,
                };
                if task.attempt > 0 {
                    core.by_mesos_id.insert(task.mesos_id(), idx);
                }
                core.tasks.push(task);
            }
        }
        Ok(core)
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
        let mut p = Progress::default();
        for t in &self.tasks {
            match &t.phase {
                Phase::Queued => p.queued += 1,
                Phase::Launched => p.running += 1,
                Phase::Done(o) if o.state.is_success() => p.finished += 1,
                Phase::Done(_) => p.failed += 1,
            }
        }
        p
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

    /// The state to persist.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            framework_id: self.framework_id.clone(),
            tasks: self
                .tasks
                .iter()
                .map(|t| SnapshotTask {
                    info: proto::json::to_value(&t.spec.info),
                    attempt: t.attempt,
                    agent: t.agent.clone(),
                    launched: t.phase == Phase::Launched,
                    outcome: match &t.phase {
                        Phase::Done(o) => Some(o.clone()),
                        _ => None,
                    },
                })
                .collect(),
        }
    }

    /// True once since the last call if the snapshot changed: persist it before executing the
    /// pending actions (so an ACKNOWLEDGE never precedes the state it acknowledges).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
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

    /// A call was answered with an error status (after the shell's own 503 retries).
    pub fn on_call_failed(&mut self, now: Duration, status: u16) {
        // 403: the master no longer considers us subscribed; anything else is logged by the shell.
        if status == 403 && self.is_subscribed() {
            self.actions.push_back(Action::Disconnect);
            self.on_disconnected(now);
        }
    }

    /// Adds a task; it is placed at the next offers. Returns false if its id is already in use.
    pub fn submit(&mut self, now: Duration, spec: TaskSpec) -> bool {
        if self.by_user_id.contains_key(spec.id()) {
            return false;
        }
        let idx = self.tasks.len();
        self.by_user_id.insert(spec.id().to_string(), idx);
        self.tasks.push(Task {
            spec,
            attempt: 0,
            agent: None,
            phase: Phase::Queued,
            queued_at: now,
            launched_at: None,
            kill_sent_at: None,
            killed_by_timeout: false,
        });
        self.dirty = true;
        self.want_offers();
        true
    }

    /// No more tasks will be submitted: finish once every task is final.
    pub fn close(&mut self) {
        self.closed = true;
        self.check_done();
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
        self.framework_id = Some(s.framework_id.value);
        self.dirty = true;
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
        if !self.tasks.iter().any(|t| t.phase == Phase::Queued) {
            self.suppress();
        }
        self.check_done();
    }

    /// When [`tick`](Core::tick) should next be called.
    pub fn next_deadline(&self) -> Option<Duration> {
        let mut d: Vec<Duration> = Vec::new();
        match &self.session {
            Session::Disconnected { retry_at } => d.push(*retry_at),
            Session::Subscribing { since } => d.push(*since + SUBSCRIBE_TIMEOUT),
            Session::Subscribed {
                heartbeat,
                last_event,
            } => d.push(*last_event + *heartbeat * MISSED_HEARTBEATS),
        }
        d.extend(self.reconcile_retry_at);
        d.extend(self.implicit_at);
        if let Some(k) = self.config.kill_after {
            for t in self.tasks.iter().filter(|t| t.phase == Phase::Launched) {
                if let Some(l) = t.launched_at {
                    d.push(match t.kill_sent_at {
                        Some(s) => s + KILL_RESEND,
                        None => l + k,
                    });
                }
            }
        }
        if self.tasks.iter().any(|t| t.phase == Phase::Queued) {
            d.push(
                self.tasks
                    .iter()
                    .filter(|t| t.phase == Phase::Queued)
                    .map(|t| t.queued_at + self.config.unschedulable_after)
                    .min()
                    .unwrap_or_default(),
            );
        }
        d.into_iter().min()
    }

    /// The clock reached `now`: re-subscribe, detect lost heartbeats, retry reconciliation, kill
    /// overdue tasks.
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
        if let Some(k) = self.config.kill_after {
            for i in 0..self.tasks.len() {
                let t = &self.tasks[i];
                let due = t.phase == Phase::Launched
                    && match (t.launched_at, t.kill_sent_at) {
                        (_, Some(s)) => now >= s + KILL_RESEND,
                        (Some(l), None) => now >= l + k,
                        (None, None) => false,
                    };
                if due {
                    let mut c = self.base_call(call::Type::Kill);
                    c.kill = Some(call::Kill {
                        task_id: TaskId { value: t.mesos_id() },
                        agent_id: t.agent.clone().map(|value| AgentId { value }),
                        kill_policy: None,
                    });
                    self.call(c);
                    self.tasks[i].kill_sent_at = Some(now);
                    self.tasks[i].killed_by_timeout = true;
                }
            }
        }
        self.give_up_unschedulable(now);
    }
}

/// The exit status in a command executor's message ("Command exited with status 3").
pub fn exit_status(message: &str) -> Option<i32> {
    let rest = message.split("exited with status ").nth(1)?;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}
