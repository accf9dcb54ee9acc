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

/// The plaintext of a message about namespace `namespace` (at most 255 bytes long), holding
/// `message`: `namespace length ‖ namespace ‖ message`, as the engine frames it.
pub fn message_about(namespace: &str, message: &[u8]) -> Vec<u8> {
    let name = namespace.as_bytes();
    let mut plain = Vec::with_capacity(1 + name.len() + message.len());
    plain.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    plain.extend_from_slice(name);
    plain.extend_from_slice(message);
    plain
}

/// A message about `namespace` whose replication message holds only a key-table vector: one
/// writer at `count`, whatever that count is (the vault's own encoder refuses counts past its
/// bound; a hostile peer does not use it).
pub fn vector_message(namespace: &str, writer: [u8; 16], count: u64) -> Vec<u8> {
    let mut message = b"SOSM\x01\x00".to_vec();
    message.extend_from_slice(&1u16.to_be_bytes());
    message.extend_from_slice(&writer);
    message.extend_from_slice(&count.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message_about(namespace, &message)
}
