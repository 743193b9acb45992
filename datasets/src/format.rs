//! The formats packsim reads, and their detection from a file's name and first line.

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use crate::Error;

/// Every file format packsim reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Alibaba GPU 2023 node list.
    OpenbNodes,
    /// Alibaba GPU 2023 pod list (any variant).
    OpenbPods,
    /// Alibaba 2017 `server_event.csv`.
    Alibaba2017Machines,
    /// Alibaba 2017 `batch_task.csv`.
    Alibaba2017Tasks,
    /// Alibaba 2018 `machine_meta.csv`.
    Alibaba2018Machines,
    /// Alibaba 2018 `batch_task.csv`.
    Alibaba2018Tasks,
    /// Alibaba 2018 `container_meta.csv`.
    Alibaba2018Containers,
    /// Google 2011 `machine_events`.
    Google2011Machines,
    /// Google 2011 `task_events`.
    Google2011Tasks,
    /// Google 2019 in the Kaggle flattened form.
    Google2019Kaggle,
    /// Azure packing trace 2020 (SQLite).
    AzurePacking,
    /// Alibaba GPU 2025 DLRM instances.
    Dlrm2025,
    /// Alibaba PAI 2020 machine spec.
    Pai2020Machines,
    /// Alibaba spot GPU 2026 node list.
    SpotGpu2026Nodes,
    /// BPPLIB instances (a file, an archive, a folder or the suite with its bounds).
    Bpplib,
    /// Vectorpack instances (a file, an archive, a folder or the suite with its optima).
    Vectorpack,
    /// packsim's own bins/items CSV or JSON.
    Batch,
    /// packsim's own workload format: tasks (CSV or JSON Lines).
    PacksimTasks,
    /// packsim's own workload format: machines and machine events (CSV or JSON Lines).
    PacksimMachines,
    /// The Standard Workload Format of the Parallel Workloads Archive.
    Swf,
    /// A WfCommons workflow instance (WfFormat JSON).
    Wfcommons,
}

impl Format {
    /// Every format, in listing order.
    pub const ALL: [Format; 21] = [
        Format::OpenbNodes,
        Format::OpenbPods,
        Format::Alibaba2017Machines,
        Format::Alibaba2017Tasks,
        Format::Alibaba2018Machines,
        Format::Alibaba2018Tasks,
        Format::Alibaba2018Containers,
        Format::Google2011Machines,
        Format::Google2011Tasks,
        Format::Google2019Kaggle,
        Format::AzurePacking,
        Format::Dlrm2025,
        Format::Pai2020Machines,
        Format::SpotGpu2026Nodes,
        Format::Bpplib,
        Format::Vectorpack,
        Format::Batch,
        Format::PacksimTasks,
        Format::PacksimMachines,
        Format::Swf,
        Format::Wfcommons,
    ];

    /// The stable name used on the command line (`--format openb-pods`).
    pub fn name(self) -> &'static str {
        match self {
            Format::OpenbNodes => "openb-nodes",
            Format::OpenbPods => "openb-pods",
            Format::Alibaba2017Machines => "alibaba2017-machines",
            Format::Alibaba2017Tasks => "alibaba2017-tasks",
            Format::Alibaba2018Machines => "alibaba2018-machines",
            Format::Alibaba2018Tasks => "alibaba2018-tasks",
            Format::Alibaba2018Containers => "alibaba2018-containers",
            Format::Google2011Machines => "google2011-machines",
            Format::Google2011Tasks => "google2011-tasks",
            Format::Google2019Kaggle => "google2019-kaggle",
            Format::AzurePacking => "azure-packing",
            Format::Dlrm2025 => "dlrm2025",
            Format::Pai2020Machines => "pai2020-machines",
            Format::SpotGpu2026Nodes => "spot2026-nodes",
            Format::Bpplib => "bpplib",
            Format::Vectorpack => "vectorpack",
            Format::Batch => "batch",
            Format::PacksimTasks => "packsim-tasks",
            Format::PacksimMachines => "packsim-machines",
            Format::Swf => "swf",
            Format::Wfcommons => "wfcommons",
        }
    }

    /// What the format is, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Format::OpenbNodes => "Alibaba GPU 2023 (openb) node list",
            Format::OpenbPods => "Alibaba GPU 2023 (openb) pod list",
            Format::Alibaba2017Machines => "Alibaba 2017 server_event (machines)",
            Format::Alibaba2017Tasks => "Alibaba 2017 batch_task (tasks × instances)",
            Format::Alibaba2018Machines => "Alibaba 2018 machine_meta",
            Format::Alibaba2018Tasks => "Alibaba 2018 batch_task",
            Format::Alibaba2018Containers => "Alibaba 2018 container_meta",
            Format::Google2011Machines => "Google 2011 machine_events",
            Format::Google2011Tasks => "Google 2011 task_events",
            Format::Google2019Kaggle => "Google 2019 (Kaggle flattened sample)",
            Format::AzurePacking => "Azure packing trace 2020 (SQLite)",
            Format::Dlrm2025 => "Alibaba GPU 2025 DLRM instances",
            Format::Pai2020Machines => "Alibaba PAI 2020 machine spec",
            Format::SpotGpu2026Nodes => "Alibaba spot GPU 2026 node list",
            Format::Bpplib => "BPPLIB one-dimensional instances",
            Format::Vectorpack => "Vectorpack multi-dimensional instances",
            Format::Batch => "packsim bins/items (CSV or JSON)",
            Format::PacksimTasks => "packsim tasks (CSV or JSON Lines)",
            Format::PacksimMachines => "packsim machines (CSV or JSON Lines)",
            Format::Swf => "Standard Workload Format (Parallel Workloads Archive)",
            Format::Wfcommons => "WfCommons workflow instance (WfFormat JSON)",
        }
    }

    /// The format called `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Guesses the format of a file (or suite folder) from its name and first line.
pub fn detect(path: &Path) -> Result<Format, Error> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if path.is_dir() {
        if path.join("bpplib_bounds.csv").is_file() {
            return Ok(Format::Bpplib);
        }
        if path.join("vectorpack_optima.csv").is_file() {
            return Ok(Format::Vectorpack);
        }
        // A table split in parts: detect from its first part.
        let mut parts: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
            })
            .collect();
        parts.sort();
        return match parts.first() {
            Some(first) => detect(first),
            None => Err(Error::file(
                path,
                "a folder: `packsim dataset info` summarises each file in it",
            )),
        };
    }
    if name.ends_with(".vbp") {
        return Ok(Format::Vectorpack);
    }
    if name.ends_with(".sqlite") || name.ends_with(".db") || starts_with_bytes(path, b"SQLite format 3\0")? {
        return Ok(Format::AzurePacking);
    }
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let mut kind = None;
        crate::nodes::for_each_member(path, |member, _| {
            if kind.is_none() {
                kind = if member.ends_with("pai_machine_spec.csv") {
                    Some(Format::Pai2020Machines)
                } else if member.ends_with(".vbp") {
                    Some(Format::Vectorpack)
                } else if member.ends_with(".txt") {
                    Some(Format::Bpplib)
                } else {
                    None
                };
            }
            Ok(())
        })?;
        return kind.ok_or_else(|| Error::file(path, "an archive without instances or a known table"));
    }
    if name.ends_with(".swf") || name.ends_with(".swf.gz") {
        return Ok(Format::Swf);
    }
    if name.ends_with(".json") || name.ends_with(".json.gz") {
        // A WfCommons instance is one object; a bins/items file is an array.
        let text = first_line(path)?;
        return Ok(if text.starts_with('{') {
            Format::Wfcommons
        } else {
            Format::Batch
        });
    }
    let first = first_line(path)?;
    if [".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        // The keys of the first objects: a task key makes a task file, a machine event's `time`
        // or `event` a machine file; with neither (`id` and resources) it reads as tasks here and
        // as machines where a cluster is expected.
        let mut keys: Vec<String> = Vec::new();
        for line in crate::rows::open(path)?.lines().take(100) {
            let line = line.map_err(|e| Error::file(path, format!("read failed: {e}")))?;
            if let Ok(m) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line) {
                keys.extend(m.keys().cloned());
            }
        }
        let has = |k: &str| keys.iter().any(|x| x == k);
        return Ok(
            if crate::packsim::TASK_ONLY.iter().any(|k| has(k)) || !(has("time") || has("event")) {
                Format::PacksimTasks
            } else {
                Format::PacksimMachines
            },
        );
    }
    if first.starts_with(';') {
        return Ok(Format::Swf);
    }
    detect_line(&first, &name).ok_or_else(|| {
        let shown: String = first.chars().take(80).collect();
        Error::at(
            path,
            1,
            format!("unrecognised format (first line `{shown}`); name one with --format"),
        )
    })
}

fn starts_with_bytes(path: &Path, magic: &[u8]) -> Result<bool, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; magic.len()];
    Ok(file.read_exact(&mut buf).is_ok() && buf == magic)
}

/// The first line that is neither blank nor a `#` comment.
fn first_line(path: &Path) -> Result<String, Error> {
    let mut reader = crate::rows::open(path)?;
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        let n = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| Error::file(path, format!("read failed: {e}")))?;
        let line = String::from_utf8_lossy(&bytes).trim().to_string();
        if n == 0 || !(line.is_empty() || line.starts_with('#')) {
            return Ok(line);
        }
    }
}

/// Detection from the first line (and the lower-case file name).
fn detect_line(line: &str, name: &str) -> Option<Format> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let header = |cols: &[&str]| cols.iter().all(|c| fields.contains(c));
    let numeric = |s: &str| s.parse::<f64>().is_ok();
    let int_in = |s: &str, max: u64| s.parse::<u64>().is_ok_and(|v| v <= max);
    if header(&["sn", "cpu_milli", "memory_mib", "gpu", "model"]) {
        return Some(Format::OpenbNodes);
    }
    if header(&["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"]) {
        return Some(Format::OpenbPods);
    }
    if header(&["instance_sn", "role", "app_name"]) {
        return Some(Format::Dlrm2025);
    }
    if header(&["gpu_model", "gpu_capacity_num", "cpu_num"]) {
        return Some(Format::SpotGpu2026Nodes);
    }
    if header(&[
        "time",
        "instance_events_type",
        "collection_id",
        "resource_request",
    ]) {
        return Some(Format::Google2019Kaggle);
    }
    if fields.first().is_some_and(|f| f.starts_with("task_create_time")) {
        return Some(Format::Alibaba2017Tasks);
    }
    match fields.len() {
        7 if ["add", "softerror", "harderror"].contains(&fields[2]) => {
            return Some(Format::Alibaba2017Machines);
        }
        7 if fields[0].starts_with("m_") && numeric(fields[4]) => return Some(Format::Alibaba2018Machines),
        8 if numeric(fields[0])
            && ["Terminated", "Waiting", "Running", "Failed", "Ready", "Cancelled"].contains(&fields[5]) =>
        {
            return Some(Format::Alibaba2017Tasks);
        }
        8 if fields[0].starts_with("c_") => return Some(Format::Alibaba2018Containers),
        9 if numeric(fields[1]) && !numeric(fields[0]) && numeric(fields[5]) => {
            return Some(Format::Alibaba2018Tasks);
        }
        6 if numeric(fields[0]) && int_in(fields[2], 2) => return Some(Format::Google2011Machines),
        13 if numeric(fields[0]) && int_in(fields[5], 8) => return Some(Format::Google2011Tasks),
        5 if !numeric(fields[1]) && numeric(fields[2]) && numeric(fields[3]) && numeric(fields[4]) => {
            return Some(Format::Pai2020Machines);
        }
        _ => {}
    }
    if (name.ends_with(".txt") || name.ends_with(".bpp"))
        && line.split_whitespace().count() == 1
        && line.trim().parse::<u64>().is_ok()
    {
        return Some(Format::Bpplib);
    }
    if crate::packsim::TASK_ONLY.iter().any(|c| fields.contains(c)) {
        return Some(Format::PacksimTasks);
    }
    if fields.contains(&"id") && (fields.contains(&"event") || fields.contains(&"time")) {
        return Some(Format::PacksimMachines);
    }
    if name.ends_with(".csv") && fields.iter().any(|f| !numeric(f)) {
        return Some(Format::Batch);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_first_lines() {
        let cases = [
            ("sn,cpu_milli,memory_mib,gpu,model", Format::OpenbNodes),
            (
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec",
                Format::OpenbPods,
            ),
            ("0,1148,add,,64,0.69,1", Format::Alibaba2017Machines),
            (
                "6459,6524,3,4,15740,Terminated,50,0.0079",
                Format::Alibaba2017Tasks,
            ),
            (
                "task_create_time, task_end_time, job_id",
                Format::Alibaba2017Tasks,
            ),
            ("m_1,0,219,17,96,100,USING", Format::Alibaba2018Machines),
            (
                "M1,1,j_1,1,Terminated,157213,157295,100,0.3",
                Format::Alibaba2018Tasks,
            ),
            (
                "c_1,m_2556,0,app_5052,started,400,400,1.56",
                Format::Alibaba2018Containers,
            ),
            (
                "0,5,0,HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=,0.5,0.2493",
                Format::Google2011Machines,
            ),
            (
                "0,2,3418309,0,4155527081,0,70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo=,3,9,,,,",
                Format::Google2011Tasks,
            ),
            ("instance_sn,role,app_name,cpu_request", Format::Dlrm2025),
            (
                "gpu_model,gpu_capacity_num,cpu_num,node_name",
                Format::SpotGpu2026Nodes,
            ),
            ("7399a758eb02bae1a3621236,CPU,96,512,0", Format::Pai2020Machines),
            (
                ",time,instance_events_type,collection_id,resource_request",
                Format::Google2019Kaggle,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(detect_line(line, "x.csv"), Some(want), "{line}");
        }
        assert_eq!(detect_line("120", "u120_00.txt"), Some(Format::Bpplib));
        assert_eq!(detect_line("id,cpus,mem", "bins.csv"), Some(Format::Batch));
        assert_eq!(
            detect_line("id,arrival,duration,cpus,mem", "t.csv"),
            Some(Format::PacksimTasks)
        );
        assert_eq!(
            detect_line("id,job,after,cpus", "t.txt"),
            Some(Format::PacksimTasks)
        );
        assert_eq!(
            detect_line("id,time,event,cpus,mem", "m.csv"),
            Some(Format::PacksimMachines)
        );
        assert_eq!(detect_line("1,2,3", "x.csv"), None);
    }

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
    }
}
