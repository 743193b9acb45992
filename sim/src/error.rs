//! Why a workload cannot be simulated.

/// A workload that does not describe a valid simulation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A machine or task does not match the workload's schema or its own GPU description.
    #[error("{what} `{name}`: {problem}")]
    Invalid {
        /// "machine" or "task".
        what: &'static str,
        /// Its name in the workload.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The workload as a whole cannot be simulated this way.
    #[error("{0}")]
    Workload(String),
}

impl Error {
    pub(crate) fn machine(name: &str, problem: impl Into<String>) -> Error {
        Error::Invalid {
            what: "machine",
            name: name.to_string(),
            problem: problem.into(),
        }
    }

    pub(crate) fn task(name: &str, problem: impl Into<String>) -> Error {
        Error::Invalid {
            what: "task",
            name: name.to_string(),
            problem: problem.into(),
        }
    }
}
