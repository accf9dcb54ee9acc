//! A hybrid logical clock: the order that last-write-wins uses.
//!
//! A timestamp is (wall-clock milliseconds, counter, node). A replica's clock never runs
//! backwards, stays close to real time, and moves past every timestamp it has seen, so an edit
//! made after seeing another edit always wins over it, even when the writers' clocks disagree.
//! Ties between replicas are broken by node, so every replica picks the same winner.
//!
//! # Stamps from the future
//!
//! A stamp comes from whoever wrote the value, and a device that holds the vault's keys can
//! stamp a value far ahead of real time. Two things could follow, and the bound
//! [`MAX_CLOCK_AHEAD_MS`] stops the one that spreads:
//!
//! - **The clock is not dragged.** A stamp seen in data more than [`MAX_CLOCK_AHEAD_MS`] ahead of
//!   this device's wall clock does not move the clock. Without the bound, a device that edits a
//!   record stamped a year ahead would stamp every later write of the session a year ahead, win
//!   every conflict with honest devices, and pass the drift on to each device that edits after
//!   it.
//! - **Last-write-wins still orders by stamp, whatever the stamp.** The winner must be a function
//!   of the data alone, so that every replica shows the same one: ranking a value by how far it
//!   is ahead of the reader's clock would have two devices whose clocks differ show different
//!   winners for the same data, and change their minds as time passes; refusing such values would
//!   leave replicas with different data for good. The far-ahead value does not win forever either:
//!   a write made after seeing it replaces it in the document (concurrent values are the only
//!   ones kept), whatever the two stamps, so it wins only against writes made concurrently with
//!   it, as any value from a device with a fast clock does, and the record shows the conflict.

use std::fmt;

/// How far ahead of this device's wall clock a stamp seen in data may be and still move the
/// clock: one day, far beyond the skew of clocks that are set by the network, so honest devices
/// are never affected. See the module docs and FORMAT.md.
pub const MAX_CLOCK_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

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

    /// Moves the clock past a timestamp seen in data from another replica, unless it is more
    /// than [`MAX_CLOCK_AHEAD_MS`] ahead of the wall clock `now_ms` (see the module docs).
    pub(crate) fn observe(&mut self, seen: Hlc, now_ms: u64) {
        if seen.wall_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS) {
            return;
        }
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
        mine.observe(theirs, 10);
        let next = mine.tick(10); // our wall clock is behind, within the bound
        assert!(next > theirs);
    }

    #[test]
    fn a_stamp_beyond_the_bound_does_not_move_the_clock() {
        let now = 1_700_000_000_000;
        let year = 365 * 24 * 60 * 60 * 1000;
        let mut mine = HlcClock::new([1; 8]);
        for wall_ms in [now + year, now + MAX_CLOCK_AHEAD_MS + 1, u64::MAX] {
            mine.observe(
                Hlc {
                    wall_ms,
                    counter: u32::MAX,
                    node: [9; 8],
                },
                now,
            );
            assert_eq!(mine.tick(now).wall_ms, now);
        }
        // At the bound it is still followed.
        let edge = Hlc {
            wall_ms: now + MAX_CLOCK_AHEAD_MS,
            counter: 3,
            node: [9; 8],
        };
        mine.observe(edge, now);
        assert!(mine.tick(now) > edge);
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
