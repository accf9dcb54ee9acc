//! What replicas exchange to converge one namespace: Automerge's sync messages plus deltas of
//! the key table. The sync engine (another crate) moves these messages between peers inside
//! encrypted envelopes; this module knows only documents and key tables.
//!
//! For each (peer, namespace) a [`PeerSync`] holds Automerge's `sync::State` and what is known
//! of the peer's key-table version vector. A message carries:
//! - an Automerge sync message, when Automerge has one;
//! - the sender's key-table vector;
//! - the key entries the receiver lacks, computed from the receiver's last advertised vector
//!   (`base`), and that base, so the receiver can tell a complete delta from a partial one.

use automerge::sync::SyncDoc;
use zeroize::Zeroizing;

use crate::{
    chunk::{
        decode_entries, decode_vector, encode_entries, encode_vector, open_at_rest, seal_at_rest,
    },
    error::{ReadError, WriteError},
    ids::{Namespace, RecordId},
    keytable::{KeyEntry, Vector},
    namespace::Compaction,
    storage::ChunkStore,
    vault::Vault,
    wire::{Reader, put_len_prefixed},
};

const MAGIC: &[u8; 4] = b"SOSM";
const VERSION: u8 = 1;
const HAS_DOC: u8 = 1;
const HAS_BASE: u8 = 2;

/// Why a sync message or a saved sync state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncMessageError {
    /// Not a sync message, or cut short.
    #[error("malformed sync message: {0}")]
    Malformed(&'static str),
    /// Written by an unknown version.
    #[error("unknown sync message version {0}")]
    UnknownVersion(u8),
    /// Automerge refused its part.
    #[error("invalid Automerge sync data: {0}")]
    Automerge(String),
}

/// One message for one namespace, from one replica to one peer. It holds record keys:
/// it must only ever travel encrypted.
#[derive(Debug)]
pub struct SyncMessage {
    doc: Option<Vec<u8>>,
    vector: Vector,
    base: Option<Vector>,
    entries: Vec<(RecordId, KeyEntry)>,
}

impl SyncMessage {
    /// The message as bytes (zeroized on drop: key entries are secret).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            64 + self.doc.as_ref().map_or(0, Vec::len) + self.entries.len() * 73,
        ));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        let flags = if self.doc.is_some() { HAS_DOC } else { 0 }
            | if self.base.is_some() { HAS_BASE } else { 0 };
        out.push(flags);
        encode_vector(&mut out, &self.vector);
        if let Some(base) = &self.base {
            encode_vector(&mut out, base);
        }
        encode_entries(&mut out, &self.entries);
        if let Some(doc) = &self.doc {
            put_len_prefixed(&mut out, doc);
        }
        out
    }

    /// Reads a message.
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncMessageError> {
        let short = SyncMessageError::Malformed("ends early");
        if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SyncMessageError::Malformed("bad magic bytes"));
        }
        if bytes[MAGIC.len()] != VERSION {
            return Err(SyncMessageError::UnknownVersion(bytes[MAGIC.len()]));
        }
        let flags = bytes[MAGIC.len() + 1];
        if flags & !(HAS_DOC | HAS_BASE) != 0 {
            return Err(SyncMessageError::Malformed("unknown flags"));
        }
        let mut r = Reader::new(&bytes[MAGIC.len() + 2..]);
        let vector = decode_vector(&mut r).ok_or(short.clone())?;
        let base = if flags & HAS_BASE != 0 {
            Some(decode_vector(&mut r).ok_or(short.clone())?)
        } else {
            None
        };
        let entries = decode_entries(&mut r).map_err(SyncMessageError::Malformed)?;
        let doc = if flags & HAS_DOC != 0 {
            let len = r.u32().map_err(|_| short.clone())? as usize;
            Some(r.take(len).map_err(|_| short.clone())?.to_vec())
        } else {
            None
        };
        if !r.remaining().is_empty() {
            return Err(SyncMessageError::Malformed("trailing bytes"));
        }
        Ok(Self {
            doc,
            vector,
            base,
            entries,
        })
    }
}

/// Sync state for one (peer, namespace).
#[derive(Debug, Default)]
pub struct PeerSync {
    doc: automerge::sync::State,
    /// The peer's key-table vector, as last heard or as it must be after our last delta.
    peer_vector: Option<Vector>,
    /// Our vector as last sent.
    sent_vector: Option<Vector>,
    /// The last envelope counter accepted from the peer (kept by the sync engine, saved here so
    /// replays stay refused across restarts).
    last_counter: u64,
    /// The last envelope counter sent (so a restarted engine continues above it even if the
    /// clock it seeds counters from went back).
    last_sent: u64,
}

/// Version of the saved form of [`PeerSync`].
const STATE_VERSION: u8 = 1;

impl PeerSync {
    /// A fresh state: nothing known about the peer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last envelope counter accepted from the peer, as saved.
    pub fn last_counter(&self) -> u64 {
        self.last_counter
    }

    /// Records the last envelope counter accepted from the peer, to be saved.
    pub fn set_last_counter(&mut self, counter: u64) {
        self.last_counter = counter;
    }

    /// The last envelope counter sent, as saved.
    pub fn last_sent(&self) -> u64 {
        self.last_sent
    }

    /// Records the last envelope counter sent, to be saved.
    pub fn set_last_sent(&mut self, counter: u64) {
        self.last_sent = counter;
    }

    /// What outlives a connection: the heads both sides shared (so the next session starts
    /// incrementally) and the last envelope counters received and sent. Everything else is per
    /// session. `version u8 = 1 ‖ last received u64 ‖ last sent u64 ‖ Automerge sync::State`.
    pub fn encode(&self) -> Vec<u8> {
        let doc = self.doc.encode();
        let mut out = Vec::with_capacity(17 + doc.len());
        out.push(STATE_VERSION);
        out.extend_from_slice(&self.last_counter.to_be_bytes());
        out.extend_from_slice(&self.last_sent.to_be_bytes());
        out.extend_from_slice(&doc);
        out
    }

    /// Inverse of [`PeerSync::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncMessageError> {
        let mut r = Reader::new(bytes);
        let version = r
            .u8()
            .map_err(|_| SyncMessageError::Malformed("empty sync state"))?;
        if version != STATE_VERSION {
            return Err(SyncMessageError::UnknownVersion(version));
        }
        let mut counter = || {
            r.array()
                .map(u64::from_be_bytes)
                .map_err(|_| SyncMessageError::Malformed("sync state ends early"))
        };
        let last_counter = counter()?;
        let last_sent = counter()?;
        let doc = automerge::sync::State::decode(r.remaining())
            .map_err(|e| SyncMessageError::Automerge(e.to_string()))?;
        Ok(Self {
            doc,
            peer_vector: None,
            sent_vector: None,
            last_counter,
            last_sent,
        })
    }
}

fn peer_state_name(peer: &[u8; 16], ns: &Namespace) -> String {
    format!("{}.{ns}", hex::encode(peer))
}

/// What one received message changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Whether the document or the key table changed.
    pub changed: bool,
    /// Tombstones that arrived (deletions).
    pub deletions: usize,
}

const STATE_MAGIC: &[u8; 8] = b"SELFOSPS";

impl<S: ChunkStore> Vault<S> {
    /// Saves what outlives a connection to `peer` about `ns` (encrypted like chunks).
    pub fn save_peer_sync(
        &mut self,
        peer: &[u8; 16],
        ns: &Namespace,
        state: &PeerSync,
    ) -> Result<(), WriteError> {
        let (key, aad) = self.peer_state_binding(peer, ns);
        let sealed = seal_at_rest(STATE_MAGIC, &key, &aad, &state.encode())?;
        self.store_mut()
            .write_peer_state(&peer_state_name(peer, ns), &sealed)?;
        Ok(())
    }

    /// The saved state for `peer` about `ns`, or a fresh one if none was saved.
    pub fn load_peer_sync(&self, peer: &[u8; 16], ns: &Namespace) -> Result<PeerSync, ReadError> {
        let name = peer_state_name(peer, ns);
        let Some(bytes) = self.store().read_peer_state(&name)? else {
            return Ok(PeerSync::new());
        };
        let (key, aad) = self.peer_state_binding(peer, ns);
        let chunk_error = |source| ReadError::Chunk {
            namespace: ns.clone(),
            chunk: format!("sync state {name}"),
            source,
        };
        let plain = open_at_rest(STATE_MAGIC, &key, &aad, &bytes).map_err(chunk_error)?;
        PeerSync::decode(&plain)
            .map_err(|_| chunk_error(crate::chunk::ChunkError::Malformed("sync state")))
    }

    /// Whether the peer behind `state` is known to hold every change of `ns` that this replica
    /// holds: each of our heads is one the peer announced or one we both have.
    pub fn peer_holds_all(&mut self, ns: &Namespace, state: &PeerSync) -> bool {
        let theirs = state.doc.their_heads.as_deref().unwrap_or_default();
        self.heads(ns)
            .iter()
            .all(|h| state.doc.shared_heads.contains(h) || theirs.contains(h))
    }

    /// Every namespace to keep in sync, `settings` included.
    pub fn sync_namespaces(&self) -> Vec<Namespace> {
        self.loaded_namespaces()
    }

    /// The next message for `peer` about `ns`, or `None` when there is nothing to say.
    pub fn generate_sync_message(
        &mut self,
        ns: &Namespace,
        peer: &mut PeerSync,
    ) -> Result<Option<SyncMessage>, WriteError> {
        let doc = self.namespace_mut(ns)?;
        let automerge = doc
            .doc
            .sync()
            .generate_sync_message(&mut peer.doc)
            .map(|m| m.encode());
        let vector = doc.keys.vector().clone();
        let entries = peer
            .peer_vector
            .as_ref()
            .map(|pv| doc.keys.entries_above(pv))
            .unwrap_or_default();
        if automerge.is_none() && entries.is_empty() && peer.sent_vector.as_ref() == Some(&vector) {
            return Ok(None);
        }
        let base = peer.peer_vector.clone();
        // Once this delta arrives the peer holds everything we hold.
        if let Some(pv) = &mut peer.peer_vector {
            pv.join(&vector);
        }
        peer.sent_vector = Some(vector.clone());
        Ok(Some(SyncMessage {
            doc: automerge,
            vector,
            base,
            entries,
        }))
    }

    /// Applies a message from `peer` about `ns` and stores what it brought. On failure the
    /// namespace is as before and `peer` starts over (the next exchange repeats what was lost).
    pub fn receive_sync_message(
        &mut self,
        ns: &Namespace,
        peer: &mut PeerSync,
        message: SyncMessage,
        now_ms: u64,
    ) -> Result<SyncReport, WriteError> {
        let automerge = message
            .doc
            .as_deref()
            .map(automerge::sync::Message::decode)
            .transpose()
            .map_err(|e| SyncMessageError::Automerge(e.to_string()))?;
        let outcome = self.write_namespace(ns, now_ms, |doc, _, _| {
            let heads = doc.doc.get_heads();
            if let Some(m) = automerge {
                doc.doc.sync().receive_sync_message(&mut peer.doc, m)?;
            }
            let mut changed = Vec::new();
            for (id, entry) in message.entries {
                if doc.keys.merge_entry(id, entry.clone()) {
                    changed.push((id, entry));
                }
            }
            // A delta computed from a vector we had reached is complete up to the sender's.
            if message
                .base
                .as_ref()
                .is_some_and(|b| b.le(doc.keys.vector()))
            {
                doc.keys.advance(&message.vector);
            }
            let mut known = peer.peer_vector.take().unwrap_or_default();
            known.join(&message.vector);
            peer.peer_vector = Some(known);
            let report = SyncReport {
                changed: !changed.is_empty() || doc.doc.get_heads() != heads,
                deletions: changed.iter().filter(|(_, e)| e.is_shredded()).count(),
            };
            Ok((report, changed))
        });
        let (report, compaction) = match outcome {
            Ok(ok) => ok,
            Err(e) => {
                *peer = PeerSync::new();
                return Err(e);
            }
        };
        if report.deletions > 0 && compaction != Compaction::Done {
            // The tombstones are stored; a failed compaction is retried on a later write.
            let _ = self.compact_namespace(ns);
        }
        if report.changed {
            self.invalidate_clock();
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ids::ReplicaId,
        keys::SecretKey,
        keytable::{Dot, KeyState},
    };

    #[test]
    fn saved_state_keeps_the_counter() {
        let mut state = PeerSync::new();
        state.set_last_counter(42);
        state.set_last_sent(7);
        let back = PeerSync::decode(&state.encode()).unwrap();
        assert_eq!(back.last_counter(), 42);
        assert_eq!(back.last_sent(), 7);
        let mut v2 = state.encode();
        v2[0] = 2;
        assert_eq!(
            PeerSync::decode(&v2).unwrap_err(),
            SyncMessageError::UnknownVersion(2)
        );
        assert!(PeerSync::decode(&state.encode()[..5]).is_err());
    }

    #[test]
    fn message_round_trips_and_damage_is_refused() {
        let origin = ReplicaId::from([1; 16]);
        let msg = SyncMessage {
            doc: Some(b"am".to_vec()),
            vector: Vector([(origin, 3)].into()),
            base: Some(Vector::default()),
            entries: vec![(
                RecordId::from([2; 16]),
                KeyEntry {
                    state: KeyState::Live(SecretKey::from_bytes(&mut [7; 32])),
                    dot: Dot { origin, seq: 3 },
                },
            )],
        };
        let bytes = msg.encode();
        let back = SyncMessage::decode(&bytes).unwrap();
        assert_eq!(back.doc, msg.doc);
        assert_eq!(back.vector, msg.vector);
        assert_eq!(back.base, msg.base);
        assert_eq!(back.entries.len(), 1);
        for cut in 0..bytes.len() {
            assert!(SyncMessage::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut v2 = bytes.to_vec();
        v2[4] = 2;
        assert_eq!(
            SyncMessage::decode(&v2).unwrap_err(),
            SyncMessageError::UnknownVersion(2)
        );
    }
}
