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

/// One plain HTTP/1.0 exchange with the master (no client library in the way): the whole
/// response. `body` makes it a POST of JSON.
fn http(master: &str, path: &str, body: Option<&str>) -> String {
    let mut s = TcpStream::connect(master).unwrap();
    match body {
        None => write!(s, "GET {path} HTTP/1.0\r\nHost: {master}\r\n\r\n"),
        Some(body) => write!(
            s,
            "POST {path} HTTP/1.0\r\nHost: {master}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    }
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// GET a JSON document from the master.
fn get_json(master: &str, path: &str) -> serde_json::Value {
    let out = http(master, path, None);
    serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap()
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
        if all_launched(&state) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let framework = live::state::load(&state).unwrap().unwrap().framework_id.unwrap();

    let o = packsim(&args);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(
        out.contains(&format!("framework {framework}")),
        "the same framework resumed: {out}"
    );
    assert_eq!(out.matches("TASK_FINISHED").count(), 3, "{out}");
    assert!(!out.contains("attempts"), "no task was launched twice: {out}");

    // The master agrees: that framework ran each task exactly once. A task whose final update
    // was not yet acknowledged when the framework was torn down is still listed under "tasks";
    // what matters is that each id is there once, finished, and no retry (`r0.retry1`, ...)
    // exists.
    let (_, seen) = framework_tasks(&m, &framework);
    let finished = |id: &str| (id.to_string(), "TASK_FINISHED".to_string());
    assert_eq!(
        seen,
        vec![finished("r0"), finished("r1"), finished("r2")],
        "{out}"
    );
}

/// Whether the state file says every task is launched.
fn all_launched(state: &std::path::Path) -> bool {
    live::state::load(state)
        .ok()
        .flatten()
        .is_some_and(|s| !s.tasks.is_empty() && s.tasks.iter().all(|t| t.record.launched))
}

/// Starts `packsim batch` with `args`, waits until its state file says every task is launched,
/// sends `signal`, and returns its exit code and stdout.
fn signalled_batch(args: &[&str], state: &std::path::Path, signal: &str) -> (Option<i32>, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_packsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !all_launched(state) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "tasks not launched in 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let out = text(&o.stdout);
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "it ended soon after the signal: {out}"
    );
    // The framework id was said on stderr while it ran, before the table.
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("framework "))
        .unwrap_or("-");
    let err = text(&o.stderr);
    assert!(err.contains(&format!("framework {id} on ")), "{err}");
    (o.status.code(), out)
}

/// Whether a framework is still registered with the master, and its tasks (running, completed
/// and unreachable) as sorted (id, state) pairs.
fn framework_tasks(master: &str, id: &str) -> (bool, Vec<(String, String)>) {
    let state = get_json(master, "/master/state");
    let find = |key: &str| {
        state[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
    };
    let (registered, fw) = match find("frameworks") {
        Some(f) => (true, f),
        None => (
            false,
            find("completed_frameworks").expect("the master knows the framework"),
        ),
    };
    let mut tasks: Vec<(String, String)> = ["tasks", "completed_tasks", "unreachable_tasks"]
        .iter()
        .flat_map(|k| fw[*k].as_array().into_iter().flatten())
        .map(|t| {
            (
                t["id"].as_str().unwrap().into(),
                t["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    tasks.sort();
    (registered, tasks)
}

#[test]
fn a_signal_tears_the_framework_down_or_detaches_it_for_a_resumed_run() {
    let Some(m) = master("a_signal_tears_the_framework_down_or_detaches_it_for_a_resumed_run") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let list = r#"{"tasks":[
        {"name":"g0","task_id":{"value":"g0"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"sleep 5"}},
        {"name":"g1","task_id":{"value":"g1"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}],"command":{"value":"sleep 5"}}]}"#;
    let run = |state: &std::path::Path, extra: &[&str], signal: &str| {
        let mut args = vec![
            "batch",
            "--master",
            &m,
            "--task-list",
            list,
            "--state-file",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        signalled_batch(&args, state, signal)
    };
    let id_in = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("framework "))
            .expect("the framework id is printed")
            .to_string()
    };

    // SIGTERM (default): the tasks are killed and the framework is gone, at once.
    let state = dir.path().join("teardown");
    let (code, out) = run(&state, &[], "TERM");
    assert_eq!(code, Some(143), "{out}");
    assert_eq!(out.matches("TASK_KILLED").count(), 2, "{out}");
    let (registered, tasks) = framework_tasks(&m, &id_in(&out));
    assert!(!registered, "torn down: {out}");
    assert!(
        tasks.iter().all(|(_, s)| s == "TASK_KILLED"),
        "no task left running: {tasks:?}"
    );

    // SIGINT with --on-signal detach: the tasks keep running under the framework ...
    let state = dir.path().join("detach");
    let (code, out) = run(&state, &["--on-signal", "detach"], "INT");
    assert_eq!(code, Some(130), "{out}");
    assert!(out.contains("detached: 2 tasks still run"), "{out}");
    let id = id_in(&out);
    let (registered, tasks) = framework_tasks(&m, &id);
    assert!(registered, "still registered: {out}");
    let live = ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING"];
    assert!(
        tasks.len() == 2 && tasks.iter().all(|(_, s)| live.contains(&s.as_str())),
        "{tasks:?}"
    );
    // ... and the same command resumes them: each finishes, once, with its whole duration.
    let o = packsim(&[
        "batch",
        "--master",
        &m,
        "--task-list",
        list,
        "--state-file",
        state.to_str().unwrap(),
    ]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert_eq!(id_in(&out), id);
    assert_eq!(out.matches("TASK_FINISHED").count(), 2, "{out}");
    for line in out.lines().filter(|l| l.contains("TASK_FINISHED")) {
        let secs: f64 = line
            .split_whitespace()
            .find_map(|w| w.strip_suffix('s').and_then(|n| n.parse().ok()))
            .unwrap();
        assert!(
            secs >= 4.5,
            "the duration counts from the launch before the restart: {line}"
        );
    }
    let (registered, _) = framework_tasks(&m, &id);
    assert!(!registered, "torn down at the end");
}

/// POSTs a JSON operator call to the master's /api/v1; the status code.
fn operator(master: &str, body: &serde_json::Value) -> u16 {
    let out = http(master, "/api/v1", Some(&body.to_string()));
    out.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn volumes_are_never_cut_specific_ports_are_given_and_named_volumes_are_mounted() {
    let Some(m) = master("volumes_are_never_cut_specific_ports_are_given_and_named_volumes_are_mounted")
    else {
        return;
    };
    // A 500 MB persistent volume of role `test` on the first agent (the operator API, as an
    // operator or mesos-batch's reservation step would make it).
    let agent = get_json(&m, "/master/state")["slaves"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let volume_id = format!("packsim-vol-{}", std::process::id());
    let reserved = serde_json::json!({"name": "disk", "type": "SCALAR", "scalar": {"value": 500},
        "reservations": [{"type": "DYNAMIC", "role": "test"}]});
    let mut volume = reserved.clone();
    volume["disk"] = serde_json::json!({"persistence": {"id": volume_id},
        "volume": {"mode": "RW", "container_path": "data"}});
    let agent_id = serde_json::json!({"value": agent});
    assert_eq!(
        operator(
            &m,
            &serde_json::json!({"type": "RESERVE_RESOURCES",
        "reserve_resources": {"agent_id": agent_id, "resources": [reserved]}})
        ),
        202
    );
    assert_eq!(
        operator(
            &m,
            &serde_json::json!({"type": "CREATE_VOLUMES",
        "create_volumes": {"agent_id": agent_id, "volumes": [volume]}})
        ),
        202
    );

    // Under role `test`: a task of 700 MB plain disk (once given 200 MB of the volume: TASK_ERROR),
    // a task naming the volume (it writes there), and one asking for specific ports that checks
    // what its environment says.
    let list = serde_json::json!({"tasks": [
        {"name": "plain", "task_id": {"value": "plain"}, "command": {"value": "true"},
         "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                       {"name": "disk", "type": "SCALAR", "scalar": {"value": 700}}]},
        {"name": "writer", "task_id": {"value": "writer"},
         "command": {"value": "echo hello > data/out.txt && test -s data/out.txt"},
         "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}, volume]},
        {"name": "ports", "task_id": {"value": "ports"},
         "command": {"value": "test \"$PORT0\" = 31500 && test \"$PORT\" = 31500 && test \"$PORTS\" = 31500,31777,31778"},
         "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                       {"name": "ports", "type": "RANGES", "ranges": {"range": [
                           {"begin": 31500, "end": 31500}, {"begin": 31777, "end": 31778}]}}]}
    ]})
    .to_string();
    let o = packsim(&[
        "batch",
        "--master",
        &m,
        "--role",
        "test",
        "--task-list",
        &list,
        "--json",
    ]);
    let out = text(&o.stdout);
    // Clean up first, so that a failure leaves the master as it was.
    let mut volume_only =
        serde_json::from_str::<serde_json::Value>(&list).unwrap()["tasks"][1]["resources"][1].clone();
    volume_only.as_object_mut().unwrap().remove("allocation_info");
    operator(
        &m,
        &serde_json::json!({"type": "DESTROY_VOLUMES",
        "destroy_volumes": {"agent_id": agent_id, "volumes": [volume_only]}}),
    );
    std::thread::sleep(Duration::from_millis(500));
    let reserved = serde_json::json!({"name": "disk", "type": "SCALAR", "scalar": {"value": 500},
        "reservations": [{"type": "DYNAMIC", "role": "test"}]});
    operator(
        &m,
        &serde_json::json!({"type": "UNRESERVE_RESOURCES",
        "unreserve_resources": {"agent_id": agent_id, "resources": [reserved]}}),
    );

    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let outcome = |id: &str| {
        summary["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["task_id"] == id)
            .unwrap()
            .clone()
    };
    for id in ["plain", "writer", "ports"] {
        assert_eq!(outcome(id)["state"], "TASK_FINISHED", "{out}");
        assert!(
            outcome(id)["sandbox"].as_str().unwrap().contains("/runs/"),
            "{out}"
        );
    }
    assert_eq!(
        outcome("writer")["agent"],
        agent.as_str(),
        "only its agent holds the volume"
    );
    assert_eq!(
        outcome("ports")["ports"],
        serde_json::json!([31500, 31777, 31778])
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
        http(&fault_addr, "/admin/fault", Some(r#"{"fault":"drop-streams"}"#))
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
