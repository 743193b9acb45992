//! Running a grid: one simulation per thread, each run's result stored in its own files as soon as
//! it ends, so an interrupted grid resumes where it stopped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datasets::workload::{ClusterSource, TaskSource, load};
use datasets::{FormatOptions, ReadOptions};
use packing::Policy;
use packing::hash::Fnv1a;
use serde::{Deserialize, Serialize};
use sim::ModelKind;
use sim::{ArriveOnly, Config, Model, Offers, OnMachineLoss, QueueOrder, Workload};

use crate::Error;
use crate::experiment::RunSpec;

/// What one run produced, as stored in `runs/<id>.json` (its series is `runs/<id>.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The run's configuration.
    pub spec: RunSpec,
    /// The workload's name as the simulator reports it.
    pub workload_name: String,
    /// Dimension names.
    pub dimensions: Vec<String>,
    /// Metrics in a fixed order: (name, value).
    pub metrics: Vec<(String, f64)>,
    /// Per sample of the series, the fewest machines that could hold what was allocated.
    pub machines_lb: Vec<u32>,
    /// Wait-time percentiles 0..=100 in seconds (timed models).
    pub wait_cdf: Option<Vec<f64>>,
    /// Wall-clock time of the simulation (not part of the tidy results: it is not deterministic).
    pub wall_ms: f64,
}

impl RunResult {
    /// A metric's value.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }
}

/// How to run a grid.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads (default: the machine's cores).
    pub jobs: usize,
    /// Stop after starting this many runs (tests of resuming); `None`: all.
    pub limit: Option<usize>,
    /// Reading options for trace files.
    pub read: ReadOptions,
    /// Format options for trace files.
    pub format: FormatOptions,
    /// Run only this shard of the grid (by run id: see [`crate::sweep`]); `None`: all of it.
    pub shard: Option<crate::sweep::Shard>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            limit: None,
            read: ReadOptions::default(),
            format: FormatOptions::default(),
            shard: None,
        }
    }
}

/// Progress of a grid: runs done (including those found from an earlier attempt) of the total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridProgress {
    /// Runs finished.
    pub done: usize,
    /// Runs found already done when the grid started.
    pub reused: usize,
    /// All runs.
    pub total: usize,
}

fn run_path(dir: &Path, id: &str, ext: &str) -> PathBuf {
    dir.join("runs").join(format!("{id}.{ext}"))
}

/// Reads a stored run, `None` when absent or unreadable (then it is run again).
pub fn stored(dir: &Path, spec: &RunSpec) -> Option<RunResult> {
    let id = spec.id();
    if !run_path(dir, &id, "csv").exists() {
        return None;
    }
    let text = std::fs::read_to_string(run_path(dir, &id, "json")).ok()?;
    let result: RunResult = serde_json::from_str(&text).ok()?;
    (result.spec == *spec).then_some(result)
}

/// A fingerprint of everything a run reads besides its configuration: packsim's version, the read
/// and format options, and the contents of the workload's and cluster's files (every file under
/// a folder, in name order). Hex, 16 digits.
pub fn fingerprint(spec: &RunSpec, options: &RunOptions) -> Result<String, Error> {
    let tasks = TaskSource::parse(&spec.workload, spec.seed);
    let cluster = (!spec.cluster.is_empty()).then(|| ClusterSource::parse(&spec.cluster));
    let mut h = Fnv1a::new();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    h.write(format!("\u{1f}{:?}\u{1f}{:?}", options.read, options.format).as_bytes());
    for path in datasets::workload::input_files(&tasks, cluster.as_ref()) {
        hash_path(&mut h, &path)?;
    }
    Ok(format!("{:016x}", h.finish()))
}

fn hash_path(h: &mut Fnv1a, path: &Path) -> Result<(), Error> {
    h.write(b"\x1f");
    h.write(path.to_string_lossy().as_bytes());
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            hash_path(h, &entry)?;
        }
        return Ok(());
    }
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        h.write(&buf[..n]);
    }
}

/// `specs` with their input fingerprints (each distinct workload and cluster hashed once).
pub fn fingerprinted(specs: &[RunSpec], options: &RunOptions) -> Result<Vec<RunSpec>, Error> {
    // The fingerprint depends on the workload and the cluster alone (a synthetic workload reads
    // no file: its fingerprint is the version and the options).
    let mut known: BTreeMap<(String, String), String> = BTreeMap::new();
    specs
        .iter()
        .map(|s| {
            let key = (s.workload.clone(), s.cluster.clone());
            let inputs = match known.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let f = fingerprint(s, options)?;
                    known.insert(key, f.clone());
                    f
                }
            };
            Ok(RunSpec { inputs, ..s.clone() })
        })
        .collect()
}

/// Writes `bytes` to `path` through a temporary file and a rename: a reader never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

type WorkloadKey = (String, String, u64, String);

fn workload_key(spec: &RunSpec) -> WorkloadKey {
    // A trace file is the same whatever the seed; a synthetic workload is generated from it.
    let seed = if spec.workload.starts_with("synthetic:") {
        spec.seed
    } else {
        0
    };
    (
        spec.workload.clone(),
        spec.cluster.clone(),
        seed,
        format!("{}", spec.scale),
    )
}

/// Loads the workload of `spec` (tasks, cluster, scale).
fn load_workload(spec: &RunSpec, options: &RunOptions) -> Result<Workload, Error> {
    let tasks = TaskSource::parse(&spec.workload, spec.seed);
    let cluster = (!spec.cluster.is_empty()).then(|| ClusterSource::parse(&spec.cluster));
    let (mut workload, _) = load(&tasks, cluster.as_ref(), &options.read, &options.format)?;
    if spec.scale != 1.0 {
        let n = workload.machines.len();
        if n == 0 {
            return Err(Error::Experiment(format!(
                "{}: no machines at the start to scale",
                spec.workload
            )));
        }
        let k = ((n as f64 * spec.scale).round() as usize).max(1);
        workload.machines = (0..k)
            .map(|i| {
                let mut m = workload.machines[i % n].clone();
                if i >= n {
                    m.name = format!("{}~{}", m.name, i / n);
                }
                m
            })
            .collect();
    }
    Ok(workload)
}

/// The simulator's configuration for `spec`: each model with its documented defaults.
pub fn config(spec: &RunSpec) -> Result<Config, Error> {
    let model = match spec.model {
        ModelKind::Global => Model::Global {
            order: QueueOrder::Fifo,
        },
        ModelKind::Offers => Model::Offers(Offers::default()),
        ModelKind::ArriveOnly => Model::ArriveOnly(ArriveOnly {
            target: spec.target,
            dimension: None,
        }),
    };
    Ok(Config {
        model,
        seed: spec.seed,
        on_machine_loss: OnMachineLoss::Requeue,
        max_retries: 3,
        sample_interval: None,
    })
}

/// The fewest machines whose capacity covers `allocated` in every dimension (largest first).
fn machines_needed(sorted_caps: &[Vec<u64>], allocated: &[u64]) -> u32 {
    let mut needed = 0;
    for (d, &a) in allocated.iter().enumerate() {
        let mut sum = 0u64;
        let mut k = 0u32;
        for &c in &sorted_caps[d] {
            if sum >= a {
                break;
            }
            sum += c;
            k += 1;
        }
        needed = needed.max(k);
    }
    needed
}

/// Runs one simulation and derives its metrics.
/// The run's policy on its workload's dimensions.
fn policy_of(spec: &RunSpec, workload: &Workload) -> Result<Policy, Error> {
    let policy = Policy::parse(&spec.policy, &workload.schema)
        .map_err(|e| Error::Experiment(format!("policy `{}`: {e}", spec.policy)))?
        .with_seed(spec.seed);
    if matches!(spec.model, ModelKind::Offers) {
        policy
            .check_batch()
            .map_err(|e| Error::Experiment(format!("policy `{}` in the offer model: {e}", spec.policy)))?;
    }
    Ok(policy)
}

fn simulate(spec: &RunSpec, workload: &Workload) -> Result<(RunResult, Vec<u8>), Error> {
    let policy = policy_of(spec, workload)?;
    let config = config(spec)?;
    let start = Instant::now();
    let outcome = sim::run(workload, &policy, &config)?;
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let mut series = Vec::new();
    sim::write_series(&outcome.schema, &outcome.series, &mut series).expect("writing to memory");
    let dims: Vec<String> = outcome
        .schema
        .dims()
        .iter()
        .map(|d| d.name().to_string())
        .collect();
    let mut caps: Vec<Vec<u64>> = (0..dims.len())
        .map(|d| workload.machines.iter().map(|m| m.capacity[d]).collect())
        .collect();
    for c in &mut caps {
        c.sort_unstable_by(|a, b| b.cmp(a));
    }
    let machines_lb: Vec<u32> = outcome
        .series
        .iter()
        .map(|s| machines_needed(&caps, &s.allocated))
        .collect();
    let s = &outcome.summary;
    let names: Vec<&str> = dims.iter().map(String::as_str).collect();
    let mut m = s.metrics(&names);
    // Machines in use against the fewest that could hold the allocation, summed over samples (so
    // busy periods weigh more than a nearly idle drain); listed after the machines in use.
    let used_sum: f64 = outcome
        .series
        .iter()
        .map(|smp| f64::from(smp.machines_used))
        .sum();
    let lb_sum: f64 = machines_lb.iter().map(|&x| f64::from(x)).sum();
    let mut bounds = Vec::new();
    if !machines_lb.is_empty() {
        bounds.push((
            "machines_lower_bound_mean".to_string(),
            lb_sum / machines_lb.len() as f64,
        ));
    }
    if lb_sum > 0.0 {
        bounds.push(("machines_used_over_lower_bound".to_string(), used_sum / lb_sum));
    }
    bounds.retain(|(_, v)| v.is_finite());
    let at = m
        .iter()
        .position(|(n, _)| n == "machines_used_peak")
        .map_or(m.len(), |p| p + 1);
    m.splice(at..at, bounds);
    let result = RunResult {
        spec: spec.clone(),
        workload_name: s.workload.clone(),
        dimensions: dims,
        metrics: m,
        machines_lb,
        wait_cdf: s.wait.map(|w| w.cdf.to_vec()),
        wall_ms,
    };
    Ok((result, series))
}

/// Runs every spec (of `options.shard`, if given) not already stored under `dir`, `options.jobs`
/// at a time, and returns all results in `specs` order (those of runs not made because of
/// `options.limit` are missing).
pub fn run_grid(
    dir: &Path,
    specs: &[RunSpec],
    options: &RunOptions,
    progress: &(dyn Fn(GridProgress) + Sync),
) -> Result<Vec<RunResult>, Error> {
    // Everything is read and checked before anything is written: a grid that cannot run leaves
    // no folder behind.
    let mut specs = fingerprinted(specs, options)?;
    if let Some(shard) = options.shard {
        specs.retain(|s| shard.holds(&s.id()));
    }
    let specs = &specs;
    let mut results: Vec<Option<RunResult>> = specs.iter().map(|s| stored(dir, s)).collect();
    let reused = results.iter().filter(|r| r.is_some()).count();
    let mut todo: Vec<usize> = (0..specs.len()).filter(|&i| results[i].is_none()).collect();
    if let Some(limit) = options.limit {
        todo.truncate(limit);
    }
    // Workloads are loaded once and shared by the runs that use them.
    let mut workloads: BTreeMap<WorkloadKey, Arc<Workload>> = BTreeMap::new();
    for &i in &todo {
        let key = workload_key(&specs[i]);
        if let std::collections::btree_map::Entry::Vacant(e) = workloads.entry(key) {
            e.insert(Arc::new(load_workload(&specs[i], options)?));
        }
    }
    for &i in &todo {
        let spec = &specs[i];
        policy_of(spec, &workloads[&workload_key(spec)])?;
        config(spec)?;
    }
    let runs_dir = dir.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| Error::io(&runs_dir, e))?;
    let total = specs.len();
    let done = AtomicUsize::new(reused);
    progress(GridProgress {
        done: reused,
        reused,
        total,
    });
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let finished: Mutex<Vec<(usize, RunResult)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1).min(todo.len().max(1)) {
            scope.spawn(|| {
                loop {
                    if failed.load(Ordering::Relaxed) {
                        return;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = todo.get(k) else { return };
                    let spec = &specs[i];
                    let workload = &workloads[&workload_key(spec)];
                    let outcome = simulate(spec, workload).and_then(|(result, series)| {
                        let id = spec.id();
                        write_atomic(&run_path(dir, &id, "csv"), &series)?;
                        let json = serde_json::to_vec(&result).expect("serialisable");
                        write_atomic(&run_path(dir, &id, "json"), &json)?;
                        Ok(result)
                    });
                    match outcome {
                        Ok(result) => {
                            finished.lock().expect("not poisoned").push((i, result));
                            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                            progress(GridProgress {
                                done: d,
                                reused,
                                total,
                            });
                        }
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            first_error
                                .lock()
                                .expect("not poisoned")
                                .get_or_insert(Error::Run {
                                    run: format!(
                                        "{} / {} / {} / seed {}",
                                        spec.workload, spec.policy, spec.model, spec.seed
                                    ),
                                    cause: Box::new(e),
                                });
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    for (i, r) in finished.into_inner().expect("not poisoned") {
        results[i] = Some(r);
    }
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_scales_repeat_or_cut_the_machine_list() {
        let spec = |scale: f64| RunSpec {
            workload: "synthetic:uniform".into(),
            cluster: String::new(),
            policy: "first-fit".into(),
            model: ModelKind::Global,
            seed: 1,
            scale,
            target: 1.3,
            inputs: String::new(),
        };
        let options = RunOptions::default();
        let n = load_workload(&spec(1.0), &options).unwrap().machines.len();
        let double = load_workload(&spec(2.0), &options).unwrap();
        assert_eq!(double.machines.len(), 2 * n);
        let names: std::collections::BTreeSet<&str> =
            double.machines.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names.len(), 2 * n, "copies get their own names");
        assert_eq!(
            load_workload(&spec(0.5), &options).unwrap().machines.len(),
            (n as f64 * 0.5).round() as usize
        );
    }

    #[test]
    fn machines_needed_takes_the_largest_first_in_each_dimension() {
        let caps = vec![vec![8, 4, 4], vec![10, 10, 10]];
        assert_eq!(machines_needed(&caps, &[0, 0]), 0);
        assert_eq!(machines_needed(&caps, &[8, 1]), 1);
        assert_eq!(machines_needed(&caps, &[9, 1]), 2);
        assert_eq!(machines_needed(&caps, &[1, 21]), 3);
    }
}
