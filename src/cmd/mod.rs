//! One module per subcommand: its arguments and how it is run.

pub(crate) mod batch;
pub(crate) mod compare;
pub(crate) mod dataset;
pub(crate) mod gap;
pub(crate) mod master;
pub(crate) mod pack;
pub(crate) mod policies;
pub(crate) mod replay;
pub(crate) mod sweep;

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

static VERBOSE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// `-q`: no progress bars and no notes on stderr; `-v` (repeated): more on stderr.
pub(crate) fn set_verbosity(quiet: bool, verbose: u8) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    VERBOSE.store(verbose, std::sync::atomic::Ordering::Relaxed);
}

/// How many `-v` were given.
pub(crate) fn verbosity() -> u8 {
    VERBOSE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether `-q` was given.
pub(crate) fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Where progress bars draw: stderr, or nowhere with `-q`.
pub(crate) fn progress_target() -> indicatif::ProgressDrawTarget {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        indicatif::ProgressDrawTarget::hidden()
    } else {
        indicatif::ProgressDrawTarget::stderr()
    }
}

/// `--jobs`: 1 or more (0 was silently taken as 1).
pub(crate) fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 jobs would run nothing: give 1 or more (the default is the number of cores)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of jobs")),
    }
}
