//! GPU fragmentation as defined by Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing
//! Workloads with Fragmentation Gradient Descent" (USENIX ATC'23).
//!
//! The measure is statistical: fragmentation is judged against a *target workload* `M`, the classes
//! of tasks expected to arrive, each a (CPU, GPU demand, GPU models) shape with a popularity `p_m`.
//! For a machine `n` with idle GPU milli `G_n` (summed over its devices), the GPU it leaves unusable
//! for class `m` is
//! - all of `G_n` if `m` asks for no GPU (a CPU task cannot use idle GPUs), if `m`'s GPU models
//!   exclude `n`'s, if `n`'s devices cannot host `m`'s GPU demand, or if `n` lacks the CPU for `m`;
//! - otherwise, the idle milli on devices with less free than `m` needs per device.
//!
//! `F_n(M) = Σ_m p_m · F_n(m)`; the cluster's fragmentation is `Σ_n F_n(M)` and its fragmentation
//! ratio that sum over the cluster's idle GPU milli. Memory is not part of the measure, as in the
//! paper's simulator. Unavailable machines count neither fragmented nor idle GPU.

use std::collections::BTreeMap;

use crate::cluster::{Cluster, MachineId};
use crate::gpu::{GPU_MILLI, GpuDemand, ModelSet};

/// One class of the target workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskClass {
    /// CPU demand, in the cluster's CPU units.
    pub cpu: u64,
    /// GPU demand per device and device count.
    pub gpu: GpuDemand,
    /// Acceptable GPU models.
    pub models: ModelSet,
    /// Popularity: the classes' popularities add up to 1.
    pub popularity: f64,
}

/// The target workload: task classes with their popularity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetWorkload {
    classes: Vec<TaskClass>,
}

/// The share of tasks the most popular classes must cover, as in the paper's experiments.
pub const POPULARITY_COVERAGE: f64 = 0.95;

impl TargetWorkload {
    /// The target workload of a task population given as `(cpu, gpu, models)` per task: classes by
    /// decreasing count (ties by class, for determinism), the most popular ones taken one by one
    /// until they cover `coverage` of the tasks, popularities renormalised over those.
    pub fn from_tasks(
        tasks: impl IntoIterator<Item = (u64, GpuDemand, ModelSet)>,
        coverage: f64,
    ) -> TargetWorkload {
        let mut counts: BTreeMap<(u64, GpuDemand, ModelSet), u64> = BTreeMap::new();
        let mut total = 0u64;
        for key in tasks {
            *counts.entry(key).or_insert(0) += 1;
            total += 1;
        }
        let mut ranked: Vec<((u64, GpuDemand, ModelSet), u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let needed = coverage * total as f64;
        let mut covered = 0u64;
        let mut keep = 0;
        while keep < ranked.len() && (covered as f64) < needed {
            covered += ranked[keep].1;
            keep += 1;
        }
        ranked.truncate(keep);
        TargetWorkload {
            classes: ranked
                .into_iter()
                .map(|((cpu, gpu, models), n)| TaskClass {
                    cpu,
                    gpu,
                    models,
                    popularity: n as f64 / covered as f64,
                })
                .collect(),
        }
    }

    /// A target workload of the given classes; popularities are renormalised to add up to 1.
    pub fn new(mut classes: Vec<TaskClass>) -> TargetWorkload {
        let total: f64 = classes.iter().map(|c| c.popularity).sum();
        if total > 0.0 {
            for c in &mut classes {
                c.popularity /= total;
            }
        }
        TargetWorkload { classes }
    }

    /// The classes, most popular first.
    pub fn classes(&self) -> &[TaskClass] {
        &self.classes
    }
}

/// Idle GPU milli on the machine (0 when unavailable).
pub fn idle_gpu(c: &Cluster, m: MachineId) -> u64 {
    if !c.is_available(m) {
        return 0;
    }
    c.devices(m).iter().map(|&f| u64::from(f)).sum()
}

/// `F_n(m)`: the idle GPU milli on machine `m` that class `class` cannot use, given the machine's
/// free CPU (`cpu_free`), devices (`devices`) and model.
pub fn class_fragmentation(cpu_free: u64, devices: &[u16], model: u16, class: &TaskClass) -> u64 {
    let idle: u64 = devices.iter().map(|&f| u64::from(f)).sum();
    if idle == 0 {
        return 0;
    }
    let per_device = class.gpu.per_device();
    let hostable = class.gpu != GpuDemand::None
        && class.models.allows(model)
        && devices.iter().filter(|&&f| u32::from(f) >= per_device).count() as u32 >= class.gpu.devices()
        && cpu_free >= class.cpu;
    if !hostable {
        return idle;
    }
    devices
        .iter()
        .filter(|&&f| u32::from(f) < per_device.min(GPU_MILLI))
        .map(|&f| u64::from(f))
        .sum()
}

/// `F_n(M)` for machine `m`, with `cpu_dim` the cluster's CPU dimension.
pub fn node_fragmentation(c: &Cluster, m: MachineId, cpu_dim: usize, target: &TargetWorkload) -> f64 {
    if !c.is_available(m) {
        return 0.0;
    }
    fragmentation_of(c.free(m)[cpu_dim], c.devices(m), c.model(m), target)
}

/// `F_n(M)` for a machine state given directly: free CPU, free milli per device and GPU model.
pub fn fragmentation_of(cpu_free: u64, devices: &[u16], model: u16, target: &TargetWorkload) -> f64 {
    target
        .classes
        .iter()
        .map(|class| class.popularity * class_fragmentation(cpu_free, devices, model, class) as f64)
        .sum()
}

/// The cluster's fragmentation `Σ_n F_n(M)` (milli-GPU) and its idle GPU milli.
pub fn cluster_fragmentation(c: &Cluster, cpu_dim: usize, target: &TargetWorkload) -> (f64, u64) {
    c.machine_ids()
        .map(|m| (node_fragmentation(c, m, cpu_dim, target), idle_gpu(c, m)))
        .fold((0.0, 0), |(f, i), (nf, ni)| (f + nf, i + ni))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(cpu: u64, gpu: GpuDemand, popularity: f64) -> TaskClass {
        TaskClass {
            cpu,
            gpu,
            models: ModelSet::ANY,
            popularity,
        }
    }

    // Hand-computed cases: a node with 8 cores free and devices [1000, 300, 0, 600].
    const DEVICES: [u16; 4] = [1000, 300, 0, 600];

    #[test]
    fn a_share_task_cannot_use_devices_with_less_free_than_its_share() {
        // Share 500: devices 300 (and the empty one) are fragments; 1000 and 600 are usable.
        assert_eq!(
            class_fragmentation(8000, &DEVICES, 0, &class(1000, GpuDemand::Share(500), 1.0)),
            300
        );
        // Share 200: every partially free device can still take it.
        assert_eq!(
            class_fragmentation(8000, &DEVICES, 0, &class(1000, GpuDemand::Share(200), 1.0)),
            0
        );
    }

    #[test]
    fn a_whole_gpu_task_cannot_use_partially_free_devices() {
        assert_eq!(
            class_fragmentation(8000, &DEVICES, 0, &class(1000, GpuDemand::Whole(1), 1.0)),
            900
        );
        // Two whole GPUs do not fit (only one device is free): all 1900 idle milli are fragments.
        assert_eq!(
            class_fragmentation(8000, &DEVICES, 0, &class(1000, GpuDemand::Whole(2), 1.0)),
            1900
        );
    }

    #[test]
    fn lacking_cpu_models_or_asking_no_gpu_makes_every_idle_gpu_a_fragment() {
        assert_eq!(
            class_fragmentation(500, &DEVICES, 0, &class(1000, GpuDemand::Share(200), 1.0)),
            1900
        );
        assert_eq!(
            class_fragmentation(8000, &DEVICES, 0, &class(1000, GpuDemand::None, 1.0)),
            1900
        );
        let picky = TaskClass {
            models: ModelSet::of([2]).unwrap(),
            ..class(1000, GpuDemand::Share(200), 1.0)
        };
        assert_eq!(class_fragmentation(8000, &DEVICES, 1, &picky), 1900);
        assert_eq!(class_fragmentation(8000, &DEVICES, 2, &picky), 0);
    }

    #[test]
    fn node_fragmentation_weighs_classes_by_popularity() {
        let target = TargetWorkload::new(vec![
            class(1000, GpuDemand::Share(500), 3.0),
            class(1000, GpuDemand::Whole(1), 1.0),
        ]);
        // 0.75 × 300 + 0.25 × 900 = 450.
        assert!((fragmentation_of(8000, &DEVICES, 0, &target) - 450.0).abs() < 1e-9);
    }

    #[test]
    fn target_workload_keeps_the_popular_classes() {
        let share = (1000, GpuDemand::Share(500), ModelSet::ANY);
        let whole = (2000, GpuDemand::Whole(1), ModelSet::ANY);
        let rare = (500, GpuDemand::None, ModelSet::ANY);
        let tasks = std::iter::repeat_n(share, 60)
            .chain(std::iter::repeat_n(whole, 36))
            .chain(std::iter::repeat_n(rare, 4));
        let t = TargetWorkload::from_tasks(tasks, 0.95);
        // 60 + 36 = 96 ≥ 95 of 100: the CPU-only class is dropped and the rest renormalised.
        assert_eq!(t.classes().len(), 2);
        assert!((t.classes()[0].popularity - 0.625).abs() < 1e-12);
        assert!((t.classes()[1].popularity - 0.375).abs() < 1e-12);
    }
}
