//! packsim's cluster simulator, and the workload model it replays.
//!
//! `sim` knows workloads, not files: trace formats are the `datasets` crate's business, which turns
//! them into the types of [`workload`]. Placement decisions are the `packing` crate's.
//!
//! Map:
//! - [`workload`]: machines, tasks and machine events in integer units and microseconds.

pub mod workload;

pub use workload::{
    GpuInventory, GpuRequest, MachineChange, MachineEvent, MachineSpec, SECOND, TaskSpec, Time, Workload,
};
