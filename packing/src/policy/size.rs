//! Task sizes for the decreasing policies (Panigrahy, Talwar, Uyeda and Wieder 2011).

use crate::policy::kind::Size;
use crate::resources::ResourceTable;
use crate::rule::beats;
use crate::weights::Weights;

/// The size of every item, with `s_d = demand_d · inv_reference_d`.
///
/// Only dimensions that are weighted and that some machine has (a positive reference capacity)
/// count: a dimension no machine offers is not a resource of this cluster, and would otherwise
/// make every product size 0 (the live adapter packs `disk`, `gpus` and `ports` whether or not
/// an agent offers them).
///
/// Terms are combined in increasing order, so two items whose terms are the same multiset (the
/// same vector with dimensions permuted, under symmetric weights and capacities) get bit-identical
/// sizes and keep their input order in the stable sort.
pub(crate) fn sizes(size: Size, items: &ResourceTable, inv_reference: &[f64], w: &Weights) -> Vec<f64> {
    let dims = items.dims();
    let s = |row: &[u64], d: usize| row[d] as f64 * inv_reference[d];
    let weights = w.values();
    let averages = averages(size, items, inv_reference);
    let mut terms: Vec<f64> = Vec::with_capacity(dims);
    items
        .rows()
        .map(|row| {
            terms.clear();
            terms.extend(
                (0..dims)
                    .filter(|&d| weights[d] != 0.0 && inv_reference[d] != 0.0)
                    .map(|d| match size {
                        Size::Sum | Size::Max => weights[d] * s(row, d),
                        Size::L2 => weights[d] * s(row, d) * s(row, d),
                        Size::Product => s(row, d).powf(weights[d]),
                        Size::AvgSum => weights[d] * averages[d] * s(row, d),
                    }),
            );
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

/// avg-sum's per-dimension mean normalised demand over the batch (1 for the other sizes).
fn averages(size: Size, items: &ResourceTable, inv_reference: &[f64]) -> Vec<f64> {
    if size != Size::AvgSum || items.is_empty() {
        return vec![1.0; items.dims()];
    }
    let n = items.len() as f64;
    (0..items.dims())
        .map(|d| {
            items
                .rows()
                .map(|row| row[d] as f64 * inv_reference[d])
                .sum::<f64>()
                / n
        })
        .collect()
}

/// When one dimension is weighted and the size is its term alone (sum, max and avg-sum of one
/// term): that dimension and the factor its normalised amount is multiplied by.
fn one_term(size: Size, w: &Weights, averages: &[f64]) -> Option<(usize, f64)> {
    let weights = w.values();
    let mut weighted = (0..weights.len()).filter(|&d| weights[d] != 0.0);
    let (Some(d), None) = (weighted.next(), weighted.next()) else {
        return None;
    };
    let factor = match size {
        Size::Sum | Size::Max => 1.0,
        Size::AvgSum => averages[d],
        Size::L2 | Size::Product => return None,
    };
    Some((d, weights[d] * factor))
}

/// The decreasing policies' processing order: item indices by decreasing [`sizes`], stable, with
/// sizes within float noise of each other counted as equal (as [`decreasing_order`]).
///
/// When the size is one dimension's term, the radix sort runs on the integer amounts (two byte
/// passes for amounts below 65,536, instead of eight on the float bits) and the sizes are
/// computed from the sorted amounts. The order is the same: the size `factor · (amount ·
/// inv_reference)` is non-decreasing in the amount (`fl` conversion and products by non-negative
/// numbers are monotone), so the amounts' decreasing order is the sizes' decreasing order up to
/// equal sizes, and those share a run of the fix-up that puts each run in input order.
pub(crate) fn decreasing_sizes(
    size: Size,
    items: &ResourceTable,
    inv_reference: &[f64],
    w: &Weights,
) -> Vec<u32> {
    let averages = averages(size, items, inv_reference);
    match one_term(size, w, &averages) {
        Some((d, factor)) => {
            let inv = inv_reference[d];
            decreasing_by(items.rows().map(|row| !row[d]), |bits| {
                factor * (!bits as f64 * inv)
            })
        }
        None => decreasing_order(&sizes(size, items, inv_reference, w)),
    }
}

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

/// Item indices sorted by decreasing key, stable: equal keys keep input order.
///
/// Keys within float noise of each other (see [`TIE`](crate::rule::TIE)) count as equal: after
/// the sort, each run of keys that close to the run's first key is put back in input order.
pub(crate) fn decreasing_order(keys: &[f64]) -> Vec<u32> {
    decreasing_by(keys.iter().map(|&k| !total_order_bits(k)), |bits| {
        from_total_order_bits(!bits)
    })
}

/// [`decreasing_order`] of the keys `key(bits_i)`, sorted by the integers `bits_i` in increasing
/// order: `bits_i < bits_j` must imply `key(bits_i) >= key(bits_j)`.
fn decreasing_by(bits: impl Iterator<Item = u64>, key: impl Fn(u64) -> f64) -> Vec<u32> {
    // Sorting (bits, index) pairs in place is the stable sort (the index breaks exact ties)
    // without looking keys up through the indices, which misses the cache on large batches.
    let mut pairs: Vec<(u64, u32)> = bits.enumerate().map(|(i, b)| (b, i as u32)).collect();
    sort_pairs(&mut pairs);
    // Runs of keys within float noise of their first key go back to input order. The keys come
    // from the sorted pairs, in order, not through the indices (a cache miss per item).
    let mut start = 0;
    while start < pairs.len() {
        let head = key(pairs[start].0);
        let len = pairs[start..]
            .iter()
            .position(|p| beats(head, key(p.0)))
            .unwrap_or(pairs.len() - start);
        if len > 1 {
            pairs[start..start + len].sort_unstable_by_key(|&(_, i)| i);
        }
        start += len;
    }
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// The inverse of [`total_order_bits`].
#[inline]
fn from_total_order_bits(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 { bits & !(1 << 63) } else { !bits })
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
                    rng = crate::hash::splitmix64(rng);
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
    fn sorting_on_one_dimensions_amounts_gives_the_sizes_order() {
        let mut rng = 3u64;
        let mut next = || {
            rng = crate::hash::splitmix64(rng);
            rng
        };
        let schema = crate::Schema::uniform(&["a", "b"], 0).unwrap();
        for (case, n) in [0usize, 1, 700, 5000].into_iter().enumerate() {
            // Few distinct amounts (long runs of ties), and amounts past 2^53 whose sizes
            // collide in floats while the integers differ.
            let amount = |r: u64| match case % 2 {
                0 => r % 40,
                _ => (1 << 60) + r % 4096,
            };
            let rows: Vec<[u64; 2]> = (0..n).map(|_| [amount(next()), next() % 1000]).collect();
            let items = ResourceTable::from_rows(2, rows);
            for inv in [[1e-3, 0.5], [0.0, 1.0], [1.0 / 3.0, 1.0]] {
                for weights in ["a=1", "a=2.5,b=0", "b=1"] {
                    let w = Weights::parse(&schema, weights).unwrap();
                    for size in Size::ALL {
                        let fast = decreasing_sizes(size, &items, &inv, &w);
                        let slow = decreasing_order(&sizes(size, &items, &inv, &w));
                        assert_eq!(fast, slow, "{n} items, {size:?}, weights {weights}, inv {inv:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn total_order_bits_round_trip() {
        for x in [
            0.0,
            -0.0,
            1.5,
            -1.5,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NEG_INFINITY,
            1e-300,
        ] {
            assert_eq!(from_total_order_bits(total_order_bits(x)).to_bits(), x.to_bits());
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
