//! One module per subcommand: its arguments and how it is run.

pub mod dataset;
pub mod pack;
pub mod policies;
pub mod replay;
