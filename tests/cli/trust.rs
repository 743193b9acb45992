//! What a new user hit, fixed: clear failures, refused nonsense, one meaning per flag, quiet
//! pipes, the conventions of a CLI (issue "Trust").

use std::process::Command;

use super::{example, packsim, stderr, stdout};

/// One meaning per flag: `-w` is a workload and `--format` an input format wherever they exist,
/// so `pack` spells its weights and its output `--weights` and `--print`.
#[test]
fn pack_keeps_w_and_format_for_their_meaning_elsewhere() {
    let bins = example("bins.csv");
    let items = example("items.csv");
    let (bins, items) = (bins.to_str().unwrap(), items.to_str().unwrap());
    let o = packsim(&["pack", "-p", "best-fit", "-b", bins, "-i", items, "-w", "cpus=1"]);
    assert!(!o.status.success(), "-w is not pack's");
    let o = packsim(&[
        "pack", "-p", "best-fit", "-b", bins, "-i", items, "--format", "json",
    ]);
    assert!(!o.status.success(), "--format is not pack's");
    let o = packsim(&[
        "pack",
        "-p",
        "best-fit",
        "-b",
        bins,
        "-i",
        items,
        "--print",
        "csv",
        "--weights",
        "cpus=1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("item,bin\n"), "{}", stdout(&o));
}

/// Misleading messages, now saying what is wrong.
#[test]
fn messages_say_what_is_wrong() {
    let out = tempfile::tempdir().unwrap();
    let said = |args: &[&str], needle: &str| {
        let o = packsim(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
        err
    };
    said(
        &["replay", "-c", "10:cpus=1e30,mem=8"],
        "`1e30` is too large (out of range",
    );
    said(
        &["replay", "-c", "10:cpus=1e3,mem=8"],
        "`1e3` is not a plain decimal",
    );
    said(
        &["replay", "-c", "99999999999:cpus=4,mem=8"],
        "99999999999 machines is out of range",
    );
    let err = said(&["compare", "-e", "nope.toml"], "nope.toml: No such file");
    assert_eq!(err.matches("No such file").count(), 1, "said twice: {err}");
    // Gzip-compressed bins and items are read, as the trace readers read them.
    let gz = out.path().join("bins.csv.gz");
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, std::fs::read(example("bins.csv")).unwrap().as_slice()).unwrap();
    enc.finish().unwrap();
    let plain = packsim(&[
        "pack",
        "-p",
        "first-fit",
        "-b",
        example("bins.csv").to_str().unwrap(),
        "-i",
        example("items.csv").to_str().unwrap(),
    ]);
    let zipped = packsim(&[
        "pack",
        "-p",
        "first-fit",
        "-b",
        gz.to_str().unwrap(),
        "-i",
        example("items.csv").to_str().unwrap(),
    ]);
    assert!(zipped.status.success(), "{}", stderr(&zipped));
    assert_eq!(stdout(&zipped), stdout(&plain));
}

/// A target no memory can hold is refused at once, naming the limit, in replay and in compare.
#[test]
fn an_arrive_only_target_that_cannot_be_honoured_is_refused() {
    let o = packsim(&["replay", "-m", "arrive-only", "--target", "1e30"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("would sample about") && err.contains("at most 50000000"),
        "{err}"
    );
    let out = tempfile::tempdir().unwrap();
    let o = packsim(&[
        "compare",
        "-m",
        "arrive-only",
        "-p",
        "first-fit",
        "--seeds",
        "1",
        "--target",
        "1e30",
        "-o",
        out.path().join("r").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("would sample about"), "{}", stderr(&o));
}

/// `packsim X | head -1`: the reader goes away; packsim stops quietly with SIGPIPE's status,
/// never a panic (exit 101) or an error message.
#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let instance = out.path().join("one.txt");
    std::fs::write(&instance, "2\n10\n4\n6\n").unwrap();
    let gap_out = dir.join("gap");
    let commands: [&[&str]; 4] = [
        &[
            "compare",
            "-p",
            "first-fit",
            "-m",
            "global",
            "--seeds",
            "1",
            "-o",
            dir.to_str().unwrap(),
        ],
        &["replay", "-p", "first-fit"],
        &["policies"],
        &[
            "gap",
            "--suite",
            instance.to_str().unwrap(),
            "-o",
            gap_out.to_str().unwrap(),
        ],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_packsim"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before the first line
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(o.status.code(), Some(141), "{args:?}: {err}");
    }
}

/// What used to run silently with a wrong meaning is refused, naming the value.
#[test]
fn silently_accepted_inputs_are_refused_naming_the_value() {
    let out = tempfile::tempdir().unwrap();
    let refused = |args: &[&str], needle: &str| {
        let o = packsim(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    };
    // A cluster without a dimension every task uses: all 4,000 tasks were left unplaced, exit 0.
    refused(
        &["replay", "-c", "10:cpus=4"],
        "no machine has `mem`, which 4000 of the 4000 tasks ask for",
    );
    refused(
        &["replay", "--sample-interval", "0"],
        "--sample-interval 0: samples must be at least 1 µs apart",
    );
    let dir = out.path().join("r");
    let dir = dir.to_str().unwrap();
    refused(
        &["compare", "--seeds", "1,2,1", "-o", dir],
        "seed `1` is listed twice",
    );
    refused(
        &["compare", "-p", "first-fit,best-fit,first-fit", "-o", dir],
        "policy `first-fit` is listed twice",
    );
    let empty = out.path().join("empty.toml");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    refused(
        &["compare", "-e", empty.to_str().unwrap(), "-o", dir],
        "empty.toml: the experiment sets nothing",
    );
    assert!(
        !out.path().join("r").exists(),
        "a refused grid left a folder behind"
    );
}

/// A grid that cannot run (an unknown policy, found only once the workload's dimensions are
/// known) fails before anything is written, with a hint.
#[test]
fn a_grid_that_cannot_run_leaves_nothing_behind() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let o = packsim(&[
        "compare",
        "-p",
        "first-fit,bestfit",
        "--seeds",
        "1",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("did you mean `best-fit`"), "{}", stderr(&o));
    assert!(!dir.exists(), "{} was created", dir.display());
}

/// What a CLI user expects: completions, -v/-q on every subcommand, JSON on stdout.
#[test]
fn completions_verbosity_and_json_output() {
    for shell in ["bash", "zsh", "fish"] {
        let o = packsim(&["completions", shell]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("replay") && stdout(&o).contains("policy"),
            "{shell}"
        );
    }
    // -v says what is done on stderr; -q says nothing there; stdout is the same.
    let v = packsim(&["replay", "-p", "first-fit", "-v"]);
    assert!(
        stderr(&v).contains("workload synthetic/default: 64 machines"),
        "{}",
        stderr(&v)
    );
    let q = packsim(&["-q", "replay", "-p", "first-fit"]);
    assert!(q.status.success() && stderr(&q).is_empty(), "{}", stderr(&q));
    assert_eq!(stdout(&q), stdout(&v));
    // JSON on stdout.
    let o = packsim(&["replay", "-p", "first-fit", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["metrics"]["arrived"], 4000.0);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let o = packsim(&[
        "compare",
        "-p",
        "first-fit,best-fit",
        "-m",
        "global",
        "--seeds",
        "1,2",
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["runs"], 4);
    assert_eq!(json["settings"][0]["ranking"].as_array().unwrap().len(), 2);
    assert!(dir.join("report.html").is_file());
    let o = packsim(&["dataset", "info", example("bins.csv").to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(json.as_array().is_some_and(|a| a.len() == 1), "{json}");
}

/// An unreachable master: every failed try is said with its backoff, and the run gives up after
/// --connect-timeout with an error naming the master, exit non-zero (it retried silently for ever).
#[test]
fn an_unreachable_master_is_reported_and_given_up_on() {
    let started = std::time::Instant::now();
    let o = packsim(&[
        "batch",
        "--master",
        "127.0.0.1:1",
        "--task-list",
        example("tasks.json").to_str().unwrap(),
        "--connect-timeout",
        "2s",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("master 127.0.0.1:1: cannot connect") && err.contains("try 1 failed, next in"),
        "{err}"
    );
    assert!(err.contains("could not subscribe in 2 s"), "{err}");
    // It gave up at the timeout, not at the next backoff step.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// mesos-batch's underscore spellings are accepted, so its scripts run unchanged (they were
/// rejected as unknown options).
#[test]
fn mesos_batch_underscore_options_are_accepted() {
    let o = packsim(&[
        "batch",
        "--master",
        "127.0.0.1:1",
        "--task_list",
        example("tasks.json").to_str().unwrap(),
        "--framework_name",
        "old-script",
        "--kill_after",
        "3s",
        "--connect_timeout",
        "1s",
    ]);
    let err = stderr(&o);
    assert!(!err.contains("unexpected argument"), "{err}");
    assert!(err.contains("could not subscribe in 1 s"), "{err}");
}

/// A master address that cannot be one is an error at once (`--master 'not a host'` panicked and
/// then hung; `http://http://...` retried for ever).
#[test]
fn a_master_that_cannot_be_one_is_an_error_at_once() {
    for (master, needle) in [
        ("not a host", "is not a host name"),
        ("http://http://127.0.0.1:5050", "repeats its scheme"),
        ("zk://127.0.0.1:2181/mesos", "ZooKeeper"),
    ] {
        let o = packsim(&[
            "batch",
            "--master",
            master,
            "--task-list",
            example("tasks.json").to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(
            err.contains(needle) && !err.contains("panicked"),
            "{master}: {err}"
        );
    }
}

/// A loopback HTTP server that answers every request with `status` (and closes), for as long as
/// the test runs; its address.
fn answering(status: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let answer = format!(
                "HTTP/1.1 {status}\r\nWWW-Authenticate: Basic realm=\"mesos\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
        }
    });
    addr
}

/// A master that wants credentials, or a server that is not a Mesos master, ends the run at once
/// with what to do (both retried silently for ever).
#[test]
fn refusals_no_retry_can_change_end_the_run_at_once() {
    let tasks = example("tasks.json");
    let run = |master: &str, extra: &[&str]| {
        let mut args = vec![
            "batch",
            "--master",
            master,
            "--task-list",
            tasks.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let started = std::time::Instant::now();
        let o = packsim(&args);
        assert!(!o.status.success());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        stderr(&o)
    };
    let auth = answering("401 Unauthorized");
    let err = run(&auth, &[]);
    assert!(
        err.contains("requires authentication (401): give --principal and --secret"),
        "{err}"
    );
    let err = run(&auth, &["--principal", "p", "--secret", "s"]);
    assert!(err.contains("refused the credentials (401)"), "{err}");
    let plain = answering("501 Not Implemented");
    let err = run(&plain, &[]);
    assert!(err.contains("does not serve the Mesos V1 scheduler API"), "{err}");
}
