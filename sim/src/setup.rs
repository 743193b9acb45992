//! The one setup path of every model: check the policy against the workload, build the simulated
//! cluster, measure fragmentation against the workload's task classes where the cluster has GPUs,
//! give an FGD policy its target workload, and let the policy prepare its indexes.

use std::borrow::Cow;

use packing::{Policy, Schema};

use crate::error::Error;
use crate::metrics::FragCache;
use crate::state::SimCluster;
use crate::target::{target_workload, with_target};
use crate::workload::{MachineSpec, TaskSpec};

/// What a model starts from.
pub(crate) struct Setup<'p> {
    /// The cluster, with every initial machine added.
    pub c: SimCluster,
    /// The GPU fragmentation measure, when the cluster has GPUs and CPUs and the tasks are known.
    pub frag: Option<FragCache>,
    /// The policy as it decides here: with its target workload, if it needs one.
    pub policy: Cow<'p, Policy>,
}

/// Sets a model up on `machines` with `policy`; `tasks` is the whole workload when it is known in
/// advance (not for a stream), the source of the target workload.
pub(crate) fn setup<'p>(
    schema: &Schema,
    machines: &[MachineSpec],
    policy: &'p Policy,
    tasks: Option<&[TaskSpec]>,
) -> Result<Setup<'p>, Error> {
    if policy.schema() != schema {
        return Err(Error::Workload(format!(
            "the policy was built for dimensions {} but the workload has {}",
            policy.schema().names(),
            schema.names()
        )));
    }
    let mut c = SimCluster::new(schema);
    for m in machines {
        c.add(m)?;
    }
    let frag = match (tasks, c.gpu_dim, c.cpu_dim) {
        (Some(tasks), Some(_), Some(cpu)) => Some(FragCache::new(target_workload(&mut c, tasks, cpu)?, cpu)),
        _ => None,
    };
    let policy = with_target(policy, frag.as_ref(), &mut c, tasks)?;
    policy.prepare(&mut c.cluster);
    Ok(Setup { c, frag, policy })
}
