//! proto's integration tests: the .proto files against the official field table, the codecs against
//! a recorded session with a real Mesos 1.11.0 master, and the RecordIO decoder on arbitrary input.

mod fields;
mod golden;
mod recordio;

use std::io::Write;
use std::path::PathBuf;

/// `../shared/mesos` (or `$PACKSIM_SHARED/mesos`), or `None` after saying why the test skips. With
/// `PACKSIM_REQUIRE_SHARED=1` (CI) a missing folder fails the test instead.
pub fn shared_mesos(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("PACKSIM_SHARED") {
        Some(d) => Some(PathBuf::from(d)),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("..").join("shared"))
            .find(|d| d.join("README.md").is_file()),
    };
    if let Some(d) = dir.filter(|d| d.join("mesos").is_dir()) {
        return Some(d.join("mesos"));
    }
    assert!(
        std::env::var("PACKSIM_REQUIRE_SHARED").as_deref() != Ok("1"),
        "{test}: PACKSIM_REQUIRE_SHARED=1 but no shared/mesos folder"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: no shared data folder beside the project"
    );
    None
}
