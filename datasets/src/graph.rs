//! Task graphs as files name them: parents by name, resolved to positions, checked, and sorted.
//!
//! Every reader of a format with dependencies (packsim's own, SWF, Alibaba 2018, WfCommons) adds
//! its tasks and their parents' names here, with the line each came from; [`Linker::link`]
//! resolves the names within the task's job, refuses (or, for traces that carry noise, drops and
//! counts) unknown and repeated parents, refuses cycles naming a task on them, and puts the tasks
//! in arrival order with their edges following them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use sim::workload::{After, TaskSpec, Time, check_graph, sort_tasks};

use crate::Error;

/// What to do with a parent that cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// An error naming the file, line, column and value (user-written files).
    Strict,
    /// Dropped and counted by reason (traces that carry noise, such as Alibaba 2018).
    Tolerant,
}

/// One parent as a file names it.
struct Ref {
    child: u32,
    job: Option<String>,
    parent: String,
    delay: Time,
    line: u64,
    column: &'static str,
}

/// Tasks and their parents' names, before resolution.
pub(crate) struct Linker {
    strictness: Strictness,
    index: HashMap<(Option<String>, String), u32>,
    refs: Vec<Ref>,
    lines: Vec<u64>,
    /// Parents dropped (tolerant mode), by reason.
    dropped: BTreeMap<&'static str, u64>,
}

impl Linker {
    pub(crate) fn new(strictness: Strictness) -> Linker {
        Linker {
            strictness,
            index: HashMap::new(),
            refs: Vec::new(),
            lines: Vec::new(),
            dropped: BTreeMap::new(),
        }
    }

    /// Registers task number `position` (its index in the list being built) under `id` within
    /// `job`, read at `line`. A second task with the same id in the same job is refused in strict
    /// mode and not registered (its children find the first) in tolerant mode.
    pub(crate) fn task(&mut self, path: &Path, job: Option<&str>, id: &str, line: u64) -> Result<(), Error> {
        let position = self.lines.len() as u32;
        self.lines.push(line);
        let key = (job.map(str::to_string), id.to_string());
        if let Some(&first) = self.index.get(&key) {
            return match self.strictness {
                Strictness::Strict => Err(Error::at(
                    path,
                    line,
                    format!(
                        "duplicate id `{id}`{} (first on line {})",
                        job.map(|j| format!(" in job `{j}`")).unwrap_or_default(),
                        self.lines[first as usize]
                    ),
                )),
                Strictness::Tolerant => {
                    *self
                        .dropped
                        .entry("repeated task name (later one not a parent)")
                        .or_insert(0) += 1;
                    Ok(())
                }
            };
        }
        self.index.insert(key, position);
        Ok(())
    }

    /// The task registered last waits for `parent` (an id within `job`) plus `delay`.
    pub(crate) fn after(
        &mut self,
        job: Option<&str>,
        parent: &str,
        delay: Time,
        line: u64,
        column: &'static str,
    ) {
        self.refs.push(Ref {
            child: self.lines.len() as u32 - 1,
            job: job.map(str::to_string),
            parent: parent.to_string(),
            delay,
            line,
            column,
        });
    }

    /// Resolves every parent into `tasks` (in the order they were registered), checks the graph
    /// and sorts the tasks by arrival. Returns what was dropped (tolerant mode), by reason.
    pub(crate) fn link(
        mut self,
        path: &Path,
        tasks: &mut Vec<TaskSpec>,
    ) -> Result<BTreeMap<&'static str, u64>, Error> {
        debug_assert_eq!(tasks.len(), self.lines.len());
        let drop = |reason: &'static str, dropped: &mut BTreeMap<&'static str, u64>| {
            *dropped.entry(reason).or_insert(0) += 1;
        };
        for r in std::mem::take(&mut self.refs) {
            let key = (r.job.clone(), r.parent.clone());
            let Some(&p) = self.index.get(&key) else {
                match self.strictness {
                    Strictness::Strict => {
                        return Err(Error::at(
                            path,
                            r.line,
                            format!(
                                "task `{}`: column `{}`: `{}` is not a task{}",
                                tasks[r.child as usize].name,
                                r.column,
                                r.parent,
                                r.job.map(|j| format!(" of job `{j}`")).unwrap_or_default()
                            ),
                        ));
                    }
                    Strictness::Tolerant => {
                        drop("parent not in the trace", &mut self.dropped);
                        continue;
                    }
                }
            };
            let child = &mut tasks[r.child as usize];
            let problem = if p == r.child {
                Some(("waits for itself", "task waiting for itself"))
            } else if child.after.iter().any(|a| a.task == p) {
                Some(("names the same parent twice", "repeated parent"))
            } else {
                None
            };
            match (problem, self.strictness) {
                (None, _) => child.after.push(After {
                    task: p,
                    delay: r.delay,
                }),
                (Some((problem, _)), Strictness::Strict) => {
                    return Err(Error::at(
                        path,
                        r.line,
                        format!(
                            "task `{}`: column `{}`: `{}` {problem}",
                            child.name, r.column, r.parent
                        ),
                    ));
                }
                (Some((_, reason)), Strictness::Tolerant) => drop(reason, &mut self.dropped),
            }
        }
        loop {
            match check_graph(tasks) {
                Ok(()) => break,
                Err(e) if self.strictness == Strictness::Tolerant && e.problem.contains("cycle") => {
                    // Break the cycle at the task named: its parents on the cycle are dropped.
                    let dropped = tasks[e.task].after.len() as u64;
                    tasks[e.task].after.clear();
                    *self.dropped.entry("parent on a dependency cycle").or_insert(0) += dropped;
                }
                Err(e) => {
                    return Err(Error::at(
                        path,
                        self.lines[e.task],
                        format!("task `{}` {}", tasks[e.task].name, e.problem),
                    ));
                }
            }
        }
        sort_tasks(tasks);
        Ok(self.dropped)
    }
}
