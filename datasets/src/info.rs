//! `packsim dataset info`: what a file holds, computed in one streaming pass.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use packing::Schema;
use sim::workload::{GpuDemand, MachineChange, SECOND, Time};

use crate::Error;
use crate::format::Format;
use crate::instances::Instance;
use crate::open::{FormatOptions, Opened, open};
use crate::rows::{ReadOptions, Skipped};

/// What one file (or suite) holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The file or folder.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its dimensions, if it has resource vectors.
    pub schema: Option<Schema>,
    /// Machines, if it lists machines.
    pub machines: Option<MachineStats>,
    /// Tasks, if it lists tasks.
    pub tasks: Option<TaskStats>,
    /// Instances, if it is an instance suite.
    pub instances: Option<SuiteStats>,
    /// Data rows read.
    pub rows: u64,
    /// Bad rows skipped, by reason.
    pub skipped: Skipped,
    /// Valid rows without a record, by reason.
    pub ignored: BTreeMap<&'static str, u64>,
}

impl Summary {
    /// The summary as JSON (`packsim dataset info --json`): amounts in the schema's integer units,
    /// times in µs, keyed by the dimensions' names.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let names: Vec<String> = self
            .schema
            .as_ref()
            .map(|s| s.dims().iter().map(|d| d.name().to_string()).collect())
            .unwrap_or_default();
        let per_dim = |v: &[u128]| -> serde_json::Map<String, serde_json::Value> {
            // Numbers, unless a sum outgrows 64 bits (then its decimal text).
            let amount = |x: u128| u64::try_from(x).map_or_else(|_| json!(x.to_string()), |v| json!(v));
            names
                .iter()
                .zip(v)
                .map(|(n, &x)| (n.clone(), amount(x)))
                .collect()
        };
        let span = |s: Option<(Time, Time)>| s.map(|(a, b)| json!({"first_us": a, "last_us": b}));
        json!({
            "path": self.path.display().to_string(),
            "format": self.format.name(),
            "dimensions": names,
            "rows": self.rows,
            "skipped": self.skipped.total(),
            "ignored": self.ignored,
            "machines": self.machines.as_ref().map(|m| json!({
                "machines": m.machines,
                "added": m.added,
                "removed": m.removed,
                "updated": m.updated,
                "capacity": per_dim(&m.capacity),
                "gpus": m.gpus,
                "gpu_models": m.gpu_models.iter().map(|(k, (machines, devices))| (k.clone(), json!({"machines": machines, "devices": devices}))).collect::<serde_json::Map<_, _>>(),
                "span": span(m.span),
            })),
            "tasks": self.tasks.as_ref().map(|t| json!({
                "records": t.records,
                "instances": t.instances,
                "demand": per_dim(&t.demand),
                "gpu_kinds": {"none": t.gpu_kinds[0], "share": t.gpu_kinds[1], "one": t.gpu_kinds[2], "several": t.gpu_kinds[3]},
                "with_gpu_models": t.with_gpu_models,
                "with_max_per_machine": t.with_max_per_machine,
                "with_duration": t.with_duration,
                "span": span(t.span),
                "classes": t.classes,
                "groups": t.groups,
            })),
            "instances": self.instances.as_ref().map(|s| json!({
                "instances": s.instances,
                "families": s.families,
                "dims": s.dims.iter().map(|(d, n)| (d.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "items": {"min": s.items.0, "max": s.items.1},
                "with_opt": s.with_opt,
                "with_opt_by_construction": s.with_opt_by_construction,
                "with_published": s.with_published,
                "excluded": s.excluded,
            })),
        })
    }
}

/// Machines of a trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MachineStats {
    /// Distinct machines ever added.
    pub machines: u64,
    /// Addition events (a machine may be re-added).
    pub added: u64,
    /// Removal events.
    pub removed: u64,
    /// Capacity-update events.
    pub updated: u64,
    /// Capacity summed over each machine's first addition, per dimension.
    pub capacity: Vec<u128>,
    /// GPU devices in total.
    pub gpus: u64,
    /// Per GPU model: (machines, devices).
    pub gpu_models: BTreeMap<String, (u64, u64)>,
    /// Earliest and latest event time.
    pub span: Option<(Time, Time)>,
}

/// Tasks of a trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskStats {
    /// Task records.
    pub records: u64,
    /// Task instances (records × their instance counts).
    pub instances: u64,
    /// Demand summed over instances, per dimension.
    pub demand: Vec<u128>,
    /// Records without a GPU, sharing one GPU, taking one GPU, taking several.
    pub gpu_kinds: [u64; 4],
    /// Records restricted to some GPU models.
    pub with_gpu_models: u64,
    /// Records with anti-affinity.
    pub with_max_per_machine: u64,
    /// Records with a duration.
    pub with_duration: u64,
    /// Earliest and latest arrival.
    pub span: Option<(Time, Time)>,
    /// Records per class.
    pub classes: BTreeMap<String, u64>,
    /// Distinct groups.
    pub groups: u64,
    /// Task graphs, when the tasks name jobs or parents.
    pub graphs: Option<GraphStats>,
}

/// The jobs and dependency graphs of a task file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphStats {
    /// Distinct jobs.
    pub jobs: u64,
    /// Task records with at least one parent.
    pub with_parents: u64,
    /// Dependencies (edges).
    pub edges: u64,
    /// The longest chain of tasks (levels) in any job.
    pub depth: u64,
    /// The most tasks on one level of one job (level: 1 + the deepest parent's level).
    pub width: u64,
}

impl GraphStats {
    /// The statistics of records given as (job, parents by position in the list).
    fn of(records: &[(Option<u32>, Vec<u32>)], jobs: u64) -> GraphStats {
        let n = records.len();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut left: Vec<usize> = vec![0; n];
        for (i, (_, parents)) in records.iter().enumerate() {
            left[i] = parents.len();
            for &p in parents {
                children[p as usize].push(i as u32);
            }
        }
        let mut level = vec![1u64; n];
        let mut ready: Vec<usize> = (0..n).filter(|&i| left[i] == 0).collect();
        while let Some(i) = ready.pop() {
            for &c in &children[i] {
                let c = c as usize;
                level[c] = level[c].max(level[i] + 1);
                left[c] -= 1;
                if left[c] == 0 {
                    ready.push(c);
                }
            }
        }
        let mut per_level: HashMap<(Option<u32>, u64), u64> = HashMap::new();
        for (i, (job, _)) in records.iter().enumerate() {
            *per_level.entry((*job, level[i])).or_insert(0) += 1;
        }
        GraphStats {
            jobs,
            with_parents: records.iter().filter(|r| !r.1.is_empty()).count() as u64,
            edges: records.iter().map(|r| r.1.len() as u64).sum(),
            depth: level.iter().copied().max().unwrap_or(0),
            width: per_level
                .iter()
                .filter(|((job, _), _)| job.is_some())
                .map(|(_, &c)| c)
                .max()
                .unwrap_or(0),
        }
    }
}

/// An instance suite.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SuiteStats {
    /// Instances.
    pub instances: u64,
    /// Instances per family.
    pub families: BTreeMap<String, u64>,
    /// Instances per number of dimensions.
    pub dims: BTreeMap<usize, u64>,
    /// Smallest and largest item count.
    pub items: (u64, u64),
    /// Instances with a proven optimum.
    pub with_opt: u64,
    /// Instances with an optimum by construction only.
    pub with_opt_by_construction: u64,
    /// Instances with published heuristic results.
    pub with_published: u64,
    /// Instances left out, by reason.
    pub excluded: BTreeMap<String, u64>,
}

/// Summarises `path`: one summary for a file or suite, one per recognised file for a folder.
pub fn summarize(
    path: &Path,
    format: Option<Format>,
    options: &ReadOptions,
    extra: &FormatOptions,
) -> Result<Vec<Summary>, Error> {
    summarize_with_progress(path, format, options, extra, &mut |_, _| {})
}

/// Like [`summarize`], calling `progress(path, records so far)` every 65,536 records.
pub fn summarize_with_progress(
    path: &Path,
    format: Option<Format>,
    options: &ReadOptions,
    extra: &FormatOptions,
    progress: &mut dyn FnMut(&Path, u64),
) -> Result<Vec<Summary>, Error> {
    let is_suite = path.join("bpplib_bounds.csv").is_file() || path.join("vectorpack_optima.csv").is_file();
    let is_parts = path.is_dir() && crate::format::detect(path).is_ok();
    if path.is_dir() && !is_suite && !is_parts && format.is_none() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        entries.sort();
        let mut out = Vec::new();
        for entry in entries {
            let name = entry.to_string_lossy();
            // Documentation, column lists and loose notes are not data.
            if name.ends_with(".md") || name.ends_with(".header") || name.ends_with("Bounds.txt") {
                continue;
            }
            match summarize_with_progress(&entry, None, options, extra, progress) {
                Ok(mut s) => out.append(&mut s),
                Err(e) if is_unrecognised(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if out.is_empty() {
            return Err(Error::file(
                path,
                "no file in this folder is in a format packsim reads",
            ));
        }
        return Ok(out);
    }
    Ok(vec![summarize_one(path, format, options, extra, progress)?])
}

fn is_unrecognised(e: &Error) -> bool {
    let text = e.to_string();
    text.contains("unrecognised format") || text.contains("a folder:") || text.contains("an archive without")
}

fn summarize_one(
    path: &Path,
    format: Option<Format>,
    options: &ReadOptions,
    extra: &FormatOptions,
    progress: &mut dyn FnMut(&Path, u64),
) -> Result<Summary, Error> {
    progress(path, 0);
    let (format, opened) = open(path, format, options, extra)?;
    let mut summary = Summary {
        path: path.to_path_buf(),
        format,
        schema: None,
        machines: None,
        tasks: None,
        instances: None,
        rows: 0,
        skipped: Skipped::default(),
        ignored: BTreeMap::new(),
    };
    match opened {
        Opened::Machines(schema, mut stream) => {
            let mut stats = MachineStats {
                capacity: vec![0; schema.len()],
                ..MachineStats::default()
            };
            let mut seen = HashSet::new();
            for (n, event) in stream.by_ref().enumerate() {
                if n % 65_536 == 65_535 {
                    progress(path, n as u64 + 1);
                }
                let event = event?;
                let span = stats.span.get_or_insert((event.time, event.time));
                *span = (span.0.min(event.time), span.1.max(event.time));
                match &event.change {
                    MachineChange::Add(m) => {
                        stats.added += 1;
                        if seen.insert(event.machine.clone()) {
                            stats.machines += 1;
                            for (t, &c) in stats.capacity.iter_mut().zip(&m.capacity) {
                                *t += u128::from(c);
                            }
                            if let Some(g) = &m.gpus {
                                stats.gpus += u64::from(g.count);
                                let entry = stats.gpu_models.entry(g.model.clone()).or_insert((0, 0));
                                entry.0 += 1;
                                entry.1 += u64::from(g.count);
                            }
                        }
                    }
                    MachineChange::Remove => stats.removed += 1,
                    MachineChange::Update(_) => stats.updated += 1,
                }
            }
            summary.rows = stream.rows_read();
            summary.skipped = stream.skipped();
            summary.ignored = stream.ignored();
            summary.schema = Some(schema);
            summary.machines = Some(stats);
        }
        Opened::Tasks(schema, mut stream) => {
            let mut stats = TaskStats {
                demand: vec![0; schema.len()],
                ..TaskStats::default()
            };
            let mut groups = HashSet::new();
            // Jobs and parents of every record (tasks come in the order their parents' positions
            // refer to), kept only while some record has a job or a parent.
            let mut graph: Vec<(Option<u32>, Vec<u32>)> = Vec::new();
            let mut job_ids: HashMap<String, u32> = HashMap::new();
            for (n, task) in stream.by_ref().enumerate() {
                if n % 65_536 == 65_535 {
                    progress(path, n as u64 + 1);
                }
                let task = task?;
                stats.records += 1;
                stats.instances += u64::from(task.instances);
                for (t, &d) in stats.demand.iter_mut().zip(&task.demand) {
                    *t += u128::from(d) * u128::from(task.instances);
                }
                stats.gpu_kinds[match task.gpu {
                    GpuDemand::None => 0,
                    GpuDemand::Share(_) => 1,
                    GpuDemand::Whole(1) => 2,
                    GpuDemand::Whole(_) => 3,
                }] += 1;
                stats.with_gpu_models += u64::from(!task.gpu_models.is_empty());
                stats.with_max_per_machine += u64::from(task.max_per_machine.is_some());
                stats.with_duration += u64::from(task.duration.is_some());
                let span = stats.span.get_or_insert((task.arrival, task.arrival));
                *span = (span.0.min(task.arrival), span.1.max(task.arrival));
                if let Some(class) = task.class {
                    *stats.classes.entry(class).or_insert(0) += 1;
                }
                if let Some(g) = task.group {
                    groups.insert(g);
                }
                if task.job.is_some() || !task.after.is_empty() || !graph.is_empty() {
                    graph.resize_with(n, || (None, Vec::new()));
                    let next = job_ids.len() as u32;
                    let job = task.job.map(|j| *job_ids.entry(j).or_insert(next));
                    graph.push((job, task.after.iter().map(|a| a.task).collect()));
                }
            }
            stats.groups = groups.len() as u64;
            if !graph.is_empty() {
                graph.resize_with(stats.records as usize, || (None, Vec::new()));
                stats.graphs = Some(GraphStats::of(&graph, job_ids.len() as u64));
            }
            summary.rows = stream.rows_read();
            summary.skipped = stream.skipped();
            summary.ignored = stream.ignored();
            summary.schema = Some(schema);
            summary.tasks = Some(stats);
        }
        Opened::Instances(suite) => {
            summary.rows = (suite.instances.len() + suite.excluded.len()) as u64;
            let mut stats = suite_stats(&suite.instances);
            for (_, reason) in &suite.excluded {
                *stats.excluded.entry(reason.clone()).or_insert(0) += 1;
            }
            summary.instances = Some(stats);
        }
        Opened::Batch(b) => {
            summary.rows = b.ids.len() as u64;
            let mut stats = MachineStats {
                capacity: b.table.sums(),
                ..MachineStats::default()
            };
            stats.machines = b.ids.len() as u64;
            stats.added = stats.machines;
            summary.schema = Some(b.schema);
            summary.machines = Some(stats);
        }
    }
    Ok(summary)
}

fn suite_stats(list: &[Instance]) -> SuiteStats {
    let mut s = SuiteStats {
        items: (u64::MAX, 0),
        ..SuiteStats::default()
    };
    for i in list {
        s.instances += 1;
        *s.families.entry(i.family.clone()).or_insert(0) += 1;
        *s.dims.entry(i.capacity.len()).or_insert(0) += 1;
        let n = i.items.len() as u64;
        s.items = (s.items.0.min(n), s.items.1.max(n));
        s.with_opt += u64::from(i.known.opt.is_some());
        s.with_opt_by_construction +=
            u64::from(i.known.opt.is_none() && i.known.opt_by_construction.is_some());
        s.with_published += u64::from(!i.published.is_empty());
    }
    if s.instances == 0 {
        s.items = (0, 0);
    }
    s
}

/// The natural unit of a conventional dimension, for messages.
fn unit(name: &str) -> &'static str {
    match name {
        "cpus" => "cores",
        "mem" | "disk" => "MiB",
        "gpus" => "GPUs",
        "rdma" => "NICs",
        "hdd" | "ssd" | "nic" => "machines",
        _ => "",
    }
}

fn amounts(schema: &Schema, values: &[u128]) -> String {
    let mut out = String::new();
    for (dim, &v) in schema.dims().iter().zip(values) {
        let scale = u128::from(dim.scale());
        let (whole, frac) = (v / scale, v % scale);
        let number = if frac == 0 {
            group(whole)
        } else {
            let digits = format!("{frac:0w$}", w = usize::from(dim.decimals()));
            format!("{}.{}", group(whole), digits.trim_end_matches('0'))
        };
        let _ = write!(
            out,
            "{}{} {number} {}",
            if out.is_empty() { "" } else { ", " },
            dim.name(),
            unit(dim.name())
        );
    }
    out.replace("  ", " ").trim_end().to_string()
}

/// Thousands separators: 12,901,761.
fn group(v: u128) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn time(t: Time) -> String {
    let s = t as f64 / SECOND as f64;
    if s.abs() >= 86_400.0 {
        format!("{s:.0} s ({:.1} days)", s / 86_400.0)
    } else {
        format!("{s:.0} s")
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.path.display())?;
        writeln!(f, "  format      {} ({})", self.format, self.format.description())?;
        if let Some(schema) = &self.schema {
            let dims: Vec<String> = schema
                .dims()
                .iter()
                .map(|d| format!("{} ({})", d.name(), unit(d.name())))
                .collect();
            writeln!(f, "  dimensions  {}", dims.join(", ").replace(" ()", ""))?;
        }
        if let (Some(m), Some(schema)) = (&self.machines, &self.schema) {
            let mut events = format!("{} added", group(u128::from(m.added)));
            if m.removed > 0 {
                let _ = write!(events, ", {} removed", group(u128::from(m.removed)));
            }
            if m.updated > 0 {
                let _ = write!(events, ", {} updated", group(u128::from(m.updated)));
            }
            writeln!(f, "  machines    {} ({events})", group(u128::from(m.machines)))?;
            writeln!(f, "  capacity    {}", amounts(schema, &m.capacity))?;
            if m.gpus > 0 {
                let models: Vec<String> = m
                    .gpu_models
                    .iter()
                    .map(|(model, (machines, gpus))| {
                        format!(
                            "{model} {} on {}",
                            group(u128::from(*gpus)),
                            group(u128::from(*machines))
                        )
                    })
                    .collect();
                writeln!(
                    f,
                    "  GPUs        {} ({})",
                    group(u128::from(m.gpus)),
                    models.join(", ")
                )?;
            }
            if let Some((a, b)) = m.span.filter(|(a, b)| a != b) {
                writeln!(f, "  events      from {} to {}", time(a), time(b))?;
            }
        }
        if let (Some(t), Some(schema)) = (&self.tasks, &self.schema) {
            writeln!(
                f,
                "  tasks       {} records, {} instances",
                group(u128::from(t.records)),
                group(u128::from(t.instances))
            )?;
            writeln!(f, "  demand      {}", amounts(schema, &t.demand))?;
            if t.gpu_kinds[1..].iter().any(|&k| k > 0) {
                writeln!(
                    f,
                    "  GPU use     {} without, {} sharing a GPU, {} one GPU, {} several GPUs",
                    t.gpu_kinds[0], t.gpu_kinds[1], t.gpu_kinds[2], t.gpu_kinds[3]
                )?;
            }
            if t.with_gpu_models > 0 {
                writeln!(
                    f,
                    "  GPU models  {} tasks restricted to some models",
                    t.with_gpu_models
                )?;
            }
            if t.with_max_per_machine > 0 {
                writeln!(
                    f,
                    "  spread      {} tasks with a per-machine limit",
                    t.with_max_per_machine
                )?;
            }
            if let Some((a, b)) = t.span {
                writeln!(f, "  arrivals    from {} to {}", time(a), time(b))?;
            }
            writeln!(
                f,
                "  durations   {} of {} tasks have one",
                t.with_duration, t.records
            )?;
            if !t.classes.is_empty() {
                let mut classes: Vec<(&String, &u64)> = t.classes.iter().collect();
                classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let shown: Vec<String> = classes.iter().take(8).map(|(c, n)| format!("{c} {n}")).collect();
                let more = if classes.len() > 8 {
                    format!(", and {} more", classes.len() - 8)
                } else {
                    String::new()
                };
                writeln!(f, "  classes     {}{more}", shown.join(", "))?;
            }
            if t.groups > 0 {
                writeln!(f, "  groups      {}", group(u128::from(t.groups)))?;
            }
            if let Some(g) = &t.graphs {
                writeln!(
                    f,
                    "  jobs        {}; {} tasks wait for others ({} dependencies)",
                    group(u128::from(g.jobs)),
                    group(u128::from(g.with_parents)),
                    group(u128::from(g.edges))
                )?;
                writeln!(
                    f,
                    "  graphs      {} levels at the deepest; at most {} tasks on one level of a job",
                    g.depth, g.width
                )?;
            }
        }
        if let Some(s) = &self.instances {
            writeln!(f, "  instances   {}", group(u128::from(s.instances)))?;
            let dims: Vec<String> = s.dims.iter().map(|(d, n)| format!("{n} with {d}")).collect();
            writeln!(f, "  dimensions  {}", dims.join(", "))?;
            writeln!(f, "  items       {} to {} per instance", s.items.0, s.items.1)?;
            let families: Vec<String> = s.families.iter().map(|(k, n)| format!("{k} {n}")).collect();
            writeln!(f, "  families    {}", families.join(", "))?;
            if s.with_opt + s.with_opt_by_construction > 0 {
                let by_construction = if s.with_opt_by_construction > 0 {
                    format!(", {} more by construction", s.with_opt_by_construction)
                } else {
                    String::new()
                };
                writeln!(f, "  optimum     known for {}{by_construction}", s.with_opt)?;
            }
            if s.with_published > 0 {
                writeln!(f, "  published   heuristic results for {}", s.with_published)?;
            }
            for (reason, n) in &s.excluded {
                writeln!(
                    f,
                    "  excluded    {n} instances with {reason} (packsim's amounts are non-negative)"
                )?;
            }
        }
        write!(f, "  rows        {} read", group(u128::from(self.rows)))?;
        if self.skipped.is_empty() {
            writeln!(f, ", none skipped")?;
        } else {
            writeln!(f, ", {} skipped:", self.skipped.total())?;
            for (reason, e) in self.skipped.reasons() {
                writeln!(f, "    {:>8}  {reason} (first on line {})", e.count, e.first_line)?;
            }
        }
        if !self.ignored.is_empty() {
            writeln!(f, "  ignored     (valid rows that hold no record)")?;
            for (reason, n) in &self.ignored {
                writeln!(f, "    {n:>8}  {reason}")?;
            }
        }
        Ok(())
    }
}
