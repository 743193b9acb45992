//! Readers that turn files into packsim's types, with errors a user can act on.
//!
//! Every error names the file and, where there is one, the line, the column or field, and the
//! offending value. Nothing here decides placements: that is the `packing` crate's job.
//!
//! Readers are streaming: a trace is an iterator of records, gzip is read transparently, and
//! memory does not grow with the length of a time-ordered file. Bad rows stop the read with an
//! error, or with `skip_bad_rows` are counted by reason; valid rows that hold no record (a task
//! that never asked for resources, a repeated status row) are counted too. Nothing is dropped
//! silently.
//!
//! Map:
//! - [`rows`]: the streaming row engine (plain or gzip, strict or skip-bad-rows with a tally).
//! - [`scale`]: [`MachineScale`], absolute amounts for normalised traces.
//! - [`mod@format`]: the [`Format`]s and their detection; [`mod@open`]: one entry point over all of them.
//! - Trace readers: [`openb`] (Alibaba GPU 2023), [`alibaba2017`], [`alibaba2018`],
//!   [`google2011`], [`google2019`] (Kaggle form), [`azure`] (packing 2020, SQLite), [`dlrm`]
//!   (Alibaba GPU 2025), [`nodes`] (PAI 2020 and spot-GPU 2026 machine lists).
//! - Workloads with task graphs: [`packsim`] (packsim's own task and machine files, CSV or JSON
//!   Lines), [`swf`] (the Standard Workload Format), [`wfcommons`] (WfFormat JSON); `graph`
//!   resolves parents by name for all of them and for Alibaba 2018's task names.
//! - [`instances`]: BPPLIB and Vectorpack instances and suites with their known optima.
//! - [`synthetic`]: seeded generators and the built-in default workload.
//! - [`workload`]: whole workloads for the simulator (tasks + a cluster from a file or a spec).
//! - [`info`]: the summaries of `packsim dataset info`.
//! - [`batch`]: bins and items files (CSV or JSON) for `packsim pack`.
//! - [`shared`]: locating the shared data folder.
//!
//! A first tour: the built-in synthetic workload on a cluster given as a spec, loaded as the CLI
//! loads `--workload synthetic:default --cluster 16:cpus=32,mem=131072`.
//!
//! ```
//! use datasets::workload::{ClusterSource, TaskSource, load};
//!
//! let tasks = TaskSource::parse("synthetic:default", 1);
//! let cluster = ClusterSource::parse("16:cpus=32,mem=131072");
//! let (workload, _report) = load(&tasks, Some(&cluster), &Default::default(), &Default::default()).unwrap();
//! assert_eq!(workload.machines.len(), 16);
//! assert_eq!(workload.machines[0].capacity, vec![32_000, 131_072]); // milli-cores, MiB
//! assert!(workload.tasks.len() > 1000);
//! ```

pub mod alibaba2017;
pub mod alibaba2018;
pub mod azure;
pub mod batch;
pub mod dlrm;
pub mod format;
pub mod google2011;
pub mod google2019;
mod graph;
pub mod info;
pub mod instances;
pub mod nodes;
pub mod open;
pub mod openb;
pub mod packsim;
pub mod rows;
pub mod scale;
pub mod shared;
pub mod swf;
pub mod synthetic;
pub mod wfcommons;
pub mod workload;

pub use format::{Format, detect};
pub use open::{FormatOptions, Opened, Stream, open};
pub use rows::{ReadOptions, Records, Skipped};
pub use scale::MachineScale;
pub use sim::workload::Time;

use std::path::{Path, PathBuf};

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// A problem at a line of the file.
    #[error("{}:{line}: {message}", path.display())]
    At {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong, naming the column or field and the value.
        message: String,
    },
    /// A problem with the file as a whole.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn at(path: &Path, line: u64, message: impl Into<String>) -> Error {
        Error::At {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn file(path: &Path, message: impl Into<String>) -> Error {
        Error::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
