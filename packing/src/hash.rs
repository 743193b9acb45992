//! SplitMix64, the one hash and pseudo-random sequence of the workspace.
//!
//! packsim needs cheap, seedable, platform-independent mixing in several places: the random
//! policy's stateless choice, the sample's start, the treap's node priorities, the emulated
//! master's ids and fault draws, and test and benchmark data. All of them use this module, so
//! the same seed means the same numbers everywhere. (Vigna's SplitMix64: a Weyl sequence with a
//! 64-bit finaliser; statistically fine for these uses, not for cryptography.)

/// The increment of the Weyl sequence (2^64 / φ).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// Mixes `x` into a well-spread 64-bit value: the SplitMix64 output for state `x`.
///
/// ```
/// use packing::hash::splitmix64;
/// assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
/// assert_ne!(splitmix64(1), splitmix64(2));
/// ```
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    finalise(x.wrapping_add(GOLDEN))
}

/// SplitMix64's finaliser alone (Stafford's mix 13): a bijection of 64-bit words whose every
/// output bit depends on every input bit.
#[inline]
pub fn finalise(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded SplitMix64 generator: `next_u64` returns [`splitmix64`] of successive states.
///
/// ```
/// use packing::hash::{SplitMix64, splitmix64};
/// let mut rng = SplitMix64::new(7);
/// assert_eq!(rng.next_u64(), splitmix64(7));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose first output is `splitmix64(seed)`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 pseudo-random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let out = splitmix64(self.state);
        self.state = self.state.wrapping_add(GOLDEN);
        out
    }

    /// A float uniform in `[0, 1)`, from the top 53 bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number uniform enough in `0..n` for test data and shuffles (`n > 0`; modulo bias
    /// below 2^-32 for `n < 2^32`).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// FNV-1a, 64 bits: a stable hash of bytes for content fingerprints and run ids (the same bytes
/// give the same value on every platform and in every version).
///
/// ```
/// use packing::hash::Fnv1a;
/// let mut h = Fnv1a::new();
/// h.write(b"a");
/// assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a::new()
    }
}

impl Fnv1a {
    /// The hash of nothing.
    pub fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    /// Adds `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs of Vigna's splitmix64.c seeded with 1234567.
        let mut rng = SplitMix64::new(1_234_567);
        let expected = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }
}
