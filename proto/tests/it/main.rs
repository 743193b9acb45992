//! proto's integration tests: the .proto files against the official field table, the codecs against
//! a recorded session with a real Mesos 1.11.0 master, and the RecordIO decoder on arbitrary input.

mod fields;
mod golden;
mod recordio;

use std::path::PathBuf;

/// `../shared/mesos` (or `$PACKSIM_SHARED/mesos`), or `None` after saying why the test skips. With
/// `PACKSIM_REQUIRE_SHARED=1` (CI) a missing folder fails the test instead.
pub fn shared_mesos(test: &str) -> Option<PathBuf> {
    datasets::shared::for_tests(env!("CARGO_MANIFEST_DIR"), test).map(|d| d.join("mesos"))
}
