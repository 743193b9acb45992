//! One entry point over every format: open a path as machines, tasks, instances or a batch.

use std::collections::BTreeMap;
use std::path::Path;

use packing::Schema;
use sim::workload::{MachineChange, MachineEvent, MachineSpec, TaskSpec};

use crate::format::{Format, detect};
use crate::instances::Suite;
use crate::rows::{Chain, ReadOptions, Records, Skipped};
use crate::{
    Error, alibaba2017, alibaba2018, azure, batch, dlrm, google2011, google2019, instances, nodes, openb,
    packsim, swf, wfcommons,
};

/// A stream of records that can say what it skipped and ignored along the way.
pub trait Stream<T>: Iterator<Item = Result<T, Error>> {
    /// Bad rows skipped (in `skip_bad_rows` mode), by reason.
    fn skipped(&self) -> Skipped;
    /// Valid rows that held no record, by reason.
    fn ignored(&self) -> BTreeMap<&'static str, u64>;
    /// Data rows read.
    fn rows_read(&self) -> u64;
}

impl<T> Stream<T> for Records<T> {
    fn skipped(&self) -> Skipped {
        Records::skipped(self).clone()
    }
    fn ignored(&self) -> BTreeMap<&'static str, u64> {
        Records::ignored(self).clone()
    }
    fn rows_read(&self) -> u64 {
        Records::rows_read(self)
    }
}

impl<T> Stream<T> for Chain<T> {
    fn skipped(&self) -> Skipped {
        Chain::skipped(self)
    }
    fn ignored(&self) -> BTreeMap<&'static str, u64> {
        Chain::ignored(self)
    }
    fn rows_read(&self) -> u64 {
        Chain::rows_read(self)
    }
}

impl Stream<TaskSpec> for azure::AzureVms {
    fn skipped(&self) -> Skipped {
        azure::AzureVms::skipped(self)
    }
    fn ignored(&self) -> BTreeMap<&'static str, u64> {
        azure::AzureVms::ignored(self).clone()
    }
    fn rows_read(&self) -> u64 {
        azure::AzureVms::rows_read(self)
    }
}

impl Stream<TaskSpec> for google2011::Tasks<Chain<google2011::TaskEvent>> {
    fn skipped(&self) -> Skipped {
        self.events().skipped()
    }
    fn ignored(&self) -> BTreeMap<&'static str, u64> {
        let mut all = self.events().ignored();
        for (k, v) in google2011::Tasks::ignored(self) {
            *all.entry(k).or_insert(0) += v;
        }
        all
    }
    fn rows_read(&self) -> u64 {
        self.events().rows_read()
    }
}

/// A machine list seen as additions at time 0.
struct AsEvents<S>(S);

impl<S: Iterator<Item = Result<MachineSpec, Error>>> Iterator for AsEvents<S> {
    type Item = Result<MachineEvent, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|r| {
            r.map(|m| MachineEvent {
                time: 0,
                machine: m.name.clone(),
                change: MachineChange::Add(m),
            })
        })
    }
}

impl<S: Stream<MachineSpec>> Stream<MachineEvent> for AsEvents<S> {
    fn skipped(&self) -> Skipped {
        self.0.skipped()
    }
    fn ignored(&self) -> BTreeMap<&'static str, u64> {
        self.0.ignored()
    }
    fn rows_read(&self) -> u64 {
        self.0.rows_read()
    }
}

/// What a path holds, ready to read.
pub enum Opened {
    /// Machines (as events: a plain list is additions at time 0), in the given schema.
    Machines(Schema, Box<dyn Stream<MachineEvent>>),
    /// Tasks in the given schema.
    Tasks(Schema, Box<dyn Stream<TaskSpec>>),
    /// Benchmark instances.
    Instances(Suite),
    /// A packsim bins or items file.
    Batch(batch::Batch),
}

/// Format-specific choices that are not common to all readers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatOptions {
    /// Azure packing: the machine generation the demands refer to.
    pub azure_machine: Option<i64>,
}

/// Opens `path` in `format` (detected when `None`).
pub fn open(
    path: &Path,
    format: Option<Format>,
    options: &ReadOptions,
    extra: &FormatOptions,
) -> Result<(Format, Opened), Error> {
    let format = match format {
        Some(f) => f,
        None => detect(path)?,
    };
    let opened = match format {
        Format::OpenbNodes => Opened::Machines(
            openb::openb_schema(),
            Box::new(AsEvents(openb::nodes(path, options)?)),
        ),
        Format::OpenbPods => Opened::Tasks(openb::openb_schema(), Box::new(openb::pods(path, options)?)),
        Format::Alibaba2017Machines => Opened::Machines(
            alibaba2017::alibaba2017_schema(),
            Box::new(alibaba2017::server_events(path, options)?),
        ),
        Format::Alibaba2017Tasks => Opened::Tasks(
            alibaba2017::alibaba2017_schema(),
            Box::new(alibaba2017::batch_tasks(path, options)?),
        ),
        Format::Alibaba2018Machines => Opened::Machines(
            alibaba2018::alibaba2018_schema(),
            Box::new(alibaba2018::machine_meta(path, options)?),
        ),
        Format::Alibaba2018Tasks => {
            // The DAGs are in the task names: read whole, then linked.
            let mut records = alibaba2018::batch_tasks(path, options)?;
            let mut list = Vec::new();
            for task in records.by_ref() {
                list.push(task?);
            }
            let mut ignored = records.ignored().clone();
            for (reason, n) in alibaba2018::link_dags(path, &mut list)? {
                *ignored.entry(reason).or_insert(0) += n;
            }
            Opened::Tasks(
                alibaba2018::alibaba2018_schema(),
                Box::new(packsim::Loaded::new(
                    list,
                    records.rows_read(),
                    records.skipped().clone(),
                    ignored,
                )),
            )
        }
        Format::Alibaba2018Containers => Opened::Tasks(
            alibaba2018::alibaba2018_schema(),
            Box::new(alibaba2018::container_meta(path, options)?),
        ),
        Format::Google2011Machines => Opened::Machines(
            google2011::google2011_schema(),
            Box::new(google2011::machine_events(path, options)?),
        ),
        Format::Google2011Tasks => Opened::Tasks(
            google2011::google2011_schema(),
            Box::new(google2011::Tasks::new(google2011::task_events(path, options)?)),
        ),
        Format::Google2019Kaggle => Opened::Tasks(
            google2019::google2019_schema(),
            Box::new(google2019::kaggle_tasks(path, options)?),
        ),
        Format::AzurePacking => Opened::Tasks(
            azure::azure_schema(),
            Box::new(azure::vms(path, extra.azure_machine, options.scale)?),
        ),
        Format::Dlrm2025 => Opened::Tasks(dlrm::dlrm_schema(), Box::new(dlrm::instances(path, options)?)),
        Format::Pai2020Machines => Opened::Machines(
            nodes::pai_schema(),
            Box::new(AsEvents(nodes::pai_machines(path, options)?)),
        ),
        Format::SpotGpu2026Nodes => Opened::Machines(
            nodes::spot_schema(),
            Box::new(AsEvents(nodes::spot_nodes(path, options)?)),
        ),
        Format::Bpplib if path.join("bpplib_bounds.csv").is_file() => {
            Opened::Instances(instances::bpplib_suite(path)?)
        }
        Format::Vectorpack if path.join("vectorpack_optima.csv").is_file() => {
            Opened::Instances(instances::vectorpack_suite(path)?)
        }
        Format::Bpplib | Format::Vectorpack => Opened::Instances(Suite {
            instances: instances::read_instances(path)?,
            excluded: Vec::new(),
        }),
        Format::Batch => Opened::Batch(batch::read_bins(path)?),
        Format::PacksimTasks => {
            let (schema, tasks) = packsim::tasks(path, options)?;
            Opened::Tasks(schema, Box::new(tasks))
        }
        Format::PacksimMachines => {
            let (schema, machines) = packsim::machines(path, options)?;
            Opened::Machines(schema, Box::new(machines))
        }
        Format::Swf => {
            let (schema, tasks) = swf::tasks(path, options)?;
            Opened::Tasks(schema, Box::new(tasks))
        }
        Format::Wfcommons => {
            let (schema, tasks) = wfcommons::tasks(path)?;
            Opened::Tasks(schema, Box::new(tasks))
        }
    };
    Ok((format, opened))
}
