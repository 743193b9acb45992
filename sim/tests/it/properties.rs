//! Determinism and conservation on random workloads, in every model.

use datasets::synthetic::{builtin, generate};
use packing::Policy;
use proptest::collection::vec;
use proptest::prelude::*;
use sim::workload::{dims, schema};
use sim::{
    ArriveOnly, Config, MachineChange, MachineEvent, MachineSpec, Model, Offers, OnMachineLoss, QueueOrder,
    SECOND, TaskSpec, Workload, run, write_series,
};

fn models() -> Vec<Model> {
    vec![
        Model::Global {
            order: QueueOrder::Fifo,
        },
        Model::Global {
            order: QueueOrder::Priority,
        },
        Model::Offers(Offers::default()),
        Model::Offers(Offers {
            head_of_line: true,
            accept_refuse: 0,
            ..Offers::default()
        }),
        Model::ArriveOnly(ArriveOnly::default()),
    ]
}

/// The run rendered as bytes: the summary's debug form and the series CSV.
fn bytes(w: &Workload, policy: &str, model: &Model, seed: u64) -> Vec<u8> {
    let p = Policy::parse(policy, &w.schema).unwrap().with_seed(seed);
    let o = run(
        w,
        &p,
        &Config {
            model: model.clone(),
            seed,
            ..Config::default()
        },
    )
    .unwrap();
    let mut out = format!("{:?}\n", o.summary).into_bytes();
    write_series(&o.schema, &o.series, &mut out).unwrap();
    out
}

#[test]
fn same_inputs_give_byte_identical_outputs() {
    // A small version of each built-in workload, so the test is quick in debug builds.
    for name in ["default", "gpu-sharing"] {
        let mut spec = builtin(name, 3).unwrap();
        spec.tasks = 300;
        for m in &mut spec.machines {
            m.count = m.count.div_ceil(4);
        }
        let w = generate(&spec);
        for model in models() {
            for policy in [
                "best-fit",
                "random",
                "satyr-bfd",
                "dot-product",
                "fgd",
                "fgd-dot",
                "gpu-packing",
                "gpu-clustering",
            ] {
                let a = bytes(&w, policy, &model, 7);
                let b = bytes(&w, policy, &model, 7);
                assert!(a == b, "{name} {} {policy}: two runs differ", model.name());
            }
        }
    }
}

#[test]
fn fgd_measures_fragmentation_against_the_workloads_task_classes() {
    let mut spec = builtin("gpu-sharing", 5).unwrap();
    spec.tasks = 400;
    for m in &mut spec.machines {
        m.count = m.count.div_ceil(4);
    }
    let w = generate(&spec);
    let model = Model::ArriveOnly(sim::ArriveOnly::default());
    let config = Config {
        model,
        seed: 5,
        ..Config::default()
    };
    let fgd = Policy::parse("fgd", &w.schema).unwrap();
    assert!(fgd.needs_target() && fgd.target().is_none());
    // The simulator supplies the workload's classes; with an empty target every placement would
    // change fragmentation by 0 and FGD would degenerate to the lowest id.
    let supplied = run(&w, &fgd, &config).unwrap();
    let blind = run(
        &w,
        &fgd.clone().with_target(packing::frag::TargetWorkload::default()),
        &config,
    )
    .unwrap();
    assert_ne!(supplied.summary.utilisation, blind.summary.utilisation);
    assert_eq!(supplied, run(&w, &fgd, &config).unwrap());
}

fn workload() -> impl Strategy<Value = Workload> {
    let machines = vec((1u64..=16, 1u64..=64), 1..6);
    let tasks = vec(
        (
            0i64..50,
            1u64..=16,
            1u64..=64,
            prop::option::of(1i64..30),
            0i32..3,
            1u32..4,
        ),
        0..40,
    );
    let failures = vec((0i64..60, 0usize..6, any::<bool>()), 0..4);
    (machines, tasks, failures).prop_map(|(machines, tasks, failures)| {
        let machines: Vec<MachineSpec> = machines
            .into_iter()
            .enumerate()
            .map(|(i, (c, m))| MachineSpec {
                name: format!("m{i}"),
                capacity: vec![c * 1000, m * 1024],
                gpus: None,
            })
            .collect();
        let mut tasks: Vec<TaskSpec> = tasks
            .into_iter()
            .enumerate()
            .map(|(i, (at, c, m, d, prio, n))| {
                let mut t = TaskSpec::new(format!("t{i}"), at * SECOND, vec![c * 500, m * 512]);
                t.duration = d.map(|d| d * SECOND);
                t.priority = prio;
                t.instances = n;
                t
            })
            .collect();
        tasks.sort_by_key(|t| t.arrival);
        let n = machines.len();
        let mut events: Vec<MachineEvent> = failures
            .into_iter()
            .map(|(at, m, remove)| {
                let name = format!("m{}", m % n);
                let change = if remove {
                    MachineChange::Remove
                } else {
                    MachineChange::Add(MachineSpec {
                        name: name.clone(),
                        ..machines[m % n].clone()
                    })
                };
                MachineEvent {
                    time: at * SECOND,
                    machine: name,
                    change,
                }
            })
            .collect();
        events.sort_by_key(|e| e.time);
        Workload {
            name: "random".into(),
            schema: schema(&[dims::CPUS, dims::MEM]),
            machines,
            machine_events: events,
            tasks,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_task_is_accounted_for_and_capacity_is_never_exceeded(
        w in workload(),
        policy in prop::sample::select(vec!["first-fit", "best-fit", "worst-fit", "satyr-bfd", "satyr-mr", "kube-least-allocated", "drf", "random", "l2-norm", "fgd", "gpu-packing"]),
        kill in any::<bool>(),
    ) {
        for model in models() {
            if matches!(model, Model::ArriveOnly(_)) && w.tasks.is_empty() {
                continue;
            }
            let p = Policy::parse(policy, &w.schema).unwrap();
            let config = Config {
                model: model.clone(),
                on_machine_loss: if kill { OnMachineLoss::Kill } else { OnMachineLoss::Requeue },
                sample_interval: Some(SECOND),
                ..Config::default()
            };
            let o = run(&w, &p, &config).unwrap();
            let s = &o.summary;
            prop_assert_eq!(s.arrived, s.finished + s.failed + s.running + s.unplaced, "{} {}: {:?}", model.name(), policy, s);
            if !matches!(model, Model::ArriveOnly(_)) {
                let instances: u64 = w.tasks.iter().map(|t| u64::from(t.instances)).sum();
                prop_assert_eq!(s.arrived, instances);
            }
            for sample in &o.series {
                prop_assert!(sample.allocated.iter().zip(&sample.capacity).all(|(a, c)| a <= c), "{:?}", sample);
                prop_assert!(sample.running + sample.pending <= sample.arrived);
            }
            // Without failures and with durations on every task, everything that was placed ends.
            if w.machine_events.is_empty() && w.tasks.iter().all(|t| t.duration.is_some()) && s.unplaced == 0
                && !matches!(model, Model::ArriveOnly(_))
            {
                prop_assert_eq!(s.finished, s.arrived);
                prop_assert_eq!(o.series.last().unwrap().allocated.clone(), vec![0, 0]);
            }
        }
    }
}
