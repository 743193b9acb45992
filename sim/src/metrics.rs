//! What a run measures: a time series of samples and a summary.

use std::fmt::Write as _;
use std::io;

use packing::frag::{TargetWorkload, fragmentation_of, idle_gpu};
use packing::{Cluster, GpuDemand, MachineId, ModelSet, Request, Schema};

use crate::workload::{SECOND, Time};

/// The state of the cluster at one point of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Simulated time (µs); in an arrive-only replay, the number of tasks arrived so far.
    pub time: Time,
    /// Arrive-only: arrived demand as a percentage of capacity in the replay's dimension.
    pub arrived_pct: Option<f64>,
    /// Per dimension, the amount allocated to tasks.
    pub allocated: Vec<u64>,
    /// Per dimension, the capacity of available machines.
    pub capacity: Vec<u64>,
    /// Per dimension, free capacity on machines where no queued task's shape fits.
    pub stranded: Vec<u64>,
    /// Available machines.
    pub machines_available: u32,
    /// Machines running at least one task.
    pub machines_used: u32,
    /// Tasks waiting to be placed.
    pub pending: u64,
    /// Tasks running.
    pub running: u64,
    /// Tasks arrived so far (instances).
    pub arrived: u64,
    /// Placements so far (a requeued task counts once per placement).
    pub placed: u64,
    /// Tasks finished so far.
    pub finished: u64,
    /// Tasks failed so far (killed on a lost machine, out of retries, or fitting nowhere in an
    /// arrive-only replay).
    pub failed: u64,
    /// GPU clusters: the FGD fragmentation Σ F_n(M) in milli-GPU, and the idle GPU milli.
    pub gpu_fragmentation: Option<(f64, u64)>,
    /// Tasks held by their dependencies.
    pub held: u64,
    /// Jobs arrived and not yet ended.
    pub jobs_running: u64,
}

impl Sample {
    /// Allocation as a fraction of available capacity, per dimension (0 where there is none).
    pub fn utilisation(&self) -> Vec<f64> {
        self.allocated
            .iter()
            .zip(&self.capacity)
            .map(|(&a, &c)| if c == 0 { 0.0 } else { a as f64 / c as f64 })
            .collect()
    }
}

/// The `p`-th quantile of non-empty `sorted` values by nearest rank: the ⌈p·n⌉-th smallest.
fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> T {
    let n = sorted.len();
    sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1]
}

/// Wait-time statistics in seconds, over tasks that were placed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaitStats {
    /// Tasks counted.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// The distribution: `cdf[k]` is the k-th percentile (nearest rank), `cdf[0]` the smallest.
    pub cdf: [f64; 101],
}

impl WaitStats {
    /// Statistics of `waits` (µs), nearest-rank percentiles; `None` when empty.
    pub fn of(mut waits: Vec<Time>) -> Option<WaitStats> {
        if waits.is_empty() {
            return None;
        }
        waits.sort_unstable();
        let n = waits.len();
        let secs = |t: Time| t as f64 / SECOND as f64;
        let rank = |p: f64| nearest_rank(&waits, p);
        Some(WaitStats {
            count: n as u64,
            mean: waits.iter().map(|&w| secs(w)).sum::<f64>() / n as f64,
            p50: secs(rank(0.50)),
            p95: secs(rank(0.95)),
            p99: secs(rank(0.99)),
            max: secs(waits[n - 1]),
            cdf: std::array::from_fn(|k| {
                if k == 0 {
                    secs(waits[0])
                } else {
                    secs(rank(k as f64 / 100.0))
                }
            }),
        })
    }
}

/// Mean and nearest-rank percentiles of plain numbers (slowdowns).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// Values counted.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when empty.
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable_by(f64::total_cmp);
        let n = values.len();
        let rank = |p: f64| nearest_rank(&values, p);
        Some(Spread {
            count: n as u64,
            mean: values.iter().sum::<f64>() / n as f64,
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: values[n - 1],
        })
    }
}

/// One job of a run: when it arrived, whether and when it completed, and its critical path.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    /// The job's name.
    pub name: String,
    /// Task records in it.
    pub tasks: u32,
    /// Its first task's arrival, µs.
    pub arrival: Time,
    /// A task of it failed or was cancelled.
    pub failed: bool,
    /// Job completion time (arrival to the last task's end), µs, when every task finished.
    pub completion: Option<Time>,
    /// When its first task started, µs.
    pub first_start: Option<Time>,
    /// When its last task ended, µs, when every task finished.
    pub finish: Option<Time>,
    /// Critical-path lower bound of the completion time (the longest chain of delays and
    /// durations, ignoring capacity), µs; `None` when a task never ends.
    pub bound: Option<Time>,
}

impl JobRecord {
    /// Completion time over the critical-path bound; `None` unless completed with a positive bound.
    pub fn slowdown(&self) -> Option<f64> {
        match (self.completion, self.bound) {
            (Some(c), Some(b)) if b > 0 => Some(c as f64 / b as f64),
            _ => None,
        }
    }

    /// From the first start to the last end, µs, when the job completed.
    pub fn makespan(&self) -> Option<Time> {
        self.finish.zip(self.first_start).map(|(f, s)| f - s)
    }
}

/// The jobs of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct JobStats {
    /// Jobs in the workload.
    pub jobs: u64,
    /// Jobs whose every task finished.
    pub completed: u64,
    /// Jobs with a failed or cancelled task.
    pub failed: u64,
    /// Job completion times (seconds) of completed jobs.
    pub completion: Option<WaitStats>,
    /// Slowdowns (completion over critical path) of completed jobs.
    pub slowdown: Option<Spread>,
    /// Mean makespan (first start to last end), seconds, of completed jobs.
    pub makespan_mean: Option<f64>,
}

impl JobStats {
    /// The statistics of `jobs`.
    pub fn of(jobs: &[JobRecord]) -> JobStats {
        let makespans: Vec<f64> = jobs
            .iter()
            .filter_map(JobRecord::makespan)
            .map(|t| t as f64 / SECOND as f64)
            .collect();
        JobStats {
            jobs: jobs.len() as u64,
            completed: jobs.iter().filter(|j| j.completion.is_some()).count() as u64,
            failed: jobs.iter().filter(|j| j.failed).count() as u64,
            completion: WaitStats::of(jobs.iter().filter_map(|j| j.completion).collect()),
            slowdown: Spread::of(jobs.iter().filter_map(JobRecord::slowdown).collect()),
            makespan_mean: (!makespans.is_empty())
                .then(|| makespans.iter().sum::<f64>() / makespans.len() as f64),
        }
    }
}

/// Writes one row per job: name, tasks, arrival, first start, finish, completion time, bound,
/// slowdown, makespan (seconds) and whether it failed.
pub fn write_jobs(jobs: &[JobRecord], out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(
        b"job,tasks,arrival_s,first_start_s,finish_s,completion_s,bound_s,slowdown,makespan_s,failed\n",
    )?;
    let secs = |t: Option<Time>| t.map_or(String::new(), |t| (t as f64 / SECOND as f64).to_string());
    for j in jobs {
        let name = if j.name.contains([',', '"', '\n']) {
            format!("\"{}\"", j.name.replace('"', "\"\""))
        } else {
            j.name.clone()
        };
        writeln!(
            out,
            "{name},{},{},{},{},{},{},{},{},{}",
            j.tasks,
            secs(Some(j.arrival)),
            secs(j.first_start),
            secs(j.finish),
            secs(j.completion),
            secs(j.bound),
            j.slowdown().map_or(String::new(), |s| s.to_string()),
            secs(j.makespan()),
            j.failed
        )?;
    }
    Ok(())
}

/// What a run ended with.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The workload's name.
    pub workload: String,
    /// The policy's name.
    pub policy: String,
    /// The scheduler model's name.
    pub model: String,
    /// The run's seed.
    pub seed: u64,
    /// Machines ever in the cluster.
    pub machines: u64,
    /// Tasks arrived (instances).
    pub arrived: u64,
    /// Placements (a requeued task counts once per placement).
    pub placed: u64,
    /// Tasks that finished.
    pub finished: u64,
    /// Tasks that failed.
    pub failed: u64,
    /// Tasks still running at the end (tasks without a duration never end).
    pub running: u64,
    /// Tasks never placed, or queued again and not placed, by the end.
    pub unplaced: u64,
    /// Times a task was put back in the queue after losing its machine.
    pub requeued: u64,
    /// Wait from arrival to first placement.
    pub wait: Option<WaitStats>,
    /// From the first arrival to the last completion or placement, in seconds.
    pub makespan: Option<f64>,
    /// Per dimension, time-weighted mean of allocation over available capacity between the first
    /// and the last arrival (arrive-only: at the end).
    pub utilisation: Vec<f64>,
    /// Time-weighted mean number of machines running tasks, between the first and last arrival.
    pub mean_machines_used: f64,
    /// Most machines running tasks at once.
    pub peak_machines_used: u32,
    /// Per dimension, mean over samples of stranded capacity as a fraction of capacity.
    pub stranded: Vec<f64>,
    /// GPU clusters: FGD fragmentation ratio (fragmented over idle GPU) at the end.
    pub gpu_fragmentation_ratio: Option<f64>,
    /// Arrive-only: arrived demand at the end as % of capacity.
    pub arrived_pct: Option<f64>,
    /// Events processed.
    pub events: u64,
    /// Tasks still held by their dependencies at the end (a parent never finished).
    pub held: u64,
    /// Tasks cancelled because a parent failed (counted in `failed` too).
    pub cancelled: u64,
    /// The jobs, when the workload names them.
    pub jobs: Option<JobStats>,
}

/// What a model counted over a run, for its summary.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub arrived: u64,
    pub placed: u64,
    pub finished: u64,
    pub failed: u64,
    pub running: u64,
    pub unplaced: u64,
    pub requeued: u64,
    pub events: u64,
    pub held: u64,
    pub cancelled: u64,
    pub jobs_running: u64,
}

/// How a model's summary reads its recorder: averaged over the arrival window (the timed
/// models), or the state at the end (arrive-only, where the end is the target).
#[derive(Clone, Debug)]
pub(crate) enum Over {
    /// Time-weighted means; the makespan in seconds, if anything arrived; the jobs, if any.
    Time {
        makespan: Option<f64>,
        jobs: Option<Box<JobStats>>,
    },
    /// The last sample; the arrived demand at the end, % of capacity.
    End { arrived_pct: f64 },
}

impl Summary {
    /// The summary as named metrics, the one serialisation of a run's results: `results.csv`'s
    /// metric column and `packsim replay`'s `summary.json` both take these names and values.
    /// `dims` names the schema's dimensions (for `utilisation_cpus`, ...); non-finite values are
    /// left out.
    pub fn metrics(&self, dims: &[&str]) -> Vec<(String, f64)> {
        let mut m: Vec<(String, f64)> = Vec::new();
        let mut put = |name: &str, v: f64| {
            if v.is_finite() {
                m.push((name.to_string(), v));
            }
        };
        put("arrived", self.arrived as f64);
        put("placed", self.placed as f64);
        put("finished", self.finished as f64);
        put("failed", self.failed as f64);
        put("unplaced", self.unplaced as f64);
        put("requeued", self.requeued as f64);
        if self.jobs.is_some() || self.held > 0 || self.cancelled > 0 {
            put("held", self.held as f64);
            put("cancelled", self.cancelled as f64);
        }
        if self.arrived > 0 {
            let placed = if self.arrived_pct.is_some() {
                self.placed
            } else {
                self.arrived.saturating_sub(self.unplaced + self.failed)
            };
            put("placed_fraction", placed as f64 / self.arrived as f64);
        }
        if let Some(w) = &self.wait {
            put("wait_mean_s", w.mean);
            put("wait_p50_s", w.p50);
            put("wait_p95_s", w.p95);
            put("wait_p99_s", w.p99);
            put("wait_max_s", w.max);
        }
        if let Some(ms) = self.makespan {
            put("makespan_s", ms);
        }
        for (d, name) in dims.iter().enumerate() {
            put(&format!("utilisation_{name}"), self.utilisation[d]);
        }
        for (d, name) in dims.iter().enumerate() {
            put(&format!("stranded_{name}"), self.stranded[d]);
        }
        put("machines_used_mean", self.mean_machines_used);
        put("machines_used_peak", f64::from(self.peak_machines_used));
        if let Some(f) = self.gpu_fragmentation_ratio {
            put("gpu_frag_ratio", f);
        }
        if let Some(p) = self.arrived_pct {
            put("arrived_pct", p);
        }
        if let Some(j) = &self.jobs {
            put("jobs", j.jobs as f64);
            put("jobs_completed", j.completed as f64);
            put("jobs_failed", j.failed as f64);
            if let Some(c) = &j.completion {
                put("jct_mean_s", c.mean);
                put("jct_p50_s", c.p50);
                put("jct_p95_s", c.p95);
                put("jct_p99_s", c.p99);
            }
            if let Some(s) = &j.slowdown {
                put("slowdown_mean", s.mean);
                put("slowdown_p50", s.p50);
                put("slowdown_p95", s.p95);
                put("slowdown_p99", s.p99);
            }
            if let Some(ms) = j.makespan_mean {
                put("job_makespan_mean_s", ms);
            }
        }
        m
    }
}

/// Time-weighted integrals and counters while a run goes on.
#[derive(Default)]
pub(crate) struct Recorder {
    pub allocated_time: Vec<f64>,
    pub capacity_time: Vec<f64>,
    pub machines_used_time: f64,
    pub span: f64,
    pub waits: Vec<Time>,
    pub peak_machines_used: u32,
    pub stranded_sum: Vec<f64>,
    pub samples: Vec<Sample>,
}

impl Recorder {
    /// The summary of a run, the one path every model ends with.
    pub(crate) fn summarise(
        &mut self,
        workload: &str,
        policy: &packing::Policy,
        config: &crate::Config,
        machines: u64,
        counts: Counts,
        over: Over,
    ) -> Summary {
        let last = self.samples.last();
        let gpu_fragmentation_ratio = last
            .and_then(|s| s.gpu_fragmentation)
            .map(|(f, idle)| if idle == 0 { 0.0 } else { f / idle as f64 });
        let (over, jobs) = match over {
            Over::Time { makespan, jobs } => (Over::Time { makespan, jobs: None }, jobs.map(|j| *j)),
            end => (end, None),
        };
        let (utilisation, mean_machines_used, peak_machines_used, wait, makespan, arrived_pct) = match over {
            Over::Time { makespan, .. } => (
                self.utilisation(),
                self.mean_machines_used(),
                self.peak_machines_used,
                WaitStats::of(std::mem::take(&mut self.waits)),
                makespan,
                None,
            ),
            Over::End { arrived_pct } => {
                let last = last.expect("an arrive-only replay records its end");
                (
                    last.utilisation(),
                    f64::from(last.machines_used),
                    last.machines_used,
                    None,
                    None,
                    Some(arrived_pct),
                )
            }
        };
        Summary {
            workload: workload.to_string(),
            policy: policy.name(),
            model: config.model.name().to_string(),
            seed: config.seed,
            machines,
            arrived: counts.arrived,
            placed: counts.placed,
            finished: counts.finished,
            failed: counts.failed,
            running: counts.running,
            unplaced: counts.unplaced,
            requeued: counts.requeued,
            wait,
            makespan,
            utilisation,
            mean_machines_used,
            peak_machines_used,
            stranded: self.mean_stranded(),
            gpu_fragmentation_ratio,
            arrived_pct,
            events: counts.events,
            held: counts.held,
            cancelled: counts.cancelled,
            jobs,
        }
    }

    pub(crate) fn new(dims: usize) -> Recorder {
        Recorder {
            allocated_time: vec![0.0; dims],
            capacity_time: vec![0.0; dims],
            stranded_sum: vec![0.0; dims],
            ..Recorder::default()
        }
    }

    /// Adds `dt` µs of the current state to the integrals.
    pub(crate) fn advance(&mut self, dt: Time, allocated: &[u64], capacity: &[u128], machines_used: u32) {
        if dt <= 0 {
            return;
        }
        let dt = dt as f64;
        for (d, (&a, &c)) in allocated.iter().zip(capacity).enumerate() {
            self.allocated_time[d] += a as f64 * dt;
            self.capacity_time[d] += c as f64 * dt;
        }
        self.machines_used_time += f64::from(machines_used) * dt;
        self.span += dt;
    }

    /// Notes the machines in use in a state that lasts (time moves on from it): the peak counts
    /// every such state, not only the sampled ones.
    pub(crate) fn note_machines_used(&mut self, machines_used: u32) {
        self.peak_machines_used = self.peak_machines_used.max(machines_used);
    }

    pub(crate) fn push(&mut self, sample: Sample) {
        for (s, (&x, &c)) in self
            .stranded_sum
            .iter_mut()
            .zip(sample.stranded.iter().zip(&sample.capacity))
        {
            if c > 0 {
                *s += x as f64 / c as f64;
            }
        }
        self.peak_machines_used = self.peak_machines_used.max(sample.machines_used);
        self.samples.push(sample);
    }

    pub(crate) fn utilisation(&self) -> Vec<f64> {
        self.allocated_time
            .iter()
            .zip(&self.capacity_time)
            .map(|(&a, &c)| if c > 0.0 { a / c } else { 0.0 })
            .collect()
    }

    pub(crate) fn mean_stranded(&self) -> Vec<f64> {
        let n = self.samples.len().max(1) as f64;
        self.stranded_sum.iter().map(|s| s / n).collect()
    }

    pub(crate) fn mean_machines_used(&self) -> f64 {
        if self.span > 0.0 {
            self.machines_used_time / self.span
        } else {
            0.0
        }
    }
}

/// A queued task's shape, for the stranded-resources measure.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Shape {
    pub demand: Vec<u64>,
    pub gpu: GpuDemand,
    pub models: ModelSet,
}

/// The shapes no other shape is component-wise smaller than (with the same GPU demand and models):
/// if a machine fits none of these, it fits no shape at all.
///
/// Shapes are taken smallest total first, so a shape can only be dominated by one already kept:
/// O(n · frontier) instead of O(n²).
pub(crate) fn minimal_shapes(mut shapes: Vec<Shape>) -> Vec<Shape> {
    shapes.sort_by(|a, b| {
        let total = |s: &Shape| s.demand.iter().map(|&x| u128::from(x)).sum::<u128>();
        total(a).cmp(&total(b)).then_with(|| a.cmp(b))
    });
    shapes.dedup();
    let mut kept: Vec<Shape> = Vec::new();
    for s in shapes {
        let dominated = kept.iter().any(|k| {
            k.gpu == s.gpu && k.models == s.models && k.demand.iter().zip(&s.demand).all(|(x, y)| x <= y)
        });
        if !dominated {
            kept.push(s);
        }
    }
    kept.sort();
    kept
}

/// Per dimension, free capacity on available machines where none of `shapes` fits.
pub(crate) fn stranded(c: &Cluster, shapes: &[Shape]) -> Vec<u64> {
    let mut out = vec![0u64; c.dims()];
    if shapes.is_empty() {
        return out;
    }
    for m in c.machine_ids().filter(|&m| c.is_available(m)) {
        let usable = shapes.iter().any(|s| {
            c.fits_request(
                m,
                &Request {
                    demand: &s.demand,
                    gpu: s.gpu,
                    models: s.models,
                },
            )
        });
        if !usable {
            for (o, &f) in out.iter_mut().zip(c.free(m)) {
                *o += f;
            }
        }
    }
    out
}

/// FGD fragmentation of every machine, recomputed only for machines whose state changed.
pub(crate) struct FragCache {
    target: TargetWorkload,
    cpu_dim: usize,
    node: Vec<f64>,
    valid: Vec<bool>,
}

impl FragCache {
    /// The target workload fragmentation is measured against.
    pub(crate) fn target(&self) -> &TargetWorkload {
        &self.target
    }

    pub(crate) fn new(target: TargetWorkload, cpu_dim: usize) -> FragCache {
        FragCache {
            target,
            cpu_dim,
            node: Vec::new(),
            valid: Vec::new(),
        }
    }

    pub(crate) fn invalidate(&mut self, m: MachineId) {
        if let Some(v) = self.valid.get_mut(m.index()) {
            *v = false;
        }
    }

    /// (Σ_n F_n(M), idle GPU milli) over available machines.
    pub(crate) fn total(&mut self, c: &Cluster) -> (f64, u64) {
        self.node.resize(c.len(), 0.0);
        self.valid.resize(c.len(), false);
        let mut frag = 0.0;
        let mut idle = 0;
        for m in c.machine_ids() {
            if !c.is_available(m) {
                continue;
            }
            if !self.valid[m.index()] {
                self.node[m.index()] =
                    fragmentation_of(c.free(m)[self.cpu_dim], c.devices(m), c.model(m), &self.target);
                self.valid[m.index()] = true;
            }
            frag += self.node[m.index()];
            idle += idle_gpu(c, m);
        }
        (frag, idle)
    }
}

/// Writes the time series as CSV: one row per sample, columns named after the schema. `time_s` is
/// empty in an arrive-only replay and `arrived_pct` in a timed one.
pub fn write_series(schema: &Schema, samples: &[Sample], out: &mut impl io::Write) -> io::Result<()> {
    let mut header = String::from("time_s,arrived_pct");
    for d in schema.dims() {
        let n = d.name();
        let _ = write!(header, ",allocated_{n},capacity_{n},utilisation_{n},stranded_{n}");
    }
    header.push_str(
        ",machines_available,machines_used,pending,running,arrived,placed,finished,failed,gpu_frag_milli,gpu_idle_milli,gpu_frag_ratio,held,jobs_running\n",
    );
    out.write_all(header.as_bytes())?;
    for s in samples {
        // An arrive-only replay has no clock: its rows are indexed by arrived demand.
        let mut row = match s.arrived_pct {
            Some(p) => format!(",{p:.3}"),
            None => format!("{},", s.time as f64 / SECOND as f64),
        };
        for (d, dim) in schema.dims().iter().enumerate() {
            let util = if s.capacity[d] == 0 {
                0.0
            } else {
                s.allocated[d] as f64 / s.capacity[d] as f64
            };
            let _ = write!(
                row,
                ",{},{},{util:.6},{}",
                dim.format(s.allocated[d]),
                dim.format(s.capacity[d]),
                dim.format(s.stranded[d])
            );
        }
        let _ = write!(
            row,
            ",{},{},{},{},{},{},{},{}",
            s.machines_available,
            s.machines_used,
            s.pending,
            s.running,
            s.arrived,
            s.placed,
            s.finished,
            s.failed
        );
        match s.gpu_fragmentation {
            Some((f, idle)) => {
                let ratio = if idle == 0 { 0.0 } else { f / idle as f64 };
                let _ = write!(row, ",{f:.3},{idle},{ratio:.6}");
            }
            None => row.push_str(",,,"),
        }
        let _ = write!(row, ",{},{}", s.held, s.jobs_running);
        row.push('\n');
        out.write_all(row.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let w = WaitStats::of((1..=100).map(|s| s * SECOND).collect()).unwrap();
        assert_eq!((w.p50, w.p95, w.p99, w.max), (50.0, 95.0, 99.0, 100.0));
        assert!((w.mean - 50.5).abs() < 1e-9);
        assert_eq!(WaitStats::of(vec![]), None);
        let one = WaitStats::of(vec![3 * SECOND]).unwrap();
        assert_eq!((one.p50, one.p99), (3.0, 3.0));
    }

    #[test]
    fn minimal_shapes_drop_dominated_ones() {
        let s = |d: &[u64]| Shape {
            demand: d.to_vec(),
            gpu: GpuDemand::None,
            models: ModelSet::ANY,
        };
        let kept = minimal_shapes(vec![s(&[2, 2]), s(&[1, 3]), s(&[3, 3]), s(&[1, 3]), s(&[2, 1])]);
        assert_eq!(kept, vec![s(&[1, 3]), s(&[2, 1])]);
    }
}
