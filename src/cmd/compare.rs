//! `packsim compare`: run an experiment grid and write the comparison report.

use super::parse_jobs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use datasets::MachineScale;
use indicatif::{ProgressBar, ProgressStyle};
use reports::compare::{Provenance, fmt};
use reports::sweep::Shard;
use reports::{Experiment, RunOptions};

use crate::cmd::dataset::ReadArgs;

/// Arguments of `packsim compare`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "With no arguments: the synthetic default workload (64 machines, 4,000 tasks), 12 policies \
    from every family, the global, offer-cycle and arrive-only models, seeds 1 to 5 — 180 runs, \
    written to packsim-report/.\n\n\
    Examples:\n  \
    packsim compare\n  \
    packsim compare -p first-fit,best-fit,dot-product -m arrive-only --seeds 1..10 \\\n    \
      -w ../shared/datasets/alibaba_gpu_v2023_openb/openb_pod_list_default.csv -o openb-report\n  \
    packsim compare --experiment grid.toml\n  \
    packsim compare --preset fgd -o fgd-report\n  \
    packsim compare --preset fgd -o /shared/fgd --emit slurm      (then: bash /shared/fgd/sweep/submit.sh)\n  \
    packsim compare -w trace.csv -o /shared/sweep --on-mesos 10.0.0.5:5050 --shards 40 -j 4\n\n\
    An experiment file (TOML, or JSON by extension) names any of: workloads, cluster, policies, models,\n\
    seeds, scales, target. Command-line lists replace the file's."
)]
pub(crate) struct Args {
    /// An experiment file (TOML or `.json`) with the grid; flags given as well replace its lists.
    #[arg(long, short = 'e', conflicts_with = "preset")]
    pub(super) experiment: Option<PathBuf>,
    /// A built-in study: `fgd` reproduces Weng et al. (ATC'23) on the openb trace of the shared
    /// data folder — every pod list, 7 policies, arrive-only to 130%, seeds 42–51 (1,680 runs).
    #[arg(long, value_parser = ["fgd"])]
    pub(super) preset: Option<String>,
    /// Workloads, comma-separated: trace files or `synthetic:NAME` [default: synthetic:default].
    #[arg(long, short = 'w', value_delimiter = ',')]
    pub(super) workloads: Vec<String>,
    /// The cluster for every workload: a spec or a machine file. Default: each workload's own.
    #[arg(long, short = 'c')]
    pub(super) cluster: Option<String>,
    /// Policies, comma-separated (see `packsim policies`). Default: 12 from every family.
    #[arg(long, short = 'p', value_delimiter = ',')]
    pub(super) policies: Vec<String>,
    /// Scheduler models, comma-separated: global, offers, arrive-only [default: all three].
    #[arg(long, short = 'm', value_delimiter = ',')]
    pub(super) models: Vec<sim::ModelKind>,
    /// Seeds: a list `1,2,3` or a range `1..10` (inclusive) [default: 1..5].
    #[arg(long, value_parser = parse_seeds)]
    seeds: Option<Seeds>,
    /// Cluster scales, comma-separated: multiples of the cluster's machine count [default: 1].
    #[arg(long, value_delimiter = ',')]
    pub(super) scales: Vec<f64>,
    /// Arrive-only: sampled demand as a fraction of capacity [default: 1.3].
    #[arg(long)]
    pub(super) target: Option<f64>,
    /// Print the rankings as JSON (one object per setting) instead of the tables; the report
    /// is written all the same.
    #[arg(long, conflicts_with_all = ["shard", "status", "emit"])]
    pub(super) json: bool,
    /// Output directory. Runs already stored there are reused, so an interrupted comparison
    /// resumes where it stopped.
    #[arg(long, short = 'o', default_value = "packsim-report")]
    pub(super) out: PathBuf,
    /// Discard runs stored in the output directory and compute everything again (not with the
    /// sweep options: a shared folder holds other shards' runs).
    #[arg(long, conflicts_with_all = ["shard", "gather", "status", "emit", "on_mesos"])]
    pub(super) fresh: bool,
    /// Simulations run at once [default: the number of cores].
    #[arg(long, short = 'j', value_parser = parse_jobs)]
    pub(super) jobs: Option<usize>,
    /// Stop after this many new runs (to try resuming).
    #[arg(long, hide = true)]
    pub(super) stop_after: Option<usize>,
    /// Run only the K-th of N slices of the grid (K from 0, as Slurm numbers array tasks), by run
    /// id: the shards of one grid share no run, and adding seeds or policies later moves no run
    /// that is done. Stores the runs in the output directory and writes no report.
    #[arg(long, value_name = "K/N", conflicts_with_all = ["gather", "status", "emit", "on_mesos"])]
    pub(super) shard: Option<Shard>,
    /// Merge the runs stored in these directories (shards' outputs) into the output directory and
    /// write the report; refuses runs of this grid made by another packsim version or from other
    /// inputs, and says which runs are still missing.
    #[arg(long, value_name = "DIR", num_args = 1.., conflicts_with_all = ["status", "emit", "on_mesos"])]
    pub(super) gather: Vec<PathBuf>,
    /// Say how far the sweep in DIR has got: runs done, shards running or stalled, runs missing,
    /// and the time left at the recent rate.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["emit", "on_mesos"])]
    pub(super) status: Option<PathBuf>,
    /// Write what runs the grid's shards elsewhere, under OUT/sweep/: `slurm` (a job array, a
    /// dependent gather job, and submit.sh) or `mesos` (a task list for `packsim batch`).
    #[arg(long, value_parser = ["slurm", "mesos"], conflicts_with = "on_mesos")]
    pub(super) emit: Option<String>,
    /// Run the grid's shards as tasks on this Mesos master (placed by --mesos-policy), then gather
    /// them into the report. OUT must be a directory every agent sees at the same path.
    #[arg(long, value_name = "HOST:PORT")]
    pub(super) on_mesos: Option<String>,
    /// Shards for --emit and --on-mesos [default: one per 20 runs, at most 1000]. Each shard runs
    /// -j simulations at once and asks for that many CPUs (default there: 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(super) shards: Option<u32>,
    /// The policy that places shard tasks on Mesos agents (see `packsim policies`).
    #[arg(long, default_value = "best-fit")]
    pub(super) mesos_policy: String,
    /// Memory of each shard task on Mesos, MiB.
    #[arg(long, default_value_t = 1024)]
    pub(super) shard_mem: u64,
    #[command(flatten)]
    pub(super) read: ReadArgs,
}

/// The seeds of `--seeds`, as one value (clap would read `Vec<u64>` as a repeated flag).
#[derive(Clone, Debug)]
struct Seeds(Vec<u64>);

fn parse_seeds(text: &str) -> Result<Seeds, String> {
    let bad = |p: &str| format!("`{p}` is not a seed (a whole number), in `{text}`");
    if let Some((a, b)) = text.split_once("..") {
        let a: u64 = a.trim().parse().map_err(|_| bad(a))?;
        let b: u64 = b.trim().parse().map_err(|_| bad(b))?;
        if b < a || b - a >= 10_000 {
            return Err(format!(
                "seed range `{text}` must go upwards and hold at most 10,000 seeds"
            ));
        }
        return Ok(Seeds((a..=b).collect()));
    }
    text.split(',')
        .map(|p| p.trim().parse().map_err(|_| bad(p)))
        .collect::<Result<_, _>>()
        .map(Seeds)
}

/// The command line, quoted where a shell would need it.
pub(crate) fn command_line() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, a)| {
            let a = if i == 0 { "packsim".to_string() } else { a };
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$*?;&|<>()".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `packsim compare`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut experiment = match (&args.experiment, args.preset.as_deref()) {
        (Some(path), _) => Experiment::from_file(path)?,
        (None, Some("fgd")) => {
            let cwd = std::env::current_dir()?;
            let shared = datasets::shared::locate(&cwd).context(
                "--preset fgd reads the openb trace from the shared data folder, which was not found \
                 beside the current directory (or at $PACKSIM_SHARED)",
            )?;
            Experiment::fgd_study(&shared.join("datasets/alibaba_gpu_v2023_openb"))?
        }
        _ => Experiment::default(),
    };
    if !args.workloads.is_empty() {
        experiment.workloads.clone_from(&args.workloads);
    }
    if args.cluster.is_some() {
        experiment.cluster.clone_from(&args.cluster);
    }
    if !args.policies.is_empty() {
        experiment.policies.clone_from(&args.policies);
    }
    if !args.models.is_empty() {
        experiment.models.clone_from(&args.models);
    }
    if let Some(Seeds(seeds)) = &args.seeds {
        experiment.seeds.clone_from(seeds);
    }
    if !args.scales.is_empty() {
        experiment.scales.clone_from(&args.scales);
    }
    if let Some(t) = args.target {
        experiment.target = t;
    }
    experiment.validate()?;
    let (read, format) = args.read.options(MachineScale::GOOGLE)?;
    let mut options = RunOptions {
        jobs: args.jobs.unwrap_or(RunOptions::default().jobs).max(1),
        limit: args.stop_after,
        read,
        format,
        shard: args.shard,
    };
    if let Some(dir) = &args.status {
        return super::sweep::status(dir, &experiment, &options);
    }
    if let Some(kind) = args.emit.as_deref() {
        let launch = super::sweep::launch(args, &experiment, &options)?;
        return super::sweep::emit(kind, &launch);
    }
    if let Some(master) = &args.on_mesos {
        let launch = super::sweep::launch(args, &experiment, &options)?;
        super::sweep::on_mesos(master, args, &launch)?;
        // The shards stored their runs in OUT: what follows gathers them into the report.
        options.limit = Some(0);
    }
    if !args.gather.is_empty() {
        super::sweep::gather(&args.gather, &args.out, &experiment, &options)?;
        options.limit = Some(0);
    }
    let heartbeat = match args.shard {
        Some(shard) => Some(reports::sweep::Heartbeat::start(
            &args.out,
            shard,
            Duration::from_secs(20),
        )?),
        None => None,
    };
    if args.fresh {
        let runs = args.out.join("runs");
        if runs.exists() {
            std::fs::remove_dir_all(&runs).with_context(|| format!("removing {}", runs.display()))?;
        }
    }
    let specs = experiment.runs();
    tracing::info!(
        "grid of {} runs: {} workloads × {} scales × {} models × {} policies × {} seeds, into {}",
        specs.len(),
        experiment.workloads.len(),
        experiment.scales.len(),
        experiment.models.len(),
        experiment.policies.len(),
        experiment.seeds.len(),
        args.out.display()
    );
    let bar = ProgressBar::with_draw_target(Some(specs.len() as u64), super::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} runs ({elapsed}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("loading workloads");
    bar.enable_steady_tick(Duration::from_millis(200));
    let start = Instant::now();
    let reused = std::sync::atomic::AtomicUsize::new(0);
    let results = reports::run::run_grid(&args.out, &specs, &options, &|p| {
        if let Some(h) = &heartbeat {
            h.update(p.done, p.total);
        }
        reused.store(p.reused, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!("{} of {} runs done", p.done, p.total);
        if p.done == p.reused {
            bar.set_message(if p.reused > 0 {
                format!("{} runs stored, resuming", p.reused)
            } else {
                "running".into()
            });
            bar.reset_eta();
        }
        bar.set_position(p.done as u64);
    });
    bar.finish_and_clear();
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            if let Some(h) = heartbeat {
                h.finish(false);
            }
            return Err(e.into());
        }
    };
    let reused = reused.into_inner();
    // Said on every run, TTY or not: which numbers were computed now and which were found.
    let stored = format!(
        "{} computed, {reused} reused from {}",
        results.len() - reused,
        args.out.join("runs").display()
    );
    if let (Some(shard), Some(h)) = (args.shard, heartbeat) {
        let total = h.total();
        h.finish(results.len() == total);
        say!(
            "shard {shard}: {} of its {total} runs done ({stored}) in {:.1} s; gather the shards \
             with --gather",
            results.len(),
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    if results.len() < specs.len() {
        if options.limit == Some(0) {
            return Err(super::sweep::missing_error(
                &args.out,
                &specs,
                &options,
                args.shards,
            ));
        }
        say!(
            "stopped after {} of {} runs ({stored}); run the same command again to resume",
            results.len(),
            specs.len()
        );
        return Ok(());
    }
    let provenance = Provenance {
        command: command_line(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let groups = reports::compare::write(&args.out, &experiment, &results, &provenance)?;
    if args.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&rankings_json(&groups, &results, reused, &args.out))?
        );
        return Ok(());
    }
    for g in &groups {
        let (metric, lower) = &g.metric;
        say!("\n{}", g.group.title());
        say!(
            "  {:<5} {:<40} {:>22}  cannot be told apart from",
            "rank",
            "policy",
            format!("{metric} ({})", if *lower { "low" } else { "high" })
        );
        for r in &g.ranking {
            let shared = g.ranking.iter().any(|o| o.rank == r.rank && o.policy != r.policy);
            let rank = if shared {
                format!("={}", r.rank)
            } else {
                r.rank.to_string()
            };
            let value = r.estimate.text(fmt);
            say!(
                "  {rank:<5} {:<40} {value:>22}  {}",
                r.policy,
                r.tied_with.join(", ")
            );
        }
        for note in reports::compare::rank_notes(&g.ranking, *lower) {
            say!("  note: {note}");
        }
    }
    say!(
        "\n{} runs ({stored}) in {:.1} s; wrote {}",
        results.len(),
        start.elapsed().as_secs_f64(),
        args.out.join("report.html").display()
    );
    Ok(())
}

/// The rankings as JSON: per setting, its metric and its policies best first.
fn rankings_json(
    groups: &[reports::compare::GroupSummary],
    results: &[reports::RunResult],
    reused: usize,
    out: &std::path::Path,
) -> serde_json::Value {
    let settings: Vec<serde_json::Value> = groups
        .iter()
        .map(|g| {
            let ranking: Vec<serde_json::Value> = g
                .ranking
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "rank": r.rank,
                        "policy": r.policy,
                        "mean": r.estimate.mean,
                        "ci_low": r.estimate.low(),
                        "ci_high": r.estimate.high(),
                        "tied_with": r.tied_with,
                    })
                })
                .collect();
            serde_json::json!({
                "workload": g.group.workload,
                "cluster": g.group.cluster,
                "scale": g.group.scale,
                "model": g.group.model.name(),
                "metric": g.metric.0,
                "lower_is_better": g.metric.1,
                "ranking": ranking,
            })
        })
        .collect();
    serde_json::json!({
        "runs": results.len(),
        "computed": results.len() - reused,
        "reused": reused,
        "report": out.join("report.html").display().to_string(),
        "settings": settings,
    })
}
