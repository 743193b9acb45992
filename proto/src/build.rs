//! Builders for the messages that tests, examples and the adapter write by hand.

use crate::v1::resource::AllocationInfo;
use crate::v1::{AgentId, CommandInfo, FrameworkId, Offer, OfferId, Resource, TaskId, TaskInfo, value};

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

/// An offer of `cpus` and `mem` (MiB) and the inclusive port range `ports` on `agent`, to the
/// framework `fw`, allocated to role `*` as a MULTI_ROLE framework receives it.
pub fn offer(id: &str, fw: &str, agent: &str, cpus: f64, mem: f64, ports: (u64, u64)) -> Offer {
    let star = || {
        Some(AllocationInfo {
            role: Some("*".into()),
        })
    };
    let mut resources = vec![scalar("cpus", cpus), scalar("mem", mem)];
    resources.push(Resource {
        name: "ports".into(),
        r#type: value::Type::Ranges as i32,
        ranges: Some(value::Ranges {
            range: vec![value::Range {
                begin: ports.0,
                end: ports.1,
            }],
        }),
        ..Default::default()
    });
    for r in &mut resources {
        r.allocation_info = star();
    }
    Offer {
        id: OfferId { value: id.into() },
        framework_id: FrameworkId { value: fw.into() },
        agent_id: AgentId { value: agent.into() },
        hostname: format!("{agent}.local"),
        resources,
        allocation_info: star(),
        ..Default::default()
    }
}
