//! The emulated master's state machine: frameworks, agents, offers, filters, tasks and their
//! reliable status-update streams, driven by calls and a clock. No I/O: the HTTP server feeds it
//! and carries its [`Out`] messages to the subscription streams. Rules follow
//! `shared/mesos/PROTOCOL.md` §2 as observed on Mesos 1.11.0.

mod allocation;
mod calls;
mod frameworks;

use allocation::update_event;
use frameworks::failover_timeout;

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
    /// GPU_RESOURCES: without it, agents with GPUs are never offered to it (as the real
    /// allocator's `--filter_gpu_resources`, on by default).
    gpu_resources: bool,
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

    /// Checks that resources are conserved on every active agent — free, offered and used by
    /// unfinished tasks add up to its total — and so that no offer exceeds what its agent has
    /// unallocated. For tests and debug assertions.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (a, agent) in self.agents.iter().enumerate() {
            if !agent.active {
                continue;
            }
            let mut sum = agent.free.clone();
            for (id, o) in self.offers.iter().filter(|(_, o)| o.agent == a) {
                if !o.res.within(&agent.total) {
                    return Err(format!(
                        "offer {id} of {:?} exceeds agent {}'s {:?}",
                        o.res, agent.id, agent.total
                    ));
                }
                sum.add(&o.res);
            }
            for t in self.tasks.values().filter(|t| t.agent == a && !t.done) {
                sum.add(&t.res);
            }
            if sum != agent.total {
                return Err(format!(
                    "agent {}: free + offered + used = {sum:?}, total {:?}",
                    agent.id, agent.total
                ));
            }
        }
        Ok(())
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

    // ----- calls -----

    // ----- clock -----

    // ----- faults -----

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
    use proto::v1::Filters;

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

    /// An ACCEPT of `offers` launching tasks of `sizes` (cpus) on the first offer's agent, or a
    /// DECLINE when `sizes` is empty.
    fn answer(fid: &str, offers: &[Offer], sizes: &[u8], decline: bool) -> Call {
        let ids: Vec<OfferId> = offers.iter().map(|o| o.id.clone()).collect();
        let framework_id = Some(FrameworkId { value: fid.into() });
        if decline {
            return Call {
                framework_id,
                r#type: Some(call::Type::Decline as i32),
                decline: Some(call::Decline {
                    offer_ids: ids,
                    filters: Some(Filters {
                        refuse_seconds: Some(0.0),
                    }),
                }),
                ..Call::default()
            };
        }
        let agent = offers.first().map(|o| o.agent_id.clone()).unwrap_or_default();
        let tasks = sizes
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let mut t =
                    proto::build::command_task(&format!("t{}-{i}", ids.len()), "sleep 3", f64::from(c), 64.0);
                t.task_id.value = format!("{}-{i}", ids.first().map_or("x", |o| o.value.as_str()));
                t.agent_id = agent.clone();
                t
            })
            .collect();
        Call {
            framework_id,
            r#type: Some(call::Type::Accept as i32),
            accept: Some(call::Accept {
                offer_ids: ids,
                operations: vec![offer::Operation {
                    r#type: Some(offer::operation::Type::Launch as i32),
                    launch: Some(offer::operation::Launch { task_infos: tasks }),
                    ..Default::default()
                }],
                filters: Some(Filters {
                    refuse_seconds: Some(0.0),
                }),
            }),
            ..Call::default()
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// The review's case and its kin: whatever a framework answers (offers of several agents
        /// declined or accepted together, tasks too large for their agent, partial launches),
        /// resources are conserved on every agent and no offer exceeds its agent.
        #[test]
        fn no_offer_ever_exceeds_its_agent(
            steps in proptest::collection::vec((0u8..4, proptest::collection::vec(0u8..6, 0..4), 0u8..8), 1..40),
        ) {
            let agents = (0..3).map(|i| AgentSpec::new(format!("a{i}"), 4.0, 4096.0, 1000.0)).collect();
            let config = MasterConfig { run: RunModel::Command, seed: 3, ..MasterConfig::default() };
            let mut m = MasterState::new(config, agents);
            let (_, fid) = subscribe(&mut m, 60.0);
            let mut now = Duration::ZERO;
            let mut held: Vec<Offer> = Vec::new();
            for (kind, sizes, pick) in steps {
                now += Duration::from_millis(700);
                m.tick(now);
                for e in events(&mut m) {
                    if let Some(o) = e.offers {
                        for offer in &o.offers {
                            let cpus: f64 = offer.resources.iter().filter(|r| r.name == "cpus").filter_map(|r| r.scalar.as_ref()).map(|s| s.value).sum();
                            proptest::prop_assert!(cpus <= 4.0, "offer {} of {cpus} cpus on a 4-cpu agent", offer.id.value);
                        }
                        held.extend(o.offers);
                    }
                }
                if held.is_empty() {
                    continue;
                }
                // A subset of the held offers, chosen by the bits of `pick` (at least one).
                let chosen: Vec<Offer> = held
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| pick & (1 << (i % 8)) != 0 || *i == 0)
                    .map(|(_, o)| o.clone())
                    .collect();
                held.retain(|o| !chosen.iter().any(|c| c.id == o.id));
                let call = answer(&fid, &chosen, &sizes, kind == 0);
                let _ = m.call(now, call);
                if let Err(e) = m.check_invariants() {
                    proptest::prop_assert!(false, "{e}");
                }
            }
        }
    }
}
