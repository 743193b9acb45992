//! `packsim batch`: run a mesos-batch task list on a real Mesos master, placing tasks with a
//! packsim policy.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use live::protocol::{Config, Progress, Stop};
use live::shell::{Connection, Watch, run_batch};
use packing::{Policy, Weights};
use proto::ContentType;

/// Options of `packsim batch` (mesos-batch's, plus the policy).
#[derive(Parser, Debug)]
#[command(after_help = "\
Examples:
  packsim batch --master 127.0.0.1:5050 --task-list tasks.json --policy best-fit
  packsim batch --master 127.0.0.1:5050 --policy dot-product --kill-after 30s \\
      --task-list '{\"tasks\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},\"agent_id\":{\"value\":\"\"},
      \"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}],\"command\":{\"value\":\"sleep 1\"}}]}'

The task list is a TaskGroupInfo-style JSON object, {\"tasks\": [TaskInfo, ...]}, in the Mesos JSON
dialect (proto field names); agent_id may be empty. Exit status: 0 when every task finished, 1
otherwise (the table says which did not and why), 130/143 after SIGINT/SIGTERM.

On SIGINT (Ctrl-C) or SIGTERM, the framework is torn down: Mesos kills its running tasks and the
table reports them TASK_KILLED (--on-signal teardown, the default). With --on-signal detach and a
--state-file, packsim leaves them running and exits; the same command started again resumes them.
A second signal exits at once.")]
/// Every multi-word option also answers to mesos-batch's underscore spelling (`--task_list`,
/// `--kill_after`, ...), so existing mesos-batch scripts run unchanged.
pub(crate) struct Args {
    /// The Mesos master, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    master: String,
    /// The tasks: a file path (or file:///path) or the JSON itself.
    #[arg(long, alias = "task_list", value_name = "FILE|JSON")]
    task_list: String,
    /// Placement policy (see `packsim policies`).
    #[arg(long, default_value = "first-fit")]
    policy: String,
    /// Per-resource weights, e.g. `cpus=1,mem=1` (resources: cpus, mem, disk, gpus, ports and
    /// any custom scalar resource the tasks ask for). Default: the policy's, without ports.
    #[arg(long)]
    weights: Option<String>,
    /// FrameworkInfo.name.
    #[arg(long, alias = "framework_name", default_value = "packsim-batch")]
    framework_name: String,
    /// The role to run tasks in.
    #[arg(long, default_value = "*")]
    role: String,
    /// The user tasks run as (default: $USER, else root).
    #[arg(long)]
    user: Option<String>,
    /// Principal for authentication (FrameworkInfo.principal and HTTP basic auth).
    #[arg(long)]
    principal: Option<String>,
    /// Secret for HTTP basic authentication, with --principal.
    #[arg(long, requires = "principal")]
    secret: Option<String>,
    /// Ask agents to checkpoint tasks (they survive an agent restart).
    #[arg(long)]
    checkpoint: bool,
    /// Wire format of calls and events.
    #[arg(long, alias = "content_type", default_value = "protobuf", value_parser = ["protobuf", "json"])]
    content_type: String,
    /// Extra FrameworkInfo capabilities, comma separated (e.g. GPU_RESOURCES).
    #[arg(long, alias = "framework_capabilities", value_delimiter = ',')]
    framework_capabilities: Vec<String>,
    /// Ask for PARTITION_AWARE (the default).
    #[arg(long, alias = "partition_aware", overrides_with = "no_partition_aware")]
    partition_aware: bool,
    /// Do not ask for PARTITION_AWARE (lost tasks are TASK_LOST).
    #[arg(long, alias = "no_partition_aware")]
    no_partition_aware: bool,
    /// Kill each task this long after it was launched (e.g. 30s, 5m).
    #[arg(long, alias = "kill_after", value_parser = parse_duration)]
    kill_after: Option<Duration>,
    /// Relaunches after an infrastructure failure (LOST, DROPPED, GONE, agent lost).
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Refusal sent with declined offers, seconds.
    #[arg(long, alias = "decline_refuse", default_value_t = 3600.0)]
    decline_refuse: f64,
    /// How long the master keeps the framework's tasks if packsim disconnects.
    #[arg(long, alias = "failover_timeout", value_parser = parse_duration, default_value = "1h")]
    failover_timeout: Duration,
    /// Report a task unschedulable when no agent offered enough for it for this long.
    #[arg(long, alias = "unschedulable_after", value_parser = parse_duration, default_value = "60s")]
    unschedulable_after: Duration,
    /// Give up when the master cannot be subscribed to for this long (from the start, or since
    /// the framework was last subscribed), and exit non-zero; each failed try is reported on
    /// stderr with the wait before the next. 0 retries for ever.
    #[arg(long, alias = "connect_timeout", value_parser = parse_duration, default_value = "60s")]
    connect_timeout: Duration,
    /// Save progress here; a restarted `packsim batch` with the same file resumes the same
    /// framework and tasks instead of starting over.
    #[arg(long, alias = "state_file")]
    state_file: Option<PathBuf>,
    /// On SIGINT/SIGTERM: `teardown` kills the running tasks and removes the framework;
    /// `detach` (with --state-file) leaves them running for a resumed run.
    #[arg(long, alias = "on_signal", default_value = "teardown", value_parser = ["teardown", "detach"])]
    on_signal: String,
    /// Print the outcomes as JSON (framework id, and per task: agent, state, exit status,
    /// message, attempts, duration, ports, sandbox) instead of the table.
    #[arg(long)]
    json: bool,
}

/// Shows the run on stderr: the framework id as soon as the master assigns it, the progress bar,
/// and what an interrupt does.
struct Show<'a> {
    bar: &'a ProgressBar,
    master: &'a str,
    state_file: Option<&'a std::path::Path>,
}

impl Watch for Show<'_> {
    fn progress(&mut self, p: Progress) {
        self.bar.set_position((p.finished + p.failed) as u64);
        self.bar.set_message(format!(
            "{} queued, {} running, {} finished, {} not finished",
            p.queued, p.running, p.finished, p.failed
        ));
    }

    fn subscribed(&mut self, framework_id: &str) {
        if !super::quiet() {
            let resume = self
                .state_file
                .map(|p| format!(" (state in {})", p.display()))
                .unwrap_or_default();
            self.bar
                .suspend(|| eprintln!("framework {framework_id} on {}{resume}", self.master));
        }
    }

    fn stopping(&mut self, how: Stop, why: &str) {
        let what = match how {
            Stop::Teardown => "tearing the framework down (its running tasks are killed)",
            Stop::Detach => "detaching: running tasks keep running",
        };
        self.bar
            .suspend(|| eprintln!("{why}: {what}; a second signal exits at once"));
    }
}

/// The exit status of the signal that stopped the run, 0 if none did.
static SIGNALLED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Resolves at the first SIGINT or SIGTERM, saying how to stop; a second one exits at once.
async fn interrupted(how: Stop) -> (Stop, String) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    let (name, code) = tokio::select! {
        _ = int.recv() => ("SIGINT", 130),
        _ = term.recv() => ("SIGTERM", 143),
    };
    SIGNALLED.store(code, std::sync::atomic::Ordering::SeqCst);
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        eprintln!("packsim batch: second signal, exiting without waiting");
        std::process::exit(code);
    });
    (how, format!("interrupted ({name})"))
}

/// Parses `500ms`, `10s`, `2m`, `1h` or a number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = t.strip_suffix('d') {
        (n, 86400.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (write e.g. 30s, 5m, 500ms)"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("`{text}` is not a non-negative duration"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

fn read_task_list(arg: &str) -> anyhow::Result<(String, String)> {
    let trimmed = arg.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return Ok(("--task-list".into(), arg.to_string()));
    }
    let path = arg.strip_prefix("file://").unwrap_or(arg);
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the task list {path}"))?;
    Ok((path.to_string(), text))
}

/// Runs the batch; an error when any task did not finish.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let (source, text) = read_task_list(&args.task_list)?;
    let specs = live::parse_task_list(&text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    // Custom scalar resources the tasks ask for are packed too, after the usual five.
    let schema = live::tasks::schema_with(&live::tasks::custom_resources(&specs))?;
    let mut policy = Policy::parse(&args.policy, &schema)?;
    if let Some(w) = &args.weights {
        policy = policy.with_weights(Weights::parse(&schema, w)?)?;
    } else if policy.weights().values()[schema.index_of("ports").expect("fixed schema")] > 0.0 {
        // Policies weigh every dimension by default; ports are a count, not a capacity to balance.
        let capacities: Vec<&str> = schema
            .dims()
            .iter()
            .map(packing::Dim::name)
            .filter(|n| *n != "ports")
            .collect();
        if let Some(w) = Weights::on(&schema, &capacities) {
            policy = policy.with_weights(w)?;
        }
    }
    let user = args
        .user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".into());
    let config = Config {
        framework_name: args.framework_name.clone(),
        user,
        role: args.role.clone(),
        principal: args.principal.clone(),
        checkpoint: args.checkpoint,
        failover_timeout: args.failover_timeout,
        capabilities: args.framework_capabilities.clone(),
        partition_aware: !args.no_partition_aware,
        kill_after: args.kill_after,
        retries: args.retries,
        decline_refuse: args.decline_refuse,
        unschedulable_after: args.unschedulable_after,
        ..Config::default()
    };
    let conn = Connection {
        master: args.master.clone(),
        content_type: ContentType::from_name(&args.content_type).expect("clap checked it"),
        credentials: args.principal.clone().zip(args.secret.clone()),
        state_file: args.state_file.clone(),
        // -v: protocol warnings (reconnects, rejected calls).
        verbose: super::verbosity() >= 1,
        tap: None,
        connect_timeout: (!args.connect_timeout.is_zero()).then_some(args.connect_timeout),
    };
    let on_signal = if args.on_signal == "detach" {
        if args.state_file.is_none() {
            bail!("--on-signal detach needs --state-file: the resumed run reads the tasks' state from it");
        }
        Stop::Detach
    } else {
        Stop::Teardown
    };
    let total = specs.len() as u64;
    let bar = ProgressBar::with_draw_target(Some(total), super::progress_target()).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} final  {msg}")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut show = Show {
        bar: &bar,
        master: &args.master,
        state_file: args.state_file.as_deref(),
    };
    let summary = runtime
        .block_on(run_batch(
            conn,
            config,
            policy,
            specs,
            &mut show,
            interrupted(on_signal),
        ))
        .with_context(|| format!("running the batch on {}", args.master))?;
    bar.finish_and_clear();

    if args.json {
        say!("{}", serde_json::to_string_pretty(&summary_json(&summary))?);
    } else {
        print_table(&summary);
    }
    let bad = summary.outcomes.iter().filter(|o| !o.state.is_success()).count();
    let all = summary.outcomes.len() + summary.unfinished.len();
    let mut lines = vec![format!(
        "{} of {all} tasks finished",
        summary.outcomes.len() - bad
    )];
    if summary.detached {
        lines.push(format!(
            "detached: {} tasks still run under framework {}; run the same command again (same \
             --state-file) within the failover timeout ({}) to resume them",
            summary.unfinished.len(),
            summary.framework_id.as_deref().unwrap_or("-"),
            humantime(args.failover_timeout)
        ));
    }
    for l in lines {
        // With --json, stdout is the JSON document alone.
        if args.json {
            eprintln!("{l}");
        } else {
            say!("{l}");
        }
    }
    let signalled = SIGNALLED.load(std::sync::atomic::Ordering::SeqCst);
    if signalled != 0 {
        std::process::exit(signalled);
    }
    if bad > 0 {
        bail!("{bad} of {all} tasks did not finish");
    }
    Ok(())
}

/// The final table: one row per task (its ports, when it had any, after the agent).
fn print_table(summary: &live::shell::Summary) {
    say!("framework {}", summary.framework_id.as_deref().unwrap_or("-"));
    say!(
        "{:<24} {:<44} {:<16} {:>6} {:>9}  message",
        "task",
        "agent",
        "state",
        "exit",
        "duration"
    );
    for o in &summary.outcomes {
        let exit = o.exit_status.map_or("-".to_string(), |e| e.to_string());
        let dur = o.duration_s.map_or("-".to_string(), |d| format!("{d:.1}s"));
        let attempts = if o.attempts > 1 {
            format!(" ({} attempts)", o.attempts)
        } else {
            String::new()
        };
        let mut said = Vec::new();
        if !o.ports.is_empty() {
            let p: Vec<String> = o.ports.iter().map(u64::to_string).collect();
            said.push(format!("ports {}", p.join(",")));
        }
        if !o.message.is_empty() {
            said.push(o.message.replace('\n', " "));
        }
        say!(
            "{:<24} {:<44} {:<16} {:>6} {:>9}  {}{attempts}",
            o.task_id,
            o.agent.as_deref().unwrap_or("-"),
            o.state.name(),
            exit,
            dur,
            said.join("; ")
        );
        if let Some(s) = &o.sandbox {
            say!("{:<24} sandbox: <agent work dir>/{s}", "");
        }
    }
}

/// The summary as `--json` prints it.
fn summary_json(summary: &live::shell::Summary) -> serde_json::Value {
    serde_json::json!({
        "framework_id": summary.framework_id,
        "detached": summary.detached,
        "unfinished": summary.unfinished,
        "outcomes": summary.outcomes.iter().map(|o| {
            let mut v = serde_json::to_value(o).expect("an outcome serializes");
            v["state"] = serde_json::Value::from(o.state.name());
            v
        }).collect::<Vec<_>>(),
    })
}

/// `3600 s` as `1h`, `90 s` as `90s`.
fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
