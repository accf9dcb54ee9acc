//! A device that holds the vault's keys and breaks the engine's rules: it seals whatever
//! envelopes it likes, so tests can check what a peer can cost the devices it syncs with.

use selfos_proto::PeerId;
use selfos_vault::SyncKeys;

use crate::{
    SyncError,
    engine::room_of,
    envelope::{EnvelopeSealer, Header},
    error::EnvelopeError,
};

/// Seals envelopes as one peer of a vault's room, with any counter and fragment numbers.
#[derive(Debug)]
pub struct Hostile {
    sealer: EnvelopeSealer,
    me: PeerId,
}

impl Hostile {
    /// A hostile peer `me` of the vault whose keys are `keys`.
    pub fn new(keys: &SyncKeys, me: PeerId) -> Result<Self, SyncError> {
        Ok(Self {
            sealer: EnvelopeSealer::new(keys.envelope_key(), room_of(keys)?),
            me,
        })
    }

    /// An envelope to `to` holding `fragment` as fragment `part` of `parts`, with `counter`.
    /// The recipient opens it: only what it does with the content is left to check.
    pub fn envelope(
        &self,
        to: &PeerId,
        counter: u64,
        part: u16,
        parts: u16,
        fragment: &[u8],
    ) -> Result<Vec<u8>, EnvelopeError> {
        let header = Header {
            counter,
            part,
            parts,
        };
        self.sealer.seal(&self.me, to, header, fragment)
    }
}
