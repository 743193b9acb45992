//! Task lists as mesos-batch reads them: a TaskGroupInfo-style JSON object `{"tasks": [TaskInfo,
//! ...]}` in the Mesos JSON dialect, where `agent_id` may be left out or empty (the adapter sets it
//! from the offer). Each task becomes a [`TaskSpec`]: its TaskInfo template and its demand in the
//! adapter's schema.

use std::collections::BTreeSet;

use packing::Schema;
use packing::schema::dims;
use proto::v1::TaskInfo;
use serde_json::Value;

use crate::Error;

/// The dimensions the adapter packs on, in this order; Mesos scalars carry 3 decimals.
pub const DIMENSIONS: [&str; 5] = [dims::CPUS, dims::MEM, dims::DISK, dims::GPUS, dims::PORTS];

/// The adapter's schema: [`DIMENSIONS`] with 3 decimals each (`ports` counts ports).
pub fn schema() -> Schema {
    schema_ref().clone()
}

/// The same schema, built once: offers are converted resource by resource, at thousands of
/// agents per event.
pub(crate) fn schema_ref() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| Schema::uniform(&DIMENSIONS, 3).expect("fixed valid dimensions"))
}

/// One task to run: the user's TaskInfo and its demand (fixed point, 3 decimals, in
/// [`DIMENSIONS`] order; `ports` is a number of ports).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// The TaskInfo as given (task_id, name, resources, command, ...); `agent_id` is replaced.
    pub info: TaskInfo,
    /// The demand in milli-units.
    pub demand: Vec<u64>,
}

impl TaskSpec {
    /// Checks a TaskInfo and computes its demand. `what` names the task in errors.
    pub fn new(info: TaskInfo, what: &str) -> Result<TaskSpec, Error> {
        let bad = |field: &str, reason: String| Error::TaskList {
            field: format!("{what}.{field}"),
            reason,
        };
        if info.task_id.value.is_empty() {
            return Err(bad("task_id.value", "must not be empty".into()));
        }
        if info.command.is_none() && info.executor.is_none() {
            return Err(bad("command", "a task needs a command (or an executor)".into()));
        }
        if info.resources.is_empty() {
            return Err(bad(
                "resources",
                "a task needs resources (e.g. cpus and mem)".into(),
            ));
        }
        let schema = schema_ref();
        let mut demand = vec![0u64; DIMENSIONS.len()];
        for (i, r) in info.resources.iter().enumerate() {
            let field = format!("resources[{i}]");
            let Some(d) = schema.index_of(&r.name) else {
                return Err(bad(
                    &field,
                    format!(
                        "`{}` is not a resource packsim packs ({})",
                        r.name,
                        DIMENSIONS.join(", ")
                    ),
                ));
            };
            let amount = if r.name == "ports" {
                let ranges = r.ranges.as_ref().map(|x| x.range.as_slice()).unwrap_or_default();
                ranges
                    .iter()
                    .map(|x| x.end.saturating_sub(x.begin) + 1)
                    .sum::<u64>()
                    * 1000
            } else {
                let Some(s) = &r.scalar else {
                    return Err(bad(&field, format!("`{}` needs a scalar value", r.name)));
                };
                schema
                    .dim(d)
                    .from_mesos_scalar(s.value)
                    .map_err(|e| bad(&format!("{field}.scalar.value"), format!("{}: {e}", s.value)))?
            };
            demand[d] = demand[d].saturating_add(amount);
        }
        if demand.iter().all(|&x| x == 0) {
            return Err(bad("resources", "every amount is zero".into()));
        }
        Ok(TaskSpec { info, demand })
    }

    /// The task id as the user wrote it.
    pub fn id(&self) -> &str {
        &self.info.task_id.value
    }
}

/// Parses a task list (`{"tasks": [...]}` or a bare array) and checks it: every task valid, ids
/// unique. Errors name the field, e.g. `tasks[2].resources[0].scalar.value`.
pub fn parse_task_list(text: &str) -> Result<Vec<TaskSpec>, Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| Error::TaskList {
        field: format!("line {} column {}", e.line(), e.column()),
        reason: format!("not JSON: {e}"),
    })?;
    let tasks = match value {
        Value::Object(mut o) => match o.remove("tasks") {
            Some(Value::Array(a)) => a,
            Some(_) => {
                return Err(Error::TaskList {
                    field: "tasks".into(),
                    reason: "must be a list of TaskInfo objects".into(),
                });
            }
            None => {
                return Err(Error::TaskList {
                    field: "tasks".into(),
                    reason: "missing: a task list is {\"tasks\": [...]}".into(),
                });
            }
        },
        Value::Array(a) => a,
        _ => {
            return Err(Error::TaskList {
                field: "(top level)".into(),
                reason: "must be {\"tasks\": [...]}".into(),
            });
        }
    };
    if tasks.is_empty() {
        return Err(Error::TaskList {
            field: "tasks".into(),
            reason: "is empty".into(),
        });
    }
    let mut out = Vec::with_capacity(tasks.len());
    let mut ids = BTreeSet::new();
    for (i, mut t) in tasks.into_iter().enumerate() {
        let what = format!("tasks[{i}]");
        let Value::Object(o) = &mut t else {
            return Err(Error::TaskList {
                field: what,
                reason: "must be a TaskInfo object".into(),
            });
        };
        // mesos-batch lets the agent be empty: the offer decides it.
        o.entry("agent_id")
            .or_insert_with(|| serde_json::json!({"value": ""}));
        let info: TaskInfo = proto::json::from_value(t).map_err(|e| Error::TaskList {
            field: what.clone(),
            reason: match e {
                proto::Error::MissingRequired { fields, .. } => {
                    format!("missing required field(s) {}", fields.join(", "))
                }
                other => other.to_string(),
            },
        })?;
        let spec = TaskSpec::new(info, &what)?;
        if !ids.insert(spec.id().to_string()) {
            return Err(Error::TaskList {
                field: format!("{what}.task_id"),
                reason: format!("`{}` is used twice", spec.id()),
            });
        }
        out.push(spec);
    }
    Ok(out)
}

pub use proto::build::{command_task, scalar};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mesos_batch_task_list_parses_with_empty_agents() {
        let text = r#"{"tasks":[
            {"name":"a","task_id":{"value":"a"},"agent_id":{"value":""},
             "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}},
                          {"name":"mem","type":"SCALAR","scalar":{"value":64}},
                          {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}],
             "command":{"value":"true"}},
            {"name":"b","task_id":{"value":"b"},
             "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.25}}],
             "command":{"value":"sleep 1"}}]}"#;
        let tasks = parse_task_list(text).unwrap();
        assert_eq!(tasks[0].demand, vec![500, 64_000, 0, 0, 2000]);
        assert_eq!(tasks[1].demand, vec![1250, 0, 0, 0, 0]);
        assert_eq!(tasks[1].info.agent_id.value, "");
    }

    #[test]
    fn bad_task_lists_name_the_field() {
        let cases = [
            (
                r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}]}"#,
                "tasks[0].command",
            ),
            (
                r#"{"tasks":[{"task_id":{"value":"a"},"resources":[],"command":{"value":"x"}}]}"#,
                "tasks[0]: missing required field(s) name",
            ),
            (
                r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}],"command":{"value":"x"}}]}"#,
                "tasks[0].resources[0].scalar.value",
            ),
            (
                r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"bogus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"x"}}]}"#,
                "`bogus` is not a resource",
            ),
            (
                r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"x"}},
                          {"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"x"}}]}"#,
                "tasks[1].task_id",
            ),
            (
                r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALARR"}],"command":{"value":"x"}}]}"#,
                "tasks[0]",
            ),
            (r#"{"task":[]}"#, "tasks: missing"),
            ("{\"tasks\":[\n{]}", "line 2 column 2"),
        ];
        for (text, want) in cases {
            let err = parse_task_list(text).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }
}
