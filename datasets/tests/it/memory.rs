//! Streaming readers keep memory flat however long the trace is.
//!
//! A counting allocator (in `main.rs`) tracks the live bytes of the calling thread only, so other
//! tests running in parallel do not disturb the measurement.

use std::io::Write;
use std::path::Path;

use datasets::ReadOptions;

use crate::alloc::{live_bytes, peak_bytes, reset_peak};

/// Writes an Alibaba 2017 `batch_task` file with `rows` tasks, gzip-compressed.
fn write_trace(path: &Path, rows: usize) {
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
    for i in 0..rows {
        writeln!(
            gz,
            "{},{},{},{},{},Terminated,{},0.{:04}",
            i,
            i + 60,
            i / 7,
            i,
            1 + i % 50,
            50 + i % 300,
            i % 9999
        )
        .unwrap();
    }
    gz.finish().unwrap();
}

/// Peak live bytes above the starting point while reading the whole file.
fn peak_while_reading(path: &Path) -> (usize, isize) {
    let before = live_bytes();
    reset_peak();
    let mut n = 0;
    for task in datasets::alibaba2017::batch_tasks(path, &ReadOptions::default()).unwrap() {
        task.unwrap();
        n += 1;
    }
    (n, peak_bytes() - before)
}

#[test]
fn memory_does_not_grow_with_trace_length() {
    let dir = tempfile::tempdir().unwrap();
    let (short, long) = (dir.path().join("short.csv.gz"), dir.path().join("long.csv.gz"));
    write_trace(&short, 20_000);
    write_trace(&long, 200_000);
    let (n_short, peak_short) = peak_while_reading(&short);
    let (n_long, peak_long) = peak_while_reading(&long);
    assert_eq!((n_short, n_long), (20_000, 200_000));
    // Buffers (file, gzip, CSV record) and one task at a time: well under a megabyte, and ten
    // times the rows must not cost more than a few KiB more.
    assert!(peak_long < 1 << 20, "peak {peak_long} bytes reading 200,000 rows");
    assert!(
        peak_long - peak_short < 16 << 10,
        "20k rows peak {peak_short}, 200k rows peak {peak_long}"
    );
}
