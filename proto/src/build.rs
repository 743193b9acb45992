//! Builders for the messages that tests, examples and the adapter write by hand.

use crate::v1::{AgentId, CommandInfo, Resource, TaskId, TaskInfo, value};

/// A scalar resource as Mesos writes it.
pub fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value }),
        ..Resource::default()
    }
}

/// A simple shell-command task with `cpus` and `mem` (MiB), as tests and the API build them.
pub fn command_task(id: &str, shell: &str, cpus: f64, mem: f64) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId { value: String::new() },
        resources: vec![scalar("cpus", cpus), scalar("mem", mem)],
        command: Some(CommandInfo {
            value: Some(shell.into()),
            shell: Some(true),
            ..Default::default()
        }),
        ..TaskInfo::default()
    }
}
