//! What the engine keeps about a peer across connections: its envelope counters, saved as bytes
//! that the vault seals beside the replication state and never reads (PROTOCOL.md, "The engine's
//! saved state").
//!
//! ```text
//! "SOSP" ‖ version u8 = 1 ‖ last received u64 ‖ last sent u64
//! ```

const MAGIC: &[u8; 4] = b"SOSP";
const VERSION: u8 = 1;
/// The length of the encoding.
pub(crate) const ENCODED_LEN: usize = MAGIC.len() + 1 + 8 + 8;

/// Why saved counters could not be read. The engine reports it as a warning and goes on with
/// what its clock gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SavedStateError {
    /// Not the engine's saved state, or cut short.
    #[error("malformed saved counters")]
    Malformed,
    /// Written by an unknown version.
    #[error("unknown saved counters version {0}")]
    UnknownVersion(u8),
}

/// Replay protection for one peer, as saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PeerCounters {
    /// The last envelope counter accepted from the peer: anything at or below it is a replay.
    pub(crate) last_received: u64,
    /// The last envelope counter this replica sent, so a restarted engine continues above it
    /// even if the clock it seeds counters from went back.
    pub(crate) last_sent: u64,
}

impl PeerCounters {
    pub(crate) fn encode(&self) -> [u8; ENCODED_LEN] {
        let mut out = [0u8; ENCODED_LEN];
        out[..4].copy_from_slice(MAGIC);
        out[4] = VERSION;
        out[5..13].copy_from_slice(&self.last_received.to_be_bytes());
        out[13..].copy_from_slice(&self.last_sent.to_be_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, SavedStateError> {
        let (Some(magic), Some(&version)) = (bytes.get(..MAGIC.len()), bytes.get(MAGIC.len()))
        else {
            return Err(SavedStateError::Malformed);
        };
        if magic != MAGIC {
            return Err(SavedStateError::Malformed);
        }
        if version != VERSION {
            return Err(SavedStateError::UnknownVersion(version));
        }
        let bytes: &[u8; ENCODED_LEN] = bytes.try_into().map_err(|_| SavedStateError::Malformed)?;
        let counter = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(b)
        };
        Ok(Self {
            last_received: counter(5),
            last_sent: counter(13),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::{prelude::*, sample::Index};

    use super::*;

    #[test]
    fn saved_counters_round_trip_and_damage_is_refused() {
        let counters = PeerCounters {
            last_received: 42,
            last_sent: 7,
        };
        let bytes = counters.encode();
        assert_eq!(&bytes[..5], b"SOSP\x01");
        assert_eq!(PeerCounters::decode(&bytes), Ok(counters));
        let mut v2 = bytes;
        v2[4] = 2;
        assert_eq!(
            PeerCounters::decode(&v2),
            Err(SavedStateError::UnknownVersion(2))
        );
        assert_eq!(
            PeerCounters::decode(&[bytes.as_slice(), b"x"].concat()),
            Err(SavedStateError::Malformed)
        );
    }

    proptest! {
        #[test]
        fn round_trips(last_received: u64, last_sent: u64) {
            let counters = PeerCounters { last_received, last_sent };
            prop_assert_eq!(PeerCounters::decode(&counters.encode()), Ok(counters));
        }

        #[test]
        fn encoded_len_is_the_length_written(last_received: u64, last_sent: u64) {
            let counters = PeerCounters { last_received, last_sent };
            prop_assert_eq!(counters.encode().len(), ENCODED_LEN);
        }

        #[test]
        fn damaged_input_never_panics(last_received: u64, last_sent: u64, at: Index, bit in 0u8..8) {
            let bytes = PeerCounters { last_received, last_sent }.encode();
            for cut in 0..bytes.len() {
                prop_assert!(PeerCounters::decode(&bytes[..cut]).is_err());
            }
            let mut flipped = bytes;
            flipped[at.index(ENCODED_LEN)] ^= 1 << bit;
            if let Ok(back) = PeerCounters::decode(&flipped) {
                prop_assert_eq!(back.encode(), flipped);
            }
        }
    }
}
