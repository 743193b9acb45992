//! Status updates: acknowledged exactly when they carry a uuid, applied to the task they name
//! (retries under a new id for infrastructure failures), reconciliation of what is unanswered,
//! and the end of the run.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    pub(super) fn on_update(&mut self, now: Duration, status: &TaskStatus) {
        // Acknowledge first, so that a final update's ACK precedes the TEARDOWN it may cause. The
        // shell persists the state this update changes before it sends any of these calls.
        if let (Some(agent_id), Some(uuid)) = (status.agent_id.clone(), status.uuid.clone()) {
            let mut c = self.base_call(call::Type::Acknowledge);
            c.acknowledge = Some(call::Acknowledge {
                agent_id,
                task_id: status.task_id.clone(),
                uuid,
            });
            self.call(c);
        }
        if let Some(&i) = self.by_mesos_id.get(&status.task_id.value) {
            // Only the current attempt moves the task; stale attempts are just acknowledged.
            if self.tasks[i].mesos_id() == status.task_id.value {
                self.unanswered.remove(&i);
                self.apply_update(now, i, status);
            }
        }
        if self.unanswered.is_empty() {
            self.reconcile_retry_at = None;
        }
    }

    pub(super) fn apply_update(&mut self, now: Duration, i: usize, s: &TaskStatus) {
        use TaskState as S;
        if matches!(self.tasks[i].phase, Phase::Done(_)) {
            return;
        }
        let message = s.message.clone().unwrap_or_default();
        let reason = s
            .reason
            .and_then(|r| task_status::Reason::try_from(r).ok())
            .map(|r| r.as_str_name().to_string());
        if let Some(a) = &s.agent_id {
            self.set_agent(i, &a.value);
        }
        if let Some(e) = &s.executor_id {
            self.tasks[i].executor = Some(e.value.clone());
        }
        if let Some(c) = s.container_status.as_ref().and_then(|c| c.container_id.as_ref()) {
            self.tasks[i].container = Some(c.value.clone());
        }
        match s.state() {
            S::TaskStaging | S::TaskStarting | S::TaskRunning | S::TaskKilling | S::TaskUnreachable => {
                if self.tasks[i].phase == Phase::Queued {
                    // A reconciliation answer for a task we thought queued (after a restart).
                    self.tasks[i].launched_at = Some(now);
                    self.set_phase(i, Phase::Launched, now);
                }
            }
            S::TaskFinished => self.finish(i, FinalState::Finished, message, reason, None, now),
            S::TaskFailed => {
                let exit = exit_status(&message);
                self.finish(i, FinalState::Failed, message, reason, exit, now);
            }
            S::TaskKilled => {
                let message = if self.tasks[i].killed_by_timeout {
                    let after = self.config.kill_after.unwrap_or_default().as_secs_f64();
                    if message.is_empty() {
                        format!("killed after --kill-after {after} s")
                    } else {
                        format!("killed after --kill-after {after} s: {message}")
                    }
                } else {
                    message
                };
                self.finish(i, FinalState::Killed, message, reason, None, now);
            }
            S::TaskError => self.finish(i, FinalState::Error, message, reason, None, now),
            S::TaskLost | S::TaskDropped | S::TaskGone | S::TaskGoneByOperator | S::TaskUnknown => {
                if self.tasks[i].phase != Phase::Launched {
                    return;
                }
                if self.tasks[i].attempt <= self.config.retries {
                    // Infrastructure failure: try again on another offer.
                    self.tasks[i].launched_at = None;
                    self.set_phase(i, Phase::Queued, now);
                    self.want_offers();
                } else {
                    let state = match s.state() {
                        S::TaskDropped => FinalState::Dropped,
                        S::TaskGone | S::TaskGoneByOperator => FinalState::Gone,
                        _ => FinalState::Lost,
                    };
                    self.finish(i, state, message, reason, None, now);
                }
            }
        }
    }

    pub(super) fn finish(
        &mut self,
        i: usize,
        state: FinalState,
        message: String,
        reason: Option<String>,
        exit: Option<i32>,
        now: Duration,
    ) {
        let wall = self.wall(now);
        let t = &self.tasks[i];
        let outcome = Outcome {
            task_id: t.spec.id().to_string(),
            agent: t.agent.clone(),
            state,
            exit_status: exit.or((state == FinalState::Finished).then_some(0)),
            message,
            reason,
            attempts: t.attempt,
            duration_s: t.launched_unix.map(|l| (wall - l).max(0.0)),
            ports: t.ports.clone(),
            sandbox: match (&t.agent, &self.framework_id, &t.executor, &t.container) {
                (Some(a), Some(f), Some(e), Some(c)) => {
                    Some(format!("slaves/{a}/frameworks/{f}/executors/{e}/runs/{c}"))
                }
                _ => None,
            },
        };
        self.set_phase(i, Phase::Done(outcome.clone()), now);
        self.unanswered.remove(&i);
        self.actions.push_back(Action::Outcome(outcome));
        self.check_done();
    }

    pub(super) fn check_done(&mut self) {
        if self.closed && !self.done_sent && self.done == self.tasks.len() {
            self.done_sent = true;
            if self.config.teardown && self.framework_id.is_some() && self.is_subscribed() {
                let c = self.base_call(call::Type::Teardown);
                self.call(c);
            }
            self.actions.push_back(Action::Done);
        }
    }

    pub(super) fn suppress(&mut self) {
        if !self.suppressed && self.is_subscribed() {
            let mut c = self.base_call(call::Type::Suppress);
            c.suppress = Some(call::Suppress {
                roles: vec![self.config.role.clone()],
            });
            self.call(c);
            self.suppressed = true;
        }
    }

    pub(super) fn reconcile_unanswered(&mut self, now: Duration) {
        if self.unanswered.is_empty() {
            self.reconcile_retry_at = None;
            return;
        }
        let tasks = self
            .unanswered
            .iter()
            .map(|&i| call::reconcile::Task {
                task_id: TaskId {
                    value: self.tasks[i].mesos_id(),
                },
                agent_id: self.tasks[i].agent.clone().map(|value| AgentId { value }),
            })
            .collect();
        let mut c = self.base_call(call::Type::Reconcile);
        c.reconcile = Some(call::Reconcile { tasks });
        self.call(c);
        self.reconcile_retry_at = Some(now + self.reconcile_retry);
        self.reconcile_retry = (self.reconcile_retry * 2).min(RECONCILE_RETRY_MAX);
    }
}
