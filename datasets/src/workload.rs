//! Whole workloads for the simulator: tasks from a trace, machines from a trace, a spec, or the
//! trace's own machine list; or a synthetic workload.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use packing::Schema;
use sim::workload::{GpuInventory, MachineChange, MachineEvent, MachineSpec, TaskSpec, Workload};

use crate::format::Format;
use crate::open::{FormatOptions, Opened, open};
use crate::rows::{ReadOptions, Skipped};
use crate::{Error, synthetic};

/// Where a workload's tasks come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskSource {
    /// A built-in synthetic workload (`synthetic:default`), with its own machines.
    Synthetic {
        /// The built-in spec's name.
        name: String,
        /// Its seed.
        seed: u64,
    },
    /// A trace file with tasks.
    File {
        /// The file.
        path: PathBuf,
        /// Its format, detected when `None`.
        format: Option<Format>,
    },
}

impl TaskSource {
    /// `synthetic:NAME` (seed from `seed`) or a path.
    pub fn parse(text: &str, seed: u64) -> TaskSource {
        match text.strip_prefix("synthetic:") {
            Some(name) => TaskSource::Synthetic {
                name: name.to_string(),
                seed,
            },
            None if synthetic::BUILTIN.contains(&text) && !Path::new(text).exists() => {
                TaskSource::Synthetic {
                    name: text.to_string(),
                    seed,
                }
            }
            None => TaskSource::File {
                path: PathBuf::from(text),
                format: None,
            },
        }
    }
}

/// Where a workload's machines come from.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterSource {
    /// A machine list or machine-event trace.
    File(PathBuf),
    /// Groups of identical machines: `64:cpus=32,mem=131072+8:cpus=96,mem=524288,gpus=8,gpu_model=A10`.
    Spec(String),
}

impl ClusterSource {
    /// A spec when the text looks like one (`N:dim=value,...`), a path otherwise.
    pub fn parse(text: &str) -> ClusterSource {
        // COUNT:DIM=VALUE,... (any count that is a number, even one too large to use: the spec's
        // own parser says what is wrong with it, rather than "no such file").
        let looks_like_spec = text.split('+').all(|g| {
            g.split_once(':').is_some_and(|(n, rest)| {
                let n = n.trim();
                !n.is_empty() && n.parse::<f64>().is_ok() && rest.contains('=')
            })
        });
        if looks_like_spec && !Path::new(text).exists() {
            ClusterSource::Spec(text.to_string())
        } else {
            ClusterSource::File(PathBuf::from(text))
        }
    }
}

/// What loading read besides the workload: rows skipped and ignored, by reason and file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// Per file: rows read, bad rows skipped, valid rows without a record.
    pub files: Vec<(PathBuf, u64, Skipped, BTreeMap<&'static str, u64>)>,
}

/// Loads a workload: tasks from `tasks`, machines from `cluster` (or, for a trace file, its own
/// machine list beside it: openb's `openb_node_list_gpu_node.csv`, Alibaba 2017's
/// `server_event.csv`). Machines added at or before the first task's arrival form the initial
/// cluster; later machine events stay events.
pub fn load(
    tasks: &TaskSource,
    cluster: Option<&ClusterSource>,
    options: &ReadOptions,
    extra: &FormatOptions,
) -> Result<(Workload, LoadReport), Error> {
    let mut report = LoadReport::default();
    let mut task_format = None;
    let (name, schema, mut task_list, own_machines) = match tasks {
        TaskSource::Synthetic { name, seed } => {
            let spec = synthetic::builtin(name, *seed).ok_or_else(|| {
                Error::file(
                    Path::new(&format!("synthetic:{name}")),
                    format!(
                        "no built-in workload `{name}` (one of: {})",
                        synthetic::BUILTIN.join(", ")
                    ),
                )
            })?;
            let w = synthetic::generate(&spec);
            (w.name, w.schema, w.tasks, Some(w.machines))
        }
        TaskSource::File { path, format } => {
            // A bins, items or machines file in packsim's own columns reads as tasks here.
            let format = match format {
                Some(f) => Some(*f),
                None => match crate::format::detect(path)? {
                    Format::Batch | Format::PacksimMachines if !is_batch_json(path) => {
                        Some(Format::PacksimTasks)
                    }
                    f => Some(f),
                },
            };
            let (format, opened) = open(path, format, options, extra)?;
            task_format = Some(format);
            let Opened::Tasks(schema, mut stream) = opened else {
                return Err(Error::file(
                    path,
                    format!(
                        "a {} file holds no tasks; give a task trace",
                        format.description()
                    ),
                ));
            };
            let mut list = Vec::new();
            for task in stream.by_ref() {
                list.push(task?);
            }
            report.files.push((
                path.clone(),
                stream.rows_read(),
                stream.skipped(),
                stream.ignored(),
            ));
            let name = format!(
                "{}/{}",
                format.name(),
                path.file_stem()
                    .map(|s| s.to_string_lossy().trim_end_matches(".csv").to_string())
                    .unwrap_or_default()
            );
            (name, schema, list, None)
        }
    };
    sim::workload::sort_tasks(&mut task_list);
    let start = task_list.first().map_or(0, |t| t.arrival);
    let (machines, events) = match (cluster, own_machines) {
        (Some(ClusterSource::Spec(spec)), _) => (parse_spec(spec, &schema)?, Vec::new()),
        (Some(ClusterSource::File(path)), _) => {
            machines_from_file(path, &schema, start, options, extra, &mut report)?
        }
        (None, Some(machines)) => (machines, Vec::new()),
        (None, None) if task_format == Some(Format::Swf) => {
            let TaskSource::File { path, .. } = tasks else {
                unreachable!("an SWF workload is a file")
            };
            (crate::swf::cluster(path)?, Vec::new())
        }
        (None, None) => {
            let TaskSource::File { path, .. } = tasks else {
                unreachable!("synthetic workloads have machines")
            };
            let beside = default_cluster(path).ok_or_else(|| {
                Error::file(path, "no cluster given and none known for this trace: pass --cluster FILE or a spec like 100:cpus=32,mem=131072")
            })?;
            machines_from_file(&beside, &schema, start, options, extra, &mut report)?
        }
    };
    if machines.is_empty() && events.iter().all(|e| !matches!(e.change, MachineChange::Add(_))) {
        return Err(Error::file(Path::new("--cluster"), "the cluster has no machines"));
    }
    // A dimension the tasks use that no machine has would leave them all unplaced, silently.
    for (d, dim) in schema.dims().iter().enumerate() {
        let asking = task_list
            .iter()
            .filter(|t| t.demand.get(d).is_some_and(|&x| x > 0))
            .count();
        let added = events.iter().any(|e| match &e.change {
            MachineChange::Add(m) => m.capacity.get(d).is_some_and(|&c| c > 0),
            MachineChange::Update(capacity) => capacity.get(d).is_some_and(|&c| c > 0),
            MachineChange::Remove => false,
        });
        if asking > 0 && !added && machines.iter().all(|m| m.capacity.get(d).is_none_or(|&c| c == 0)) {
            let source = match cluster {
                Some(ClusterSource::Spec(spec)) => PathBuf::from(spec),
                Some(ClusterSource::File(path)) => path.clone(),
                None => PathBuf::from("--cluster"),
            };
            return Err(Error::file(
                &source,
                format!(
                    "no machine has `{}`, which {asking} of the {} tasks ask for: give the cluster every \
                     dimension the tasks use ({})",
                    dim.name(),
                    task_list.len(),
                    schema.names()
                ),
            ));
        }
    }
    let workload = Workload {
        name,
        schema,
        machines,
        machine_events: events,
        tasks: task_list,
    };
    Ok((workload, report))
}

/// The files [`load`] reads for `tasks` and `cluster`: the task trace and the machine file (given,
/// or the one beside a known trace). A path that is a folder stands for every file under it.
pub fn input_files(tasks: &TaskSource, cluster: Option<&ClusterSource>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let TaskSource::File { path, .. } = tasks {
        files.push(path.clone());
        if cluster.is_none() {
            files.extend(default_cluster(path));
        }
    }
    if let Some(ClusterSource::File(path)) = cluster {
        files.push(path.clone());
    }
    files
}

/// The format a cluster file is read in: a bins file in packsim's columns is a machines file.
fn machines_format(path: &Path) -> Result<Option<Format>, Error> {
    if path.is_dir() {
        return Ok(None);
    }
    Ok(match crate::format::detect(path)? {
        Format::Batch | Format::PacksimTasks if !is_batch_json(path) => Some(Format::PacksimMachines),
        f => Some(f),
    })
}

/// True for a `.json` bins/items array (which has no task or machine-event columns).
fn is_batch_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The machine list that ships beside a known task trace.
fn default_cluster(tasks: &Path) -> Option<PathBuf> {
    let dir = tasks.parent()?;
    let name = tasks.file_name()?.to_string_lossy();
    let candidate = if name.starts_with("openb_pod_list") {
        dir.join("openb_node_list_gpu_node.csv")
    } else if name.starts_with("batch_task") && dir.join("server_event.csv").is_file() {
        dir.join("server_event.csv")
    } else {
        return None;
    };
    candidate.is_file().then_some(candidate)
}

/// The machines of `cluster` alone, with the schema they are in: a spec's groups (read in
/// `spec_schema`), or every machine a machine-list or machine-event file adds (in the file's own
/// schema). For tools that need a cluster without a workload, like `packsim master`.
pub fn cluster_machines(
    cluster: &ClusterSource,
    spec_schema: &Schema,
    options: &ReadOptions,
    extra: &FormatOptions,
) -> Result<(Schema, Vec<MachineSpec>), Error> {
    let path = match cluster {
        ClusterSource::Spec(spec) => return Ok((spec_schema.clone(), parse_spec(spec, spec_schema)?)),
        ClusterSource::File(path) => path,
    };
    let (format, opened) = open(path, machines_format(path)?, options, extra)?;
    let Opened::Machines(schema, stream) = opened else {
        return Err(Error::file(
            path,
            format!("a {} file holds no machines", format.description()),
        ));
    };
    let mut machines = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for event in stream {
        if let MachineChange::Add(m) = event?.change {
            if names.insert(m.name.clone()) {
                machines.push(m);
            }
        }
    }
    if machines.is_empty() {
        return Err(Error::file(path, "the file adds no machines"));
    }
    Ok((schema, machines))
}

fn machines_from_file(
    path: &Path,
    schema: &Schema,
    start: sim::Time,
    options: &ReadOptions,
    extra: &FormatOptions,
    report: &mut LoadReport,
) -> Result<(Vec<MachineSpec>, Vec<MachineEvent>), Error> {
    let (format, opened) = open(path, machines_format(path)?, options, extra)?;
    let Opened::Machines(machine_schema, mut stream) = opened else {
        return Err(Error::file(
            path,
            format!("a {} file holds no machines", format.description()),
        ));
    };
    // Capacities are reordered to the tasks' dimensions, by name.
    let mapping: Vec<usize> = schema
        .dims()
        .iter()
        .map(|d| {
            machine_schema.index_of(d.name()).ok_or_else(|| {
                Error::file(
                    path,
                    format!(
                        "the machines have no `{}` capacity (they have {}; the tasks need {}); give a cluster spec instead",
                        d.name(),
                        machine_schema.names(),
                        schema.names()
                    ),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let remap = |capacity: &[u64]| -> Vec<u64> { mapping.iter().map(|&i| capacity[i]).collect() };
    let mut machines = Vec::new();
    let mut events = Vec::new();
    for event in stream.by_ref() {
        let mut event = event?;
        match &mut event.change {
            MachineChange::Add(m) => m.capacity = remap(&m.capacity),
            MachineChange::Update(c) => *c = remap(c),
            MachineChange::Remove => {}
        }
        match event.change {
            MachineChange::Add(m) if event.time <= start => machines.push(m),
            _ => events.push(event),
        }
    }
    report.files.push((
        path.to_path_buf(),
        stream.rows_read(),
        stream.skipped(),
        stream.ignored(),
    ));
    events.sort_by_key(|e| e.time);
    Ok((machines, events))
}

/// Parses `N:dim=value,...(+N:...)`: values in natural units (cores, MiB, GPUs), `gpu_model=` names
/// the GPUs' model. Dimensions the workload has but a group does not name are 0.
pub fn parse_spec(spec: &str, schema: &Schema) -> Result<Vec<MachineSpec>, Error> {
    let bad = |message: String| Error::file(Path::new("--cluster"), message);
    let mut machines = Vec::new();
    for group in spec.split('+').map(str::trim) {
        let (count, fields) = group
            .split_once(':')
            .ok_or_else(|| bad(format!("`{group}` is not N:dim=value,...")))?;
        let count: u32 = count.trim().parse().map_err(|_| {
            let count = count.trim();
            bad(if count.parse::<f64>().is_ok_and(|c| c >= 0.0) {
                format!("{count} machines is out of range (at most {})", u32::MAX)
            } else {
                format!("`{count}` is not a machine count")
            })
        })?;
        let mut capacity = vec![0u64; schema.len()];
        let mut model = String::new();
        for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| bad(format!("`{field}` is not dim=value")))?;
            let (key, value) = (key.trim(), value.trim());
            if key == "gpu_model" {
                model = value.to_string();
                continue;
            }
            let d = schema.index_of(key).ok_or_else(|| {
                bad(format!(
                    "`{key}` is not a dimension of the workload (it has {})",
                    schema.names()
                ))
            })?;
            capacity[d] = schema
                .dim(d)
                .parse(value)
                .map_err(|e| bad(format!("{key}: `{value}` {e}")))?;
        }
        let gpus = schema.index_of("gpus").map(|g| capacity[g]);
        let inventory = match gpus {
            Some(milli) if milli > 0 => {
                if milli % 1000 != 0 {
                    return Err(bad(format!(
                        "gpus: {} is not a whole number of GPUs",
                        schema.dim(schema.index_of("gpus").unwrap_or(0)).format(milli)
                    )));
                }
                Some(GpuInventory {
                    count: (milli / 1000) as u32,
                    model: model.clone(),
                })
            }
            _ => None,
        };
        for _ in 0..count {
            machines.push(MachineSpec {
                name: format!("node{:05}", machines.len()),
                capacity: capacity.clone(),
                gpus: inventory.clone(),
            });
        }
    }
    Ok(machines)
}

/// The tasks' demands of a workload, checked against its machines: tasks larger than every
/// machine are listed (they can never run).
pub fn oversized(workload: &Workload) -> Vec<&TaskSpec> {
    workload
        .tasks
        .iter()
        .filter(|t| {
            !workload
                .machines
                .iter()
                .any(|m| t.demand.iter().zip(&m.capacity).all(|(d, c)| d <= c))
        })
        .collect()
}
