//! packsim's own workload format: tasks and machines as CSV (with a header) or JSON Lines (one
//! object per line), written by hand or by a script.
//!
//! Tasks, one per row:
//!
//! | column | meaning | default |
//! |---|---|---|
//! | `id` | the task's name, unique within its job | required |
//! | `arrival` | seconds (decimals allowed; may be negative) | 0 |
//! | `duration` | seconds; empty: never ends | empty |
//! | `instances` | identical copies | 1 |
//! | `job` | the job it belongs to (completion times are per job) | none |
//! | `after` | parents' ids in the same job, separated by `;` or spaces; `id@S` waits S seconds more | none |
//! | `priority` | integer, higher first (with `--queue priority`) | 0 |
//! | `group` | anti-affinity group | none |
//! | `max_per_machine` | at most this many of the group on a machine | no limit |
//! | `class` | a label kept for reports | none |
//! | `num_gpu`, `gpu_milli` | openb's GPU request (a share of one GPU, or whole GPUs) | none |
//! | `gpu_model` (or `gpu_spec`) | allowed GPU models, separated by `|` | any |
//! | anything else | a resource: `cpus` in cores, `mem` and `disk` in MiB, `gpus` in GPUs, others as written | 0 |
//!
//! Machines, one per row: `id`, resource columns, `gpu_model`, and optionally `time` (seconds) and
//! `event` (`add`, `remove` or `update`; default `add`) for machines that come, go or change.
//!
//! In JSON Lines the keys are the column names; values are numbers or strings, and `after` may
//! also be an array of ids. Every error names the file, the line, the column and the value.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use packing::{Dim, Schema};
use sim::workload::{
    GpuDemand, GpuInventory, MachineChange, MachineEvent, MachineSpec, TaskSpec, Time, dims,
};

use crate::Error;
use crate::graph::{Linker, Strictness};
use crate::open::Stream;
use crate::rows::{ReadOptions, Skipped, seconds};

/// Task columns that are not resources.
const TASK_COLUMNS: [&str; 13] = [
    "id",
    "arrival",
    "duration",
    "instances",
    "job",
    "after",
    "priority",
    "group",
    "max_per_machine",
    "class",
    "num_gpu",
    "gpu_milli",
    "gpu_model",
];

/// Machine columns that are not resources.
const MACHINE_COLUMNS: [&str; 4] = ["id", "gpu_model", "time", "event"];

/// Columns that only a task file has: a header with one of them is a task file.
pub(crate) const TASK_ONLY: [&str; 5] = ["arrival", "duration", "after", "instances", "job"];

/// The unit of a resource column: the conventional one for packsim's dimension names (`cpus`,
/// `gpus`, `rdma` to thousandths; `mem`, `disk` in whole MiB), thousandths for any other.
pub(crate) fn dim_for(name: &str) -> Result<Dim, String> {
    let decimals = match name {
        dims::MEM | dims::DISK => 0,
        _ => 3,
    };
    Dim::new(name, decimals).map_err(|e| e.to_string())
}

/// Records read whole, served as a [`Stream`].
pub struct Loaded<T> {
    items: std::vec::IntoIter<T>,
    rows: u64,
    skipped: Skipped,
    ignored: BTreeMap<&'static str, u64>,
}

impl<T> Loaded<T> {
    pub(crate) fn new(
        items: Vec<T>,
        rows: u64,
        skipped: Skipped,
        ignored: BTreeMap<&'static str, u64>,
    ) -> Loaded<T> {
        Loaded {
            items: items.into_iter(),
            rows,
            skipped,
            ignored,
        }
    }
}

impl<T> Iterator for Loaded<T> {
    type Item = Result<T, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.items.next().map(Ok)
    }
}

impl<T> Stream<T> for Loaded<T> {
    fn skipped(&self) -> Skipped {
        self.skipped.clone()
    }
    fn ignored(&self) -> BTreeMap<&'static str, u64> {
        self.ignored.clone()
    }
    fn rows_read(&self) -> u64 {
        self.rows
    }
}

/// One row: its line and its fields by column name (empty fields left out).
struct Row {
    line: u64,
    fields: Vec<(String, Field)>,
}

/// A field's value: text, or (JSON Lines) a list of texts.
enum Field {
    Text(String),
    List(Vec<String>),
}

/// A problem with one field.
struct Bad {
    column: String,
    value: String,
    problem: String,
}

fn bad(column: &str, value: &str, problem: impl Into<String>) -> Bad {
    Bad {
        column: column.to_string(),
        value: value.to_string(),
        problem: problem.into(),
    }
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, f)| match f {
                Field::Text(t) => Some(t.as_str()),
                Field::List(_) => None,
            })
    }

    fn list(&self, column: &str) -> Vec<String> {
        match self.fields.iter().find(|(c, _)| c == column).map(|(_, f)| f) {
            Some(Field::List(items)) => items.clone(),
            Some(Field::Text(t)) => t
                .split([';', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        }
    }

    fn seconds(&self, column: &str) -> Result<Option<Time>, Bad> {
        let Some(text) = self.get(column) else {
            return Ok(None);
        };
        parse_seconds(column, text).map(Some)
    }

    fn whole<T: std::str::FromStr>(&self, column: &str) -> Result<Option<T>, Bad> {
        let Some(text) = self.get(column) else {
            return Ok(None);
        };
        text.parse::<T>().map(Some).map_err(|_| {
            let problem = if text.starts_with('-') {
                "is negative"
            } else {
                "is not a whole number (or is too large)"
            };
            bad(column, text, problem)
        })
    }
}

fn parse_seconds(column: &str, text: &str) -> Result<Time, Bad> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => seconds(x).ok_or_else(|| bad(column, text, "is out of range")),
        _ => Err(bad(column, text, "is not a number of seconds")),
    }
}

/// Reads every row of a CSV (with a header) or JSON Lines file: the columns in order of first
/// mention and the rows.
fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<Row>), Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let jsonl = [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"]
        .iter()
        .any(|e| name.ends_with(e));
    let input = crate::rows::open(path)?;
    if jsonl {
        json_lines(path, input)
    } else {
        csv_rows(path, input)
    }
}

fn csv_rows(path: &Path, input: Box<dyn BufRead>) -> Result<(Vec<String>, Vec<Row>), Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| crate::rows::csv_error(path, &e))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::file(
            path,
            "the file is empty (expected a header such as `id,arrival,duration,cpus,mem`)",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => Error::at(
                path,
                e.position().map_or(0, csv::Position::line),
                format!("expected {expected_len} fields like the header, found {len}"),
            ),
            _ => crate::rows::csv_error(path, &e),
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let fields = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| (h.clone(), Field::Text(v.to_string())))
            .collect();
        rows.push(Row { line, fields });
    }
    Ok((header, rows))
}

fn json_lines(path: &Path, input: Box<dyn BufRead>) -> Result<(Vec<String>, Vec<Row>), Error> {
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line_no = n as u64 + 1;
        let text = line.map_err(|e| Error::at(path, line_no, format!("read failed: {e}")))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            Error::at(
                path,
                line_no,
                format!("column {}: invalid JSON: {message}", e.column()),
            )
        })?;
        let serde_json::Value::Object(object) = value else {
            return Err(Error::at(
                path,
                line_no,
                format!("expected an object, found `{value}`"),
            ));
        };
        let mut fields = Vec::with_capacity(object.len());
        for (key, v) in object {
            let field = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) if s.trim().is_empty() => continue,
                serde_json::Value::String(s) => Field::Text(s.trim().to_string()),
                serde_json::Value::Number(n) => Field::Text(n.to_string()),
                serde_json::Value::Array(items) => Field::List(
                    items
                        .into_iter()
                        .map(|i| match i {
                            serde_json::Value::String(s) => Ok(s),
                            serde_json::Value::Number(n) => Ok(n.to_string()),
                            other => Err(Error::at(
                                path,
                                line_no,
                                format!("field `{key}`: `{other}` is not a name"),
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                other => {
                    return Err(Error::at(
                        path,
                        line_no,
                        format!("field `{key}`: `{other}` is not a number, a string or a list"),
                    ));
                }
            };
            if !columns.contains(&key) {
                columns.push(key.clone());
            }
            fields.push((key, field));
        }
        rows.push(Row {
            line: line_no,
            fields,
        });
    }
    Ok((columns, rows))
}

/// The resource schema of a header (which must name `id`): every column that is not one of
/// `reserved`, in order.
fn schema_of(path: &Path, columns: &[String], reserved: &[&str], kind: &str) -> Result<Schema, Error> {
    if !columns.iter().any(|c| c == "id") {
        return Err(Error::at(
            path,
            1,
            format!("missing column `id` (found: {})", columns.join(",")),
        ));
    }
    let dims = columns
        .iter()
        .filter(|c| !reserved.contains(&c.as_str()) && *c != "gpu_spec")
        .map(|c| dim_for(c).map_err(|e| Error::at(path, 1, format!("column `{c}`: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if dims.is_empty() {
        return Err(Error::at(
            path,
            1,
            format!("no resource columns: name them in the header, e.g. `{kind},cpus,mem`"),
        ));
    }
    Schema::new(dims).map_err(|e| Error::file(path, e.to_string()))
}

/// Handles a bad row: counted and skipped, or the error that stops the read.
fn bad_row(
    path: &Path,
    options: &ReadOptions,
    skipped: &mut Skipped,
    line: u64,
    b: &Bad,
) -> Result<(), Error> {
    let message = format!("column `{}`: `{}` {}", b.column, b.value, b.problem);
    if options.skip_bad_rows {
        skipped.add(format!("{}: {}", b.column, b.problem), line, message);
        Ok(())
    } else {
        Err(Error::at(path, line, message))
    }
}

/// Reads a task file; the tasks come out in arrival order with their dependencies resolved.
pub fn tasks(path: &Path, options: &ReadOptions) -> Result<(Schema, Loaded<TaskSpec>), Error> {
    let (columns, rows) = read_rows(path)?;
    let schema = schema_of(path, &columns, &TASK_COLUMNS, "id,arrival,duration")?;
    let gpu_dim = schema.index_of(dims::GPUS);
    let mut linker = Linker::new(if options.skip_bad_rows {
        Strictness::Tolerant
    } else {
        Strictness::Strict
    });
    let mut list = Vec::with_capacity(rows.len());
    let mut skipped = Skipped::default();
    let total = rows.len() as u64;
    for row in rows {
        let (task, parents) = match task_of(&row, &schema, gpu_dim) {
            Ok(t) => t,
            Err(b) => {
                bad_row(path, options, &mut skipped, row.line, &b)?;
                continue;
            }
        };
        linker.task(path, task.job.as_deref(), &task.name, row.line)?;
        for (parent, delay) in parents {
            linker.after(task.job.as_deref(), &parent, delay, row.line, "after");
        }
        list.push(task);
    }
    if list.is_empty() && skipped.is_empty() {
        return Err(Error::file(path, "no tasks after the header"));
    }
    let dropped = linker.link(path, &mut list)?;
    Ok((schema, Loaded::new(list, total, skipped, dropped)))
}

/// One task row: the task and its parents (id, delay).
fn task_of(
    row: &Row,
    schema: &Schema,
    gpu_dim: Option<usize>,
) -> Result<(TaskSpec, Vec<(String, Time)>), Bad> {
    let id = row.get("id").ok_or_else(|| bad("id", "", "is empty"))?;
    let mut demand = vec![0u64; schema.len()];
    for (d, dim) in schema.dims().iter().enumerate() {
        if let Some(text) = row.get(dim.name()) {
            demand[d] = dim
                .parse(text)
                .map_err(|e| bad(dim.name(), text, e.to_string()))?;
        }
    }
    let mut task = TaskSpec::new(id, row.seconds("arrival")?.unwrap_or(0), demand);
    task.duration = row.seconds("duration")?;
    if task.duration.is_some_and(|d| d < 0) {
        return Err(bad("duration", row.get("duration").unwrap_or(""), "is negative"));
    }
    task.instances = row.whole::<u32>("instances")?.unwrap_or(1);
    if task.instances == 0 {
        return Err(bad("instances", "0", "must be at least 1"));
    }
    task.priority = match row.get("priority") {
        None => 0,
        Some(t) => t.parse().map_err(|_| bad("priority", t, "is not an integer"))?,
    };
    task.max_per_machine = row.whole::<u32>("max_per_machine")?;
    task.job = row.get("job").map(str::to_string);
    task.group = row.get("group").map(str::to_string);
    task.class = row.get("class").map(str::to_string);
    task.gpu_models = row
        .get("gpu_model")
        .or_else(|| row.get("gpu_spec"))
        .map(|s| {
            s.split('|')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    // openb's request: `num_gpu` GPUs of `gpu_milli` each (a share when one GPU below 1000).
    let (count, milli) = (row.whole::<u32>("num_gpu")?, row.whole::<u32>("gpu_milli")?);
    if count.is_some() || milli.is_some() {
        let g = gpu_dim.ok_or_else(|| {
            bad(
                "num_gpu",
                row.get("num_gpu").unwrap_or(""),
                "needs a `gpus` column too",
            )
        })?;
        let text = row.get("gpu_milli").unwrap_or("");
        let gpu = match (count.unwrap_or(0), milli.unwrap_or(0)) {
            (0, 0) => GpuDemand::None,
            (0, _) => return Err(bad("gpu_milli", text, "is not 0 although num_gpu is 0")),
            (_, 0) => return Err(bad("gpu_milli", text, "is 0 although num_gpu is not")),
            (1, m) if m < 1000 => GpuDemand::Share(m),
            (n, 1000) => GpuDemand::Whole(n),
            _ => {
                return Err(bad(
                    "gpu_milli",
                    text,
                    "must be 1000 when num_gpu is above 1 (and at most 1000)",
                ));
            }
        };
        if row.get(dims::GPUS).is_some() && task.demand[g] != gpu.milli() {
            return Err(bad(
                dims::GPUS,
                row.get(dims::GPUS).unwrap_or(""),
                format!("differs from num_gpu × gpu_milli ({} milli-GPU)", gpu.milli()),
            ));
        }
        task.demand[g] = gpu.milli();
        task.gpu = gpu;
    }
    let mut parents = Vec::new();
    for p in row.list("after") {
        let (name, delay) = match p.split_once('@') {
            Some((name, delay)) => {
                let d = parse_seconds("after", delay).map_err(|b| bad("after", &p, b.problem))?;
                if d < 0 {
                    return Err(bad("after", &p, "has a negative delay"));
                }
                (name.to_string(), d)
            }
            None => (p.clone(), 0),
        };
        parents.push((name, delay));
    }
    Ok((task, parents))
}

/// Reads a machines file: a machine per row, or machine events with `time` and `event`.
pub fn machines(path: &Path, options: &ReadOptions) -> Result<(Schema, Loaded<MachineEvent>), Error> {
    let (columns, rows) = read_rows(path)?;
    let schema = schema_of(path, &columns, &MACHINE_COLUMNS, "id")?;
    let gpu_dim = schema.index_of(dims::GPUS);
    let mut events = Vec::with_capacity(rows.len());
    let mut skipped = Skipped::default();
    let total = rows.len() as u64;
    for row in rows {
        match machine_of(&row, &schema, gpu_dim) {
            Ok(e) => events.push(e),
            Err(b) => bad_row(path, options, &mut skipped, row.line, &b)?,
        }
    }
    events.sort_by_key(|e: &MachineEvent| e.time);
    Ok((schema, Loaded::new(events, total, skipped, BTreeMap::new())))
}

fn machine_of(row: &Row, schema: &Schema, gpu_dim: Option<usize>) -> Result<MachineEvent, Bad> {
    let id = row.get("id").ok_or_else(|| bad("id", "", "is empty"))?;
    let time = row.seconds("time")?.unwrap_or(0);
    let mut capacity = vec![0u64; schema.len()];
    for (d, dim) in schema.dims().iter().enumerate() {
        if let Some(text) = row.get(dim.name()) {
            capacity[d] = dim
                .parse(text)
                .map_err(|e| bad(dim.name(), text, e.to_string()))?;
        }
    }
    let gpus = match gpu_dim.map(|g| capacity[g]) {
        Some(milli) if milli > 0 => {
            if milli % 1000 != 0 {
                return Err(bad(
                    dims::GPUS,
                    row.get(dims::GPUS).unwrap_or(""),
                    "is not a whole number of GPUs",
                ));
            }
            Some(GpuInventory {
                count: u32::try_from(milli / 1000)
                    .map_err(|_| bad(dims::GPUS, row.get(dims::GPUS).unwrap_or(""), "is too large"))?,
                model: row.get("gpu_model").unwrap_or("").to_string(),
            })
        }
        _ => None,
    };
    let change = match row.get("event").unwrap_or("add") {
        "add" => MachineChange::Add(MachineSpec {
            name: id.to_string(),
            capacity,
            gpus,
        }),
        "remove" => MachineChange::Remove,
        "update" => MachineChange::Update(capacity),
        other => return Err(bad("event", other, "is not `add`, `remove` or `update`")),
    };
    Ok(MachineEvent {
        time,
        machine: id.to_string(),
        change,
    })
}
