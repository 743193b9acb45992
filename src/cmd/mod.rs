//! One module per subcommand: its arguments and how it is run.

pub mod batch;
pub mod compare;
pub mod dataset;
pub mod gap;
pub mod master;
pub mod pack;
pub mod policies;
pub mod replay;
