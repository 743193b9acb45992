//! Alibaba cluster-trace-v2018: `machine_meta`, `batch_task` and `container_meta`.
//!
//! No file has a header. Times are seconds from the trace start. CPU is in cores on machines and
//! 100 = 1 core in requests; memory is normalised to 0–100 (the largest machine) and becomes MiB
//! through the [`MachineScale`] (default [`MachineScale::ALIBABA_2018`]: 100 = 384 GiB).
//!
//! - `machine_meta` (`machine_id, time_stamp, failure_domain_1, failure_domain_2, cpu_num, mem_size,
//!   status`) holds several rows per machine: the first `USING` row adds the machine, a later `USING`
//!   row with another capacity updates it, a non-`USING` status removes a machine in service.
//!   Repeated rows are ignored and counted.
//! - `batch_task` (`task_name, instance_num, job_name, task_type, status, start_time, end_time,
//!   plan_cpu, plan_mem`): one record per task standing for `instance_num` instances; arrival = start,
//!   duration = end − start when the task has ended. The task name encodes the job's DAG
//!   ([`link_dags`]): in `M1`, `M2_1`, `R5_3_4` the number after the letters is the task and the
//!   rest its parents within the job; other names (`task_…`, `MergeTask`) are independent tasks.
//! - `container_meta` (`container_id, machine_id, time_stamp, app_du, status, cpu_request,
//!   cpu_limit, mem_size`): one long-running task per container at its first row, grouped by
//!   deploy unit; later rows of the same container are ignored and counted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use packing::Schema;
use sim::workload::{MachineChange, MachineEvent, MachineSpec, TaskSpec, dims, schema};

use crate::rows::{Columns, Parsed, ReadOptions, Records, RowError, need_fields};
use crate::{Error, MachineScale};

/// The schema of Alibaba 2018 machines and tasks: `cpus`, `mem`.
pub fn alibaba2018_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM])
}

const MACHINE_META: [&str; 7] = [
    "machine_id",
    "time_stamp",
    "failure_domain_1",
    "failure_domain_2",
    "cpu_num",
    "mem_size",
    "status",
];
const BATCH_TASK: [&str; 9] = [
    "task_name",
    "instance_num",
    "job_name",
    "task_type",
    "status",
    "start_time",
    "end_time",
    "plan_cpu",
    "plan_mem",
];
const CONTAINER_META: [&str; 8] = [
    "container_id",
    "machine_id",
    "time_stamp",
    "app_du",
    "status",
    "cpu_request",
    "cpu_limit",
    "mem_size",
];

/// Reads `machine_meta.csv`.
pub fn machine_meta(path: &Path, options: &ReadOptions) -> Result<Records<MachineEvent>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::ALIBABA_2018);
    let mut in_service: HashMap<String, Vec<u64>> = HashMap::new();
    Records::open(path, options, Columns::Fixed(&MACHINE_META), move |_| {
        Ok(Box::new(move |row| {
            need_fields(row, 7)?;
            let machine = row.str(0)?.to_string();
            let time = row.seconds(1)?;
            let capacity = vec![
                (row.nonneg(4)? * 1000.0).round() as u64,
                scale.mem_mib(row.nonneg(5)? / 100.0),
            ];
            let using = row.str(6)? == "USING";
            let change = match (in_service.get(&machine), using) {
                (None, true) => MachineChange::Add(MachineSpec {
                    name: machine.clone(),
                    capacity: capacity.clone(),
                    gpus: None,
                }),
                (Some(old), true) if *old == capacity => {
                    return Ok(Parsed::Ignore("repeated machine status"));
                }
                (Some(_), true) => MachineChange::Update(capacity.clone()),
                (Some(_), false) => MachineChange::Remove,
                (None, false) => return Ok(Parsed::Ignore("machine not in service yet")),
            };
            if using {
                in_service.insert(machine.clone(), capacity);
            } else {
                in_service.remove(&machine);
            }
            Ok(Parsed::Record(MachineEvent {
                time,
                machine,
                change,
            }))
        }))
    })
}

/// Reads `batch_task.csv`.
pub fn batch_tasks(path: &Path, options: &ReadOptions) -> Result<Records<TaskSpec>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::ALIBABA_2018);
    Records::open(path, options, Columns::Fixed(&BATCH_TASK), move |_| {
        Ok(Box::new(move |row| {
            need_fields(row, 9)?;
            if row.opt_str(7).is_none() && row.opt_str(8).is_none() {
                return Ok(Parsed::Ignore("task without a resource request"));
            }
            let instances = u32::try_from(row.u64(1)?)
                .map_err(|_| RowError::new(row.name(1), row.str(1).unwrap_or(""), "is too large"))?;
            if instances == 0 {
                return Ok(Parsed::Ignore("task with zero instances"));
            }
            let start = row.seconds(5)?;
            let end = row.opt_str(6).map(|_| row.seconds(6)).transpose()?;
            let duration = match end {
                Some(end) if end > 0 && end < start => {
                    return Err(RowError::new("end_time", row.str(6)?, "is before start_time"));
                }
                Some(end) if end > 0 => Some(end - start),
                _ => None,
            };
            let job = row.str(2)?;
            let mut task = TaskSpec::new(
                format!("{job}/{}", row.str(0)?),
                start,
                vec![
                    (row.nonneg(7)? * 10.0).round() as u64,
                    scale.mem_mib(row.nonneg(8)? / 100.0),
                ],
            );
            task.duration = duration;
            task.instances = instances;
            task.group = Some(job.to_string());
            task.job = Some(job.to_string());
            task.class = Some(row.str(3)?.to_string());
            Ok(Parsed::Record(task))
        }))
    })
}

/// Reads `container_meta.csv`.
pub fn container_meta(path: &Path, options: &ReadOptions) -> Result<Records<TaskSpec>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::ALIBABA_2018);
    let mut seen: HashSet<String> = HashSet::new();
    Records::open(path, options, Columns::Fixed(&CONTAINER_META), move |_| {
        Ok(Box::new(move |row| {
            need_fields(row, 8)?;
            let id = row.str(0)?;
            let time = row.seconds(2)?;
            let cpus = (row.nonneg(5)? * 10.0).round() as u64;
            let mem = scale.mem_mib(row.nonneg(7)? / 100.0);
            if !seen.insert(id.to_string()) {
                return Ok(Parsed::Ignore("later row of a known container"));
            }
            let mut task = TaskSpec::new(id, time, vec![cpus, mem]);
            task.group = Some(row.str(3)?.to_string());
            task.class = Some(row.str(4)?.to_string());
            Ok(Parsed::Record(task))
        }))
    })
}

/// A DAG task name's task number and parents' numbers (`R5_3_4` → 5, [3, 4]); `None` for
/// names that are not a letter code followed by numbers.
pub fn dag_name(name: &str) -> Option<(&str, Vec<&str>)> {
    let digits = name.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if digits.len() == name.len() || digits.is_empty() {
        return None;
    }
    let mut parts = digits.split('_');
    let task = parts.next()?;
    let parents: Vec<&str> = parts.collect();
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(task) && parents.iter().all(|p| numeric(p))).then_some((task, parents))
}

/// Links the tasks of `batch_task` (as [`batch_tasks`] reads them, named `job/task_name`) into
/// their jobs' DAGs, in arrival order. Parents missing from the job, repeated, or the task itself
/// are dropped and counted, by reason, in the answer, as are names repeated within a job.
pub fn link_dags(
    path: &Path,
    tasks: &mut Vec<TaskSpec>,
) -> Result<std::collections::BTreeMap<&'static str, u64>, Error> {
    let mut linker = crate::graph::Linker::new(crate::graph::Strictness::Tolerant);
    for t in tasks.iter() {
        let (job, name) = t.name.split_once('/').unwrap_or(("", &t.name));
        match dag_name(name) {
            Some((number, parents)) => {
                linker.task(path, Some(job), number, 0)?;
                for p in parents {
                    linker.after(Some(job), p, 0, 0, "task_name");
                }
            }
            None => linker.task(path, Some(job), name, 0)?,
        }
    }
    linker.link(path, tasks)
}
