//! The emulated master's HTTP server (hyper 1, HTTP/1.1): `/api/v1/scheduler` (and
//! `/master/api/v1/scheduler`) with the real master's checks in the real master's order,
//! `GET /version`, `/state`, `/redirect`, and `POST /admin/fault` for fault injection.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use proto::ContentType;
use proto::v1::scheduler::{Call, call};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::state::{MasterState, Out, error_event};
use crate::{AgentSpec, MasterConfig};

/// A whole request body; empty if it broke off (a body the client cut short is a bad request).
async fn read_body(body: Incoming) -> Bytes {
    body.collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default()
}

type Resp = Response<BoxBody<Bytes, Infallible>>;

/// A fault to inject, as `POST /admin/fault` takes it in JSON (`{"fault": "drop-streams"}`, ...).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// Close every subscription stream.
    DropStreams,
    /// Answer 503 to every scheduler call for `seconds`.
    Unavailable {
        /// How long.
        seconds: f64,
    },
    /// Answer 307 to `leader` (host:port) for `seconds`, as a non-leading master.
    NotLeader {
        /// How long.
        seconds: f64,
        /// Where to send clients (default: this master itself).
        leader: Option<String>,
    },
    /// Lose agent number `agent` (0-based): RESCIND, UPDATEs, FAILURE.
    LoseAgent {
        /// Which.
        agent: usize,
    },
    /// Send every reliable status update twice (or stop doing so).
    DuplicateUpdates {
        /// On or off.
        on: bool,
    },
    /// Hold status updates of newly launched tasks this much longer.
    DelayUpdates {
        /// Seconds.
        seconds: f64,
    },
}

struct StreamSink {
    tx: mpsc::UnboundedSender<Bytes>,
    ct: ContentType,
}

struct Shared {
    state: MasterState,
    streams: BTreeMap<String, StreamSink>,
    unavailable_until: Option<Duration>,
    not_leader: Option<(Duration, String)>,
    start: Instant,
    address: String,
}

impl Shared {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn flush(&mut self) {
        let now = self.now();
        // Streams whose client went away: the framework is disconnected.
        let gone: Vec<String> = self
            .streams
            .iter()
            .filter(|(_, s)| s.tx.is_closed())
            .map(|(k, _)| k.clone())
            .collect();
        for s in gone {
            self.streams.remove(&s);
            self.state.stream_closed(now, &s);
        }
        for o in self.state.take_out() {
            match o {
                Out::Event { stream, event } => {
                    let Some(sink) = self.streams.get(&stream) else {
                        continue;
                    };
                    let frame = proto::recordio::encode(&sink.ct.encode(event.as_ref()));
                    if sink.tx.send(Bytes::from(frame)).is_err() {
                        self.streams.remove(&stream);
                        self.state.stream_closed(now, &stream);
                    }
                }
                Out::Close { stream } => {
                    self.streams.remove(&stream);
                }
            }
        }
    }
}

/// A running emulated master.
pub struct Master {
    shared: Arc<Mutex<Shared>>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Master {
    /// Binds `listen` (e.g. `127.0.0.1:0`) and serves until dropped. Must run inside tokio.
    pub async fn start(
        listen: &str,
        mut config: MasterConfig,
        agents: Vec<AgentSpec>,
    ) -> std::io::Result<Master> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        config.port = addr.port();
        if config.epoch == 0.0 {
            config.epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
        }
        let shared = Arc::new(Mutex::new(Shared {
            state: MasterState::new(config, agents),
            streams: BTreeMap::new(),
            unavailable_until: None,
            not_leader: None,
            start: Instant::now(),
            address: addr.to_string(),
        }));
        let s2 = shared.clone();
        let ticker = tokio::spawn(tick_loop(shared.clone()));
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let s = s2.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let s = s.clone();
                        async move { Ok::<_, Infallible>(handle(&s, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        Ok(Master {
            shared,
            addr,
            task,
            ticker,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Injects a fault now.
    pub fn inject(&self, fault: &Fault) -> Result<(), String> {
        inject(&mut self.shared.lock().expect("not poisoned"), fault)
    }

    /// Per task id: launches and finished runs.
    pub fn runs(&self) -> BTreeMap<String, (u32, u32)> {
        self.shared.lock().expect("not poisoned").state.runs().clone()
    }

    /// The `/state` document.
    pub fn state(&self) -> serde_json::Value {
        self.shared.lock().expect("not poisoned").state.state_json()
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.task.abort();
        self.ticker.abort();
        self.shared.lock().map(|mut s| s.streams.clear()).ok();
    }
}

fn inject(s: &mut Shared, fault: &Fault) -> Result<(), String> {
    let now = s.now();
    let secs = |x: f64| Duration::from_secs_f64(x.clamp(0.0, 1e6));
    match fault {
        Fault::DropStreams => {
            s.state.drop_streams(now);
        }
        Fault::Unavailable { seconds } => s.unavailable_until = Some(now + secs(*seconds)),
        Fault::NotLeader { seconds, leader } => {
            s.not_leader = Some((
                now + secs(*seconds),
                leader.clone().unwrap_or_else(|| s.address.clone()),
            ));
        }
        Fault::LoseAgent { agent } => {
            if !s.state.lose_agent(now, *agent) {
                return Err(format!(
                    "there is no agent {agent} (the cluster has {})",
                    s.state.agent_count()
                ));
            }
        }
        Fault::DuplicateUpdates { on } => s.state.duplicate_updates = *on,
        Fault::DelayUpdates { seconds } => s.state.delay_updates = secs(*seconds),
    }
    s.flush();
    Ok(())
}

async fn tick_loop(shared: Arc<Mutex<Shared>>) {
    loop {
        let wait = {
            let mut s = shared.lock().expect("not poisoned");
            let now = s.now();
            s.state.tick(now);
            s.flush();
            s.state.next_deadline().saturating_sub(s.now())
        };
        // Also wake now and then to notice clients that went away.
        tokio::time::sleep(wait.clamp(Duration::from_millis(2), Duration::from_millis(200))).await;
    }
}

fn text(status: u16, body: impl Into<String>) -> Resp {
    let body = body.into();
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !r.body().is_end_stream() {
        r.headers_mut().insert(
            "Content-Type",
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    r
}

fn json(value: &serde_json::Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(value.to_string())).boxed());
    r.headers_mut()
        .insert("Content-Type", HeaderValue::from_static("application/json"));
    r
}

/// A response body fed by a channel: the subscription stream.
struct ChannelBody {
    rx: mpsc::UnboundedReceiver<Bytes>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

async fn handle(shared: &Arc<Mutex<Shared>>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let path = path.strip_prefix("/master").unwrap_or(&path).to_string();
    match (req.method().clone(), path.as_str()) {
        (_, "/api/v1/scheduler") => scheduler(shared, req).await,
        (Method::GET, "/version") => {
            json(&serde_json::json!({"version": "1.11.0", "git_tag": "1.11.0", "build_user": "packsim"}))
        }
        (Method::GET, "/state" | "/state.json") => {
            json(&shared.lock().expect("not poisoned").state.state_json())
        }
        (Method::GET, "/redirect") => {
            let addr = shared.lock().expect("not poisoned").address.clone();
            let mut r = text(307, "");
            r.headers_mut().insert(
                "Location",
                HeaderValue::from_str(&format!("//{addr}")).expect("valid header"),
            );
            r
        }
        (Method::POST, "/admin/fault") => {
            let body = read_body(req.into_body()).await;
            match serde_json::from_slice::<Fault>(&body) {
                Ok(f) => match inject(&mut shared.lock().expect("not poisoned"), &f) {
                    Ok(()) => text(200, ""),
                    Err(e) => text(400, e),
                },
                Err(e) => text(400, format!("not a fault: {e}")),
            }
        }
        _ => text(404, ""),
    }
}

/// The media type a SUBSCRIBE's `Accept` allows, JSON first, as the master negotiates.
fn negotiate(accept: Option<&str>) -> Option<ContentType> {
    let Some(accept) = accept else {
        return Some(ContentType::Json);
    };
    let mut json = false;
    let mut pb = false;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q_zero =
            parts.any(|p| p.strip_prefix("q=").and_then(|q| q.trim().parse::<f64>().ok()) == Some(0.0));
        if q_zero {
            continue;
        }
        match media.as_str() {
            "*/*" | "application/*" => {
                json = true;
                pb = true;
            }
            "application/json" => json = true,
            "application/x-protobuf" => pb = true,
            _ => {}
        }
    }
    if json {
        Some(ContentType::Json)
    } else if pb {
        Some(ContentType::Protobuf)
    } else {
        None
    }
}

fn validate(c: &Call) -> Result<(), String> {
    use call::Type as T;
    let v = |m: &str| Err(format!("Failed to validate scheduler::Call: {m}"));
    let Some(t) = c.r#type else {
        return v("Expecting 'type' to be present");
    };
    let t = T::try_from(t).unwrap_or(T::Unknown);
    if t == T::Subscribe {
        let Some(s) = &c.subscribe else {
            return v("Expecting 'subscribe' to be present");
        };
        if let (Some(a), Some(b)) = (&c.framework_id, &s.framework_info.id) {
            if a.value != b.value {
                return v("'framework_id' differs from 'subscribe.framework_info.id'");
            }
        } else if c.framework_id.is_some() {
            return v("'framework_id' differs from 'subscribe.framework_info.id'");
        }
        return Ok(());
    }
    if c.framework_id.is_none() {
        return v("Expecting 'framework_id' to be present");
    }
    let missing = match t {
        T::Accept => c.accept.is_none().then_some("accept"),
        T::Decline => c.decline.is_none().then_some("decline"),
        T::Kill => c.kill.is_none().then_some("kill"),
        T::Shutdown => c.shutdown.is_none().then_some("shutdown"),
        T::Acknowledge => c.acknowledge.is_none().then_some("acknowledge"),
        T::Message => c.message.is_none().then_some("message"),
        T::Request => c.request.is_none().then_some("request"),
        T::AcceptInverseOffers => c
            .accept_inverse_offers
            .is_none()
            .then_some("accept_inverse_offers"),
        T::DeclineInverseOffers => c
            .decline_inverse_offers
            .is_none()
            .then_some("decline_inverse_offers"),
        T::AcknowledgeOperationStatus => c
            .acknowledge_operation_status
            .is_none()
            .then_some("acknowledge_operation_status"),
        T::UpdateFramework => c.update_framework.is_none().then_some("update_framework"),
        _ => None,
    };
    match missing {
        Some(m) => v(&format!("Expecting '{m}' to be present")),
        None => Ok(()),
    }
}

async fn scheduler(shared: &Arc<Mutex<Shared>>, req: Request<Incoming>) -> Resp {
    {
        let s = shared.lock().expect("not poisoned");
        let now = s.now();
        if let Some((until, leader)) = &s.not_leader {
            if now < *until {
                let mut r = text(307, "");
                r.headers_mut().insert(
                    "Location",
                    HeaderValue::from_str(&format!("//{leader}/api/v1/scheduler")).expect("valid header"),
                );
                return r;
            }
        }
        if s.unavailable_until.is_some_and(|u| now < u) {
            return text(503, "Master has not finished recovery");
        }
    }
    if req.method() != Method::POST {
        return text(
            405,
            format!("Expecting one of {{ 'POST' }}, but received '{}'", req.method()),
        );
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let Some(ct_header) = header("Content-Type") else {
        return text(400, "Expecting 'Content-Type' to be present");
    };
    let Some(ct) = ContentType::from_header(&ct_header) else {
        return text(
            415,
            format!(
                "Expecting 'Content-Type' of application/json or application/x-protobuf but received '{ct_header}'"
            ),
        );
    };
    let accept = header("Accept");
    let stream_header = header("Mesos-Stream-Id");
    let body = read_body(req.into_body()).await;
    let call: Call = match ct {
        ContentType::Json => match proto::json::from_slice(&body) {
            Ok(c) => c,
            Err(proto::Error::Syntax(e)) => return text(400, format!("Failed to parse body into JSON: {e}")),
            Err(proto::Error::MissingRequired { fields, .. }) => {
                return text(
                    400,
                    format!(
                        "Failed to convert JSON into Call protobuf: Missing required fields: {}",
                        fields.join(", ")
                    ),
                );
            }
            Err(e) => return text(400, format!("Failed to convert JSON into Call protobuf: {e}")),
        },
        ContentType::Protobuf => match ContentType::Protobuf.decode::<Call>(&body) {
            Ok(c) => c,
            Err(proto::Error::MissingRequired { fields, .. }) => {
                return text(
                    400,
                    format!(
                        "Failed to parse body into Call protobuf: Missing required fields: {}",
                        fields.join(", ")
                    ),
                );
            }
            Err(_) => return text(400, "Failed to parse body into Call protobuf"),
        },
    };
    if let Err(m) = validate(&call) {
        return text(400, m);
    }
    let mut s = shared.lock().expect("not poisoned");
    let now = s.now();
    if call.r#type() == call::Type::Subscribe {
        let Some(out_ct) = negotiate(accept.as_deref()) else {
            return text(
                406,
                "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
            );
        };
        if stream_header.is_some() {
            return text(
                400,
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            );
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mut r = Response::new(BodyExt::boxed(ChannelBody { rx }));
        r.headers_mut()
            .insert("Content-Type", HeaderValue::from_static(out_ct.media_type()));
        match s.state.subscribe(now, &call) {
            Ok(stream) => {
                r.headers_mut().insert(
                    "Mesos-Stream-Id",
                    HeaderValue::from_str(&stream).expect("uuid text"),
                );
                s.streams.insert(stream, StreamSink { tx, ct: out_ct });
                s.flush();
            }
            Err(Ok(message)) => {
                // Invalid FrameworkInfo: 200, one ERROR event, then the stream closes.
                let frame = proto::recordio::encode(&out_ct.encode(&error_event(&message)));
                let _ = tx.send(Bytes::from(frame));
            }
            Err(Err((code, m))) => return text(code, m),
        }
        return r;
    }
    if let Err((code, m)) = s.state.authorize(&call, stream_header.as_deref()) {
        return text(code, m);
    }
    let result = s.state.call(now, call);
    s.flush();
    match result {
        Ok(code) => text(code, ""),
        Err((code, m)) => text(code, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation_prefers_json() {
        assert_eq!(negotiate(None), Some(ContentType::Json));
        assert_eq!(
            negotiate(Some("application/x-protobuf")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            negotiate(Some("application/x-protobuf, application/json;q=0.5")),
            Some(ContentType::Json)
        );
        assert_eq!(
            negotiate(Some("application/json;q=0, application/x-protobuf")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/recordio")), None);
        assert_eq!(negotiate(Some("*/*")), Some(ContentType::Json));
    }
}
