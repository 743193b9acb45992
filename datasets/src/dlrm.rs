//! Alibaba cluster-trace-gpu-v2025: disaggregated DLRM inference instances.
//!
//! Columns: `instance_sn, role, app_name, cpu_request, cpu_limit, gpu_request, gpu_limit,
//! rdma_request, rdma_limit, memory_request, memory_limit, disk_request, disk_limit,
//! max_instance_per_node, creation_time, scheduled_time, deletion_time`. Each instance becomes a
//! task with demand (cpus, gpus, rdma, mem, disk) = (vCPU, whole GPUs, % of a NIC → milli-NIC,
//! GiB → MiB, GiB → MiB), grouped by app with `max_instance_per_node` as anti-affinity (−1 = none),
//! the role (CN, HN) as class. Times are seconds; an empty creation time means the instance existed
//! before the trace window (arrival 0), an empty deletion time that it outlived it (no duration);
//! duration = deletion − scheduled (or creation). The trace has no node list: pair it with a
//! cluster spec.

use std::path::Path;

use packing::Schema;
use sim::workload::{GpuDemand, TaskSpec, dims, schema};

use crate::Error;
use crate::rows::{Columns, Parsed, ReadOptions, Records, RowError, seconds};

/// The schema of DLRM tasks: `cpus`, `gpus`, `rdma`, `mem`, `disk`.
pub fn dlrm_schema() -> Schema {
    schema(&[dims::CPUS, dims::GPUS, dims::RDMA, dims::MEM, dims::DISK])
}

/// Reads `disaggregated_DLRM_trace.csv(.gz)`.
pub fn instances(path: &Path, options: &ReadOptions) -> Result<Records<TaskSpec>, Error> {
    let required = [
        "instance_sn",
        "role",
        "app_name",
        "cpu_request",
        "gpu_request",
        "rdma_request",
        "memory_request",
        "disk_request",
        "max_instance_per_node",
        "creation_time",
        "scheduled_time",
        "deletion_time",
    ];
    let schema = dlrm_schema();
    Records::open(path, options, Columns::Header(&required), move |names| {
        let at = |c: &str| names.iter().position(|n| n == c).expect("checked");
        let [
            name,
            role,
            app,
            cpu,
            gpu,
            rdma,
            mem,
            disk,
            max_per,
            created,
            scheduled,
            deleted,
        ] = required.map(at);
        Ok(Box::new(move |row| {
            let gpus = row.u64(gpu)?;
            let gpus32 = u32::try_from(gpus)
                .map_err(|_| RowError::new(row.name(gpu), row.str(gpu).unwrap_or(""), "is too large"))?;
            let gib = |i: usize| row.nonneg(i).map(|x| (x * 1024.0).round() as u64);
            let time = |i: usize| -> Result<Option<i64>, RowError> {
                row.opt_nonneg(i)?
                    .map(|s| {
                        seconds(s).ok_or_else(|| {
                            RowError::new(row.name(i), row.str(i).unwrap_or(""), "is out of range")
                        })
                    })
                    .transpose()
            };
            let arrival = time(created)?.unwrap_or(0);
            let start = time(scheduled)?.unwrap_or(arrival);
            let duration = match time(deleted)? {
                Some(end) if end < start => {
                    return Err(RowError::new(
                        row.name(deleted),
                        row.str(deleted)?,
                        "is before the instance started",
                    ));
                }
                Some(end) => Some(end - start),
                None => None,
            };
            let demand = vec![
                row.decimal(cpu, schema.dim(0))?,
                1000 * gpus,
                // Percent of a NIC to milli-NIC.
                (row.nonneg(rdma)? * 10.0).round() as u64,
                gib(mem)?,
                gib(disk)?,
            ];
            let mut task = TaskSpec::new(row.str(name)?, arrival, demand);
            task.duration = duration;
            task.gpu = if gpus == 0 {
                GpuDemand::None
            } else {
                GpuDemand::Whole(gpus32)
            };
            task.group = Some(row.str(app)?.to_string());
            task.max_per_machine = match row.i64(max_per)? {
                -1 => None,
                n if n > 0 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
                _ => {
                    return Err(RowError::new(
                        row.name(max_per),
                        row.str(max_per)?,
                        "is neither -1 nor positive",
                    ));
                }
            };
            task.class = Some(row.str(role)?.to_string());
            Ok(Parsed::Record(task))
        }))
    })
}
