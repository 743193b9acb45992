//! The engine alone, and whole replays.
//!
//! Run with `cargo bench -p sim --bench sim`. The openb replay needs the shared data folder; the
//! Google-scale replay (12,500 machines, 1,000,000 tasks, streamed) also prints its peak memory,
//! measured by a counting allocator.

// criterion's macros generate undocumented public functions; the allocator needs `unsafe impl`.
#![allow(missing_docs, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datasets::workload::{TaskSource, load};
use datasets::{FormatOptions, ReadOptions};
use packing::Policy;
use sim::engine::EventQueue;
use sim::{ArriveOnly, Config, Model, QueueOrder, SECOND};

/// Counts live heap bytes and their peak, over all threads.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn add(delta: isize) {
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: forwards every call to the system allocator unchanged; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// SplitMix64 for event times: the workspace's one generator.
type Rng = packing::hash::SplitMix64;

/// The hold model: pop the earliest event and schedule a new one a random time later, keeping
/// `n` events pending.
fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine-hold");
    group.throughput(Throughput::Elements(1));
    for n in [10usize, 1_000, 100_000] {
        let mut rng = Rng::new(3);
        let mut queue = EventQueue::new();
        for i in 0..n {
            queue.push((rng.next_u64() % 1_000_000) as i64, i as u32);
        }
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let (t, e) = queue.pop().expect("n events pending");
                queue.push(t + 1 + (rng.next_u64() % 1_000_000) as i64, e);
            });
        });
    }
    group.finish();
}

fn openb(c: &mut Criterion) {
    let Some(shared) = datasets::shared::locate(Path::new(env!("CARGO_MANIFEST_DIR"))) else {
        eprintln!(
            "openb replay bench skipped: no shared data folder beside the project (set PACKSIM_SHARED)"
        );
        return;
    };
    let pods = shared.join("datasets/alibaba_gpu_v2023_openb/openb_pod_list_default.csv");
    let tasks = TaskSource::File {
        path: pods,
        format: None,
    };
    let (workload, _) =
        load(&tasks, None, &ReadOptions::default(), &FormatOptions::default()).expect("openb loads");
    let mut group = c.benchmark_group("replay-openb-arrive-only");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for policy in ["first-fit", "best-fit", "dot-product", "kube-most-allocated"] {
        let p = Policy::parse(policy, &workload.schema).expect("policy");
        let config = Config {
            model: Model::ArriveOnly(ArriveOnly::default()),
            seed: 42,
            ..Config::default()
        };
        group.bench_function(policy, |b| {
            b.iter(|| sim::run(&workload, &p, &config).expect("runs"));
        });
    }
    group.finish();
}

fn google_scale(c: &mut Criterion) {
    let spec = datasets::synthetic::builtin("google-scale", 1).expect("built in");
    let config = Config {
        model: Model::Global {
            order: QueueOrder::Fifo,
        },
        sample_interval: Some(600 * SECOND),
        ..Config::default()
    };
    let run = || {
        let (machines, tasks) = datasets::synthetic::stream(&spec);
        let p = Policy::parse("first-fit", &machines.schema).expect("policy");
        sim::run_stream(&machines, tasks, &p, &config, &mut |_| {}).expect("runs")
    };
    // One measured run outside criterion for the peak memory and the event count.
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let outcome = run();
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let s = &outcome.summary;
    eprintln!(
        "google-scale: {} machines, {} tasks, {} events in {:.2?} ({:.0} ns/event); peak heap {:.1} MiB; mean wait {:.1} s",
        s.machines,
        s.arrived,
        s.events,
        elapsed,
        elapsed.as_nanos() as f64 / s.events as f64,
        peak as f64 / f64::from(1 << 20),
        s.wait.map_or(0.0, |w| w.mean)
    );
    let mut group = c.benchmark_group("replay-google-scale");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(s.events));
    group.bench_function("first-fit-global-1M-tasks", |b| {
        b.iter_batched(|| (), |()| run(), BatchSize::PerIteration);
    });
    group.finish();
}

/// A million tasks in about 133,000 synthetic DAG jobs, with their dependencies and with the same
/// tasks' edges removed (jobs kept): dependency tracking is to cost at most 2× (issue 18). At
/// 70% offered load, so that both replays keep short queues: at 100% the queue of a million tasks
/// grows in both, and its length, not the graph, sets the time.
fn dags(c: &mut Criterion) {
    let mut spec = datasets::synthetic::builtin("dags", 1).expect("built in");
    spec.tasks = 1_000_000;
    spec.load = Some(0.7);
    let with_edges = datasets::synthetic::generate(&spec);
    let mut without_edges = with_edges.clone();
    for t in &mut without_edges.tasks {
        t.after.clear();
    }
    let config = Config {
        model: Model::Global {
            order: QueueOrder::Fifo,
        },
        sample_interval: Some(600 * SECOND),
        ..Config::default()
    };
    let p = Policy::parse("best-fit", &with_edges.schema).expect("policy");
    for (name, w) in [("with-edges", &with_edges), ("without-edges", &without_edges)] {
        let start = Instant::now();
        let s = sim::run(w, &p, &config).expect("runs").summary;
        eprintln!(
            "dags {name}: {} tasks, {} events in {:.2?}; mean slowdown {:.3}",
            s.arrived,
            s.events,
            start.elapsed(),
            s.jobs
                .as_ref()
                .and_then(|j| j.slowdown)
                .map_or(f64::NAN, |d| d.mean)
        );
    }
    let mut group = c.benchmark_group("replay-dags-1M");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    for (name, w) in [("with-edges", &with_edges), ("without-edges", &without_edges)] {
        group.bench_function(name, |b| {
            b.iter(|| sim::run(w, &p, &config).expect("runs"));
        });
    }
    group.finish();
}

criterion_group!(benches, engine, openb, google_scale, dags);
criterion_main!(benches);
