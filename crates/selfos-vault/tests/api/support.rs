//! Helpers shared by every test module: the workspace's test kit, and what only the vault's
//! tests need.

pub(crate) use selfos_testkit::{
    T0, all_files, contains, kdf, ns, pass, replicas_in, snapshot_dir, text_of,
};
use selfos_vault::Content;

/// An answered intent card (`intent.include`) with a free-text answer: the one card these
/// tests record.
pub(crate) fn content(agent: &str, text: &str, created_ms: u64) -> Content {
    selfos_testkit::content(agent, "intent.include", text, created_ms)
}

/// Two distinct elements of a slice, both mutable.
pub(crate) fn pair_mut<T>(v: &mut [T], i: usize, j: usize) -> (&mut T, &mut T) {
    assert_ne!(i, j, "a replica cannot merge from itself");
    if i < j {
        let (lo, hi) = v.split_at_mut(j);
        (&mut lo[i], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(i);
        (&mut hi[0], &mut lo[j])
    }
}

/// A deterministic xorshift64* generator for delays and choices.
#[derive(Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `lo..hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}
