//! Task lists as mesos-batch reads them: a TaskGroupInfo-style JSON object `{"tasks": [TaskInfo,
//! ...]}` in the Mesos JSON dialect, where `agent_id` may be left out or empty (the adapter sets it
//! from the offer). Each task becomes a [`TaskSpec`]: its TaskInfo template, what it asks of each
//! resource ([`Want`]: an amount, and where the task names them a role's reservation, a disk
//! (persistent volume or source) or specific ports), and its demand for the policy.

use std::collections::BTreeSet;

use packing::Schema;
use packing::schema::dims;
use proto::v1::TaskInfo;
use serde_json::Value;

use crate::Error;

/// The dimensions the adapter always packs on, in this order (custom scalar resources follow
/// them); Mesos scalars carry 3 decimals.
pub const DIMENSIONS: [&str; 5] = [dims::CPUS, dims::MEM, dims::DISK, dims::GPUS, dims::PORTS];

/// The adapter's schema: [`DIMENSIONS`] with 3 decimals each (`ports` counts ports).
pub fn schema() -> Schema {
    schema_ref().clone()
}

/// The adapter's schema with custom scalar resources after [`DIMENSIONS`] (e.g. the names
/// [`custom_resources`] finds in a task list).
pub fn schema_with(custom: &[String]) -> Result<Schema, Error> {
    let names: Vec<&str> = DIMENSIONS
        .iter()
        .copied()
        .chain(custom.iter().map(String::as_str))
        .collect();
    Schema::uniform(&names, 3).map_err(|e| Error::TaskList {
        field: "resources".into(),
        reason: e.to_string(),
    })
}

/// The scalar resources tasks ask for beyond [`DIMENSIONS`], in order of first appearance.
pub fn custom_resources(specs: &[TaskSpec]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in specs {
        for (name, _) in &s.custom {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

/// What a task asks of one resource: an amount, and where the task names them, the role whose
/// reservation it must come from, the disk it must be (a persistent volume, or a disk source),
/// and the exact ports.
#[derive(Clone, Debug, PartialEq)]
pub struct Want {
    /// The resource name.
    pub name: String,
    /// Milli-units (ports: milli-ports).
    pub amount: u64,
    /// Reserved for this role (the last of the resource's `reservations`, or its `role`).
    pub role: Option<String>,
    /// This disk: a persistent volume (matched by its id) or a disk source (matched whole).
    pub disk: Option<proto::v1::resource::DiskInfo>,
    /// These ports, as `(begin, end)` ranges; `None` asks for any ports (ranges starting at 0,
    /// Marathon's "any port").
    pub ports: Option<Vec<(u64, u64)>>,
}

impl Want {
    /// Whether any offered resource of its name will do.
    pub fn is_plain(&self) -> bool {
        self.role.is_none() && self.disk.is_none() && self.ports.is_none()
    }
}

/// The role a resource is reserved for (`None`: unreserved), from the reservation refinement
/// format or the pre-refinement `role` field.
pub fn reserved_for(r: &proto::v1::Resource) -> Option<String> {
    #[allow(deprecated)] // the pre-refinement field is still what older task lists carry
    let legacy = r.role.clone();
    r.reservations
        .last()
        .and_then(|x| x.role.clone())
        .or(legacy)
        .filter(|role| role != "*")
}

/// The same schema, built once (task lists are read task by task).
pub(crate) fn schema_ref() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| Schema::uniform(&DIMENSIONS, 3).expect("fixed valid dimensions"))
}

/// One task to run: the user's TaskInfo, what it asks of each resource, and its demand as the
/// policy sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// The TaskInfo as given (task_id, name, resources, command, ...); `agent_id` is replaced.
    pub info: TaskInfo,
    /// The demand in milli-units in [`DIMENSIONS`] order (`ports` is a number of ports), without
    /// named disks (volumes and disk sources are matched exactly, never packed as plain disk).
    pub demand: Vec<u64>,
    /// Custom scalar resources and their amounts, milli-units.
    pub custom: Vec<(String, u64)>,
    /// One per resource of the TaskInfo, in its order.
    pub wants: Vec<Want>,
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
        let mut custom: Vec<(String, u64)> = Vec::new();
        let mut wants = Vec::with_capacity(info.resources.len());
        for (i, r) in info.resources.iter().enumerate() {
            let field = format!("resources[{i}]");
            let mut ports = None;
            let amount = if r.name == dims::PORTS {
                let Some(ranges) = &r.ranges else {
                    return Err(bad(&field, "`ports` needs ranges, e.g. {\"range\":[{\"begin\":31000,\"end\":31000}]} (begin 0: any port)".into()));
                };
                let mut count = 0u64;
                let mut exact = Vec::new();
                for g in &ranges.range {
                    if g.end < g.begin {
                        return Err(bad(
                            &format!("{field}.ranges"),
                            format!("{}-{} is empty", g.begin, g.end),
                        ));
                    }
                    count += g.end - g.begin + 1;
                    if g.begin > 0 {
                        exact.push((g.begin, g.end));
                    } else if !exact.is_empty() || ranges.range.len() > 1 {
                        return Err(bad(
                            &format!("{field}.ranges"),
                            "ask for any ports (a range from 0) or for specific ports, not both".into(),
                        ));
                    }
                }
                if !exact.is_empty() {
                    ports = Some(exact);
                }
                count * 1000
            } else {
                let Some(x) = &r.scalar else {
                    return Err(bad(&field, format!("`{}` needs a scalar value", r.name)));
                };
                let dim = packing::Dim::new(r.name.clone(), 3)
                    .map_err(|e| bad(&format!("{field}.name"), e.to_string()))?;
                dim.from_mesos_scalar(x.value)
                    .map_err(|e| bad(&format!("{field}.scalar.value"), format!("{}: {e}", x.value)))?
            };
            let want = Want {
                name: r.name.clone(),
                amount,
                role: reserved_for(r),
                disk: r.disk.clone(),
                ports,
            };
            if want.disk.is_none() {
                match schema.index_of(&r.name) {
                    Some(d) => demand[d] = demand[d].saturating_add(amount),
                    None => match custom.iter_mut().find(|(n, _)| *n == r.name) {
                        Some((_, a)) => *a = a.saturating_add(amount),
                        None => custom.push((r.name.clone(), amount)),
                    },
                }
            } else if r.name != dims::DISK {
                return Err(bad(
                    &format!("{field}.disk"),
                    format!("only `disk` resources name a disk, not `{}`", r.name),
                ));
            }
            wants.push(want);
        }
        if wants.iter().all(|w| w.amount == 0) {
            return Err(bad("resources", "every amount is zero".into()));
        }
        Ok(TaskSpec {
            info,
            demand,
            custom,
            wants,
        })
    }

    /// The demand in `schema` (the adapter's, [`schema_with`] custom resources): an error naming a
    /// custom resource the schema lacks.
    pub fn demand_in(&self, schema: &Schema) -> Result<Vec<u64>, Error> {
        let mut out = vec![0u64; schema.len()];
        out[..DIMENSIONS.len()].copy_from_slice(&self.demand);
        for (name, amount) in &self.custom {
            let d = schema.index_of(name).ok_or_else(|| Error::TaskList {
                field: format!("task {}", self.id()),
                reason: format!(
                    "`{name}` is not a resource this framework packs ({}); build its policy on \
                     live::tasks::schema_with(&[\"{name}\".into()])",
                    schema.names()
                ),
            })?;
            out[d] = *amount;
        }
        Ok(out)
    }

    /// Whether the task names exact resources (a reservation, a disk, ports), which only some
    /// offers can give.
    pub fn is_exact(&self) -> bool {
        self.wants.iter().any(|w| !w.is_plain())
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
        // Ports 1-2 are those two ports, not any two.
        assert_eq!(tasks[0].wants[2].ports, Some(vec![(1, 2)]));
    }

    #[test]
    fn custom_resources_volumes_reservations_and_any_ports_are_read() {
        let text = r#"{"tasks":[
            {"name":"a","task_id":{"value":"a"},"command":{"value":"true"},
             "resources":[{"name":"fpgas","type":"SCALAR","scalar":{"value":2}},
                          {"name":"cpus","type":"SCALAR","scalar":{"value":1},
                           "reservations":[{"type":"DYNAMIC","role":"test"}]},
                          {"name":"disk","type":"SCALAR","scalar":{"value":500},"role":"test",
                           "disk":{"persistence":{"id":"v1"},"volume":{"mode":"RW","container_path":"data"}}},
                          {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":0,"end":2}]}}]}]}"#;
        let t = &parse_task_list(text).unwrap()[0];
        assert_eq!(t.custom, vec![("fpgas".to_string(), 2000)]);
        // The volume is matched, not packed: no plain disk demand.
        assert_eq!(t.demand, vec![1000, 0, 0, 0, 3000]);
        assert_eq!(t.wants[1].role.as_deref(), Some("test"));
        assert_eq!(t.wants[2].role.as_deref(), Some("test"));
        assert!(t.wants[2].disk.is_some());
        assert_eq!(t.wants[3].ports, None);
        assert!(t.is_exact());
        assert_eq!(custom_resources(std::slice::from_ref(t)), vec!["fpgas"]);
        let schema = schema_with(&custom_resources(std::slice::from_ref(t))).unwrap();
        assert_eq!(t.demand_in(&schema).unwrap(), vec![1000, 0, 0, 0, 3000, 2000]);
        assert!(
            t.demand_in(&super::schema())
                .unwrap_err()
                .to_string()
                .contains("`fpgas`")
        );
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
                r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":0,"end":1},{"begin":31000,"end":31000}]}}],"command":{"value":"x"}}]}"#,
                "any ports (a range from 0) or for specific ports, not both",
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
