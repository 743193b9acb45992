//! Locating the shared data folder (`../shared` beside the project, or `$PACKSIM_SHARED`).
//!
//! The shared folder holds third-party traces and instances that packsim reads but never copies
//! into its own tree. Tests that need it call [`for_tests`]: where the folder is absent (a user's
//! fresh clone) they skip with a message on the terminal; with `PACKSIM_REQUIRE_SHARED=1` (CI) a
//! missing folder is a failure instead.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared folder: `$PACKSIM_SHARED` if set, else the first `shared` folder holding a
/// `README.md` found beside `start` or one of its ancestors.
pub fn locate(start: &Path) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PACKSIM_SHARED") {
        let dir = PathBuf::from(dir);
        return dir.join("README.md").is_file().then_some(dir);
    }
    start
        .ancestors()
        .map(|a| a.join("..").join("shared"))
        .find(|d| d.join("README.md").is_file())
}

/// The shared folder for a test in the crate at `manifest_dir`, or `None` after telling the
/// terminal why the test is skipped.
///
/// # Panics
/// When `PACKSIM_REQUIRE_SHARED=1` and the folder is missing: CI must not skip these tests.
pub fn for_tests(manifest_dir: &str, test: &str) -> Option<PathBuf> {
    if let Some(dir) = locate(Path::new(manifest_dir)) {
        return Some(dir);
    }
    if std::env::var("PACKSIM_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "{test}: PACKSIM_REQUIRE_SHARED=1 but no shared folder beside {manifest_dir} (or at $PACKSIM_SHARED)"
        );
    }
    // Written to the real stderr, not through the test harness's capture, so the skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: no shared data folder beside the project (set PACKSIM_SHARED to use one)"
    );
    None
}

/// The real Mesos master tests run against: `$PACKSIM_MESOS_MASTER` (host:port), or `None`
/// after telling the terminal why the test is skipped.
///
/// # Panics
/// When `PACKSIM_REQUIRE_MESOS=1` and no master is named: CI must not skip these tests.
pub fn mesos_master(test: &str) -> Option<String> {
    if let Ok(m) = std::env::var("PACKSIM_MESOS_MASTER") {
        return Some(m);
    }
    assert!(
        std::env::var("PACKSIM_REQUIRE_MESOS").as_deref() != Ok("1"),
        "{test}: PACKSIM_REQUIRE_MESOS=1 but PACKSIM_MESOS_MASTER is not set"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: set PACKSIM_MESOS_MASTER=host:port to run it against a real master"
    );
    None
}

/// The Slurm cluster tests submit to: `$SLURM_CONF` when `sbatch` is on the path, or `None` after
/// telling the terminal why the test is skipped (`shared/slurm/run.sh` starts one).
///
/// # Panics
/// When `PACKSIM_REQUIRE_SLURM=1` and there is none: CI must not skip these tests.
pub fn slurm_conf(test: &str) -> Option<PathBuf> {
    let conf = std::env::var_os("SLURM_CONF").map(PathBuf::from);
    let sbatch = std::process::Command::new("sbatch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if let Some(conf) = conf.filter(|c| c.is_file() && sbatch) {
        return Some(conf);
    }
    assert!(
        std::env::var("PACKSIM_REQUIRE_SLURM").as_deref() != Ok("1"),
        "{test}: PACKSIM_REQUIRE_SLURM=1 but SLURM_CONF names no file or sbatch is missing"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: start a Slurm cluster (shared/slurm/run.sh) and set SLURM_CONF to run it"
    );
    None
}
