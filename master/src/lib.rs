//! An emulated Mesos master on a simulated cluster: the V1 scheduler API as Mesos 1.11.0 serves
//! it (status codes, headers, RecordIO, JSON dialect and protobuf, offers and filters, reliable
//! status updates, reconciliation, failover), over agents from a cluster spec or a trace, with
//! task run times from a simple model and faults on demand. Frameworks (ours, or Python and Go
//! ones) can be tested against thousands of agents without a Mesos installation.
//!
//! - [`resources`]: agent resources (scalars and port ranges) and their arithmetic.
//! - [`state`]: the sans-IO master: calls and a clock in, events for streams out.
//! - [`server`]: hyper HTTP server: routes, content negotiation, validation, streams, faults.
//!
//! What it does not model: reservations and volumes (all resources are unreserved `*`), inverse
//! offers and maintenance, operator API beyond a small `/state`, DRF between frameworks
//! (round-robin instead), agents' own executors (task groups are accepted and run like tasks).
//!
//! A first tour: the sans-IO master with two agents; the HTTP server ([`Master::start`]) wraps
//! exactly this state machine.
//!
//! ```
//! use std::time::Duration;
//! use master::state::MasterState;
//! use master::{AgentSpec, MasterConfig};
//!
//! let agents = vec![AgentSpec::new("a1", 4.0, 4096.0, 10000.0), AgentSpec::new("a2", 8.0, 8192.0, 10000.0)];
//! let mut state = MasterState::new(MasterConfig::default(), agents);
//! assert_eq!(state.agent_count(), 2);
//! // Nothing subscribed: an allocation round offers nothing to anyone.
//! state.tick(Duration::from_secs(1));
//! assert!(state.take_out().is_empty());
//! ```

pub mod resources;
pub mod server;
pub mod state;

use std::time::Duration;

use proto::v1::{Attribute, value};

pub use server::{Fault, Master};

/// One agent of the emulated cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentSpec {
    /// Its hostname in offers.
    pub hostname: String,
    /// Scalars in natural units: cpus, mem (MB), disk (MB), gpus.
    pub scalars: [f64; 4],
    /// Port ranges offered, inclusive.
    pub ports: Vec<(u64, u64)>,
    /// Text attributes offered with its resources.
    pub attributes: Vec<(String, String)>,
}

impl AgentSpec {
    /// An agent with `cpus`, `mem` MB, `disk` MB, no GPUs and ports 31000–32000 (Mesos's default).
    pub fn new(hostname: impl Into<String>, cpus: f64, mem: f64, disk: f64) -> AgentSpec {
        AgentSpec {
            hostname: hostname.into(),
            scalars: [cpus, mem, disk, 0.0],
            ports: vec![(31000, 32000)],
            attributes: Vec::new(),
        }
    }

    fn resources(&self) -> resources::Res {
        let mut r = resources::Res {
            scalars: [0; 4],
            ports: self.ports.clone(),
        };
        for (m, v) in r.scalars.iter_mut().zip(self.scalars) {
            *m = resources::to_milli(v.max(0.0)).unwrap_or(0);
        }
        r
    }

    fn attributes(&self) -> Vec<Attribute> {
        self.attributes
            .iter()
            .map(|(k, v)| Attribute {
                name: k.clone(),
                r#type: value::Type::Text as i32,
                text: Some(value::Text { value: v.clone() }),
                ..Attribute::default()
            })
            .collect()
    }
}

/// How long launched tasks run and how they end.
#[derive(Clone, Debug, PartialEq)]
pub enum RunModel {
    /// From the command: `sleep N` runs N seconds, `exit K` fails with status K, `false` fails
    /// with 1, anything else finishes at once.
    Command,
    /// Every task runs this long.
    Fixed(Duration),
    /// Run times drawn uniformly from `[min, max]` (seeded).
    Uniform {
        /// Shortest.
        min: Duration,
        /// Longest.
        max: Duration,
    },
    /// Run times drawn from an exponential distribution with this mean (seeded).
    Exponential(Duration),
}

/// The emulated master's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterConfig {
    /// HEARTBEAT period (the real master's is fixed at 15 s).
    pub heartbeat: Duration,
    /// Allocation period (Mesos default 1 s).
    pub allocation_interval: Duration,
    /// First resend of an unacknowledged status update (Mesos: 10 s, doubling to 10 min).
    pub update_resend: Duration,
    /// Task run times and outcomes.
    pub run: RunModel,
    /// Under the fixed and random models, the fraction of tasks that fail (exit status 1).
    pub fail_ratio: f64,
    /// Seed of ids and uuids.
    pub seed: u64,
    /// The port the master says it listens on (MasterInfo).
    pub port: u16,
    /// Seconds since the Unix epoch at time 0 (status timestamps).
    pub epoch: f64,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            heartbeat: Duration::from_secs(15),
            allocation_interval: Duration::from_secs(1),
            update_resend: Duration::from_secs(10),
            run: RunModel::Command,
            fail_ratio: 0.0,
            seed: 0,
            port: 5050,
            epoch: 0.0,
        }
    }
}
