//! `packsim batch`: run a mesos-batch task list on a real Mesos master, placing tasks with a
//! packsim policy.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use live::protocol::Config;
use live::shell::{Connection, run_batch};
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
otherwise (the table says which did not and why).")]
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
    /// Per-resource weights, e.g. `cpus=1,mem=1` (resources: cpus, mem, disk, gpus, ports).
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
    let schema = live::tasks::schema();
    let mut policy = Policy::parse(&args.policy, &schema)?;
    if let Some(w) = &args.weights {
        policy = policy.with_weights(Weights::parse(&schema, w)?)?;
    } else if policy.weights().values()[schema.index_of("ports").expect("fixed schema")] > 0.0 {
        // Policies weigh every dimension by default; ports are a count, not a capacity to balance.
        if let Some(w) = Weights::on(&schema, &["cpus", "mem", "disk", "gpus"]) {
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
    let summary = runtime
        .block_on(run_batch(conn, config, policy, specs, |p| {
            bar.set_position((p.finished + p.failed) as u64);
            bar.set_message(format!(
                "{} queued, {} running, {} finished, {} not finished",
                p.queued, p.running, p.finished, p.failed
            ));
        }))
        .with_context(|| format!("running the batch on {}", args.master))?;
    bar.finish_and_clear();

    say!("framework {}", summary.framework_id.as_deref().unwrap_or("-"));
    say!(
        "{:<24} {:<44} {:<16} {:>6} {:>9}  message",
        "task",
        "agent",
        "state",
        "exit",
        "duration"
    );
    let mut bad = 0;
    for o in &summary.outcomes {
        if !o.state.is_success() {
            bad += 1;
        }
        let exit = o.exit_status.map_or("-".to_string(), |e| e.to_string());
        let dur = o.duration_s.map_or("-".to_string(), |d| format!("{d:.1}s"));
        let attempts = if o.attempts > 1 {
            format!(" ({} attempts)", o.attempts)
        } else {
            String::new()
        };
        say!(
            "{:<24} {:<44} {:<16} {:>6} {:>9}  {}{attempts}",
            o.task_id,
            o.agent.as_deref().unwrap_or("-"),
            o.state.name(),
            exit,
            dur,
            o.message.replace('\n', " ")
        );
    }
    say!(
        "{} of {} tasks finished",
        summary.outcomes.len() - bad,
        summary.outcomes.len()
    );
    if bad > 0 {
        bail!("{bad} of {} tasks did not finish", summary.outcomes.len());
    }
    Ok(())
}
