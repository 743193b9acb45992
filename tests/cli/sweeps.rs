//! Sweeps beyond one machine: shards, gathering, status, and the same grid run as a Slurm job
//! array and as Mesos tasks, each compared byte for byte with a single-machine run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{packsim, stderr, stdout};

/// A grid of 12 quick runs on the built-in default workload.
const GRID: [&str; 6] = [
    "-p",
    "first-fit,best-fit",
    "-m",
    "global,arrive-only",
    "--seeds",
    "1..3",
];

fn compare(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["compare"];
    args.extend(GRID);
    args.extend(["-o", out.to_str().unwrap()]);
    args.extend(extra);
    packsim(&args)
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}\n{}", stdout(o), stderr(o));
    stdout(o)
}

/// The tidy tables of a report folder, which must not depend on where the runs were made.
fn tables(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["results.csv", "summary.csv", "ranking.csv"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")),
            )
        })
        .collect()
}

/// The single-machine run of GRID (made once per test that needs it).
fn single(root: &Path) -> PathBuf {
    let dir = root.join("single");
    ok(&compare(&dir, &[]));
    dir
}

#[test]
fn shards_gathered_equal_one_machine_and_a_killed_shard_redoes_only_its_missing_runs() {
    let root = tempfile::tempdir().unwrap();
    let (a, b, out) = (
        root.path().join("a"),
        root.path().join("b"),
        root.path().join("out"),
    );
    // Shard 0 is "killed" after 2 runs (the hidden --stop-after), then run again.
    let first = ok(&compare(&a, &["--shard", "0/2", "--stop-after", "2"]));
    assert!(first.contains("2 computed, 0 reused"), "{first}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("shards/0-of-2.json")).unwrap()).unwrap();
    assert_eq!(
        (state["finished"].as_bool(), state["shard"].as_str()),
        (Some(false), Some("0/2"))
    );
    let again = ok(&compare(&a, &["--shard", "0/2"]));
    let total: usize = again
        .split(" of its ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        (state["done"].as_u64(), state["total"].as_u64()),
        (Some(2), Some(total as u64))
    );
    assert!(
        again.contains(&format!("{} computed, 2 reused", total - 2)),
        "{again}"
    );
    ok(&compare(&b, &["--shard", "1/2"]));
    // Gathering one shard says what is missing, and fails.
    let o = compare(&out, &["--gather", a.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{} of the grid's 12 runs are missing", 12 - total)),
        "{e}"
    );
    // Both: the same tables as one machine's run, byte for byte.
    let text = ok(&compare(
        &out,
        &["--gather", a.to_str().unwrap(), b.to_str().unwrap()],
    ));
    assert!(
        text.contains(&format!("gathered {} runs from 2 folder(s)", 12 - total)),
        "{text}"
    );
    assert_eq!(tables(&out), tables(&single(root.path())));
    let status = ok(&compare(&out, &["--status", a.to_str().unwrap()]));
    assert!(status.contains(&format!("{total} of 12 runs done")), "{status}");
    assert!(status.contains("finished  1 shards"), "{status}");
}

#[test]
fn gather_refuses_runs_made_from_other_inputs() {
    let root = tempfile::tempdir().unwrap();
    let trace = root.path().join("tasks.csv");
    std::fs::write(
        &trace,
        "id,arrival,duration,cpus,mem\na,0,10,1,512\nb,1,10,2,512\n",
    )
    .unwrap();
    let shard = root.path().join("shard");
    let grid = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "compare",
            "-w",
            trace.to_str().unwrap(),
            "-c",
            "2:cpus=4,mem=4096",
        ];
        args.extend([
            "-p",
            "first-fit",
            "-m",
            "global",
            "--seeds",
            "1",
            "-o",
            out.to_str().unwrap(),
        ]);
        args.extend(extra);
        packsim(&args)
    };
    ok(&grid(&shard, &["--shard", "0/1"]));
    // The trace is edited after the shard ran: its runs no longer belong to this grid's inputs.
    std::fs::write(
        &trace,
        "id,arrival,duration,cpus,mem\na,0,10,2,512\nb,1,10,2,512\n",
    )
    .unwrap();
    let o = grid(&root.path().join("out"), &["--gather", shard.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("made by another packsim version or from other inputs"),
        "{e}"
    );
}

#[test]
fn emitted_slurm_scripts_run_the_shards_and_the_gather() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("sweep");
    let text = ok(&compare(&out, &["--emit", "slurm", "--shards", "3", "-j", "1"]));
    assert!(text.contains("a job array of 3 shards"), "{text}");
    let array = std::fs::read_to_string(out.join("sweep/array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-2"), "{array}");
    assert!(
        array.contains("--shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\""),
        "{array}"
    );
    let submit = std::fs::read_to_string(out.join("sweep/submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:"), "{submit}");
    let Some(conf) = datasets::shared::slurm_conf("emitted_slurm_scripts_run_the_shards_and_the_gather")
    else {
        return;
    };
    let submitted = std::process::Command::new("bash")
        .arg(out.join("sweep/submit.sh"))
        .env("SLURM_CONF", &conf)
        .output()
        .unwrap();
    assert!(
        submitted.status.success(),
        "{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    let said = String::from_utf8_lossy(&submitted.stdout).into_owned();
    let gather_job = said.split("report: job ").nth(1).unwrap().trim().to_string();
    let start = Instant::now();
    while out.join("sweep/logs/gather.out").metadata().map_or(true, |_| {
        let q = std::process::Command::new("squeue")
            .args(["-h", "-j", &gather_job])
            .env("SLURM_CONF", &conf)
            .output();
        q.is_ok_and(|q| !String::from_utf8_lossy(&q.stdout).trim().is_empty())
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the Slurm jobs did not end in 5 minutes: {said}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(out.join("sweep/logs/gather.out")).unwrap();
    assert!(log.contains("12 runs (0 computed, 12 reused"), "{log}");
    assert_eq!(tables(&out), tables(&single(root.path())));
}

#[test]
fn on_mesos_runs_the_shards_as_tasks_of_a_real_master() {
    let Some(master) = datasets::shared::mesos_master("on_mesos_runs_the_shards_as_tasks_of_a_real_master")
    else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("sweep");
    let text = ok(&compare(
        &out,
        &[
            "--on-mesos",
            &master,
            "--shards",
            "3",
            "-j",
            "1",
            "--shard-mem",
            "256",
        ],
    ));
    assert!(text.contains("running 3 shards of the grid as tasks"), "{text}");
    assert!(text.contains("3 of 3 tasks finished"), "{text}");
    assert!(text.contains("12 runs (0 computed, 12 reused"), "{text}");
    let tasks = std::fs::read_to_string(out.join("sweep/tasks.json")).unwrap();
    assert!(tasks.contains("--shard 2/3"), "{tasks}");
    assert_eq!(tables(&out), tables(&single(root.path())));
}
