//! The FGD target workload: the task classes a fragmentation-measuring policy (and the
//! fragmentation metric) measures against, taken from the workload itself, as the paper does.

use std::borrow::Cow;

use packing::Policy;
use packing::frag::{POPULARITY_COVERAGE, TargetWorkload};

use crate::error::Error;
use crate::metrics::FragCache;
use crate::state::SimCluster;
use crate::workload::TaskSpec;

/// `policy`, or a copy of it measuring fragmentation against the workload's task classes (the
/// paper's "typical pods": those of the whole workload, the same as the metric's) when it needs a
/// target workload and has none.
pub(crate) fn with_target<'p>(
    policy: &'p Policy,
    frag: Option<&FragCache>,
    c: &mut SimCluster,
    tasks: Option<&[TaskSpec]>,
) -> Result<Cow<'p, Policy>, Error> {
    if !policy.needs_target() || policy.target().is_some() {
        return Ok(Cow::Borrowed(policy));
    }
    let target = match (frag, tasks) {
        (Some(f), _) => f.target().clone(),
        (None, Some(tasks)) => {
            let cpu = c.cpu_dim.unwrap_or(0);
            target_workload(c, tasks, cpu)?
        }
        (None, None) => {
            return Err(Error::Workload(format!(
                "`{policy}` measures fragmentation against the whole workload's task classes: give it a target workload, or run it on a loaded workload rather than a stream"
            )));
        }
    };
    Ok(Cow::Owned(policy.clone().with_target(target)))
}

/// The FGD target workload of `tasks`: classes of (cpu, GPU demand, GPU models) covering 95% of
/// them, with model ids from the simulated cluster's registry.
pub(crate) fn target_workload(
    c: &mut SimCluster,
    tasks: &[TaskSpec],
    cpu_dim: usize,
) -> Result<TargetWorkload, Error> {
    let mut classes = Vec::with_capacity(tasks.len());
    for (i, spec) in tasks.iter().enumerate() {
        let t = c.task(spec, i as u64)?;
        classes.push((t.demand[cpu_dim], t.gpu, t.models));
    }
    Ok(TargetWorkload::from_tasks(classes, POPULARITY_COVERAGE))
}
