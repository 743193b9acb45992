//! Sweeps beyond one machine: the grid cut into shards by run id, each shard's heartbeat, shard
//! directories gathered into one, the state of a sweep, and the scripts that run the shards on
//! Slurm or Mesos.
//!
//! A run belongs to shard `id mod N` (its id is already a hash of its configuration and inputs), so
//! the shards are balanced in expectation and adding seeds or policies to a grid never moves a run
//! that is done to another shard. Every shard writes into the same `runs/` folder (a shared
//! directory) or its own; [`gather`] copies the runs of the grid from shard directories into one,
//! refusing runs of the same configuration made by another packsim version or from other inputs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::experiment::RunSpec;
use crate::run::{RunResult, write_atomic};

/// The K-th of N slices of a grid (`K/N`, 0 ≤ K < N, as Slurm numbers array tasks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// This shard, from 0.
    pub k: u32,
    /// Shards in all.
    pub n: u32,
}

impl Shard {
    /// True when the run with id `id` belongs to this shard.
    pub fn holds(&self, id: &str) -> bool {
        shard_of(id, self.n) == self.k
    }

    fn file(&self) -> String {
        format!("{}-of-{}.json", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Shard, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N (the K-th of N shards, K from 0)"))?;
        let k: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("`{k}` in `{text}` is not a shard number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` in `{text}` is not a shard count"))?;
        if n == 0 || k >= n {
            return Err(format!(
                "shard `{text}`: K must be at least 0 and below N (0/{n} to {}/{n})",
                n.saturating_sub(1)
            ));
        }
        Ok(Shard { k, n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// The shard (of `n`) a run id belongs to.
pub fn shard_of(id: &str, n: u32) -> u32 {
    let h = u64::from_str_radix(id, 16).unwrap_or_else(|_| {
        let mut f = packing::hash::Fnv1a::new();
        f.write(id.as_bytes());
        f.finish()
    });
    (h % u64::from(n.max(1))) as u32
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What a shard says of itself in `shards/K-of-N.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardState {
    /// The shard, `K/N`.
    pub shard: String,
    /// Where it runs.
    pub host: String,
    /// Its process.
    pub pid: u32,
    /// When it started and last said it was alive (seconds since the Unix epoch).
    pub started: u64,
    /// See `started`.
    pub updated: u64,
    /// Its runs done (stored earlier or now) and in all.
    pub done: usize,
    /// See `done`.
    pub total: usize,
    /// It ended with every run done.
    pub finished: bool,
}

/// A shard's heartbeat: its state file, rewritten every `every` and when dropped.
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    write: Arc<dyn Fn(bool) + Send + Sync>,
    /// Runs of the shard done so far, and in all (kept current by [`Heartbeat::update`]).
    done: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
    /// When the progress was last written (Unix seconds).
    last: std::sync::atomic::AtomicU64,
}

impl Heartbeat {
    /// Starts the heartbeat of `shard` under `dir/shards/`.
    pub fn start(dir: &Path, shard: Shard, every: Duration) -> Result<Heartbeat, Error> {
        let folder = dir.join("shards");
        std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        let path = folder.join(shard.file());
        let done = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let started = unix_now();
        let host = hostname();
        let (d, t) = (done.clone(), total.clone());
        let write: Arc<dyn Fn(bool) + Send + Sync> = Arc::new(move |finished| {
            let state = ShardState {
                shard: shard.to_string(),
                host: host.clone(),
                pid: std::process::id(),
                started,
                updated: unix_now(),
                done: d.load(Ordering::Relaxed),
                total: t.load(Ordering::Relaxed),
                finished,
            };
            // A heartbeat that cannot be written is no reason to stop the runs.
            let _ = write_atomic(&path, &serde_json::to_vec_pretty(&state).expect("serialisable"));
        });
        write(false);
        let stop = Arc::new(AtomicBool::new(false));
        let (s, w) = (stop.clone(), write.clone());
        let thread = std::thread::spawn(move || {
            let tick = Duration::from_millis(200);
            let mut waited = Duration::ZERO;
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                waited += tick;
                if waited >= every {
                    waited = Duration::ZERO;
                    w(false);
                }
            }
        });
        Ok(Heartbeat {
            stop,
            thread: Some(thread),
            write,
            done,
            total,
            last: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Notes the shard's progress; written at once the first time and then at most every 5 s
    /// (the heartbeat thread writes it too).
    pub fn update(&self, done: usize, total: usize) {
        let first = self.total.swap(total, Ordering::Relaxed) == 0 && total > 0;
        self.done.store(done, Ordering::Relaxed);
        let now = unix_now();
        if first || now >= self.last.load(Ordering::Relaxed) + 5 {
            self.last.store(now, Ordering::Relaxed);
            (self.write)(false);
        }
    }

    /// Runs of the shard in all, as last updated.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Stops the heartbeat, saying whether the shard finished every run.
    pub fn finish(mut self, finished: bool) {
        self.halt();
        (self.write)(finished);
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.halt();
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "?".into())
}

/// The run configuration without its inputs' fingerprint: what a run of another version or of
/// other inputs shares with this grid's.
fn config_key(spec: &RunSpec) -> String {
    RunSpec {
        inputs: String::new(),
        ..spec.clone()
    }
    .id()
}

/// What [`gather`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    /// Runs copied into the output.
    pub copied: usize,
    /// Runs of the grid that the output already had.
    pub present: usize,
    /// Stored runs that belong to other grids (left alone).
    pub other: usize,
}

/// Copies the runs of `specs` (fingerprinted: see [`crate::run::fingerprinted`]) from each of
/// `sources` into `out/runs`. A stored run of one of the grid's configurations made by another
/// packsim version or from other inputs is refused: mixing it in would compare numbers from
/// different programs or data.
pub fn gather(sources: &[PathBuf], out: &Path, specs: &[RunSpec]) -> Result<Gathered, Error> {
    let ids: HashMap<String, &RunSpec> = specs.iter().map(|s| (s.id(), s)).collect();
    debug_assert_eq!(ids.len(), specs.len());
    let configs: HashMap<String, &RunSpec> = specs.iter().map(|s| (config_key(s), s)).collect();
    let out_runs = out.join("runs");
    let mut g = Gathered::default();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    for source in sources {
        let runs = source.join("runs");
        let entries = std::fs::read_dir(&runs).map_err(|e| Error::io(&runs, e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let in_place = same(&runs, &out_runs);
        for file in files {
            let id = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ids.contains_key(&id) {
                // The id hashes the configuration and the inputs: a file under it is this grid's
                // run (the report reads and checks each one when it loads them).
                let csv = file.with_extension("csv");
                if !csv.exists() {
                    continue; // half-written: left for the shard to redo
                }
                if in_place || out_runs.join(format!("{id}.csv")).exists() {
                    g.present += 1;
                    continue;
                }
                std::fs::create_dir_all(&out_runs).map_err(|e| Error::io(&out_runs, e))?;
                for (from, ext) in [(&csv, "csv"), (&file, "json")] {
                    place(from, &out_runs.join(format!("{id}.{ext}")))?;
                }
                g.copied += 1;
                continue;
            }
            let stored: Option<RunResult> = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            match stored {
                Some(r) if configs.contains_key(&config_key(&r.spec)) => {
                    let ours = configs[&config_key(&r.spec)];
                    return Err(Error::Experiment(format!(
                        "{}: a run of this grid ({} / {} / {} / seed {}) made by another packsim version \
                         or from other inputs (fingerprint {}, this grid's {}): gather runs of one version \
                         and the same files only",
                        file.display(),
                        r.spec.workload,
                        r.spec.policy,
                        r.spec.model,
                        r.spec.seed,
                        if r.spec.inputs.is_empty() {
                            "none"
                        } else {
                            &r.spec.inputs
                        },
                        ours.inputs
                    )));
                }
                _ => g.other += 1,
            }
        }
    }
    Ok(g)
}

/// Puts a stored run's file at `to`: a hard link where both are on one file system (stored runs
/// are never modified in place, only replaced), else a copy; either way `to` appears whole.
fn place(from: &Path, to: &Path) -> Result<(), Error> {
    let tmp = to.with_extension("tmp-link");
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp).map_err(|e| Error::io(from, e))?;
    }
    std::fs::rename(&tmp, to).map_err(|e| Error::io(to, e))
}

/// Where a sweep stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Runs in the grid.
    pub total: usize,
    /// Runs stored.
    pub done: usize,
    /// Runs not stored, in grid order.
    pub missing: Vec<RunSpec>,
    /// Shards that said they were alive within the last two minutes and have not finished.
    pub running: Vec<ShardState>,
    /// Shards that stopped saying so without finishing (killed, or their machine lost).
    pub stalled: Vec<ShardState>,
    /// Shards that finished.
    pub finished: Vec<ShardState>,
    /// Runs stored per minute over the last ten minutes (or since the first run was stored, if
    /// that is more recent; at least 30 s).
    pub rate: f64,
}

impl Status {
    /// Time left at the recent rate; `None` without one.
    pub fn eta(&self) -> Option<Duration> {
        (self.rate > 0.0).then(|| Duration::from_secs_f64(self.missing.len() as f64 / self.rate * 60.0))
    }
}

/// How long a shard may be silent before it counts as stalled.
const STALE: u64 = 120;

/// The state of the sweep of `specs` (fingerprinted) in `dir`.
pub fn status(dir: &Path, specs: &[RunSpec]) -> Result<Status, Error> {
    let now = SystemTime::now();
    let mut done = 0;
    let mut recent = 0usize;
    // The oldest stored run's age, for the window of the rate (at most ten minutes).
    let mut oldest = Duration::ZERO;
    let mut missing = Vec::new();
    for s in specs {
        let csv = dir.join("runs").join(format!("{}.csv", s.id()));
        match crate::run::stored(dir, s) {
            Some(_) => {
                done += 1;
                let age = std::fs::metadata(&csv)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| now.duration_since(t).ok());
                if let Some(a) = age {
                    oldest = oldest.max(a);
                    if a < Duration::from_secs(600) {
                        recent += 1;
                    }
                }
            }
            None => missing.push(s.clone()),
        }
    }
    let mut shards: BTreeMap<String, ShardState> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("shards")) {
        for e in entries.flatten() {
            if let Some(state) = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|t| serde_json::from_str::<ShardState>(&t).ok())
            {
                shards.insert(state.shard.clone(), state);
            }
        }
    }
    let now_s = unix_now();
    let (mut running, mut stalled, mut finished) = (Vec::new(), Vec::new(), Vec::new());
    for (_, s) in shards {
        if s.finished {
            finished.push(s);
        } else if now_s.saturating_sub(s.updated) <= STALE {
            running.push(s);
        } else {
            stalled.push(s);
        }
    }
    Ok(Status {
        total: specs.len(),
        done,
        missing,
        running,
        stalled,
        finished,
        rate: recent as f64
            / oldest
                .clamp(Duration::from_secs(30), Duration::from_secs(600))
                .as_secs_f64()
            * 60.0,
    })
}

/// Single-quotes `text` for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// How the shards of a sweep are started: the program, where, the grid and its options.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `packsim` binary (absolute: every node must see it at that path).
    pub program: PathBuf,
    /// The directory relative paths of the grid are read from.
    pub cwd: PathBuf,
    /// The output directory every shard writes into (shared by the nodes).
    pub out: PathBuf,
    /// The experiment file written for the shards.
    pub experiment: PathBuf,
    /// Reading options as flags (`--skip-bad-rows`, `--machine-scale ...`).
    pub read_flags: Vec<String>,
    /// Shards.
    pub shards: u32,
    /// Simulations at once within a shard (its CPUs).
    pub jobs: usize,
}

impl Launch {
    /// `cd CWD && exec packsim compare -e EXPERIMENT -o OUT [read flags] EXTRA...`.
    fn command(&self, extra: &[String]) -> String {
        let q = |p: &Path| shell_quote(&p.to_string_lossy());
        let mut parts = vec![
            "exec".to_string(),
            q(&self.program),
            "compare".into(),
            "-e".into(),
            q(&self.experiment),
            "-o".into(),
            q(&self.out),
        ];
        parts.extend(self.read_flags.iter().map(|f| shell_quote(f)));
        parts.extend(extra.iter().cloned());
        format!("cd {} && {}", q(&self.cwd), parts.join(" "))
    }

    /// The `packsim compare` command of one shard (`shard` may be a shell expression).
    pub fn shard_command(&self, shard: &str) -> String {
        self.command(&[
            "-j".into(),
            self.jobs.to_string(),
            "--shard".into(),
            shard.to_string(),
        ])
    }

    /// The `packsim compare --gather` command that writes the report.
    pub fn gather_command(&self) -> String {
        self.command(&["--gather".into(), shell_quote(&self.out.to_string_lossy())])
    }

    /// Writes the Slurm scripts under `out/sweep/`: `array.sbatch` (one array task per shard),
    /// `gather.sbatch` (the report) and `submit.sh` (submits both, the gather after the array
    /// succeeded). Returns `submit.sh`.
    pub fn write_slurm(&self) -> Result<PathBuf, Error> {
        let dir = self.out.join("sweep");
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
        let q = |p: &Path| shell_quote(&p.to_string_lossy());
        let array = format!(
            "#!/bin/bash\n\
             # Written by `packsim compare --emit slurm`: shard $SLURM_ARRAY_TASK_ID of {n} of the grid in\n\
             # {experiment}; every shard stores its runs in {out}/runs.\n\
             #SBATCH --job-name=packsim-shards\n\
             #SBATCH --array=0-{last}\n\
             #SBATCH --cpus-per-task={jobs}\n\
             #SBATCH --output={logs}/shard-%a.out\n\
             set -euo pipefail\n\
             {command}\n",
            n = self.shards,
            experiment = self.experiment.display(),
            out = self.out.display(),
            last = self.shards - 1,
            jobs = self.jobs,
            logs = logs.display(),
            command = self.shard_command("\"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\""),
        );
        let gather = format!(
            "#!/bin/bash\n\
             # Written by `packsim compare --emit slurm`: the report, once every shard has succeeded.\n\
             #SBATCH --job-name=packsim-gather\n\
             #SBATCH --output={logs}/gather.out\n\
             set -euo pipefail\n\
             {command}\n",
            logs = logs.display(),
            command = self.gather_command(),
        );
        let submit = format!(
            "#!/bin/bash\n\
             # Submits the shards as one Slurm job array and the gather as a job that waits for it.\n\
             set -euo pipefail\n\
             array=$(sbatch --parsable {array})\n\
             gather=$(sbatch --parsable --dependency=afterok:\"$array\" {gather})\n\
             echo \"shards: job $array ({n} array tasks); report: job $gather\"\n\
             echo \"follow with: packsim compare -e {experiment} --status {out}\"\n",
            array = q(&dir.join("array.sbatch")),
            gather = q(&dir.join("gather.sbatch")),
            n = self.shards,
            experiment = q(&self.experiment),
            out = q(&self.out),
        );
        for (name, text) in [
            ("array.sbatch", array),
            ("gather.sbatch", gather),
            ("submit.sh", submit),
        ] {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes())?;
            set_executable(&path)?;
        }
        Ok(dir.join("submit.sh"))
    }

    /// A task list in mesos-batch's format: one command task per shard, asking `jobs` CPUs and
    /// `mem` MiB.
    pub fn mesos_task_list(&self, mem: u64) -> String {
        let tasks: Vec<serde_json::Value> = (0..self.shards)
            .map(|k| {
                let name = format!("packsim-shard-{k}-of-{}", self.shards);
                serde_json::json!({
                    "name": name,
                    "task_id": {"value": name},
                    "agent_id": {"value": ""},
                    "resources": [
                        {"name": "cpus", "type": "SCALAR", "scalar": {"value": self.jobs}},
                        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
                    ],
                    "command": {"value": self.shard_command(&format!("{k}/{}", self.shards))},
                })
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({ "tasks": tasks })).expect("serialisable") + "\n"
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<(), Error> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_ids_stably() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { k: 2, n: 5 }));
        assert!("5/5".parse::<Shard>().unwrap_err().contains("below N"));
        assert!("x/5".parse::<Shard>().is_err());
        // Every id is in exactly one shard, and its shard depends on the id and N alone.
        let ids: Vec<String> = (0..1000u64)
            .map(|i| format!("{:016x}", packing::hash::splitmix64(i)))
            .collect();
        let mut counts = [0usize; 4];
        for id in &ids {
            let holders: Vec<u32> = (0..4).filter(|&k| Shard { k, n: 4 }.holds(id)).collect();
            assert_eq!(holders.len(), 1);
            counts[holders[0] as usize] += 1;
        }
        // Balanced in expectation: 250 each, within a few standard deviations (±14).
        assert!(counts.iter().all(|&c| (200..300).contains(&c)), "{counts:?}");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/a/b-c.json"), "/a/b-c.json");
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
        assert_eq!(shell_quote(""), "''");
    }
}
