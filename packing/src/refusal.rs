//! Mesos's refusal filter, the one rule by which a master holds back an agent's resources from a
//! framework that declined them (PROTOCOL.md §2.7).
//!
//! When a framework declines an offer, or accepts part of it, with `refuse_seconds`, the master
//! does not offer that agent's resources to it again until the filter expires, unless what it
//! would offer is no longer a subset of what was refused (a task ended there and freed more). The
//! filter lasts at least one allocation interval. The simulator's offer model and the emulated
//! master both decide with [`Refusal`]; each brings its own resource type (a vector of amounts,
//! or scalars with port ranges) through [`Within`].

use std::ops::Add;

/// Resources that can be compared by inclusion with `Other`.
pub trait Within<Other: ?Sized = Self> {
    /// True when every part of `self` is also in `other`.
    fn within(&self, other: &Other) -> bool;
}

/// Amounts per dimension: within when no larger in any dimension.
impl Within<Vec<u64>> for [u64] {
    fn within(&self, other: &Vec<u64>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a <= b)
    }
}

impl Within for Vec<u64> {
    fn within(&self, other: &Vec<u64>) -> bool {
        self.as_slice().within(other)
    }
}

/// A refusal filter: resources refused until a time.
///
/// ```
/// use packing::refusal::Refusal;
/// // Refused 5 s at t = 10 with a 1 s allocation interval: held back until t = 15 while the
/// // agent offers no more than was refused.
/// let f = Refusal::new(10, 5, 1, vec![4u64, 100]);
/// assert!(f.holds_back(12, &[4u64, 100][..]));
/// assert!(!f.holds_back(12, &vec![5, 100])); // more is free now: offer it
/// assert!(!f.holds_back(15, &vec![4, 100])); // expired
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal<R, T> {
    until: T,
    refused: R,
}

impl<R, T: Copy + Ord + Add<Output = T>> Refusal<R, T> {
    /// A filter set at `now` for `refuse`, lasting at least one allocation `interval`.
    pub fn new(now: T, refuse: T, interval: T, refused: R) -> Refusal<R, T> {
        Refusal {
            until: now + refuse.max(interval),
            refused,
        }
    }

    /// When the filter expires.
    pub fn until(&self) -> T {
        self.until
    }

    /// True while the filter is in force at `now`.
    pub fn in_force(&self, now: T) -> bool {
        self.until > now
    }

    /// True when the filter keeps `offerable` from being offered at `now`: it is in force and
    /// `offerable` is within what was refused.
    pub fn holds_back<Q: Within<R> + ?Sized>(&self, now: T, offerable: &Q) -> bool {
        self.in_force(now) && offerable.within(&self.refused)
    }
}
