//! `packsim compare` beyond one machine: `--status`, `--emit slurm|mesos`, `--on-mesos` and
//! `--gather` (the shards themselves are `--shard K/N`, run by `compare`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use reports::sweep::Launch;
use reports::{Experiment, RunOptions, RunSpec};

use super::compare::Args;

/// Default shards: one per 20 runs (a Slurm array task costs seconds to start), at most 1000.
fn default_shards(runs: usize) -> u32 {
    runs.div_ceil(20).clamp(1, 1000) as u32
}

fn fingerprinted(experiment: &Experiment, options: &RunOptions) -> anyhow::Result<Vec<RunSpec>> {
    Ok(reports::run::fingerprinted(&experiment.runs(), options)?)
}

/// `--status DIR`.
pub(crate) fn status(dir: &Path, experiment: &Experiment, options: &RunOptions) -> anyhow::Result<()> {
    let specs = fingerprinted(experiment, options)?;
    let s = reports::sweep::status(dir, &specs)?;
    say!(
        "{}: {} of {} runs done, {} missing",
        dir.display(),
        s.done,
        s.total,
        s.missing.len()
    );
    let list = |states: &[reports::sweep::ShardState]| {
        states
            .iter()
            .map(|x| format!("{} ({}/{} on {})", x.shard, x.done, x.total, x.host))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !s.running.is_empty() {
        say!("running   {}", list(&s.running));
    }
    if !s.stalled.is_empty() {
        say!(
            "stalled   {} (silent for over 2 minutes without finishing: run them again, they redo only \
             their missing runs)",
            list(&s.stalled)
        );
    }
    if !s.finished.is_empty() {
        say!("finished  {} shards", s.finished.len());
    }
    match s.eta() {
        Some(eta) if !s.missing.is_empty() => say!(
            "rate      {:.1} runs a minute over the last 10 minutes: about {} left",
            s.rate,
            minutes(eta.as_secs())
        ),
        _ if !s.missing.is_empty() => say!("rate      no run stored in the last 10 minutes"),
        _ => say!(
            "complete  gather with: packsim compare ... --gather {}",
            dir.display()
        ),
    }
    Ok(())
}

/// How this grid's shards would be launched: the experiment written for them, the program and
/// the folders, as absolute paths.
pub(crate) fn launch(args: &Args, experiment: &Experiment, options: &RunOptions) -> anyhow::Result<Launch> {
    let runs = experiment.runs().len();
    std::fs::create_dir_all(args.out.join("sweep"))
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out = args
        .out
        .canonicalize()
        .with_context(|| format!("resolving {}", args.out.display()))?;
    // Fingerprinting reads every input now: a grid that cannot run is refused before anything is
    // submitted.
    fingerprinted(experiment, options)?;
    let path = out.join("sweep").join("experiment.json");
    let json = serde_json::to_string_pretty(experiment)? + "\n";
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    let mut read_flags = Vec::new();
    if let Some(f) = args.read.format {
        read_flags.extend(["--format".to_string(), f.name().to_string()]);
    }
    if args.read.skip_bad_rows {
        read_flags.push("--skip-bad-rows".into());
    }
    if let Some(m) = &args.read.machine_scale {
        read_flags.extend(["--machine-scale".to_string(), m.clone()]);
    }
    if let Some(a) = args.read.azure_machine {
        read_flags.extend(["--azure-machine".to_string(), a.to_string()]);
    }
    Ok(Launch {
        program: std::env::current_exe().context("finding the packsim binary")?,
        cwd: std::env::current_dir()?,
        out,
        experiment: path,
        read_flags,
        shards: args.shards.unwrap_or_else(|| default_shards(runs)),
        jobs: args.jobs.unwrap_or(1),
    })
}

/// `125 s` as `2 min 5 s`, `3725 s` as `1 h 2 min`.
fn minutes(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// `--emit slurm|mesos`.
pub(crate) fn emit(kind: &str, launch: &Launch) -> anyhow::Result<()> {
    match kind {
        "slurm" => {
            let submit = launch.write_slurm()?;
            say!(
                "wrote {} (a job array of {} shards, {} CPUs each, and a gather job after it)",
                launch.out.join("sweep").display(),
                launch.shards,
                launch.jobs
            );
            say!("submit with: bash {}", submit.display());
        }
        _ => {
            let path = write_task_list(launch, 1024)?;
            say!("wrote {} ({} shard tasks)", path.display(), launch.shards);
            say!(
                "run with:    packsim batch --master HOST:PORT --task-list {} --policy best-fit",
                path.display()
            );
            say!(
                "then gather: packsim compare -e {} -o {} --gather {}",
                launch.experiment.display(),
                launch.out.display(),
                launch.out.display()
            );
        }
    }
    Ok(())
}

fn write_task_list(launch: &Launch, mem: u64) -> anyhow::Result<PathBuf> {
    let path = launch.out.join("sweep").join("tasks.json");
    std::fs::write(&path, launch.mesos_task_list(mem))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `packsim batch`'s arguments, parsed as the command line would be.
#[derive(Parser)]
#[command(name = "packsim-batch")]
struct BatchOnly {
    #[command(flatten)]
    args: super::batch::Args,
}

/// `--on-mesos MASTER`: the shards as tasks of one `packsim batch` run on the master.
pub(crate) fn on_mesos(master: &str, args: &Args, launch: &Launch) -> anyhow::Result<()> {
    let path = write_task_list(launch, args.shard_mem)?;
    say!(
        "running {} shards of the grid as tasks on {master} (placed by {})",
        launch.shards,
        args.mesos_policy
    );
    let batch = BatchOnly::try_parse_from([
        "packsim-batch",
        "--master",
        master,
        "--task-list",
        &path.to_string_lossy(),
        "--policy",
        &args.mesos_policy,
        "--framework-name",
        "packsim-compare",
    ])
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    super::batch::run(&batch.args).context("running the shards on Mesos")
}

/// `--gather DIR...`: the runs of the grid copied into the output directory.
pub(crate) fn gather(
    dirs: &[PathBuf],
    out: &Path,
    experiment: &Experiment,
    options: &RunOptions,
) -> anyhow::Result<()> {
    let specs = fingerprinted(experiment, options)?;
    let g = reports::sweep::gather(dirs, out, &specs)?;
    say!(
        "gathered {} runs from {} folder(s) ({} already in {}; {} stored runs of other grids left alone)",
        g.copied,
        dirs.len(),
        g.present,
        out.display(),
        g.other
    );
    Ok(())
}

/// The error of a gather that lacks runs: how many, which (the first ten), and in which shard.
pub(crate) fn missing_error(
    out: &Path,
    specs: &[RunSpec],
    options: &RunOptions,
    shards: Option<u32>,
) -> anyhow::Error {
    let specs = match reports::run::fingerprinted(specs, options) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let missing: Vec<&RunSpec> = specs
        .iter()
        .filter(|s| reports::run::stored(out, s).is_none())
        .collect();
    let mut text = format!(
        "{} of the grid's {} runs are missing from {}:",
        missing.len(),
        specs.len(),
        out.join("runs").display()
    );
    for s in missing.iter().take(10) {
        let id = s.id();
        let shard = shards.map_or(String::new(), |n| {
            format!(" (shard {}/{n})", reports::sweep::shard_of(&id, n))
        });
        text.push_str(&format!(
            "\n  {id}  {} / {} / {} / seed {}{shard}",
            s.workload, s.policy, s.model, s.seed
        ));
    }
    if missing.len() > 10 {
        text.push_str(&format!("\n  and {} more", missing.len() - 10));
    }
    text.push_str(
        "\nrun the shards that hold them (a shard redoes only its missing runs), then gather again",
    );
    anyhow::anyhow!(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shards_are_coarse_by_default() {
        assert_eq!(super::default_shards(1), 1);
        assert_eq!(super::default_shards(180), 9);
        assert_eq!(super::default_shards(1680), 84);
        assert_eq!(super::default_shards(10_000_000), 1000);
    }
}
