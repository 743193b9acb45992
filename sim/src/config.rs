//! What a simulation runs: the scheduler model and its options.

use crate::workload::{SECOND, Time};

/// The order in which queued tasks are retried or offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum QueueOrder {
    /// First come, first served.
    #[default]
    Fifo,
    /// Higher priority first, then first come.
    Priority,
}

/// The Mesos offer cycle's parameters (see shared/mesos/PROTOCOL.md §2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Offers {
    /// How often the allocator offers each agent's free resources (Mesos default 1 s).
    pub interval: Time,
    /// The refusal a DECLINE carries (Mesos default 5 s).
    pub decline_refuse: Time,
    /// The refusal an ACCEPT carries for the offer's unused remainder (Mesos default 5 s; the live
    /// adapter sends about 0 so that packing can continue).
    pub accept_refuse: Time,
    /// mesos-batch's behaviour: launch strictly in order and stop at the first task no offer fits.
    pub head_of_line: bool,
    /// Order of the framework's queue.
    pub order: QueueOrder,
}

impl Default for Offers {
    fn default() -> Self {
        Offers {
            interval: SECOND,
            decline_refuse: 5 * SECOND,
            accept_refuse: 5 * SECOND,
            head_of_line: false,
            order: QueueOrder::Fifo,
        }
    }
}

/// The FGD paper's arrive-only packing replay.
#[derive(Clone, Debug, PartialEq)]
pub struct ArriveOnly {
    /// Sample tasks until their demand reaches this fraction of capacity (the paper: 1.3).
    pub target: f64,
    /// The dimension demand is measured in; default `gpus` when the workload has it, else `cpus`.
    pub dimension: Option<String>,
}

impl Default for ArriveOnly {
    fn default() -> Self {
        ArriveOnly {
            target: 1.3,
            dimension: None,
        }
    }
}

/// How the scheduler sees the cluster.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// kube/Borg-like: place each task as it arrives, queue it if nothing fits and retry when
    /// resources free up.
    Global {
        /// Retry order of the queue.
        order: QueueOrder,
    },
    /// The Mesos offer cycle with one framework that packs its queue into each batch of offers.
    Offers(Offers),
    /// Tasks sampled to a target demand arrive one after another and never leave.
    ArriveOnly(ArriveOnly),
}

impl Model {
    /// The model's short name: `global`, `offers`, `arrive-only`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Which of the three models this is.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Global { .. } => ModelKind::Global,
            Model::Offers(_) => ModelKind::Offers,
            Model::ArriveOnly(_) => ModelKind::ArriveOnly,
        }
    }
}

/// The three scheduler models by name, without their options: what a grid or a command line
/// names (`global`, `offers`, `arrive-only`).
///
/// ```
/// use sim::ModelKind;
/// let m: ModelKind = "arrive-only".parse().unwrap();
/// assert_eq!(m, ModelKind::ArriveOnly);
/// assert_eq!(m.to_string(), "arrive-only");
/// assert!("mesos".parse::<ModelKind>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModelKind {
    /// [`Model::Global`].
    Global,
    /// [`Model::Offers`].
    Offers,
    /// [`Model::ArriveOnly`].
    ArriveOnly,
}

impl ModelKind {
    /// Every model, in the order reports list them.
    pub const ALL: [ModelKind; 3] = [ModelKind::Global, ModelKind::Offers, ModelKind::ArriveOnly];

    /// The model's name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Global => "global",
            ModelKind::Offers => "offers",
            ModelKind::ArriveOnly => "arrive-only",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ModelKind, String> {
        ModelKind::ALL
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| format!("unknown model `{s}`: one of global, offers, arrive-only"))
    }
}

/// What happens to the tasks of a machine that fails or is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OnMachineLoss {
    /// They are killed and count as failed.
    Kill,
    /// They go back to the queue (up to `max_retries` times, then they fail).
    #[default]
    Requeue,
}

/// Everything a run needs besides the workload and the policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The scheduler model.
    pub model: Model,
    /// Seed for sampling (arrive-only); the policy has its own seed.
    pub seed: u64,
    /// What happens to tasks on a lost machine.
    pub on_machine_loss: OnMachineLoss,
    /// Requeues allowed per task before it fails.
    pub max_retries: u32,
    /// Time between samples of the time series; `None` chooses about 500 samples over the
    /// arrival span (at least 1 s). Arrive-only samples at every 1% of arrived demand instead.
    pub sample_interval: Option<Time>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            model: Model::Global {
                order: QueueOrder::Fifo,
            },
            seed: 0,
            on_machine_loss: OnMachineLoss::Requeue,
            max_retries: 3,
            sample_interval: None,
        }
    }
}
