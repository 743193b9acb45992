//! `packsim dataset`: inspect trace and instance files.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use datasets::info::summarize_with_progress;
use datasets::{Format, FormatOptions, MachineScale, ReadOptions};
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `packsim dataset`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Print what a file, folder or instance suite holds: machines, tasks, dimensions and totals,
    /// time span, GPU models, and the rows skipped or ignored and why.
    Info(InfoArgs),
    /// List the formats packsim reads.
    Formats,
}

/// Options shared by every command that reads a trace.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ReadArgs {
    /// The file's format; detected from its name and first line when omitted (see
    /// `packsim dataset formats`).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Skip bad rows, counting them by reason, instead of stopping at the first one.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Absolute size of a normalised 1.0 for Google, Alibaba and Azure traces, e.g.
    /// cpus=32,mem=131072,disk=1048576 (cores, MiB, MiB). Default: each format's documented scale.
    #[arg(long, value_name = "cpus=C,mem=M,disk=D")]
    pub machine_scale: Option<String>,
    /// Azure packing trace: the machine generation (machineId) demands refer to. Default: the
    /// generation that offers the most VM types.
    #[arg(long)]
    pub azure_machine: Option<i64>,
}

impl ReadArgs {
    /// The reader options these arguments describe; `defaults` is the scale a bare
    /// `--machine-scale mem=...` completes.
    pub(crate) fn options(&self, defaults: MachineScale) -> anyhow::Result<(ReadOptions, FormatOptions)> {
        let scale = self
            .machine_scale
            .as_deref()
            .map(|s| MachineScale::parse(s, defaults))
            .transpose()
            .map_err(|e| anyhow::anyhow!("--machine-scale: {e}"))?;
        Ok((
            ReadOptions {
                skip_bad_rows: self.skip_bad_rows,
                scale,
            },
            FormatOptions {
                azure_machine: self.azure_machine,
            },
        ))
    }
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format `{name}` (one of: {})", names.join(", "))
    })
}

#[derive(clap::Args, Debug)]
struct InfoArgs {
    /// Files or folders to describe. A folder is described file by file, unless it is an instance
    /// suite (bpplib_bounds.csv, vectorpack_optima.csv) or a table split into part-* files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print the summaries as JSON (an array, one object per file) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    read: ReadArgs,
}

/// Runs `packsim dataset`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match &args.command {
        Command::Formats => {
            let mut out = std::io::stdout().lock();
            for f in Format::ALL {
                writeln!(out, "  {:24} {}", f.name(), f.description())?;
            }
            Ok(())
        }
        Command::Info(info) => {
            let (options, extra) = info.read.options(MachineScale::GOOGLE)?;
            let bar = ProgressBar::with_draw_target(None, super::progress_target());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            let mut first = true;
            let mut json = Vec::new();
            for path in &info.paths {
                let summaries =
                    summarize_with_progress(path, info.read.format, &options, &extra, &mut |p, n| {
                        if n == 0 {
                            bar.set_message(format!("reading {}", p.display()));
                        }
                        bar.set_position(n);
                    })
                    .with_context(|| format!("reading {}", path.display()));
                bar.finish_and_clear();
                let summaries = summaries?;
                if info.json {
                    json.extend(summaries.iter().map(datasets::info::Summary::to_json));
                    continue;
                }
                let mut out = std::io::stdout().lock();
                for s in summaries {
                    if !first {
                        writeln!(out)?;
                    }
                    first = false;
                    write!(out, "{s}")?;
                }
            }
            if info.json {
                writeln!(
                    std::io::stdout().lock(),
                    "{}",
                    serde_json::to_string_pretty(&json)?
                )?;
            }
            Ok(())
        }
    }
}
