//! The calls a subscribed framework makes: ACCEPT (validated as a whole, then task by task), DECLINE,
//! KILL, ACKNOWLEDGE and RECONCILE, and the updates the master itself sends in answer.

#[allow(clippy::wildcard_imports)]
use super::*;

impl MasterState {
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
                // Each offer goes back to its own agent, filtered for this framework, as the real
                // master recovers declined offers one by one (offers of several agents may be
                // declined together; an ACCEPT must keep to one agent).
                let d = c.decline.expect("validated");
                let refuse = d.filters.and_then(|f| f.refuse_seconds);
                for id in &d.offer_ids {
                    if self.offers.get(&id.value).is_some_and(|o| o.framework == fid) {
                        let o = self.offers.remove(&id.value).expect("checked");
                        self.decline_rest(now, &fid, o.agent, o.role, o.res, refuse);
                    }
                }
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

    pub(super) fn master_update(
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

    pub(super) fn accept(
        &mut self,
        now: Duration,
        fid: &str,
        offer_ids: &[OfferId],
        ops: &[offer::Operation],
        refuse: Option<f64>,
    ) {
        let problem = self.accept_problem(fid, offer_ids);
        // Take the valid offers out either way.
        let mut taken: Vec<OfferState> = Vec::new();
        for id in offer_ids {
            if self.offers.get(&id.value).is_some_and(|o| o.framework == fid) {
                taken.extend(self.offers.remove(&id.value));
            }
        }
        if let Some(problem) = problem {
            // Each offer's resources go back to its own agent: an invalid ACCEPT may name offers
            // of several agents, and no agent may ever be offered more than it has.
            for o in taken {
                self.agents[o.agent].free.add(&o.res);
            }
            let state = if self.frameworks[fid].partition_aware {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            for t in ops.iter().flat_map(tasks_of) {
                let msg = format!("Task launched with invalid offers: {problem}");
                let reason = (state, task_status::Reason::InvalidOffers);
                self.master_update(now, fid, &t.task_id.value, Some(&t.agent_id.value), reason, &msg);
            }
            return;
        }
        // Valid: every offer is of one agent and one role.
        let Some(first) = taken.first() else { return };
        let (a, role) = (first.agent, first.role.clone());
        let mut pool = Res::default();
        for o in &taken {
            pool.add(&o.res);
        }
        for op in ops {
            for t in tasks_of(op) {
                let res = Res::from_mesos(&t.resources);
                let invalid = match &res {
                    Err(e) => Some(e.clone()),
                    Ok(r) => self.task_problem(fid, a, op, &t, r, &pool),
                };
                if let Some(why) = invalid {
                    let reason = (TaskState::TaskError, task_status::Reason::TaskInvalid);
                    self.master_update(now, fid, &t.task_id.value, Some(&t.agent_id.value), reason, &why);
                    continue;
                }
                let res = res.expect("checked");
                pool.sub(&res).expect("checked within");
                self.launch(now, fid, a, &t, res);
            }
        }
        self.decline_rest(now, fid, a, role, pool, refuse);
    }

    /// What makes an ACCEPT call invalid as a whole (§2.7: checked before any task), if anything.
    pub(super) fn accept_problem(&self, fid: &str, offer_ids: &[OfferId]) -> Option<String> {
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
        problem
    }

    /// Why task `t` (resources `r`) of operation `op` cannot launch on agent `a` from `pool`.
    pub(super) fn task_problem(
        &self,
        fid: &str,
        a: usize,
        op: &offer::Operation,
        t: &TaskInfo,
        r: &Res,
        pool: &Res,
    ) -> Option<String> {
        if r.is_empty() {
            Some("Task uses no resources".into())
        } else if t.agent_id.value != self.agents[a].id {
            Some(format!(
                "Task uses agent ID {} that does not match the offer's {}",
                t.agent_id.value, self.agents[a].id
            ))
        } else if self
            .tasks
            .contains_key(&(fid.to_string(), t.task_id.value.clone()))
        {
            Some(format!("Task has duplicate ID: {}", t.task_id.value))
        } else if t.command.is_none() && t.executor.is_none() && op.launch_group.is_none() {
            Some("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present".into())
        } else if !r.within(pool) {
            Some("Task uses more resources than available in the offer".into())
        } else {
            None
        }
    }

    /// What an ACCEPT leaves of its offers goes back to the agent, filtered for the framework by
    /// the call's `refuse_seconds` (default 5 s).
    pub(super) fn decline_rest(
        &mut self,
        now: Duration,
        fid: &str,
        a: usize,
        role: String,
        pool: Res,
        refuse: Option<f64>,
    ) {
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

    pub(super) fn kill(&mut self, now: Duration, fid: &str, task: &str, agent: Option<&str>) {
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

    pub(super) fn acknowledge(&mut self, fid: &str, task: &str, uuid: &[u8]) {
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

    pub(super) fn reconcile(&mut self, now: Duration, fid: &str, list: &[call::reconcile::Task]) {
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
    pub(super) fn reconcile_known(&mut self, now: Duration, fid: &str, task: &str) {
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

    pub(super) fn reconcile_one(&mut self, now: Duration, fid: &str, task: &str, agent: Option<&str>) {
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
}

/// The tasks an operation launches: a LAUNCH's task infos and a LAUNCH_GROUP's group.
pub(super) fn tasks_of(op: &offer::Operation) -> Vec<TaskInfo> {
    let mut v: Vec<TaskInfo> = op
        .launch
        .as_ref()
        .map(|l| l.task_infos.clone())
        .unwrap_or_default();
    if let Some(g) = &op.launch_group {
        v.extend(g.task_group.tasks.iter().cloned());
    }
    v
}
