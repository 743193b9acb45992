//! `packsim`: multi-resource bin packing for cluster schedulers.
//!
//! The binary only parses arguments, wires crates together and prints; the domain logic lives in
//! the workspace's library crates (see ARCHITECTURE.md).

/// Prints a line on stdout. A closed pipe (`packsim compare | head -1`) ends the process quietly
/// with the status a Unix tool killed by SIGPIPE has (141), instead of a panic.
macro_rules! say {
    () => {
        $crate::say_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::say_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod cmd;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Multi-resource bin packing for cluster schedulers: compare placement policies, pack batches,
/// replay traces and drive Apache Mesos with the same policies.
#[derive(Parser, Debug)]
#[command(name = "packsim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Say more on stderr: -v what is being done (files read and written, workloads, runs),
    /// -vv details (protocol warnings of `batch`, every run).
    #[arg(long, short, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Say only errors: no progress bars, no notes on stderr (results still go to stdout).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compare placement policies over an experiment grid (policies × workloads × scheduler
    /// models × seeds) and write a report: CSV, SVG plots, report.html. With no arguments, a
    /// built-in grid on a synthetic workload.
    Compare(Box<cmd::compare::Args>),
    /// Optimality gaps: run policies over bin-packing suites with known optima (BPPLIB,
    /// Vectorpack) beside the best published heuristics.
    Gap(cmd::gap::Args),
    /// Pack a batch of items into bins offline with one policy and print where each item went.
    Pack(cmd::pack::Args),
    /// List every placement policy with a one-line description (or its full definition).
    Policies(cmd::policies::Args),
    /// Replay a workload against a cluster under one policy and scheduler model: prints the
    /// summary and can write the time series.
    Replay(Box<cmd::replay::Args>),
    /// Run a mesos-batch task list on a Mesos master (V1 scheduler API), placing tasks on the
    /// offers with a packsim policy; prints live progress and a final table.
    Batch(Box<cmd::batch::Args>),
    /// Serve an emulated Mesos master (V1 scheduler API) on a simulated cluster, with faults on
    /// demand: test a framework against thousands of agents without Mesos.
    Master(Box<cmd::master::Args>),
    /// Inspect trace and instance files: what they hold and what a reader makes of them.
    Dataset(cmd::dataset::Args),
    /// Print a shell completion script: `packsim completions bash > ~/.local/share/bash-completion/completions/packsim`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The exit status of a process whose reader went away (128 + SIGPIPE).
const BROKEN_PIPE_STATUS: i32 = 141;

/// Writes formatted text to stdout, exiting quietly if the reader has gone.
pub(crate) fn say_fmt(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        eprintln!("packsim: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// True when `e` comes from writing to a reader that has gone.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cmd::set_verbosity(cli.quiet, cli.verbose);
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, _) => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    let result = match cli.command {
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "packsim", &mut script);
            say_fmt(format_args!("{}", String::from_utf8_lossy(&script)));
            Ok(())
        }
        Command::Compare(args) => cmd::compare::run(&args),
        Command::Gap(args) => cmd::gap::run(&args),
        Command::Pack(args) => cmd::pack::run(&args),
        Command::Policies(args) => cmd::policies::run(&args),
        Command::Dataset(args) => cmd::dataset::run(&args),
        Command::Replay(args) => cmd::replay::run(&args),
        Command::Batch(args) => cmd::batch::run(&args),
        Command::Master(args) => cmd::master::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::from(BROKEN_PIPE_STATUS as u8),
        Err(e) => {
            eprintln!("packsim: {e:#}");
            ExitCode::FAILURE
        }
    }
}
