//! The three indexes that make decisions cheaper without changing them.
//!
//! Each keeps the machines' free amounts (plus one, 0 when unavailable) in a different order and
//! answers "the first machine where this demand fits" in that order:
//! - [`segment`]: a segment tree by machine id (first fit, next fit, and the root's maxima that
//!   tell in O(d) that nothing fits); the cluster always keeps one;
//! - [`treap`]: a treap by best or worst fit's residual key, kept when a policy asks;
//! - [`kd`]: a k-d tree by position in free-amount space, for multi-dimensional best fit and the
//!   branch and bound of scores, kept when a policy asks.
//!
//! They sit below the cluster, which updates them, and the searches ([`crate::search`]), which
//! query them; they know nothing of policies. What they share is here: the fit test every node
//! makes, and the residual key the treap and the keyed k-d tree order by.

pub(crate) mod kd;
pub(crate) mod segment;
pub(crate) mod treap;

pub(crate) use kd::{KdIndex, Span};
pub(crate) use segment::FitIndex;
pub(crate) use treap::OrderIndex;

/// True when `demand` fits under `stored` (free amounts plus one, 0 when unavailable) in every
/// dimension: the one test every index makes at every node.
#[inline]
pub(crate) fn holds(stored: &[u64], demand: &[u64]) -> bool {
    demand.iter().zip(stored).all(|(d, s)| d < s)
}

/// The key best fit and worst fit order machines by: `Σ ŵ_d · free_d / reference_d`, summed in
/// dimension order. Both the index and the scan compute it with this one function, so a machine's
/// key is the same bits wherever it is computed.
#[inline]
pub(crate) fn residual_key(free: &[u64], normalised: &[f64], inv_reference: &[f64]) -> f64 {
    residual_key_by(free.len(), |d| free[d], normalised, inv_reference)
}

/// [`residual_key`] of the amounts `amount(0..dims)`, the same operations in the same order: a
/// bound computed from amounts at most a machine's is at most that machine's key (every step is
/// monotone, in floats too).
#[inline]
pub(crate) fn residual_key_by(
    dims: usize,
    amount: impl Fn(usize) -> u64,
    normalised: &[f64],
    inv_reference: &[f64],
) -> f64 {
    let mut sum = 0.0;
    for d in 0..dims {
        sum += normalised[d] * amount(d) as f64 * inv_reference[d];
    }
    sum
}

/// A position in the index's order: `(order, id)`.
pub(crate) type Position = (u64, u32);
