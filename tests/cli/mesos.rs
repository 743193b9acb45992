//! `packsim batch` end to end: bad task lists (everywhere), and runs against a real Mesos 1.11.0
//! master where `PACKSIM_MESOS_MASTER=host:port` names one (`.ci/run` starts
//! `shared/mesos/local`); without it those skip, and with `PACKSIM_REQUIRE_MESOS=1` they fail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::packsim;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn master(test: &str) -> Option<String> {
    datasets::shared::mesos_master(test)
}

/// GET a JSON document from the master (plain HTTP/1.0, no client library in the way).
fn get_json(master: &str, path: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(master).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {master}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap()
}

#[test]
fn bad_task_lists_are_rejected_naming_the_field() {
    let cases = [
        (
            r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}]}"#,
            "tasks[0].command",
        ),
        (
            r#"{"tasks":[{"task_id":{"value":"a"},"resources":[],"command":{"value":"x"}}]}"#,
            "tasks[0]: missing required field(s) name",
        ),
        (
            r#"{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"lots"}}],"command":{"value":"x"}}]}"#,
            "tasks[0]",
        ),
        ("{\"tasks\": [", "--task-list: line 1 column 11: not JSON"),
    ];
    for (list, want) in cases {
        // No master is contacted: the list is checked first.
        let o = packsim(&["batch", "--master", "127.0.0.1:1", "--task-list", list]);
        assert!(!o.status.success());
        assert!(
            text(&o.stderr).contains(want),
            "{:?} should mention {want:?}",
            text(&o.stderr)
        );
    }
    let o = packsim(&[
        "batch",
        "--master",
        "127.0.0.1:1",
        "--task-list",
        "no/such/file.json",
    ]);
    assert!(
        text(&o.stderr).contains("reading the task list no/such/file.json"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn batch_runs_the_example_task_list_and_prints_the_table() {
    let Some(m) = master("batch_runs_the_example_task_list_and_prints_the_table") else {
        return;
    };
    for ct in ["protobuf", "json"] {
        let o = packsim(&[
            "batch",
            "--master",
            &m,
            "--task-list",
            "examples/tasks.json",
            "--policy",
            "best-fit",
            "--content-type",
            ct,
        ]);
        let out = text(&o.stdout);
        assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
        assert_eq!(out.matches("TASK_FINISHED").count(), 4, "{out}");
        assert!(out.contains("4 of 4 tasks finished"), "{out}");
        // The framework is torn down when the batch ends: the master lists it as completed,
        // not as an inactive framework waiting out its failover timeout (issue 27).
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("framework "))
            .expect("the framework id is printed")
            .trim()
            .to_string();
        let state = get_json(&m, "/state");
        let listed = |key: &str| {
            state[key]
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f["id"].as_str() == Some(id.as_str())))
        };
        assert!(listed("completed_frameworks"), "{id} not completed ({ct})");
        assert!(!listed("frameworks"), "{id} still registered ({ct})");
    }
}

#[test]
fn a_restarted_batch_resumes_its_framework_and_runs_each_task_once() {
    let Some(m) = master("a_restarted_batch_resumes_its_framework_and_runs_each_task_once") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let list = r#"{"tasks":[
        {"name":"r0","task_id":{"value":"r0"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"sleep 6"}},
        {"name":"r1","task_id":{"value":"r1"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"sleep 6"}},
        {"name":"r2","task_id":{"value":"r2"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"sleep 1"}}]}"#;
    let args = [
        "batch",
        "--master",
        &m,
        "--task-list",
        list,
        "--state-file",
        state.to_str().unwrap(),
        "--framework-name",
        "packsim-restart-test",
    ];
    let mut first = Command::new(env!("CARGO_BIN_EXE_packsim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until every task is launched, then kill the adapter without any chance to clean up.
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "tasks were not launched in 30 s"
        );
        if let Ok(bytes) = std::fs::read(&state) {
            if let Ok(s) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let tasks = s["tasks"].as_array().unwrap();
                if tasks.iter().all(|t| t["launched"] == true) {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let framework = saved["framework_id"].as_str().unwrap().to_string();

    let o = packsim(&args);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(
        out.contains(&format!("framework {framework}")),
        "the same framework resumed: {out}"
    );
    assert_eq!(out.matches("TASK_FINISHED").count(), 3, "{out}");
    assert!(!out.contains("attempts"), "no task was launched twice: {out}");

    // The master agrees: that framework ran each task exactly once.
    let state = get_json(&m, "/master/state");
    let all = state["completed_frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .chain(state["frameworks"].as_array().unwrap());
    let fw = all
        .into_iter()
        .find(|f| f["id"] == framework.as_str())
        .expect("the framework is known to the master");
    // A task whose final update was not yet acknowledged when the framework was torn down is
    // still listed under "tasks"; what matters is that each id is there once, finished, and no
    // retry (`r0.retry1`, ...) exists.
    let mut seen: Vec<(String, String)> = ["tasks", "completed_tasks", "unreachable_tasks"]
        .iter()
        .flat_map(|k| fw[*k].as_array().into_iter().flatten())
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let finished = |id: &str| (id.to_string(), "TASK_FINISHED".to_string());
    assert_eq!(
        seen,
        vec![finished("r0"), finished("r1"), finished("r2")],
        "{out}"
    );
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn batch_runs_against_packsim_master_through_a_dropped_stream() {
    // No real Mesos needed: both ends are packsim.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut master = Command::new(env!("CARGO_BIN_EXE_packsim"))
        .args([
            "master",
            "--listen",
            &addr,
            "--cluster",
            "50:cpus=4,mem=4096,disk=10000",
            "--heartbeat",
            "1",
            "--allocation-interval",
            "200ms",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "packsim master did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let version = get_json(&addr, "/version");
    assert_eq!(version["version"], "1.11.0");
    // Drop every subscription stream a second into the run.
    let fault_addr = addr.clone();
    let fault = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        let mut s = TcpStream::connect(&fault_addr).unwrap();
        let body = r#"{"fault":"drop-streams"}"#;
        write!(
            s,
            "POST /admin/fault HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    });
    let o = packsim(&[
        "batch",
        "--master",
        &addr,
        "--task-list",
        "examples/tasks.json",
        "--policy",
        "dot-product",
    ]);
    let answer = fault.join().unwrap();
    master.kill().unwrap();
    master.wait().unwrap();
    let out = text(&o.stdout);
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(out.contains("4 of 4 tasks finished"), "{out}");
}
