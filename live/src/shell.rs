//! The tokio/hyper shell around [`Core`]: one dedicated connection for the SUBSCRIBE stream, a
//! pooled connection for calls (sent in order, with `Mesos-Stream-Id`), 307 redirects followed,
//! 503 retried with backoff, and the state file written before each batch of calls.
//!
//! [`Framework`] is the library API: [`Framework::submit`] returns a [`TaskHandle`], a future of
//! the task's one final [`Outcome`] (satyr's futures, in Rust), and [`Framework::map`] runs many
//! tasks with bounded concurrency.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use packing::Policy;
use proto::ContentType;
use proto::v1::scheduler::{Call, Event};
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{Action, Config, Core, Outcome, Progress, Snapshot};
use crate::{Error, TaskSpec};

/// Where and how to talk to the master.
#[derive(Clone, Debug)]
pub struct Connection {
    /// `host:port` of the master (a non-leader redirects us).
    pub master: String,
    /// Protobuf (default) or JSON, for calls and events alike.
    pub content_type: ContentType,
    /// HTTP basic authentication: principal and secret.
    pub credentials: Option<(String, String)>,
    /// Where the state is saved, so that a restarted adapter resumes the same framework.
    pub state_file: Option<PathBuf>,
    /// Print protocol warnings (rejected calls, reconnects) on stderr.
    pub verbose: bool,
    /// Receives a copy of every event from the master (for tests and tracing tools).
    pub tap: Option<mpsc::UnboundedSender<Event>>,
    /// Give up when the master cannot be subscribed to for this long (since the start, or since
    /// the framework was last subscribed): the run ends with [`Error::Master`]. `None` retries
    /// for ever.
    pub connect_timeout: Option<Duration>,
}

/// How long a framework keeps trying to reach its master by default.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

impl Connection {
    /// Protobuf to `master`, no credentials, no state file.
    pub fn new(master: impl Into<String>) -> Connection {
        Connection {
            master: master.into(),
            content_type: ContentType::Protobuf,
            credentials: None,
            state_file: None,
            verbose: false,
            tap: None,
            connect_timeout: Some(CONNECT_TIMEOUT),
        }
    }
}

/// Reads a state file written by an earlier run, if it exists.
pub fn load_state(path: &std::path::Path) -> Result<Option<Snapshot>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::State(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::State(format!("{}: {e}", path.display()))),
    }
}

fn save_state(path: &std::path::Path, s: &Snapshot) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(s).expect("a snapshot serializes");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::State(format!("{}: {e}", path.display())))
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone)]
struct Http {
    client: HttpClient,
    base: Arc<Mutex<String>>,
    content_type: ContentType,
    auth: Option<String>,
}

impl Http {
    fn new(conn: &Connection) -> Http {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: Arc::new(Mutex::new(conn.master.clone())),
            content_type: conn.content_type,
            auth: conn.credentials.as_ref().map(|(p, s)| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{p}:{s}"))
                )
            }),
        }
    }

    fn master(&self) -> String {
        self.base.lock().expect("not poisoned").clone()
    }

    fn request(&self, call: &Call, stream_id: Option<&str>) -> Request<Full<Bytes>> {
        let ct = self.content_type.media_type();
        let mut r = Request::post(format!("http://{}/api/v1/scheduler", self.master()))
            .header("Content-Type", ct)
            .header("Accept", ct);
        if let Some(id) = stream_id {
            r = r.header("Mesos-Stream-Id", id);
        }
        if let Some(a) = &self.auth {
            r = r.header("Authorization", a);
        }
        r.body(Full::new(Bytes::from(self.content_type.encode(call))))
            .expect("a valid request")
    }

    /// Follows a 307 from a non-leader: `Location: //host:port/api/v1/scheduler`.
    fn redirect(&self, location: Option<&hyper::header::HeaderValue>) {
        let Some(loc) = location.and_then(|l| l.to_str().ok()) else {
            return;
        };
        let rest = loc
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_start_matches("//");
        let host = rest.split('/').next().unwrap_or(rest);
        if !host.is_empty() {
            *self.base.lock().expect("not poisoned") = host.to_string();
        }
    }
}

enum Msg {
    Stream { generation: u64, item: StreamItem },
    CallFailed { kind: String, status: u16, body: String },
}

enum StreamItem {
    Opened(String),
    Event(Box<Event>),
    Ended(String),
    /// An answer no retry can change (authentication needed, not a Mesos master).
    Refused(String),
}

async fn subscribe(http: Http, call: Call, generation: u64, tx: mpsc::UnboundedSender<Msg>) {
    let send = |item| {
        let _ = tx.send(Msg::Stream { generation, item });
    };
    // A client of its own: the stream keeps its connection for as long as it lives.
    let client = Http {
        client: Client::builder(TokioExecutor::new()).build_http(),
        ..http.clone()
    };
    let response = match client.client.request(client.request(&call, None)).await {
        Ok(r) => r,
        Err(e) => {
            return send(StreamItem::Ended(format!(
                "cannot connect to {}: {e}",
                http.master()
            )));
        }
    };
    let status = response.status();
    if status == StatusCode::TEMPORARY_REDIRECT {
        http.redirect(response.headers().get("Location"));
        return send(StreamItem::Ended(format!("redirected to {}", http.master())));
    }
    if status != StatusCode::OK {
        let body = read_body(response.into_body()).await;
        let body = String::from_utf8_lossy(&body);
        return send(match status.as_u16() {
            401 if http.auth.is_none() => StreamItem::Refused(
                "the master requires authentication (401): give --principal and --secret".into(),
            ),
            401 => StreamItem::Refused(format!(
                "the master refused the credentials (401): check --principal and --secret ({})",
                body.trim()
            )),
            404 | 405 | 501 => StreamItem::Refused(format!(
                "SUBSCRIBE answered {status}: this server does not serve the Mesos V1 scheduler API \
                 at /api/v1/scheduler; is it a Mesos master?"
            )),
            _ => StreamItem::Ended(format!("SUBSCRIBE answered {status}: {body}")),
        });
    }
    let Some(stream_id) = response
        .headers()
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return send(StreamItem::Ended(
            "SUBSCRIBE answered 200 without Mesos-Stream-Id".into(),
        ));
    };
    let ct = response
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .and_then(ContentType::from_header)
        .unwrap_or(http.content_type);
    send(StreamItem::Opened(stream_id));
    let mut body = response.into_body();
    let mut decoder = proto::RecordDecoder::default();
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    decoder.push(&data);
                }
                loop {
                    match decoder.next_record() {
                        Ok(Some(record)) => match ct.decode::<Event>(&record) {
                            Ok(e) => send(StreamItem::Event(Box::new(e))),
                            Err(e) => return send(StreamItem::Ended(format!("undecodable event: {e}"))),
                        },
                        Ok(None) => break,
                        Err(e) => return send(StreamItem::Ended(format!("malformed stream: {e}"))),
                    }
                }
            }
            Some(Err(e)) => return send(StreamItem::Ended(format!("stream broke: {e}"))),
            None => return send(StreamItem::Ended("the master closed the stream".into())),
        }
    }
}

/// A whole response or request body; empty if it broke off (only error texts are read so).
async fn read_body<B: hyper::body::Body>(body: B) -> Bytes {
    body.collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default()
}

/// Sends calls one at a time, in order. Connection errors, 503 and 307 are retried here with
/// backoff (0.25 s doubling to 5 s) for up to [`CALL_DEADLINE`]; other answers are reported.
async fn caller(
    http: Http,
    mut rx: mpsc::UnboundedReceiver<(Call, Option<String>)>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    while let Some((call, stream_id)) = rx.recv().await {
        let kind = call.r#type().as_str_name().to_string();
        let started = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(250);
        let fail = |status: u16, body: String| {
            let _ = tx.send(Msg::CallFailed {
                kind: kind.clone(),
                status,
                body,
            });
        };
        loop {
            let left = CALL_DEADLINE.saturating_sub(started.elapsed());
            let result = tokio::time::timeout(
                left,
                http.client.request(http.request(&call, stream_id.as_deref())),
            )
            .await;
            let retry_because = match result {
                Err(_) => {
                    fail(0, format!("no answer in {} s", CALL_DEADLINE.as_secs()));
                    break;
                }
                Ok(Err(e)) => e.to_string(),
                Ok(Ok(response)) => {
                    let status = response.status();
                    if status.is_success() {
                        break;
                    }
                    if status == StatusCode::TEMPORARY_REDIRECT {
                        http.redirect(response.headers().get("Location"));
                        "307".to_string()
                    } else if status == StatusCode::SERVICE_UNAVAILABLE {
                        "503".to_string()
                    } else {
                        let body = read_body(response.into_body()).await;
                        fail(status.as_u16(), String::from_utf8_lossy(&body).into_owned());
                        break;
                    }
                }
            };
            if started.elapsed() + backoff >= CALL_DEADLINE {
                fail(
                    0,
                    format!("gave up after {} s: {retry_because}", CALL_DEADLINE.as_secs()),
                );
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

/// How long one call is retried (connection errors, 503, 307) before it is reported failed.
pub const CALL_DEADLINE: Duration = Duration::from_secs(75);

enum Command {
    Submit(Box<TaskSpec>, oneshot::Sender<Outcome>),
    Close,
    Progress(oneshot::Sender<Progress>),
}

/// What a finished framework reports.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The framework id the master assigned.
    pub framework_id: Option<String>,
    /// Every task's outcome, in submission order.
    pub outcomes: Vec<Outcome>,
}

/// A running framework: submit tasks, await their outcomes, then [`finish`](Framework::finish).
pub struct Framework {
    tx: mpsc::UnboundedSender<Command>,
    driver: tokio::task::JoinHandle<Result<Summary, Error>>,
}

/// The future of one task's final outcome.
pub struct TaskHandle {
    rx: oneshot::Receiver<Outcome>,
}

impl Future for TaskHandle {
    type Output = Result<Outcome, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.map_err(|_| Error::Stopped))
    }
}

impl Framework {
    /// Subscribes to the master and starts placing tasks with `policy`. With a state file that
    /// exists, resumes that framework and its tasks. Must be called inside a tokio runtime.
    pub fn start(mut conn: Connection, config: Config, policy: Policy) -> Result<Framework, Error> {
        conn.master = master_address(&conn.master)?;
        let snapshot = match &conn.state_file {
            Some(p) => load_state(p)?,
            None => None,
        };
        let core = Core::new(config, policy, snapshot)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = tokio::spawn(drive(core, conn, rx));
        Ok(Framework { tx, driver })
    }

    /// Submits a task; the handle resolves to its one final outcome. A task id submitted before
    /// (also in an earlier run with the same state file) is not launched again: its handle
    /// resolves to that task's outcome.
    pub fn submit(&self, spec: TaskSpec) -> TaskHandle {
        let (otx, rx) = oneshot::channel();
        let _ = self.tx.send(Command::Submit(Box::new(spec), otx));
        TaskHandle { rx }
    }

    /// Runs `specs` with at most `concurrency` of them submitted and unfinished at a time; the
    /// outcomes come back in input order.
    pub async fn map(&self, specs: Vec<TaskSpec>, concurrency: usize) -> Vec<Result<Outcome, Error>> {
        let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut handles = Vec::with_capacity(specs.len());
        for spec in specs {
            let permit = limit.clone().acquire_owned().await.expect("never closed");
            let h = self.submit(spec);
            handles.push(tokio::spawn(async move {
                let r = h.await;
                drop(permit);
                r
            }));
        }
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap_or(Err(Error::Stopped)));
        }
        out
    }

    /// Task counts right now.
    pub async fn progress(&self) -> Progress {
        let (otx, rx) = oneshot::channel();
        let _ = self.tx.send(Command::Progress(otx));
        rx.await.unwrap_or_default()
    }

    /// No more tasks: waits until every task is final, tears the framework down and reports.
    pub async fn finish(self) -> Result<Summary, Error> {
        let _ = self.tx.send(Command::Close);
        self.driver.await.unwrap_or(Err(Error::Stopped))
    }
}

/// Mesos's default port, for a master given without one.
pub const DEFAULT_PORT: u16 = 5050;

/// The master's `host:port` from what users type: `host:port`, `host` (port 5050),
/// `http://host:port`, each with or without the scheduler API's path or a trailing slash. HTTPS,
/// ZooKeeper URLs, other paths and things that are not a host are errors saying what to give.
///
/// ```
/// use live::shell::master_address;
/// assert_eq!(master_address("http://10.0.0.1:5050/api/v1/scheduler").unwrap(), "10.0.0.1:5050");
/// assert_eq!(master_address("mesos.local").unwrap(), "mesos.local:5050");
/// assert!(master_address("not a host").is_err());
/// ```
pub fn master_address(text: &str) -> Result<String, Error> {
    let err = |reason: &str| Error::Master {
        master: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    let rest = if let Some(r) = t.strip_prefix("http://") {
        r
    } else if t.starts_with("https://") {
        return Err(err(
            "packsim talks plain HTTP to the master, as Mesos serves its scheduler API; give \
             HOST:PORT or http://HOST:PORT",
        ));
    } else if t.starts_with("zk://") {
        return Err(err(
            "ZooKeeper master detection is not supported; give the leading master's HOST:PORT \
             (any master's /redirect names it)",
        ));
    } else if t.contains("://") {
        return Err(err("unknown scheme; give HOST:PORT or http://HOST:PORT"));
    } else {
        t
    };
    if rest.contains("://") {
        return Err(err(
            "the address repeats its scheme; give HOST:PORT or http://HOST:PORT",
        ));
    }
    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.trim_end_matches('/');
    if !matches!(
        path,
        "" | "/api/v1/scheduler" | "/master/api/v1/scheduler" | "/master"
    ) {
        return Err(err(&format!(
            "`{path}` is not the scheduler API's path; give the master's HOST:PORT (packsim adds /api/v1/scheduler)"
        )));
    }
    // `[v6]:port`, `[v6]`, `host:port`, `host`.
    let (host, port) = if let Some(end) = hostport.find(']').filter(|_| hostport.starts_with('[')) {
        let port = hostport[end + 1..].strip_prefix(':').unwrap_or("");
        (
            &hostport[..=end],
            if port.is_empty() {
                DEFAULT_PORT.to_string()
            } else {
                port.to_string()
            },
        )
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.to_string()),
            None => (hostport, DEFAULT_PORT.to_string()),
        }
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| err(&format!("`{port}` is not a port (1 to 65535)")))?;
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok {
        return Err(err(&format!(
            "`{host}` is not a host name or address; give HOST:PORT, e.g. 127.0.0.1:5050"
        )));
    }
    Ok(format!("{host}:{port}"))
}

/// A protocol warning (reconnects, rejected calls), said when the connection is verbose.
fn warn_if(verbose: bool, message: &str) {
    if verbose {
        eprintln!("packsim live: {message}");
    }
}

/// Whether the master can be reached: since when the framework has been without a subscription,
/// the tries that failed since, and when to give up.
struct Reach {
    timeout: Option<Duration>,
    unsubscribed_since: Duration,
    failed_tries: u32,
    last_failure: String,
}

impl Reach {
    fn new(timeout: Option<Duration>) -> Reach {
        Reach {
            timeout,
            unsubscribed_since: Duration::ZERO,
            failed_tries: 0,
            last_failure: String::from("no answer yet"),
        }
    }

    /// Subscribed at `now` (or just lost a subscription): the clock starts again.
    fn subscribed(&mut self, now: Duration) {
        self.unsubscribed_since = now;
        self.failed_tries = 0;
    }

    /// When to give up, if ever.
    fn give_up_at(&self) -> Option<Duration> {
        self.timeout.map(|l| self.unsubscribed_since + l)
    }

    /// A try failed because of `why`; the next is in `retry`. Said on stderr (tracing) every
    /// time; an error once the timeout has passed.
    fn failed(&mut self, now: Duration, why: String, retry: Duration, master: &str) -> Result<(), Error> {
        self.failed_tries += 1;
        self.last_failure = why;
        if self.give_up_at().is_some_and(|at| now >= at) {
            return Err(self.give_up(master));
        }
        tracing::warn!(
            "master {master}: {}; try {} failed, next in {:.1} s{}",
            self.last_failure,
            self.failed_tries,
            retry.as_secs_f64(),
            self.timeout
                .map(|l| format!(", giving up after {:.0} s", l.as_secs_f64()))
                .unwrap_or_default()
        );
        Ok(())
    }

    fn give_up(&self, master: &str) -> Error {
        Error::Master {
            master: master.to_string(),
            reason: format!(
                "could not subscribe in {:.0} s ({} tries; the last: {}); check the address, or give \
                 a longer --connect-timeout",
                self.timeout.unwrap_or_default().as_secs_f64(),
                self.failed_tries,
                self.last_failure
            ),
        }
    }
}

async fn drive(
    mut core: Core,
    conn: Connection,
    mut commands: mpsc::UnboundedReceiver<Command>,
) -> Result<Summary, Error> {
    let start = Instant::now();
    let now = || start.elapsed();
    let http = Http::new(&conn);
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let (call_tx, call_rx) = mpsc::unbounded_channel();
    let caller_task = tokio::spawn(caller(http.clone(), call_rx, msg_tx.clone()));
    let mut stream: Option<tokio::task::JoinHandle<()>> = None;
    let mut generation = 0u64;
    let mut stream_id: Option<String> = None;
    let mut waiters: BTreeMap<String, Vec<oneshot::Sender<Outcome>>> = BTreeMap::new();
    let mut commands_open = true;
    let warn = |m: String| warn_if(conn.verbose, &m);
    core.start(now());
    let mut reach = Reach::new(conn.connect_timeout);
    loop {
        if core.is_subscribed() {
            reach.subscribed(now());
        }
        if core.take_dirty() {
            if let Some(p) = &conn.state_file {
                save_state(p, &core.snapshot())?;
            }
        }
        let mut done = false;
        while let Some(a) = core.poll_action() {
            match a {
                Action::Subscribe(c) => {
                    if let Some(s) = stream.take() {
                        s.abort();
                    }
                    generation += 1;
                    stream_id = None;
                    stream = Some(tokio::spawn(subscribe(
                        http.clone(),
                        c,
                        generation,
                        msg_tx.clone(),
                    )));
                }
                Action::Call(c) => {
                    let _ = call_tx.send((c, stream_id.clone()));
                }
                Action::Disconnect => {
                    if let Some(s) = stream.take() {
                        s.abort();
                    }
                    generation += 1;
                    stream_id = None;
                }
                Action::Outcome(o) => {
                    for w in waiters.remove(&o.task_id).unwrap_or_default() {
                        let _ = w.send(o.clone());
                    }
                }
                Action::Done => done = true,
                Action::Abort(m) => {
                    if let Some(s) = stream.take() {
                        s.abort();
                    }
                    return Err(Error::Aborted(m));
                }
            }
        }
        if done {
            // The last calls (the final ACKNOWLEDGEs, TEARDOWN) go out while the subscription is
            // still open: closed first, the master answered them 403 and kept the framework.
            drop(call_tx);
            let _ = caller_task.await;
            if let Some(s) = stream.take() {
                s.abort();
            }
            return Ok(Summary {
                framework_id: core.framework_id().map(str::to_string),
                outcomes: core.outcomes().into_iter().flatten().cloned().collect(),
            });
        }
        // While unsubscribed, wake up at the give-up time too.
        let give_up_at = (!core.is_subscribed()).then(|| reach.give_up_at()).flatten();
        let deadline = match (core.next_deadline(), give_up_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|d| tokio::time::Instant::from_std(start + d));
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            cmd = commands.recv(), if commands_open => match cmd {
                Some(Command::Submit(spec, w)) => {
                    let id = spec.id().to_string();
                    if !core.submit(now(), *spec) {
                        if let Some(o) = core.outcome_of(&id) {
                            let _ = w.send(o.clone());
                            continue;
                        }
                    }
                    waiters.entry(id).or_default().push(w);
                }
                Some(Command::Progress(w)) => { let _ = w.send(core.progress()); }
                Some(Command::Close) | None => { commands_open = false; core.close(); }
            },
            Some(m) = msgs.recv() => match m {
                Msg::Stream { generation: g, item } if g == generation => match item {
                    StreamItem::Opened(id) => stream_id = Some(id),
                    StreamItem::Event(e) => {
                        if let Some(t) = &conn.tap {
                            let _ = t.send((*e).clone());
                        }
                        core.on_event(now(), *e);
                    }
                    StreamItem::Refused(reason) => return Err(Error::Master { master: http.master(), reason }),
                    StreamItem::Ended(why) => {
                        let was_subscribed = core.is_subscribed();
                        stream = None;
                        core.on_disconnected(now());
                        if was_subscribed {
                            warn(format!("subscription ended: {why}"));
                            reach.subscribed(now());
                        } else {
                            let retry = core.next_deadline().map_or(Duration::ZERO, |d| d.saturating_sub(now()));
                            reach.failed(now(), why, retry, &http.master())?;
                        }
                    }
                },
                Msg::Stream { .. } => {}
                Msg::CallFailed { kind, status, body } => {
                    warn(format!("{kind} answered {status}: {body}"));
                    core.on_call_failed(now(), status);
                }
            },
            () = sleep => {
                if give_up_at.is_some_and(|at| now() >= at) && !core.is_subscribed() {
                    if let Some(s) = stream.take() {
                        s.abort();
                    }
                    return Err(reach.give_up(&http.master()));
                }
                core.tick(now());
            }
        }
    }
}

/// Runs a whole task list to completion (mesos-batch), calling `progress` whenever counts change.
pub async fn run_batch(
    conn: Connection,
    config: Config,
    policy: Policy,
    specs: Vec<TaskSpec>,
    mut progress: impl FnMut(Progress),
) -> Result<Summary, Error> {
    let total = specs.len();
    let fw = Framework::start(conn, config, policy)?;
    let handles: Vec<TaskHandle> = specs.into_iter().map(|s| fw.submit(s)).collect();
    let mut last = Progress::default();
    let mut all = Box::pin(all_final(handles));
    loop {
        tokio::select! {
            _ = &mut all => break,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                let p = fw.progress().await;
                if p != last {
                    progress(p);
                    last = p;
                }
            }
        }
    }
    let summary = fw.finish().await?;
    let finished = summary.outcomes.iter().filter(|o| o.state.is_success()).count();
    progress(Progress {
        queued: 0,
        running: 0,
        finished,
        failed: total - finished,
    });
    Ok(summary)
}

/// Resolves once every handle has.
async fn all_final(handles: Vec<TaskHandle>) {
    for h in handles {
        let _ = h.await;
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn the_forms_users_type_name_the_same_master() {
        for text in [
            "127.0.0.1:5050",
            " 127.0.0.1:5050 ",
            "http://127.0.0.1:5050",
            "http://127.0.0.1:5050/",
            "http://127.0.0.1:5050/api/v1/scheduler",
            "127.0.0.1:5050/master/api/v1/scheduler",
            "127.0.0.1",
        ] {
            assert_eq!(master_address(text).unwrap(), "127.0.0.1:5050", "{text}");
        }
        assert_eq!(master_address("[::1]:7070").unwrap(), "[::1]:7070");
        assert_eq!(master_address("[::1]").unwrap(), "[::1]:5050");
    }

    #[test]
    fn what_cannot_be_a_master_is_an_error_saying_what_to_give() {
        let said = |text: &str| master_address(text).unwrap_err().to_string();
        assert!(
            said("not a host").contains("`not a host` is not a host name"),
            "{}",
            said("not a host")
        );
        assert!(said("https://m:5050").contains("plain HTTP"));
        assert!(said("zk://z:2181/mesos").contains("ZooKeeper"));
        assert!(said("127.0.0.1:99999").contains("`99999` is not a port"));
        assert!(said("127.0.0.1:5050/state").contains("`/state` is not the scheduler API's path"));
        assert!(said("http://http://m:5050").contains("repeats its scheme"));
    }
}
