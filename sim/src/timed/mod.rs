//! The timed models over one event loop: the global view ([`global`]) and the Mesos offer
//! cycle ([`offers`]), sharing the run queue ([`queue`]).
//!
//! This module holds the event loop itself: the simulation's state ([`Sim`]), the events, and
//! what arrivals, departures, machine events and samples do to the state. The models differ only
//! in when they place: on arrival and on a retry pass (global), or at allocation ticks (offers).

mod global;
mod offers;
mod queue;

use std::collections::{BTreeMap, HashMap};
use std::iter::Peekable;

use packing::{MachineId, Placement, Policy};

use crate::config::{Config, Model, Offers, OnMachineLoss, QueueOrder};
use crate::deps::{Deps, Release};
use crate::engine::EventQueue;
use crate::error::Error;
use crate::metrics::{Counts, FragCache, Over, Recorder, Shape, minimal_shapes};
use crate::setup::{Setup, setup};
use crate::state::{SimCluster, Task, Tasks};
use crate::workload::{MachineChange, MachineEvent, MachineSpec, SECOND, TaskSpec, Time};
use crate::{Observer, Outcome, Progress, Started};
use offers::Filter;
use queue::{Run, RunKey, Shapes};

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival,
    Departure {
        slot: u32,
        generation: u32,
    },
    Machine(usize),
    Retry,
    Tick,
    Sample,
    /// A task held by its dependencies becomes schedulable (its position in arrival order).
    Release(u32),
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
    /// The task graph and jobs, when the workload has them.
    pub deps: Option<Deps>,
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
    observer: &'a mut dyn Observer,
    /// Dependencies and jobs, when the workload has them.
    deps: Option<Deps>,
    /// Tasks held by their dependencies (and those whose release is scheduled), by arrival
    /// position, with their instance counts.
    held: HashMap<u32, (Task, u32)>,
    /// The queue order of the next task to join the queue.
    next_order: u64,
}

pub(crate) fn run<I: Iterator<Item = TaskSpec>>(
    input: Input<'_, I>,
    policy: &Policy,
    config: &Config,
    observer: &mut dyn Observer,
) -> Result<Outcome, Error> {
    let (offers, order) = match &config.model {
        Model::Global { order } => (None, *order),
        Model::Offers(o) => (Some(*o), o.order),
        Model::ArriveOnly(_) => unreachable!("arrive-only is not timed"),
    };
    let Setup { c, frag, policy } = setup(input.schema, input.machines, policy, input.target)?;
    if matches!(config.model, Model::Offers(_)) {
        // The offer model packs each round's offers as a batch: the policy must allow it.
        policy.check_batch().map_err(|e| Error::Workload(e.to_string()))?;
    }
    let sample_every = config.sample_interval.unwrap_or_else(|| {
        let span = input.span.map_or(0, |(a, b)| b - a);
        (span / 500).max(SECOND)
    });
    let policy = policy.as_ref();
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
        observer,
        deps: input.deps,
        held: HashMap::new(),
        next_order: 0,
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
    sim.main_loop()?;
    sim.sample();
    // Every task is finished, failed, running or unplaced; resources are released exactly once.
    let unplaced = sim.pending_count;
    let held = sim.deps.as_ref().map_or(0, |d| d.held);
    debug_assert_eq!(
        sim.arrived,
        sim.finished + sim.failed + sim.running + unplaced + held
    );
    debug_assert_eq!(sim.tasks.live() as u64, sim.running);
    let counts = sim.counts();
    let makespan = sim
        .first_arrival
        .map(|a| (sim.last_change - a).max(0) as f64 / SECOND as f64);
    let machines = sim.c.cluster.len() as u64;
    let (job_stats, jobs) = sim.deps.as_ref().map_or((None, Vec::new()), Deps::jobs);
    let summary = sim.rec.summarise(
        input.name,
        policy,
        config,
        machines,
        counts,
        Over::Time {
            makespan,
            jobs: job_stats.map(Box::new),
        },
    );
    Ok(Outcome {
        schema: input.schema.clone(),
        summary,
        series: sim.rec.samples,
        jobs,
    })
}

impl<I: Iterator<Item = TaskSpec>> Sim<'_, I> {
    fn main_loop(&mut self) -> Result<(), Error> {
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
            if matches!(
                ev,
                Ev::Arrival | Ev::Departure { .. } | Ev::Machine(_) | Ev::Release(_)
            ) {
                self.version += 1;
            }
            match ev {
                Ev::Arrival => self.arrival()?,
                Ev::Departure { slot, generation } => self.departure(slot, generation),
                Ev::Machine(i) => self.machine_event(i)?,
                Ev::Retry => self.retry(),
                Ev::Tick => self.tick(t),
                Ev::Release(i) => {
                    if let Some(d) = &mut self.deps {
                        d.released(i);
                    }
                    self.release(i);
                }
                Ev::Sample => {
                    self.sample();
                    if self.active() {
                        self.queue.push_late(self.now + self.sample_every, Ev::Sample);
                    }
                }
            }
            if self.events % 65_536 == 0 {
                self.observer.progress(Progress {
                    arrived: self.arrived,
                    time: self.now,
                });
            }
        }
        self.observer.progress(Progress {
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
            || self.deps.as_ref().is_some_and(|d| d.releases_pending > 0)
    }

    fn arrival(&mut self) -> Result<(), Error> {
        let spec = self.source.next().expect("an arrival event means a task");
        if spec.arrival < self.now {
            return Err(Error::Workload(format!(
                "task `{}` arrives at {} µs, before the task before it ({} µs): tasks must be in arrival order",
                spec.name, spec.arrival, self.now
            )));
        }
        if self.deps.is_none() && !spec.after.is_empty() {
            return Err(Error::task(
                &spec.name,
                "has dependencies, but a streamed workload cannot: load it whole",
            ));
        }
        self.first_arrival.get_or_insert(spec.arrival);
        let template = self.c.task(&spec, self.seq)?;
        let seq = self.seq as u32;
        self.seq += 1;
        let instances = spec.instances.max(1);
        self.arrived += u64::from(instances);
        if let Some(next) = self.source.peek() {
            self.queue.push(next.arrival.max(self.now), Ev::Arrival);
        }
        let release = match &mut self.deps {
            Some(d) => d.arrive(seq, self.now),
            None => Release::Now,
        };
        match release {
            Release::Now => self.schedulable(template, instances),
            Release::At(t) => {
                self.held.insert(seq, (template, instances));
                self.queue.push(t, Ev::Release(seq));
            }
            Release::None => {
                if self.deps.as_ref().is_some_and(|d| d.is_failed(seq)) {
                    self.failed += u64::from(instances);
                } else {
                    self.held.insert(seq, (template, instances));
                }
            }
        }
        Ok(())
    }

    /// A task that waited for its dependencies may be scheduled now.
    fn release(&mut self, seq: u32) {
        let (mut template, instances) = self.held.remove(&seq).expect("a released task was held");
        // Its wait in the queue starts now.
        template.arrival = self.now;
        self.schedulable(template, instances);
    }

    /// `instances` of `template` join the queue (the global model places what it can first).
    fn schedulable(&mut self, mut template: Task, instances: u32) {
        template.order = self.next_order;
        self.next_order += 1;
        let mut placed = 0;
        if self.offers.is_none() {
            while placed < instances && self.try_place(&template) {
                placed += 1;
            }
        }
        self.enqueue(template, instances - placed, 0);
    }

    /// Bookkeeping of a task whose resources are allocated on `p.machine` (and group counted).
    fn started(&mut self, slot: u32, p: Placement) {
        self.c.record_start(slot, p.machine);
        let now = self.now;
        let task = self.tasks.get_mut(slot);
        self.observer.started(Started {
            time: now,
            task: task.seq,
            machine: p.machine,
            devices: p.devices,
        });
        task.placed = Some(p);
        task.started = now;
        let seq = task.seq as u32;
        if !task.waited {
            task.waited = true;
            self.rec.waits.push(now - task.arrival);
        }
        if let Some(d) = &mut self.deps {
            d.started(seq, now);
        }
        let task = self.tasks.get(slot);
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
        if let Some(d) = &mut self.deps {
            let mut released = Vec::new();
            d.finished(task.seq as u32, self.now, |c, r| released.push((c, r)));
            for (c, r) in released {
                match r {
                    Release::Now => self.release(c),
                    Release::At(t) => self.queue.push(t, Ev::Release(c)),
                    Release::None => {}
                }
            }
        }
        self.on_free();
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
            if let Some(d) = &mut self.deps {
                for c in d.failed(t.seq as u32, self.now) {
                    let (_, n) = self.held.remove(&c).expect("a cancelled held task was held");
                    self.failed += u64::from(n);
                }
            }
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

    /// What the run has counted so far (`unplaced`: queued now).
    fn counts(&self) -> Counts {
        Counts {
            arrived: self.arrived,
            placed: self.placed,
            finished: self.finished,
            failed: self.failed,
            running: self.running,
            unplaced: self.pending_count,
            requeued: self.requeued,
            events: self.events,
            held: self.deps.as_ref().map_or(0, |d| d.held),
            cancelled: self.deps.as_ref().map_or(0, |d| d.cancelled),
            jobs_running: self.deps.as_ref().map_or(0, |d| d.jobs_running),
        }
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
        let counts = self.counts();
        let sample = self
            .c
            .sample(self.now, None, &counts, &shapes, self.frag.as_mut());
        self.rec.push(sample);
    }
}
