//! The same scripted session against the real Mesos 1.11.0 master and against packsim's emulated
//! master: the status codes, headers that matter, event types and payload shapes (keys and value
//! types, not values) must be the same once ids and timestamps are set aside. Needs
//! `PACKSIM_MESOS_MASTER` (see real_mesos.rs).

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use master::{AgentSpec, Master, MasterConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::real_mesos::master;

type Http = Client<HttpConnector, Full<Bytes>>;

/// Keys (sorted: JSON objects have no order) and value kinds, recursively; a list's shape is the
/// union of its elements' shapes.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let sorted: BTreeMap<&String, Value> = o.iter().map(|(k, v)| (k, shape(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => {
            let mut merged = BTreeMap::new();
            let mut scalar = None;
            for x in a {
                match shape(x) {
                    Value::Object(o) => merged.extend(o),
                    other => scalar = Some(other),
                }
            }
            json!([scalar.unwrap_or_else(|| Value::Object(merged.into_iter().collect()))])
        }
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

struct Session {
    http: Http,
    base: String,
    stream_id: String,
    framework: Value,
    events: mpsc::UnboundedReceiver<Value>,
    log: Vec<String>,
}

async fn request(
    http: &Http,
    base: &str,
    headers: &[(&str, &str)],
    body: String,
) -> hyper::Response<hyper::body::Incoming> {
    let mut r = hyper::Request::post(format!("http://{base}/api/v1/scheduler"));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    http.request(r.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap()
}

/// The first line of an error body, with anything after a colon or quote (ids, parser detail) cut.
fn gist(body: &str) -> String {
    body.split([':', '\'']).next().unwrap_or("").trim().to_string()
}

impl Session {
    async fn subscribe(base: &str, framework_info: Value) -> Session {
        let http: Http = Client::builder(TokioExecutor::new()).build_http();
        let stream_http: Http = Client::builder(TokioExecutor::new()).build_http();
        let body = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}}).to_string();
        let resp = request(
            &stream_http,
            base,
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            body,
        )
        .await;
        let h = resp.headers();
        let mut log = vec![format!(
            "SUBSCRIBE {} content-type={:?} chunked={} stream-id={}",
            resp.status().as_u16(),
            h.get("Content-Type").map(|v| v.to_str().unwrap().to_string()),
            h.get("Transfer-Encoding").is_some_and(|v| v == "chunked"),
            h.get("Mesos-Stream-Id").is_some()
        )];
        let stream_id = h["Mesos-Stream-Id"].to_str().unwrap().to_string();
        let (tx, events) = mpsc::unbounded_channel();
        let mut body = resp.into_body();
        tokio::spawn(async move {
            let _keep = stream_http;
            let mut d = proto::RecordDecoder::default();
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    d.push(&data);
                }
                while let Ok(Some(r)) = d.next_record() {
                    let _ = tx.send(serde_json::from_slice::<Value>(&r).unwrap());
                }
            }
        });
        let mut s = Session {
            http,
            base: base.to_string(),
            stream_id,
            framework: Value::Null,
            events,
            log: Vec::new(),
        };
        s.log.append(&mut log);
        let subscribed = s.next("SUBSCRIBED").await;
        s.framework = subscribed["subscribed"]["framework_id"].clone();
        s
    }

    /// The next event of type `kind`, skipping heartbeats and offers (unless offers are asked for).
    async fn next(&mut self, kind: &str) -> Value {
        loop {
            let e = tokio::time::timeout(Duration::from_secs(40), self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {kind} in 40 s; log: {:#?}", self.log))
                .expect("stream open");
            let t = e["type"].as_str().unwrap().to_string();
            if t == kind {
                self.log.push(format!("event {t} {}", shape(&e)));
                return e;
            }
            assert!(t == "HEARTBEAT" || t == "OFFERS", "unexpected {e}");
        }
    }

    async fn call(&mut self, name: &str, call: Value) -> u16 {
        let resp = request(
            &self.http,
            &self.base,
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
                ("Mesos-Stream-Id", &self.stream_id),
            ],
            call.to_string(),
        )
        .await;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        self.log.push(format!(
            "{name} {status} {}",
            gist(&String::from_utf8_lossy(&body))
        ));
        status
    }

    async fn raw(&mut self, name: &str, headers: &[(&str, &str)], body: String) {
        let resp = request(&self.http, &self.base, headers, body).await;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        self.log.push(format!(
            "{name} {status} {}",
            gist(&String::from_utf8_lossy(&body))
        ));
    }

    fn c(&self, kind: &str, payload: Option<(&str, Value)>) -> Value {
        let mut v = json!({"framework_id": self.framework, "type": kind});
        if let Some((k, p)) = payload {
            v[k] = p;
        }
        v
    }

    async fn ack(&mut self, e: &Value) {
        let s = &e["update"]["status"];
        if s.get("uuid").is_some() {
            let c = self.c(
                "ACKNOWLEDGE",
                Some((
                    "acknowledge",
                    json!({"agent_id": s["agent_id"], "task_id": s["task_id"], "uuid": s["uuid"]}),
                )),
            );
            self.call("ACKNOWLEDGE", c).await;
        }
    }

    /// The next UPDATE, acknowledged, logged with its state and reason.
    async fn update(&mut self) -> Value {
        let e = self.next("UPDATE").await;
        let s = &e["update"]["status"];
        self.log.push(format!(
            "  state {} reason {} source {} uuid {}",
            s["state"],
            s["reason"],
            s["source"],
            s.get("uuid").is_some()
        ));
        self.ack(&e).await;
        e
    }
}

fn task(id: &str, agent: &Value, command: &str) -> Value {
    json!({"name": id, "task_id": {"value": id}, "agent_id": agent,
           "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}, {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}],
           "command": {"value": command}})
}

async fn script(base: &str) -> Vec<String> {
    let fi = json!({"user": "root", "name": "differential", "roles": ["*"], "failover_timeout": 0,
                    "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}, {"type": "TASK_KILLING_STATE"}]});
    let mut s = Session::subscribe(base, fi).await;
    s.next("HEARTBEAT").await;
    let offers = s.next("OFFERS").await;
    let list = offers["offers"]["offers"].as_array().unwrap().clone();
    let first = &list[0];
    let agent = first["agent_id"].clone();
    let launch = json!({"offer_ids": [first["id"]], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task("g1", &agent, "sleep 2")]}}], "filters": {"refuse_seconds": 1}});
    let c = s.c("ACCEPT", Some(("accept", launch)));
    s.call("ACCEPT", c).await;
    let rest: Vec<Value> = list[1..].iter().map(|o| o["id"].clone()).collect();
    if !rest.is_empty() {
        let c = s.c(
            "DECLINE",
            Some((
                "decline",
                json!({"offer_ids": rest, "filters": {"refuse_seconds": 3600}}),
            )),
        );
        s.call("DECLINE", c).await;
    }
    s.update().await; // STARTING
    s.update().await; // RUNNING
    let c = s.c("RECONCILE", Some(("reconcile", json!({"tasks": []}))));
    s.call("RECONCILE implicit", c).await;
    s.update().await;
    let c = s.c("RECONCILE", Some(("reconcile", json!({"tasks": [{"task_id": {"value": "g1"}}, {"task_id": {"value": "nope"}, "agent_id": agent}, {"task_id": {"value": "nope2"}}]}))));
    s.call("RECONCILE explicit", c).await;
    for _ in 0..3 {
        s.update().await;
    }
    let c = s.c(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "unknown-task"}}))),
    );
    s.call("KILL unknown", c).await;
    s.update().await;
    s.update().await; // FINISHED
    let stale = json!({"offer_ids": [first["id"]], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task("g2", &agent, "true")]}}]});
    let c = s.c("ACCEPT", Some(("accept", stale)));
    s.call("ACCEPT stale offer", c).await;
    s.update().await;
    let json_ct = ("Content-Type", "application/json");
    let suppress = s.c("SUPPRESS", None).to_string();
    s.raw(
        "wrong stream id",
        &[json_ct, ("Mesos-Stream-Id", "not-the-stream")],
        suppress.clone(),
    )
    .await;
    s.raw("no stream id", &[json_ct], suppress).await;
    s.raw(
        "unknown framework",
        &[json_ct, ("Mesos-Stream-Id", &s.stream_id.clone())],
        json!({"framework_id": {"value": "no-such"}, "type": "SUPPRESS"}).to_string(),
    )
    .await;
    s.raw("not json", &[json_ct], "{not json".into()).await;
    s.raw(
        "charset",
        &[("Content-Type", "application/json; charset=utf-8")],
        "{}".into(),
    )
    .await;
    s.raw(
        "no type",
        &[json_ct],
        json!({"framework_id": s.framework}).to_string(),
    )
    .await;
    s.raw(
        "accept html",
        &[json_ct, ("Accept", "text/html")],
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "root", "name": "x"}}})
            .to_string(),
    )
    .await;
    let c = s.c("TEARDOWN", None);
    s.call("TEARDOWN", c).await;
    s.log
}

#[test]
fn the_emulated_master_answers_a_scripted_session_like_the_real_one() {
    let Some(real) = master("the_emulated_master_answers_a_scripted_session_like_the_real_one") else {
        return;
    };
    let _g = crate::real_mesos::CLUSTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rt = crate::runtime();
    let (theirs, ours) = rt.block_on(async {
        let theirs = script(&real).await;
        let emu = Master::start(
            "127.0.0.1:0",
            MasterConfig::default(),
            vec![AgentSpec::new("localhost", 4.0, 4096.0, 10000.0); 2],
        )
        .await
        .unwrap();
        let ours = script(&emu.addr().to_string()).await;
        (theirs, ours)
    });
    let mut diff = Vec::new();
    for i in 0..theirs.len().max(ours.len()) {
        let (a, b) = (theirs.get(i), ours.get(i));
        if a != b {
            diff.push(format!(
                "{i}:\n  real: {}\n  ours: {}",
                a.map_or("-", |s| s),
                b.map_or("-", |s| s)
            ));
        }
    }
    assert!(
        diff.is_empty(),
        "{} of {} lines differ:\n{}",
        diff.len(),
        theirs.len(),
        diff.join("\n")
    );
}
