//! The run queue: queued tasks as runs of identical instances, in queue order, indexed by shape so
//! that a retry pass or an offer round looks only at what may fit.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use super::{MachineId, QueueOrder, Sim, Task, TaskSpec};

impl<I: Iterator<Item = TaskSpec>> Sim<'_, I> {
    pub(super) fn priority_key(&self, task: &Task) -> i64 {
        match self.order {
            QueueOrder::Fifo => 0,
            QueueOrder::Priority => -i64::from(task.priority),
        }
    }

    /// Queues `count` instances of `task`; `tiebreak` 0 for a fresh arrival.
    pub(super) fn enqueue(&mut self, task: Task, count: u32, tiebreak: u32) {
        if count == 0 {
            return;
        }
        let key = (self.priority_key(&task), task.order, tiebreak);
        self.pending_count += u64::from(count);
        if let Some(run) = self.pending.get_mut(&key) {
            run.count += count;
        } else {
            let shape = self.shapes.add(&task, key);
            self.pending.insert(key, Run { task, count, shape });
        }
        self.on_change_for_offers();
    }

    /// Removes run `key` from the queue's indexes.
    pub(super) fn dequeue(&mut self, key: RunKey) {
        if let Some(run) = self.pending.remove(&key) {
            self.shapes.remove(&run.task, run.shape, key);
        }
    }

    /// Records a machine with more free resources (`None`: the cluster changed in a way that needs a
    /// full look, such as a new machine).
    pub(super) fn note_freed(&mut self, m: Option<MachineId>) {
        if self.freed_mark.len() < self.c.cluster.len() {
            self.freed_mark.resize(self.c.cluster.len(), false);
        }
        match (m, &mut self.freed) {
            (Some(m), Some(list)) if !self.freed_mark[m.index()] => {
                self.freed_mark[m.index()] = true;
                list.push(m);
            }
            (None, Some(list)) => {
                for m in list.drain(..) {
                    self.freed_mark[m.index()] = false;
                }
                self.freed = None;
            }
            _ => {}
        }
    }
}

/// Queue position: priority key (0 in FIFO order), arrival sequence, tiebreak for requeued tasks.
pub(super) type RunKey = (i64, u64, u32);

/// Identical queued tasks: the task record's template and how many instances still wait.
pub(super) struct Run {
    pub(super) task: Task,
    pub(super) count: u32,
    /// The run's shape in [`Shapes`].
    pub(super) shape: u32,
}

/// What decides where a task can go: demand, GPU demand, allowed models, and anti-affinity group.
/// Two tasks of one shape fit exactly the same machines.
pub(super) type ShapeKey = (Vec<u64>, packing::GpuDemand, packing::ModelSet, u32, u32);

/// Queued runs grouped by shape, so that a retry pass tests each shape once rather than each run.
#[derive(Default)]
pub(super) struct Shapes {
    pub(super) ids: HashMap<ShapeKey, u32>,
    /// Per shape, the task of its first run: what placement sees of all of them.
    pub(super) template: Vec<Task>,
    /// Per shape, its queued runs in queue order.
    pub(super) runs: Vec<BTreeSet<RunKey>>,
    /// Shapes with queued runs, by demand in the first dimension.
    pub(super) by_size: BTreeSet<(u64, u32)>,
}

impl Shapes {
    pub(super) fn key(task: &Task) -> ShapeKey {
        // The group only matters where it limits tasks per machine.
        let group = if task.max_per_machine == 0 {
            u32::MAX
        } else {
            task.group
        };
        (
            task.demand.clone(),
            task.gpu,
            task.models,
            group,
            task.max_per_machine,
        )
    }

    pub(super) fn add(&mut self, task: &Task, key: RunKey) -> u32 {
        let next = self.runs.len() as u32;
        let id = *self.ids.entry(Self::key(task)).or_insert(next);
        if id == next {
            self.runs.push(BTreeSet::new());
            self.template.push(task.clone());
        }
        let runs = &mut self.runs[id as usize];
        if runs.is_empty() {
            self.by_size.insert((task.demand[0], id));
        }
        runs.insert(key);
        id
    }

    pub(super) fn remove(&mut self, task: &Task, shape: u32, key: RunKey) {
        let runs = &mut self.runs[shape as usize];
        runs.remove(&key);
        if runs.is_empty() {
            self.by_size.remove(&(task.demand[0], shape));
        }
    }

    /// The shape's first queued run after `key`.
    pub(super) fn next_after(&self, shape: u32, key: RunKey) -> Option<RunKey> {
        self.runs[shape as usize]
            .range((Bound::Excluded(key), Bound::Unbounded))
            .next()
            .copied()
    }
}
