//! One module per subcommand: its arguments and how it is run.

pub(crate) mod batch;
pub(crate) mod compare;
pub(crate) mod dataset;
pub(crate) mod gap;
pub(crate) mod master;
pub(crate) mod pack;
pub(crate) mod policies;
pub(crate) mod replay;
