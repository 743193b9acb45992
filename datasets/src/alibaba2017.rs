//! Alibaba cluster-trace-v2017: `server_event.csv` (machines) and `batch_task.csv` (batch tasks).
//!
//! Both files officially have no header; the shipped `batch_task.csv.gz` carries a third-party
//! header line, which is recognised and ignored. Times are seconds from the trace start (negative
//! before it). CPU counts are absolute cores on machines and 1/100 core in task requests; memory and
//! disk are normalised to the largest machine and become MiB through the [`MachineScale`]
//! (default [`MachineScale::ALIBABA_2017`]).
//!
//! - `server_event`: `add` becomes a machine addition with capacity (cpus, mem, disk);
//!   `softerror` and `harderror` remove the machine.
//! - `batch_task`: one record per task standing for `number_of_instances` identical instances;
//!   arrival = create time; duration = end − create for Terminated and Failed tasks, none for tasks
//!   still Running at the trace end. Tasks without a resource request (Waiting, never started) are
//!   ignored and counted.

use std::path::Path;

use packing::Schema;
use sim::workload::{MachineChange, MachineEvent, MachineSpec, TaskSpec, dims, schema};

use crate::rows::{Columns, Parsed, ReadOptions, Records, RowError, need_fields, seconds};
use crate::{Error, MachineScale};

/// The schema of Alibaba 2017 machines and tasks: `cpus`, `mem`, `disk`.
pub fn alibaba2017_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM, dims::DISK])
}

const SERVER_EVENT: [&str; 7] = [
    "timestamp",
    "machine_id",
    "event_type",
    "event_detail",
    "cpus",
    "normalized_memory",
    "normalized_disk",
];

const BATCH_TASK: [&str; 8] = [
    "task_create_time",
    "task_end_time",
    "job_id",
    "task_id",
    "number_of_instances",
    "status",
    "cpus_requested_per_instance",
    "normalized_memory_requested_per_instance",
];

/// Reads `server_event.csv`.
pub fn server_events(path: &Path, options: &ReadOptions) -> Result<Records<MachineEvent>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::ALIBABA_2017);
    Records::open(path, options, Columns::Fixed(&SERVER_EVENT), move |_| {
        Ok(Box::new(move |row| {
            need_fields(row, 7)?;
            let time = row.f64(0).and_then(|t| {
                seconds(t)
                    .ok_or_else(|| RowError::new("timestamp", row.str(0).unwrap_or(""), "is out of range"))
            })?;
            let machine = row.str(1)?.to_string();
            let change = match row.str(2)? {
                "add" => MachineChange::Add(MachineSpec {
                    name: machine.clone(),
                    capacity: vec![
                        scale_cores(row.nonneg(4)?),
                        scale.mem_mib(row.nonneg(5)?),
                        scale.disk_mib(row.nonneg(6)?),
                    ],
                    gpus: None,
                }),
                "softerror" | "harderror" => MachineChange::Remove,
                other => {
                    return Err(RowError::new(
                        "event_type",
                        other,
                        "is not add, softerror or harderror",
                    ));
                }
            };
            Ok(Parsed::Record(MachineEvent {
                time,
                machine,
                change,
            }))
        }))
    })
}

/// Cores (possibly fractional) to milli-cores.
fn scale_cores(cores: f64) -> u64 {
    (cores * 1000.0).round() as u64
}

/// Reads `batch_task.csv` (plain or gzip, with or without the third-party header).
pub fn batch_tasks(path: &Path, options: &ReadOptions) -> Result<Records<TaskSpec>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::ALIBABA_2017);
    Records::open(path, options, Columns::Fixed(&BATCH_TASK), move |_| {
        Ok(Box::new(move |row| {
            if row.str(0).is_ok_and(|f| f.starts_with("task_create_time")) {
                return Ok(Parsed::Ignore("header line"));
            }
            need_fields(row, 8)?;
            let (cpu, mem) = (row.opt_str(6), row.opt_str(7));
            if cpu.is_none() && mem.is_none() {
                return Ok(Parsed::Ignore("task without a resource request (never started)"));
            }
            let create = row.seconds(0)?;
            let end = row.seconds(1)?;
            let status = row.str(5)?;
            let duration = match status {
                "Terminated" | "Failed" if end < create => {
                    return Err(RowError::new(
                        "task_end_time",
                        row.str(1)?,
                        "is before task_create_time",
                    ));
                }
                "Terminated" | "Failed" => Some(end - create),
                _ => None,
            };
            let instances = u32::try_from(row.u64(4)?)
                .map_err(|_| RowError::new(row.name(4), row.str(4).unwrap_or(""), "is too large"))?;
            if instances == 0 {
                return Ok(Parsed::Ignore("task with zero instances"));
            }
            // 1/100 core → milli-cores.
            let cpus = (row.nonneg(6)? * 10.0).round() as u64;
            let job = row.str(2)?;
            let mut task = TaskSpec::new(
                format!("j{job}-t{}", row.str(3)?),
                create,
                vec![cpus, scale.mem_mib(row.nonneg(7)?), 0],
            );
            task.duration = duration;
            task.instances = instances;
            task.group = Some(format!("j{job}"));
            task.class = Some(status.to_string());
            Ok(Parsed::Record(task))
        }))
    })
}
