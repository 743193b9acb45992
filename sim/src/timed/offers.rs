//! The Mesos offer model: every allocation interval each agent's free resources are offered (unless
//! a refusal filter holds them back), the queue is packed into the offers as one batch with
//! `packing::pack_with`, exactly as the live adapter packs real offers, and the rest is declined
//! with a filter.

use packing::{Items, MachineId, PackHooks, Placement, ResourceTable, pack_with};

use super::queue::RunKey;
use super::{Ev, Sim, Task, TaskSpec};
use crate::state::{GroupCounts, count_group, group_has_room};
use crate::workload::Time;

/// A refusal filter on one machine (Mesos §2.7: suppresses an offer whose resources ⊆ `refused`).
pub(super) type Filter = packing::refusal::Refusal<Vec<u64>, Time>;

/// The agents of one allocation round.
struct Round {
    /// Made unavailable while the round packs (refused, or nothing free).
    withheld: Vec<MachineId>,
    /// Held back by a refusal filter.
    refused: Vec<MachineId>,
    /// Offered.
    offered: Vec<MachineId>,
}

impl<I: Iterator<Item = TaskSpec>> Sim<'_, I> {
    pub(super) fn on_change_for_offers(&mut self) {
        if self.offers.is_some() {
            self.arm_tick(self.now);
        }
    }

    /// Schedules an allocation tick at the first allocation time at or after `at`.
    pub(super) fn arm_tick(&mut self, at: Time) {
        let Some(o) = self.offers else { return };
        let interval = o.interval.max(1);
        let mut t = at.div_euclid(interval) * interval;
        if t < at || self.last_tick == Some(t) {
            t += interval;
        }
        if self.tick_at.is_some_and(|s| s <= t) {
            return;
        }
        self.tick_at = Some(t);
        self.queue.push_late(t, Ev::Tick);
    }

    /// One allocation cycle: offer every agent's free resources, pack the queue into them, accept
    /// and decline with filters.
    pub(super) fn tick(&mut self, t: Time) {
        if self.tick_at == Some(t) {
            self.tick_at = None;
        }
        if self.last_tick == Some(t) {
            return;
        }
        self.last_tick = Some(t);
        let o = self.offers.expect("ticks only in the offer model");
        if self.pending.is_empty() {
            return;
        }
        self.filters.resize_with(self.c.cluster.len(), || None);
        self.offered_at.resize(self.c.cluster.len(), 0);
        let version = self.version;
        let Round {
            withheld,
            refused: refused_machines,
            offered,
        } = self.offer(t);
        let (items, owner) = self.queue_as_items(&offered, o.head_of_line);
        let placements = self.pack_offers(items, &owner, o.head_of_line);
        for &m in &withheld {
            self.c.cluster.set_available(m, true);
        }
        let launched = !placements.is_empty();
        let mut launched_on = vec![false; self.c.cluster.len()];
        for (key, placement) in placements {
            let run = self.pending.get_mut(&key).expect("queued");
            let template = run.task.clone();
            run.count -= 1;
            if run.count == 0 {
                self.dequeue(key);
            }
            self.pending_count -= 1;
            launched_on[placement.machine.index()] = true;
            let slot = self.tasks.insert(template);
            self.started(slot, placement);
        }
        // Accepted offers: the remainder is refused with the accept's filter; others declined.
        for m in offered {
            self.offered_at[m.index()] = version;
            let refuse = if launched_on[m.index()] {
                o.accept_refuse
            } else {
                o.decline_refuse
            };
            self.filters[m.index()] =
                (refuse > 0).then(|| Filter::new(t, refuse, o.interval, self.c.cluster.free(m).to_vec()));
        }
        // Refused offers come back when their filters expire: worth another allocation then if
        // this one launched something, or if a queued task could use a machine a filter held back
        // that has not been offered since the state last changed. Otherwise only an arrival, a
        // departure or a machine event can change anything, and each arms a tick itself: a queue
        // no offer will take does not make the allocator spin forever.
        let unseen: Vec<MachineId> = refused_machines
            .into_iter()
            .filter(|m| self.offered_at[m.index()] != self.version)
            .collect();
        if !self.pending.is_empty() && (launched || self.could_use_any(&unseen)) {
            if let Some(until) = self
                .filters
                .iter()
                .flatten()
                .map(Filter::until)
                .filter(|&u| u > t)
                .min()
            {
                self.arm_tick(until);
            }
        }
    }

    /// The agents of this round: those offered (available, something free, not held back by a
    /// filter), and those withheld (made unavailable for the round's packing), among them the
    /// refused ones.
    fn offer(&mut self, t: Time) -> Round {
        // Offered: available, something free, and not refused.
        let mut withheld = Vec::new();
        let mut refused_machines = Vec::new();
        let mut offered = Vec::new();
        for m in self.c.cluster.machine_ids() {
            if !self.c.cluster.is_available(m) {
                continue;
            }
            let free = self.c.cluster.free(m);
            let refused = self.filters[m.index()]
                .as_ref()
                .is_some_and(|f| f.holds_back(t, free));
            if refused || free.iter().all(|&x| x == 0) {
                withheld.push(m);
                if refused {
                    refused_machines.push(m);
                }
            } else {
                offered.push(m);
            }
        }
        for &m in &withheld {
            self.c.cluster.set_available(m, false);
        }
        Round {
            withheld,
            refused: refused_machines,
            offered,
        }
    }

    /// The queue as a batch of items and the run each item belongs to.
    fn queue_as_items(&self, offered: &[MachineId], head_of_line: bool) -> (Option<Items>, Vec<RunKey>) {
        // The queue as items. A run contributes at most as many instances as the offers could
        // hold in total, so a huge queue costs no more than the cluster's size.
        let dims = self.c.schema.len();
        let mut offered_total = vec![0u128; dims];
        for &m in offered {
            for (t, &f) in offered_total.iter_mut().zip(self.c.cluster.free(m)) {
                *t += u128::from(f);
            }
        }
        let mut max_offered = vec![0u64; dims];
        for &m in offered {
            for (x, &f) in max_offered.iter_mut().zip(self.c.cluster.free(m)) {
                *x = (*x).max(f);
            }
        }
        let mut demands = ResourceTable::with_capacity(dims, 64);
        let (mut gpus, mut models, mut groups, mut owner) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (key, run) in &self.pending {
            // A run no offer can hold is left out, except that with head-of-line blocking it
            // blocks everything behind it.
            let fits_some_offer = run.task.demand.iter().zip(&max_offered).all(|(d, m)| d <= m);
            if !fits_some_offer && !head_of_line {
                continue;
            }
            let bound = run
                .task
                .demand
                .iter()
                .zip(&offered_total)
                .filter(|(d, _)| **d > 0)
                .map(|(&d, &t)| t / u128::from(d))
                .min()
                .unwrap_or(u128::from(offered.len() as u32));
            // At least one instance, so that a task no offer fits still blocks the head of line.
            let n = u128::from(run.count).min(bound.max(1)) as u32;
            for _ in 0..n {
                let i = owner.len();
                demands.push(&run.task.demand);
                gpus.push(run.task.gpu);
                models.push(run.task.models);
                // DRF: a task without a group is a group of its own.
                groups.push(if run.task.group == u32::MAX {
                    0x8000_0000 | i as u32
                } else {
                    run.task.group
                });
                owner.push(*key);
            }
            if !fits_some_offer {
                break;
            }
        }
        if owner.is_empty() {
            return (None, owner);
        }
        let items = Items::new(demands)
            .with_gpus(gpus)
            .and_then(|i| i.with_models(models))
            .and_then(|i| i.with_groups(groups))
            .expect("one entry per item");
        (Some(items), owner)
    }

    /// Packs the batch into the offered agents with the policy, as the live adapter does.
    fn pack_offers(
        &mut self,
        items: Option<Items>,
        owner: &[RunKey],
        head_of_line: bool,
    ) -> Vec<(RunKey, Placement)> {
        let Some(items) = items else {
            return Vec::new();
        };
        {
            let templates: Vec<&Task> = owner.iter().map(|k| &self.pending[k].task).collect();
            let mut hooks = GroupHooks {
                counts: &mut self.c.group_count,
                templates: &templates,
            };
            let packing = pack_with(self.policy, &mut self.c.cluster, &items, &mut hooks, head_of_line)
                .expect("the policy packs batches: checked when the run was set up");
            packing
                .assignment()
                .iter()
                .zip(packing.devices())
                .enumerate()
                .filter_map(|(i, (m, d))| {
                    m.map(|m| {
                        (
                            owner[i],
                            Placement {
                                machine: m,
                                devices: *d,
                            },
                        )
                    })
                })
                .collect()
        }
    }

    /// True when some queued task fits (and may go on) one of `machines`.
    pub(super) fn could_use_any(&self, machines: &[MachineId]) -> bool {
        machines.iter().any(|&m| {
            self.pending.values().any(|run| {
                self.c.cluster.fits_request(m, &run.task.request()) && self.c.eligible(&run.task, m)
            })
        })
    }
}

/// Anti-affinity during an offer batch: item `i` is an instance of `templates[i]`.
pub(super) struct GroupHooks<'a> {
    counts: &'a mut GroupCounts,
    templates: &'a [&'a Task],
}

impl PackHooks for GroupHooks<'_> {
    fn eligible(&self, item: usize, m: MachineId) -> bool {
        group_has_room(self.counts, self.templates[item], m)
    }

    fn placed(&mut self, item: usize, m: MachineId) {
        count_group(self.counts, self.templates[item].group, m);
    }
}
