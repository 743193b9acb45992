//! satyr/mentor's weighted heuristics, reproduced exactly (shared/design/SATYR-PACKING.md).
//!
//! satyr's `weight(list, coefficients)` is relative to the list being weighted: each dimension of
//! each element is divided by that dimension's sum over the list, multiplied by its coefficient,
//! and summed. A dimension whose sum is 0 contributes nothing. The arithmetic here is satyr's, in
//! `f64`, in the same order (value / sum × coefficient, dimensions in schema order), so near-ties
//! resolve as they did in satyr. Ties go to the first candidate, as satyr documents; weights within
//! float noise of each other (see [`beats`]) count as ties.

use crate::cluster::{Cluster, MachineId};
use crate::resources::ResourceTable;
use crate::rule::beats;

/// satyr's weight of one vector given the list's per-dimension sums.
#[inline]
fn weight(values: impl Iterator<Item = u64>, sums: &[u128], coefficients: &[f64]) -> f64 {
    let mut total = 0.0;
    for ((v, &sum), &coefficient) in values.zip(sums).zip(coefficients) {
        if coefficient != 0.0 && sum != 0 {
            total += v as f64 / sum as f64 * coefficient;
        }
    }
    total
}

/// The list-relative weight of every item of a batch: the key of `ffd` and `bfd`'s stable sort.
pub(crate) fn item_weights(items: &ResourceTable, coefficients: &[f64]) -> Vec<f64> {
    let sums = items.sums();
    items
        .rows()
        .map(|row| weight(row.iter().copied(), &sums, coefficients))
        .collect()
}

/// satyr's `mr` for one task: among the `listed` machines (satyr's list of offers), the one whose
/// free amounts weigh most relative to all listed machines' free amounts is the only candidate;
/// `None` if the task does not `fit` there.
pub(crate) fn max_rest(
    c: &Cluster,
    coefficients: &[f64],
    listed: impl Fn(MachineId) -> bool,
    fit: impl Fn(MachineId) -> bool,
) -> Option<MachineId> {
    let dims = c.dims();
    let (mut inline, mut heap) = ([0u128; 8], Vec::new());
    let sums = scratch(dims, &mut inline, &mut heap);
    for m in c.machine_ids().filter(|&m| listed(m)) {
        for (s, &f) in sums.iter_mut().zip(c.free(m)) {
            *s += u128::from(f);
        }
    }
    let mut best: Option<(MachineId, f64)> = None;
    for m in c.machine_ids().filter(|&m| listed(m)) {
        let w = weight(c.free(m).iter().copied(), sums, coefficients);
        if best.is_none_or(|(_, b)| beats(w, b)) {
            best = Some((m, w));
        }
    }
    let (m, _) = best?;
    fit(m).then_some(m)
}

/// satyr's `bf` for one task: among machines where it `fit`s, the smallest residual weighted
/// relative to the candidates' residuals.
pub(crate) fn best_fit(
    c: &Cluster,
    demand: &[u64],
    coefficients: &[f64],
    fit: impl Fn(MachineId) -> bool,
) -> Option<MachineId> {
    let dims = c.dims();
    // Residual sums over the candidates; 3 dimensions matter to satyr but the schema may have more.
    let (mut inline, mut heap) = ([0u128; 8], Vec::new());
    let sums = scratch(dims, &mut inline, &mut heap);
    let mut any = false;
    for m in c.machine_ids().filter(|&m| fit(m)) {
        any = true;
        for (d, (&f, &x)) in c.free(m).iter().zip(demand).enumerate() {
            sums[d] += u128::from(f - x);
        }
    }
    if !any {
        return None;
    }
    let mut best: Option<(MachineId, f64)> = None;
    for m in c.machine_ids().filter(|&m| fit(m)) {
        let residual = c.free(m).iter().zip(demand).map(|(f, x)| f - x);
        let w = weight(residual, sums, coefficients);
        if best.is_none_or(|(_, b)| beats(-w, -b)) {
            best = Some((m, w));
        }
    }
    best.map(|(m, _)| m)
}

/// `dims` zeroed sums, on the stack for up to 8 dimensions (decisions allocate nothing there).
fn scratch<'a>(dims: usize, inline: &'a mut [u128; 8], heap: &'a mut Vec<u128>) -> &'a mut [u128] {
    if dims <= inline.len() {
        &mut inline[..dims]
    } else {
        heap.resize(dims, 0);
        heap
    }
}
