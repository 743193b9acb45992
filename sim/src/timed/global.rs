//! The global model: a scheduler that sees the whole cluster places each task on arrival and
//! retries the queue when resources free up (kube-scheduler's and Borg's view).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::queue::RunKey;
use super::{Ev, Sim, Task, TaskSpec};
use crate::state::SimCluster;

impl<I: Iterator<Item = TaskSpec>> Sim<'_, I> {
    /// Places an instance of `template` now if anything fits; true on success.
    pub(super) fn try_place(&mut self, template: &Task) -> bool {
        match self.c.place(self.policy, template) {
            Some(p) => {
                let slot = self.tasks.insert(template.clone());
                self.started(slot, p);
                true
            }
            None => false,
        }
    }

    /// Resources freed up: queued tasks may fit now.
    pub(super) fn on_free(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.offers.is_some() {
            self.arm_tick(self.now);
        } else if !self.retry_scheduled {
            self.retry_scheduled = true;
            self.queue.push_late(self.now, Ev::Retry);
        }
    }

    /// Tries the queue in order, each run of identical tasks until one of them does not fit.
    ///
    /// A queued run fitted nowhere at the last pass, and only the machines that freed up since can
    /// have changed that: the pass looks only at shapes small enough (in the first dimension) for
    /// the room those machines have, and that fit one of them, and takes their runs in queue
    /// order. Resources only shrink during a pass, so once a shape stops fitting, none of its
    /// later runs is tried: a pass costs a test per queued shape, not per queued run.
    pub(super) fn retry(&mut self) {
        self.retry_scheduled = false;
        let freed = self.freed.replace(Vec::new());
        for m in freed.iter().flatten() {
            self.freed_mark[m.index()] = false;
        }
        let Some(max) = self.c.cluster.max_free() else {
            return;
        };
        let cluster = &self.c.cluster;
        let bound = match &freed {
            Some(list) => list
                .iter()
                .map(|&m| cluster.free(m)[0])
                .max()
                .unwrap_or(0)
                .min(max[0]),
            None => max[0],
        };
        // The first queued run of each shape that may fit, merged in queue order.
        let mut first: Vec<Reverse<(RunKey, u32)>> = Vec::new();
        for &(_, shape) in self.shapes.by_size.range(..=(bound, u32::MAX)) {
            let task = &self.shapes.template[shape as usize];
            if task.demand.iter().zip(&max).any(|(d, m)| d > m) {
                continue;
            }
            let request = task.request();
            let fits_freed = match &freed {
                Some(list) => list.iter().any(|&m| cluster.fits_request(m, &request)),
                None => true,
            };
            if fits_freed {
                let runs = &self.shapes.runs[shape as usize];
                first.push(Reverse((*runs.first().expect("listed shapes have runs"), shape)));
            }
        }
        let mut next = BinaryHeap::from(first);
        // Each attempt is made only if a freed machine can still hold the task: no other machine
        // can, so a failing attempt (a full policy scan) is never made.
        let can_fit = |c: &SimCluster, task: &Task| match &freed {
            Some(list) => {
                let request = task.request();
                list.iter()
                    .any(|&m| c.cluster.fits_request(m, &request) && c.eligible(task, m))
            }
            None => c.cluster.may_fit(&task.demand),
        };
        while let Some(Reverse((key, shape))) = next.pop() {
            if !can_fit(&self.c, &self.shapes.template[shape as usize]) {
                continue;
            }
            let run = self.pending.get(&key).expect("listed");
            let template = run.task.clone();
            let mut count = run.count;
            while count > 0 && can_fit(&self.c, &template) && self.try_place(&template) {
                count -= 1;
                self.pending_count -= 1;
            }
            if count == 0 {
                let after = self.shapes.next_after(shape, key);
                self.dequeue(key);
                if let Some(after) = after {
                    next.push(Reverse((after, shape)));
                }
            } else if let Some(run) = self.pending.get_mut(&key) {
                run.count = count;
            }
        }
    }
}
