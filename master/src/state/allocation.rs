//! Time: the allocation cycle that makes offers (with refusal filters), task runs and their
//! status updates (resent until acknowledged), and the faults (dropped streams, lost agents).

#[allow(clippy::wildcard_imports)]
use super::*;

impl MasterState {
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
        // Transitions become reliable updates (only the tasks with one due are visited twice).
        let keys: Vec<(String, String)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.script.front().is_some_and(|s| s.0 <= now))
            .map(|(k, _)| k.clone())
            .collect();
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

    pub(super) fn allocate(&mut self, now: Duration) {
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
                    if self.agents[a].spec.scalars[3] > 0.0 && !self.frameworks[&fid].gpu_resources {
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

    pub(super) fn launch(&mut self, now: Duration, fid: &str, agent: usize, t: &TaskInfo, res: Res) {
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
}

/// How long a task runs and how it exits under [`RunModel::Command`]: `sleep N` runs N seconds,
/// `exit K` (or `false`) fails with K (1), anything else finishes at once with 0.
pub(super) fn command_model(t: &TaskInfo) -> (Duration, i32) {
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

pub(super) fn update_event(status: TaskStatus) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update { status }),
        ..Event::default()
    }
}
