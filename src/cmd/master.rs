//! `packsim master`: an emulated Mesos master (V1 scheduler API) on a simulated cluster.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use datasets::workload::{ClusterSource, cluster_machines};
use datasets::{FormatOptions, ReadOptions};
use master::{AgentSpec, Master, MasterConfig, RunModel};
use packing::Schema;

use crate::cmd::batch::parse_duration;

/// Options of `packsim master`.
#[derive(Parser, Debug)]
#[command(after_help = "\
Examples:
  packsim master --listen 127.0.0.1:5050 --cluster 2:cpus=4,mem=4096,disk=10000
  packsim master --cluster 1000:cpus=32,mem=131072 --heartbeat 1 --task-time 2s
  packsim master --cluster ../shared/datasets/openb/openb_node_list_gpu_node.csv

Point a framework at http://HOST:PORT/api/v1/scheduler (also /master/api/v1/scheduler); GET /version
and /state answer as a real master's do (/state in brief). Tasks run for the `sleep N` in their
command and fail with the K of an `exit K`, unless --task-time draws their run time (then
--fail-ratio of them fail).

Faults, on demand: POST a JSON object to /admin/fault, e.g.
  curl -d '{\"fault\":\"drop-streams\"}' 127.0.0.1:5050/admin/fault
  {\"fault\":\"unavailable\",\"seconds\":5}     answer 503 for 5 s
  {\"fault\":\"not-leader\",\"seconds\":5}      answer 307 (to --leader, or itself) for 5 s
  {\"fault\":\"lose-agent\",\"agent\":0}        RESCIND its offers, UPDATE its tasks lost, FAILURE
  {\"fault\":\"duplicate-updates\",\"on\":true} send every status update twice
  {\"fault\":\"delay-updates\",\"seconds\":3}   start new tasks' updates 3 s later")]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5050")]
    listen: String,
    /// The agents: a spec `N:cpus=C,mem=MB,disk=MB,gpus=G(+N:...)` or a machine list / machine
    /// event trace (every machine it adds becomes an agent).
    #[arg(long, default_value = "2:cpus=4,mem=4096,disk=10000")]
    cluster: String,
    /// Heartbeat period, seconds (a real master's is 15).
    #[arg(long, value_parser = parse_duration, default_value = "15s")]
    heartbeat: Duration,
    /// Allocation period.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    allocation_interval: Duration,
    /// First resend of an unacknowledged status update (doubles up to 10 min).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    update_resend: Duration,
    /// Task run times instead of the command's `sleep N`: a duration (`2s`), `uniform:MIN,MAX`
    /// or `exp:MEAN` (seeded by --seed).
    #[arg(long, value_parser = parse_run_model)]
    task_time: Option<RunModel>,
    /// With --task-time, the fraction of tasks that fail with exit status 1.
    #[arg(long, default_value_t = 0.0)]
    fail_ratio: f64,
    /// Seed of the master's ids and uuids.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Parses `2s`, `uniform:1s,5s` or `exp:3s`.
fn parse_run_model(text: &str) -> Result<RunModel, String> {
    if let Some(rest) = text.strip_prefix("uniform:") {
        let (a, b) = rest
            .split_once(',')
            .ok_or_else(|| format!("`{text}`: write uniform:MIN,MAX"))?;
        let (min, max) = (parse_duration(a)?, parse_duration(b)?);
        if min > max {
            return Err(format!("`{text}`: the minimum is above the maximum"));
        }
        return Ok(RunModel::Uniform { min, max });
    }
    if let Some(rest) = text.strip_prefix("exp:") {
        return Ok(RunModel::Exponential(parse_duration(rest)?));
    }
    parse_duration(text).map(RunModel::Fixed)
}

/// The agents described by `cluster` (a spec or a machine file).
pub(crate) fn agents(cluster: &str) -> anyhow::Result<Vec<AgentSpec>> {
    let spec_schema = Schema::uniform(&["cpus", "mem", "disk", "gpus"], 3)?;
    let source = ClusterSource::parse(cluster);
    let (schema, machines) = cluster_machines(
        &source,
        &spec_schema,
        &ReadOptions::default(),
        &FormatOptions::default(),
    )
    .with_context(|| format!("reading the cluster {cluster}"))?;
    Ok(machines
        .iter()
        .map(|m| {
            let mut a = AgentSpec::new(m.name.clone(), 0.0, 0.0, 0.0);
            for (i, name) in ["cpus", "mem", "disk", "gpus"].iter().enumerate() {
                if let Some(d) = schema.index_of(name) {
                    a.scalars[i] = schema.dim(d).to_natural(m.capacity[d]);
                }
            }
            a
        })
        .collect())
}

/// Serves until interrupted.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.fail_ratio),
        "--fail-ratio {} is not between 0 and 1",
        args.fail_ratio
    );
    let agents = agents(&args.cluster)?;
    let config = MasterConfig {
        heartbeat: args.heartbeat,
        allocation_interval: args.allocation_interval,
        update_resend: args.update_resend,
        run: args.task_time.clone().unwrap_or(RunModel::Command),
        fail_ratio: args.fail_ratio,
        seed: args.seed,
        ..MasterConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let n = agents.len();
        let master = Master::start(&args.listen, config, agents)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        tracing::warn!(
            "packsim master: {n} agents, scheduler API at http://{}/api/v1/scheduler (Ctrl-C stops)",
            master.addr()
        );
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        drop(master);
        Ok(())
    })
}
