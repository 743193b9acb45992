//! `packsim replay`: one simulation, its summary, and its time series.

use crate::say_fmt;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use datasets::MachineScale;
use datasets::workload::{ClusterSource, TaskSource, load};
use indicatif::{ProgressBar, ProgressStyle};
use packing::{Policy, Weights};
use sim::{ArriveOnly, Config, Model, Offers, OnMachineLoss, Outcome, QueueOrder, SECOND, Summary};

use crate::cmd::dataset::ReadArgs;

/// Arguments of `packsim replay`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    packsim replay --workload synthetic:default --policy best-fit --model global\n  \
    packsim replay --workload ../shared/datasets/alibaba_gpu_v2023_openb/openb_pod_list_default.csv \\\n    \
      --policy best-fit --model arrive-only --seed 42 --out out/\n  \
    packsim replay --workload tasks.csv.gz --cluster 100:cpus=32,mem=131072 --policy satyr-bfd --model offers\n  \
    packsim replay --workload examples/my-tasks.csv --cluster examples/my-machines.csv --out out/\n\n\
Your own workload: a CSV or JSON Lines file of tasks (id, arrival, duration, resources, instances,\n\
job, after, ...), see the README's \"Task graphs and your own workloads\"; with jobs, the summary\n\
adds job completion times and slowdown, and --out also writes jobs.csv.")]
pub(crate) struct Args {
    /// Tasks: a trace file (any format of `packsim dataset formats`, packsim's own task files
    /// included), or `synthetic:NAME` for a built-in workload (default, heavy-tailed, uniform,
    /// gpu-sharing, google-scale, dags).
    #[arg(long, short = 'w', default_value = "synthetic:default")]
    workload: String,
    /// Machines: a machine list or machine-event trace, or a spec such as
    /// `64:cpus=32,mem=131072+8:cpus=96,mem=524288,gpus=8,gpu_model=A10` (values in cores, MiB,
    /// GPUs). Default: the synthetic workload's own, the node list that ships beside the trace
    /// (openb, Alibaba 2017), or an SWF file's header.
    #[arg(long, short = 'c')]
    cluster: Option<String>,
    /// Placement policy (see `packsim policies`).
    #[arg(long, short = 'p', default_value = "best-fit")]
    policy: String,
    /// Per-dimension weights, e.g. cpus=1,mem=1.
    #[arg(long)]
    weights: Option<String>,
    /// Scheduler model: global (kube/Borg-like queue), offers (Mesos offer cycle), or arrive-only
    /// (the FGD paper's replay: sampled tasks arrive and never leave).
    #[arg(long, short = 'm', value_enum, default_value_t = ModelArg::Global)]
    model: ModelArg,
    /// Seed of the run (arrive-only sampling, random policies, synthetic workloads).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write `series.csv` (the time series), `summary.json` and, when the workload names jobs,
    /// `jobs.csv` (one row per job: completion time, critical path, slowdown) into this directory.
    /// Print the summary as JSON (the same document as `summary.json`) instead of text.
    #[arg(long)]
    json: bool,
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// Queue order of the global and offer models.
    #[arg(long, value_enum, default_value_t = QueueArg::Fifo)]
    queue: QueueArg,
    /// What happens to tasks on a machine that fails or leaves.
    #[arg(long, value_enum, default_value_t = LossArg::Requeue)]
    on_machine_loss: LossArg,
    /// Requeues a task may have before it counts as failed.
    #[arg(long, default_value_t = 3)]
    max_retries: u32,
    /// Seconds between samples of the time series (default: about 500 samples over the arrivals).
    #[arg(long)]
    sample_interval: Option<f64>,
    /// Offer model: seconds between allocation cycles.
    #[arg(long, default_value_t = 1.0)]
    offer_interval: f64,
    /// Offer model: refusal seconds a DECLINE carries.
    #[arg(long, default_value_t = 5.0)]
    decline_refuse: f64,
    /// Offer model: refusal seconds an ACCEPT carries for the offer's unused remainder.
    #[arg(long, default_value_t = 5.0)]
    accept_refuse: f64,
    /// Offer model: launch in queue order and stop at the first task no offer fits (mesos-batch).
    #[arg(long)]
    head_of_line: bool,
    /// Arrive-only: sampled demand as a fraction of capacity.
    #[arg(long, default_value_t = 1.3)]
    target: f64,
    /// Arrive-only: the dimension demand is measured in (default gpus if present, else cpus).
    #[arg(long)]
    target_dim: Option<String>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ModelArg {
    Global,
    Offers,
    ArriveOnly,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum QueueArg {
    Fifo,
    Priority,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LossArg {
    Kill,
    Requeue,
}

fn seconds(s: f64, what: &str) -> anyhow::Result<sim::Time> {
    anyhow::ensure!(
        s.is_finite() && s >= 0.0,
        "{what}: {s} is not a non-negative number of seconds"
    );
    anyhow::ensure!(
        s <= 1e9,
        "{what}: {s} s is out of range (at most 1e9 s, about 32 years)"
    );
    Ok((s * SECOND as f64).round() as sim::Time)
}

impl Args {
    fn config(&self) -> anyhow::Result<Config> {
        let order = match self.queue {
            QueueArg::Fifo => QueueOrder::Fifo,
            QueueArg::Priority => QueueOrder::Priority,
        };
        let model = match self.model {
            ModelArg::Global => Model::Global { order },
            ModelArg::Offers => {
                let interval = seconds(self.offer_interval, "--offer-interval")?;
                anyhow::ensure!(interval > 0, "--offer-interval must be above 0");
                Model::Offers(Offers {
                    interval,
                    decline_refuse: seconds(self.decline_refuse, "--decline-refuse")?,
                    accept_refuse: seconds(self.accept_refuse, "--accept-refuse")?,
                    head_of_line: self.head_of_line,
                    order,
                })
            }
            ModelArg::ArriveOnly => {
                anyhow::ensure!(
                    self.target.is_finite() && self.target > 0.0,
                    "--target must be above 0"
                );
                Model::ArriveOnly(ArriveOnly {
                    target: self.target,
                    dimension: self.target_dim.clone(),
                })
            }
        };
        let sample_interval = self
            .sample_interval
            .map(|s| seconds(s, "--sample-interval"))
            .transpose()?;
        if let Some(t) = sample_interval {
            anyhow::ensure!(
                t > 0,
                "--sample-interval {}: samples must be at least 1 µs apart (leave the option out \
                 for about 500 samples over the arrivals)",
                self.sample_interval.unwrap_or_default()
            );
        }
        Ok(Config {
            model,
            seed: self.seed,
            on_machine_loss: match self.on_machine_loss {
                LossArg::Kill => OnMachineLoss::Kill,
                LossArg::Requeue => OnMachineLoss::Requeue,
            },
            max_retries: self.max_retries,
            sample_interval,
        })
    }
}

/// Runs `packsim replay`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.config()?;
    let (options, extra) = args.read.options(MachineScale::GOOGLE)?;
    let mut tasks = TaskSource::parse(&args.workload, args.seed);
    if let TaskSource::File { format, .. } = &mut tasks {
        *format = args.read.format;
    }
    let cluster = args.cluster.as_deref().map(ClusterSource::parse);
    let (workload, report) =
        load(&tasks, cluster.as_ref(), &options, &extra).context("loading the workload")?;
    for (path, _, skipped, _) in &report.files {
        if !skipped.is_empty() {
            tracing::warn!(
                "skipped {} bad rows of {} (see `packsim dataset info`)",
                skipped.total(),
                path.display()
            );
        }
    }
    tracing::info!(
        "workload {}: {} machines, {} task records, dimensions {}",
        workload.name,
        workload.machines.len(),
        workload.tasks.len(),
        workload.schema.names()
    );
    let mut policy = Policy::parse(&args.policy, &workload.schema)?.with_seed(args.seed);
    if let Some(w) = &args.weights {
        policy = policy.with_weights(Weights::parse(&workload.schema, w)?)?;
    }
    let total = match config.model {
        Model::ArriveOnly(_) => 0,
        _ => workload.task_instances(),
    };
    let bar = if total > 0 {
        ProgressBar::new(total)
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_draw_target(super::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} tasks ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} under {}", workload.name, policy));
    bar.enable_steady_tick(Duration::from_millis(200));
    let outcome = sim::run_with_progress(&workload, &policy, &config, &mut |p| bar.set_position(p.arrived));
    bar.finish_and_clear();
    let outcome = outcome.context("simulating")?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&summary_json(&outcome))?);
    } else {
        say_fmt(format_args!("{}", describe(&outcome)));
    }
    if let Some(dir) = &args.out {
        write_outputs(dir, &outcome)?;
        let mut files = vec![dir.join("series.csv"), dir.join("summary.json")];
        if !outcome.jobs.is_empty() {
            files.push(dir.join("jobs.csv"));
        }
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        tracing::info!("wrote {}", files.join(", "));
        if !args.json {
            say!("wrote {}", files.join(", "));
        }
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The summary as text for people.
pub(crate) fn describe(outcome: &Outcome) -> String {
    let s: &Summary = &outcome.summary;
    let schema = &outcome.schema;
    let per_dim = |values: &[f64]| -> String {
        let parts: Vec<String> = schema
            .dims()
            .iter()
            .zip(values)
            .map(|(d, v)| format!("{} {}", d.name(), pct(*v)))
            .collect();
        parts.join(", ")
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "replay      {} under {} ({} model, seed {})",
        s.workload, s.policy, s.model, s.seed
    );
    let _ = writeln!(out, "machines    {}", s.machines);
    if let Some(a) = s.arrived_pct {
        let _ = writeln!(
            out,
            "tasks       {} arrived ({a:.1}% of capacity): {} placed, {} failed to fit",
            s.arrived, s.placed, s.failed
        );
        let _ = writeln!(out, "allocation  {} at the end", per_dim(&s.utilisation));
    } else {
        let _ = writeln!(
            out,
            "tasks       {} arrived: {} finished, {} failed, {} still running, {} never placed ({} requeued)",
            s.arrived, s.finished, s.failed, s.running, s.unplaced, s.requeued
        );
        if let Some(w) = s.wait {
            let _ = writeln!(
                out,
                "wait        mean {:.2} s, p50 {:.2} s, p95 {:.2} s, p99 {:.2} s, max {:.2} s",
                w.mean, w.p50, w.p95, w.p99, w.max
            );
        }
        if let Some(m) = s.makespan {
            let _ = writeln!(out, "makespan    {m:.0} s");
        }
        if s.held > 0 || s.cancelled > 0 {
            let _ = writeln!(
                out,
                "graph       {} held by unfinished parents at the end, {} cancelled by a failed parent",
                s.held, s.cancelled
            );
        }
        if let Some(j) = &s.jobs {
            let _ = writeln!(
                out,
                "jobs        {} in all: {} completed, {} failed, {} unfinished",
                j.jobs,
                j.completed,
                j.failed,
                j.jobs - j.completed - j.failed
            );
            if let Some(c) = &j.completion {
                let _ = writeln!(
                    out,
                    "JCT         mean {:.2} s, p50 {:.2} s, p95 {:.2} s, p99 {:.2} s (arrival to last task's end)",
                    c.mean, c.p50, c.p95, c.p99
                );
            }
            if let Some(d) = &j.slowdown {
                let _ = writeln!(
                    out,
                    "slowdown    mean {:.3}, p50 {:.3}, p95 {:.3}, p99 {:.3} (JCT over the critical path)",
                    d.mean, d.p50, d.p95, d.p99
                );
            }
        }
        let _ = writeln!(
            out,
            "utilisation {} (mean between the first and last arrival)",
            per_dim(&s.utilisation)
        );
        let _ = writeln!(
            out,
            "machines    {:.1} used on average, {} at peak",
            s.mean_machines_used, s.peak_machines_used
        );
    }
    let _ = writeln!(
        out,
        "stranded    {} (free capacity no queued task's shape fits, mean over samples)",
        per_dim(&s.stranded)
    );
    if let Some(f) = s.gpu_fragmentation_ratio {
        let _ = writeln!(
            out,
            "GPU frag    {} of idle GPU is fragmented at the end (FGD measure)",
            pct(f)
        );
    }
    let _ = writeln!(
        out,
        "events      {} in {} samples",
        s.events,
        outcome.series.len()
    );
    out
}

/// The run's configuration, then its metrics under the names `results.csv` uses: `summary.json`
/// and what `--json` prints.
fn summary_json(outcome: &Outcome) -> serde_json::Value {
    let s = &outcome.summary;
    let dims: Vec<&str> = outcome.schema.dims().iter().map(packing::Dim::name).collect();
    let metrics: serde_json::Map<String, serde_json::Value> = s
        .metrics(&dims)
        .into_iter()
        .map(|(name, v)| (name, serde_json::json!(v)))
        .collect();
    serde_json::json!({
        "workload": s.workload,
        "policy": s.policy,
        "model": s.model,
        "seed": s.seed,
        "machines": s.machines,
        "events": s.events,
        "dimensions": dims,
        "metrics": metrics,
    })
}

fn write_outputs(dir: &std::path::Path, outcome: &Outcome) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Write to a temporary name and rename, so an interrupted run leaves no half-written file.
    let series = dir.join("series.csv");
    let tmp = dir.join(".series.csv.tmp");
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    sim::write_series(&outcome.schema, &outcome.series, &mut file)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.flush()?;
    drop(file);
    std::fs::rename(&tmp, &series)?;
    if !outcome.jobs.is_empty() {
        let jobs = dir.join("jobs.csv");
        let tmp = dir.join(".jobs.csv.tmp");
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
        );
        sim::write_jobs(&outcome.jobs, &mut file).with_context(|| format!("writing {}", tmp.display()))?;
        file.flush()?;
        drop(file);
        std::fs::rename(&tmp, &jobs)?;
    }
    let path = dir.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&summary_json(outcome))? + "\n",
    )
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
