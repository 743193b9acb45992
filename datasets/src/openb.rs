//! Alibaba cluster-trace-gpu-v2023 ("openb"): GPU nodes and GPU-sharing pods.
//!
//! Nodes (`sn,cpu_milli,memory_mib,gpu,model`) become machines with capacity
//! `(cpus, mem, gpus) = (cpu_milli, memory_mib, 1000 × gpu)` and `gpu` devices of the node's model.
//! Pods (`name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,pod_phase,creation_time,
//! deletion_time,scheduled_time]`) become tasks:
//! - `num_gpu = 0`: no GPU; `num_gpu = 1, gpu_milli < 1000`: a share of one GPU; otherwise
//!   `num_gpu` whole GPUs (`gpu_milli` must then be 1000). The `gpus` demand is the total milli-GPU.
//! - `gpu_spec` (`V100M16|V100M32`) lists the allowed GPU models; empty means any.
//! - arrival = `creation_time`; duration = `deletion_time` − `scheduled_time` (or − `creation_time`
//!   for pods that were never scheduled); both in seconds in the file. The `multigpu*` variants
//!   have no time columns: every pod arrives at 0 with no duration, in file order.
//! - `qos` is kept as the task's class.

use std::path::Path;

use packing::Schema;
use sim::workload::{GpuDemand, GpuInventory, MachineSpec, TaskSpec, dims, schema};

use crate::Error;
use crate::rows::{Columns, Parsed, ReadOptions, Records, RowError, seconds};

/// The schema of openb machines and tasks: `cpus` (milli-cores), `mem` (MiB), `gpus` (milli-GPU).
pub fn openb_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM, dims::GPUS])
}

/// Reads a node list.
pub fn nodes(path: &Path, options: &ReadOptions) -> Result<Records<MachineSpec>, Error> {
    let columns = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];
    Records::open(path, options, Columns::Header(&columns), |names| {
        let [sn, cpu, mem, gpu, model] = columns.map(|c| position(names, c));
        Ok(Box::new(move |row| {
            let count = row.u64(gpu)?;
            let count32 = u32::try_from(count)
                .map_err(|_| RowError::new(row.name(gpu), row.str(gpu).unwrap_or(""), "is too large"))?;
            let model = row.opt_str(model).unwrap_or("").to_string();
            if count > 0 && model.is_empty() {
                return Err(RowError::new(
                    row.name(gpu),
                    row.str(gpu)?,
                    "GPUs without a `model`",
                ));
            }
            Ok(Parsed::Record(MachineSpec {
                name: row.str(sn)?.to_string(),
                capacity: vec![row.u64(cpu)?, row.u64(mem)?, 1000 * count],
                gpus: (count > 0).then_some(GpuInventory {
                    count: count32,
                    model,
                }),
            }))
        }))
    })
}

/// Reads a pod list (any of the 25 variants).
pub fn pods(path: &Path, options: &ReadOptions) -> Result<Records<TaskSpec>, Error> {
    let required = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"];
    Records::open(path, options, Columns::Header(&required), |names| {
        let [name, cpu, mem, num_gpu, gpu_milli] = required.map(|c| position(names, c));
        let find = |c: &str| names.iter().position(|n| n == c);
        let (spec, qos) = (find("gpu_spec"), find("qos"));
        let (created, deleted, scheduled) = (
            find("creation_time"),
            find("deletion_time"),
            find("scheduled_time"),
        );
        Ok(Box::new(move |row| {
            let count = row.u64(num_gpu)?;
            let milli = row.u64(gpu_milli)?;
            let bad =
                |problem: &str| RowError::new(row.name(gpu_milli), row.str(gpu_milli).unwrap_or(""), problem);
            let gpu = match (count, milli) {
                (0, 0) => GpuDemand::None,
                (0, _) => return Err(bad("is not 0 although num_gpu is 0")),
                (_, 0) => return Err(bad("is 0 although num_gpu is not")),
                (_, m) if m > 1000 => return Err(bad("is above 1000 (one whole GPU)")),
                (1, m) if m < 1000 => GpuDemand::Share(m as u32),
                (n, 1000) => GpuDemand::Whole(u32::try_from(n).map_err(|_| bad("num_gpu is too large"))?),
                _ => return Err(bad("must be 1000 when num_gpu is above 1")),
            };
            let time = |column: Option<usize>| -> Result<Option<i64>, RowError> {
                let Some(i) = column else { return Ok(None) };
                match row.opt_f64(i)? {
                    None => Ok(None),
                    Some(s) => seconds(s).map(Some).ok_or_else(|| {
                        RowError::new(row.name(i), row.str(i).unwrap_or(""), "is out of range")
                    }),
                }
            };
            let arrival = time(created)?.unwrap_or(0);
            let start = time(scheduled)?.unwrap_or(arrival);
            let duration = match time(deleted)? {
                Some(end) if end < start => {
                    let i = deleted.unwrap_or(0);
                    return Err(RowError::new(
                        row.name(i),
                        row.str(i)?,
                        "is before the pod started",
                    ));
                }
                Some(end) => Some(end - start),
                None => None,
            };
            let mut task = TaskSpec::new(
                row.str(name)?,
                arrival,
                vec![row.u64(cpu)?, row.u64(mem)?, gpu.milli()],
            );
            task.duration = duration;
            task.gpu = gpu;
            task.gpu_models = spec
                .and_then(|i| row.opt_str(i))
                .map(|s| {
                    s.split('|')
                        .map(|m| m.trim().to_string())
                        .filter(|m| !m.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            task.class = qos.and_then(|i| row.opt_str(i)).map(str::to_string);
            Ok(Parsed::Record(task))
        }))
    })
}

fn position(names: &[String], column: &str) -> usize {
    names
        .iter()
        .position(|n| n == column)
        .expect("required columns were checked")
}
