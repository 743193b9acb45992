//! One snapshot, three drivers: the same machines and tasks, placed by `packsim pack`, by the
//! simulator's offer model and by the live adapter's offer placement, give the same placements
//! for every built-in policy (and a weighted sum). The invariant "one decision path" of
//! ARCHITECTURE.md, checked end to end.

use std::collections::BTreeMap;

use packing::hash::SplitMix64;
use packing::{Kind, Policy};
use proto::v1::{AgentId, FrameworkId, Offer, OfferId, Resource, value};
use sim::{Config, MachineSpec, Model, Observer, Offers, Started, TaskSpec, Workload};

use super::{packsim, stderr, stdout};

/// A snapshot: machines (cpus in milli-cores, mem in MiB) and tasks, all in one batch.
struct Snapshot {
    machines: Vec<(u64, u64)>,
    tasks: Vec<(u64, u64)>,
}

fn snapshot(seed: u64) -> Snapshot {
    let mut rng = SplitMix64::new(seed);
    // Mixed machine sizes and tasks that overfill them, so that policies disagree and some tasks
    // stay unplaced.
    let machines = (0..12)
        .map(|_| (1000 * (4 + rng.below(29)), 1024 * (4 + rng.below(60))))
        .collect();
    let tasks = (0..60)
        .map(|_| (250 * (1 + rng.below(24)), 256 * (1 + rng.below(40))))
        .collect();
    Snapshot { machines, tasks }
}

/// `packsim pack` on the snapshot: the machine index of each task.
fn by_pack(s: &Snapshot, policy: &str, dir: &std::path::Path) -> Vec<Option<usize>> {
    let bins = dir.join("bins.csv");
    let items = dir.join("items.csv");
    let mut text = String::from("id,cpus,mem\n");
    for (i, (c, m)) in s.machines.iter().enumerate() {
        text += &format!("M{i},{}.{:03},{m}\n", c / 1000, c % 1000);
    }
    std::fs::write(&bins, text).unwrap();
    let mut text = String::from("id,cpus,mem\n");
    for (i, (c, m)) in s.tasks.iter().enumerate() {
        text += &format!("T{i},{}.{:03},{m}\n", c / 1000, c % 1000);
    }
    std::fs::write(&items, text).unwrap();
    let o = packsim(&[
        "pack",
        "-p",
        policy,
        "--seed",
        "7",
        "-b",
        bins.to_str().unwrap(),
        "-i",
        items.to_str().unwrap(),
        "-f",
        "csv",
    ]);
    assert!(o.status.success(), "{policy}: {}", stderr(&o));
    stdout(&o)
        .lines()
        .skip(1)
        .map(|l| {
            let bin = l.split(',').nth(1).unwrap();
            (!bin.is_empty()).then(|| bin[1..].parse().unwrap())
        })
        .collect()
}

/// Starts at time 0, by task.
#[derive(Default)]
struct Starts(BTreeMap<u64, usize>);

impl Observer for Starts {
    fn started(&mut self, s: Started) {
        if s.time == 0 {
            self.0.insert(s.task, s.machine.index());
        }
    }
}

/// The simulator's offer model: every task arrives at 0 and never ends; the first allocation
/// round offers every machine and packs the queue into the offers.
fn by_offer_model(s: &Snapshot, spec: &str) -> Vec<Option<usize>> {
    let schema = sim::workload::schema(&["cpus", "mem"]);
    let workload = Workload {
        name: "snapshot".into(),
        schema: schema.clone(),
        machines: s
            .machines
            .iter()
            .enumerate()
            .map(|(i, &(c, m))| MachineSpec {
                name: format!("M{i}"),
                capacity: vec![c, m],
                gpus: None,
            })
            .collect(),
        tasks: s
            .tasks
            .iter()
            .enumerate()
            .map(|(i, &(c, m))| TaskSpec::new(format!("T{i}"), 0, vec![c, m]))
            .collect(),
        machine_events: Vec::new(),
    };
    let policy = Policy::parse(spec, &schema).unwrap().with_seed(7);
    let config = Config {
        model: Model::Offers(Offers::default()),
        ..Config::default()
    };
    let mut starts = Starts::default();
    sim::run_observed(&workload, &policy, &config, &mut starts).unwrap();
    (0..s.tasks.len() as u64)
        .map(|t| starts.0.get(&t).copied())
        .collect()
}

fn scalar(name: &str, v: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        ..Resource::default()
    }
}

/// The live adapter: one Mesos offer per machine, grouped into bins and placed by
/// `live::offers::place`, as the protocol core does with a batch of real offers.
fn by_live(s: &Snapshot, spec: &str) -> Vec<Option<usize>> {
    let offers: Vec<Offer> = s
        .machines
        .iter()
        .enumerate()
        .map(|(i, &(c, m))| Offer {
            id: OfferId {
                value: format!("O{i}"),
            },
            framework_id: FrameworkId { value: "F".into() },
            agent_id: AgentId {
                value: format!("A{i}"),
            },
            hostname: format!("h{i}"),
            resources: vec![scalar("cpus", c as f64 / 1000.0), scalar("mem", m as f64)],
            ..Offer::default()
        })
        .collect();
    let schema = live::tasks::schema();
    let bins = live::offers::bins(&offers, &schema);
    let policy = Policy::parse(spec, &schema).unwrap().with_seed(7);
    let demands: Vec<Vec<u64>> = s.tasks.iter().map(|&(c, m)| vec![c, 1000 * m, 0, 0, 0]).collect();
    live::offers::place(&policy, &bins, |b| b.free.clone(), &demands).unwrap()
}

#[test]
fn one_snapshot_gives_the_same_placements_in_pack_the_offer_model_and_the_live_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let mut specs: Vec<String> = Kind::all().into_iter().map(Kind::name).collect();
    specs.push("kube-least-allocated*1+kube-balanced-allocation*2".into());
    let mut families = std::collections::BTreeSet::new();
    for seed in [1, 2] {
        let s = snapshot(seed);
        for spec in &specs {
            let pack = by_pack(&s, spec, dir.path());
            assert!(pack.iter().any(Option::is_some), "{spec}: nothing placed");
            assert_eq!(
                by_offer_model(&s, spec),
                pack,
                "{spec}, snapshot {seed}: offer model against pack"
            );
            assert_eq!(
                by_live(&s, spec),
                pack,
                "{spec}, snapshot {seed}: live adapter against pack"
            );
            if let Some(kind) = Kind::from_name(spec) {
                families.insert(format!("{:?}", kind.family()));
            }
        }
    }
    // Every family took part.
    assert_eq!(families.len(), 6, "{families:?}");
}
