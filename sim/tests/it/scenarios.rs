//! Small hand-built scenarios, one per behaviour, with the outcome worked out by hand.

use packing::Policy;
use sim::workload::{dims, schema};
use sim::{
    ArriveOnly, Config, GpuDemand, GpuInventory, MachineChange, MachineEvent, MachineSpec, Model, Offers,
    OnMachineLoss, Outcome, QueueOrder, SECOND, TaskSpec, Workload, run,
};

fn machine(name: &str, capacity: &[u64]) -> MachineSpec {
    MachineSpec {
        name: name.into(),
        capacity: capacity.to_vec(),
        gpus: None,
    }
}

fn task(name: &str, arrival_s: i64, demand: &[u64], duration_s: Option<i64>) -> TaskSpec {
    let mut t = TaskSpec::new(name, arrival_s * SECOND, demand.to_vec());
    t.duration = duration_s.map(|d| d * SECOND);
    t
}

fn cpu_workload(machines: Vec<MachineSpec>, tasks: Vec<TaskSpec>) -> Workload {
    Workload {
        name: "test".into(),
        schema: schema(&[dims::CPUS]),
        machines,
        machine_events: vec![],
        tasks,
    }
}

fn run_with(w: &Workload, policy: &str, model: Model) -> Outcome {
    let p = Policy::parse(policy, &w.schema).unwrap();
    run(
        w,
        &p,
        &Config {
            model,
            sample_interval: Some(SECOND),
            ..Config::default()
        },
    )
    .unwrap()
}

fn global() -> Model {
    Model::Global {
        order: QueueOrder::Fifo,
    }
}

/// Conservation: every task ends finished, failed, running or unplaced.
fn conserved(o: &Outcome) {
    let s = &o.summary;
    assert_eq!(s.arrived, s.finished + s.failed + s.running + s.unplaced, "{s:?}");
    for sample in &o.series {
        assert!(
            sample.allocated.iter().zip(&sample.capacity).all(|(a, c)| a <= c),
            "{sample:?}"
        );
    }
}

#[test]
fn global_model_queues_until_resources_free_up() {
    // One 10-core machine; A (6 cores, 10 s) at 0; B (6 cores, 10 s) at 1 s waits for A to end.
    let w = cpu_workload(
        vec![machine("m", &[10_000])],
        vec![task("a", 0, &[6000], Some(10)), task("b", 1, &[6000], Some(10))],
    );
    let o = run_with(&w, "first-fit", global());
    conserved(&o);
    let s = &o.summary;
    assert_eq!((s.finished, s.unplaced), (2, 0));
    let wait = s.wait.unwrap();
    assert_eq!((wait.max, wait.mean), (9.0, 4.5));
    assert_eq!(s.makespan, Some(20.0));
}

#[test]
fn priority_order_lets_urgent_tasks_jump_the_queue() {
    // The machine is busy until 10 s; low (t=1) and high (t=2) both wait; with priority order the
    // high-priority task goes first.
    let mut high = task("high", 2, &[8000], Some(5));
    high.priority = 9;
    let tasks = vec![
        task("busy", 0, &[8000], Some(10)),
        task("low", 1, &[8000], Some(5)),
        high,
    ];
    let w = cpu_workload(vec![machine("m", &[10_000])], tasks);
    let fifo = run_with(&w, "first-fit", global());
    let prio = run_with(
        &w,
        "first-fit",
        Model::Global {
            order: QueueOrder::Priority,
        },
    );
    // FIFO: low waits 9 s, high 13 s. Priority: high waits 8 s, low 14 s. Same mean either way.
    assert_eq!(fifo.summary.wait.unwrap().max, 13.0);
    assert_eq!(prio.summary.wait.unwrap().max, 14.0);
    assert_eq!(fifo.summary.makespan, Some(20.0));
}

#[test]
fn tasks_without_duration_never_leave_and_oversized_tasks_stay_unplaced() {
    let w = cpu_workload(
        vec![machine("m", &[4000])],
        vec![
            task("forever", 0, &[3000], None),
            task("huge", 1, &[5000], Some(1)),
            task("small", 2, &[2000], Some(1)),
        ],
    );
    let o = run_with(&w, "best-fit", global());
    conserved(&o);
    let s = &o.summary;
    assert_eq!(
        (s.running, s.unplaced, s.finished),
        (1, 2, 0),
        "small cannot fit next to forever"
    );
}

#[test]
fn anti_affinity_spreads_a_group() {
    let mut tasks = Vec::new();
    for i in 0..3 {
        let mut t = task(&format!("r{i}"), 0, &[1000], None);
        t.group = Some("svc".into());
        t.max_per_machine = Some(1);
        tasks.push(t);
    }
    let w = cpu_workload(vec![machine("a", &[8000]), machine("b", &[8000])], tasks);
    let o = run_with(&w, "first-fit", global());
    // Two machines, at most one replica each: the third waits forever.
    assert_eq!((o.summary.running, o.summary.unplaced), (2, 1));
    assert_eq!(o.series.last().unwrap().machines_used, 2);
}

#[test]
fn gpu_models_and_devices_constrain_placement() {
    let s = schema(&[dims::CPUS, dims::GPUS]);
    let gpu = |name: &str, model: &str, n: u32| MachineSpec {
        name: name.into(),
        capacity: vec![32_000, 1000 * u64::from(n)],
        gpus: Some(GpuInventory {
            count: n,
            model: model.into(),
        }),
    };
    let mut picky = TaskSpec::new("picky", 0, vec![1000, 1000]);
    picky.gpu = GpuDemand::Whole(1);
    picky.gpu_models = vec!["T4".into()];
    let mut share_a = TaskSpec::new("share-a", SECOND, vec![1000, 600]);
    share_a.gpu = GpuDemand::Share(600);
    let mut share_b = share_a.clone();
    share_b.name = "share-b".into();
    share_b.arrival = 2 * SECOND;
    let w = Workload {
        name: "gpu".into(),
        schema: s,
        machines: vec![gpu("v100", "V100", 1), gpu("t4", "T4", 2)],
        machine_events: vec![],
        tasks: vec![picky, share_a, share_b],
    };
    let o = run_with(&w, "first-fit", global());
    conserved(&o);
    // picky takes a whole T4 (device 0 of `t4`); share-a goes to the V100; share-b cannot share the
    // V100 (400 left) and takes the second T4.
    assert_eq!((o.summary.running, o.summary.unplaced), (3, 0));
    let last = o.series.last().unwrap();
    assert_eq!(last.allocated, vec![3000, 2200]);
    assert_eq!(last.machines_used, 2);
}

#[test]
fn lost_machines_kill_or_requeue_their_tasks() {
    let tasks = vec![task("t", 0, &[4000], Some(100))];
    let machines = vec![machine("a", &[8000]), machine("b", &[8000])];
    let events = vec![MachineEvent {
        time: 10 * SECOND,
        machine: "a".into(),
        change: MachineChange::Remove,
    }];
    let w = Workload {
        machine_events: events,
        ..cpu_workload(machines, tasks)
    };
    let p = Policy::parse("first-fit", &w.schema).unwrap();
    let requeue = run(
        &w,
        &p,
        &Config {
            model: global(),
            ..Config::default()
        },
    )
    .unwrap();
    conserved(&requeue);
    // Requeued at 10 s onto machine b, where it runs its full 100 s again.
    assert_eq!(
        (
            requeue.summary.finished,
            requeue.summary.requeued,
            requeue.summary.failed
        ),
        (1, 1, 0)
    );
    assert_eq!(requeue.summary.makespan, Some(110.0));
    let kill = run(
        &w,
        &p,
        &Config {
            model: global(),
            on_machine_loss: OnMachineLoss::Kill,
            ..Config::default()
        },
    )
    .unwrap();
    conserved(&kill);
    assert_eq!((kill.summary.finished, kill.summary.failed), (0, 1));
    // Out of retries: with max_retries 0 a requeue is a failure.
    let strict = run(
        &w,
        &p,
        &Config {
            model: global(),
            max_retries: 0,
            ..Config::default()
        },
    )
    .unwrap();
    assert_eq!((strict.summary.failed, strict.summary.requeued), (1, 0));
}

#[test]
fn machines_added_later_take_the_queue() {
    let tasks = vec![task("t", 0, &[4000], Some(5))];
    let events = vec![MachineEvent {
        time: 30 * SECOND,
        machine: "late".into(),
        change: MachineChange::Add(machine("late", &[8000])),
    }];
    let w = Workload {
        machine_events: events,
        ..cpu_workload(vec![machine("tiny", &[1000])], tasks)
    };
    let o = run_with(&w, "first-fit", global());
    assert_eq!(o.summary.wait.unwrap().max, 30.0);
    assert_eq!(o.summary.finished, 1);
}

#[test]
fn capacity_updates_evict_the_newest_tasks() {
    let tasks = vec![
        task("old", 0, &[3000], Some(100)),
        task("new", 1, &[3000], Some(100)),
    ];
    let events = vec![MachineEvent {
        time: 5 * SECOND,
        machine: "m".into(),
        change: MachineChange::Update(vec![4000]),
    }];
    let w = Workload {
        machine_events: events,
        ..cpu_workload(vec![machine("m", &[8000])], tasks)
    };
    let o = run_with(&w, "first-fit", global());
    conserved(&o);
    // `new` is evicted and requeued; it fits again only when `old` ends at 100 s.
    assert_eq!(o.summary.requeued, 1);
    assert_eq!(o.summary.makespan, Some(200.0));
}

fn offers(decline: i64, accept: i64, head_of_line: bool) -> Model {
    Model::Offers(Offers {
        interval: SECOND,
        decline_refuse: decline * SECOND,
        accept_refuse: accept * SECOND,
        head_of_line,
        order: QueueOrder::Fifo,
    })
}

#[test]
fn offers_come_every_allocation_interval() {
    // A task arriving at 0.5 s is launched at the 1 s allocation.
    let mut t = task("t", 0, &[1000], Some(10));
    t.arrival = SECOND / 2;
    let w = cpu_workload(vec![machine("m", &[4000])], vec![t]);
    let o = run_with(&w, "first-fit", offers(5, 5, false));
    assert_eq!(o.summary.wait.unwrap().max, 0.5);
}

#[test]
fn declined_offers_are_refused_until_their_filter_expires() {
    // a (1 core) arrives at 0.5 s and is launched on `small` at the 1 s allocation; `big` gets no
    // task and is declined. b (5 cores) arrives at 1.5 s.
    let mut a = task("a", 0, &[1000], Some(100));
    a.arrival = SECOND / 2;
    let mut b = task("b", 0, &[5000], Some(10));
    b.arrival = 3 * SECOND / 2;
    let w = cpu_workload(
        vec![machine("small", &[2000]), machine("big", &[10_000])],
        vec![a, b],
    );
    let max_wait = |decline: i64, accept: i64| {
        run_with(&w, "first-fit", offers(decline, accept, false))
            .summary
            .wait
            .unwrap()
            .max
    };
    // Both refusals 5 s: `small`'s remainder (accept) and `big` (decline) are filtered until 6 s,
    // so b launches at the 6 s allocation: it waited 4.5 s.
    assert_eq!(max_wait(5, 5), 4.5);
    // No refusals: b launches on `big` at the 2 s allocation.
    assert_eq!(max_wait(0, 0), 0.5);
    // Only the decline refusal: `big` stays filtered until 6 s; `small` is offered at 2 s but its
    // 1 free core does not fit b.
    assert_eq!(max_wait(5, 0), 4.5);
    // Only the accept refusal: `big` was declined with no filter and is offered at 2 s.
    assert_eq!(max_wait(0, 5), 0.5);
}

#[test]
fn freed_resources_are_offered_despite_a_filter() {
    // a (3 of m's 4 cores) launches at the 0 s allocation; the 1-core remainder is refused for 60 s.
    // b (2 cores) arrives at 1 s and sees no offer. a ends at 2 s: m's free 4 cores are not ⊆ the
    // refused 1 core, so m is offered again at the 2 s allocation.
    let mut b = task("b", 0, &[2000], Some(1));
    b.arrival = SECOND;
    let w = cpu_workload(
        vec![machine("m", &[4000])],
        vec![task("a", 0, &[3000], Some(2)), b],
    );
    let o = run_with(&w, "first-fit", offers(60, 60, false));
    assert_eq!(o.summary.wait.unwrap().max, 1.0);
    assert_eq!(o.summary.makespan, Some(3.0));
}

#[test]
fn head_of_line_blocking_holds_back_the_queue() {
    // hog (3 of 4 cores, 100 s) launches at 0 s. At the 1 s allocation big (4 cores) fits no offer;
    // small (1 core) would.
    let tasks = vec![
        task("hog", 0, &[3000], Some(100)),
        task("big", 1, &[4000], Some(1)),
        task("small", 1, &[1000], Some(1)),
    ];
    let w = cpu_workload(vec![machine("m", &[4000])], tasks);
    let free = run_with(&w, "first-fit", offers(0, 0, false))
        .summary
        .wait
        .unwrap();
    let hol = run_with(&w, "first-fit", offers(0, 0, true))
        .summary
        .wait
        .unwrap();
    // Without head-of-line blocking: small goes at 1 s (wait 0), big when hog ends (wait 99).
    assert_eq!((free.max, free.mean), (99.0, 33.0));
    assert_eq!(free.p50, 0.0);
    // With it: small waits behind big, which runs from 100 s to 101 s (wait 100).
    assert_eq!(hol.max, 100.0);
    assert!((hol.mean - 199.0 / 3.0).abs() < 1e-9, "{hol:?}");
}

#[test]
fn satyr_packs_each_offer_batch_in_its_sorted_order() {
    // Both tasks arrive for the 0 s allocation. satyr-ffd weighs the batch (l: 3/4 + 1/2 = 1.25,
    // s: 1/4 + 1/2 = 0.75) and places l first, so both fit.
    let tasks = vec![task("s", 0, &[1000], Some(5)), task("l", 0, &[3000], Some(5))];
    let s = schema(&[dims::CPUS, dims::MEM]);
    let w = Workload {
        name: "satyr".into(),
        schema: s,
        machines: vec![machine("o0", &[3000, 1000]), machine("o1", &[1000, 1000])],
        machine_events: vec![],
        tasks: tasks
            .into_iter()
            .map(|mut t| {
                t.demand.push(100);
                t
            })
            .collect(),
    };
    let o = run_with(&w, "satyr-ffd", offers(5, 5, false));
    conserved(&o);
    // l (3 cores) onto o0, then s onto o1: both at the first allocation.
    assert_eq!((o.summary.finished, o.summary.wait.unwrap().max), (2, 0.0));
    let first_fit_in_order = run_with(&w, "satyr-ff", offers(5, 5, false));
    // In input order s takes o0 first, and l fits nowhere until s ends at 5 s (when the accept's
    // 5 s filter on o0's remainder has also expired).
    assert_eq!(first_fit_in_order.summary.wait.unwrap().max, 5.0);
}

#[test]
fn arrive_only_samples_to_the_target_and_never_departs() {
    let tasks: Vec<TaskSpec> = (0..10)
        .map(|i| task(&format!("t{i}"), i, &[(i as u64 % 4 + 1) * 1000], Some(1)))
        .collect();
    let w = cpu_workload(vec![machine("a", &[8000]), machine("b", &[8000])], tasks);
    let model = Model::ArriveOnly(ArriveOnly {
        target: 1.3,
        dimension: None,
    });
    let o = run_with(&w, "best-fit", model.clone());
    let s = &o.summary;
    assert!(s.arrived_pct.unwrap() >= 130.0);
    assert_eq!(s.placed + s.failed, s.arrived);
    assert_eq!(s.finished, 0, "nothing departs");
    // One sample per percent of arrived demand up to 130, plus the first and the last.
    assert!(o.series.len() >= 131, "{}", o.series.len());
    let pct: Vec<f64> = o.series.iter().map(|x| x.arrived_pct.unwrap()).collect();
    assert!(pct.windows(2).all(|p| p[0] <= p[1]));
    let alloc: Vec<u64> = o.series.iter().map(|x| x.allocated[0]).collect();
    assert!(
        alloc.windows(2).all(|a| a[0] <= a[1]),
        "allocation never goes down"
    );
    // Another seed samples another sequence.
    let p = Policy::parse("best-fit", &w.schema).unwrap();
    let other = run(
        &w,
        &p,
        &Config {
            model,
            seed: 9,
            ..Config::default()
        },
    )
    .unwrap();
    assert_ne!(other.series, o.series);
}

#[test]
fn bad_workloads_are_errors_naming_the_task_or_machine() {
    let p = Policy::parse("first-fit", &schema(&[dims::CPUS])).unwrap();
    let bad_task = cpu_workload(vec![machine("m", &[1000])], vec![task("oops", 0, &[1, 2], None)]);
    let e = run(&bad_task, &p, &Config::default()).unwrap_err().to_string();
    assert_eq!(e, "task `oops`: 2 demands for the 1 dimensions cpus");
    let bad_machine = cpu_workload(vec![machine("m", &[1000, 5])], vec![]);
    let e = run(&bad_machine, &p, &Config::default()).unwrap_err().to_string();
    assert_eq!(e, "machine `m`: 2 capacities for the 1 dimensions cpus");
    let other_schema = Policy::parse("first-fit", &schema(&[dims::CPUS, dims::MEM])).unwrap();
    let ok = cpu_workload(vec![machine("m", &[1000])], vec![]);
    assert!(run(&ok, &other_schema, &Config::default()).is_err());
}

#[test]
fn an_offer_queue_nothing_fits_ends_the_run_instead_of_spinning() {
    // `huge` fits no machine ever; refusal filters would renew forever if the framework kept
    // declining. The run ends once nothing else can happen.
    let w = cpu_workload(
        vec![machine("m", &[4000])],
        vec![
            task("small", 0, &[1000], Some(10)),
            task("huge", 1, &[8000], Some(1)),
        ],
    );
    let o = run_with(&w, "first-fit", offers(5, 5, false));
    assert_eq!((o.summary.finished, o.summary.unplaced), (1, 1));
    assert!(o.summary.events < 100, "{} events", o.summary.events);
    assert!(o.series.len() < 100, "{} samples", o.series.len());
}

#[test]
fn peak_machines_counts_states_between_samples() {
    // Two 10-core machines, samples every 10 s. A (6 cores) runs 0–100 s on m0; B (6 cores) needs
    // m1 from 12 s to 15 s, between two samples. The peak is 2 machines, not the sampled 1.
    let w = cpu_workload(
        vec![machine("m0", &[10_000]), machine("m1", &[10_000])],
        vec![task("a", 0, &[6000], Some(100)), task("b", 12, &[6000], Some(3))],
    );
    let p = Policy::parse("first-fit", &w.schema).unwrap();
    let config = Config {
        model: global(),
        sample_interval: Some(10 * SECOND),
        ..Config::default()
    };
    let o = run(&w, &p, &config).unwrap();
    assert!(
        o.series.iter().all(|s| s.machines_used <= 1),
        "no sample sees m1 in use"
    );
    assert_eq!(o.summary.peak_machines_used, 2);
}
