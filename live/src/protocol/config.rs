//! What the adapter does beyond the policy: mesos-batch's options and the protocol's timers.

use std::time::Duration;

/// What the adapter does beyond the policy: mesos-batch's options and the protocol's timers.
#[derive(Clone, Debug)]
pub struct Config {
    /// FrameworkInfo.name.
    pub framework_name: String,
    /// FrameworkInfo.user, the user tasks run as.
    pub user: String,
    /// The role offers are asked for.
    pub role: String,
    /// FrameworkInfo.principal (with a secret, the shell also sends HTTP basic auth).
    pub principal: Option<String>,
    /// FrameworkInfo.checkpoint: tasks survive an agent restart.
    pub checkpoint: bool,
    /// How long the master keeps the framework's tasks after the adapter disconnects.
    pub failover_timeout: Duration,
    /// Extra FrameworkInfo.Capability names (MULTI_ROLE, TASK_KILLING_STATE and
    /// RESERVATION_REFINEMENT are always set; PARTITION_AWARE by `partition_aware`). Tasks that
    /// ask for gpus need GPU_RESOURCES: `run_batch` adds it when one does; a [`crate::Framework`]
    /// that will be given GPU tasks must list it.
    pub capabilities: Vec<String>,
    /// Ask for PARTITION_AWARE (TASK_DROPPED/UNREACHABLE/GONE instead of TASK_LOST).
    pub partition_aware: bool,
    /// Kill a task this long after it was launched.
    pub kill_after: Option<Duration>,
    /// Launch attempts after an infrastructure failure (LOST, DROPPED, GONE, agent failure).
    pub retries: u32,
    /// The refusal sent with a DECLINE, seconds.
    pub decline_refuse: f64,
    /// The refusal for an accepted offer's unused remainder, seconds (≈0 so packing continues).
    pub accept_refuse: f64,
    /// Period of implicit reconciliation.
    pub reconcile_interval: Duration,
    /// A queued task larger than every agent's largest offer for this long is reported
    /// unschedulable instead of waiting for ever.
    pub unschedulable_after: Duration,
    /// Tear the framework down once every task is final and no more will come.
    pub teardown: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            framework_name: "packsim".into(),
            user: "root".into(),
            role: "*".into(),
            principal: None,
            checkpoint: false,
            failover_timeout: Duration::from_secs(7 * 24 * 3600),
            capabilities: Vec::new(),
            partition_aware: true,
            kill_after: None,
            retries: 3,
            decline_refuse: 3600.0,
            accept_refuse: 0.0,
            reconcile_interval: Duration::from_secs(300),
            unschedulable_after: Duration::from_secs(60),
            teardown: true,
        }
    }
}
