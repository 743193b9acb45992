//! The FGD paper's arrive-only packing replay.
//!
//! Tasks are sampled with replacement from the workload (seeded) until their demand in the
//! replay's dimension reaches `target` × capacity, in random order; each arrives in turn, is placed
//! if anything fits and fails otherwise, and never leaves. The series has one sample for every 1%
//! of capacity the arrived demand crosses, so policies can be compared at equal arrived demand.
//!
//! Nothing ends in this replay, so a task that waits for others could never start: in a workload
//! with dependencies only the tasks without parents (the graphs' roots) are sampled.

use packing::Policy;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{ArriveOnly, Config};
use crate::error::Error;
use crate::metrics::{Counts, FragCache, Over, Recorder, Shape, minimal_shapes};
use crate::setup::{Setup, setup};
use crate::state::{SimCluster, Tasks};
use crate::workload::{Workload, dims};
use crate::{Observer, Outcome, Progress, Started};

/// The most tasks an arrive-only replay samples (each is kept in memory with its placement).
const MAX_SAMPLED: u64 = 50_000_000;

pub(crate) fn run(
    workload: &Workload,
    policy: &Policy,
    config: &Config,
    spec: &ArriveOnly,
    observer: &mut dyn Observer,
) -> Result<Outcome, Error> {
    let schema = &workload.schema;
    let (dim, dim_name) = arrived_dimension(schema, spec)?;
    if workload.tasks.is_empty() {
        return Err(Error::Workload("the workload has no tasks to sample".into()));
    }
    let Setup {
        mut c,
        mut frag,
        policy,
    } = setup(schema, &workload.machines, policy, Some(&workload.tasks))?;
    let policy = policy.as_ref();
    let capacity: u128 = c.available_capacity[dim];
    if capacity == 0 {
        return Err(Error::Workload(format!(
            "the cluster has no `{dim_name}` capacity"
        )));
    }
    if workload
        .tasks
        .iter()
        .all(|t| t.demand.get(dim).copied().unwrap_or(0) == 0)
    {
        return Err(Error::Workload(format!(
            "no task asks for `{dim_name}`, so its demand can never reach the target"
        )));
    }
    if workload
        .tasks
        .iter()
        .filter(|t| t.after.is_empty())
        .all(|t| t.demand.get(dim).copied().unwrap_or(0) == 0)
    {
        return Err(Error::Workload(format!(
            "no task without dependencies asks for `{dim_name}`; only those are sampled where nothing ends"
        )));
    }
    let goal = spec.target * capacity as f64;
    check_target(workload, dim, &dim_name, spec.target, capacity)?;
    let picks = sample(workload, dim, goal, config.seed);
    // The shapes tasks come in, for the stranded-resources measure.
    let mut shapes_src = Vec::new();
    let mut tasks = Tasks::default();
    for (seq, spec) in workload.tasks.iter().enumerate() {
        let t = c.task(spec, seq as u64)?;
        shapes_src.push(Shape {
            demand: t.demand.clone(),
            gpu: t.gpu,
            models: t.models,
        });
    }
    let shapes = minimal_shapes(shapes_src);
    let mut rec = Recorder::new(schema.len());
    let (mut arrived, mut placed, mut failed, mut arrived_demand) = (0u64, 0u64, 0u64, 0u128);
    let mut next_pct = 0u32;
    let record = |c: &SimCluster,
                  frag: &mut Option<FragCache>,
                  arrived: u64,
                  placed: u64,
                  failed: u64,
                  pct: f64,
                  rec: &mut Recorder| {
        // Tasks never leave and nothing waits: what is placed is running.
        let counts = Counts {
            arrived,
            placed,
            failed,
            running: placed,
            ..Counts::default()
        };
        rec.push(c.sample(arrived as i64, Some(pct), &counts, &shapes, frag.as_mut()));
    };
    record(&c, &mut frag, 0, 0, 0, 0.0, &mut rec);
    next_pct += 1;
    for (n, &i) in picks.iter().enumerate() {
        let spec_task = &workload.tasks[i];
        let task = c.task(spec_task, n as u64)?;
        arrived += 1;
        arrived_demand += u128::from(task.demand[dim]);
        match c.place(policy, &task) {
            Some(p) => {
                let slot = tasks.insert(task);
                c.record_start(slot, p.machine);
                observer.started(Started {
                    time: n as i64,
                    task: n as u64,
                    machine: p.machine,
                    devices: p.devices,
                });
                if let Some(f) = &mut frag {
                    f.invalidate(p.machine);
                }
                placed += 1;
            }
            None => failed += 1,
        }
        let pct = 100.0 * arrived_demand as f64 / capacity as f64;
        while f64::from(next_pct) <= pct {
            record(&c, &mut frag, arrived, placed, failed, pct, &mut rec);
            next_pct += 1;
        }
        if n % 4096 == 0 {
            observer.progress(Progress {
                arrived,
                time: n as i64,
            });
        }
    }
    let final_pct = 100.0 * arrived_demand as f64 / capacity as f64;
    record(&c, &mut frag, arrived, placed, failed, final_pct, &mut rec);
    observer.progress(Progress {
        arrived,
        time: arrived as i64,
    });
    let counts = Counts {
        arrived,
        placed,
        failed,
        running: placed,
        events: arrived,
        ..Counts::default()
    };
    let over = Over::End {
        arrived_pct: final_pct,
    };
    let summary = rec.summarise(
        &workload.name,
        policy,
        config,
        c.cluster.len() as u64,
        counts,
        over,
    );
    Ok(Outcome {
        schema: schema.clone(),
        summary,
        series: rec.samples,
        jobs: Vec::new(),
    })
}

/// The dimension arrived demand is measured in: the spec's, else GPUs where the workload has
/// them, else CPUs; with its index in the schema.
fn arrived_dimension(schema: &packing::Schema, spec: &ArriveOnly) -> Result<(usize, String), Error> {
    let dim_name = spec.dimension.clone().unwrap_or_else(|| {
        if schema.index_of(dims::GPUS).is_some() {
            dims::GPUS
        } else {
            dims::CPUS
        }
        .to_string()
    });
    let dim = schema.index_of(&dim_name).ok_or_else(|| {
        Error::Workload(format!(
            "no dimension `{dim_name}` to measure arrived demand in (the workload has {})",
            schema.names()
        ))
    })?;
    Ok((dim, dim_name))
}

/// The replay's tasks, as indices into the workload: sampled with replacement (seeded) until
/// their demand in `dim` reaches `goal`, then shuffled with the same generator, as the paper does.
fn sample(workload: &Workload, dim: usize, goal: f64, seed: u64) -> Vec<usize> {
    // Sample with replacement until the demand reaches target × capacity.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let goal = goal.ceil() as u128;
    let mut picks = Vec::new();
    let mut sampled: u128 = 0;
    // Only roots can start where nothing ends; without dependencies every task is a root and the
    // draws are the same as always.
    let roots: Option<Vec<usize>> = workload.has_dependencies().then(|| {
        (0..workload.tasks.len())
            .filter(|&i| workload.tasks[i].after.is_empty())
            .collect()
    });
    while sampled < goal {
        let i = match &roots {
            Some(r) => r[rng.random_range(0..r.len())],
            None => rng.random_range(0..workload.tasks.len()),
        };
        sampled += u128::from(workload.tasks[i].demand.get(dim).copied().unwrap_or(0));
        picks.push(i);
    }
    // Fisher–Yates with the same generator: the paper shuffles the sampled pods too.
    for i in (1..picks.len()).rev() {
        let j = rng.random_range(0..=i);
        picks.swap(i, j);
    }
    picks
}

/// Refuses, before anything is allocated, a target the replay cannot honour: not above zero, or
/// more tasks than [`MAX_SAMPLED`] (estimated from the workload's mean demand in `dim`, which is
/// what sampling with replacement draws).
fn check_target(
    workload: &Workload,
    dim: usize,
    dim_name: &str,
    target: f64,
    capacity: u128,
) -> Result<(), Error> {
    let mean: f64 = workload
        .tasks
        .iter()
        .map(|t| t.demand.get(dim).copied().unwrap_or(0) as f64)
        .sum::<f64>()
        / workload.tasks.len() as f64;
    let expected = target * capacity as f64 / mean;
    if !(target.is_finite() && target > 0.0) || expected > MAX_SAMPLED as f64 {
        return Err(Error::Workload(format!(
            "a target of {target} × the `{dim_name}` capacity would sample about {expected:.3e} tasks; \
             the arrive-only replay samples at most {MAX_SAMPLED} (choose a target above 0 and at most {:.3})",
            MAX_SAMPLED as f64 * mean / capacity as f64
        )));
    }
    Ok(())
}
