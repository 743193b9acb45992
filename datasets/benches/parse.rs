//! Parse throughput (records per second) of the trace readers on the largest shipped files.
//!
//! Needs the shared data folder (`../shared` or `$PACKSIM_SHARED`); without it the bench says so
//! and measures nothing. Run with `cargo bench -p datasets --bench parse`.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datasets::{ReadOptions, Stream, alibaba2017, dlrm, openb};

/// Reads a whole file and returns the rows it holds.
type Reader = fn(&Path, &ReadOptions) -> u64;

fn count<T>(mut stream: impl Stream<T>) -> u64 {
    let mut n = 0;
    for r in stream.by_ref() {
        r.expect("shipped data parses");
        n += 1;
    }
    n + stream.ignored().values().sum::<u64>()
}

fn parse(c: &mut Criterion) {
    let Some(shared) = datasets::shared::locate(Path::new(env!("CARGO_MANIFEST_DIR"))) else {
        eprintln!("parse bench skipped: no shared data folder beside the project (set PACKSIM_SHARED)");
        return;
    };
    let d = shared.join("datasets");
    let options = ReadOptions::default();
    let mut group = c.benchmark_group("parse");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let files: [(&str, &str, Reader); 3] = [
        (
            "alibaba2017-batch_task.csv.gz",
            "alibaba_v2017/batch_task.csv.gz",
            |p, o| count(alibaba2017::batch_tasks(p, o).unwrap()),
        ),
        (
            "openb-pod_list_cpu300.csv",
            "alibaba_gpu_v2023_openb/openb_pod_list_cpu300.csv",
            |p, o| count(openb::pods(p, o).unwrap()),
        ),
        (
            "dlrm2025.csv.gz",
            "alibaba_gpu_v2025_dlrm/disaggregated_DLRM_trace.csv.gz",
            |p, o| count(dlrm::instances(p, o).unwrap()),
        ),
    ];
    for (name, rel, read) in files {
        let path = d.join(rel);
        let rows = read(&path, &options);
        group.throughput(Throughput::Elements(rows));
        group.bench_function(name, |b| b.iter(|| read(&path, &options)));
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
