//! Readers that turn files into packsim's types, with errors a user can act on.
//!
//! Every error names the file and, where there is one, the line, the column or field, and the
//! offending value. Nothing here decides placements: that is the `packing` crate's job.
//!
//! Map:
//! - [`batch`]: bins and items files (CSV or JSON) for `packsim pack`.

pub mod batch;

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
