//! Task graphs: hand-worked scenarios (every number derived in a comment), determinism, and the
//! property that no task starts before its parents finished, in every model.

use std::collections::HashMap;

use packing::Policy;
use proptest::collection::vec;
use proptest::prelude::*;
use sim::workload::{dims, schema};
use sim::{
    After, ArriveOnly, Config, MachineChange, MachineEvent, MachineSpec, Model, Observer, Offers,
    OnMachineLoss, Outcome, QueueOrder, SECOND, Started, TaskSpec, Workload, run, run_observed, write_jobs,
    write_series,
};

fn machine(name: &str, cpus: u64) -> MachineSpec {
    MachineSpec {
        name: name.into(),
        capacity: vec![cpus * 1000],
        gpus: None,
    }
}

/// A task of job `j` arriving at 0 with `cpus` cores for `secs` seconds, after `parents` (indices).
fn node(name: &str, cpus: u64, secs: i64, parents: &[u32]) -> TaskSpec {
    let mut t = TaskSpec::new(name, 0, vec![cpus * 1000]);
    t.duration = Some(secs * SECOND);
    t.job = Some("j".into());
    t.after = parents.iter().map(|&p| After { task: p, delay: 0 }).collect();
    t
}

fn workload(machines: Vec<MachineSpec>, tasks: Vec<TaskSpec>) -> Workload {
    Workload {
        name: "graph".into(),
        schema: schema(&[dims::CPUS]),
        machines,
        machine_events: vec![],
        tasks,
    }
}

fn global() -> Model {
    Model::Global {
        order: QueueOrder::Fifo,
    }
}

fn config(model: Model) -> Config {
    Config {
        model,
        sample_interval: Some(SECOND),
        ..Config::default()
    }
}

/// Every start: (task position, time).
#[derive(Default)]
struct Starts(Vec<(u64, i64)>);

impl Observer for Starts {
    fn started(&mut self, s: Started) {
        self.0.push((s.task, s.time));
    }
}

fn run_starts(w: &Workload, policy: &str, model: Model) -> (Outcome, Vec<(u64, i64)>) {
    let p = Policy::parse(policy, &w.schema).unwrap();
    let mut starts = Starts::default();
    let o = run_observed(w, &p, &config(model), &mut starts).unwrap();
    (o, starts.0)
}

/// A diamond A → {B, C} → D of 10, 20, 30 and 5 seconds.
fn diamond(cpus_each: u64) -> Vec<TaskSpec> {
    vec![
        node("A", cpus_each, 10, &[]),
        node("B", cpus_each, 20, &[0]),
        node("C", cpus_each, 30, &[0]),
        node("D", cpus_each, 5, &[1, 2]),
    ]
}

#[test]
fn a_diamond_with_room_takes_its_critical_path() {
    // One 4-core machine, 2 cores a task: B and C run side by side. A 0–10; B 10–30 and C 10–40;
    // D waits for C: 40–45. Critical path A + C + D = 10 + 30 + 5 = 45 s = the completion time.
    let w = workload(vec![machine("m", 4)], diamond(2));
    let (o, starts) = run_starts(&w, "first-fit", global());
    assert_eq!(
        starts,
        vec![(0, 0), (1, 10 * SECOND), (2, 10 * SECOND), (3, 40 * SECOND)]
    );
    let job = &o.jobs[0];
    assert_eq!(job.bound, Some(45 * SECOND));
    assert_eq!(job.completion, Some(45 * SECOND));
    assert_eq!(job.slowdown(), Some(1.0));
    let s = &o.summary;
    assert_eq!((s.finished, s.held, s.cancelled), (4, 0, 0));
    let j = s.jobs.as_ref().unwrap();
    assert_eq!((j.jobs, j.completed, j.failed), (1, 1, 0));
    assert_eq!(j.completion.unwrap().mean, 45.0);
    // The makespan of the job: first start 0 to last end 45.
    assert_eq!(j.makespan_mean, Some(45.0));
}

#[test]
fn a_diamond_without_room_runs_one_task_at_a_time() {
    // Each task takes the whole machine: A 0–10; B and C released at 10, B first (released
    // first, lower position): B 10–30, C 30–60, D 60–65. Completion 65 s over the 45 s bound.
    let w = workload(vec![machine("m", 4)], diamond(4));
    let (o, starts) = run_starts(&w, "first-fit", global());
    assert_eq!(
        starts,
        vec![(0, 0), (1, 10 * SECOND), (2, 30 * SECOND), (3, 60 * SECOND)]
    );
    let job = &o.jobs[0];
    assert_eq!(
        (job.completion, job.bound),
        (Some(65 * SECOND), Some(45 * SECOND))
    );
    assert_eq!(job.slowdown(), Some(65.0 / 45.0));
    // While B runs, C is queued (pending), D is held: the series shows 1 held task at 15 s.
    let at15 = o.series.iter().find(|s| s.time == 15 * SECOND).unwrap();
    assert_eq!(
        (at15.running, at15.pending, at15.held, at15.jobs_running),
        (1, 1, 1, 1)
    );
    let end = o.series.last().unwrap();
    assert_eq!((end.held, end.jobs_running), (0, 0));
}

#[test]
fn a_failed_parent_cancels_its_subtree() {
    // m0 (1 core) is removed at 5 s and its tasks killed. A (1 core, 100 s) runs there from 0;
    // B waits for A, C for B, both arriving at 0 and held; E waits for C and arrives at 60 s,
    // after the cancellation; F (m1, independent) runs 0–10.
    // At 5 s: A fails; B and C are cancelled (2 held tasks); at 60 s E arrives cancelled.
    // failed = A + B + C + E = 4, cancelled = 3, finished = F = 1.
    let mut tasks = vec![
        node("A", 1, 100, &[]),
        node("B", 1, 1, &[0]),
        node("C", 1, 1, &[1]),
        node("F", 1, 10, &[]),
        node("E", 1, 1, &[2]),
    ];
    tasks[4].arrival = 60 * SECOND;
    tasks[3].job = Some("other".into());
    let mut w = workload(vec![machine("m0", 1), machine("m1", 1)], tasks);
    w.machine_events = vec![MachineEvent {
        time: 5 * SECOND,
        machine: "m0".into(),
        change: MachineChange::Remove,
    }];
    let p = Policy::parse("first-fit", &w.schema).unwrap();
    let c = Config {
        on_machine_loss: OnMachineLoss::Kill,
        ..config(global())
    };
    let o = run(&w, &p, &c).unwrap();
    let s = &o.summary;
    assert_eq!(
        (s.arrived, s.finished, s.failed, s.cancelled, s.held),
        (5, 1, 4, 3, 0),
        "{s:?}"
    );
    let j = s.jobs.as_ref().unwrap();
    assert_eq!((j.jobs, j.completed, j.failed), (2, 1, 1));
    assert!(o.jobs[0].failed && o.jobs[0].completion.is_none());
    assert_eq!(o.jobs[1].completion, Some(10 * SECOND));
}

#[test]
fn a_many_instance_parent_releases_its_child_after_its_last_instance() {
    // A: 3 instances of 2 cores for 10 s on one 4-core machine: two run 0–10, the third 10–20.
    // B waits for A with a 5 s delay: released at 20 + 5 = 25, not at 10 + 5.
    let mut tasks = vec![node("A", 2, 10, &[]), node("B", 1, 1, &[0])];
    tasks[0].instances = 3;
    tasks[1].after[0].delay = 5 * SECOND;
    let w = workload(vec![machine("m", 4)], tasks);
    for model in [global(), Model::Offers(Offers::default())] {
        let (o, starts) = run_starts(&w, "first-fit", model.clone());
        let b: Vec<i64> = starts.iter().filter(|s| s.0 == 1).map(|s| s.1).collect();
        assert_eq!(b.len(), 1, "{}", model.name());
        // The offer model places at its next allocation tick, no earlier.
        assert!(b[0] >= 25 * SECOND, "{}: B at {}", model.name(), b[0]);
        if model == global() {
            assert_eq!(b[0], 25 * SECOND);
            // Bound: A's three instances ignore capacity (10 s) + 5 s + B's 1 s = 16 s;
            // completion 26 s.
            assert_eq!(
                (o.jobs[0].bound, o.jobs[0].completion),
                (Some(16 * SECOND), Some(26 * SECOND))
            );
        }
    }
}

#[test]
fn a_task_whose_parent_never_ends_stays_held() {
    // A has no duration: B is held to the end, counted as held, not unplaced.
    let mut tasks = vec![node("A", 1, 1, &[]), node("B", 1, 1, &[0])];
    tasks[0].duration = None;
    let w = workload(vec![machine("m", 4)], tasks);
    let (o, _) = run_starts(&w, "first-fit", global());
    let s = &o.summary;
    assert_eq!((s.running, s.held, s.unplaced), (1, 1, 0));
    assert_eq!(o.jobs[0].bound, None);
}

#[test]
fn cycles_and_unknown_parents_are_refused_naming_the_task() {
    let p = |w: &Workload| Policy::parse("first-fit", &w.schema).unwrap();
    let w = workload(
        vec![machine("m", 4)],
        vec![
            node("a", 1, 1, &[2]),
            node("b", 1, 1, &[0]),
            node("c", 1, 1, &[1]),
        ],
    );
    let e = run(&w, &p(&w), &config(global())).unwrap_err().to_string();
    assert!(
        e.contains("dependency cycle") && e.contains("a waits for c waits for b waits for a"),
        "{e}"
    );
    let w = workload(vec![machine("m", 4)], vec![node("a", 1, 1, &[7])]);
    let e = run(&w, &p(&w), &config(global())).unwrap_err().to_string();
    assert!(e.contains("`a`") && e.contains("task #7"), "{e}");
}

#[test]
fn a_streamed_workload_with_dependencies_is_refused_naming_the_task() {
    let w = workload(vec![machine("m", 4)], Vec::new());
    let tasks = vec![node("a", 1, 1, &[]), node("b", 1, 1, &[0])];
    let p = Policy::parse("first-fit", &w.schema).unwrap();
    let e = sim::run_stream(&w, tasks.into_iter(), &p, &config(global()), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("`b`") && e.contains("streamed workload cannot"), "{e}");
}

#[test]
fn arrive_only_samples_only_the_roots() {
    // The children ask for 1000 cores: had one been sampled, the arrived demand would have jumped
    // past 1000 / 64 = 1562% of capacity. Sampling roots of 1 core up to the default 130% target
    // stops at 84 tasks (84 / 64 = 131.25%), 64 placed and 20 failed for want of room.
    let mut tasks = vec![node("A", 1, 1, &[])];
    for i in 0..5 {
        tasks.push(node(&format!("c{i}"), 1000, 1, &[0]));
    }
    let w = workload(vec![machine("m", 64)], tasks);
    let (o, _) = run_starts(&w, "first-fit", Model::ArriveOnly(ArriveOnly::default()));
    let s = &o.summary;
    assert_eq!(
        (s.arrived, s.placed, s.failed, s.arrived_pct),
        (84, 64, 20, Some(131.25)),
        "{s:?}"
    );
}

#[test]
fn sorting_a_workload_keeps_its_edges() {
    // B (index 0, arrives at 5) waits for A (index 1, arrives at 0): after sorting A is 0, B is 1.
    let mut b = node("B", 1, 1, &[1]);
    b.arrival = 5 * SECOND;
    let mut w = workload(vec![machine("m", 4)], vec![b, node("A", 1, 1, &[])]);
    w.sort();
    assert_eq!(w.tasks[1].name, "B");
    assert_eq!(w.tasks[1].after, vec![After { task: 0, delay: 0 }]);
}

/// A random layered graph: each task's parents among the tasks before it.
fn graph_workload() -> impl Strategy<Value = Workload> {
    let machines = vec(1u64..=8, 1..4);
    let tasks = vec(
        (
            0i64..20,
            1u64..=8,
            prop::option::of(1i64..20),
            1u32..3,
            vec(any::<prop::sample::Index>(), 0..3),
            0i64..3,
        ),
        1..30,
    );
    (machines, tasks).prop_map(|(machines, tasks)| {
        let machines = machines
            .into_iter()
            .enumerate()
            .map(|(i, c)| machine(&format!("m{i}"), c))
            .collect();
        let tasks = tasks
            .into_iter()
            .enumerate()
            .map(|(i, (at, cpus, d, n, parents, delay))| {
                let mut t = TaskSpec::new(format!("t{i}"), at * SECOND, vec![cpus * 500]);
                t.duration = d.map(|d| d * SECOND);
                t.instances = n;
                t.job = Some(format!("j{}", i % 3));
                if i > 0 {
                    let mut ps: Vec<u32> = parents.iter().map(|p| p.index(i) as u32).collect();
                    ps.sort_unstable();
                    ps.dedup();
                    t.after = ps
                        .into_iter()
                        .map(|p| After {
                            task: p,
                            delay: delay * SECOND,
                        })
                        .collect();
                }
                t
            })
            .collect();
        let mut w = workload(machines, tasks);
        w.sort();
        w
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_task_starts_before_its_parents_finished(w in graph_workload(), policy in prop::sample::select(vec!["first-fit", "best-fit", "dot-product", "random"])) {
        for model in [global(), Model::Global { order: QueueOrder::Priority }, Model::Offers(Offers::default())] {
            let (o, starts) = run_starts(&w, policy, model.clone());
            // Each task's instances' ends (no machine is lost, so every start runs its duration).
            let mut ends: HashMap<u64, Vec<Option<i64>>> = HashMap::new();
            for &(t, at) in &starts {
                ends.entry(t).or_default().push(w.tasks[t as usize].duration.map(|d| at + d));
            }
            for &(t, at) in &starts {
                for a in &w.tasks[t as usize].after {
                    let parent = ends.get(&u64::from(a.task));
                    let done = parent.filter(|e| e.len() == w.tasks[a.task as usize].instances as usize);
                    let last = done.and_then(|e| e.iter().copied().collect::<Option<Vec<i64>>>()).map(|e| e.into_iter().max().unwrap());
                    prop_assert!(last.is_some_and(|l| l + a.delay <= at), "{}: t{t} at {at} before parent {:?}", model.name(), parent);
                }
            }
            let s = &o.summary;
            prop_assert_eq!(s.arrived, s.finished + s.failed + s.running + s.unplaced + s.held);
        }
    }

    #[test]
    fn graph_runs_are_byte_identical(w in graph_workload()) {
        for model in [global(), Model::Offers(Offers::default())] {
            let render = || {
                let (o, _) = run_starts(&w, "best-fit", model.clone());
                let mut out = format!("{:?}\n", o.summary).into_bytes();
                write_series(&o.schema, &o.series, &mut out).unwrap();
                write_jobs(&o.jobs, &mut out).unwrap();
                out
            };
            prop_assert!(render() == render());
        }
    }
}
