//! `packsim gap`: policies over instance suites with known optima, beside published heuristics.

use super::parse_jobs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use datasets::instances::{bpplib_suite, read_instances, vectorpack_suite};
use indicatif::{ProgressBar, ProgressStyle};
use reports::compare::{Provenance, fmt};
use reports::gap::{SuiteInput, default_policies};

use crate::cmd::compare::command_line;

/// Arguments of `packsim gap`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Suites: `bpplib` (6,195 one-dimensional instances) and `vectorpack` (2,940 instances in 3, 5 \
    and 10 dimensions, with the bins about 700 published heuristics reached) from the shared data folder, or \
    a file, folder or .tar.gz of BPPLIB .txt / Vectorpack .vbp instances.\n\n\
    Examples:\n  \
    packsim gap\n  \
    packsim gap --suite vectorpack -p ffd-l2,bfd-l2,dot-product --sample 10\n  \
    packsim gap --suite my-instances/ -o my-gap"
)]
pub(crate) struct Args {
    /// Suites: `bpplib`, `vectorpack`, or a path [default: bpplib and vectorpack].
    #[arg(long, short = 's', value_delimiter = ',')]
    suite: Vec<String>,
    /// Policies, comma-separated [default: every classic and decreasing rule, dot-product, l2-norm].
    #[arg(long, short = 'p', value_delimiter = ',')]
    policies: Vec<String>,
    /// Take every N-th instance of each suite (a quick look); 1 takes all.
    #[arg(long, default_value_t = 1)]
    sample: usize,
    /// Output directory.
    #[arg(long, short = 'o', default_value = "packsim-gap")]
    out: PathBuf,
    /// Instances packed at once [default: the number of cores].
    #[arg(long, short = 'j', value_parser = parse_jobs)]
    jobs: Option<usize>,
}

fn shared_dir() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    datasets::shared::locate(&cwd).context(
        "the shared data folder was not found beside the current directory (or at $PACKSIM_SHARED); \
         give a suite as a path instead",
    )
}

fn load_suite(name: &str) -> anyhow::Result<SuiteInput> {
    let instances = match name {
        "bpplib" => {
            let dir = shared_dir()?.join("datasets/bpplib_1d");
            bpplib_suite(&dir)?.instances
        }
        "vectorpack" => {
            let dir = shared_dir()?.join("datasets/vectorpack_multidim");
            let suite = vectorpack_suite(&dir)?;
            if !suite.excluded.is_empty() {
                tracing::warn!(
                    "vectorpack: {} instances left out (negative item weights), e.g. {}",
                    suite.excluded.len(),
                    suite.excluded[0].0
                );
            }
            suite.instances
        }
        path => read_instances(Path::new(path))?,
    };
    Ok(SuiteInput {
        name: name.to_string(),
        instances,
    })
}

/// Runs `packsim gap`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.sample >= 1, "--sample must be 1 or more");
    let names = if args.suite.is_empty() {
        vec!["bpplib".to_string(), "vectorpack".to_string()]
    } else {
        args.suite.clone()
    };
    let policies = if args.policies.is_empty() {
        default_policies()
    } else {
        args.policies.clone()
    };
    let mut suites = Vec::new();
    for n in &names {
        let mut s = load_suite(n).with_context(|| format!("reading suite `{n}`"))?;
        if args.sample > 1 {
            s.instances = s.instances.into_iter().step_by(args.sample).collect();
        }
        suites.push(s);
    }
    let total: usize = suites.iter().map(|s| s.instances.len()).sum();
    let bar = ProgressBar::with_draw_target(Some(total as u64), super::progress_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} instances ({elapsed}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("{} policies", policies.len()));
    bar.enable_steady_tick(Duration::from_millis(200));
    let start = Instant::now();
    let jobs = args.jobs.unwrap_or(reports::RunOptions::default().jobs);
    let rows = reports::gap::run(&suites, &policies, jobs, &|done, _| bar.set_position(done as u64));
    bar.finish_and_clear();
    let rows = rows?;
    let elapsed = start.elapsed().as_secs_f64();
    let provenance = Provenance {
        command: command_line(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let summary = reports::gap::write(&args.out, &rows, &provenance)?;
    for suite in &names {
        say!(
            "\n{suite}: {} instances",
            suites
                .iter()
                .find(|s| &s.name == suite)
                .map_or(0, |s| s.instances.len())
        );
        say!(
            "  {:<34} {:>9} {:>9} {:>9} {:>12}",
            "policy",
            "bins/LB",
            "bins/OPT",
            "at OPT",
            "µs/instance"
        );
        let mut all: Vec<_> = summary
            .iter()
            .filter(|s| &s.suite == suite && s.family == "all")
            .collect();
        all.sort_by(|a, b| {
            let key = |s: &reports::gap::FamilySummary| s.ratio_lb.map_or(f64::INFINITY, |e| e.mean);
            key(a).total_cmp(&key(b))
        });
        for s in all {
            say!(
                "  {:<34} {:>9} {:>9} {:>9} {:>12}",
                s.policy,
                s.ratio_lb.map_or("-".into(), |e| fmt(e.mean)),
                s.ratio_opt.map_or("-".into(), |e| fmt(e.mean)),
                s.optimal_share
                    .map_or("-".into(), |v| format!("{:.1}%", 100.0 * v)),
                s.time_us.map_or("-".into(), fmt)
            );
        }
    }
    say!(
        "\n{} instances × {} policies in {elapsed:.1} s; wrote {}",
        total,
        policies.len(),
        args.out.join("report.html").display()
    );
    Ok(())
}
