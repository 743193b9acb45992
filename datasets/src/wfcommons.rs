//! WfCommons workflow instances (the WfFormat JSON of the WfCommons project), as one job whose
//! tasks arrive at 0 and wait for their parents.
//!
//! Both schemas are read:
//! - the newer one (WfFormat 1.4 and later): `workflow.specification.tasks[]` (`id`, `name`,
//!   `parents`) joined by `id` with `workflow.execution.tasks[]` (`runtimeInSeconds`, `coreCount`,
//!   `avgCPU`, `memoryInBytes`);
//! - the older one (up to 1.3): `workflow.jobs[]` (or `workflow.tasks[]`) with `name`, `parents`
//!   (by name), `runtime`, `cores`, `avgCPU` and `memory` (KiB).
//!
//! An instance records what each task *used*, not what it asked for. packsim's rule for the
//! request: `cpus` = the recorded core count; without one, the average CPU use rounded up to whole
//! cores (`avgCPU` is a percentage of one core), at least 1; `mem` = the recorded peak memory
//! rounded up to whole MiB, 0 without one. The duration is the recorded runtime.

use std::collections::HashMap;
use std::path::Path;

use packing::Schema;
use serde_json::Value;
use sim::workload::{TaskSpec, dims, schema};

use crate::Error;
use crate::graph::{Linker, Strictness};
use crate::packsim::Loaded;
use crate::rows::{Skipped, read_text, seconds};

/// The schema of WfCommons tasks: `cpus` (milli-cores), `mem` (MiB).
pub fn wfcommons_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM])
}

/// What a task of either schema records.
struct Recorded<'a> {
    id: &'a str,
    parents: Vec<&'a str>,
    runtime: Option<&'a Value>,
    cores: Option<&'a Value>,
    avg_cpu: Option<&'a Value>,
    /// Peak memory in bytes.
    memory_bytes: Option<f64>,
}

/// Reads an instance: its tasks, in arrival order, with their parents.
pub fn tasks(path: &Path) -> Result<(Schema, Loaded<TaskSpec>), Error> {
    let text = read_text(path)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        Error::at(
            path,
            e.line() as u64,
            format!("column {}: invalid JSON: {}", e.column(), {
                let m = e.to_string();
                m.split(" at line ").next().unwrap_or(&m).to_string()
            }),
        )
    })?;
    let workflow = doc
        .get("workflow")
        .ok_or_else(|| Error::file(path, "no `workflow` object: not a WfCommons instance"))?;
    let job = doc
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("workflow")
        .to_string();
    let recorded = match workflow.get("specification") {
        Some(spec) => newer(path, spec, workflow.get("execution"))?,
        None => older(path, workflow)?,
    };
    if recorded.is_empty() {
        return Err(Error::file(path, "the workflow has no tasks"));
    }
    let mut linker = Linker::new(Strictness::Strict);
    let mut list = Vec::with_capacity(recorded.len());
    for (n, r) in recorded.iter().enumerate() {
        let at = |field: &str, value: &Value, problem: &str| {
            Error::file(
                path,
                format!("task `{}` (#{}): `{field}` = `{value}` {problem}", r.id, n + 1),
            )
        };
        let number = |field: &str, v: Option<&Value>| -> Result<Option<f64>, Error> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(value) => match value.as_f64() {
                    Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                    Some(_) => Err(at(field, value, "is negative")),
                    None => Err(at(field, value, "is not a number")),
                },
            }
        };
        let runtime = number("runtime", r.runtime)?;
        let cores = match number("coreCount", r.cores)? {
            Some(c) => c,
            None => number("avgCPU", r.avg_cpu)?.map_or(1.0, |pct| (pct / 100.0).ceil().max(1.0)),
        };
        let mem = r.memory_bytes.map_or(0, |b| (b / 1_048_576.0).ceil() as u64);
        let mut task = TaskSpec::new(r.id, 0, vec![(cores * 1000.0).round() as u64, mem]);
        task.duration = runtime.and_then(seconds);
        task.job = Some(job.clone());
        linker.task(path, Some(&job), r.id, 1)?;
        for p in &r.parents {
            linker.after(Some(&job), p, 0, 1, "parents");
        }
        list.push(task);
    }
    let dropped = linker.link(path, &mut list)?;
    let total = list.len() as u64;
    Ok((
        wfcommons_schema(),
        Loaded::new(list, total, Skipped::default(), dropped),
    ))
}

fn array<'a>(path: &Path, v: Option<&'a Value>, what: &str) -> Result<&'a [Value], Error> {
    match v {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(Error::file(path, format!("`{what}` is `{other}`, not a list"))),
        None => Err(Error::file(path, format!("no `{what}` list"))),
    }
}

fn names<'a>(path: &Path, task: &str, v: Option<&'a Value>) -> Result<Vec<&'a str>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| {
                p.as_str()
                    .ok_or_else(|| Error::file(path, format!("task `{task}`: parent `{p}` is not a name")))
            })
            .collect(),
        Some(other) => Err(Error::file(
            path,
            format!("task `{task}`: `parents` is `{other}`, not a list"),
        )),
    }
}

fn id_of<'a>(path: &Path, t: &'a Value, n: usize, keys: &[&str]) -> Result<&'a str, Error> {
    keys.iter()
        .find_map(|k| t.get(*k).and_then(Value::as_str))
        .ok_or_else(|| Error::file(path, format!("task #{}: no `{}`", n + 1, keys[0])))
}

/// WfFormat 1.4+: specification and execution, joined by task id.
fn newer<'a>(path: &Path, spec: &'a Value, execution: Option<&'a Value>) -> Result<Vec<Recorded<'a>>, Error> {
    let tasks = array(path, spec.get("tasks"), "workflow.specification.tasks")?;
    let mut runs: HashMap<&str, &Value> = HashMap::new();
    if let Some(exec) = execution {
        for (n, t) in array(path, exec.get("tasks"), "workflow.execution.tasks")?
            .iter()
            .enumerate()
        {
            runs.insert(id_of(path, t, n, &["id"])?, t);
        }
    }
    tasks
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let id = id_of(path, t, n, &["id", "name"])?;
            let run = runs.get(id).copied();
            let field = |k: &str| run.and_then(|r| r.get(k));
            Ok(Recorded {
                id,
                parents: names(path, id, t.get("parents"))?,
                runtime: field("runtimeInSeconds"),
                cores: field("coreCount"),
                avg_cpu: field("avgCPU"),
                memory_bytes: field("memoryInBytes").and_then(Value::as_f64),
            })
        })
        .collect()
}

/// WfFormat up to 1.3: `jobs[]` (or `tasks[]`) with parents by name, memory in KiB.
fn older<'a>(path: &Path, workflow: &'a Value) -> Result<Vec<Recorded<'a>>, Error> {
    let list = workflow.get("jobs").or_else(|| workflow.get("tasks"));
    let tasks = array(path, list, "workflow.jobs")?;
    tasks
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let id = id_of(path, t, n, &["name", "id"])?;
            Ok(Recorded {
                id,
                parents: names(path, id, t.get("parents"))?,
                runtime: t.get("runtime").or_else(|| t.get("runtimeInSeconds")),
                cores: t.get("cores").or_else(|| t.get("coreCount")),
                avg_cpu: t.get("avgCPU"),
                memory_bytes: t.get("memory").and_then(Value::as_f64).map(|kib| kib * 1024.0),
            })
        })
        .collect()
}
