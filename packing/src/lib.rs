//! packsim's pure packing core: resource vectors, machines, placement policies and lower bounds.
//!
//! This crate decides where tasks go; it never reads files, looks at a clock, spawns threads or
//! talks to a network. The offline packer (`packsim pack`), the simulator and the live Mesos
//! adapter all call the same [`Policy::choose`], so a policy behaves identically in all three.
//!
//! Map:
//! - [`schema`]: named dimensions and their integer fixed-point units ([`Dim`], [`Schema`]), exact
//!   decimal parsing and Mesos scalar conversion.
//! - [`resources`]: [`ResourceTable`], resource vectors stored contiguously, and [`fits`].
//! - [`cluster`]: [`Cluster`], machines with capacity and free amounts (and GPU devices);
//!   allocate and release answer `None` instead of overdrawing.
//! - [`gpu`]: device-level GPU demands, model sets, [`Request`] and device choice.
//! - [`frag`]: the FGD paper's GPU fragmentation measure against a target workload.
//! - [`weights`]: validated per-dimension [`Weights`].
//! - [`policy`]: the built-in policies ([`Kind`]) and [`Policy`], their online decision.
//! - [`offline`]: [`pack`], a batch into a set of machines.
//! - [`bounds`]: L1 and Martello–Toth L2 lower bounds.
//! - [`refusal`]: Mesos's refusal filter, shared by the offer model and the emulated master.
//! - [`hash`]: SplitMix64, the workspace's one seeded hash.
//!
//! Ties are always broken by the lowest machine id (or item index, or group id), never by hash
//! order or float noise, so a result depends only on the inputs.
//!
//! A first tour: three machines, one policy, one decision online and a batch offline.
//!
//! ```
//! use packing::{Cluster, Items, Policy, ResourceTable, Schema, pack};
//!
//! // Dimensions and their integer units: cpus in milli-cores, mem in MiB.
//! let schema = Schema::new(vec![
//!     packing::Dim::new("cpus", 3).unwrap(),
//!     packing::Dim::new("mem", 0).unwrap(),
//! ])
//! .unwrap();
//! let machines = ResourceTable::from_rows(2, [[8000, 32768], [4000, 16384], [16000, 65536]]);
//! let policy = Policy::parse("best-fit", &schema).unwrap();
//!
//! // Online: one task, the cluster as it is, a machine. Best fit takes the machine the task
//! // leaves least room on: machine 1.
//! let mut cluster = Cluster::from_capacities(&machines);
//! let m = policy.choose(&cluster, &[3500, 12000]).unwrap();
//! assert_eq!(m.index(), 1);
//!
//! // Offline: a batch in the policy's order, each task placed by the same decision. The
//! // 20-core task fits nowhere and is reported, never dropped.
//! let tasks = ResourceTable::from_rows(2, [[3500, 12000], [20000, 1024], [6000, 8192]]);
//! let packing = pack(&policy, &mut cluster, &Items::new(tasks)).unwrap();
//! let machine = |i: usize| packing.assignment()[i].map(|m| m.index());
//! assert_eq!((machine(0), machine(1), machine(2)), (Some(1), None, Some(0)));
//! assert_eq!(packing.unplaced(), vec![1]);
//! ```

pub mod bounds;
pub mod cluster;
pub mod frag;
pub mod gpu;
pub mod hash;
mod index;
mod item_tree;
pub mod offline;
pub mod policy;
pub mod refusal;
pub mod resources;
mod rule;
pub mod schema;
mod search;
pub mod weights;

pub use bounds::{LowerBounds, lower_bounds, martello_toth_l2};
pub use cluster::{Cluster, MachineId};
pub use gpu::{DeviceAlloc, GpuDemand, ModelSet, Request};
pub use offline::{Items, NoHooks, PackHooks, Packing, pack, pack_opening, pack_with};
pub use policy::{Family, Fit, Kind, Placement, Policy, Sample, Size};
pub use resources::{ResourceTable, fits};
pub use schema::{Dim, QuantityError, Schema};
pub use weights::Weights;

/// Why a schema, weights, policy or batch could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A dimension name with characters other than letters, digits, `_`, `-` and `.`.
    #[error("`{0}` is not a valid dimension name (use letters, digits, `_`, `-` and `.`)")]
    DimensionName(String),
    /// More decimal places than [`Dim::MAX_DECIMALS`].
    #[error(
        "dimension `{name}`: {decimals} decimal places is more than the {} supported",
        Dim::MAX_DECIMALS
    )]
    DimensionDecimals {
        /// The dimension.
        name: String,
        /// The decimals asked for.
        decimals: u8,
    },
    /// A schema without dimensions.
    #[error("a schema needs at least one dimension")]
    EmptySchema,
    /// The same dimension name twice.
    #[error("dimension `{0}` appears twice")]
    DuplicateDimension(String),
    /// Invalid weights.
    #[error("weights: {0}")]
    Weight(String),
    /// An unknown or invalid policy spec.
    #[error("{0}")]
    Policy(String),
    /// An inconsistent batch of items.
    #[error("items: {0}")]
    Items(String),
    /// A machine that cannot be added as described.
    #[error("machine: {0}")]
    Machine(String),
}
