//! The adapter against packsim's emulated master, with each fault injected mid-run, at 10 and at
//! 1,000 agents: every task ends in exactly one final state, finished, and no task ran twice. And
//! the emulated master's HTTP surface answers bad requests as the real one does.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::runtime;
use live::protocol::{Config, FinalState};
use live::shell::{Connection, Framework};
use live::tasks::{TaskSpec, command_task, schema};
use master::{AgentSpec, Fault, Master, MasterConfig, RunModel};
use packing::Policy;
use proto::ContentType;

fn fast_master() -> MasterConfig {
    MasterConfig {
        heartbeat: Duration::from_secs(1),
        allocation_interval: Duration::from_millis(100),
        update_resend: Duration::from_millis(500),
        run: RunModel::Command,
        ..MasterConfig::default()
    }
}

fn agents(n: usize) -> Vec<AgentSpec> {
    (0..n)
        .map(|i| AgentSpec::new(format!("agent{i}"), 4.0, 4096.0, 10000.0))
        .collect()
}

/// Runs `tasks` tasks of 1 cpu and `sleep 0.4` through the adapter, injecting `fault` once the
/// first tasks run; checks the outcome rules and returns the attempts per task.
fn run_with_fault(
    agent_count: usize,
    tasks: usize,
    fault: Option<&Fault>,
    ct: ContentType,
) -> BTreeMap<String, u32> {
    runtime().block_on(async {
        let master = Master::start("127.0.0.1:0", fast_master(), agents(agent_count))
            .await
            .unwrap();
        let conn = Connection {
            content_type: ct,
            ..Connection::new(master.addr().to_string())
        };
        let config = Config {
            failover_timeout: Duration::from_secs(60),
            ..Config::default()
        };
        let policy = Policy::parse("best-fit", &schema()).unwrap();
        let fw = Framework::start(conn, config, policy).unwrap();
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                let id = format!("t{i}");
                fw.submit(TaskSpec::new(command_task(&id, "sleep 0.4", 1.0, 64.0), &id).unwrap())
            })
            .collect();
        if let Some(f) = fault {
            // Inject once something is running.
            for _ in 0..100 {
                if fw.progress().await.running > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            master.inject(f).unwrap();
        }
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(
                tokio::time::timeout(Duration::from_secs(120), h)
                    .await
                    .expect("an outcome in 120 s")
                    .unwrap(),
            );
        }
        let summary = tokio::time::timeout(Duration::from_secs(60), fw.finish())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(summary.outcomes.len(), tasks, "{fault:?}: one outcome per task");
        let runs = master.runs();
        let mut attempts = BTreeMap::new();
        for o in &outcomes {
            assert_eq!(
                o.state,
                FinalState::Finished,
                "{fault:?} at {agent_count} agents: {o:?}"
            );
            // Runs that finished, over every attempt id of this task: exactly one.
            let finished: u32 = runs
                .iter()
                .filter(|(id, _)| *id == &o.task_id || id.starts_with(&format!("{}.retry", o.task_id)))
                .map(|(_, r)| r.1)
                .sum();
            assert_eq!(
                finished, 1,
                "{fault:?}: task {} finished {finished} times ({runs:?})",
                o.task_id
            );
            attempts.insert(o.task_id.clone(), o.attempts);
        }
        attempts
    })
}

fn faults() -> Vec<Fault> {
    vec![
        Fault::DropStreams,
        Fault::Unavailable { seconds: 1.5 },
        Fault::NotLeader {
            seconds: 1.5,
            leader: None,
        },
        Fault::LoseAgent { agent: 0 },
        Fault::DuplicateUpdates { on: true },
        Fault::DelayUpdates { seconds: 1.0 },
    ]
}

#[test]
fn every_task_ends_once_under_each_fault_at_10_agents() {
    let baseline = run_with_fault(10, 24, None, ContentType::Protobuf);
    assert!(baseline.values().all(|&a| a == 1));
    for f in faults() {
        let attempts = run_with_fault(10, 24, Some(&f), ContentType::Protobuf);
        if matches!(f, Fault::LoseAgent { .. }) {
            assert!(
                attempts.values().any(|&a| a == 2),
                "tasks of the lost agent were relaunched: {attempts:?}"
            );
        }
    }
}

#[test]
fn every_task_ends_once_under_each_fault_at_1000_agents() {
    for f in faults() {
        run_with_fault(1000, 200, Some(&f), ContentType::Json);
    }
}

// ----- the HTTP surface, raw -----

async fn post(addr: &str, headers: &[(&str, &str)], body: &str) -> (u16, BTreeMap<String, String>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    // A subscription never ends: read what arrives in 300 ms.
    let _ = tokio::time::timeout(Duration::from_millis(300), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status, headers, body.to_string())
}

// failover_timeout 60: with the default 0 a disconnected framework is removed at once (then 400).
/// Request headers, body, expected status, expected text in the answer.
type Case<'a> = (Vec<(&'a str, &'a str)>, String, u16, &'a str);

const SUBSCRIBE: &str = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"t","failover_timeout":60,"roles":["*"],"capabilities":[{"type":"MULTI_ROLE"}]}}}"#;

#[test]
fn bad_requests_get_the_real_masters_answers() {
    runtime().block_on(async {
        let master = Master::start("127.0.0.1:0", fast_master(), agents(2))
            .await
            .unwrap();
        let a = master.addr().to_string();
        let json = ("Content-Type", "application/json");
        let (st, h, body) = post(&a, &[json, ("Accept", "application/json")], SUBSCRIBE).await;
        assert_eq!(st, 200);
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["transfer-encoding"], "chunked");
        assert!(body.contains(r#"{"type":"SUBSCRIBED""#), "{body}");
        // The stream died with the connection: the framework is now disconnected.
        let fid = body
            .split(r#""framework_id":{"value":""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let sid = h["mesos-stream-id"].clone();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let suppress = format!(r#"{{"framework_id":{{"value":"{fid}"}},"type":"SUPPRESS"}}"#);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![json, ("Mesos-Stream-Id", &sid)],
                suppress.clone(),
                403,
                "Framework is not subscribed",
            ),
            (
                vec![("Content-Type", "application/json; charset=utf-8")],
                SUBSCRIBE.into(),
                415,
                "Expecting 'Content-Type'",
            ),
            (
                vec![],
                SUBSCRIBE.into(),
                400,
                "Expecting 'Content-Type' to be present",
            ),
            (
                vec![json],
                "{not json".into(),
                400,
                "Failed to parse body into JSON",
            ),
            (
                vec![json, ("Accept", "text/html")],
                SUBSCRIBE.into(),
                406,
                "Expecting 'Accept' to allow",
            ),
            (
                vec![json, ("Accept", "application/json"), ("Mesos-Stream-Id", "x")],
                SUBSCRIBE.into(),
                400,
                "should not include the 'Mesos-Stream-Id'",
            ),
            (
                vec![json],
                r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"t"}}}"#.into(),
                400,
                "Missing required fields: subscribe.framework_info.user",
            ),
            (
                vec![json],
                r#"{"subscribe":{"framework_info":{"user":"u","name":"t"}}}"#.into(),
                400,
                "Expecting 'type' to be present",
            ),
            (
                vec![json],
                r#"{"type":"SUPPRESS","framework_id":{"value":"no-such"}}"#.into(),
                400,
                "Framework cannot be found",
            ),
            (
                vec![json],
                r#"{"type":"SUPPRESS"}"#.into(),
                400,
                "Expecting 'framework_id' to be present",
            ),
        ];
        for (headers, body, status, want) in cases {
            let (st, _, got) = post(&a, &headers, &body).await;
            assert_eq!(st, status, "{body} → {got}");
            assert!(got.contains(want), "{body}: {got:?} should contain {want:?}");
        }
        // A re-subscription restores it; then the stream id is checked.
        let resub = SUBSCRIBE
            .replace(
                r#""name":"t""#,
                &format!(r#""name":"t","id":{{"value":"{fid}"}}"#),
            )
            .replace(
                r#"{"type""#,
                &format!(r#"{{"framework_id":{{"value":"{fid}"}},"type""#),
            );
        let (st, h2, _) = post(&a, &[json], &resub).await;
        assert_eq!(st, 200);
        assert_ne!(h2["mesos-stream-id"], sid, "a new stream id");
        // Invalid FrameworkInfo: 200 with one ERROR event.
        let bad = SUBSCRIBE.replace(r#""roles":["*"]"#, r#""role":"x""#);
        let (st, _, body) = post(&a, &[json], &bad).await;
        assert_eq!(st, 200);
        assert!(
            body.contains(r#""type":"ERROR""#) && body.contains("'FrameworkInfo.role' must not be set"),
            "{body}"
        );
        // GET is not a call.
        let out = get(&a, "/api/v1/scheduler");
        assert!(
            out.starts_with("HTTP/1.0 405") || out.starts_with("HTTP/1.1 405"),
            "{out}"
        );
        // The other endpoints a real master serves.
        let out = get(&a, "/redirect");
        assert!(
            out.contains(" 307 ") && out.to_ascii_lowercase().contains(&format!("location: //{a}")),
            "{out}"
        );
        let out = get(&a, "/master/version");
        assert!(out.contains(r#""version":"1.11.0""#), "{out}");
        let state: serde_json::Value =
            serde_json::from_str(get(&a, "/state").split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(state["activated_slaves"], 2);
        assert_eq!(state["frameworks"][0]["id"], fid.as_str());
    });
}

fn get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn gpu_agents_are_offered_only_to_frameworks_that_ask_for_gpus() {
    runtime().block_on(async {
        let mut gpu = AgentSpec::new("gpu0", 4.0, 4096.0, 1000.0);
        gpu.scalars[3] = 2.0;
        let cpu = AgentSpec::new("cpu0", 4.0, 4096.0, 1000.0);
        let master = Master::start("127.0.0.1:0", fast_master(), vec![cpu, gpu])
            .await
            .unwrap();
        let config = Config {
            failover_timeout: Duration::from_secs(60),
            unschedulable_after: Duration::from_secs(3),
            ..Config::default()
        };
        let policy = || Policy::parse("first-fit", &schema()).unwrap();
        // Eight 1-cpu tasks from a framework without GPU_RESOURCES: all on the 4-cpu agent
        // without GPUs (first fit would fill both agents if it were offered both).
        let conn = Connection::new(master.addr().to_string());
        let fw = Framework::start(conn, config.clone(), policy()).unwrap();
        let specs = (0..8)
            .map(|i| {
                let id = format!("c{i}");
                TaskSpec::new(command_task(&id, "sleep 0.2", 1.0, 64.0), &id).unwrap()
            })
            .collect();
        let outcomes: Vec<_> = fw.map(specs, 8).await.into_iter().map(Result::unwrap).collect();
        fw.finish().await.unwrap();
        let cpu_agent = outcomes[0].agent.clone();
        assert!(
            outcomes
                .iter()
                .all(|o| o.state == FinalState::Finished && o.agent == cpu_agent)
        );
        // A GPU task through run_batch: GPU_RESOURCES is asked for, and it runs on the GPU agent.
        let mut info = command_task("g", "true", 1.0, 64.0);
        info.resources.push(live::tasks::scalar("gpus", 1.0));
        let summary = live::shell::run_batch(
            Connection::new(master.addr().to_string()),
            config,
            policy(),
            vec![TaskSpec::new(info, "g").unwrap()],
            &mut (),
            std::future::pending(),
        )
        .await
        .unwrap();
        let o = &summary.outcomes[0];
        assert_eq!(o.state, FinalState::Finished, "{o:?}");
        assert_ne!(o.agent, cpu_agent);
    });
}

#[test]
fn a_task_future_resolves_with_the_reason_when_the_master_cannot_be_reached() {
    runtime().block_on(async {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conn = Connection {
            connect_timeout: Some(Duration::from_secs(1)),
            ..Connection::new(format!("127.0.0.1:{port}"))
        };
        let fw = Framework::start(
            conn,
            Config::default(),
            Policy::parse("first-fit", &schema()).unwrap(),
        )
        .unwrap();
        let h = fw.submit(TaskSpec::new(command_task("t", "true", 1.0, 64.0), "t").unwrap());
        let got = tokio::time::timeout(Duration::from_secs(20), h)
            .await
            .expect("the future resolves");
        let e = got.unwrap_err().to_string();
        assert!(e.contains("could not subscribe in 1 s"), "{e}");
        assert!(fw.finish().await.is_err());
    });
}
