//! The emulated master's state machine: frameworks, agents, offers, filters, tasks and their
//! reliable status-update streams, driven by calls and a clock. No I/O: the HTTP server feeds it
//! and carries its [`Out`] messages to the subscription streams. Rules follow
//! `shared/mesos/PROTOCOL.md` §2 as observed on Mesos 1.11.0.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use proto::v1::scheduler::{Call, Event, call, event};
use proto::v1::{
    AgentId, ContainerId, ContainerStatus, ExecutorId, FrameworkId, FrameworkInfo, MasterInfo, NetworkInfo,
    Offer, OfferId, TaskId, TaskInfo, TaskState, TaskStatus, framework_info, offer, task_status,
};

use packing::hash::SplitMix64;
use packing::refusal::Refusal as RefusalFilter;

use crate::resources::Res;
use crate::{AgentSpec, MasterConfig, RunModel};

/// A message for the HTTP layer.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// Send `event` on subscription stream `stream`.
    Event {
        /// The stream id.
        stream: String,
        /// The event.
        event: Box<Event>,
    },
    /// Close subscription stream `stream` (after its pending events).
    Close {
        /// The stream id.
        stream: String,
    },
}

/// An HTTP answer to a call the state machine refused.
pub type Refusal = (u16, String);

/// A refusal filter of one framework on one agent's resources for one role.
#[derive(Clone, Debug)]
struct Filter {
    agent: usize,
    role: String,
    refusal: RefusalFilter<Res, Duration>,
}

#[derive(Debug)]
struct Framework {
    id: String,
    info: FrameworkInfo,
    roles: Vec<String>,
    multi_role: bool,
    partition_aware: bool,
    killing_state: bool,
    stream: Option<String>,
    disconnected_at: Option<Duration>,
    last_heartbeat: Duration,
    suppressed: BTreeSet<String>,
    filters: Vec<Filter>,
}

#[derive(Debug)]
struct Agent {
    id: String,
    spec: AgentSpec,
    total: Res,
    /// Not used by tasks and not offered.
    free: Res,
    active: bool,
}

#[derive(Debug)]
struct OfferState {
    framework: String,
    agent: usize,
    role: String,
    res: Res,
}

#[derive(Clone, Debug)]
struct Pending {
    status: TaskStatus,
    sent_at: Option<Duration>,
    resend_after: Duration,
}

#[derive(Debug)]
struct Task {
    framework: String,
    agent: usize,
    res: Res,
    /// The latest state the master knows (the last update generated).
    state: TaskState,
    /// Transitions still to come: (time, state, message).
    script: VecDeque<(Duration, TaskState, String)>,
    /// Reliable updates not yet acknowledged; the head is the one in flight.
    updates: VecDeque<Pending>,
    done: bool,
    /// What an agent reports about the task's container (a real agent's shape).
    container: ContainerStatus,
}

/// The whole master.
#[derive(Debug)]
pub struct MasterState {
    config: MasterConfig,
    master_id: String,
    frameworks: BTreeMap<String, Framework>,
    /// Framework ids removed (torn down or failed over too long ago).
    removed: BTreeSet<String>,
    agents: Vec<Agent>,
    offers: BTreeMap<String, OfferState>,
    tasks: BTreeMap<(String, String), Task>,
    next_framework: u64,
    next_offer: u64,
    next_allocation: Duration,
    rng: SplitMix64,
    out: Vec<Out>,
    /// Per task id: launches, and runs that reached TASK_FINISHED (for tests of "none run twice").
    runs: BTreeMap<String, (u32, u32)>,
    /// Fault: send every reliable update twice.
    pub duplicate_updates: bool,
    /// Fault: hold reliable updates this much longer before sending them.
    pub delay_updates: Duration,
}

fn err(code: u16, m: impl Into<String>) -> Refusal {
    (code, m.into())
}

fn terminal(s: TaskState) -> bool {
    use TaskState as S;
    matches!(
        s,
        S::TaskFinished
            | S::TaskFailed
            | S::TaskKilled
            | S::TaskError
            | S::TaskLost
            | S::TaskDropped
            | S::TaskGone
            | S::TaskGoneByOperator
    )
}

impl MasterState {
    /// A master with `agents`, all registered at time 0.
    pub fn new(config: MasterConfig, agents: Vec<AgentSpec>) -> MasterState {
        let mut rng = SplitMix64::new(config.seed ^ 0x9E37_79B9_7F4A_7C15);
        let master_id = uuid_text(&mut rng);
        let agents = agents
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                let total = spec.resources();
                Agent {
                    id: format!("{master_id}-S{i}"),
                    free: total.clone(),
                    total,
                    spec,
                    active: true,
                }
            })
            .collect();
        MasterState {
            config,
            master_id,
            frameworks: BTreeMap::new(),
            removed: BTreeSet::new(),
            agents,
            offers: BTreeMap::new(),
            tasks: BTreeMap::new(),
            next_framework: 0,
            next_offer: 0,
            next_allocation: Duration::ZERO,
            rng,
            out: Vec::new(),
            runs: BTreeMap::new(),
            duplicate_updates: false,
            delay_updates: Duration::ZERO,
        }
    }

    /// The master's id (the prefix of every framework, agent and offer id).
    pub fn master_id(&self) -> &str {
        &self.master_id
    }

    /// Messages for the streams since the last call.
    pub fn take_out(&mut self) -> Vec<Out> {
        std::mem::take(&mut self.out)
    }

    fn send(&mut self, framework: &str, e: Event) {
        if let Some(stream) = self.frameworks.get(framework).and_then(|f| f.stream.clone()) {
            self.out.push(Out::Event {
                stream,
                event: Box::new(e),
            });
        }
    }

    fn random_bytes(&mut self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16);
        for _ in 0..2 {
            v.extend_from_slice(&self.rng.next_u64().to_le_bytes());
        }
        v
    }

    // ----- subscription -----

    /// A SUBSCRIBE call (already validated as a Call): the new stream's id, or an ERROR to send
    /// on a stream that is then closed (`Err(Ok(message))`), or an HTTP refusal.
    #[allow(deprecated)] // FrameworkInfo.role: non-MULTI_ROLE frameworks still use it
    pub fn subscribe(&mut self, now: Duration, c: &Call) -> Result<String, Result<String, Refusal>> {
        let sub = c.subscribe.as_ref().ok_or_else(|| {
            Err(err(
                400,
                "Failed to validate scheduler::Call: Expecting 'subscribe' to be present",
            ))
        })?;
        let info = sub.framework_info.clone();
        let caps: BTreeSet<i32> = info.capabilities.iter().filter_map(|x| x.r#type).collect();
        use framework_info::capability::Type as Cap;
        let multi_role = caps.contains(&(Cap::MultiRole as i32));
        if multi_role && info.role.is_some() {
            return Err(Ok(
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable".into(),
            ));
        }
        if !multi_role && !info.roles.is_empty() {
            return Err(Ok(
                "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable".into(),
            ));
        }
        let roles = if multi_role {
            info.roles.clone()
        } else {
            vec![info.role.clone().unwrap_or_else(|| "*".into())]
        };
        let mut seen = BTreeSet::new();
        if let Some(dup) = roles.iter().find(|r| !seen.insert(*r)) {
            return Err(Ok(format!(
                "'FrameworkInfo.roles' contains duplicate items: {dup}"
            )));
        }
        let stream = uuid_text(&mut self.rng);
        let id = match &info.id {
            Some(id) => id.value.clone(),
            None => {
                let id = format!("{}-{:04}", self.master_id, self.next_framework);
                self.next_framework += 1;
                id
            }
        };
        self.removed.remove(&id);
        let suppressed: BTreeSet<String> = sub.suppressed_roles.iter().cloned().collect();
        let mut info = info;
        info.id = Some(FrameworkId { value: id.clone() });
        if let Some(old) = self.frameworks.get_mut(&id) {
            // Failover: the old stream hears why it is closed; outstanding offers are discarded.
            if let Some(s) = old.stream.take() {
                self.out.push(Out::Event {
                    stream: s.clone(),
                    event: Box::new(error_event("Framework failed over")),
                });
                self.out.push(Out::Close { stream: s });
            }
            old.info = info;
            old.roles = roles;
            old.multi_role = multi_role;
            old.stream = Some(stream.clone());
            old.disconnected_at = None;
            old.suppressed = suppressed;
            self.recover_offers_of(&id);
        } else {
            self.frameworks.insert(
                id.clone(),
                Framework {
                    id: id.clone(),
                    partition_aware: caps.contains(&(Cap::PartitionAware as i32)),
                    killing_state: caps.contains(&(Cap::TaskKillingState as i32)),
                    info,
                    roles,
                    multi_role,
                    stream: Some(stream.clone()),
                    disconnected_at: None,
                    last_heartbeat: now,
                    suppressed,
                    filters: Vec::new(),
                },
            );
        }
        let f = self.frameworks.get_mut(&id).expect("just inserted");
        f.last_heartbeat = now;
        let subscribed = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: id.clone() },
                heartbeat_interval_seconds: Some(self.config.heartbeat.as_secs_f64()),
                master_info: Some(self.master_info()),
            }),
            ..Event::default()
        };
        self.send(&id, subscribed);
        self.send(
            &id,
            Event {
                r#type: Some(event::Type::Heartbeat as i32),
                ..Event::default()
            },
        );
        // Updates that were waiting for a connection go out again.
        for t in self.tasks.values_mut().filter(|t| t.framework == id) {
            if let Some(p) = t.updates.front_mut() {
                p.sent_at = None;
            }
        }
        self.next_allocation = self.next_allocation.min(now);
        Ok(stream)
    }

    fn master_info(&self) -> MasterInfo {
        MasterInfo {
            id: self.master_id.clone(),
            ip: 16_777_343,
            port: self.config.port.into(),
            pid: Some(format!("master@127.0.0.1:{}", self.config.port)),
            hostname: Some("localhost".into()),
            version: Some("1.11.0".into()),
            address: Some(proto::v1::Address {
                hostname: Some("localhost".into()),
                ip: Some("127.0.0.1".into()),
                port: i32::from(self.config.port),
            }),
            // What 1.11 knows of its capabilities (it writes a third, newer one as `{}`).
            capabilities: [
                proto::v1::master_info::capability::Type::AgentUpdate,
                proto::v1::master_info::capability::Type::AgentDraining,
            ]
            .into_iter()
            .map(|t| proto::v1::master_info::Capability {
                r#type: Some(t as i32),
            })
            .collect(),
            ..MasterInfo::default()
        }
    }

    /// The subscription stream `stream` broke (client gone, or a fault).
    pub fn stream_closed(&mut self, now: Duration, stream: &str) {
        let Some(id) = self
            .frameworks
            .values()
            .find(|f| f.stream.as_deref() == Some(stream))
            .map(|f| f.id.clone())
        else {
            return;
        };
        let f = self.frameworks.get_mut(&id).expect("found");
        f.stream = None;
        f.disconnected_at = Some(now);
        self.recover_offers_of(&id);
    }

    fn recover_offers_of(&mut self, framework: &str) {
        let ids: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.framework == framework)
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            let o = self.offers.remove(&id).expect("listed");
            self.agents[o.agent].free.add(&o.res);
        }
    }

    /// Checks a non-SUBSCRIBE call's framework and stream id as the master does.
    pub fn authorize(&self, c: &Call, stream_header: Option<&str>) -> Result<(), Refusal> {
        let id = &c.framework_id.as_ref().expect("validated").value;
        let Some(f) = self.frameworks.get(id) else {
            return Err(err(400, "Framework cannot be found"));
        };
        let Some(stream) = &f.stream else {
            return Err(err(403, "Framework is not subscribed"));
        };
        match stream_header {
            None => Err(err(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            )),
            Some(h) if h != stream => Err(err(
                400,
                format!(
                    "The stream ID '{h}' included in this request didn't match the stream ID currently associated with framework ID {id}"
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    // ----- calls -----

    /// A validated, authorized non-SUBSCRIBE call; the HTTP status to answer.
    pub fn call(&mut self, now: Duration, c: Call) -> Result<u16, Refusal> {
        let fid = c.framework_id.clone().expect("validated").value;
        match c.r#type() {
            call::Type::Teardown => {
                self.remove_framework(&fid);
                Ok(202)
            }
            call::Type::Accept => {
                let a = c.accept.expect("validated");
                self.accept(
                    now,
                    &fid,
                    &a.offer_ids,
                    &a.operations,
                    a.filters.and_then(|f| f.refuse_seconds),
                );
                Ok(202)
            }
            call::Type::Decline => {
                let d = c.decline.expect("validated");
                self.accept(
                    now,
                    &fid,
                    &d.offer_ids,
                    &[],
                    d.filters.and_then(|f| f.refuse_seconds),
                );
                Ok(202)
            }
            call::Type::Revive => {
                let roles = c.revive.map(|r| r.roles).unwrap_or_default();
                let f = self.frameworks.get_mut(&fid).expect("authorized");
                let all = roles.is_empty();
                f.filters.retain(|x| !(all || roles.contains(&x.role)));
                if all {
                    f.suppressed.clear();
                } else {
                    f.suppressed.retain(|r| !roles.contains(r));
                }
                self.next_allocation = self.next_allocation.min(now);
                Ok(202)
            }
            call::Type::Suppress => {
                let roles = c.suppress.map(|r| r.roles).unwrap_or_default();
                let f = self.frameworks.get_mut(&fid).expect("authorized");
                let roles = if roles.is_empty() { f.roles.clone() } else { roles };
                f.suppressed.extend(roles);
                Ok(202)
            }
            call::Type::Kill => {
                let k = c.kill.expect("validated");
                self.kill(
                    now,
                    &fid,
                    &k.task_id.value,
                    k.agent_id.as_ref().map(|a| a.value.as_str()),
                );
                Ok(202)
            }
            call::Type::Acknowledge => {
                let a = c.acknowledge.expect("validated");
                if a.uuid.len() != 16 {
                    return Err(err(400, "Failed to validate scheduler::Call: Not a valid UUID"));
                }
                self.acknowledge(&fid, &a.task_id.value, &a.uuid);
                Ok(202)
            }
            call::Type::Reconcile => {
                let r = c.reconcile.unwrap_or_default();
                self.reconcile(now, &fid, &r.tasks);
                Ok(202)
            }
            call::Type::UpdateFramework => Ok(200),
            call::Type::Unknown => Err(err(501, "Received an unknown call type")),
            // MESSAGE, SHUTDOWN, REQUEST, inverse offers, operation calls: accepted, no effect here.
            _ => Ok(202),
        }
    }

    fn remove_framework(&mut self, id: &str) {
        self.recover_offers_of(id);
        let keys: Vec<(String, String)> = self.tasks.keys().filter(|(f, _)| f == id).cloned().collect();
        for k in keys {
            let t = self.tasks.remove(&k).expect("listed");
            if !t.done {
                self.agents[t.agent].free.add(&t.res);
            }
        }
        if let Some(f) = self.frameworks.remove(id) {
            if let Some(s) = f.stream {
                self.out.push(Out::Close { stream: s });
            }
        }
        self.removed.insert(id.to_string());
    }

    fn master_update(
        &mut self,
        now: Duration,
        fid: &str,
        task: &str,
        agent: Option<&str>,
        (state, reason): (TaskState, task_status::Reason),
        message: &str,
    ) {
        let status = TaskStatus {
            task_id: TaskId { value: task.into() },
            state: state as i32,
            message: Some(message.into()),
            source: Some(task_status::Source::Master as i32),
            reason: Some(reason as i32),
            agent_id: agent.map(|a| AgentId { value: a.into() }),
            timestamp: Some(self.config.epoch + now.as_secs_f64()),
            ..TaskStatus::default()
        };
        self.send(fid, update_event(status));
    }

    fn accept(
        &mut self,
        now: Duration,
        fid: &str,
        offer_ids: &[OfferId],
        ops: &[offer::Operation],
        refuse: Option<f64>,
    ) {
        let partition_aware = self.frameworks[fid].partition_aware;
        // Whole-call validation.
        let mut problem = None;
        let mut seen = BTreeSet::new();
        if offer_ids.is_empty() {
            problem = Some("No offer IDs specified".to_string());
        }
        for id in offer_ids {
            if !seen.insert(id.value.clone()) {
                problem.get_or_insert(format!("Duplicate offer {} in ACCEPT call", id.value));
            }
            match self.offers.get(&id.value) {
                None => {
                    problem.get_or_insert(format!("Offer {} is no longer valid", id.value));
                }
                Some(o) if o.framework != fid => {
                    problem.get_or_insert(format!("Offer {} is not owned by this framework", id.value));
                }
                _ => {}
            }
        }
        let valid: Vec<&OfferState> = offer_ids
            .iter()
            .filter_map(|i| self.offers.get(&i.value))
            .filter(|o| o.framework == fid)
            .collect();
        if valid.windows(2).any(|w| w[0].agent != w[1].agent) {
            problem.get_or_insert("Aggregated offers must belong to one single agent".into());
        }
        if valid.windows(2).any(|w| w[0].role != w[1].role) {
            problem.get_or_insert("Aggregated offers must be allocated to the same role".into());
        }
        // Take the valid offers out either way.
        let mut pool = Res::default();
        let mut agent = None;
        let mut role = String::from("*");
        for id in offer_ids {
            if self.offers.get(&id.value).is_some_and(|o| o.framework == fid) {
                let o = self.offers.remove(&id.value).expect("checked");
                pool.add(&o.res);
                agent = Some(o.agent);
                role = o.role;
            }
        }
        let tasks_of = |op: &offer::Operation| -> Vec<TaskInfo> {
            let mut v: Vec<TaskInfo> = op
                .launch
                .as_ref()
                .map(|l| l.task_infos.clone())
                .unwrap_or_default();
            if let Some(g) = &op.launch_group {
                v.extend(g.task_group.tasks.iter().cloned());
            }
            v
        };
        if let Some(problem) = problem {
            if let Some(a) = agent {
                self.agents[a].free.add(&pool);
            }
            let state = if partition_aware {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            for op in ops {
                for t in tasks_of(op) {
                    let msg = format!("Task launched with invalid offers: {problem}");
                    self.master_update(
                        now,
                        fid,
                        &t.task_id.value,
                        Some(&t.agent_id.value),
                        (state, task_status::Reason::InvalidOffers),
                        &msg,
                    );
                }
            }
            return;
        }
        let Some(a) = agent else { return };
        for op in ops {
            for t in tasks_of(op) {
                let res = Res::from_mesos(&t.resources);
                let invalid = match &res {
                    Err(e) => Some(e.clone()),
                    Ok(r) if r.is_empty() => Some("Task uses no resources".into()),
                    Ok(_) if t.agent_id.value != self.agents[a].id => Some(format!(
                        "Task uses agent ID {} that does not match the offer's {}",
                        t.agent_id.value, self.agents[a].id
                    )),
                    Ok(_)
                        if self
                            .tasks
                            .contains_key(&(fid.to_string(), t.task_id.value.clone())) =>
                    {
                        Some(format!("Task has duplicate ID: {}", t.task_id.value))
                    }
                    Ok(_) if t.command.is_none() && t.executor.is_none() && op.launch_group.is_none() => Some(
                        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                            .into(),
                    ),
                    Ok(r) if !r.within(&pool) => {
                        Some("Task uses more resources than available in the offer".into())
                    }
                    Ok(_) => None,
                };
                if let Some(why) = invalid {
                    self.master_update(
                        now,
                        fid,
                        &t.task_id.value,
                        Some(&t.agent_id.value),
                        (TaskState::TaskError, task_status::Reason::TaskInvalid),
                        &why,
                    );
                    continue;
                }
                let res = res.expect("checked");
                pool.sub(&res).expect("checked within");
                self.launch(now, fid, a, &t, res);
            }
        }
        // The rest is declined with the call's filter.
        self.agents[a].free.add(&pool);
        let refuse = refuse
            .filter(|r| r.is_finite() && *r >= 0.0)
            .unwrap_or(5.0)
            .min(365.0 * 86400.0);
        if refuse > 0.0 && !pool.is_empty() {
            let refusal = RefusalFilter::new(
                now,
                Duration::from_secs_f64(refuse),
                self.config.allocation_interval,
                pool,
            );
            self.frameworks
                .get_mut(fid)
                .expect("authorized")
                .filters
                .push(Filter {
                    agent: a,
                    role,
                    refusal,
                });
        }
    }

    fn launch(&mut self, now: Duration, fid: &str, agent: usize, t: &TaskInfo, res: Res) {
        self.runs.entry(t.task_id.value.clone()).or_default().0 += 1;
        let unit = SplitMix64::next_f64;
        let run = match &self.config.run {
            RunModel::Command => None,
            RunModel::Fixed(d) => Some(*d),
            RunModel::Uniform { min, max } => {
                Some(*min + max.saturating_sub(*min).mul_f64(unit(&mut self.rng)))
            }
            RunModel::Exponential(mean) => Some(mean.mul_f64(-(1.0 - unit(&mut self.rng)).ln())),
        };
        let (run, exit) = match run {
            None => command_model(t),
            Some(d) => (d, i32::from(unit(&mut self.rng) < self.config.fail_ratio)),
        };
        let start = now + Duration::from_millis(5) + self.delay_updates;
        let mut script = VecDeque::new();
        script.push_back((start, TaskState::TaskStarting, String::new()));
        script.push_back((
            start + Duration::from_millis(5),
            TaskState::TaskRunning,
            String::new(),
        ));
        let (state, message) = if exit == 0 {
            (TaskState::TaskFinished, String::new())
        } else {
            (
                TaskState::TaskFailed,
                format!("Command exited with status {exit}"),
            )
        };
        script.push_back((start + Duration::from_millis(10) + run, state, message));
        let container = ContainerStatus {
            container_id: Some(ContainerId {
                value: uuid_text(&mut self.rng),
                parent: None,
            }),
            network_infos: vec![NetworkInfo {
                ip_addresses: vec![proto::v1::network_info::IpAddress {
                    protocol: Some(proto::v1::network_info::Protocol::IPv4 as i32),
                    ip_address: Some("127.0.0.1".into()),
                }],
                ..NetworkInfo::default()
            }],
            executor_pid: Some(20_000 + (self.next_offer % 10_000) as u32 + self.tasks.len() as u32),
            ..ContainerStatus::default()
        };
        self.tasks.insert(
            (fid.to_string(), t.task_id.value.clone()),
            Task {
                framework: fid.to_string(),
                agent,
                res,
                state: TaskState::TaskStaging,
                script,
                updates: VecDeque::new(),
                done: false,
                container,
            },
        );
    }

    fn kill(&mut self, now: Duration, fid: &str, task: &str, agent: Option<&str>) {
        let killing = self.frameworks[fid].killing_state;
        let key = (fid.to_string(), task.to_string());
        match self.tasks.get_mut(&key) {
            Some(t) if !terminal(t.state) && t.script.back().is_none_or(|s| s.1 != TaskState::TaskKilled) => {
                t.script.clear();
                let at = now + Duration::from_millis(5);
                if killing {
                    t.script.push_back((
                        at,
                        TaskState::TaskKilling,
                        "Command terminated with signal Terminated".into(),
                    ));
                }
                t.script.push_back((
                    at + Duration::from_millis(5),
                    TaskState::TaskKilled,
                    "Command terminated with signal Terminated".into(),
                ));
            }
            Some(_) => {}
            None => self.reconcile_one(now, fid, task, agent),
        }
    }

    fn acknowledge(&mut self, fid: &str, task: &str, uuid: &[u8]) {
        let key = (fid.to_string(), task.to_string());
        let Some(t) = self.tasks.get_mut(&key) else { return };
        if t.updates
            .front()
            .is_some_and(|p| p.status.uuid.as_deref() == Some(uuid))
        {
            let p = t.updates.pop_front().expect("checked");
            if terminal(p.status.state()) && t.updates.is_empty() && t.script.is_empty() {
                self.tasks.remove(&key);
            }
        }
    }

    fn reconcile(&mut self, now: Duration, fid: &str, list: &[call::reconcile::Task]) {
        if list.is_empty() {
            let known: Vec<String> = self
                .tasks
                .keys()
                .filter(|(f, _)| f == fid)
                .map(|(_, id)| id.clone())
                .collect();
            for id in known {
                self.reconcile_known(now, fid, &id);
            }
            return;
        }
        for t in list {
            self.reconcile_one(
                now,
                fid,
                &t.task_id.value,
                t.agent_id.as_ref().map(|a| a.value.as_str()),
            );
        }
    }

    /// The master's answer about a task it knows: its latest state, with the container status
    /// the agent reported.
    fn reconcile_known(&mut self, now: Duration, fid: &str, task: &str) {
        let t = &self.tasks[&(fid.to_string(), task.to_string())];
        let status = TaskStatus {
            task_id: TaskId { value: task.into() },
            state: t.state as i32,
            message: Some("Reconciliation: Latest task state".into()),
            source: Some(task_status::Source::Master as i32),
            reason: Some(task_status::Reason::Reconciliation as i32),
            agent_id: Some(AgentId {
                value: self.agents[t.agent].id.clone(),
            }),
            timestamp: Some(self.config.epoch + now.as_secs_f64()),
            container_status: Some(t.container.clone()),
            ..TaskStatus::default()
        };
        self.send(fid, update_event(status));
    }

    fn reconcile_one(&mut self, now: Duration, fid: &str, task: &str, agent: Option<&str>) {
        use task_status::Reason::Reconciliation as R;
        if self.tasks.contains_key(&(fid.to_string(), task.to_string())) {
            return self.reconcile_known(now, fid, task);
        }
        let partition_aware = self.frameworks[fid].partition_aware;
        match agent {
            Some(a) if self.agents.iter().any(|x| x.id == a && x.active) => {
                let s = if partition_aware {
                    TaskState::TaskGone
                } else {
                    TaskState::TaskLost
                };
                self.master_update(
                    now,
                    fid,
                    task,
                    Some(a),
                    (s, R),
                    "Reconciliation: Task is unknown to the agent",
                );
            }
            Some(a) if self.agents.iter().any(|x| x.id == a) => {
                let s = if partition_aware {
                    TaskState::TaskGoneByOperator
                } else {
                    TaskState::TaskLost
                };
                self.master_update(now, fid, task, Some(a), (s, R), "Reconciliation: Task is unknown");
            }
            _ => self.master_update(
                now,
                fid,
                task,
                None,
                (TaskState::TaskUnknown, R),
                "Reconciliation: Task is unknown",
            ),
        }
    }

    // ----- clock -----

    /// The earliest time [`tick`](MasterState::tick) has work.
    pub fn next_deadline(&self) -> Duration {
        let mut d = self.next_allocation;
        for f in self.frameworks.values() {
            if f.stream.is_some() {
                d = d.min(f.last_heartbeat + self.config.heartbeat);
            } else if let Some(at) = f.disconnected_at {
                d = d.min(at + failover_timeout(&f.info));
            }
        }
        for t in self.tasks.values() {
            if let Some(s) = t.script.front() {
                d = d.min(s.0);
            }
            if let Some(p) = t.updates.front() {
                d = d.min(p.sent_at.map_or(Duration::ZERO, |s| s + p.resend_after));
            }
        }
        d
    }

    /// Advances to `now`: task transitions, update (re)sends, heartbeats, failover timeouts,
    /// allocation.
    pub fn tick(&mut self, now: Duration) {
        // Transitions become reliable updates.
        let keys: Vec<(String, String)> = self.tasks.keys().cloned().collect();
        for k in &keys {
            let agent_id;
            {
                let t = &self.tasks[k];
                agent_id = self.agents[t.agent].id.clone();
            }
            while self.tasks[k].script.front().is_some_and(|s| s.0 <= now) {
                let uuid = self.random_bytes();
                let t = self.tasks.get_mut(k).expect("listed");
                let (_, state, message) = t.script.pop_front().expect("checked");
                t.state = state;
                if state == TaskState::TaskFinished {
                    self.runs.entry(k.1.clone()).or_default().1 += 1;
                }
                let t = self.tasks.get_mut(k).expect("listed");
                if terminal(state) && !t.done {
                    t.done = true;
                    let res = t.res.clone();
                    self.agents[t.agent].free.add(&res);
                }
                let status = TaskStatus {
                    task_id: TaskId { value: k.1.clone() },
                    state: state as i32,
                    message: Some(message),
                    source: Some(task_status::Source::Executor as i32),
                    agent_id: Some(AgentId {
                        value: agent_id.clone(),
                    }),
                    executor_id: Some(ExecutorId { value: k.1.clone() }),
                    timestamp: Some(self.config.epoch + now.as_secs_f64()),
                    uuid: Some(uuid),
                    container_status: Some(self.tasks[k].container.clone()),
                    ..TaskStatus::default()
                };
                let t = self.tasks.get_mut(k).expect("listed");
                t.updates.push_back(Pending {
                    status,
                    sent_at: None,
                    resend_after: self.config.update_resend,
                });
                if terminal(state) {
                    t.script.clear();
                }
            }
        }
        // Head updates go out (again).
        let connected: BTreeSet<String> = self
            .frameworks
            .values()
            .filter(|f| f.stream.is_some())
            .map(|f| f.id.clone())
            .collect();
        let mut sends = Vec::new();
        for t in self.tasks.values_mut() {
            if !connected.contains(&t.framework) {
                continue;
            }
            if let Some(p) = t.updates.front_mut() {
                match p.sent_at {
                    None => {
                        p.sent_at = Some(now);
                        sends.push((t.framework.clone(), p.status.clone()));
                    }
                    Some(s) if now >= s + p.resend_after => {
                        p.sent_at = Some(now);
                        p.resend_after = (p.resend_after * 2).min(Duration::from_secs(600));
                        sends.push((t.framework.clone(), p.status.clone()));
                    }
                    _ => {}
                }
            }
        }
        for (f, s) in sends {
            if self.duplicate_updates {
                self.send(&f, update_event(s.clone()));
            }
            self.send(&f, update_event(s));
        }
        // Heartbeats and failover timeouts.
        let ids: Vec<String> = self.frameworks.keys().cloned().collect();
        for id in ids {
            let f = &self.frameworks[&id];
            if f.stream.is_some() && now >= f.last_heartbeat + self.config.heartbeat {
                self.frameworks.get_mut(&id).expect("listed").last_heartbeat = now;
                self.send(
                    &id,
                    Event {
                        r#type: Some(event::Type::Heartbeat as i32),
                        ..Event::default()
                    },
                );
            } else if f
                .disconnected_at
                .is_some_and(|at| now >= at + failover_timeout(&f.info))
            {
                self.remove_framework(&id);
            }
        }
        if now >= self.next_allocation {
            self.allocate(now);
            self.next_allocation = now + self.config.allocation_interval;
        }
    }

    fn allocate(&mut self, now: Duration) {
        let ids: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| f.stream.is_some())
            .map(|f| f.id.clone())
            .collect();
        // Round robin: start with a different framework each cycle.
        let n = ids.len().max(1);
        let start = (now.as_millis() / self.config.allocation_interval.as_millis().max(1)) as usize % n;
        let mut batches: BTreeMap<String, Vec<Offer>> = BTreeMap::new();
        for k in 0..ids.len() {
            let fid = ids[(start + k) % n].clone();
            let roles: Vec<String> = {
                let f = &self.frameworks[&fid];
                f.roles
                    .iter()
                    .filter(|r| !f.suppressed.contains(*r))
                    .cloned()
                    .collect()
            };
            for role in roles {
                for a in 0..self.agents.len() {
                    if !self.agents[a].active || self.agents[a].free.is_empty() {
                        continue;
                    }
                    let free = self.agents[a].free.clone();
                    let f = self.frameworks.get_mut(&fid).expect("listed");
                    f.filters.retain(|x| x.refusal.in_force(now));
                    if f.filters
                        .iter()
                        .any(|x| x.agent == a && x.role == role && x.refusal.holds_back(now, &free))
                    {
                        continue;
                    }
                    let multi = f.multi_role;
                    let id = format!("{}-O{}", self.master_id, self.next_offer);
                    self.next_offer += 1;
                    self.agents[a].free = Res::default();
                    let agent = &self.agents[a];
                    let o = Offer {
                        id: OfferId { value: id.clone() },
                        framework_id: FrameworkId { value: fid.clone() },
                        agent_id: AgentId {
                            value: agent.id.clone(),
                        },
                        hostname: agent.spec.hostname.clone(),
                        resources: free.to_mesos(multi.then_some(role.as_str())),
                        attributes: agent.spec.attributes(),
                        url: Some(proto::v1::Url {
                            scheme: "http".into(),
                            address: proto::v1::Address {
                                hostname: Some("localhost".into()),
                                ip: Some("127.0.0.1".into()),
                                port: i32::from(self.config.port),
                            },
                            path: Some(format!("/slave({})", a + 1)),
                            ..proto::v1::Url::default()
                        }),
                        allocation_info: multi.then(|| proto::v1::resource::AllocationInfo {
                            role: Some(role.clone()),
                        }),
                        ..Offer::default()
                    };
                    self.offers.insert(
                        id,
                        OfferState {
                            framework: fid.clone(),
                            agent: a,
                            role: role.clone(),
                            res: free,
                        },
                    );
                    batches.entry(fid.clone()).or_default().push(o);
                }
            }
        }
        for (fid, offers) in batches {
            self.send(
                &fid,
                Event {
                    r#type: Some(event::Type::Offers as i32),
                    offers: Some(event::Offers { offers }),
                    ..Event::default()
                },
            );
        }
    }

    // ----- faults -----

    /// Fault: closes every subscription stream (frameworks must re-subscribe).
    pub fn drop_streams(&mut self, now: Duration) {
        let streams: Vec<String> = self
            .frameworks
            .values()
            .filter_map(|f| f.stream.clone())
            .collect();
        for s in streams {
            self.out.push(Out::Close { stream: s.clone() });
            self.stream_closed(now, &s);
        }
    }

    /// Fault: agent `index` is lost: its offers are rescinded, its tasks reported lost (gone for
    /// partition-aware frameworks) by the master, then FAILURE. Returns false for a bad index.
    pub fn lose_agent(&mut self, now: Duration, index: usize) -> bool {
        let Some(agent) = self.agents.get_mut(index) else {
            return false;
        };
        if !agent.active {
            return true;
        }
        agent.active = false;
        let agent_id = agent.id.clone();
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.agent == index)
            .map(|(k, _)| k.clone())
            .collect();
        for id in offers {
            let o = self.offers.remove(&id).expect("listed");
            self.send(
                &o.framework,
                Event {
                    r#type: Some(event::Type::Rescind as i32),
                    rescind: Some(event::Rescind {
                        offer_id: OfferId { value: id },
                    }),
                    ..Event::default()
                },
            );
        }
        let keys: Vec<(String, String)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.agent == index)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            let t = self.tasks.remove(&k).expect("listed");
            if t.done && t.updates.is_empty() {
                continue;
            }
            let pa = self.frameworks.get(&k.0).is_some_and(|f| f.partition_aware);
            let s = if pa {
                TaskState::TaskGone
            } else {
                TaskState::TaskLost
            };
            self.master_update(
                now,
                &k.0,
                &k.1,
                Some(&agent_id),
                (s, task_status::Reason::AgentRemoved),
                "Agent removed",
            );
        }
        // Every framework hears of the lost agent, whether it had tasks there or not.
        let frameworks: Vec<String> = self.frameworks.keys().cloned().collect();
        for f in frameworks {
            self.send(
                &f,
                Event {
                    r#type: Some(event::Type::Failure as i32),
                    failure: Some(event::Failure {
                        agent_id: Some(AgentId {
                            value: agent_id.clone(),
                        }),
                        executor_id: None,
                        status: None,
                    }),
                    ..Event::default()
                },
            );
        }
        true
    }

    /// Per task id (over all frameworks): how often it was launched and how often it finished.
    pub fn runs(&self) -> &BTreeMap<String, (u32, u32)> {
        &self.runs
    }

    /// The number of agents.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// A `/state`-style summary: frameworks, agents and tasks (a small subset of the real one).
    pub fn state_json(&self) -> serde_json::Value {
        use serde_json::json;
        let task = |(k, t): (&(String, String), &Task)| json!({"id": k.1, "framework_id": k.0, "slave_id": self.agents[t.agent].id, "state": t.state.as_str_name()});
        json!({
            "version": "1.11.0",
            "id": self.master_id,
            "activated_slaves": self.agents.iter().filter(|a| a.active).count(),
            "slaves": self.agents.iter().map(|a| json!({"id": a.id, "hostname": a.spec.hostname, "active": a.active,
                "resources": a.total.scalars.to_vec()})).collect::<Vec<_>>(),
            "frameworks": self.frameworks.values().map(|f| json!({"id": f.id, "name": f.info.name, "active": f.stream.is_some(),
                "tasks": self.tasks.iter().filter(|(k, _)| k.0 == f.id).map(task).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "completed_frameworks": self.removed.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        })
    }

    /// Whether `id` names a removed framework.
    pub fn is_removed(&self, id: &str) -> bool {
        self.removed.contains(id)
    }
}

fn failover_timeout(info: &FrameworkInfo) -> Duration {
    Duration::from_secs_f64(info.failover_timeout.unwrap_or(0.0).clamp(0.0, 1e9))
}

/// How long a task runs and how it exits under [`RunModel::Command`]: `sleep N` runs N seconds,
/// `exit K` (or `false`) fails with K (1), anything else finishes at once with 0.
fn command_model(t: &TaskInfo) -> (Duration, i32) {
    let cmd = t
        .command
        .as_ref()
        .and_then(|c| c.value.clone())
        .unwrap_or_default();
    let mut run = Duration::ZERO;
    let mut exit = 0;
    for part in cmd.split([';', '&']).map(str::trim) {
        let mut words = part.split_whitespace();
        match (words.next(), words.next()) {
            (Some("sleep"), Some(n)) => {
                run += Duration::from_secs_f64(n.parse::<f64>().unwrap_or(0.0).clamp(0.0, 86400.0));
            }
            (Some("exit"), Some(k)) => {
                exit = k.parse().unwrap_or(1);
                break;
            }
            (Some("false"), _) => {
                exit = 1;
                break;
            }
            _ => {}
        }
    }
    (run, exit)
}

fn update_event(status: TaskStatus) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update { status }),
        ..Event::default()
    }
}

/// An ERROR event.
pub fn error_event(message: &str) -> Event {
    Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error {
            message: message.into(),
        }),
        ..Event::default()
    }
}

/// A version-4 UUID in text form from the generator.
pub fn uuid_text(rng: &mut SplitMix64) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(run: RunModel, fail_ratio: f64) -> MasterState {
        let config = MasterConfig {
            run,
            fail_ratio,
            seed: 7,
            ..MasterConfig::default()
        };
        MasterState::new(config, vec![AgentSpec::new("a", 100.0, 100_000.0, 0.0)])
    }

    fn subscribe(m: &mut MasterState, failover: f64) -> (String, String) {
        let c = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: FrameworkInfo {
                    user: "u".into(),
                    name: "n".into(),
                    failover_timeout: Some(failover),
                    ..FrameworkInfo::default()
                },
                ..call::Subscribe::default()
            }),
            ..Call::default()
        };
        let stream = m.subscribe(Duration::ZERO, &c).unwrap();
        let fid = format!("{}-0000", m.master_id());
        (stream, fid)
    }

    fn events(m: &mut MasterState) -> Vec<Event> {
        m.take_out()
            .into_iter()
            .filter_map(|o| {
                if let Out::Event { event, .. } = o {
                    Some(*event)
                } else {
                    None
                }
            })
            .collect()
    }

    /// Launches `n` tiny tasks, acknowledges everything, and returns (final states, run times).
    fn run_tasks(m: &mut MasterState, n: usize) -> Vec<(TaskState, f64)> {
        let (_, fid) = subscribe(m, 60.0);
        m.tick(Duration::ZERO);
        let offer = events(m)
            .into_iter()
            .find_map(|e| e.offers)
            .unwrap()
            .offers
            .remove(0);
        let tasks: Vec<TaskInfo> = (0..n)
            .map(|i| {
                let mut t = proto::build::command_task(&format!("t{i}"), "true", 0.01, 1.0);
                t.agent_id = offer.agent_id.clone();
                t
            })
            .collect();
        let launch = offer::Operation {
            r#type: Some(offer::operation::Type::Launch as i32),
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        };
        let call = Call {
            framework_id: Some(FrameworkId { value: fid.clone() }),
            r#type: Some(call::Type::Accept as i32),
            accept: Some(call::Accept {
                offer_ids: vec![offer.id],
                operations: vec![launch],
                filters: None,
            }),
            ..Call::default()
        };
        assert_eq!(m.call(Duration::ZERO, call), Ok(202));
        let mut done = Vec::new();
        let mut started = BTreeMap::new();
        let mut now = Duration::ZERO;
        while done.len() < n && now < Duration::from_secs(3600) {
            now += Duration::from_millis(50);
            m.tick(now);
            for e in events(m) {
                let Some(u) = e.update else { continue };
                let s = u.status;
                if s.state() == TaskState::TaskRunning {
                    started.insert(s.task_id.value.clone(), now);
                }
                if terminal(s.state()) {
                    done.push((s.state(), (now - started[&s.task_id.value]).as_secs_f64()));
                }
                m.acknowledge(&fid, &s.task_id.value, s.uuid.as_deref().unwrap());
            }
        }
        done
    }

    #[test]
    fn random_run_models_draw_times_and_failures() {
        let runs = run_tasks(
            &mut master(
                RunModel::Uniform {
                    min: Duration::from_secs(2),
                    max: Duration::from_secs(4),
                },
                0.25,
            ),
            200,
        );
        assert_eq!(runs.len(), 200);
        assert!(runs.iter().all(|&(_, t)| (1.9..=4.2).contains(&t)), "{runs:?}");
        let failed = runs.iter().filter(|r| r.0 == TaskState::TaskFailed).count();
        assert!(
            (25..=75).contains(&failed),
            "{failed} of 200 failed at ratio 0.25"
        );
        let runs = run_tasks(
            &mut master(RunModel::Exponential(Duration::from_secs(2)), 0.0),
            200,
        );
        let mean = runs.iter().map(|r| r.1).sum::<f64>() / 200.0;
        assert!((1.5..=2.6).contains(&mean), "mean {mean}");
        assert!(runs.iter().all(|r| r.0 == TaskState::TaskFinished));
    }

    #[test]
    fn a_disconnected_framework_is_removed_after_its_failover_timeout() {
        let mut m = master(RunModel::Command, 0.0);
        let (stream, fid) = subscribe(&mut m, 5.0);
        let suppress = Call {
            framework_id: Some(FrameworkId { value: fid.clone() }),
            r#type: Some(call::Type::Suppress as i32),
            ..Call::default()
        };
        m.stream_closed(Duration::from_secs(1), &stream);
        assert_eq!(m.authorize(&suppress, Some(&stream)).unwrap_err().0, 403);
        m.tick(Duration::from_secs(5));
        assert_eq!(m.authorize(&suppress, Some(&stream)).unwrap_err().0, 403);
        m.tick(Duration::from_secs(6));
        assert_eq!(
            m.authorize(&suppress, Some(&stream)).unwrap_err(),
            (400, "Framework cannot be found".to_string())
        );
        assert!(m.is_removed(&fid));
    }
}
