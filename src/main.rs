//! `packsim`: multi-resource bin packing for cluster schedulers.
//!
//! The binary only parses arguments, wires crates together and prints; the domain logic lives in
//! the workspace's library crates (see ARCHITECTURE.md).

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Multi-resource bin packing for cluster schedulers: compare placement policies, pack batches,
/// replay traces and drive Apache Mesos with the same policies.
#[derive(Parser, Debug)]
#[command(name = "packsim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
        Err(e) => {
            eprintln!("packsim: {e:#}");
            ExitCode::FAILURE
        }
    }
}
