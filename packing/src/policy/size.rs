//! Task sizes for the decreasing policies (Panigrahy, Talwar, Uyeda and Wieder 2011).

use crate::policy::beats;
use crate::policy::kind::Size;
use crate::resources::ResourceTable;
use crate::weights::Weights;

/// The size of every item, with `s_d = demand_d · inv_reference_d`.
///
/// Terms are combined in increasing order, so two items whose terms are the same multiset (the
/// same vector with dimensions permuted, under symmetric weights and capacities) get bit-identical
/// sizes and keep their input order in the stable sort.
pub(crate) fn sizes(size: Size, items: &ResourceTable, inv_reference: &[f64], w: &Weights) -> Vec<f64> {
    let dims = items.dims();
    let s = |row: &[u64], d: usize| row[d] as f64 * inv_reference[d];
    let weights = w.values();
    let averages: Vec<f64> = if size == Size::AvgSum && !items.is_empty() {
        let n = items.len() as f64;
        (0..dims)
            .map(|d| items.rows().map(|row| s(row, d)).sum::<f64>() / n)
            .collect()
    } else {
        vec![1.0; dims]
    };
    // One weighted dimension (the one-dimensional case): its term is the size, no per-row sort.
    let weighted: Vec<usize> = (0..dims).filter(|&d| weights[d] != 0.0).collect();
    if let [d] = weighted[..] {
        if matches!(size, Size::Sum | Size::Max | Size::AvgSum) {
            let factor = if size == Size::AvgSum { averages[d] } else { 1.0 };
            return items.rows().map(|row| weights[d] * factor * s(row, d)).collect();
        }
    }
    let mut terms: Vec<f64> = Vec::with_capacity(dims);
    items
        .rows()
        .map(|row| {
            terms.clear();
            terms.extend((0..dims).filter(|&d| weights[d] != 0.0).map(|d| match size {
                Size::Sum | Size::Max => weights[d] * s(row, d),
                Size::L2 => weights[d] * s(row, d) * s(row, d),
                Size::Product => s(row, d).powf(weights[d]),
                Size::AvgSum => weights[d] * averages[d] * s(row, d),
            }));
            terms.sort_by(f64::total_cmp);
            match size {
                Size::Max => terms.last().copied().unwrap_or(0.0),
                Size::L2 => terms.iter().sum::<f64>().sqrt(),
                Size::Product => terms.iter().product(),
                Size::Sum | Size::AvgSum => terms.iter().sum(),
            }
        })
        .collect()
}

/// Item indices sorted by decreasing key, stable: equal keys keep input order.
///
/// Keys within float noise of each other (see [`TIE`](crate::policy::TIE)) count as equal: after the sort, each run
/// of keys that close to the run's first key is put back in input order.
/// `f64::total_cmp`'s order as an unsigned integer: flip every bit of negative numbers, only the
/// sign bit of the others.
#[inline]
fn total_order_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

/// Sorts `(key, index)` pairs whose indices are distinct and ascending, into `(key, index)`
/// order: the same order as `sort_unstable`, by a stable least-significant-digit radix sort on the
/// key for large batches (O(n) per byte of key that varies, instead of O(n log n) comparisons).
fn sort_pairs(pairs: &mut Vec<(u64, u32)>) {
    if pairs.len() < 512 {
        pairs.sort_unstable();
        return;
    }
    // One pass counts every byte position; positions where all keys agree are skipped.
    let mut counts = vec![[0usize; 256]; 8];
    for &(key, _) in pairs.iter() {
        for (byte, count) in counts.iter_mut().enumerate() {
            count[(key >> (8 * byte)) as usize & 0xff] += 1;
        }
    }
    let mut buffer = vec![(0u64, 0u32); pairs.len()];
    for (byte, count) in counts.iter().enumerate() {
        if count.contains(&pairs.len()) {
            continue;
        }
        let mut start = [0usize; 256];
        let mut sum = 0;
        for (s, &c) in start.iter_mut().zip(count) {
            *s = sum;
            sum += c;
        }
        for &pair in pairs.iter() {
            let digit = (pair.0 >> (8 * byte)) as usize & 0xff;
            buffer[start[digit]] = pair;
            start[digit] += 1;
        }
        std::mem::swap(pairs, &mut buffer);
    }
}

pub(crate) fn decreasing_order(keys: &[f64]) -> Vec<u32> {
    // Sorting (key, index) pairs in place is the stable decreasing sort (the index breaks exact
    // ties) without looking keys up through the indices, which misses the cache on large batches.
    let mut pairs: Vec<(u64, u32)> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (!total_order_bits(k), i as u32))
        .collect();
    sort_pairs(&mut pairs);
    let mut order: Vec<u32> = pairs.into_iter().map(|(_, i)| i).collect();
    let mut start = 0;
    while start < order.len() {
        let head = keys[order[start] as usize];
        let len = order[start..]
            .iter()
            .position(|&i| beats(head, keys[i as usize]))
            .unwrap_or(order.len() - start);
        if len > 1 {
            order[start..start + len].sort_unstable();
        }
        start += len;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_functions_follow_their_formulas() {
        let items = ResourceTable::from_rows(2, [[5, 2], [1, 8]]);
        let inv = [0.1, 0.1];
        let w = Weights::uniform(2);
        let close = |a: Vec<f64>, b: [f64; 2]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(close(sizes(Size::Sum, &items, &inv, &w), [0.7, 0.9]));
        assert!(close(sizes(Size::Max, &items, &inv, &w), [0.5, 0.8]));
        assert!(close(
            sizes(Size::L2, &items, &inv, &w),
            [0.29f64.sqrt(), 0.65f64.sqrt()]
        ));
        assert!(close(sizes(Size::Product, &items, &inv, &w), [0.1, 0.08]));
        // Averages (0.3, 0.5): 0.3·0.5 + 0.5·0.2 = 0.25 and 0.3·0.1 + 0.5·0.8 = 0.43.
        assert!(close(sizes(Size::AvgSum, &items, &inv, &w), [0.25, 0.43]));
    }

    #[test]
    fn one_weighted_dimension_is_sized_by_its_term_alone() {
        let items = ResourceTable::from_rows(2, [[5, 2], [1, 8]]);
        let inv = [0.1, 0.1];
        let w = Weights::parse(&crate::Schema::uniform(&["a", "b"], 0).unwrap(), "b=2").unwrap();
        assert_eq!(
            sizes(Size::Sum, &items, &inv, &w),
            vec![2.0 * (2.0 * 0.1), 2.0 * (8.0 * 0.1)]
        );
        assert_eq!(
            sizes(Size::Max, &items, &inv, &w),
            vec![2.0 * (2.0 * 0.1), 2.0 * (8.0 * 0.1)]
        );
        // avg-sum multiplies by the dimension's mean normalised size, (0.2 + 0.8) / 2.
        let avg = sizes(Size::AvgSum, &items, &inv, &w);
        assert!((avg[0] - 2.0 * 0.5 * 0.2).abs() < 1e-12 && (avg[1] - 2.0 * 0.5 * 0.8).abs() < 1e-12);
    }

    #[test]
    fn permuted_vectors_get_identical_sizes() {
        let items = ResourceTable::from_rows(3, [[1, 2, 7], [7, 1, 2], [2, 7, 1]]);
        let inv = [1.0 / 3.0; 3];
        let w = Weights::uniform(3);
        for size in Size::ALL {
            let s = sizes(size, &items, &inv, &w);
            assert!(s[0] == s[1] && s[1] == s[2], "{size:?}: {s:?}");
        }
    }

    #[test]
    fn the_radix_sort_orders_as_the_comparison_sort() {
        let mut rng = 5u64;
        for n in [0usize, 1, 511, 512, 3000] {
            let mut pairs: Vec<(u64, u32)> = (0..n as u32)
                .map(|i| {
                    rng = crate::policy::splitmix64(rng);
                    // Few distinct keys (many ties broken by index) and bytes that all agree.
                    let key = if rng & 1 == 0 { rng >> 40 } else { (rng % 7) << 50 };
                    (key, i)
                })
                .collect();
            let mut expected = pairs.clone();
            expected.sort_unstable();
            sort_pairs(&mut pairs);
            assert_eq!(pairs, expected, "{n} pairs");
        }
    }

    #[test]
    fn decreasing_order_is_stable() {
        assert_eq!(decreasing_order(&[1.0, 3.0, 1.0, 3.0, 2.0]), vec![1, 3, 4, 0, 2]);
    }

    #[test]
    fn keys_within_float_noise_keep_input_order() {
        let noisy = 0.1 + 0.2; // 0.30000000000000004
        assert_eq!(decreasing_order(&[0.3, noisy, 0.2]), vec![0, 1, 2]);
        assert_eq!(decreasing_order(&[noisy, 0.3, 0.2]), vec![0, 1, 2]);
        assert_eq!(decreasing_order(&[0.3, 0.3 + 1e-9]), vec![1, 0]);
    }
}
