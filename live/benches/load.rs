//! The adapter under load: N tasks through `packsim master` (the emulated master, in process),
//! with and without a state file. The time per task must not grow with N (issue 27: 20k tasks
//! took 4.5× the CPU of 10k, and a state file made 1k tasks take 27 s).
//!
//! Run with `cargo bench -p live --bench load`; results in `benches/RESULTS.md`.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use live::protocol::{Config, FinalState};
use live::shell::{Connection, Framework};
use live::tasks::{TaskSpec, command_task, schema};
use master::{AgentSpec, Master, MasterConfig, RunModel};
use packing::Policy;

/// 100 agents of 32 cpus: up to 3,200 tasks of 1 cpu run at once.
fn agents() -> Vec<AgentSpec> {
    (0..100)
        .map(|i| AgentSpec::new(format!("agent{i}"), 32.0, 65536.0, 100_000.0))
        .collect()
}

/// One batch of `n` tasks that finish at once; the wall-clock time from the first submit to the
/// last outcome and the teardown.
fn run(n: usize, state_file: bool) -> Duration {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = MasterConfig {
            heartbeat: Duration::from_secs(5),
            allocation_interval: Duration::from_millis(10),
            run: RunModel::Fixed(Duration::ZERO),
            ..MasterConfig::default()
        };
        let master = Master::start("127.0.0.1:0", config, agents()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection {
            state_file: state_file.then(|| dir.path().join("state")),
            ..Connection::new(master.addr().to_string())
        };
        let policy = Policy::parse("best-fit", &schema()).unwrap();
        let started = Instant::now();
        let fw = Framework::start(conn, Config::default(), policy).unwrap();
        let specs: Vec<TaskSpec> = (0..n)
            .map(|i| {
                let id = format!("t{i}");
                TaskSpec::new(command_task(&id, "true", 1.0, 64.0), &id).unwrap()
            })
            .collect();
        let outcomes = fw.map(specs, n).await;
        let summary = fw.finish().await.unwrap();
        let took = started.elapsed();
        assert_eq!(summary.outcomes.len(), n);
        assert!(
            outcomes
                .iter()
                .all(|o| o.as_ref().is_ok_and(|o| o.state == FinalState::Finished))
        );
        took
    })
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("batch_through_packsim_master");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(1));
    for state in [false, true] {
        for n in [1_000usize, 10_000, 20_000] {
            g.throughput(Throughput::Elements(n as u64));
            let name = if state { "with_state_file" } else { "no_state_file" };
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter_custom(|iters| (0..iters).map(|_| run(n, state)).sum());
            });
        }
    }
    g.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
