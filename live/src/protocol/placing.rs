//! Offers in, placements out: each batch of offers becomes bins, the policy places the queued
//! tasks among them (`crate::offers::place`, exactly as `packing::pack_with`), and tasks no agent
//! seen so far could ever hold are given up as unschedulable.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    pub(super) fn used_on(&self, agent: &str) -> Vec<u64> {
        let mut used = vec![0u64; DIMENSIONS.len()];
        for t in self
            .tasks
            .iter()
            .filter(|t| t.phase == Phase::Launched && t.agent.as_deref() == Some(agent))
        {
            for (u, d) in used.iter_mut().zip(&t.spec.demand) {
                *u = u.saturating_add(*d);
            }
        }
        used
    }

    pub(super) fn on_offers(&mut self, now: Duration, offers: &[Offer]) {
        let bins = offers::bins(offers);
        for b in &bins {
            let used = self.used_on(&b.agent);
            let seen: Vec<u64> = used
                .iter()
                .zip(&b.free)
                .map(|(u, f)| u.saturating_add(*f))
                .collect();
            let c = self
                .ceiling
                .entry(b.agent.clone())
                .or_insert_with(|| vec![0; DIMENSIONS.len()]);
            for (c, s) in c.iter_mut().zip(seen) {
                *c = (*c).max(s);
            }
        }
        let queued: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks[i].phase == Phase::Queued)
            .collect();
        let demands: Vec<Vec<u64>> = queued
            .iter()
            .map(|&i| self.tasks[i].spec.demand.clone())
            .collect();
        let ceiling = &self.ceiling;
        let decision = offers::place(
            &self.policy,
            &bins,
            |b| ceiling.get(&b.agent).cloned().unwrap_or_else(|| b.free.clone()),
            &demands,
        )
        .expect("the policy packs batches: checked in Core::new");
        let mut per_bin: Vec<Vec<usize>> = vec![Vec::new(); bins.len()];
        for (k, d) in decision.iter().enumerate() {
            if let Some(b) = d {
                per_bin[*b].push(queued[k]);
            }
        }
        let mut declined = Vec::new();
        for (b, tasks) in bins.iter().zip(per_bin) {
            let mut pool = Pool::new(b);
            let mut infos = Vec::new();
            for i in tasks {
                let Some(resources) = pool.take(&self.tasks[i].spec.demand) else {
                    continue; // the policy's fixed-point view and Mesos's disagree: wait
                };
                let t = &mut self.tasks[i];
                t.attempt += 1;
                t.agent = Some(b.agent.clone());
                t.phase = Phase::Launched;
                t.launched_at = Some(now);
                t.kill_sent_at = None;
                let id = t.mesos_id();
                infos.push(offers::launch_info(&t.spec.info, &id, &b.agent, resources));
                self.by_mesos_id.insert(id, i);
                self.dirty = true;
            }
            if infos.is_empty() {
                declined.push(b);
            } else {
                let mut c = self.base_call(call::Type::Accept);
                c.accept = Some(offers::accept(b, infos, self.config.accept_refuse));
                self.call(c);
            }
        }
        if !declined.is_empty() {
            let mut c = self.base_call(call::Type::Decline);
            c.decline = Some(call::Decline {
                offer_ids: offers::offer_ids(declined),
                filters: Some(Filters {
                    refuse_seconds: Some(self.config.decline_refuse),
                }),
            });
            self.call(c);
            self.filtered = true;
        }
        self.give_up_unschedulable(now);
        if !self.tasks.iter().any(|t| t.phase == Phase::Queued) {
            self.suppress();
        }
    }

    pub(super) fn give_up_unschedulable(&mut self, now: Duration) {
        if self.ceiling.is_empty() {
            return;
        }
        let ceilings: Vec<Vec<u64>> = self.ceiling.values().cloned().collect();
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            if t.phase != Phase::Queued || now.saturating_sub(t.queued_at) < self.config.unschedulable_after {
                continue;
            }
            let fits_somewhere = ceilings
                .iter()
                .any(|c| t.spec.demand.iter().zip(c).all(|(d, c)| d <= c));
            if !fits_somewhere {
                let message = format!(
                    "no agent offered enough in {:.0} s: the largest offers seen were {}",
                    self.config.unschedulable_after.as_secs_f64(),
                    describe_ceilings(&ceilings)
                );
                self.finish(i, FinalState::Unschedulable, message, None, None, now);
            }
        }
    }
}

pub(super) fn describe_ceilings(ceilings: &[Vec<u64>]) -> String {
    let mut max = vec![0u64; DIMENSIONS.len()];
    for c in ceilings {
        for (m, x) in max.iter_mut().zip(c) {
            *m = (*m).max(*x);
        }
    }
    DIMENSIONS
        .iter()
        .zip(&max)
        .filter(|(_, v)| **v > 0)
        .map(|(n, v)| format!("{n} {}", *v as f64 / 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}
