//! The device-level GPU policies: FGD, GPU packing, GPU clustering, and FGD with alignment ties.
//!
//! Each scores a machine *and* the devices a task would take there, so they decide in
//! [`super::Policy::place`] rather than through the aggregate-demand scores of `score.rs`.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use crate::cluster::{Cluster, MachineId};
use crate::frag::{TargetWorkload, fragmentation_of};
use crate::gpu::{DeviceAlloc, GPU_MILLI, GpuDemand, Request, default_devices};
use crate::policy::kind::Kind;
use crate::policy::{Placement, Policy};
use crate::rule::beats;
use crate::weights::Weights;

/// Devices a memo key can hold (16 bits each in a `u128`); machines with more are scored without
/// the memo.
const MEMO_DEVICES: usize = 8;

/// Memo key: free CPU, free milli per device, device count, GPU model, the task's CPU and GPU
/// demand.
type Key = (u64, u128, u8, u16, u64, GpuDemand);

/// A multiply-rotate hash for the memo's small integer keys (SipHash dominated the profile).
#[derive(Default)]
pub(crate) struct FastHash(u64);

impl Hasher for FastHash {
    fn finish(&self) -> u64 {
        // A final mix, so that the table's low (bucket) and high (tag) bits both depend on
        // every input bit.
        crate::hash::finalise(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(u64::from(x));
    }
    fn write_u16(&mut self, x: u16) {
        self.write_u64(u64::from(x));
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_u128(&mut self, x: u128) {
        self.write_u64(x as u64);
        self.write_u64((x >> 64) as u64);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn write_isize(&mut self, x: isize) {
        self.write_u64(x as u64);
    }
}

/// FGD's fragmentation change is a pure function of a machine's state and the task's shape; the
/// memo remembers it across decisions (machines in equal states, and a state seen before, are not
/// recomputed). It never changes a result.
#[derive(Default)]
pub(crate) struct Memo(Mutex<HashMap<Key, (f64, DeviceAlloc), BuildHasherDefault<FastHash>>>);

impl fmt::Debug for Memo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Memo")
    }
}

/// The best placement on a machine by FGD's fragmentation change, scored by `score(Δ)` with
/// `Δ = F(before) − F(after)` (higher is better): a sharing task's device is the one of highest
/// score, lowest index on ties; other tasks take [`default_devices`].
fn fgd_score(
    c: &Cluster,
    m: MachineId,
    request: &Request<'_>,
    cpu_dim: usize,
    target: &TargetWorkload,
    score: impl Fn(f64) -> f64,
) -> Option<(f64, DeviceAlloc)> {
    let cpu_free = c.free(m)[cpu_dim];
    let cpu = request.demand[cpu_dim];
    let devices = c.devices(m);
    let model = c.model(m);
    let before = fragmentation_of(cpu_free, devices, model, target);
    let mut after_devices = [0u16; 64];
    let n = devices.len().min(64);
    after_devices[..n].copy_from_slice(&devices[..n]);
    match request.gpu {
        GpuDemand::Share(share) => {
            let mut best: Option<(f64, DeviceAlloc)> = None;
            for (i, &f) in devices.iter().enumerate().take(64) {
                if u32::from(f) < share {
                    continue;
                }
                after_devices[i] = f - share as u16;
                let s = score(before - fragmentation_of(cpu_free - cpu, &after_devices[..n], model, target));
                after_devices[i] = f;
                if best.is_none_or(|(b, _)| s > b + 1e-9) {
                    best = Some((
                        s,
                        DeviceAlloc::Share {
                            device: i as u8,
                            milli: share as u16,
                        },
                    ));
                }
            }
            best
        }
        gpu => {
            let alloc = default_devices(devices, gpu)?;
            if let DeviceAlloc::Whole(mask) = alloc {
                for (i, d) in after_devices[..n].iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *d = 0;
                    }
                }
            }
            let after = fragmentation_of(cpu_free - cpu, &after_devices[..n], model, target);
            Some((score(before - after), alloc))
        }
    }
}

/// FGD's exact fragmentation change `Δ` and the devices that give it.
fn fgd_delta(
    c: &Cluster,
    m: MachineId,
    request: &Request<'_>,
    cpu_dim: usize,
    target: &TargetWorkload,
) -> Option<(f64, DeviceAlloc)> {
    fgd_score(c, m, request, cpu_dim, target, |delta| delta)
}

/// The paper's simulator's FGD score, `⌊100·sigmoid(Δ/1000)⌋` (integer-valued, so the device
/// choice's tolerance never matters).
fn fgd_sim_score(
    c: &Cluster,
    m: MachineId,
    request: &Request<'_>,
    cpu_dim: usize,
    target: &TargetWorkload,
) -> Option<(f64, DeviceAlloc)> {
    fgd_score(c, m, request, cpu_dim, target, |delta| {
        (100.0 / (1.0 + (-delta / 1000.0).exp())).trunc()
    })
}

fn memo_key(c: &Cluster, m: MachineId, request: &Request<'_>, cpu_dim: usize) -> Option<Key> {
    let devices = c.devices(m);
    if devices.len() > MEMO_DEVICES {
        return None;
    }
    let packed = devices.iter().fold(0u128, |acc, &f| (acc << 16) | u128::from(f));
    Some((
        c.free(m)[cpu_dim],
        packed,
        devices.len() as u8,
        c.model(m),
        request.demand[cpu_dim],
        request.gpu,
    ))
}

/// fgd-dot's tie-break: Tetris alignment of the demand with the machine's free room, both
/// capacity-normalised, weighted as `dot-product` weighs them.
fn alignment(c: &Cluster, m: MachineId, request: &Request<'_>, w: &Weights) -> f64 {
    let inv = c.inv_reference();
    let free = c.free(m);
    (0..free.len())
        .map(|d| w.normalised()[d] * (request.demand[d] as f64 * inv[d]) * (free[d] as f64 * inv[d]))
        .sum()
}

/// GPU packing's score and devices (see [`Kind::GpuPacking`]'s doc).
fn packing_score(c: &Cluster, m: MachineId, gpu: GpuDemand) -> Option<(f64, DeviceAlloc)> {
    let devices = c.devices(m);
    let alloc = default_devices(devices, gpu)?;
    if gpu == GpuDemand::None {
        return Some((0.0, alloc));
    }
    let full = GPU_MILLI as u16;
    let fully_free = devices.iter().filter(|&&f| f == full).count() as i64;
    if fully_free == devices.len() as i64 {
        return Some(((100 / 3 - fully_free).max(fully_free) as f64, alloc));
    }
    let score = match alloc {
        // A share that must open a fully free GPU: case 2 with one GPU, 50 − 1.
        DeviceAlloc::Share { device, .. } if devices[usize::from(device)] == full => 49,
        DeviceAlloc::Whole(mask) => (50 - i64::from(mask.count_ones())).max(33),
        DeviceAlloc::Share { device, .. } => {
            let free_pct = i64::from(devices[usize::from(device)]) * 100 / i64::from(GPU_MILLI);
            (100 - free_pct / 10).max(50)
        }
        DeviceAlloc::None => 0,
    };
    Some((score as f64, alloc))
}

/// GPU clustering's score and devices (see [`Kind::GpuClustering`]'s doc).
fn clustering_score(c: &Cluster, m: MachineId, gpu: GpuDemand, gpu_cap: u64) -> Option<(f64, DeviceAlloc)> {
    let alloc = default_devices(c.devices(m), gpu)?;
    if gpu == GpuDemand::None || gpu_cap == 0 {
        return Some((0.0, alloc));
    }
    let tasks = c.gpu_tasks(m);
    let band = match (tasks.iter().any(|(g, _)| *g == gpu), tasks.len()) {
        (true, 1) => 75.0,
        (true, _) => 50.0,
        (false, 0) => 25.0,
        (false, _) => 0.0,
    };
    let idle: u64 = c.devices(m).iter().map(|&f| u64::from(f)).sum();
    Some((
        band + 25.0 * gpu_cap.saturating_sub(idle) as f64 / gpu_cap as f64,
        alloc,
    ))
}

/// The placement `policy` (of device-level `kind`) chooses among machines passing `fit`: the best
/// score, lowest id on ties.
pub(crate) fn place(
    policy: &Policy,
    kind: Kind,
    c: &Cluster,
    request: &Request<'_>,
    fit: impl Fn(MachineId) -> bool,
) -> Option<Placement> {
    let cpu_dim = policy.schema.index_of("cpus").unwrap_or(0);
    let target = policy.target.as_deref();
    let w = &policy.weights;
    let gpu_cap = c.gpu_dim().map_or(0, |g| c.reference()[g]);
    // (primary, secondary, machine, devices)
    let mut best: Option<(f64, f64, MachineId, DeviceAlloc)> = None;
    let mut memo = match kind {
        Kind::Fgd | Kind::FgdDot | Kind::FgdSim => Some(policy.memo.0.lock().expect("memo lock")),
        _ => None,
    };
    let empty = TargetWorkload::default();
    let target = target.unwrap_or(&empty);
    for m in c.machine_ids() {
        if !fit(m) {
            continue;
        }
        let scored = match kind {
            Kind::GpuPacking => packing_score(c, m, request.gpu).map(|(s, a)| (s, 0.0, a)),
            Kind::GpuClustering => clustering_score(c, m, request.gpu, gpu_cap).map(|(s, a)| (s, 0.0, a)),
            _ => {
                let key = memo_key(c, m, request, cpu_dim);
                let cache = memo.as_mut().expect("FGD kinds lock the memo");
                let found = key.as_ref().and_then(|k| cache.get(k).copied());
                let delta = match found {
                    Some(v) => Some(v),
                    None => {
                        let v = if kind == Kind::FgdSim {
                            fgd_sim_score(c, m, request, cpu_dim, target)
                        } else {
                            fgd_delta(c, m, request, cpu_dim, target)
                        };
                        if let (Some(k), Some(v)) = (key, v) {
                            cache.insert(k, v);
                        }
                        v
                    }
                };
                delta.map(|(d, a)| {
                    let secondary = match kind {
                        Kind::FgdDot => alignment(c, m, request, w),
                        // kube-scheduler's uniform choice among the best-scored nodes.
                        Kind::FgdSim => super::score::random(c, m, policy.seed),
                        _ => 0.0,
                    };
                    (d, secondary, a)
                })
            }
        };
        let Some((primary, secondary, alloc)) = scored else {
            continue;
        };
        let better = match best {
            None => true,
            Some((bp, bs, _, _)) => {
                if (primary - bp).abs() > 1e-9 * primary.abs().max(bp.abs()).max(1.0) {
                    primary > bp
                } else {
                    beats(secondary, bs)
                }
            }
        };
        if better {
            best = Some((primary, secondary, m, alloc));
        }
    }
    best.map(|(_, _, machine, devices)| Placement { machine, devices })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frag::TaskClass;
    use crate::gpu::ModelSet;

    /// Two GPU nodes of 4 devices and 32 cores; `allocs` pre-places (node, gpu demand) tasks.
    fn cluster(allocs: &[(usize, GpuDemand)]) -> Cluster {
        let mut c = Cluster::with_gpus(2, 1);
        for _ in 0..2 {
            c.add_gpu_machine(&[32_000, 4000], 4, 1).unwrap();
        }
        for &(m, gpu) in allocs {
            let m = MachineId(m as u32);
            let demand = [1000, gpu.milli()];
            let request = Request {
                demand: &demand,
                gpu,
                models: ModelSet::ANY,
            };
            let devices = default_devices(c.devices(m), gpu).unwrap();
            c.allocate_request(m, &request, devices).unwrap();
        }
        c
    }

    fn request(demand: &[u64], gpu: GpuDemand) -> Request<'_> {
        Request {
            demand,
            gpu,
            models: ModelSet::ANY,
        }
    }

    fn policy(kind: Kind, target: Option<TargetWorkload>) -> Policy {
        let p = Policy::from_kind(kind, &crate::Schema::uniform(&["cpus", "gpus"], 0).unwrap()).unwrap();
        match target {
            Some(t) => p.with_target(t),
            None => p,
        }
    }

    #[test]
    fn fgd_puts_a_half_gpu_task_beside_another_half_rather_than_on_a_fresh_gpu() {
        // Target workload: all tasks take half a GPU. Node 0 runs one half-GPU task on device 0.
        let target = TargetWorkload::new(vec![TaskClass {
            cpu: 1000,
            gpu: GpuDemand::Share(500),
            models: ModelSet::ANY,
            popularity: 1.0,
        }]);
        let c = cluster(&[(0, GpuDemand::Share(500))]);
        let demand = [1000, 500];
        let r = request(&demand, GpuDemand::Share(500));
        // Every placement leaves 0 fragmentation for half-GPU tasks (500 or 1000 free fits one):
        // Δ = 0 everywhere, so the lowest node and device win: node 0, device 0 (the shared one).
        let p = policy(Kind::Fgd, Some(target.clone()))
            .place(&c, &r, |_| true)
            .unwrap();
        assert_eq!(
            (p.machine, p.devices),
            (
                MachineId(0),
                DeviceAlloc::Share {
                    device: 0,
                    milli: 500
                }
            )
        );
        // With a target of 0.7-GPU tasks, device 0's 500 free milli are already a fragment
        // (500 < 700). A 0.3 task there shrinks it to 200 (Δ = +300); on a fresh device it leaves
        // 700, still usable (Δ = 0). FGD fills the fragment.
        let target = TargetWorkload::new(vec![TaskClass {
            cpu: 1000,
            gpu: GpuDemand::Share(700),
            models: ModelSet::ANY,
            popularity: 1.0,
        }]);
        let demand = [1000, 300];
        let r = request(&demand, GpuDemand::Share(300));
        let p = policy(Kind::Fgd, Some(target.clone()))
            .place(&c, &r, |_| true)
            .unwrap();
        assert_eq!(
            (p.machine, p.devices),
            (
                MachineId(0),
                DeviceAlloc::Share {
                    device: 0,
                    milli: 300
                }
            )
        );
        let (delta, _) = fgd_delta(&c, MachineId(0), &r, 0, &target).unwrap();
        assert!((delta - 300.0).abs() < 1e-9, "{delta}");
    }

    #[test]
    fn fgd_sim_scores_as_the_papers_simulator() {
        // Target: 0.7-GPU tasks. Node 0 device 0 has 500 free, a fragment; a 0.3 task there
        // shrinks it by 300: ⌊100·sigmoid(0.3)⌋ = ⌊57.44⌋ = 57. On a fresh device Δ = 0: 50.
        let target = TargetWorkload::new(vec![TaskClass {
            cpu: 1000,
            gpu: GpuDemand::Share(700),
            models: ModelSet::ANY,
            popularity: 1.0,
        }]);
        let c = cluster(&[(0, GpuDemand::Share(500))]);
        let demand = [1000, 300];
        let r = request(&demand, GpuDemand::Share(300));
        let (s, a) = fgd_sim_score(&c, MachineId(0), &r, 0, &target).unwrap();
        assert_eq!(
            (s, a),
            (
                57.0,
                DeviceAlloc::Share {
                    device: 0,
                    milli: 300
                }
            )
        );
        assert_eq!(fgd_sim_score(&c, MachineId(1), &r, 0, &target).unwrap().0, 50.0);
        let p = policy(Kind::FgdSim, Some(target))
            .place(&c, &r, |_| true)
            .unwrap();
        assert_eq!(p.machine, MachineId(0));
    }

    #[test]
    fn gpu_models_restrict_every_gpu_policy() {
        // Node 0 is model 1, node 1 model 2; a task allowing only model 2 must land on node 1.
        let mut c = Cluster::with_gpus(2, 1);
        c.add_gpu_machine(&[32_000, 4000], 4, 1).unwrap();
        c.add_gpu_machine(&[32_000, 4000], 4, 2).unwrap();
        let schema = crate::Schema::uniform(&["cpus", "gpus"], 0).unwrap();
        let demand = [1000, 500];
        let r = Request {
            demand: &demand,
            gpu: GpuDemand::Share(500),
            models: ModelSet::of([2]).unwrap(),
        };
        for kind in [
            Kind::Fgd,
            Kind::FgdDot,
            Kind::FgdSim,
            Kind::GpuPacking,
            Kind::GpuClustering,
        ] {
            let p = crate::Policy::from_kind(kind, &schema).unwrap();
            assert_eq!(p.place(&c, &r, |_| true).unwrap().machine, MachineId(1), "{kind}");
            let none = Request {
                models: ModelSet::of([3]).unwrap(),
                ..r
            };
            assert!(p.place(&c, &none, |_| true).is_none(), "{kind}");
        }
    }

    #[test]
    fn gpu_packing_prefers_shared_gpus_then_used_nodes_then_idle_ones() {
        let c = cluster(&[(1, GpuDemand::Share(400))]);
        // Node 1 device 0 has 600 free: case 1, 100 − 60/10 = 94. Node 0 is idle: 33 − 4 = 29.
        assert_eq!(
            packing_score(&c, MachineId(1), GpuDemand::Share(500)).unwrap().0,
            94.0
        );
        assert_eq!(
            packing_score(&c, MachineId(0), GpuDemand::Share(500)).unwrap().0,
            29.0
        );
        // A 700 share does not fit device 0 of node 1: a free GPU on a used node, 50 − 1 = 49.
        assert_eq!(
            packing_score(&c, MachineId(1), GpuDemand::Share(700)).unwrap().0,
            49.0
        );
        let demand = [1000, 500];
        let p = policy(Kind::GpuPacking, None).place(&c, &request(&demand, GpuDemand::Share(500)), |_| true);
        assert_eq!(p.unwrap().machine, MachineId(1));
    }

    #[test]
    fn gpu_clustering_groups_tasks_of_equal_gpu_demand() {
        let c = cluster(&[(0, GpuDemand::Whole(1)), (1, GpuDemand::Share(500))]);
        let demand = [1000, 500];
        let p =
            policy(Kind::GpuClustering, None).place(&c, &request(&demand, GpuDemand::Share(500)), |_| true);
        assert_eq!(p.unwrap().machine, MachineId(1));
        // Node 1 runs only half-GPU tasks: band 75, plus 25·(4000 − 3500 idle)/4000.
        let (s, _) = clustering_score(&c, MachineId(1), GpuDemand::Share(500), 4000).unwrap();
        assert!((s - (75.0 + 25.0 * 500.0 / 4000.0)).abs() < 1e-12);
        let (s, _) = clustering_score(&c, MachineId(0), GpuDemand::Share(500), 4000).unwrap();
        assert!(
            (s - 25.0 * 1000.0 / 4000.0).abs() < 1e-12,
            "a node of other demands: band 0"
        );
    }
}
