//! The tokio/hyper shell around [`Core`]: one dedicated connection for the SUBSCRIBE stream, a
//! pooled connection for calls (sent in order, with `Mesos-Stream-Id`, each tagged with the
//! subscription it belongs to), 307 redirects followed, 503 retried with backoff, and the core's
//! changes appended to the state file before each batch of calls.
//!
//! [`Framework`] is the library API: [`Framework::submit`] returns a [`TaskHandle`], a future of
//! the task's one final [`Outcome`] (satyr's futures, in Rust), and [`Framework::map`] runs many
//! tasks with bounded concurrency.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use packing::Policy;
use proto::ContentType;
use proto::v1::scheduler::Event;
use tokio::sync::{mpsc, oneshot};

mod address;
mod http;

pub use address::{DEFAULT_PORT, master_address};
pub use http::CALL_DEADLINE;

use address::Reach;
use http::{Http, Msg, Outgoing, StreamItem, caller, subscribe};

use crate::protocol::{Action, Config, Core, Outcome, Progress, Stop};
use crate::state::{self, Journal};
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

type Waiter = oneshot::Sender<Result<Outcome, Error>>;

enum Command {
    Submit(Box<TaskSpec>, Waiter),
    Close,
    Stop(Stop, String),
    /// Task counts and the framework id.
    Status(oneshot::Sender<(Progress, Option<String>)>),
}

/// What a finished framework reports.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The framework id the master assigned.
    pub framework_id: Option<String>,
    /// Every final outcome, in submission order.
    pub outcomes: Vec<Outcome>,
    /// Whether the run was detached ([`Stop::Detach`]): the tasks in `unfinished` still run under
    /// the framework, and a run with the same state file resumes them.
    pub detached: bool,
    /// The tasks without a final outcome (only after a detach), in submission order.
    pub unfinished: Vec<String>,
}

/// A running framework: submit tasks, await their outcomes, then [`finish`](Framework::finish).
pub struct Framework {
    tx: mpsc::UnboundedSender<Command>,
    driver: tokio::task::JoinHandle<Result<Summary, Error>>,
}

/// The future of one task's final outcome: an error ([`Error::Stopped`], saying why) if the
/// framework stops first (it cannot reach the master, it was detached, or it was dropped).
pub struct TaskHandle {
    rx: oneshot::Receiver<Result<Outcome, Error>>,
}

impl Future for TaskHandle {
    type Output = Result<Outcome, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(not_running())))
    }
}

fn not_running() -> Error {
    Error::Stopped("the framework is not running".into())
}

impl Framework {
    /// Subscribes to the master and starts placing tasks with `policy`. With a state file that
    /// exists, resumes that framework and its tasks. Must be called inside a tokio runtime.
    pub fn start(mut conn: Connection, config: Config, policy: Policy) -> Result<Framework, Error> {
        conn.master = master_address(&conn.master)?;
        let (snapshot, journal) = match &conn.state_file {
            Some(p) => {
                let s = state::load(p)?;
                // Rewritten compactly now, so that an unwritable path fails before anything runs.
                let j = Journal::create(p, &s.clone().unwrap_or_default())?;
                (s, Some(j))
            }
            None => (None, None),
        };
        let mut core = Core::new(config, policy, snapshot)?;
        core.set_wall_clock(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = tokio::spawn(drive(core, conn, journal, rx));
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
            out.push(h.await.unwrap_or_else(|_| Err(not_running())));
        }
        out
    }

    /// Task counts right now.
    pub async fn progress(&self) -> Progress {
        self.status().await.0
    }

    /// The framework id, once the master has assigned one.
    pub async fn framework_id(&self) -> Option<String> {
        self.status().await.1
    }

    async fn status(&self) -> (Progress, Option<String>) {
        let (otx, rx) = oneshot::channel();
        let _ = self.tx.send(Command::Status(otx));
        rx.await.unwrap_or_default()
    }

    /// Ends the run early (an interrupt): [`Stop::Teardown`] kills the running tasks and removes
    /// the framework; [`Stop::Detach`] leaves them running for a later run with the same state
    /// file. `why` goes into the outcomes. Then await [`finish`](Framework::finish).
    pub fn stop(&self, how: Stop, why: &str) {
        let _ = self.tx.send(Command::Stop(how, why.to_string()));
    }

    /// No more tasks: waits until every task is final, tears the framework down and reports.
    pub async fn finish(self) -> Result<Summary, Error> {
        let _ = self.tx.send(Command::Close);
        self.driver.await.unwrap_or_else(|_| Err(not_running()))
    }
}

/// A protocol warning (reconnects, rejected calls), said when the connection is verbose.
fn warn_if(verbose: bool, message: &str) {
    if verbose {
        eprintln!("packsim live: {message}");
    }
}

/// Runs the framework until it is done, detached or gives up, then resolves every task future
/// still waiting with an error saying why.
async fn drive(
    core: Core,
    conn: Connection,
    journal: Option<Journal>,
    commands: mpsc::UnboundedReceiver<Command>,
) -> Result<Summary, Error> {
    let mut waiters: BTreeMap<String, Vec<Waiter>> = BTreeMap::new();
    let result = drive_until_done(core, conn, journal, commands, &mut waiters).await;
    let why = match &result {
        Ok(s) if s.detached => format!(
            "detached: the task still runs under framework {}",
            s.framework_id.as_deref().unwrap_or("-")
        ),
        Ok(_) => "the framework finished".into(),
        Err(e) => e.to_string(),
    };
    for w in waiters.into_values().flatten() {
        let _ = w.send(Err(Error::Stopped(why.clone())));
    }
    result
}

/// Appends the core's changes to the journal (compacting it when it has grown).
fn persist(core: &mut Core, journal: &mut Journal) -> Result<(), Error> {
    let changes = core.take_changes();
    if !changes.is_empty() {
        journal.append(&changes)?;
        if journal.wants_compaction(core.task_count()) {
            journal.compact(&core.snapshot())?;
        }
    }
    Ok(())
}

/// Ends the subscription stream's task, if any: what it still says is ignored.
fn close_stream(
    stream: &mut Option<tokio::task::JoinHandle<()>>,
    generation: &mut u64,
    stream_id: &mut Option<String>,
) {
    if let Some(s) = stream.take() {
        s.abort();
    }
    *generation += 1;
    *stream_id = None;
}

async fn drive_until_done(
    mut core: Core,
    conn: Connection,
    mut journal: Option<Journal>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    waiters: &mut BTreeMap<String, Vec<Waiter>>,
) -> Result<Summary, Error> {
    let start = Instant::now();
    let now = || start.elapsed();
    let http = Http::new(&conn);
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    let (call_tx, call_rx) = mpsc::unbounded_channel::<Outgoing>();
    let caller_task = tokio::spawn(caller(http.clone(), call_rx, msg_tx.clone()));
    let mut stream: Option<tokio::task::JoinHandle<()>> = None;
    let mut generation = 0u64;
    let mut stream_id: Option<String> = None;
    let mut commands_open = true;
    let warn = |m: String| warn_if(conn.verbose, &m);
    core.start(now());
    let mut reach = Reach::new(conn.connect_timeout);
    loop {
        if core.is_subscribed() {
            reach.subscribed(now());
        }
        if let Some(j) = &mut journal {
            persist(&mut core, j)?;
        }
        let mut done = false;
        while let Some(a) = core.poll_action() {
            match a {
                Action::Subscribe(c) => {
                    close_stream(&mut stream, &mut generation, &mut stream_id);
                    stream = Some(tokio::spawn(subscribe(
                        http.clone(),
                        c,
                        generation,
                        msg_tx.clone(),
                    )));
                }
                Action::Call(c) => {
                    let _ = call_tx.send((c, stream_id.clone(), core.subscription()));
                }
                Action::Disconnect => close_stream(&mut stream, &mut generation, &mut stream_id),
                Action::Outcome(o) => {
                    for w in waiters.remove(&o.task_id).unwrap_or_default() {
                        let _ = w.send(Ok(o.clone()));
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
                detached: core.is_detached(),
                unfinished: core.unfinished().into_iter().map(str::to_string).collect(),
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
                            let _ = w.send(Ok(o.clone()));
                            continue;
                        }
                    }
                    waiters.entry(id).or_default().push(w);
                }
                Some(Command::Status(w)) => {
                    let _ = w.send((core.progress(), core.framework_id().map(str::to_string)));
                }
                Some(Command::Stop(how, why)) => core.stop(now(), how, &why),
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
                Msg::CallFailed { kind, status, body, subscription } => {
                    warn(format!("{kind} answered {status}: {body}"));
                    core.on_call_failed(now(), status, subscription);
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

/// What [`run_batch`] tells its caller while it runs; every method does nothing by default.
pub trait Watch {
    /// Task counts changed.
    fn progress(&mut self, _progress: Progress) {}
    /// The master assigned (or, on a resumed run, confirmed) the framework id.
    fn subscribed(&mut self, _framework_id: &str) {}
    /// The run is being stopped early.
    fn stopping(&mut self, _how: Stop, _why: &str) {}
}

/// Watches nothing.
impl Watch for () {}

/// Runs a whole task list to completion (mesos-batch), telling `watch` what happens. When `stop`
/// resolves first (e.g. on a signal), the run is stopped as it says: see [`Framework::stop`].
pub async fn run_batch(
    conn: Connection,
    config: Config,
    policy: Policy,
    specs: Vec<TaskSpec>,
    watch: &mut impl Watch,
    stop: impl Future<Output = (Stop, String)>,
) -> Result<Summary, Error> {
    let mut config = config;
    // Without GPU_RESOURCES, a real master offers GPU agents to nobody's GPU tasks.
    let gpus = crate::tasks::DIMENSIONS
        .iter()
        .position(|d| *d == packing::schema::dims::GPUS)
        .expect("gpus is a dimension");
    if specs.iter().any(|s| s.demand[gpus] > 0) && !config.capabilities.iter().any(|c| c == "GPU_RESOURCES") {
        config.capabilities.push("GPU_RESOURCES".into());
    }
    let fw = Framework::start(conn, config, policy)?;
    let handles: Vec<TaskHandle> = specs.into_iter().map(|s| fw.submit(s)).collect();
    let mut last = Progress::default();
    let mut framework: Option<String> = None;
    let mut all = Box::pin(all_final(handles));
    let mut stop = Box::pin(stop);
    let mut stopped = false;
    loop {
        tokio::select! {
            _ = &mut all => break,
            (how, why) = &mut stop, if !stopped => {
                stopped = true;
                watch.stopping(how, &why);
                fw.stop(how, &why);
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                let (p, id) = fw.status().await;
                if let (Some(id), None) = (&id, &framework) {
                    watch.subscribed(id);
                    framework = Some(id.clone());
                }
                if p != last {
                    watch.progress(p);
                    last = p;
                }
            }
        }
    }
    let summary = fw.finish().await?;
    if let (Some(id), None) = (&summary.framework_id, &framework) {
        watch.subscribed(id);
    }
    let finished = summary.outcomes.iter().filter(|o| o.state.is_success()).count();
    watch.progress(Progress {
        queued: 0,
        running: summary.unfinished.len(),
        finished,
        failed: summary.outcomes.len() - finished,
    });
    Ok(summary)
}

/// Resolves once every handle has.
async fn all_final(handles: Vec<TaskHandle>) {
    for h in handles {
        let _ = h.await;
    }
}
