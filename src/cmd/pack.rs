//! `packsim pack`: one policy, one batch, offline.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use datasets::batch::{self, Batch};
use packing::{Cluster, Items, LowerBounds, MachineId, Packing, Policy, Weights, fits, lower_bounds, pack};
use serde_json::{Map, Value, json};

/// Arguments of `packsim pack`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  packsim pack --policy satyr-bfd --bins bins.csv --items items.csv\n\n\
    Files are CSV with a header naming the dimensions (id,cpus,mem,disk,...) or a JSON array of\n\
    objects; values are decimals with up to 3 places. See README.md for the format."
)]
pub(crate) struct Args {
    /// Placement policy: a name from `packsim policies`, or a weighted sum of scoring policies
    /// such as 'kube-least-allocated*1+kube-balanced-allocation*2'.
    #[arg(long, short)]
    policy: String,
    /// Per-dimension weights such as cpus=1,mem=1 (dimensions not named weigh 0). Default: the
    /// policy's own (cpus=1,mem=1 for satyr, kube and fenzo policies; 1 everywhere otherwise).
    /// No short form: `-w` names a workload in every other command.
    #[arg(long)]
    weights: Option<String>,
    /// Seed of the random policy (and of random parts of a weighted sum).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Bins (machines or offers) with their capacities: CSV or JSON.
    #[arg(long, short)]
    bins: PathBuf,
    /// Items (tasks) with their demands, same dimensions as the bins; an optional `group` column
    /// says whose task it is (read by the drf policy).
    #[arg(long, short)]
    items: PathBuf,
    /// What to print: a table per bin for people, JSON, or CSV (`item,bin`). (`--format` names
    /// an input file's format in every other command.)
    #[arg(long = "print", short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How `pack` prints its result.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// A table per bin, the unplaced items and the bounds, for people.
    Text,
    /// One JSON document with placements, unplaced items, utilisation and bounds.
    Json,
    /// `item,bin` rows in input order; `bin` is empty for an unplaced item.
    Csv,
}

/// Everything `pack` computed, ready to print.
struct Outcome {
    policy: Policy,
    bins: Batch,
    items: Batch,
    packing: Packing,
    cluster: Cluster,
    bounds: LowerBounds,
}

/// Reads the inputs, packs, and prints in the chosen format.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let bins = batch::read_bins(&args.bins)?;
    let items = batch::read_items(&args.items, &bins.schema)?;
    let mut policy = Policy::parse(&args.policy, &bins.schema)?.with_seed(args.seed);
    if let Some(w) = &args.weights {
        policy = policy.with_weights(Weights::parse(&bins.schema, w)?)?;
    }
    let mut batch = Items::new(items.table.clone());
    if let Some(groups) = &items.groups {
        batch = batch.with_groups(groups.clone())?;
    }
    let mut cluster = Cluster::from_capacities(&bins.table);
    let packing = pack(&policy, &mut cluster, &batch)?;
    let bounds = lower_bounds(&bins.table, &items.table);
    let outcome = Outcome {
        policy,
        bins,
        items,
        packing,
        cluster,
        bounds,
    };
    let text = match args.format {
        Format::Text => outcome.text(),
        Format::Json => serde_json::to_string_pretty(&outcome.json())? + "\n",
        Format::Csv => outcome.csv(),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the result")?;
    Ok(())
}

impl Outcome {
    fn unplaced_reason(&self, item: usize) -> &'static str {
        let demand = self.items.table.row(item);
        if self.bins.table.rows().any(|cap| fits(demand, cap)) {
            "no room where the policy looked"
        } else {
            "larger than every bin"
        }
    }

    fn bin_id(&self, m: MachineId) -> &str {
        &self.bins.ids[m.index()]
    }

    fn weights(&self) -> String {
        if self.policy.kind() == Some(packing::Kind::SatyrFf) {
            "none".into()
        } else {
            self.policy.weights().describe(&self.bins.schema)
        }
    }

    fn l2_text(&self) -> String {
        self.bounds.l2.map_or_else(
            || "n/a: no dimension where all bins have the same non-zero capacity".into(),
            |l2| l2.to_string(),
        )
    }

    fn text(&self) -> String {
        let schema = &self.bins.schema;
        let per_bin = self.packing.per_machine(self.bins.ids.len());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "policy {}  weights {}  seed {}",
            self.policy,
            self.weights(),
            self.policy.seed()
        );
        let _ = writeln!(
            out,
            "{} items into {} bins, dimensions {}\n",
            self.items.ids.len(),
            self.bins.ids.len(),
            schema.names()
        );
        let item_lists: Vec<String> = per_bin
            .iter()
            .map(|items| {
                if items.is_empty() {
                    "-".into()
                } else {
                    let names: Vec<&str> = items
                        .iter()
                        .map(|&i| self.items.ids[i as usize].as_str())
                        .collect();
                    names.join(" ")
                }
            })
            .collect();
        let id_width = self.bins.ids.iter().map(String::len).max().unwrap_or(0).max(3);
        let items_width = item_lists.iter().map(String::len).max().unwrap_or(0).max(5);
        let _ = write!(out, "{:id_width$}  {:items_width$}", "bin", "items");
        for dim in schema.dims() {
            let _ = write!(out, "  {:>6}", dim.name());
        }
        out.push('\n');
        for (m, items) in self.cluster.machine_ids().zip(&item_lists) {
            let _ = write!(out, "{:id_width$}  {items:items_width$}", self.bin_id(m));
            for (&cap, &free) in self.cluster.capacity(m).iter().zip(self.cluster.free(m)) {
                let cell = if cap == 0 {
                    "-".to_string()
                } else {
                    format!("{}%", (u128::from(cap - free) * 100 / u128::from(cap)))
                };
                let _ = write!(out, "  {cell:>6}");
            }
            out.push('\n');
        }
        let unplaced = self.packing.unplaced();
        if !unplaced.is_empty() {
            let _ = writeln!(out, "\nunplaced ({}):", unplaced.len());
            for &i in &unplaced {
                let i = i as usize;
                let _ = writeln!(
                    out,
                    "  {}  {}  ({})",
                    self.items.ids[i],
                    self.items.describe_row(i),
                    self.unplaced_reason(i)
                );
            }
        }
        let placed = self.items.ids.len() - unplaced.len();
        let _ = writeln!(
            out,
            "\nplaced {placed} of {} items on {} of {} bins; lower bound {} bins (L1 {}, L2 {})",
            self.items.ids.len(),
            self.packing.machines_used(),
            self.bins.ids.len(),
            self.bounds.best(),
            self.bounds.l1,
            self.l2_text()
        );
        out
    }

    fn json(&self) -> Value {
        let schema = &self.bins.schema;
        let amounts = |values: &[u64]| -> Value {
            let mut map = Map::new();
            for (dim, &v) in schema.dims().iter().zip(values) {
                let number: f64 = dim.format(v).parse().unwrap_or(f64::NAN);
                map.insert(dim.name().to_string(), json!(number));
            }
            Value::Object(map)
        };
        let per_bin = self.packing.per_machine(self.bins.ids.len());
        let bins: Vec<Value> = self
            .cluster
            .machine_ids()
            .map(|m| {
                let items: Vec<&str> = per_bin[m.index()]
                    .iter()
                    .map(|&i| self.items.ids[i as usize].as_str())
                    .collect();
                json!({
                    "id": self.bin_id(m),
                    "items": items,
                    "capacity": amounts(self.cluster.capacity(m)),
                    "used": amounts(&self.cluster.used(m)),
                })
            })
            .collect();
        let placements: Vec<Value> = self
            .packing
            .order()
            .iter()
            .filter_map(|&i| {
                self.packing.assignment()[i as usize]
                    .map(|m| json!({"item": self.items.ids[i as usize], "bin": self.bin_id(m)}))
            })
            .collect();
        let unplaced: Vec<Value> = self
            .packing
            .unplaced()
            .iter()
            .map(|&i| json!({"item": self.items.ids[i as usize], "reason": self.unplaced_reason(i as usize)}))
            .collect();
        let weights: Map<String, Value> = schema
            .dims()
            .iter()
            .zip(self.policy.weights().values())
            .filter(|(_, w)| **w != 0.0 && self.policy.kind() != Some(packing::Kind::SatyrFf))
            .map(|(d, w)| (d.name().to_string(), json!(w)))
            .collect();
        json!({
            "policy": self.policy.name(),
            "weights": weights,
            "seed": self.policy.seed(),
            "dimensions": schema.dims().iter().map(packing::Dim::name).collect::<Vec<_>>(),
            "placements": placements,
            "unplaced": unplaced,
            "bins": bins,
            "items_placed": self.items.ids.len() - self.packing.unplaced().len(),
            "bins_used": self.packing.machines_used(),
            "lower_bound": {"best": self.bounds.best(), "l1": self.bounds.l1, "l2": self.bounds.l2},
        })
    }

    fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["item", "bin"]).expect("writing to memory");
        for (i, m) in self.packing.assignment().iter().enumerate() {
            let bin = m.map_or("", |m| self.bin_id(m));
            w.write_record([self.items.ids[i].as_str(), bin])
                .expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
    }
}
