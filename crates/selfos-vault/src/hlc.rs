//! A hybrid logical clock: the order that last-write-wins uses.
//!
//! A timestamp is (wall-clock milliseconds, counter, node). A replica's clock never runs
//! backwards, stays close to real time, and moves past every timestamp it has seen, so an edit
//! made after seeing another edit always wins over it, even when the writers' clocks disagree.
//! Ties between replicas are broken by node, so every replica picks the same winner.

use std::fmt;

/// One hybrid-logical-clock timestamp. Ordered by wall time, then counter, then node.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (the writer's view, pushed forward by what it saw).
    pub wall_ms: u64,
    /// Orders events within one millisecond.
    pub counter: u32,
    /// The writer: 8 bytes new each time a replica is opened.
    pub node: [u8; 8],
}

impl Hlc {
    /// Encoded length in bytes.
    pub const LEN: usize = 20;

    /// Big-endian bytes, so byte order is time order.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(&self.wall_ms.to_be_bytes());
        out[8..12].copy_from_slice(&self.counter.to_be_bytes());
        out[12..].copy_from_slice(&self.node);
        out
    }

    /// Inverse of [`Hlc::to_bytes`].
    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Self {
        let mut wall = [0u8; 8];
        let mut counter = [0u8; 4];
        let mut node = [0u8; 8];
        wall.copy_from_slice(&bytes[..8]);
        counter.copy_from_slice(&bytes[8..12]);
        node.copy_from_slice(&bytes[12..]);
        Self {
            wall_ms: u64::from_be_bytes(wall),
            counter: u32::from_be_bytes(counter),
            node,
        }
    }
}

impl fmt::Debug for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Hlc({}.{}@{})",
            self.wall_ms,
            self.counter,
            hex::encode(self.node)
        )
    }
}

/// One replica's clock.
#[derive(Debug, Clone)]
pub(crate) struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    pub(crate) fn new(node: [u8; 8]) -> Self {
        Self {
            last: Hlc {
                wall_ms: 0,
                counter: 0,
                node,
            },
        }
    }

    /// A timestamp for a local event at wall time `now_ms`, later than every one before.
    pub(crate) fn tick(&mut self, now_ms: u64) -> Hlc {
        if now_ms > self.last.wall_ms {
            self.last.wall_ms = now_ms;
            self.last.counter = 0;
        } else if let Some(next) = self.last.counter.checked_add(1) {
            self.last.counter = next;
        } else {
            // Four billion events in one millisecond: borrow the next millisecond.
            self.last.wall_ms = self.last.wall_ms.saturating_add(1);
            self.last.counter = 0;
        }
        self.last
    }

    /// Moves the clock past a timestamp seen in data from another replica.
    pub(crate) fn observe(&mut self, seen: Hlc) {
        let seen_key = (seen.wall_ms, seen.counter);
        if seen_key > (self.last.wall_ms, self.last.counter) {
            self.last.wall_ms = seen.wall_ms;
            self.last.counter = seen.counter;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_even_when_wall_clock_goes_back() {
        let mut c = HlcClock::new([1; 8]);
        let a = c.tick(1000);
        let b = c.tick(999);
        let d = c.tick(1000);
        assert!(a < b && b < d);
        assert_eq!(d.wall_ms, 1000);
    }

    #[test]
    fn observing_a_later_stamp_orders_after_it() {
        let mut mine = HlcClock::new([1; 8]);
        let theirs = Hlc {
            wall_ms: 5000,
            counter: 7,
            node: [9; 8],
        };
        mine.observe(theirs);
        let next = mine.tick(10); // our wall clock is far behind
        assert!(next > theirs);
    }

    #[test]
    fn bytes_round_trip_and_preserve_order() {
        let a = Hlc {
            wall_ms: 1,
            counter: 2,
            node: [3; 8],
        };
        let b = Hlc {
            wall_ms: 1,
            counter: 3,
            node: [0; 8],
        };
        assert_eq!(Hlc::from_bytes(&a.to_bytes()), a);
        assert!(a.to_bytes() < b.to_bytes());
    }
}
