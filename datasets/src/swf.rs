//! The Standard Workload Format (SWF) of the Parallel Workloads Archive, the format Batsim,
//! SimGrid, CloudSim and most HPC scheduling studies read.
//!
//! A file is header comments (`; MaxNodes: 128`) and one job per line: 18 whitespace-separated
//! fields, `-1` where unknown. packsim reads each SWF job as one task record standing for as many
//! one-core instances as the job has processors (requested, else allocated), in its own job, so
//! that its completion time and slowdown are the job's:
//! - arrival = submit time (field 2); duration = run time (field 4), else the requested time (9);
//! - instances = requested processors (8), else allocated (5); each asks for one core;
//! - field 17, the preceding job, is a parent, and field 18, the think time, the delay after it;
//! - the user (12) is the group, the queue (15) the class.
//!
//! The cluster comes from the header when none is given: `MaxNodes` machines of `MaxProcs /
//! MaxNodes` cores each (rounded down), or one machine of `MaxProcs` cores. Jobs are not gang
//! scheduled (an SWF job's processors may start at different times), and memory, which the header
//! does not give per node, is not modelled. Jobs without a processor count or a time are counted
//! as ignored.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use packing::Schema;
use sim::workload::{MachineSpec, SECOND, TaskSpec, dims, schema};

use crate::Error;
use crate::graph::{Linker, Strictness};
use crate::packsim::Loaded;
use crate::rows::{ReadOptions, Skipped};

/// The schema of SWF tasks: `cpus` (milli-cores; one core per processor).
pub fn swf_schema() -> Schema {
    schema(&[dims::CPUS])
}

const FIELDS: [&str; 18] = [
    "job_number",
    "submit_time",
    "wait_time",
    "run_time",
    "allocated_processors",
    "average_cpu_time",
    "used_memory",
    "requested_processors",
    "requested_time",
    "requested_memory",
    "status",
    "user_id",
    "group_id",
    "executable",
    "queue",
    "partition",
    "preceding_job",
    "think_time",
];

/// What an SWF header says about the machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `MaxNodes`.
    pub max_nodes: Option<u64>,
    /// `MaxProcs`.
    pub max_procs: Option<u64>,
}

/// Reads the header comments.
pub fn header(path: &Path) -> Result<Header, Error> {
    let mut h = Header::default();
    for (n, line) in crate::rows::open(path)?.lines().enumerate() {
        let line = line.map_err(|e| Error::at(path, n as u64 + 1, format!("read failed: {e}")))?;
        let Some(comment) = line.trim().strip_prefix(';') else {
            break;
        };
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        let slot = match key.trim() {
            "MaxNodes" => &mut h.max_nodes,
            "MaxProcs" => &mut h.max_procs,
            _ => continue,
        };
        let value = value.split_whitespace().next().unwrap_or("");
        *slot = Some(value.parse().map_err(|_| {
            Error::at(
                path,
                n as u64 + 1,
                format!("{}: `{value}` is not a whole number", key.trim()),
            )
        })?);
    }
    Ok(h)
}

/// The cluster an SWF header describes.
pub fn cluster(path: &Path) -> Result<Vec<MachineSpec>, Error> {
    let h = header(path)?;
    let (nodes, cores) = match (h.max_nodes, h.max_procs) {
        (Some(n), Some(p)) if n > 0 && p >= n => (n, p / n),
        (Some(n), _) if n > 0 => (n, 1),
        (_, Some(p)) if p > 0 => (1, p),
        _ => {
            return Err(Error::file(
                path,
                "the header gives neither MaxNodes nor MaxProcs: pass --cluster FILE or a spec like 128:cpus=1",
            ));
        }
    };
    Ok((0..nodes)
        .map(|i| MachineSpec {
            name: format!("node{i:05}"),
            capacity: vec![cores * 1000],
            gpus: None,
        })
        .collect())
}

/// Reads the jobs, in arrival order with their dependencies resolved.
pub fn tasks(path: &Path, options: &ReadOptions) -> Result<(Schema, Loaded<TaskSpec>), Error> {
    let strictness = if options.skip_bad_rows {
        Strictness::Tolerant
    } else {
        Strictness::Strict
    };
    let mut linker = Linker::new(strictness);
    let mut list = Vec::new();
    let mut skipped = Skipped::default();
    let mut ignored: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut rows = 0;
    for (n, line) in crate::rows::open(path)?.lines().enumerate() {
        let line_no = n as u64 + 1;
        let text = line.map_err(|e| Error::file(path, format!("read failed at line {line_no}: {e}")))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with(';') {
            continue;
        }
        rows += 1;
        match job(text) {
            Ok(Job::Task(task, parent)) => {
                linker.task(path, None, &task.name, line_no)?;
                if let Some((p, delay)) = parent {
                    linker.after(None, &p, delay, line_no, "preceding_job");
                }
                list.push(*task);
            }
            Ok(Job::Ignore(reason)) => *ignored.entry(reason).or_insert(0) += 1,
            Err(message) if options.skip_bad_rows => {
                skipped.add(
                    message.split(':').next().unwrap_or("").to_string(),
                    line_no,
                    message,
                );
            }
            Err(message) => return Err(Error::at(path, line_no, message)),
        }
    }
    if list.is_empty() && skipped.is_empty() && ignored.is_empty() {
        return Err(Error::file(
            path,
            "no jobs (an SWF file has one job per line after `;` comments)",
        ));
    }
    for (reason, count) in linker.link(path, &mut list)? {
        *ignored.entry(reason).or_insert(0) += count;
    }
    Ok((swf_schema(), Loaded::new(list, rows, skipped, ignored)))
}

enum Job {
    Task(Box<TaskSpec>, Option<(String, i64)>),
    Ignore(&'static str),
}

fn job(text: &str) -> Result<Job, String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() < 18 {
        return Err(format!(
            "column `{}`: is missing (the line has {} fields, 18 expected)",
            FIELDS[fields.len()],
            fields.len()
        ));
    }
    let num = |i: usize| -> Result<Option<f64>, String> {
        match fields[i].parse::<f64>() {
            Ok(-1.0) => Ok(None),
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            Ok(_) => Err(format!(
                "column `{}`: `{}` is negative (only -1 means unknown)",
                FIELDS[i], fields[i]
            )),
            Err(_) => Err(format!("column `{}`: `{}` is not a number", FIELDS[i], fields[i])),
        }
    };
    let id = fields[0];
    num(0)?.ok_or_else(|| format!("column `job_number`: `{id}` is not a job number"))?;
    let Some(submit) = num(1)? else {
        return Ok(Job::Ignore("job without a submit time"));
    };
    let Some(procs) = num(7)?.filter(|&p| p > 0.0).or(num(4)?.filter(|&p| p > 0.0)) else {
        return Ok(Job::Ignore("job without a processor count"));
    };
    let Some(run) = num(3)?.or(num(8)?) else {
        return Ok(Job::Ignore("job without a run time"));
    };
    let us = |s: f64| (s * SECOND as f64).round() as i64;
    let mut task = TaskSpec::new(id, us(submit), vec![1000]);
    task.duration = Some(us(run));
    task.instances = u32::try_from(procs as u64)
        .map_err(|_| format!("column `requested_processors`: `{procs}` is too large"))?;
    task.job = Some(id.to_string());
    task.group = num(11)?.map(|u| format!("user {u}"));
    task.class = num(14)?.map(|q| format!("queue {q}"));
    let parent = match num(16)? {
        Some(p) if p > 0.0 => Some((fields[16].to_string(), us(num(17)?.unwrap_or(0.0)))),
        _ => None,
    };
    Ok(Job::Task(Box::new(task), parent))
}
