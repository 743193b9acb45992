//! Google cluster-data 2019 in the Kaggle "Google 2019 cluster sample" flattened form.
//!
//! The Kaggle sample (`borg_traces_data.csv`) joins 2019 `instance_events`, `collection_events` and
//! `instance_usage` into one row per event, with structs written as Python dicts
//! (`{'cpus': 0.02, 'memory': 0.01}`) and multi-line numpy arrays in quoted fields. Each instance
//! (`collection_id`, `instance_index`) becomes one task at its first row: arrival = `time` (packsim
//! time, as for 2011), demand = `resource_request` scaled by the [`MachineScale`] (default
//! [`MachineScale::GOOGLE`]), the collection as its group, its priority, and the row's `event` as
//! class. The sample carries no lifetimes, so tasks have no duration. Later rows of a known instance
//! are ignored and counted.

use std::collections::HashSet;
use std::path::Path;

use packing::Schema;
use sim::workload::{TaskSpec, dims, schema};

use crate::google2011::trace_time;
use crate::rows::{Columns, Parsed, ReadOptions, Records, RowError};
use crate::{Error, MachineScale};

/// The schema of Google 2019 tasks: `cpus`, `mem`.
pub fn google2019_schema() -> Schema {
    schema(&[dims::CPUS, dims::MEM])
}

/// Reads the Kaggle flattened sample (or a slice of it with the same header).
pub fn kaggle_tasks(path: &Path, options: &ReadOptions) -> Result<Records<TaskSpec>, Error> {
    let scale = options.scale.unwrap_or(MachineScale::GOOGLE);
    let required = [
        "time",
        "collection_id",
        "instance_index",
        "priority",
        "resource_request",
    ];
    let mut seen: HashSet<(String, String)> = HashSet::new();
    Records::open(path, options, Columns::Header(&required), move |names| {
        let at = |c: &str| names.iter().position(|n| n == c).expect("checked");
        let [time, collection, index, priority, request] = required.map(at);
        let event = names.iter().position(|n| n == "event");
        Ok(Box::new(move |row| {
            let key = (row.str(collection)?.to_string(), row.str(index)?.to_string());
            let text = row.str(request)?;
            let (cpus, memory) = parse_request(text).ok_or_else(|| {
                RowError::new("resource_request", text, "is not a {'cpus': x, 'memory': y} dict")
            })?;
            let (Some(cpus), Some(memory)) = (cpus, memory) else {
                return Ok(Parsed::Ignore("instance without a resource request"));
            };
            if !seen.insert(key.clone()) {
                return Ok(Parsed::Ignore("later row of a known instance"));
            }
            let mut task = TaskSpec::new(
                format!("{}-{}", key.0, key.1),
                trace_time(row.i64(time)?),
                vec![scale.cpus_milli(cpus), scale.mem_mib(memory)],
            );
            task.group = Some(key.0);
            task.priority = i32::try_from(row.i64(priority)?).unwrap_or(i32::MAX);
            task.class = event.and_then(|i| row.opt_str(i)).map(str::to_string);
            Ok(Parsed::Record(task))
        }))
    })
}

/// Parses `{'cpus': 0.02, 'memory': None}`: `None` values are absent, unknown keys are an error.
pub fn parse_request(text: &str) -> Option<(Option<f64>, Option<f64>)> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let (mut cpus, mut memory) = (None, None);
    for pair in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(':')?;
        let value = match value.trim() {
            "None" | "nan" => None,
            v => Some(v.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0)?),
        };
        match key.trim().trim_matches(|c| c == '\'' || c == '"') {
            "cpus" => cpus = value,
            "memory" => memory = value,
            _ => return None,
        }
    }
    Some((cpus, memory))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_dict_requests() {
        assert_eq!(
            parse_request("{'cpus': 0.5, 'memory': 0.25}"),
            Some((Some(0.5), Some(0.25)))
        );
        assert_eq!(
            parse_request("{'cpus': None, 'memory': 0.25}"),
            Some((None, Some(0.25)))
        );
        assert_eq!(parse_request("{}"), Some((None, None)));
        assert_eq!(parse_request("{'gpus': 1}"), None);
        assert_eq!(parse_request("{'cpus': -1}"), None);
        assert_eq!(parse_request("cpus=1"), None);
    }
}
