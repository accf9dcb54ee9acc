//! Replication state for one (peer, namespace), and the form it is saved in (FORMAT.md, "Saved
//! peer state").

use crate::{
    chunk::{ChunkError, SealError},
    keytable::Vector,
    storage::StoreError,
    wire::Reader,
};

/// The saved form: `version 2 ‖ engine length u32 ‖ engine ‖ Automerge state`. Version 1
/// exists only in format-1 vaults, which never sync again, so it is refused like any unknown
/// version.
const VERSION: u8 = 2;

/// Where replication with one peer stands for one namespace: Automerge's sync state and what
/// is known of the peer's key table. Start with [`ReplicationState::new`] or from
/// [`SavedPeerState`].
#[derive(Debug, Default)]
pub struct ReplicationState {
    pub(super) doc: automerge::sync::State,
    /// The peer's key-table vector, as last heard or as it must be after our last delta.
    pub(super) peer_vector: Option<Vector>,
    /// Our vector as last sent.
    pub(super) sent_vector: Option<Vector>,
}

impl ReplicationState {
    /// A fresh state: nothing known about the peer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the exchange with the peer over, within the session: for when a message was lost
    /// and both sides wait for each other. Keeps the heads both sides are known to share; the
    /// next message asks the peer to forget what it believes it sent (Automerge's sync reset)
    /// and carries no key-table base, so the peer takes our vector as it is, not as it
    /// assumed its lost delta made it.
    pub fn restart(&mut self) {
        self.doc = automerge::sync::State {
            shared_heads: std::mem::take(&mut self.doc.shared_heads),
            their_capabilities: self.doc.their_capabilities.take(),
            needs_reset: true,
            ..automerge::sync::State::default()
        };
        self.peer_vector = None;
        self.sent_vector = None;
    }
}

/// What the vault keeps between connections about one peer and one namespace.
#[derive(Debug, Default)]
pub struct SavedPeerState {
    /// Replication as it stood: the heads both sides shared, so the next session starts
    /// incrementally. Everything else in it is per session.
    pub replication: ReplicationState,
    /// The bytes the sync engine saved with it (its counters): sealed with the rest, never read
    /// by the vault.
    pub engine: Vec<u8>,
}

/// Why saved peer state could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerStateError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sealed bytes do not open: damaged, cut short, or moved from another peer or
    /// namespace.
    #[error("saved peer state does not open: {0}")]
    Sealed(#[from] ChunkError),
    /// Written by an unknown version.
    #[error("unknown saved peer state version {0}")]
    UnknownVersion(u8),
    /// Opened, but not well formed (a bug in the writer).
    #[error("malformed saved peer state: {0}")]
    Malformed(&'static str),
    /// Automerge refused its sync state.
    #[error("invalid Automerge sync state: {0}")]
    Automerge(#[from] automerge::sync::DecodeStateError),
}

impl SavedPeerState {
    /// The plaintext that is sealed. Only the heads both sides shared outlive a session.
    pub(super) fn encode(
        replication: &ReplicationState,
        engine: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let doc = replication.doc.encode();
        let engine_len = u32::try_from(engine.len()).map_err(|_| SealError::TooLarge)?;
        let mut out = Vec::with_capacity(1 + 4 + engine.len() + doc.len());
        out.push(VERSION);
        out.extend_from_slice(&engine_len.to_be_bytes());
        out.extend_from_slice(engine);
        out.extend_from_slice(&doc);
        Ok(out)
    }

    /// Inverse of [`SavedPeerState::encode`].
    pub(super) fn decode(bytes: &[u8]) -> Result<Self, PeerStateError> {
        let short = |_| PeerStateError::Malformed("ends early");
        let mut r = Reader::new(bytes);
        let engine = match r.u8().map_err(short)? {
            VERSION => {
                let len = r.u32().map_err(short)? as usize;
                r.take(len).map_err(short)?.to_vec()
            }
            version => return Err(PeerStateError::UnknownVersion(version)),
        };
        let doc = automerge::sync::State::decode(r.remaining())?;
        Ok(Self {
            replication: ReplicationState {
                doc,
                ..ReplicationState::default()
            },
            engine,
        })
    }
}

#[cfg(test)]
mod tests {
    use automerge::ChangeHash;

    use super::*;

    fn state(heads: &[[u8; 32]]) -> ReplicationState {
        let mut state = ReplicationState::new();
        state.doc.shared_heads = heads.iter().copied().map(ChangeHash).collect();
        state
    }

    #[test]
    fn saved_state_keeps_the_engine_bytes_and_shared_heads() {
        let heads = [[1; 32], [2; 32]];
        let plain = SavedPeerState::encode(&state(&heads), b"engine").unwrap();
        assert_eq!(plain[0], 2);
        let back = SavedPeerState::decode(&plain).unwrap();
        assert_eq!(back.engine, b"engine");
        assert_eq!(
            back.replication.doc.shared_heads,
            state(&heads).doc.shared_heads
        );
        assert_eq!(back.replication.doc.encode(), state(&heads).doc.encode());
        let mut v3 = plain.clone();
        v3[0] = 3;
        assert!(matches!(
            SavedPeerState::decode(&v3),
            Err(PeerStateError::UnknownVersion(3))
        ));
        for cut in 0..5 + b"engine".len() {
            assert!(
                SavedPeerState::decode(&plain[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = plain;
        bad[5 + b"engine".len()] = 0xff;
        assert!(matches!(
            SavedPeerState::decode(&bad),
            Err(PeerStateError::Automerge(_))
        ));
    }
}
