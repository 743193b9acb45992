//! Machine scores of the scoring policies, each in `[0, 100]`, higher is better.
//!
//! Every function here scores one machine where the demand is already known to fit, reads only
//! the cluster and the weights, and allocates nothing: the online decision loop calls it once per
//! fitting machine.

use crate::cluster::{Cluster, MachineId};
use crate::hash::splitmix64;
use crate::index::{Span, residual_key, residual_key_by};
use crate::policy::kind::{Fit, Kind};
use crate::search::{argmax, best_by_order};
use crate::weights::Weights;

/// The machine passing `fit` with the highest `kind` score, lowest id among scores within float
/// noise of it ([`Record`]).
///
/// The match on `kind` sits outside the scan, so each kind gets its own tight loop.
pub(crate) fn best_machine(
    kind: Kind,
    c: &Cluster,
    demand: &[u64],
    w: &Weights,
    seed: u64,
    fit: impl Fn(MachineId) -> bool,
) -> Option<MachineId> {
    match kind {
        Kind::Fit(Fit::Best) | Kind::Decreasing(Fit::Best, _) => {
            let key = demand_key(c, demand, w);
            let score = |k: f64| 100.0 * (1.0 - (k - key));
            let by_key = |m| score(machine_key(c, m, w));
            if let Some(space) = c.space_index().filter(|s| s.serves(w.normalised())) {
                best_by_order(space, key, demand, &fit, by_key)
            } else if let Some(index) = c.residual_index(w.normalised(), false) {
                best_by_order(index, key, demand, &fit, by_key)
            } else {
                argmax(c, fit, by_key)
            }
        }
        Kind::Fit(Fit::Worst) | Kind::Decreasing(Fit::Worst, _) => {
            let key = demand_key(c, demand, w);
            let score = |k: f64| 100.0 * (k - key);
            match c.residual_index(w.normalised(), true) {
                Some(index) => best_by_order(index, key, demand, &fit, |m| score(machine_key(c, m, w))),
                None => argmax(c, fit, |m| score(machine_key(c, m, w))),
            }
        }
        Kind::DotProduct => {
            let bound = |max_free: &[u64]| dot(c, demand, max_free, w);
            c.branch_and_bound(demand, fit, |m| dot_product(c, m, demand, w), bound)
        }
        // L2 on the k-d tree; kube's and Fenzo's scores against each machine's own capacity on
        // the tree's capacity ranges, when it keeps them.
        Kind::L2Norm | Kind::KubeLeastAllocated | Kind::KubeMostAllocated | Kind::FenzoCpuMem => {
            let score = |m| score(kind, c, m, demand, w, seed);
            c.best_in_space(demand, needs_capacity(kind), &fit, score, |s| {
                bound(kind, c, s, demand, w)
            })
            .unwrap_or_else(|| argmax(c, fit, score))
        }
        // Balanced allocation scans. Its score is whole and tops out at 99 for thousands of
        // machines in a mixed cluster (exactly 100 needs equal fractions), and bounds from the
        // tree's boxes stay at 100 wherever a box straddles equal fractions: in the benchmark's
        // 2-D cluster of 10k machines, pruning still swept 472 of 2,048 cells and took twice
        // the scan's time (280 against 140 µs).
        Kind::KubeBalancedAllocation => argmax(c, fit, |m| kube_balanced_allocation(c, m, demand, w)),
        Kind::Random => argmax(c, fit, |m| random(c, m, seed)),
        _ => unreachable!("{kind} is not a scoring policy"),
    }
}

/// At least [`score`] of `kind` for any machine in the span that holds `demand` (the span must
/// keep capacity ranges when [`needs_capacity`] says so). Balanced allocation and random have no
/// bound but their ceiling, 100.
pub(crate) fn bound(kind: Kind, c: &Cluster, s: Span<'_>, demand: &[u64], w: &Weights) -> f64 {
    // Best and worst fit through the keys: a machine's key is at least the key at amounts
    // max(demand, lowest free) and at most the key at the highest free amounts (monotone in
    // every amount, in floats too), and their scores are monotone in the key.
    let key_at = |amount: &dyn Fn(usize) -> u64| {
        residual_key_by(demand.len(), amount, w.normalised(), c.inv_reference())
    };
    match kind {
        Kind::Fit(Fit::Best) | Kind::Decreasing(Fit::Best, _) => {
            let key = key_at(&|d| free_min(&s, d, demand));
            100.0 * (1.0 - (key - demand_key(c, demand, w)))
        }
        Kind::Fit(Fit::Worst) | Kind::Decreasing(Fit::Worst, _) => {
            let key = key_at(&|d| free_max(&s, d));
            100.0 * (key - demand_key(c, demand, w))
        }
        Kind::DotProduct => dot(c, demand, s.hi, w),
        // A machine holding the demand has at least the node's minimum and at least the demand
        // in every dimension; l2 only falls as amounts grow.
        Kind::L2Norm => l2(c, demand, |d| free_min(&s, d, demand), w),
        Kind::KubeLeastAllocated => kube_least_bound(s, demand, w),
        Kind::KubeMostAllocated => kube_most_bound(s, demand, w),
        Kind::FenzoCpuMem => fenzo_bound(s, demand, w),
        Kind::KubeBalancedAllocation | Kind::Random => 100.0,
        _ => unreachable!("{kind} is not a scoring policy"),
    }
}

/// True when [`bound`] of `kind` reads capacity ranges.
pub(crate) fn needs_capacity(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::KubeLeastAllocated | Kind::KubeMostAllocated | Kind::FenzoCpuMem
    )
}

/// The score of `kind` for placing `demand` on machine `m`; `kind` must be a scoring kind.
#[inline]
pub(crate) fn score(kind: Kind, c: &Cluster, m: MachineId, demand: &[u64], w: &Weights, seed: u64) -> f64 {
    match kind {
        Kind::Fit(Fit::Best) | Kind::Decreasing(Fit::Best, _) => {
            100.0 * (1.0 - (machine_key(c, m, w) - demand_key(c, demand, w)))
        }
        Kind::Fit(Fit::Worst) | Kind::Decreasing(Fit::Worst, _) => {
            100.0 * (machine_key(c, m, w) - demand_key(c, demand, w))
        }
        Kind::DotProduct => dot_product(c, m, demand, w),
        Kind::L2Norm => l2_norm(c, m, demand, w),
        Kind::KubeLeastAllocated => kube_least_allocated(c, m, demand, w),
        Kind::KubeMostAllocated => kube_most_allocated(c, m, demand, w),
        Kind::KubeBalancedAllocation => kube_balanced_allocation(c, m, demand, w),
        Kind::FenzoCpuMem => fenzo(c, m, demand, w),
        Kind::Random => random(c, m, seed),
        _ => unreachable!("{kind} is not a scoring policy"),
    }
}

/// A machine's best/worst-fit key: its weighted normalised free amount `Σ ŵ_d free_d/ref_d`.
///
/// Best fit scores `100 (1 − (key(m) − key(demand)))`, the weighted normalised residual after
/// placement, and worst fit `100 (key(m) − key(demand))`. Written through the keys (rather than
/// per-dimension residuals, which are the same numbers up to float rounding) the score depends on
/// the machine only through its key, which is what lets the ordered index find the scan's machine.
#[inline]
fn machine_key(c: &Cluster, m: MachineId, w: &Weights) -> f64 {
    residual_key(c.free(m), w.normalised(), c.inv_reference())
}

/// The demand's key, with the same weights and reference capacities as [`machine_key`].
#[inline]
fn demand_key(c: &Cluster, demand: &[u64], w: &Weights) -> f64 {
    residual_key(demand, w.normalised(), c.inv_reference())
}

/// `100 Σ ŵ_d (demand_d/ref_d)(free_d/ref_d)`.
#[inline]
fn dot_product(c: &Cluster, m: MachineId, demand: &[u64], w: &Weights) -> f64 {
    dot(c, demand, c.free(m), w)
}

/// Dot product's score for free amounts `free`: non-decreasing in every `free_d` (each term is a
/// product of non-negative numbers, and `fl` products and sums are monotone), so the score of a
/// subtree's per-dimension maximum bounds every machine in it, in floats too.
#[inline]
fn dot(c: &Cluster, demand: &[u64], free: &[u64], w: &Weights) -> f64 {
    let mut sum = 0.0;
    for d in 0..demand.len() {
        let inv = c.inv_reference()[d];
        sum += w.normalised()[d] * (demand[d] as f64 * inv) * (free[d] as f64 * inv);
    }
    100.0 * sum
}

/// `100 (1 − sqrt(Σ ŵ_d ((free_d − demand_d)/ref_d)²))`.
#[inline]
fn l2_norm(c: &Cluster, m: MachineId, demand: &[u64], w: &Weights) -> f64 {
    let free = c.free(m);
    l2(c, demand, |d| free[d], w)
}

/// L2's score for free amounts `free(d)` (each at least the demand): non-increasing in every
/// amount (`fl` subtraction, products, sums and the square root are monotone), so amounts at
/// most a machine's give a bound on its score, in floats too.
#[inline]
fn l2(c: &Cluster, demand: &[u64], free: impl Fn(usize) -> u64, w: &Weights) -> f64 {
    let mut sum = 0.0;
    for (d, &x) in demand.iter().enumerate() {
        let r = (free(d) - x) as f64 * c.inv_reference()[d];
        sum += w.normalised()[d] * r * r;
    }
    100.0 * (1.0 - sum.sqrt())
}

/// Requested amount after placement, as kube counts it: used + this task.
#[inline]
fn requested(capacity: u64, free: u64, demand: u64) -> u64 {
    capacity - free + demand
}

/// kube's `⌊Σ w·score / Σ w⌋` over the resources of non-zero weight, for per-resource integer
/// scores `score(d)`. Non-decreasing in every `score(d)` (weights are non-negative, and `fl`
/// products, sums, the division by a positive sum and `floor` are monotone), so per-resource
/// upper bounds give an upper bound.
#[inline]
fn kube_combine(w: &Weights, dims: usize, score: impl Fn(usize) -> u64) -> f64 {
    let (mut node, mut weight_sum) = (0.0, 0.0);
    for d in 0..dims {
        let weight = w.values()[d];
        if weight == 0.0 {
            continue;
        }
        node += score(d) as f64 * weight;
        weight_sum += weight;
    }
    (node / weight_sum).floor()
}

/// `⌊x·100/capacity⌋`, in 128-bit only when 64 bits could overflow.
#[inline]
fn percent(x: u64, capacity: u64) -> u64 {
    match x.checked_mul(100) {
        Some(scaled) => scaled / capacity,
        None => (u128::from(x) * 100 / u128::from(capacity)) as u64,
    }
}

/// The largest free amount in dimension `d` of a machine in the span (stored amounts are
/// `free + 1`; a span holding the demand has a maximum above 0).
#[inline]
fn free_max(s: &Span<'_>, d: usize) -> u64 {
    s.hi[d].saturating_sub(1)
}

/// The smallest free amount in dimension `d` of a machine in the span that holds `demand`.
#[inline]
fn free_min(s: &Span<'_>, d: usize, demand: &[u64]) -> u64 {
    s.lo[d].saturating_sub(1).max(demand[d])
}

fn kube_least_allocated(c: &Cluster, m: MachineId, demand: &[u64], w: &Weights) -> f64 {
    let (cap, free) = (c.capacity(m), c.free(m));
    kube_combine(w, demand.len(), |d| {
        let requested = requested(cap[d], free[d], demand[d]);
        if cap[d] == 0 || requested > cap[d] {
            0
        } else {
            percent(cap[d] - requested, cap[d])
        }
    })
}

/// At least [`kube_least_allocated`] of any machine in the span holding `demand`.
///
/// A machine's per-resource score is `⌊100 (free − demand)/capacity⌋` with `free ≤ capacity`.
/// Over free amounts up to `top` and capacities in `[low, high]`, `(min(top, c) − demand)/c`
/// grows with `c` up to `top` and falls beyond it, so the most is at `c` = `top` clamped to the
/// capacity range.
fn kube_least_bound(s: Span<'_>, demand: &[u64], w: &Weights) -> f64 {
    kube_combine(w, demand.len(), |d| {
        let (low, high) = (s.cap_lo[d], s.cap_hi[d]);
        if high == 0 {
            return 0;
        }
        let top = free_max(&s, d);
        let c = top.clamp(low.max(1), high);
        percent(top.min(c).saturating_sub(demand[d]), c)
    })
}

fn kube_most_allocated(c: &Cluster, m: MachineId, demand: &[u64], w: &Weights) -> f64 {
    let (cap, free) = (c.capacity(m), c.free(m));
    kube_combine(w, demand.len(), |d| {
        if cap[d] == 0 {
            0
        } else {
            percent(requested(cap[d], free[d], demand[d]).min(cap[d]), cap[d])
        }
    })
}

/// At least [`kube_most_allocated`] of any machine in the span holding `demand`.
///
/// A machine's per-resource score is `⌊100 (1 − (free − demand)/capacity)⌋`: at most that with
/// the smallest `free − demand` and (as `1 − x/capacity` grows with the capacity) the largest
/// capacity.
fn kube_most_bound(s: Span<'_>, demand: &[u64], w: &Weights) -> f64 {
    kube_combine(w, demand.len(), |d| {
        let high = s.cap_hi[d];
        if high == 0 {
            return 0;
        }
        let slack = free_min(&s, d, demand) - demand[d];
        percent(high.saturating_sub(slack), high)
    })
}

/// Relative margin added to bounds computed in floats from other operands than the score's:
/// far above their rounding (a few ulps per operation, about 1e-16 each), far below anything
/// that would change which nodes are worth a look.
const ROUNDING: f64 = 1e-13;

fn kube_balanced_allocation(c: &Cluster, m: MachineId, demand: &[u64], w: &Weights) -> f64 {
    let (cap, free) = (c.capacity(m), c.free(m));
    let selected = |d: usize| w.values()[d] != 0.0;
    if (0..demand.len()).all(|d| !selected(d) || demand[d] == 0) {
        return 0.0;
    }
    let fraction = |d: usize| (requested(cap[d], free[d], demand[d]) as f64 / cap[d] as f64).min(1.0);
    let (mut n, mut total, mut first_two) = (0usize, 0.0, [0.0; 2]);
    for d in (0..demand.len()).filter(|&d| selected(d) && cap[d] != 0) {
        let f = fraction(d);
        if n < 2 {
            first_two[n] = f;
        }
        n += 1;
        total += f;
    }
    let std = match n {
        0 | 1 => 0.0,
        2 => ((first_two[0] - first_two[1]) / 2.0).abs(),
        _ => {
            let mean = total / n as f64;
            let sum: f64 = (0..demand.len())
                .filter(|&d| selected(d) && cap[d] != 0)
                .map(|d| (fraction(d) - mean) * (fraction(d) - mean))
                .sum();
            (sum / n as f64).sqrt()
        }
    };
    ((1.0 - std) * 100.0).trunc()
}

/// `100 Σ ŵ_d (used_d + demand_d)/capacity_d`; a dimension of zero capacity adds nothing.
fn fenzo(c: &Cluster, m: MachineId, demand: &[u64], w: &Weights) -> f64 {
    let (cap, free) = (c.capacity(m), c.free(m));
    let mut sum = 0.0;
    for d in 0..demand.len() {
        if cap[d] != 0 {
            sum += w.normalised()[d] * requested(cap[d], free[d], demand[d]) as f64 / cap[d] as f64;
        }
    }
    100.0 * sum
}

/// At least [`fenzo`] of any machine in the span holding `demand`: each fraction as
/// [`kube_most_bound`] bounds it, with a margin for rounding.
fn fenzo_bound(s: Span<'_>, demand: &[u64], w: &Weights) -> f64 {
    let mut sum = 0.0;
    for d in 0..demand.len() {
        let high = s.cap_hi[d];
        if high != 0 {
            let slack = free_min(&s, d, demand) - demand[d];
            sum += w.normalised()[d] * high.saturating_sub(slack) as f64 / high as f64;
        }
    }
    100.0 * sum * (1.0 + ROUNDING)
}

/// A uniform value in `[0, 100)` from the seed, the cluster's generation and the machine id.
pub(crate) fn random(c: &Cluster, m: MachineId, seed: u64) -> f64 {
    let h = splitmix64(seed ^ splitmix64(c.generation() ^ splitmix64(u64::from(m.0))));
    (h >> 11) as f64 * (100.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceTable;

    /// One machine with `capacity`, `used` already allocated.
    fn machine(capacity: &[u64], used: &[u64]) -> Cluster {
        let mut c = Cluster::from_capacities(&ResourceTable::from_rows(capacity.len(), [capacity]));
        c.allocate(MachineId(0), used).unwrap();
        c
    }

    fn kube(kind: Kind, capacity: &[u64], used: &[u64], demand: &[u64]) -> f64 {
        let c = machine(capacity, used);
        score(
            kind,
            &c,
            MachineId(0),
            demand,
            &Weights::uniform(capacity.len()),
            0,
        )
    }

    // Cases worked by hand from kube-scheduler's formulas (cpu in milli-cpus, memory in MiB).
    #[test]
    fn kube_least_allocated_matches_hand_computed_scores() {
        // cpu: (4000-3000)*100/4000 = 25; mem: (10000-5000)*100/10000 = 50; (25+50)/2 = 37.
        assert_eq!(
            kube(Kind::KubeLeastAllocated, &[4000, 10000], &[0, 0], &[3000, 5000]),
            37.0
        );
        // Already used amounts count: cpu (4000-3000-1000)=0 → 0; mem (10000-2000-3000)*100/10000=50.
        assert_eq!(
            kube(
                Kind::KubeLeastAllocated,
                &[4000, 10000],
                &[1000, 2000],
                &[3000, 3000]
            ),
            25.0
        );
        // Integer division per resource: (3-1)*100/3 = 66, not 66.67.
        assert_eq!(kube(Kind::KubeLeastAllocated, &[3], &[0], &[1]), 66.0);
    }

    #[test]
    fn kube_most_allocated_matches_hand_computed_scores() {
        // cpu 3000*100/4000 = 75; mem 5000*100/10000 = 50; (75+50)/2 = 62.
        assert_eq!(
            kube(Kind::KubeMostAllocated, &[4000, 10000], &[0, 0], &[3000, 5000]),
            62.0
        );
        assert_eq!(kube(Kind::KubeMostAllocated, &[3], &[0], &[2]), 66.0);
    }

    #[test]
    fn kube_balanced_allocation_matches_hand_computed_scores() {
        // fractions 0.75 and 0.5: std = 0.125, score = trunc(87.5) = 87.
        assert_eq!(
            kube(
                Kind::KubeBalancedAllocation,
                &[4000, 10000],
                &[0, 0],
                &[3000, 5000]
            ),
            87.0
        );
        // Equal fractions: perfectly balanced.
        assert_eq!(
            kube(
                Kind::KubeBalancedAllocation,
                &[4000, 10000],
                &[0, 0],
                &[2000, 5000]
            ),
            100.0
        );
        // Three resources 0.5, 0.5, 1.0: mean 2/3, population std = sqrt(1/18) ≈ 0.2357 → 76.
        assert_eq!(
            kube(Kind::KubeBalancedAllocation, &[2, 2, 2], &[0, 0, 0], &[1, 1, 2]),
            76.0
        );
        // A task requesting nothing of the scored resources is neutral (kube skips it).
        assert_eq!(kube(Kind::KubeBalancedAllocation, &[4, 4], &[1, 3], &[0, 0]), 0.0);
    }

    #[test]
    fn fenzo_is_the_mean_fill_after_placement() {
        // cpu (1+1)/4 = 0.5, mem (2+4)/8 = 0.75 → mean 0.625.
        assert_eq!(kube(Kind::FenzoCpuMem, &[4, 8], &[1, 2], &[1, 4]), 62.5);
    }

    #[test]
    fn residual_scores_are_normalised_by_the_largest_machine() {
        let c = Cluster::from_capacities(&ResourceTable::from_rows(2, [[10, 100], [5, 50]]));
        let w = Weights::uniform(2);
        // Machine 1 after placing (1, 10): residual (4/10 + 40/100)/2 = 0.4.
        let best = score(Kind::Fit(Fit::Best), &c, MachineId(1), &[1, 10], &w, 0);
        assert!((best - 60.0).abs() < 1e-9);
        let worst = score(Kind::Fit(Fit::Worst), &c, MachineId(1), &[1, 10], &w, 0);
        assert!((worst - 40.0).abs() < 1e-9);
        // Dot product on machine 0: (0.1·1 + 0.1·1)/2 = 0.1.
        let dot = score(Kind::DotProduct, &c, MachineId(0), &[1, 10], &w, 0);
        assert!((dot - 10.0).abs() < 1e-9);
        // L2 on machine 1: residual (0.4, 0.4) → sqrt((0.16 + 0.16)/2) = 0.4.
        let l2 = score(Kind::L2Norm, &c, MachineId(1), &[1, 10], &w, 0);
        assert!((l2 - 60.0).abs() < 1e-9);
    }

    #[test]
    fn random_scores_change_with_seed_and_generation() {
        let mut c = machine(&[10], &[0]);
        let a = random(&c, MachineId(0), 1);
        assert_eq!(a, random(&c, MachineId(0), 1));
        assert_ne!(a, random(&c, MachineId(0), 2));
        c.allocate(MachineId(0), &[1]).unwrap();
        assert_ne!(a, random(&c, MachineId(0), 1));
        assert!((0.0..100.0).contains(&a));
    }
}
