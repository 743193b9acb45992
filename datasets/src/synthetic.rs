//! Seeded synthetic workloads, so every experiment can run with no files at all.
//!
//! A [`Synthetic`] spec describes machine shapes and a task population: sizes as fractions of the
//! largest machine drawn from a uniform, normal-mixture or heavy-tailed (Pareto) distribution,
//! Poisson arrivals (at a given rate, or at the rate that offers a target load), lognormal run
//! times, and an optional GPU mix like openb's (CPU-only, GPU-sharing, one whole GPU, several
//! GPUs). The same spec and seed always give the same workload: the generator is ChaCha8, whose
//! output is fixed across platforms and versions.
//!
//! [`builtin`] names ready-made specs; `default` is the workload of `packsim compare` when it is
//! given no files.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto};
use sim::workload::{After, GpuDemand, GpuInventory, MachineSpec, SECOND, TaskSpec, Workload, dims, schema};

/// A group of identical machines.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineShape {
    /// How many.
    pub count: u32,
    /// Cores.
    pub cpus: f64,
    /// Memory in GiB.
    pub mem_gib: f64,
    /// GPU devices.
    pub gpus: u32,
    /// GPU model (empty without GPUs).
    pub gpu_model: String,
}

/// A distribution of task sizes, as fractions of the largest machine, truncated to `(0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub enum SizeDist {
    /// Uniform on `[lo, hi]`.
    Uniform {
        /// Smallest fraction.
        lo: f64,
        /// Largest fraction.
        hi: f64,
    },
    /// A mixture of normals: `(weight, mean, standard deviation)` components.
    NormalMixture(Vec<(f64, f64, f64)>),
    /// Pareto with tail index `alpha` and scale `min`: many small tasks, a few huge ones.
    HeavyTailed {
        /// Tail index (smaller is heavier; 1.1–2 are typical).
        alpha: f64,
        /// The smallest size.
        min: f64,
    },
}

impl SizeDist {
    fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        let x = match self {
            SizeDist::Uniform { lo, hi } => rng.random_range(*lo..=*hi),
            SizeDist::NormalMixture(components) => {
                let total: f64 = components.iter().map(|c| c.0).sum();
                let mut pick = rng.random_range(0.0..total);
                let mut chosen = components[components.len() - 1];
                for c in components {
                    if pick < c.0 {
                        chosen = *c;
                        break;
                    }
                    pick -= c.0;
                }
                Normal::new(chosen.1, chosen.2).map_or(chosen.1, |n| n.sample(rng))
            }
            SizeDist::HeavyTailed { alpha, min } => Pareto::new(*min, *alpha).map_or(*min, |p| p.sample(rng)),
        };
        x.clamp(1e-4, 1.0)
    }
}

/// Shares of task kinds by GPU use (they need not add up to 1: they are normalised).
#[derive(Clone, Debug, PartialEq)]
pub struct GpuMix {
    /// Tasks without a GPU.
    pub cpu_only: f64,
    /// Tasks taking a share of one GPU.
    pub share: f64,
    /// Tasks taking one whole GPU.
    pub whole: f64,
    /// Tasks taking 2, 4 or 8 GPUs.
    pub multi: f64,
}

/// A synthetic workload spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Synthetic {
    /// Name for reports.
    pub name: String,
    /// The random seed.
    pub seed: u64,
    /// Machine groups.
    pub machines: Vec<MachineShape>,
    /// Number of tasks.
    pub tasks: usize,
    /// CPU sizes (fraction of the largest machine's cores).
    pub cpu: SizeDist,
    /// Memory sizes (fraction of the largest machine's memory).
    pub mem: SizeDist,
    /// Arrivals: the offered load (mean CPU demand in flight / cluster CPU) the Poisson rate aims
    /// at; `None` means every task arrives at 0.
    pub load: Option<f64>,
    /// Run times: lognormal with this median (seconds) and sigma; `None` means tasks never end.
    pub duration: Option<(f64, f64)>,
    /// GPU mix; `None` for a CPU-only workload.
    pub gpu: Option<GpuMix>,
    /// Tasks come in jobs with dependencies (fork–join, chains and random layered graphs, in
    /// equal shares); a job's tasks arrive together. `false`: independent tasks.
    pub dags: bool,
}

/// openb's most common GPU shares, in milli-GPU (weights from its default pod list).
const SHARES: [(u32, f64); 6] = [
    (100, 0.1),
    (200, 0.15),
    (250, 0.1),
    (300, 0.1),
    (500, 0.35),
    (700, 0.2),
];

/// Generates the workload of `spec`, all tasks in memory.
pub fn generate(spec: &Synthetic) -> Workload {
    let (mut workload, tasks) = stream(spec);
    workload.tasks = tasks.collect();
    workload
}

/// The machines of `spec` (in a workload without tasks) and its tasks as a lazy stream in arrival
/// order, so that millions of tasks need no memory.
///
/// With a target load, the Poisson rate comes from a pilot sample of 10,000 tasks drawn from an
/// independent stream of the same seed: rate × E\[duration\] × E\[cpu\] = load × CPU capacity.
pub fn stream(spec: &Synthetic) -> (Workload, TaskStream) {
    let with_gpus = spec.gpu.is_some() || spec.machines.iter().any(|m| m.gpus > 0);
    let names: Vec<&str> = if with_gpus {
        vec![dims::CPUS, dims::MEM, dims::GPUS]
    } else {
        vec![dims::CPUS, dims::MEM]
    };
    let schema = schema(&names);
    let mut machines = Vec::new();
    for shape in &spec.machines {
        for _ in 0..shape.count {
            let mut capacity = vec![
                (shape.cpus * 1000.0).round() as u64,
                (shape.mem_gib * 1024.0).round() as u64,
            ];
            if with_gpus {
                capacity.push(1000 * u64::from(shape.gpus));
            }
            machines.push(MachineSpec {
                name: format!("m{:05}", machines.len()),
                capacity,
                gpus: (shape.gpus > 0).then(|| GpuInventory {
                    count: shape.gpus,
                    model: shape.gpu_model.clone(),
                }),
            });
        }
    }
    let max = |d: usize| machines.iter().map(|m| m.capacity[d]).max().unwrap_or(1).max(1);
    let mut draw = TaskDraw {
        spec: spec.clone(),
        max_cpu: max(0),
        max_mem: max(1),
        max_gpus: spec.machines.iter().map(|m| m.gpus).max().unwrap_or(0),
        with_gpus,
        lognormal: spec
            .duration
            .and_then(|(median, sigma)| LogNormal::new(median.max(1e-3).ln(), sigma).ok()),
    };
    let rate = spec.load.filter(|l| *l > 0.0).map(|load| {
        let mut pilot = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x9E37_79B9_7F4A_7C15);
        let n = 10_000;
        let (mut cpu, mut duration) = (0.0, 0.0);
        for _ in 0..n {
            let t = draw.task(0, &mut pilot);
            cpu += t.demand[0] as f64;
            duration += t.duration.map_or(0.0, |d| d as f64 / SECOND as f64);
        }
        let (mean_cpu, mean_duration) = (cpu / f64::from(n), duration / f64::from(n));
        let capacity: f64 = machines.iter().map(|m| m.capacity[0] as f64).sum();
        if mean_duration > 0.0 && mean_cpu > 0.0 {
            load * capacity / (mean_duration * mean_cpu)
        } else {
            // Tasks never end: spread them at one per second.
            1.0
        }
    });
    draw.with_gpus = with_gpus;
    let workload = Workload {
        name: format!("synthetic/{}", spec.name),
        schema,
        machines,
        machine_events: Vec::new(),
        tasks: Vec::new(),
    };
    // Jobs of a DAG workload arrive at the task rate over their mean size.
    let rate = rate.map(|r| if spec.dags { r / MEAN_DAG_TASKS } else { r });
    let tasks = TaskStream {
        draw,
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        gap: rate.map(|r| Exp::new(r).expect("positive rate")),
        clock: 0.0,
        next: 0,
        job: Vec::new(),
        jobs: 0,
    };
    (workload, tasks)
}

/// Draws one task's shape, GPU use and duration.
#[derive(Clone)]
struct TaskDraw {
    spec: Synthetic,
    max_cpu: u64,
    max_mem: u64,
    max_gpus: u32,
    with_gpus: bool,
    lognormal: Option<LogNormal<f64>>,
}

impl TaskDraw {
    fn task(&self, i: usize, rng: &mut ChaCha8Rng) -> TaskSpec {
        let cpus = ((self.spec.cpu.sample(rng) * self.max_cpu as f64).round() as u64).max(1);
        let mem = ((self.spec.mem.sample(rng) * self.max_mem as f64).round() as u64).max(1);
        let mut task = TaskSpec::new(format!("t{i:06}"), 0, vec![cpus, mem]);
        if self.with_gpus {
            task.gpu = match &self.spec.gpu {
                Some(mix) if self.max_gpus > 0 => gpu_request(mix, self.max_gpus, rng),
                _ => GpuDemand::None,
            };
            task.demand.push(task.gpu.milli());
        }
        task.duration = self
            .lognormal
            .map(|d| (d.sample(rng) * SECOND as f64).round().max(1.0) as i64);
        task
    }
}

/// The tasks of a synthetic workload, drawn one at a time in arrival order.
pub struct TaskStream {
    draw: TaskDraw,
    rng: ChaCha8Rng,
    gap: Option<Exp<f64>>,
    clock: f64,
    next: usize,
    /// DAG workloads: the rest of the current job, last task first.
    job: Vec<TaskSpec>,
    jobs: usize,
}

/// The expected number of tasks of a synthetic DAG job: fork–join 2 + 5 = 7, chain 5.5, layered
/// 4 layers × 2.5 = 10, in equal shares: 7.5.
const MEAN_DAG_TASKS: f64 = 7.5;

/// The parents of each task of a random job, by position in the job (parents before children):
/// fork–join (a source, 2–8 workers, a sink), a chain of 3–8, or 3–5 layers of 1–4 tasks each
/// waiting for 1–3 tasks of the layer before.
fn dag_shape(rng: &mut ChaCha8Rng) -> Vec<Vec<u32>> {
    match rng.random_range(0..3) {
        0 => {
            let w = rng.random_range(2..=8u32);
            let mut nodes = vec![Vec::new()];
            nodes.extend((0..w).map(|_| vec![0]));
            nodes.push((1..=w).collect());
            nodes
        }
        1 => {
            let n = rng.random_range(3..=8u32);
            (0..n)
                .map(|i| if i == 0 { Vec::new() } else { vec![i - 1] })
                .collect()
        }
        _ => {
            let mut nodes: Vec<Vec<u32>> = Vec::new();
            let mut previous: Vec<u32> = Vec::new();
            for _ in 0..rng.random_range(3..=5) {
                let width = rng.random_range(1..=4);
                let mut layer = Vec::new();
                for _ in 0..width {
                    let mut parents = Vec::new();
                    if !previous.is_empty() {
                        let k = rng.random_range(1..=previous.len().min(3));
                        while parents.len() < k {
                            let p = previous[rng.random_range(0..previous.len())];
                            if !parents.contains(&p) {
                                parents.push(p);
                            }
                        }
                        parents.sort_unstable();
                    }
                    layer.push(nodes.len() as u32);
                    nodes.push(parents);
                }
                previous = layer;
            }
            nodes
        }
    }
}

impl TaskStream {
    /// Draws the next job's tasks (DAG workloads), all arriving at the job's arrival.
    fn next_job(&mut self) {
        let shape = dag_shape(&mut self.rng);
        if let Some(gap) = &self.gap {
            self.clock += gap.sample(&mut self.rng);
        }
        let arrival = (self.clock * SECOND as f64).round() as i64;
        let base = self.next as u32;
        let job = format!("j{:05}", self.jobs);
        self.jobs += 1;
        let mut tasks: Vec<TaskSpec> = shape
            .iter()
            .enumerate()
            .map(|(k, parents)| {
                let mut t = self.draw.task(self.next + k, &mut self.rng);
                t.name = format!("{job}/t{k}");
                t.arrival = if self.gap.is_some() { arrival } else { 0 };
                t.job = Some(job.clone());
                t.after = parents
                    .iter()
                    .map(|&p| After {
                        task: base + p,
                        delay: 0,
                    })
                    .collect();
                t
            })
            .collect();
        tasks.reverse();
        self.job = tasks;
    }
}

impl Iterator for TaskStream {
    type Item = TaskSpec;

    fn next(&mut self) -> Option<TaskSpec> {
        if self.next >= self.draw.spec.tasks {
            return None;
        }
        if self.draw.spec.dags {
            if self.job.is_empty() {
                self.next_job();
            }
            self.next += 1;
            return self.job.pop();
        }
        let mut task = self.draw.task(self.next, &mut self.rng);
        if let Some(gap) = &self.gap {
            self.clock += gap.sample(&mut self.rng);
            task.arrival = (self.clock * SECOND as f64).round() as i64;
        }
        self.next += 1;
        Some(task)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.draw.spec.tasks - self.next;
        (left, Some(left))
    }
}

fn gpu_request(mix: &GpuMix, max_gpus: u32, rng: &mut ChaCha8Rng) -> GpuDemand {
    let total = mix.cpu_only + mix.share + mix.whole + mix.multi;
    let mut pick = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
    if pick < mix.cpu_only {
        return GpuDemand::None;
    }
    pick -= mix.cpu_only;
    if pick < mix.share {
        let weights: f64 = SHARES.iter().map(|s| s.1).sum();
        let mut p = rng.random_range(0.0..weights);
        for (milli, w) in SHARES {
            if p < w {
                return GpuDemand::Share(milli);
            }
            p -= w;
        }
        return GpuDemand::Share(500);
    }
    pick -= mix.share;
    if pick < mix.whole {
        return GpuDemand::Whole(1);
    }
    let choices: Vec<u32> = [2, 4, 8].into_iter().filter(|&n| n <= max_gpus).collect();
    match choices.len() {
        0 => GpuDemand::Whole(1),
        n => GpuDemand::Whole(choices[rng.random_range(0..n)]),
    }
}

/// The default workload's offered load. At 1.1 the queue's seed-to-seed variance hid every
/// difference between policies in the timed models; at 1.0 they separate (the run takes about
/// 7 s on two cores, satyr-mr's long queue most of it).
const DEFAULT_LOAD: f64 = 1.0;

/// The names of the built-in specs, for help texts.
pub const BUILTIN: [&str; 6] = [
    "default",
    "heavy-tailed",
    "uniform",
    "gpu-sharing",
    "google-scale",
    "dags",
];

/// A built-in spec by name, with the given seed.
///
/// - `default`: 64 machines of three kinds (24 CPU-rich of 64 cores and 128 GiB, 24 balanced of 32
///   and 128, 16 memory-rich of 16 and 256), 4,000 tasks whose CPU and memory come from
///   independent two-component normal mixtures (many small, some large), Poisson arrivals at 100%
///   offered load, lognormal run times (median 5 min, sigma 1): a loaded, heterogeneous cluster
///   where packing in two dimensions separates the policies.
/// - `heavy-tailed`: 64 machines of 32, 64 and 96 cores at 4 to 5.3 GiB per core, 90% load,
///   Pareto sizes (alpha 1.5).
/// - `uniform`: that cluster, sizes uniform in [1%, 50%].
/// - `gpu-sharing`: 64 eight-GPU machines and 4,000 tasks with openb's mix (13% CPU-only, 38%
///   GPU-sharing, 48% one GPU, 1% multi-GPU), arriving at 90% load.
/// - `google-scale`: the size of Google's 2011 cell: 12,500 machines in the shapes Reiss et al.
///   (SoCC'12) report (half a big machine's CPU with a quarter, half or three quarters of its
///   memory, some full and some quarter machines; the big machine being 32 cores and 128 GiB) and
///   1,000,000 small heavy-tailed tasks with lognormal run times at 80% load.
/// - `dags`: the `default` cluster and task sizes, 20,000 tasks in about 2,700 jobs with
///   dependencies (fork–join, chains and random layered graphs in equal shares), each job's tasks
///   arriving together, at 100% offered load, run times lognormal with a 1-minute median. (With
///   4,000 tasks the arrivals end before queues form: dependencies spread a job's work past its
///   arrival, and every policy reached a mean slowdown of 1.00.)
pub fn builtin(name: &str, seed: u64) -> Option<Synthetic> {
    let cpu_cluster = vec![
        MachineShape {
            count: 32,
            cpus: 32.0,
            mem_gib: 128.0,
            gpus: 0,
            gpu_model: String::new(),
        },
        MachineShape {
            count: 24,
            cpus: 64.0,
            mem_gib: 256.0,
            gpus: 0,
            gpu_model: String::new(),
        },
        MachineShape {
            count: 8,
            cpus: 96.0,
            mem_gib: 512.0,
            gpus: 0,
            gpu_model: String::new(),
        },
    ];
    // Memory fractions are three quarters of the CPU ones: tasks then ask about 4 GiB per core, like
    // the cluster has, so neither dimension alone is the bottleneck.
    let cpu = SizeDist::NormalMixture(vec![(0.7, 0.04, 0.02), (0.3, 0.18, 0.08)]);
    let mem = SizeDist::NormalMixture(vec![(0.7, 0.03, 0.015), (0.3, 0.135, 0.06)]);
    let base = Synthetic {
        name: name.to_string(),
        seed,
        machines: cpu_cluster,
        tasks: 4000,
        cpu,
        mem,
        load: Some(0.9),
        duration: Some((300.0, 1.0)),
        gpu: None,
        dags: false,
    };
    match name {
        "default" => Some(Synthetic {
            // A heterogeneous cluster (CPU-rich, balanced and memory-rich machines, 2 to 16 GiB per
            // core) under a load above its capacity, with demands whose CPU and memory vary
            // independently: packing in two dimensions matters, queues form, policies separate.
            machines: vec![
                MachineShape {
                    count: 24,
                    cpus: 64.0,
                    mem_gib: 128.0,
                    gpus: 0,
                    gpu_model: String::new(),
                },
                MachineShape {
                    count: 24,
                    cpus: 32.0,
                    mem_gib: 128.0,
                    gpus: 0,
                    gpu_model: String::new(),
                },
                MachineShape {
                    count: 16,
                    cpus: 16.0,
                    mem_gib: 256.0,
                    gpus: 0,
                    gpu_model: String::new(),
                },
            ],
            cpu: SizeDist::NormalMixture(vec![(0.6, 0.03, 0.015), (0.4, 0.12, 0.06)]),
            mem: SizeDist::NormalMixture(vec![(0.6, 0.02, 0.01), (0.4, 0.12, 0.06)]),
            load: Some(DEFAULT_LOAD),
            ..base
        }),
        "heavy-tailed" => Some(Synthetic {
            cpu: SizeDist::HeavyTailed {
                alpha: 1.5,
                min: 0.02,
            },
            mem: SizeDist::HeavyTailed {
                alpha: 1.5,
                min: 0.02,
            },
            ..base
        }),
        "uniform" => Some(Synthetic {
            cpu: SizeDist::Uniform { lo: 0.01, hi: 0.5 },
            mem: SizeDist::Uniform {
                lo: 0.0075,
                hi: 0.375,
            },
            ..base
        }),
        "gpu-sharing" => Some(Synthetic {
            machines: vec![MachineShape {
                count: 64,
                cpus: 96.0,
                mem_gib: 384.0,
                gpus: 8,
                gpu_model: "G2".into(),
            }],
            cpu: SizeDist::NormalMixture(vec![(0.8, 0.06, 0.03), (0.2, 0.15, 0.05)]),
            mem: SizeDist::NormalMixture(vec![(0.8, 0.04, 0.02), (0.2, 0.12, 0.05)]),
            gpu: Some(GpuMix {
                cpu_only: 0.133,
                share: 0.378,
                whole: 0.48,
                multi: 0.009,
            }),
            ..base
        }),
        "google-scale" => {
            let shape = |count, cpus, mem_gib| MachineShape {
                count,
                cpus,
                mem_gib,
                gpus: 0,
                gpu_model: String::new(),
            };
            Some(Synthetic {
                machines: vec![
                    shape(6_700, 16.0, 64.0),
                    shape(3_800, 16.0, 32.0),
                    shape(1_000, 16.0, 96.0),
                    shape(800, 32.0, 128.0),
                    shape(200, 8.0, 32.0),
                ],
                tasks: 1_000_000,
                cpu: SizeDist::HeavyTailed {
                    alpha: 1.6,
                    min: 0.01,
                },
                mem: SizeDist::HeavyTailed {
                    alpha: 1.6,
                    min: 0.008,
                },
                load: Some(0.8),
                duration: Some((600.0, 1.2)),
                ..base
            })
        }
        "dags" => {
            let default = builtin("default", seed)?;
            Some(Synthetic {
                name: name.to_string(),
                dags: true,
                tasks: 20_000,
                load: Some(1.0),
                duration: Some((60.0, 1.0)),
                ..default
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_workload_other_seed_other_workload() {
        let a = generate(&builtin("default", 1).unwrap());
        let b = generate(&builtin("default", 1).unwrap());
        let c = generate(&builtin("default", 2).unwrap());
        assert_eq!(a, b);
        assert_ne!(a.tasks, c.tasks);
        assert_eq!(a.machines.len(), 64);
        assert_eq!(a.tasks.len(), 4000);
    }

    #[test]
    fn arrivals_offer_the_target_load() {
        let w = generate(&builtin("default", 7).unwrap());
        let capacity: f64 = w.machines.iter().map(|m| m.capacity[0] as f64).sum();
        let span = w.tasks.last().unwrap().arrival as f64 / SECOND as f64;
        let work: f64 = w
            .tasks
            .iter()
            .map(|t| t.demand[0] as f64 * t.duration.unwrap() as f64 / SECOND as f64)
            .sum();
        let load = work / span / capacity;
        assert!((0.75..1.05).contains(&load), "offered load {load}");
        assert!(w.tasks.windows(2).all(|p| p[0].arrival <= p[1].arrival));
    }

    #[test]
    fn the_stream_and_the_generated_workload_agree() {
        let spec = builtin("heavy-tailed", 5).unwrap();
        let (machines, stream) = stream(&spec);
        let tasks: Vec<TaskSpec> = stream.collect();
        let w = generate(&spec);
        assert_eq!((machines.machines, tasks), (w.machines, w.tasks));
        let google = builtin("google-scale", 1).unwrap();
        assert_eq!(google.machines.iter().map(|m| m.count).sum::<u32>(), 12_500);
    }

    #[test]
    fn gpu_mix_follows_the_shares() {
        let w = generate(&builtin("gpu-sharing", 3).unwrap());
        let n = w.tasks.len() as f64;
        let share = w
            .tasks
            .iter()
            .filter(|t| matches!(t.gpu, GpuDemand::Share(_)))
            .count() as f64
            / n;
        let none = w.tasks.iter().filter(|t| t.gpu == GpuDemand::None).count() as f64 / n;
        assert!((0.34..0.42).contains(&share), "{share}");
        assert!((0.10..0.17).contains(&none), "{none}");
        assert!(w.tasks.iter().all(|t| t.demand[2] == t.gpu.milli()));
        assert!(
            w.tasks
                .iter()
                .all(|t| t.demand.iter().zip(&w.machines[0].capacity).all(|(d, c)| d <= c))
        );
    }

    #[test]
    fn dags_are_acyclic_jobs_of_the_three_kinds_arriving_together() {
        let mut spec = builtin("dags", 4).unwrap();
        spec.tasks = 4000;
        let w = generate(&spec);
        assert_eq!(w.tasks.len(), 4000);
        w.check_graph().unwrap();
        // Parents come before their children, in the same job, arriving at the same time.
        for (i, t) in w.tasks.iter().enumerate() {
            for a in &t.after {
                let p = &w.tasks[a.task as usize];
                assert!((a.task as usize) < i && p.job == t.job && p.arrival == t.arrival);
            }
        }
        let jobs: std::collections::BTreeSet<_> = w.tasks.iter().map(|t| t.job.clone().unwrap()).collect();
        let mean = 4000.0 / jobs.len() as f64;
        assert!((6.5..8.5).contains(&mean), "{mean} tasks per job");
        let with_parents = w.tasks.iter().filter(|t| !t.after.is_empty()).count();
        assert!(with_parents > 3000, "{with_parents}");
        assert_eq!(w, generate(&spec));
    }
}
