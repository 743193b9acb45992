//! The timed models: global view and the Mesos offer cycle, over one event loop.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::iter::Peekable;
use std::ops::Bound;

use packing::frag::{POPULARITY_COVERAGE, TargetWorkload};
use packing::{Items, MachineId, PackHooks, Placement, Policy, ResourceTable, pack_with};

use crate::config::{Config, Model, Offers, OnMachineLoss, QueueOrder};
use crate::engine::EventQueue;
use crate::error::Error;
use crate::metrics::{FragCache, Recorder, Sample, Shape, Summary, WaitStats, minimal_shapes, stranded};
use crate::state::{SimCluster, Task, Tasks};
use crate::workload::{MachineChange, MachineEvent, MachineSpec, SECOND, TaskSpec, Time};
use crate::{Outcome, Progress};

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival,
    Departure { slot: u32, generation: u32 },
    Machine(usize),
    Retry,
    Tick,
    Sample,
}

/// Queue position: priority key (0 in FIFO order), arrival sequence, tiebreak for requeued tasks.
type RunKey = (i64, u64, u32);

/// Identical queued tasks: the task record's template and how many instances still wait.
struct Run {
    task: Task,
    count: u32,
    /// The run's shape in [`Shapes`].
    shape: u32,
}

/// What decides where a task can go: demand, GPU demand, allowed models, and anti-affinity group.
/// Two tasks of one shape fit exactly the same machines.
type ShapeKey = (Vec<u64>, packing::GpuDemand, packing::ModelSet, u32, u32);

/// Queued runs grouped by shape, so that a retry pass tests each shape once rather than each run.
#[derive(Default)]
struct Shapes {
    ids: HashMap<ShapeKey, u32>,
    /// Per shape, the task of its first run: what placement sees of all of them.
    template: Vec<Task>,
    /// Per shape, its queued runs in queue order.
    runs: Vec<BTreeSet<RunKey>>,
    /// Shapes with queued runs, by demand in the first dimension.
    by_size: BTreeSet<(u64, u32)>,
}

impl Shapes {
    fn key(task: &Task) -> ShapeKey {
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

    fn add(&mut self, task: &Task, key: RunKey) -> u32 {
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

    fn remove(&mut self, task: &Task, shape: u32, key: RunKey) {
        let runs = &mut self.runs[shape as usize];
        runs.remove(&key);
        if runs.is_empty() {
            self.by_size.remove(&(task.demand[0], shape));
        }
    }

    /// The shape's first queued run after `key`.
    fn next_after(&self, shape: u32, key: RunKey) -> Option<RunKey> {
        self.runs[shape as usize]
            .range((Bound::Excluded(key), Bound::Unbounded))
            .next()
            .copied()
    }
}

/// A refusal filter on one machine (Mesos §2.7: suppresses an offer whose resources ⊆ `refused`).
struct Filter {
    until: Time,
    refused: Vec<u64>,
}

/// The inputs of a timed run.
pub(crate) struct Input<'a, I: Iterator<Item = TaskSpec>> {
    pub name: &'a str,
    pub schema: &'a packing::Schema,
    pub machines: &'a [MachineSpec],
    pub machine_events: &'a [MachineEvent],
    pub tasks: I,
    /// First and last arrival, when known (to choose the sampling interval).
    pub span: Option<(Time, Time)>,
    /// The tasks whose classes form the target workload of the fragmentation measure (GPU
    /// clusters only); `None` to skip the measure.
    pub target: Option<&'a [TaskSpec]>,
}

struct Sim<'a, I: Iterator<Item = TaskSpec>> {
    now: Time,
    queue: EventQueue<Ev>,
    c: SimCluster,
    tasks: Tasks,
    /// Queued tasks, as runs of identical instances, by (priority key, arrival sequence, tiebreak).
    pending: BTreeMap<RunKey, Run>,
    /// Queued runs by shape, to find those small enough to fit.
    shapes: Shapes,
    /// Instances queued, over all runs.
    pending_count: u64,
    /// Tiebreak of the next requeued run (fresh runs use 0).
    next_tiebreak: u32,
    source: Peekable<I>,
    machine_events: &'a [MachineEvent],
    machine_events_left: usize,
    policy: &'a Policy,
    config: &'a Config,
    offers: Option<Offers>,
    order: QueueOrder,
    rec: Recorder,
    retry_scheduled: bool,
    /// Machines that gained free resources since the last retry pass; `None` means "look at all".
    freed: Option<Vec<MachineId>>,
    /// `freed_mark[m]`: `m` is in `freed`.
    freed_mark: Vec<bool>,
    tick_at: Option<Time>,
    last_tick: Option<Time>,
    filters: Vec<Option<Filter>>,
    /// Bumped by every arrival, departure, machine event and placement.
    version: u64,
    /// Per machine, the `version` at which it was last offered.
    offered_at: Vec<u64>,
    sample_every: Time,
    departures: u64,
    arrived: u64,
    placed: u64,
    finished: u64,
    failed: u64,
    requeued: u64,
    running: u64,
    seq: u64,
    first_arrival: Option<Time>,
    last_change: Time,
    frag: Option<FragCache>,
    events: u64,
}

pub(crate) fn run<I: Iterator<Item = TaskSpec>>(
    input: Input<'_, I>,
    policy: &Policy,
    config: &Config,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, Error> {
    if policy.schema() != input.schema {
        return Err(Error::Workload(format!(
            "the policy was built for dimensions {} but the workload has {}",
            policy.schema().names(),
            input.schema.names()
        )));
    }
    if matches!(config.model, Model::Offers(_)) {
        // The offer model packs each round's offers as a batch: the policy must allow it.
        policy.check_batch().map_err(|e| Error::Workload(e.to_string()))?;
    }
    let (offers, order) = match &config.model {
        Model::Global { order } => (None, *order),
        Model::Offers(o) => (Some(*o), o.order),
        Model::ArriveOnly(_) => unreachable!("arrive-only is not timed"),
    };
    let mut c = SimCluster::new(input.schema);
    for m in input.machines {
        c.add(m)?;
    }
    let sample_every = config.sample_interval.unwrap_or_else(|| {
        let span = input.span.map_or(0, |(a, b)| b - a);
        (span / 500).max(SECOND)
    });
    let frag = match (input.target, c.gpu_dim, c.cpu_dim) {
        (Some(tasks), Some(_), Some(cpu)) => Some(FragCache::new(target_workload(&mut c, tasks, cpu)?, cpu)),
        _ => None,
    };
    let policy = with_target(policy, frag.as_ref(), &mut c, input.target)?;
    let policy = policy.as_ref();
    policy.prepare(&mut c.cluster);
    let mut sim = Sim {
        now: 0,
        queue: EventQueue::new(),
        filters: Vec::new(),
        version: 1,
        offered_at: Vec::new(),
        tasks: Tasks::default(),
        pending: BTreeMap::new(),
        shapes: Shapes::default(),
        pending_count: 0,
        next_tiebreak: 1,
        source: input.tasks.peekable(),
        machine_events: input.machine_events,
        machine_events_left: input.machine_events.len(),
        policy,
        config,
        offers,
        order,
        rec: Recorder::new(input.schema.len()),
        retry_scheduled: false,
        freed: Some(Vec::new()),
        freed_mark: Vec::new(),
        tick_at: None,
        last_tick: None,
        sample_every,
        departures: 0,
        arrived: 0,
        placed: 0,
        finished: 0,
        failed: 0,
        requeued: 0,
        running: 0,
        seq: 0,
        first_arrival: None,
        last_change: 0,
        frag,
        events: 0,
        c,
    };
    let start = sim.source.peek().map_or(0, |t| t.arrival);
    let start = input.machine_events.first().map_or(start, |e| e.time.min(start));
    sim.now = start;
    if let Some(t) = sim.source.peek() {
        sim.queue.push(t.arrival, Ev::Arrival);
    }
    for (i, e) in input.machine_events.iter().enumerate() {
        sim.queue.push(e.time, Ev::Machine(i));
    }
    sim.queue.push_late(start, Ev::Sample);
    sim.main_loop(progress)?;
    sim.sample();
    // Every task is finished, failed, running or unplaced; resources are released exactly once.
    let unplaced = sim.pending_count;
    debug_assert_eq!(sim.arrived, sim.finished + sim.failed + sim.running + unplaced);
    debug_assert_eq!(sim.tasks.live() as u64, sim.running);
    let summary = Summary {
        workload: input.name.to_string(),
        policy: policy.name(),
        model: config.model.name().to_string(),
        seed: config.seed,
        machines: sim.c.cluster.len() as u64,
        arrived: sim.arrived,
        placed: sim.placed,
        finished: sim.finished,
        failed: sim.failed,
        running: sim.running,
        unplaced,
        requeued: sim.requeued,
        wait: WaitStats::of(std::mem::take(&mut sim.rec.waits)),
        makespan: sim
            .first_arrival
            .map(|a| (sim.last_change - a).max(0) as f64 / SECOND as f64),
        utilisation: sim.rec.utilisation(),
        mean_machines_used: sim.rec.mean_machines_used(),
        peak_machines_used: sim.rec.peak_machines_used,
        stranded: sim.rec.mean_stranded(),
        gpu_fragmentation_ratio: sim
            .rec
            .samples
            .last()
            .and_then(|s| s.gpu_fragmentation)
            .map(|(f, idle)| if idle == 0 { 0.0 } else { f / idle as f64 }),
        arrived_pct: None,
        events: sim.events,
    };
    Ok(Outcome {
        schema: input.schema.clone(),
        summary,
        series: sim.rec.samples,
    })
}

impl<I: Iterator<Item = TaskSpec>> Sim<'_, I> {
    fn main_loop(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<(), Error> {
        while let Some((t, ev)) = self.queue.pop() {
            if t > self.now {
                self.rec.note_machines_used(self.c.machines_used);
                // Means cover the arrival window (first to last arrival): the steady state, not
                // the drain afterwards.
                if self.first_arrival.is_some() && self.source.peek().is_some() {
                    let allocated = self.c.allocated();
                    self.rec.advance(
                        t - self.now,
                        &allocated,
                        &self.c.available_capacity,
                        self.c.machines_used,
                    );
                }
                self.now = t;
            }
            self.events += 1;
            if matches!(ev, Ev::Arrival | Ev::Departure { .. } | Ev::Machine(_)) {
                self.version += 1;
            }
            match ev {
                Ev::Arrival => self.arrival()?,
                Ev::Departure { slot, generation } => self.departure(slot, generation),
                Ev::Machine(i) => self.machine_event(i)?,
                Ev::Retry => self.retry(),
                Ev::Tick => self.tick(t),
                Ev::Sample => {
                    self.sample();
                    if self.active() {
                        self.queue.push_late(self.now + self.sample_every, Ev::Sample);
                    }
                }
            }
            if self.events % 65_536 == 0 {
                progress(Progress {
                    arrived: self.arrived,
                    time: self.now,
                });
            }
        }
        progress(Progress {
            arrived: self.arrived,
            time: self.now,
        });
        Ok(())
    }

    /// True while something can still change the state.
    fn active(&mut self) -> bool {
        self.source.peek().is_some()
            || self.departures > 0
            || self.machine_events_left > 0
            || self.tick_at.is_some()
    }

    fn priority_key(&self, task: &Task) -> i64 {
        match self.order {
            QueueOrder::Fifo => 0,
            QueueOrder::Priority => -i64::from(task.priority),
        }
    }

    /// Queues `count` instances of `task`; `tiebreak` 0 for a fresh arrival.
    fn enqueue(&mut self, task: Task, count: u32, tiebreak: u32) {
        if count == 0 {
            return;
        }
        let key = (self.priority_key(&task), task.seq, tiebreak);
        self.pending_count += u64::from(count);
        if let Some(run) = self.pending.get_mut(&key) {
            run.count += count;
        } else {
            let shape = self.shapes.add(&task, key);
            self.pending.insert(key, Run { task, count, shape });
        }
        self.on_change_for_offers();
    }

    fn arrival(&mut self) -> Result<(), Error> {
        let spec = self.source.next().expect("an arrival event means a task");
        if spec.arrival < self.now {
            return Err(Error::Workload(format!(
                "task `{}` arrives at {} µs, before the task before it ({} µs): tasks must be in arrival order",
                spec.name, spec.arrival, self.now
            )));
        }
        self.first_arrival.get_or_insert(spec.arrival);
        let template = self.c.task(&spec, self.seq)?;
        self.seq += 1;
        let instances = spec.instances.max(1);
        self.arrived += u64::from(instances);
        let mut placed = 0;
        if self.offers.is_none() {
            while placed < instances && self.try_place(&template) {
                placed += 1;
            }
        }
        self.enqueue(template, instances - placed, 0);
        if let Some(next) = self.source.peek() {
            self.queue.push(next.arrival.max(self.now), Ev::Arrival);
        }
        Ok(())
    }

    /// Places an instance of `template` now if anything fits; true on success.
    fn try_place(&mut self, template: &Task) -> bool {
        match self.c.place(self.policy, template) {
            Some(p) => {
                let slot = self.tasks.insert(template.clone());
                self.started(slot, p);
                true
            }
            None => false,
        }
    }

    /// Bookkeeping of a task whose resources are allocated on `p.machine` (and group counted).
    fn started(&mut self, slot: u32, p: Placement) {
        self.c.record_start(slot, p.machine);
        let now = self.now;
        let task = self.tasks.get_mut(slot);
        task.placed = Some(p);
        task.started = now;
        if !task.waited {
            task.waited = true;
            self.rec.waits.push(now - task.arrival);
        }
        if let Some(d) = task.duration {
            let generation = self.tasks.generation(slot);
            self.queue.push(now + d, Ev::Departure { slot, generation });
            self.departures += 1;
        }
        self.placed += 1;
        self.running += 1;
        self.version += 1;
        self.last_change = self.last_change.max(now);
        if let Some(f) = &mut self.frag {
            f.invalidate(p.machine);
        }
    }

    fn departure(&mut self, slot: u32, generation: u32) {
        // The departure of a run that was cut short (machine lost) is stale.
        if !self.tasks.is_live(slot, generation) {
            return;
        }
        self.departures -= 1;
        let task = self.tasks.remove(slot);
        self.c.stop(slot, &task);
        let m = task.placed.expect("running").machine;
        if let Some(f) = &mut self.frag {
            f.invalidate(m);
        }
        self.note_freed(Some(m));
        self.finished += 1;
        self.running -= 1;
        self.last_change = self.last_change.max(self.now);
        self.on_free();
    }

    /// Records a machine with more free resources (`None`: the cluster changed in a way that needs a
    /// full look, such as a new machine).
    fn note_freed(&mut self, m: Option<MachineId>) {
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

    /// Resources freed up: queued tasks may fit now.
    fn on_free(&mut self) {
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

    fn on_change_for_offers(&mut self) {
        if self.offers.is_some() {
            self.arm_tick(self.now);
        }
    }

    /// Removes run `key` from the queue's indexes.
    fn dequeue(&mut self, key: RunKey) {
        if let Some(run) = self.pending.remove(&key) {
            self.shapes.remove(&run.task, run.shape, key);
        }
    }

    /// Tries the queue in order, each run of identical tasks until one of them does not fit.
    ///
    /// A queued run fitted nowhere at the last pass, and only the machines that freed up since can
    /// have changed that: the pass looks only at shapes small enough (in the first dimension) for
    /// the room those machines have, and that fit one of them, and takes their runs in queue
    /// order. Resources only shrink during a pass, so once a shape stops fitting, none of its
    /// later runs is tried: a pass costs a test per queued shape, not per queued run.
    fn retry(&mut self) {
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

    fn machine_event(&mut self, i: usize) -> Result<(), Error> {
        self.machine_events_left -= 1;
        let event = &self.machine_events[i];
        match &event.change {
            MachineChange::Add(spec) => {
                let m = self.c.add(spec)?;
                if self.filters.len() <= m.index() {
                    self.filters.resize_with(m.index() + 1, || None);
                }
                if let Some(f) = &mut self.frag {
                    f.invalidate(m);
                }
                self.note_freed(None);
                self.on_free();
            }
            MachineChange::Remove => {
                if let Some(m) = self.c.id(&event.machine) {
                    self.c.set_available(m, false);
                    for slot in self.c.running_on[m.index()].clone() {
                        self.lose(slot);
                    }
                    if let Some(f) = self.filters.get_mut(m.index()) {
                        *f = None;
                    }
                }
            }
            MachineChange::Update(capacity) => {
                if let Some(m) = self.c.id(&event.machine) {
                    // Evict the most recently started tasks until the new capacity holds the rest.
                    while self.c.update(m, capacity).is_err() {
                        let newest = self.c.running_on[m.index()]
                            .iter()
                            .copied()
                            .max_by_key(|&s| (self.tasks.get(s).started, self.tasks.get(s).seq));
                        match newest {
                            Some(slot) => self.lose(slot),
                            None => {
                                return Err(Error::machine(
                                    &event.machine,
                                    "update below an idle machine's use",
                                ));
                            }
                        }
                    }
                    if let Some(f) = &mut self.frag {
                        f.invalidate(m);
                    }
                    self.note_freed(None);
                    self.on_free();
                }
            }
        }
        Ok(())
    }

    /// A running task loses its machine: killed, or back to the queue.
    fn lose(&mut self, slot: u32) {
        let task = self.tasks.get(slot).clone();
        self.c.stop(slot, &task);
        if let Some(f) = &mut self.frag {
            f.invalidate(task.placed.expect("running").machine);
        }
        self.running -= 1;
        if task.duration.is_some() {
            self.departures -= 1;
        }
        let mut t = self.tasks.remove(slot);
        t.placed = None;
        t.retries += 1;
        if self.config.on_machine_loss == OnMachineLoss::Kill || t.retries > self.config.max_retries {
            self.failed += 1;
        } else {
            self.requeued += 1;
            let tiebreak = self.next_tiebreak;
            self.next_tiebreak += 1;
            // The requeued task never failed a pass: it must be looked at against every machine.
            self.note_freed(None);
            self.enqueue(t, 1, tiebreak);
            self.on_free();
        }
    }

    /// Schedules an allocation tick at the first allocation time at or after `at`.
    fn arm_tick(&mut self, at: Time) {
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
    fn tick(&mut self, t: Time) {
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
                .is_some_and(|f| f.until > t && free.iter().zip(&f.refused).all(|(x, r)| x <= r));
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
        // The queue as items. A run contributes at most as many instances as the offers could
        // hold in total, so a huge queue costs no more than the cluster's size.
        let dims = self.c.schema.len();
        let mut offered_total = vec![0u128; dims];
        for &m in &offered {
            for (t, &f) in offered_total.iter_mut().zip(self.c.cluster.free(m)) {
                *t += u128::from(f);
            }
        }
        let mut max_offered = vec![0u64; dims];
        for &m in &offered {
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
            if !fits_some_offer && !o.head_of_line {
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
        let placements = if owner.is_empty() {
            Vec::new()
        } else {
            let items = Items::new(demands)
                .with_gpus(gpus)
                .and_then(|i| i.with_models(models))
                .and_then(|i| i.with_groups(groups))
                .expect("one entry per item");
            let templates: Vec<&Task> = owner.iter().map(|k| &self.pending[k].task).collect();
            let mut hooks = GroupHooks {
                counts: &mut self.c.group_count,
                templates: &templates,
            };
            let packing = pack_with(
                self.policy,
                &mut self.c.cluster,
                &items,
                &mut hooks,
                o.head_of_line,
            )
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
        };
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
            self.filters[m.index()] = (refuse > 0).then(|| Filter {
                until: t + refuse.max(o.interval),
                refused: self.c.cluster.free(m).to_vec(),
            });
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
                .map(|f| f.until)
                .filter(|&u| u > t)
                .min()
            {
                self.arm_tick(until);
            }
        }
    }

    /// True when some queued task fits (and may go on) one of `machines`.
    fn could_use_any(&self, machines: &[MachineId]) -> bool {
        machines.iter().any(|&m| {
            self.pending.values().any(|run| {
                self.c.cluster.fits_request(m, &run.task.request()) && self.c.eligible(&run.task, m)
            })
        })
    }

    fn sample(&mut self) {
        // The distinct queued shapes, not every queued run: the same minimal shapes, at a cost
        // that does not grow with the queue (millions of runs when placement falls behind, where
        // collecting and sorting them took most of a replay's time).
        let shapes = minimal_shapes(
            self.shapes
                .by_size
                .iter()
                .map(|&(_, id)| {
                    let task = &self.shapes.template[id as usize];
                    Shape {
                        demand: task.demand.clone(),
                        gpu: task.gpu,
                        models: task.models,
                    }
                })
                .collect(),
        );
        let gpu_fragmentation = self.frag.as_mut().map(|f| f.total(&self.c.cluster));
        let sample = Sample {
            time: self.now,
            arrived_pct: None,
            allocated: self.c.allocated(),
            capacity: self.c.available_capacity.iter().map(|&c| c as u64).collect(),
            stranded: stranded(&self.c.cluster, &shapes),
            machines_available: self.c.machines_available,
            machines_used: self.c.machines_used,
            pending: self.pending_count,
            running: self.running,
            arrived: self.arrived,
            placed: self.placed,
            finished: self.finished,
            failed: self.failed,
            gpu_fragmentation,
        };
        self.rec.push(sample);
    }
}

/// Anti-affinity during an offer batch: item `i` is an instance of `templates[i]`.
struct GroupHooks<'a> {
    counts: &'a mut std::collections::HashMap<(u32, u32), u32>,
    templates: &'a [&'a Task],
}

impl PackHooks for GroupHooks<'_> {
    fn eligible(&self, item: usize, m: MachineId) -> bool {
        let task = self.templates[item];
        task.max_per_machine == 0
            || task.group == u32::MAX
            || self.counts.get(&(task.group, m.0)).copied().unwrap_or(0) < task.max_per_machine
    }

    fn placed(&mut self, item: usize, m: MachineId) {
        let task = self.templates[item];
        if task.group != u32::MAX {
            *self.counts.entry((task.group, m.0)).or_insert(0) += 1;
        }
    }
}

/// The FGD target workload of `tasks`: classes of (cpu, GPU demand, GPU models) covering 95% of
/// them, with model ids from the simulated cluster's registry.
/// `policy`, or a copy of it measuring fragmentation against the workload's task classes (the
/// paper's "typical pods": those of the whole workload, the same as the metric's) when it needs a
/// target workload and has none.
pub(crate) fn with_target<'p>(
    policy: &'p Policy,
    frag: Option<&FragCache>,
    c: &mut SimCluster,
    tasks: Option<&[TaskSpec]>,
) -> Result<Cow<'p, Policy>, Error> {
    if !policy.needs_target() || policy.target().is_some() {
        return Ok(Cow::Borrowed(policy));
    }
    let target = match (frag, tasks) {
        (Some(f), _) => f.target().clone(),
        (None, Some(tasks)) => {
            let cpu = c.cpu_dim.unwrap_or(0);
            target_workload(c, tasks, cpu)?
        }
        (None, None) => {
            return Err(Error::Workload(format!(
                "`{policy}` measures fragmentation against the whole workload's task classes: give it a target workload, or run it on a loaded workload rather than a stream"
            )));
        }
    };
    Ok(Cow::Owned(policy.clone().with_target(target)))
}

pub(crate) fn target_workload(
    c: &mut SimCluster,
    tasks: &[TaskSpec],
    cpu_dim: usize,
) -> Result<TargetWorkload, Error> {
    let mut classes = Vec::with_capacity(tasks.len());
    for (i, spec) in tasks.iter().enumerate() {
        let t = c.task(spec, i as u64)?;
        classes.push((t.demand[cpu_dim], t.gpu, t.models));
    }
    Ok(TargetWorkload::from_tasks(classes, POPULARITY_COVERAGE))
}
