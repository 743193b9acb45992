//! Gathering a sweep: 10^5 stored runs (synthetic results, as shards leave them) copied from a
//! shard folder into an empty one and read back as the report would read them, and the same read
//! in place (shards that wrote into one shared folder). Issue 25 asks for under 30 s.

#![allow(missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use reports::experiment::DEFAULT_POLICIES;
use reports::{Experiment, RunOptions, RunResult};

const RUNS: usize = 100_000;

fn experiment() -> Experiment {
    Experiment {
        workloads: vec!["synthetic:default".into()],
        cluster: None,
        policies: DEFAULT_POLICIES[..10].iter().map(ToString::to_string).collect(),
        models: vec![sim::ModelKind::ArriveOnly],
        seeds: (1..=(RUNS / 10) as u64).collect(),
        scales: vec![1.0],
        target: 1.3,
    }
}

/// Writes a stored run per spec, as a shard would: the JSON result and a short series.
fn store(dir: &Path, specs: &[reports::RunSpec]) {
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    for (i, spec) in specs.iter().enumerate() {
        let metrics: Vec<(String, f64)> = (0..20)
            .map(|m| (format!("metric_{m}"), (i * 20 + m) as f64 / 7.0))
            .collect();
        let result = RunResult {
            spec: spec.clone(),
            workload_name: "synthetic/default".into(),
            dimensions: vec!["cpus".into(), "mem".into()],
            metrics,
            machines_lb: vec![1; 10],
            wait_cdf: None,
            wall_ms: 1.0,
        };
        let id = spec.id();
        std::fs::write(
            runs.join(format!("{id}.json")),
            serde_json::to_vec(&result).unwrap(),
        )
        .unwrap();
        std::fs::write(
            runs.join(format!("{id}.csv")),
            "time_s,arrived_pct\n,1.000\n,2.000\n",
        )
        .unwrap();
    }
}

fn read_back(out: &Path, e: &Experiment) -> usize {
    let options = RunOptions {
        limit: Some(0),
        ..RunOptions::default()
    };
    reports::run::run_grid(out, &e.runs(), &options, &|_| {})
        .unwrap()
        .len()
}

fn gather(c: &mut Criterion) {
    let e = experiment();
    let specs = reports::run::fingerprinted(&e.runs(), &RunOptions::default()).unwrap();
    assert_eq!(specs.len(), RUNS);
    let root = tempfile::tempdir().unwrap();
    let shard = root.path().join("shard");
    let start = Instant::now();
    store(&shard, &specs);
    eprintln!("stored {RUNS} runs in {:.1?}", start.elapsed());
    let out = root.path().join("out");
    let start = Instant::now();
    let g = reports::sweep::gather(std::slice::from_ref(&shard), &out, &specs).unwrap();
    let n = read_back(&out, &e);
    eprintln!(
        "gather of {} runs and reading them back: {:.1?}",
        g.copied,
        start.elapsed()
    );
    assert_eq!(n, RUNS);
    let mut group = c.benchmark_group("gather-1e5-runs");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.bench_function("copy-and-read", |b| {
        b.iter_batched(
            || {
                let _ = std::fs::remove_dir_all(&out);
            },
            |()| {
                reports::sweep::gather(std::slice::from_ref(&shard), &out, &specs).unwrap();
                read_back(&out, &e)
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("in-place-read", |b| {
        b.iter(|| {
            reports::sweep::gather(std::slice::from_ref(&shard), &shard, &specs).unwrap();
            read_back(&shard, &e)
        });
    });
    group.finish();
}

criterion_group!(benches, gather);
criterion_main!(benches);
