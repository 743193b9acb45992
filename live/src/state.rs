//! What survives an adapter restart, and the state file that keeps it.
//!
//! The state file is a journal: a header line, then one JSON line per change, each appended (and
//! flushed) before the calls it covers are sent, so its cost follows what changed, not how many
//! tasks there are. It is compacted (rewritten from a [`Snapshot`] through a temporary file and a
//! rename) when it opens and whenever it has grown to a few lines per task. The single pretty JSON
//! snapshot that earlier versions wrote is still read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::protocol::Outcome;

/// What survives an adapter restart: the framework id and every task's attempt, agent and result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The framework id the master assigned, to re-subscribe as the same framework.
    pub framework_id: Option<String>,
    /// Every task in submission order.
    pub tasks: Vec<SnapshotTask>,
}

/// One task in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTask {
    /// The TaskInfo as submitted, in the Mesos JSON dialect.
    pub info: serde_json::Value,
    /// Where the task is.
    #[serde(flatten)]
    pub record: TaskRecord,
}

/// Where one task is: what a journal line records when it changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Attempts made (0 = never launched).
    pub attempt: u32,
    /// The agent of the last attempt.
    pub agent: Option<String>,
    /// Whether the last attempt was launched and is not final.
    pub launched: bool,
    /// When the last attempt was launched, seconds since the Unix epoch (so that durations span
    /// restarts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched_unix: Option<f64>,
    /// The final result, once there is one.
    pub outcome: Option<Outcome>,
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// The master assigned (or confirmed) this framework id.
    Framework(String),
    /// Task number `i` was submitted with this TaskInfo (tasks are numbered in submission order).
    Task {
        /// Its number.
        i: usize,
        /// The TaskInfo, Mesos JSON dialect.
        info: serde_json::Value,
    },
    /// Task number `i` is now here.
    State {
        /// Its number.
        i: usize,
        /// Where it is.
        record: TaskRecord,
    },
}

const HEADER: &str = r#"{"packsim_state":2}"#;

/// Reads a state file written by an earlier run (either format), if it exists. A last line cut
/// off by a crash mid-write is ignored; any other bad line is an error naming it.
pub fn load(path: &Path) -> Result<Option<Snapshot>, Error> {
    let err = |what: String| Error::State(format!("{}: {what}", path.display()));
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e.to_string())),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    if text.lines().next() != Some(HEADER) {
        return serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| err(e.to_string()));
    }
    let mut s = Snapshot::default();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (n, line) in lines.iter().enumerate().skip(1) {
        let entry: Entry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(_) if n + 1 == lines.len() && !line.ends_with('\n') => break,
            Err(e) => return Err(err(format!("line {}: {e}", n + 1))),
        };
        let bad = |what: &str| err(format!("line {}: {what}", n + 1));
        match entry {
            Entry::Framework(id) => s.framework_id = Some(id),
            Entry::Task { i, info } if i == s.tasks.len() => s.tasks.push(SnapshotTask {
                info,
                record: TaskRecord::default(),
            }),
            Entry::Task { i, .. } => return Err(bad(&format!("task {i} out of order"))),
            Entry::State { i, record } => match s.tasks.get_mut(i) {
                Some(t) => t.record = record,
                None => return Err(bad(&format!("state of unknown task {i}"))),
            },
        }
    }
    Ok(Some(s))
}

/// The open state file, appended to as the core changes.
pub struct Journal {
    path: PathBuf,
    file: BufWriter<File>,
    lines: usize,
}

impl Journal {
    /// Writes `snapshot` as a compact journal at `path` (atomically: a temporary file renamed
    /// over it) and opens it for appending.
    pub fn create(path: &Path, snapshot: &Snapshot) -> Result<Journal, Error> {
        let err = |e: std::io::Error| Error::State(format!("{}: {e}", path.display()));
        let tmp = path.with_extension("tmp");
        let mut w = BufWriter::new(File::create(&tmp).map_err(err)?);
        let mut lines = 1;
        writeln!(w, "{HEADER}").map_err(err)?;
        let mut entries = Vec::new();
        if let Some(id) = &snapshot.framework_id {
            entries.push(Entry::Framework(id.clone()));
        }
        for (i, t) in snapshot.tasks.iter().enumerate() {
            entries.push(Entry::Task {
                i,
                info: t.info.clone(),
            });
            if t.record != TaskRecord::default() {
                entries.push(Entry::State {
                    i,
                    record: t.record.clone(),
                });
            }
        }
        for e in &entries {
            serde_json::to_writer(&mut w, e).expect("an entry serializes");
            w.write_all(b"\n").map_err(err)?;
            lines += 1;
        }
        w.into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)?;
        let file = std::fs::OpenOptions::new().append(true).open(path).map_err(err)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            lines,
        })
    }

    /// Appends `entries` and flushes them to the file.
    pub fn append(&mut self, entries: &[Entry]) -> Result<(), Error> {
        let err = |e: std::io::Error| Error::State(format!("{}: {e}", self.path.display()));
        for e in entries {
            serde_json::to_writer(&mut self.file, e).expect("an entry serializes");
            self.file.write_all(b"\n").map_err(err)?;
        }
        self.lines += entries.len();
        self.file.flush().map_err(err)
    }

    /// Whether the journal has grown enough, against `tasks` tasks, to be rewritten.
    pub fn wants_compaction(&self, tasks: usize) -> bool {
        self.lines > 4 * tasks + 1024
    }

    /// Rewrites the journal as `snapshot`.
    pub fn compact(&mut self, snapshot: &Snapshot) -> Result<(), Error> {
        *self = Journal::create(&self.path, snapshot)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(attempt: u32) -> TaskRecord {
        TaskRecord {
            attempt,
            agent: Some("A".into()),
            launched: true,
            launched_unix: Some(12.5),
            outcome: None,
        }
    }

    #[test]
    fn a_journal_reads_back_as_the_last_state_of_each_task() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut j = Journal::create(&path, &Snapshot::default()).unwrap();
        j.append(&[
            Entry::Framework("fw".into()),
            Entry::Task {
                i: 0,
                info: serde_json::json!({"name": "a"}),
            },
            Entry::Task {
                i: 1,
                info: serde_json::json!({"name": "b"}),
            },
            Entry::State {
                i: 0,
                record: record(1),
            },
            Entry::State {
                i: 0,
                record: record(2),
            },
        ])
        .unwrap();
        let s = load(&path).unwrap().unwrap();
        assert_eq!(s.framework_id.as_deref(), Some("fw"));
        assert_eq!(s.tasks.len(), 2);
        assert_eq!(s.tasks[0].record, record(2));
        assert_eq!(s.tasks[1].record, TaskRecord::default());
        // Compacted, it reads the same, in fewer lines.
        j.compact(&s).unwrap();
        assert_eq!(load(&path).unwrap().unwrap(), s);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 5);
    }

    #[test]
    fn a_line_cut_off_at_the_end_is_ignored_and_others_are_errors_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let good = format!("{HEADER}\n{{\"framework\":\"fw\"}}\n");
        std::fs::write(&path, format!("{good}{{\"task\":{{\"i\":0,\"inf")).unwrap();
        assert_eq!(load(&path).unwrap().unwrap().framework_id.as_deref(), Some("fw"));
        std::fs::write(&path, format!("{good}{{\"state\":{{\"i\":3}}}}\n")).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn the_old_single_snapshot_format_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let old = r#"{"framework_id": "fw", "tasks": [{"info": {"name": "a"}, "attempt": 1,
            "agent": "A", "launched": true, "outcome": null}]}"#;
        std::fs::write(&path, old).unwrap();
        let s = load(&path).unwrap().unwrap();
        assert_eq!(s.tasks[0].record.agent.as_deref(), Some("A"));
        assert!(s.tasks[0].record.launched);
    }
}
