//! The core's books. Every change of a task's phase goes through [`Core::set_phase`], which keeps
//! what lets each event cost what it changes rather than the number of tasks: the queue, the
//! demand launched on each agent, the counts of final tasks, the kill and give-up deadlines (sets
//! ordered by time, so the next deadline is the first element), and the tasks the state file has
//! not seen change.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    /// Adds a task in whatever phase it is in (new: queued; restored: any).
    pub(super) fn push_task(&mut self, task: Task, now: Duration) {
        let i = self.tasks.len();
        self.by_user_id.insert(task.spec.id().to_string(), i);
        if task.attempt > 0 {
            self.by_mesos_id.insert(task.mesos_id(), i);
        }
        self.tasks.push(task);
        self.enter(i, now);
    }

    /// Moves task `i` to `phase`, keeping the books.
    pub(super) fn set_phase(&mut self, i: usize, phase: Phase, now: Duration) {
        self.leave(i);
        self.tasks[i].phase = phase;
        self.enter(i, now);
        self.changed.insert(i);
    }

    fn leave(&mut self, i: usize) {
        match &self.tasks[i].phase {
            Phase::Queued => {
                self.queued.remove(&i);
                self.overdue.remove(&i);
                if let Some(d) = self.tasks[i].give_up_due.take() {
                    self.give_up_due.remove(&(d, i));
                }
            }
            Phase::Launched => {
                self.account(i, false);
                self.set_kill_due(i, None);
            }
            Phase::Done(o) => {
                self.done -= 1;
                if o.state.is_success() {
                    self.succeeded -= 1;
                }
            }
        }
    }

    fn enter(&mut self, i: usize, now: Duration) {
        match &self.tasks[i].phase {
            Phase::Queued => {
                self.queued.insert(i);
                let due = now + self.config.unschedulable_after;
                let t = &mut self.tasks[i];
                t.queued_at = now;
                t.give_up_due = Some(due);
                self.give_up_due.insert((due, i));
            }
            Phase::Launched => {
                self.account(i, true);
                if let Some(k) = self.config.kill_after {
                    let due = self.tasks[i].launched_at.unwrap_or(now) + k;
                    self.set_kill_due(i, Some(due));
                }
            }
            Phase::Done(o) => {
                self.done += 1;
                if o.state.is_success() {
                    self.succeeded += 1;
                }
            }
        }
    }

    /// Adds (or removes) launched task `i`'s demand to (from) its agent's.
    fn account(&mut self, i: usize, add: bool) {
        let t = &self.tasks[i];
        let Some(agent) = &t.agent else { return };
        let used = self
            .used
            .entry(agent.clone())
            .or_insert_with(|| vec![0; t.demand.len()]);
        for (u, d) in used.iter_mut().zip(&t.demand) {
            *u = if add {
                u.saturating_add(*d)
            } else {
                u.saturating_sub(*d)
            };
        }
        if !add && used.iter().all(|&u| u == 0) {
            self.used.remove(agent);
        }
    }

    /// The demand of our launched tasks on `agent`.
    pub(super) fn used_on(&self, agent: &str) -> Vec<u64> {
        self.used
            .get(agent)
            .cloned()
            .unwrap_or_else(|| vec![0; self.schema.len()])
    }

    /// Task `i` is (now said to be) on `agent`.
    pub(super) fn set_agent(&mut self, i: usize, agent: &str) {
        if self.tasks[i].agent.as_deref() == Some(agent) {
            return;
        }
        let launched = self.tasks[i].phase == Phase::Launched;
        if launched {
            self.account(i, false);
        }
        self.tasks[i].agent = Some(agent.to_string());
        if launched {
            self.account(i, true);
        }
        self.changed.insert(i);
    }

    /// When task `i` is next to be killed (or its KILL resent); `None`: never.
    pub(super) fn set_kill_due(&mut self, i: usize, due: Option<Duration>) {
        if let Some(d) = self.tasks[i].kill_due.take() {
            self.kill_due.remove(&(d, i));
        }
        if let Some(d) = due {
            self.tasks[i].kill_due = Some(d);
            self.kill_due.insert((d, i));
        }
    }

    /// Queued tasks that have waited `unschedulable_after`: given up if no agent seen can hold
    /// them, else kept among the overdue (checked again when an agent goes away). Only the tasks
    /// that just became due are checked: one that fits somewhere keeps fitting until the ceilings
    /// shrink.
    pub(super) fn give_up_due_tasks(&mut self, now: Duration) {
        let mut due_now = Vec::new();
        while let Some(&(due, i)) = self.give_up_due.first() {
            if due > now {
                break;
            }
            self.give_up_due.remove(&(due, i));
            self.tasks[i].give_up_due = None;
            self.overdue.insert(i);
            due_now.push(i);
        }
        self.give_up_hopeless(now, due_now);
    }

    /// Checks every overdue task again (the first offers came, or an agent went away).
    pub(super) fn check_overdue(&mut self, now: Duration) {
        let all: Vec<usize> = self.overdue.iter().copied().collect();
        self.give_up_hopeless(now, all);
    }

    /// Gives up those of `overdue` that no agent seen so far could hold (none before any offer).
    fn give_up_hopeless(&mut self, now: Duration, overdue: Vec<usize>) {
        if self.ceiling.is_empty() || overdue.is_empty() {
            return;
        }
        let hopeless: Vec<usize> = overdue
            .into_iter()
            .filter(|&i| {
                let demand = &self.tasks[i].demand;
                !self
                    .ceiling
                    .values()
                    .any(|c| demand.iter().zip(c).all(|(d, c)| d <= c))
            })
            .collect();
        if hopeless.is_empty() {
            return;
        }
        let ceilings: Vec<Vec<u64>> = self.ceiling.values().cloned().collect();
        let message = format!(
            "no agent offered enough in {:.0} s: the largest offers seen were {}",
            self.config.unschedulable_after.as_secs_f64(),
            placing::describe_ceilings(&self.schema, &ceilings)
        );
        for i in hopeless {
            self.finish(i, FinalState::Unschedulable, message.clone(), None, None, now);
        }
    }

    /// Seconds since the Unix epoch at `now`.
    pub(super) fn wall(&self, now: Duration) -> f64 {
        self.wall_zero + now.as_secs_f64()
    }
}
