//! Azure Trace for Packing 2020 (AzurePackingTraceV1, Hadary et al., "Protean", OSDI'20).
//!
//! The trace is one SQLite file with tables `vm(vmId, tenantId, vmTypeId, priority, starttime,
//! endtime)` and `vmType(id, vmTypeId, machineId, core, memory, hdd, ssd, nic)`. Resources are
//! fractions of one machine of a hardware generation (`machineId`), and a VM type has one row per
//! generation it can run on, so packing needs one generation: the caller names it, or packsim takes
//! the generation that offers the most VM types (lowest id on ties).
//!
//! Each VM becomes a task: arrival = `starttime`, duration = `endtime − starttime` (fractional days
//! to microseconds; a NULL end, alive past the trace's cap, has no duration); demand = the type's
//! fractions on the chosen generation: cores and memory scaled by the [`MachineScale`] (default
//! [`MachineScale::AZURE`]), and hdd, ssd and nic in thousandths of a machine. Priority 0 (high)
//! becomes priority 1 and class `high`, priority 1 (low, evictable) priority 0 and class `low`; the
//! tenant is the group. VMs of a type not offered on the generation are ignored and counted.
//! Rows are streamed in start-time order from a reader thread over a bounded channel, so memory
//! does not grow with the number of VMs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};

use packing::{Dim, Schema};
use rusqlite::{Connection, OpenFlags};
use sim::workload::{TaskSpec, dims};

use crate::rows::Skipped;
use crate::{Error, MachineScale};

/// The schema of Azure tasks: `cpus`, `mem`, and `hdd`, `ssd`, `nic` in thousandths of a machine.
pub fn azure_schema() -> Schema {
    let dims = vec![
        Dim::new(dims::CPUS, 3).expect("valid"),
        Dim::new(dims::MEM, 0).expect("valid"),
        Dim::new("hdd", 3).expect("valid"),
        Dim::new("ssd", 3).expect("valid"),
        Dim::new("nic", 3).expect("valid"),
    ];
    Schema::new(dims).expect("distinct")
}

/// A VM type's resources on one machine generation, as fractions of the machine.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TypeShape {
    core: f64,
    memory: f64,
    hdd: f64,
    ssd: f64,
    nic: f64,
}

/// The VMs of an Azure packing trace as tasks, in start-time order.
pub struct AzureVms {
    path: PathBuf,
    rows: Receiver<Result<VmRow, String>>,
    shapes: HashMap<i64, TypeShape>,
    scale: MachineScale,
    /// The machine generation the demands refer to.
    pub machine_generation: i64,
    ignored: BTreeMap<&'static str, u64>,
    rows_read: u64,
    done: bool,
}

struct VmRow {
    vm: i64,
    tenant: i64,
    vm_type: i64,
    priority: i64,
    start: f64,
    end: Option<f64>,
}

/// Opens an Azure packing SQLite trace; `machine_generation` picks the hardware generation.
pub fn vms(
    path: &Path,
    machine_generation: Option<i64>,
    scale: Option<MachineScale>,
) -> Result<AzureVms, Error> {
    let db = |e: rusqlite::Error| Error::file(path, format!("SQLite: {e}"));
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    let mut by_generation: BTreeMap<i64, HashMap<i64, TypeShape>> = BTreeMap::new();
    {
        let mut stmt = conn
            .prepare("SELECT vmTypeId, machineId, core, memory, hdd, ssd, nic FROM vmType")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    TypeShape {
                        core: r.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                        memory: r.get::<_, Option<f64>>(3)?.unwrap_or(0.0),
                        hdd: r.get::<_, Option<f64>>(4)?.unwrap_or(0.0),
                        ssd: r.get::<_, Option<f64>>(5)?.unwrap_or(0.0),
                        nic: r.get::<_, Option<f64>>(6)?.unwrap_or(0.0),
                    },
                ))
            })
            .map_err(db)?;
        for row in rows {
            let (vm_type, generation, shape) = row.map_err(db)?;
            for (name, v) in [
                ("core", shape.core),
                ("memory", shape.memory),
                ("hdd", shape.hdd),
                ("ssd", shape.ssd),
                ("nic", shape.nic),
            ] {
                if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                    return Err(Error::file(
                        path,
                        format!(
                            "vmType {vm_type} on machine {generation}: {name} `{v}` is not a fraction of a machine"
                        ),
                    ));
                }
            }
            by_generation
                .entry(generation)
                .or_default()
                .insert(vm_type, shape);
        }
    }
    let generation = match machine_generation {
        Some(g) if by_generation.contains_key(&g) => g,
        Some(g) => {
            let known: Vec<String> = by_generation.keys().map(i64::to_string).collect();
            return Err(Error::file(
                path,
                format!("no machine generation {g} (the trace has {})", known.join(", ")),
            ));
        }
        None => *by_generation
            .iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
            .map(|(g, _)| g)
            .ok_or_else(|| Error::file(path, "the vmType table is empty"))?,
    };
    let shapes = by_generation.remove(&generation).unwrap_or_default();
    let (tx, rx) = sync_channel(4096);
    std::thread::Builder::new()
        .name("azure-reader".into())
        .spawn(move || {
            let result = (|| -> rusqlite::Result<()> {
                let mut stmt = conn.prepare(
                    "SELECT vmId, tenantId, vmTypeId, priority, starttime, endtime FROM vm ORDER BY starttime, vmId",
                )?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    let row = VmRow {
                        vm: r.get(0)?,
                        tenant: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                        vm_type: r.get(2)?,
                        priority: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                        start: r.get(4)?,
                        end: r.get(5)?,
                    };
                    if tx.send(Ok(row)).is_err() {
                        return Ok(()); // the reader was dropped
                    }
                }
                Ok(())
            })();
            if let Err(e) = result {
                let _ = tx.send(Err(format!("SQLite: {e}")));
            }
        })
        .map_err(|e| Error::file(path, format!("cannot start the reader thread: {e}")))?;
    Ok(AzureVms {
        path: path.to_path_buf(),
        rows: rx,
        shapes,
        scale: scale.unwrap_or(MachineScale::AZURE),
        machine_generation: generation,
        ignored: BTreeMap::new(),
        rows_read: 0,
        done: false,
    })
}

/// Fractional days to microseconds.
fn days(d: f64) -> Option<i64> {
    crate::rows::seconds(d * 86_400.0)
}

impl AzureVms {
    /// VMs that produced no task, by reason.
    pub fn ignored(&self) -> &BTreeMap<&'static str, u64> {
        &self.ignored
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    /// Nothing is skipped: bad rows stop the read (SQLite columns are typed).
    pub fn skipped(&self) -> Skipped {
        Skipped::default()
    }

    fn task(&mut self, row: &VmRow) -> Result<Option<TaskSpec>, Error> {
        let Some(shape) = self.shapes.get(&row.vm_type).copied() else {
            *self
                .ignored
                .entry("VM type not offered on the machine generation")
                .or_insert(0) += 1;
            return Ok(None);
        };
        let bad = |what: &str, v: f64| {
            Error::file(
                &self.path,
                format!("vm {}: {what} `{v}` is not a time in days", row.vm),
            )
        };
        let arrival = days(row.start).ok_or_else(|| bad("starttime", row.start))?;
        let duration = match row.end {
            Some(end) if end < row.start => return Err(bad("endtime (before starttime)", end)),
            Some(end) => Some(days(end).ok_or_else(|| bad("endtime", end))? - arrival),
            None => None,
        };
        let milli = |f: f64| (f * 1000.0).round() as u64;
        let demand = vec![
            self.scale.cpus_milli(shape.core),
            self.scale.mem_mib(shape.memory),
            milli(shape.hdd),
            milli(shape.ssd),
            milli(shape.nic),
        ];
        let mut task = TaskSpec::new(row.vm.to_string(), arrival, demand);
        task.duration = duration;
        task.priority = if row.priority == 0 { 1 } else { 0 };
        task.class = Some(if row.priority == 0 { "high" } else { "low" }.into());
        task.group = Some(row.tenant.to_string());
        Ok(Some(task))
    }
}

impl Iterator for AzureVms {
    type Item = Result<TaskSpec, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.rows.recv() {
                Ok(Ok(row)) => {
                    self.rows_read += 1;
                    match self.task(&row) {
                        Ok(Some(task)) => return Some(Ok(task)),
                        Ok(None) => {}
                        Err(e) => {
                            self.done = true;
                            return Some(Err(e));
                        }
                    }
                }
                Ok(Err(message)) => {
                    self.done = true;
                    return Some(Err(Error::file(&self.path, message)));
                }
                Err(_) => self.done = true,
            }
        }
        None
    }
}

/// The capacity of one machine of any generation in the Azure schema: 1.0 of everything.
pub fn machine_capacity(scale: Option<MachineScale>) -> Vec<u64> {
    let scale = scale.unwrap_or(MachineScale::AZURE);
    vec![scale.cpus_milli(1.0), scale.mem_mib(1.0), 1000, 1000, 1000]
}
