//! Offers in, placements out: each batch of offers becomes bins, the policy places the queued
//! tasks among them (`crate::offers::place`, exactly as `packing::pack_with`), and tasks no agent
//! seen so far could ever hold are given up as unschedulable.
//!
//! Tasks that name exact resources (a volume, a reservation, specific ports) can go only where
//! those are offered: each is placed first, by the same policy, among the bins that can give
//! them; the rest of the queue is then packed into what is left.

#[allow(clippy::wildcard_imports)]
use super::*;

impl Core {
    pub(super) fn on_offers(&mut self, now: Duration, offers: &[Offer]) {
        let mut bins = offers::bins(offers, &self.schema);
        let first_offers = self.ceiling.is_empty();
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
                .or_insert_with(|| vec![0; seen.len()]);
            for (c, s) in c.iter_mut().zip(seen) {
                *c = (*c).max(s);
            }
        }
        if first_offers {
            self.check_overdue(now);
        }
        let mut pools: Vec<Pool> = bins.iter().map(Pool::new).collect();
        let mut launches: Vec<Vec<TaskInfo>> = vec![Vec::new(); bins.len()];
        let (exact, plain): (Vec<usize>, Vec<usize>) = self
            .queued
            .iter()
            .copied()
            .partition(|&i| self.tasks[i].spec.is_exact());
        for i in exact {
            let eligible: Vec<usize> = (0..bins.len())
                .filter(|&b| {
                    pools[b]
                        .clone()
                        .take(&self.tasks[i].spec.wants, &self.schema)
                        .is_some()
                })
                .collect();
            let candidates: Vec<offers::Bin> = eligible
                .iter()
                .map(|&b| offers::Bin {
                    agent: bins[b].agent.clone(),
                    role: bins[b].role.clone(),
                    offers: Vec::new(),
                    free: bins[b].free.clone(),
                })
                .collect();
            let chosen = self.decide(&candidates, &[i])[0].map(|k| eligible[k]);
            if let Some(b) = chosen {
                self.launch(now, i, &bins[b].agent, &mut pools[b], &mut launches[b]);
                for (f, d) in bins[b].free.iter_mut().zip(&self.tasks[i].demand) {
                    *f = f.saturating_sub(*d);
                }
            }
        }
        let decision = self.decide(&bins, &plain);
        for (k, d) in decision.into_iter().enumerate() {
            if let Some(b) = d {
                self.launch(now, plain[k], &bins[b].agent, &mut pools[b], &mut launches[b]);
            }
        }
        let mut declined = Vec::new();
        for (b, infos) in bins.iter().zip(launches) {
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
        if self.queued.is_empty() {
            self.suppress();
        }
    }

    /// The policy's placement of `tasks` among `bins` (each a machine whose capacity is the most
    /// its agent was seen to hold for us).
    fn decide(&self, bins: &[offers::Bin], tasks: &[usize]) -> Vec<Option<usize>> {
        let demands: Vec<Vec<u64>> = tasks.iter().map(|&i| self.tasks[i].demand.clone()).collect();
        let ceiling = &self.ceiling;
        offers::place(
            &self.policy,
            bins,
            |b| ceiling.get(&b.agent).cloned().unwrap_or_else(|| b.free.clone()),
            &demands,
        )
        .expect("the policy packs batches: checked in Core::new")
    }

    /// Carves task `i` from `pool` and adds its TaskInfo to `infos`; if the pool cannot give it
    /// (the policy's fixed-point view and Mesos's disagree), it waits for the next offers.
    fn launch(&mut self, now: Duration, i: usize, agent: &str, pool: &mut Pool, infos: &mut Vec<TaskInfo>) {
        let Some(carved) = pool.take(&self.tasks[i].spec.wants, &self.schema) else {
            return;
        };
        let wall = self.wall(now);
        let t = &mut self.tasks[i];
        t.attempt += 1;
        t.agent = Some(agent.to_string());
        t.launched_at = Some(now);
        t.launched_unix = Some(wall);
        t.kill_sent_at = None;
        t.ports.clone_from(&carved.ports);
        let id = t.mesos_id();
        infos.push(offers::launch_info(&t.spec.info, &id, agent, carved));
        self.by_mesos_id.insert(id, i);
        self.set_phase(i, Phase::Launched, now);
    }
}

pub(super) fn describe_ceilings(schema: &packing::Schema, ceilings: &[Vec<u64>]) -> String {
    let mut max = vec![0u64; schema.len()];
    for c in ceilings {
        for (m, x) in max.iter_mut().zip(c) {
            *m = (*m).max(*x);
        }
    }
    schema
        .dims()
        .iter()
        .zip(&max)
        .filter(|(_, v)| **v > 0)
        .map(|(d, v)| format!("{} {}", d.name(), *v as f64 / 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}
