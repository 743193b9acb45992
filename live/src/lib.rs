//! packsim's live Mesos adapter: the same [`packing::Policy`] that scores simulated clusters places
//! real tasks on real Mesos offers, over the V1 scheduler HTTP API.
//!
//! It is split the way the protocol is: [`protocol`] is a sans-IO state machine (events and clock in,
//! calls and task outcomes out) that makes every decision and is tested without a network;
//! [`shell`] is a thin tokio/hyper driver that moves bytes between it and a master. The decision on
//! a batch of offers is [`offers::place`], which calls `packing::pack_with` exactly as the
//! simulator's offer model does.
//!
//! Map:
//! - [`tasks`]: mesos-batch task lists (`{"tasks": [TaskInfo...]}`) and their demands.
//! - [`offers`]: offers → bins per (agent, role), placements → ACCEPT with carved resources.
//! - [`protocol`]: subscription, reconciliation, retries, kill-after, suppress/revive, teardown.
//! - [`state`]: what survives a restart, and the state file (an append-only journal) keeping it.
//!
//! The emulated master that frameworks (this one included) can be tested against is the `master`
//! crate; the two share only the wire layer (`proto`) and `packing`'s resource conversions.
//! - [`shell`]: HTTP transport, the [`shell::Framework`] API (`submit`, `map`) and `run_batch`.
//!
//! A first tour: the sans-IO core decides what to send without any network. Started, it asks to
//! subscribe; the shell would open the stream and feed the master's events back in.
//!
//! ```
//! use std::time::Duration;
//! use live::{Action, Config, Core};
//!
//! let policy = packing::Policy::parse("best-fit", &live::tasks::schema()).unwrap();
//! let mut core = Core::new(Config::default(), policy, None).unwrap();
//! core.start(Duration::ZERO);
//! let Some(Action::Subscribe(call)) = core.poll_action() else { panic!("subscribe first") };
//! let framework = call.subscribe.unwrap().framework_info;
//! assert!(framework.failover_timeout.is_some()); // it can come back as the same framework
//! ```

pub mod offers;
pub mod protocol;
pub mod shell;
pub mod state;
pub mod tasks;

pub use crate::protocol::{Action, Config, Core, FinalState, Outcome, Progress, Stop};
pub use crate::state::Snapshot;
pub use shell::{Connection, Framework, TaskHandle};
pub use tasks::{TaskSpec, parse_task_list};

/// Why the adapter could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A task list or task that cannot run as written; `field` is its path, e.g.
    /// `tasks[2].resources[0].scalar.value`.
    #[error("{field}: {reason}")]
    TaskList {
        /// Where in the task list.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A saved state file that cannot be used.
    #[error("state: {0}")]
    State(String),
    /// The master cannot be reached or answered something unusable.
    #[error("master {master}: {reason}")]
    Master {
        /// host:port.
        master: String,
        /// What happened.
        reason: String,
    },
    /// The master refused the framework for good (repeated ERROR events).
    #[error("{0}")]
    Aborted(String),
    /// A policy that cannot place batches of offers (see `packing::Policy::check_batch`).
    #[error("policy: {0}")]
    Policy(String),
    /// The framework's driver stopped before the task's outcome was known; says why.
    #[error("the framework stopped before the task finished: {0}")]
    Stopped(String),
}
