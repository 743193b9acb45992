//! The rule every scoring decision ends with: the highest score wins, and among the machines
//! whose scores are within float noise of the highest, the lowest id.
//!
//! "Within float noise" is `score >= floor(highest)`, where [`floor`] lowers a score by the
//! relative tie tolerance [`TIE`]. The rule depends only on the set of (id, score) pairs, not on
//! the order they are offered in: a scan in id order, a branch and bound in id order, and a k-d
//! tree that visits machines by position in space all choose the same machine. (A scan that
//! replaces its best only when beaten by more than noise is *not* order-free: with scores spaced
//! less than the tolerance apart, which one it keeps depends on which came first.)

/// Relative difference below which two scores or weights are a tie.
///
/// f64 rounding makes mathematically equal scores differ by a few ulps (about 1e-16 relative)
/// depending on the order of the terms; real differences between distinct placements are many
/// orders of magnitude larger. Treating anything closer than 1e-12 as a tie lets ties go to the
/// lowest id as documented, instead of to float noise. Scoring decisions apply it through
/// [`Record`] (within 1e-12 of the highest score); satyr's heuristics and sizes through [`beats`].
pub(crate) const TIE: f64 = 1e-12;

/// True when `new` is higher than `best` by more than float noise.
#[inline]
pub(crate) fn beats(new: f64, best: f64) -> bool {
    new - best > TIE * new.abs().max(best.abs())
}

/// The lowest score still within float noise of `best`: `best` lowered by [`TIE`] of its
/// magnitude, by one `fl` multiplication, so it is monotone in `best`.
#[inline]
pub(crate) fn floor(best: f64) -> f64 {
    if best >= 0.0 {
        best * (1.0 - TIE)
    } else {
        best * (1.0 + TIE)
    }
}

/// How many candidates live on the stack before spilling to the heap.
const INLINE: usize = 8;

/// The machines offered so far that can still win.
///
/// A candidate is beaten for good by one with a lower id and at least its score (whenever the
/// later one would be within noise of the highest, so would the earlier one). The record keeps
/// only candidates no other beats — sorted by id, their scores strictly rising — and only those at
/// or above the current floor. With exact ties, or offers in id order, that is one or two
/// machines; it never allocates unless more than eight distinct scores fall within 1e-12 of each
/// other.
#[derive(Debug)]
pub(crate) struct Record {
    highest: f64,
    floor: f64,
    inline: [(u32, f64); INLINE],
    len: usize,
    spill: Vec<(u32, f64)>,
}

impl Record {
    pub(crate) fn new() -> Record {
        Record {
            highest: f64::NEG_INFINITY,
            floor: f64::NEG_INFINITY,
            inline: [(0, 0.0); INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }

    #[inline]
    fn items(&self) -> &[(u32, f64)] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    /// True when no score up to `bound` can win any more: it is below the floor of the highest
    /// score offered so far (the floor only rises).
    #[inline]
    pub(crate) fn hopeless(&self, bound: f64) -> bool {
        bound < self.floor
    }

    /// True when no machine with an id of at least `min_id` and a score up to `bound` can win:
    /// the bound is [`Record::hopeless`], or some candidate with a lower id scores at least the
    /// bound (whenever such a machine would be within noise of the highest score, so would that
    /// candidate, which comes first). Whole-number scores tie often; this is what prunes ties.
    #[inline]
    pub(crate) fn dominated(&self, bound: f64, min_id: u32) -> bool {
        if self.hopeless(bound) {
            return true;
        }
        // Candidates' scores rise with their ids: the last one below `min_id` scores highest.
        let items = self.items();
        let below = items.partition_point(|c| c.0 < min_id);
        below > 0 && items[below - 1].1 >= bound
    }

    /// Offers machine `id` with `score` (each machine at most once).
    #[inline]
    pub(crate) fn offer(&mut self, id: u32, score: f64) {
        if score > self.highest {
            self.highest = score;
            self.floor = floor(score);
            // Candidates' scores rise with their ids, so those now below the floor come first.
            let below = self.items().iter().take_while(|c| c.1 < self.floor).count();
            self.remove(0, below);
        }
        if score < self.floor {
            return;
        }
        let items = self.items();
        let at = items.partition_point(|c| c.0 < id);
        if at > 0 && items[at - 1].1 >= score {
            return;
        }
        let beaten = items[at..].iter().take_while(|c| c.1 <= score).count();
        self.remove(at, beaten);
        self.insert(at, (id, score));
    }

    /// The winner: the lowest id within noise of the highest score, `None` if nothing was offered.
    #[inline]
    pub(crate) fn winner(&self) -> Option<u32> {
        self.items().first().map(|c| c.0)
    }

    fn remove(&mut self, at: usize, count: usize) {
        if count == 0 {
            return;
        }
        if self.spill.is_empty() {
            self.inline.copy_within(at + count..self.len, at);
            self.len -= count;
        } else {
            self.spill.drain(at..at + count);
            if self.spill.is_empty() {
                self.len = 0;
            }
        }
    }

    fn insert(&mut self, at: usize, item: (u32, f64)) {
        if self.spill.is_empty() && self.len < INLINE {
            self.inline.copy_within(at..self.len, at + 1);
            self.inline[at] = item;
            self.len += 1;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline[..self.len]);
            }
            self.spill.insert(at, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule itself, by definition: highest score, then the lowest id at or above its floor.
    fn by_definition(offers: &[(u32, f64)]) -> Option<u32> {
        let highest = offers.iter().map(|o| o.1).fold(f64::NEG_INFINITY, f64::max);
        offers.iter().filter(|o| o.1 >= floor(highest)).map(|o| o.0).min()
    }

    #[test]
    fn the_winner_does_not_depend_on_the_order_of_offers() {
        let mut rng = 11u64;
        for case in 0..2000 {
            let n = 1 + case % 40;
            let mut offers: Vec<(u32, f64)> = (0..n as u32)
                .map(|id| {
                    rng = crate::hash::splitmix64(rng);
                    // Scores spaced around the tolerance apart, so chains of near ties happen.
                    let s = 50.0 + (rng % 64) as f64 * 50.0 * TIE * 0.4;
                    (id, if rng >> 63 == 1 { -s } else { s })
                })
                .collect();
            let expected = by_definition(&offers);
            for _ in 0..3 {
                let mut record = Record::new();
                for &(id, s) in &offers {
                    record.offer(id, s);
                }
                assert_eq!(record.winner(), expected, "{offers:?}");
                // Shuffle and offer again.
                for i in (1..offers.len()).rev() {
                    rng = crate::hash::splitmix64(rng);
                    offers.swap(i, (rng % (i as u64 + 1)) as usize);
                }
            }
        }
    }

    #[test]
    fn dominated_machines_never_win() {
        // Offer a random prefix, ask about a machine (id, score), then offer the rest with it:
        // whenever `dominated` said so, it must not be the winner, whatever comes later.
        let mut rng = 5u64;
        let mut next = || {
            rng = crate::hash::splitmix64(rng);
            rng
        };
        let mut pruned = 0;
        for case in 0..3000 {
            let n = 2 + case % 30;
            let offers: Vec<(u32, f64)> = (0..n as u32)
                .map(|id| {
                    // Whole numbers (ties), and near ties around the tolerance.
                    let s = if case % 2 == 0 {
                        (next() % 4) as f64
                    } else {
                        50.0 + (next() % 8) as f64 * 50.0 * TIE * 0.4
                    };
                    (id, s)
                })
                .collect();
            let cut = (next() % n as u64) as usize;
            let asked = cut + (next() % (n - cut) as u64) as usize;
            let mut record = Record::new();
            for &(id, s) in &offers[..cut] {
                record.offer(id, s);
            }
            let (id, s) = offers[asked];
            if record.dominated(s, id) {
                pruned += 1;
                assert_ne!(
                    by_definition(&offers),
                    Some(id),
                    "{offers:?}, asked {asked} after {cut}"
                );
            }
        }
        // The check has teeth: many machines were pruned.
        assert!(pruned > 500, "{pruned}");
    }

    #[test]
    fn many_near_ties_spill_and_still_choose_by_definition() {
        // Forty distinct scores within the tolerance, rising with the id and offered by
        // decreasing id: none beats another, so all forty are kept.
        let offers: Vec<(u32, f64)> = (0..40u32)
            .rev()
            .map(|i| (i, 1.0 + f64::from(i) * 1e-15))
            .collect();
        let mut record = Record::new();
        for &(id, s) in &offers {
            record.offer(id, s);
        }
        assert_eq!(record.items().len(), 40);
        assert_eq!(record.winner(), by_definition(&offers));
        assert_eq!(record.winner(), Some(0));
        // A clearly higher score then leaves only itself.
        record.offer(50, 2.0);
        assert_eq!(record.items(), &[(50, 2.0)]);
    }

    #[test]
    fn a_scan_that_keeps_its_first_near_tie_would_differ() {
        // 1.0, then 1.0 + 0.6 tol (not beating 1.0), then 1.0 + 1.2 tol (beating 1.0): the old
        // scan keeps the third; the rule's floor of the highest excludes the first and keeps
        // the second.
        let t = TIE;
        let offers = [(0, 1.0), (1, 1.0 + 0.6 * t), (2, 1.0 + 1.2 * t)];
        let mut record = Record::new();
        for &(id, s) in &offers {
            record.offer(id, s);
        }
        assert_eq!(record.winner(), Some(1));
    }
}
