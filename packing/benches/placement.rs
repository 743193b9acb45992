//! One online decision per policy family over 100 to 100k machines, and offline FFD throughput.
//!
//! Run with `cargo bench -p packing --bench placement`. Clusters are generated from a fixed seed:
//! machine capacities vary by up to 4x and each machine is filled to a random 0–90% first, so the
//! decision has a realistic mix of machines that fit and that do not.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use packing::{Cluster, Items, MachineId, Policy, ResourceTable, Schema, pack};

/// Benchmark inputs come from the workspace's one generator.
type Rng = packing::hash::SplitMix64;

const NAMES: [&str; 4] = ["cpus", "mem", "disk", "gpus"];

fn cluster(machines: usize, dims: usize, rng: &mut Rng) -> Cluster {
    let mut caps = ResourceTable::with_capacity(dims, machines);
    let mut row = vec![0; dims];
    for _ in 0..machines {
        for v in row.iter_mut() {
            *v = 16_000 * (1 + rng.below(4));
        }
        caps.push(&row);
    }
    let mut c = Cluster::from_capacities(&caps);
    for m in 0..machines {
        let m = MachineId(m as u32);
        let fill = rng.below(90);
        let used: Vec<u64> = c.capacity(m).iter().map(|&x| x * fill / 100).collect();
        c.allocate(m, &used).unwrap();
    }
    c
}

fn demands(dims: usize, rng: &mut Rng) -> Vec<Vec<u64>> {
    (0..64)
        .map(|_| (0..dims).map(|_| 500 + rng.below(8_000)).collect())
        .collect()
}

const POLICIES: [&str; 17] = [
    "satyr-bfd",
    "satyr-mr",
    "next-fit",
    "first-fit",
    "best-fit",
    "worst-fit",
    "dot-product",
    "l2-norm",
    "kube-least-allocated",
    "kube-most-allocated",
    "kube-balanced-allocation",
    "fenzo-cpu-mem",
    "random",
    // kube-scheduler's usual scoring profile: two plugins summed.
    "kube-least-allocated*1+kube-balanced-allocation*1",
    // Sampled, which changes decisions: a policy that cannot prune, with kube-scheduler's
    // default sample and with 100 machines, and best fit scoring two machines as Nomad does.
    "kube-balanced-allocation@sample=kube",
    "kube-balanced-allocation@sample=100",
    "best-fit@sample=2",
];

fn online(c: &mut Criterion) {
    for dims in [1, 2, 4] {
        let schema = Schema::uniform(&NAMES[..dims], 3).unwrap();
        let mut group = c.benchmark_group(format!("online-{dims}d"));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        for machines in [100, 1_000, 10_000, 100_000] {
            let mut rng = Rng::new(7);
            let state = cluster(machines, dims, &mut rng);
            let tasks = demands(dims, &mut rng);
            for name in POLICIES {
                let policy = Policy::parse(name, &schema).unwrap();
                // What the drivers do: the policy's index, if it has one, is kept by the cluster.
                let mut prepared = state.clone();
                policy.prepare(&mut prepared);
                let mut k = 0;
                group.bench_with_input(BenchmarkId::new(name, machines), &prepared, |b, state| {
                    b.iter(|| {
                        k = (k + 1) % tasks.len();
                        black_box(policy.choose(state, black_box(&tasks[k])))
                    });
                });
            }
            // The same decisions by a scan over every machine (no index), for the ratio.
            for name in ["best-fit", "worst-fit"] {
                let policy = Policy::parse(name, &schema).unwrap();
                let mut k = 0;
                let id = BenchmarkId::new(format!("{name}/scan"), machines);
                group.bench_with_input(id, &state, |b, state| {
                    b.iter(|| {
                        k = (k + 1) % tasks.len();
                        black_box(policy.choose(state, black_box(&tasks[k])))
                    });
                });
            }
        }
        group.finish();
    }
}

/// A decision plus its bookkeeping: choose, allocate, and release again (so the state does not
/// drift), which moves the machine in the ordered index twice.
fn churn(c: &mut Criterion) {
    let dims = 2;
    let schema = Schema::uniform(&NAMES[..dims], 3).unwrap();
    let mut group = c.benchmark_group("churn-2d");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for machines in [10_000, 100_000] {
        let mut rng = Rng::new(7);
        let state = cluster(machines, dims, &mut rng);
        let tasks = demands(dims, &mut rng);
        for name in [
            "first-fit",
            "best-fit",
            "worst-fit",
            "dot-product",
            "kube-least-allocated",
        ] {
            let policy = Policy::parse(name, &schema).unwrap();
            let mut state = state.clone();
            policy.prepare(&mut state);
            let mut k = 0;
            group.bench_function(BenchmarkId::new(name, machines), |b| {
                b.iter(|| {
                    k = (k + 1) % tasks.len();
                    if let Some(m) = policy.choose(&state, &tasks[k]) {
                        state.allocate(m, &tasks[k]).unwrap();
                        state.release(m, &tasks[k]).unwrap();
                    }
                });
            });
        }
    }
    group.finish();
}

fn offline_ffd(c: &mut Criterion) {
    let schema = Schema::uniform(&["size"], 0).unwrap();
    let policy = Policy::parse("ffd-sum", &schema).unwrap();
    let mut group = c.benchmark_group("offline-ffd-1d");
    group.sample_size(10).warm_up_time(Duration::from_millis(500));
    for n in [10_000usize, 1_000_000] {
        let mut rng = Rng::new(11);
        let items = Items::new(ResourceTable::from_rows(1, (0..n).map(|_| [1 + rng.below(1000)])));
        let bins = Cluster::from_capacities(&ResourceTable::from_rows(1, vec![[1000u64]; n]));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &items, |b, items| {
            b.iter_batched(
                || bins.clone(),
                |mut cluster| black_box(pack(&policy, &mut cluster, items).unwrap().machines_used()),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, online, churn, offline_ffd);
criterion_main!(benches);
