//! Lower bounds on the number of machines any packing needs.
//!
//! * **L1** (continuous bound), per dimension: the fewest machines whose capacities, largest
//!   first, add up to the total demand. With identical machines this is `⌈Σ demand / capacity⌉`.
//! * **L2** (Martello and Toth 1990, "Lower bounds and reduction procedures for the bin packing
//!   problem"), for one dimension of identical capacity `C`: for every threshold `α ≤ C/2`, items
//!   above `C − α` each need their own machine, items in `(C/2, C − α]` cannot share with one
//!   another, and items in `[α, C/2]` must fill what those leave free or open more machines. It is
//!   applied to every dimension in which all machines have the same capacity; projecting a vector
//!   packing on one dimension gives a valid one-dimensional packing, so the bound holds.
//!
//! Only items that fit on at least one empty machine count: the others can never be placed.

use crate::resources::{ResourceTable, fits};

/// The lower bounds of one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LowerBounds {
    /// The continuous bound, maximised over dimensions.
    pub l1: u64,
    /// Martello–Toth L2, maximised over dimensions in which all machines have equal capacity;
    /// `None` when no dimension qualifies.
    pub l2: Option<u64>,
}

impl LowerBounds {
    /// The best (largest) of the bounds.
    pub fn best(&self) -> u64 {
        self.l1.max(self.l2.unwrap_or(0))
    }
}

/// The lower bounds for packing `items` onto machines of the given capacities.
pub fn lower_bounds(capacities: &ResourceTable, items: &ResourceTable) -> LowerBounds {
    let dims = capacities.dims();
    let placeable: Vec<&[u64]> = items
        .rows()
        .filter(|item| capacities.rows().any(|cap| fits(item, cap)))
        .collect();
    if placeable.is_empty() {
        return LowerBounds {
            l1: 0,
            l2: (!capacities.is_empty()).then_some(0),
        };
    }
    let mut l1 = 1u64;
    let mut l2: Option<u64> = None;
    for d in 0..dims {
        let mut caps: Vec<u64> = capacities.rows().map(|c| c[d]).collect();
        caps.sort_unstable_by(|a, b| b.cmp(a));
        let demand: u128 = placeable.iter().map(|i| u128::from(i[d])).sum();
        let mut cumulative = 0u128;
        let needed = caps
            .iter()
            .position(|&c| {
                cumulative += u128::from(c);
                cumulative >= demand
            })
            .map_or(caps.len(), |p| p + 1);
        l1 = l1.max(needed as u64);
        let identical = caps.first() == caps.last();
        if identical && caps[0] > 0 {
            let sizes: Vec<u64> = placeable.iter().map(|i| i[d]).collect();
            let bound = martello_toth_l2(caps[0], &sizes);
            l2 = Some(l2.map_or(bound, |b| b.max(bound)));
        }
    }
    LowerBounds { l1, l2 }
}

/// Martello and Toth's L2 bound for one-dimensional items of the given sizes (each at most
/// `capacity`) in bins of `capacity`, in O(n log n).
pub fn martello_toth_l2(capacity: u64, sizes: &[u64]) -> u64 {
    let c = u128::from(capacity);
    let mut w: Vec<u64> = sizes.to_vec();
    w.sort_unstable();
    let mut prefix = Vec::with_capacity(w.len() + 1);
    prefix.push(0u128);
    for &x in &w {
        prefix.push(prefix.last().copied().unwrap_or(0) + u128::from(x));
    }
    let sum = |from: usize, to: usize| prefix[to] - prefix[from];
    // First index of an item larger than C/2.
    let half = w.partition_point(|&x| 2 * u128::from(x) <= c);
    let mut candidates: Vec<u64> = w[..half].to_vec();
    candidates.push(0);
    candidates.dedup();
    let mut best = 0u128;
    for alpha in candidates {
        let above = w.partition_point(|&x| u128::from(x) <= c - u128::from(alpha));
        let n1 = (w.len() - above) as u128;
        let n2 = (above - half) as u128;
        let first3 = w.partition_point(|&x| x < alpha);
        let s2 = sum(half, above);
        let s3 = sum(first3, half);
        let room = n2 * c - s2;
        let extra = if s3 > room { (s3 - room).div_ceil(c) } else { 0 };
        best = best.max(n1 + n2 + extra);
    }
    best as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_beats_l1_on_large_items() {
        // Three items of 6 in bins of 10: L1 = ⌈18/10⌉ = 2 but no two share a bin.
        assert_eq!(martello_toth_l2(10, &[6, 6, 6]), 3);
        let b = lower_bounds(
            &ResourceTable::from_rows(1, [[10]; 5]),
            &ResourceTable::from_rows(1, [[6], [6], [6]]),
        );
        assert_eq!(b, LowerBounds { l1: 2, l2: Some(3) });
        assert_eq!(b.best(), 3);
    }

    #[test]
    fn l2_counts_small_items_filling_the_gaps() {
        // α = 3: items 7, 7 (N2, 6 free in total) and 3, 3, 3, 3 (N3, 12): ⌈(12 − 6)/10⌉ = 1 more.
        assert_eq!(martello_toth_l2(10, &[7, 7, 3, 3, 3, 3]), 3);
    }

    #[test]
    fn l1_uses_the_largest_machines_first() {
        let caps = ResourceTable::from_rows(2, [[4, 100], [10, 100], [6, 100]]);
        let items = ResourceTable::from_rows(2, [[5, 1], [5, 1], [5, 1]]);
        // cpu demand 15: 10 + 6 = 16 ≥ 15 → 2 machines; capacities differ, so no L2 for cpu,
        // but memory capacities are equal: L2 on memory is 1.
        assert_eq!(lower_bounds(&caps, &items), LowerBounds { l1: 2, l2: Some(1) });
    }

    #[test]
    fn items_that_fit_nowhere_do_not_count() {
        let caps = ResourceTable::from_rows(1, [[10]]);
        let items = ResourceTable::from_rows(1, [[11], [4]]);
        assert_eq!(lower_bounds(&caps, &items), LowerBounds { l1: 1, l2: Some(1) });
        let none = ResourceTable::from_rows(1, [[11]]);
        assert_eq!(lower_bounds(&caps, &none).best(), 0);
    }
}
