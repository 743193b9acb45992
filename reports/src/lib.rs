//! packsim's reports: the policy comparison (`packsim compare`) and the optimality-gap suites
//! (`packsim gap`).
//!
//! A comparison is an experiment grid (policies × workloads × scheduler models × seeds × cluster
//! scales) run in parallel, one simulation per thread, each run deterministic and stored in its
//! own files as soon as it ends, so an interrupted grid resumes without recomputing. The output
//! directory holds tidy CSV, SVG plots (plotters), a self-contained `report.html` and a
//! `report.md`.
//!
//! Map:
//! - [`experiment`]: the grid and its runs.
//! - [`run`]: running the grid, storing and finding runs.
//! - [`stats`]: means with 95% intervals, paired comparisons.
//! - [`sweep`]: shards of a grid, gathering them, a sweep's status, Slurm and Mesos launch files.
//! - [`compare`]: aggregation, CSV, plots and the report of a comparison.
//! - [`gap`]: instance suites against optima, bounds and published heuristics.
//! - [`doc`]: one document builder that renders both `report.html` and `report.md`.
//! - [`plot`], [`html`]: charts and the HTML rendering.
//!
//! A first tour: an experiment grid from its TOML and the runs it stands for.
//!
//! ```
//! use reports::experiment::Experiment;
//!
//! let grid: Experiment = toml::from_str(
//!     "policies = [\"best-fit\", \"dot-product\"]\nmodels = [\"global\", \"arrive-only\"]\nseeds = [1, 2, 3]",
//! )
//! .unwrap();
//! grid.validate().unwrap();
//! let runs = grid.runs();
//! assert_eq!(runs.len(), 2 * 2 * 3); // policies × models × seeds, on the default workload
//! // Each run has a stable id: a rerun finds the runs already stored and skips them.
//! assert_eq!(runs[0].id(), grid.runs()[0].id());
//! ```

pub mod compare;
pub mod doc;
pub mod experiment;
pub mod gap;
pub mod html;
pub mod plot;
pub mod run;
pub mod stats;
pub mod sweep;
mod tidy;

use std::path::{Path, PathBuf};

pub use experiment::{Experiment, RunSpec};
pub use run::{GridProgress, RunOptions, RunResult};

/// What can go wrong in a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why (said in the message, not as a source, so it is printed once).
        cause: std::io::Error,
    },
    /// The experiment is not usable.
    #[error("{0}")]
    Experiment(String),
    /// A workload or suite could not be read.
    #[error(transparent)]
    Data(#[from] datasets::Error),
    /// A simulation rejected its input.
    #[error(transparent)]
    Sim(#[from] sim::Error),
    /// One run of a grid failed.
    #[error("run {run}: {cause}")]
    Run {
        /// Which run.
        run: String,
        /// Why (said in the message, not as a source, so it is printed once).
        cause: Box<Error>,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }
}
