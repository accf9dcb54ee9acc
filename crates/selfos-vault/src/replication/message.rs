//! The replication message (`SOSM`, FORMAT.md): what one replica tells one peer about one
//! namespace. Its bytes come from other devices, so decoding checks every length and never
//! panics; the Automerge part is parsed here too, so a message that decodes is one the vault can
//! apply.

use automerge::{
    Change, ChangeHash,
    sync::{Message as AutomergeMessage, ReadMessageError},
};

use crate::{
    chunk::{
        decode_entries, decode_vector, encode_entries, encode_vector, encoded_entries_len,
        encoded_vector_len,
    },
    ids::RecordId,
    keytable::{KeyCountError, KeyEntry, Vector, check_dots},
    wire::{Reader, put_len_prefixed},
};

const MAGIC: &[u8; 4] = b"SOSM";
const VERSION: u8 = 1;
const HAS_DOC: u8 = 1;
const HAS_BASE: u8 = 2;
const HAS_CHANGES: u8 = 4;
/// Heads in a direct part: a namespace has one per device that wrote concurrently, so a few
/// hundred is already far beyond what is sane.
pub(crate) const MAX_HEADS: usize = 1024;
/// Magic, version and flags.
const HEADER_LEN: usize = MAGIC.len() + 2;

/// Why a replication message could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicationMessageError {
    /// Not a replication message, or cut short.
    #[error("malformed replication message: {0}")]
    Malformed(&'static str),
    /// Written by an unknown version.
    #[error("unknown replication message version {0}")]
    UnknownVersion(u8),
    /// Automerge refused the document part.
    #[error("invalid Automerge sync message: {0}")]
    Automerge(#[from] ReadMessageError),
}

/// One message for one namespace, from one replica to one peer: an Automerge sync message (when
/// Automerge has something to say), the sender's key-table vector, and the key entries the peer
/// lacks. It holds record keys: it must only ever travel encrypted.
#[derive(Debug)]
pub struct ReplicationMessage {
    pub(crate) doc: Option<AutomergeMessage>,
    /// Changes sent directly, outside Automerge's sync protocol (see [`DirectChanges`]).
    pub(crate) changes: Option<DirectChanges>,
    pub(crate) vector: Vector,
    /// The peer's vector the entries were computed from, when known.
    pub(crate) base: Option<Vector>,
    pub(crate) entries: Vec<(RecordId, KeyEntry)>,
}

/// The fast path of a live session: once a peer's heads are known and this replica holds all of
/// them, its new changes go to the peer as they are, with its heads, and the peer answers with
/// its own heads the same way. Automerge's sync messages take a walk over the whole history of
/// the document on every message received (to prune what was sent); this costs only the change.
#[derive(Debug, Clone, Default)]
pub(crate) struct DirectChanges {
    /// The sender's heads once these changes are applied.
    pub(crate) heads: Vec<ChangeHash>,
    /// The changes the peer lacks (none for an acknowledgement), each checked when decoded.
    pub(crate) changes: Vec<Change>,
}

impl ReplicationMessage {
    /// Appends the message to `out`.
    ///
    /// The message holds record keys, so pass a buffer that is wiped after use (such as
    /// `zeroize::Zeroizing<Vec<u8>>`). The whole length is reserved before anything is written:
    /// the buffer is never reallocated, which would leave a copy of the keys behind, once they
    /// are in it.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let doc = self.doc.clone().map(AutomergeMessage::encode);
        out.reserve_exact(self.encoded_len(doc.as_deref()));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        let flags = if doc.is_some() { HAS_DOC } else { 0 }
            | if self.base.is_some() { HAS_BASE } else { 0 }
            | if self.changes.is_some() {
                HAS_CHANGES
            } else {
                0
            };
        out.push(flags);
        encode_vector(out, &self.vector);
        if let Some(base) = &self.base {
            encode_vector(out, base);
        }
        encode_entries(out, &self.entries);
        if let Some(doc) = &doc {
            put_len_prefixed(out, doc);
        }
        if let Some(changes) = &self.changes {
            // At most MAX_HEADS, checked where the heads are taken.
            out.extend_from_slice(&(changes.heads.len() as u16).to_be_bytes());
            for head in &changes.heads {
                out.extend_from_slice(&head.0);
            }
            out.extend_from_slice(&(changes.changes.len() as u32).to_be_bytes());
            for change in &changes.changes {
                put_len_prefixed(out, change.raw_bytes());
            }
        }
    }

    /// The length of the encoding, given the encoded Automerge part.
    fn encoded_len(&self, doc: Option<&[u8]>) -> usize {
        HEADER_LEN
            + encoded_vector_len(&self.vector)
            + self.base.as_ref().map_or(0, encoded_vector_len)
            + encoded_entries_len(&self.entries)
            + doc.map_or(0, |d| 4 + d.len())
            + self.changes.as_ref().map_or(0, |c| {
                let changes: usize = c.changes.iter().map(|c| 4 + c.raw_bytes().len()).sum();
                2 + 32 * c.heads.len() + 4 + changes
            })
    }

    /// `Err` naming the first key-table count over [`MAX_KEY_COUNT`](crate::MAX_KEY_COUNT): in
    /// the vector, the base or an entry. Checked where the message is applied, not decoded, so
    /// the sync engine tells a refused message from a damaged envelope.
    pub(crate) fn check_counts(&self) -> Result<(), KeyCountError> {
        self.vector.check()?;
        if let Some(base) = &self.base {
            base.check()?;
        }
        check_dots(self.entries.iter().map(|(_, e)| e))
    }

    /// Reads a message from a peer.
    pub fn decode(bytes: &[u8]) -> Result<Self, ReplicationMessageError> {
        let short = || ReplicationMessageError::Malformed("ends early");
        let mut r = Reader::new(bytes);
        if r.take(MAGIC.len()).ok() != Some(MAGIC.as_slice()) {
            return Err(ReplicationMessageError::Malformed("bad magic bytes"));
        }
        let version = r.u8().map_err(|_| short())?;
        if version != VERSION {
            return Err(ReplicationMessageError::UnknownVersion(version));
        }
        let flags = r.u8().map_err(|_| short())?;
        if flags & !(HAS_DOC | HAS_BASE | HAS_CHANGES) != 0 {
            return Err(ReplicationMessageError::Malformed("unknown flags"));
        }
        let vector = decode_vector(&mut r).ok_or_else(short)?;
        let base = if flags & HAS_BASE != 0 {
            Some(decode_vector(&mut r).ok_or_else(short)?)
        } else {
            None
        };
        let entries = decode_entries(&mut r).map_err(ReplicationMessageError::Malformed)?;
        let doc = if flags & HAS_DOC != 0 {
            let len = r.u32().map_err(|_| short())? as usize;
            Some(AutomergeMessage::decode(r.take(len).map_err(|_| short())?)?)
        } else {
            None
        };
        let changes = if flags & HAS_CHANGES != 0 {
            let count = usize::from(r.u16().map_err(|_| short())?);
            if count > MAX_HEADS {
                return Err(ReplicationMessageError::Malformed("too many heads"));
            }
            let mut heads = Vec::with_capacity(count);
            for _ in 0..count {
                heads.push(ChangeHash(r.array().map_err(|_| short())?));
            }
            let count = r.u32().map_err(|_| short())? as usize;
            // Each change takes at least its 4-byte length: a count beyond that is a lie.
            if count > r.remaining().len() / 4 {
                return Err(short());
            }
            let mut changes = Vec::with_capacity(count);
            for _ in 0..count {
                let len = r.u32().map_err(|_| short())? as usize;
                let bytes = r.take(len).map_err(|_| short())?.to_vec();
                changes.push(Change::from_bytes(bytes).map_err(|_| {
                    ReplicationMessageError::Malformed("an invalid Automerge change")
                })?);
            }
            Some(DirectChanges { heads, changes })
        } else {
            None
        };
        if !r.remaining().is_empty() {
            return Err(ReplicationMessageError::Malformed("trailing bytes"));
        }
        Ok(Self {
            doc,
            changes,
            vector,
            base,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use automerge::{
        ChangeHash,
        sync::{ChunkList, Have, MessageVersion},
    };
    use proptest::{collection::vec, prelude::*, sample::Index};

    use super::*;
    use crate::{
        ids::WriterId,
        keys::SecretKey,
        keytable::{Dot, KeyState},
    };

    fn encode(message: &ReplicationMessage) -> Vec<u8> {
        let mut out = Vec::new();
        message.encode_into(&mut out);
        out
    }

    /// An Automerge message as Automerge writes them (its encoder expects sorted hashes).
    fn automerge_message(
        heads: Vec<[u8; 32]>,
        changes: Vec<Vec<u8>>,
        v2: bool,
    ) -> AutomergeMessage {
        let mut heads: Vec<ChangeHash> = heads.into_iter().map(ChangeHash).collect();
        heads.sort();
        AutomergeMessage {
            heads,
            need: Vec::new(),
            have: vec![Have::default()],
            changes: ChunkList::from(changes),
            flags: None,
            version: if v2 {
                MessageVersion::V2
            } else {
                MessageVersion::V1
            },
        }
    }

    /// A key (`key`), else the retirement of the key dotted `retired`, else a tombstone.
    fn entry(
        origin: WriterId,
        seq: u64,
        key: Option<[u8; 32]>,
        retired: Option<([u8; 16], u64)>,
    ) -> KeyEntry {
        KeyEntry {
            state: match (key, retired) {
                (Some(mut key), _) => KeyState::Live(SecretKey::from_bytes(&mut key)),
                (None, Some((origin, seq))) => KeyState::Retired(Dot {
                    origin: WriterId::from(origin),
                    seq,
                }),
                (None, None) => KeyState::Shredded,
            },
            dot: Dot { origin, seq },
        }
    }

    fn vector() -> impl Strategy<Value = Vector> {
        prop::collection::btree_map(
            any::<[u8; 16]>().prop_map(WriterId::from),
            any::<u64>(),
            0..4,
        )
        .prop_map(Vector)
    }

    prop_compose! {
        fn message()(
            doc in prop::option::of((
                vec(any::<[u8; 32]>(), 0..3),
                vec(vec(any::<u8>(), 0..48), 0..3),
                any::<bool>(),
            )),
            vector in vector(),
            base in prop::option::of(vector()),
            entries in vec(
                (
                    any::<[u8; 16]>(),
                    any::<[u8; 16]>(),
                    any::<u64>(),
                    prop::option::of(any::<[u8; 32]>()),
                    prop::option::of(any::<([u8; 16], u64)>()),
                ),
                0..4,
            ),
        ) -> ReplicationMessage {
            ReplicationMessage {
                doc: doc.map(|(heads, changes, v2)| automerge_message(heads, changes, v2)),
                changes: None,
                vector,
                base,
                entries: entries
                    .into_iter()
                    .map(|(id, origin, seq, key, retired)| {
                        (RecordId::from(id), entry(WriterId::from(origin), seq, key, retired))
                    })
                    .collect(),
            }
        }
    }

    #[test]
    fn message_round_trips_and_damage_is_refused() {
        let origin = WriterId::from([1; 16]);
        let msg = ReplicationMessage {
            doc: Some(automerge_message(
                vec![[3; 32]],
                vec![b"am".to_vec()],
                false,
            )),
            changes: Some(DirectChanges {
                heads: vec![ChangeHash([9; 32])],
                changes: a_change(),
            }),
            vector: Vector([(origin, 3)].into()),
            base: Some(Vector::default()),
            entries: vec![
                (
                    RecordId::from([2; 16]),
                    entry(origin, 3, Some([7; 32]), None),
                ),
                (
                    RecordId::from([2; 16]),
                    entry(origin, 4, None, Some(([1; 16], 2))),
                ),
            ],
        };
        let bytes = encode(&msg);
        let back = ReplicationMessage::decode(&bytes).unwrap();
        assert_eq!(back.doc, msg.doc);
        let (direct, sent) = (back.changes.unwrap(), msg.changes.unwrap());
        assert_eq!(direct.heads, sent.heads);
        let hashes = |c: &[Change]| c.iter().map(Change::hash).collect::<Vec<_>>();
        assert_eq!(hashes(&direct.changes), hashes(&sent.changes));
        assert_eq!(back.vector, msg.vector);
        assert_eq!(back.base, msg.base);
        assert_eq!(back.entries.len(), 2);
        assert!(matches!(
            back.entries[1].1.state,
            KeyState::Retired(Dot { origin: o, seq: 2 }) if o == origin
        ));
        for cut in 0..bytes.len() {
            assert!(
                ReplicationMessage::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert!(matches!(
            ReplicationMessage::decode(&v2),
            Err(ReplicationMessageError::UnknownVersion(2))
        ));
    }

    /// One real Automerge change.
    fn a_change() -> Vec<Change> {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "k", 1u64).unwrap();
        doc.commit();
        doc.get_changes(&[])
    }

    #[test]
    fn a_damaged_direct_change_is_refused_as_malformed() {
        let mut bytes = encode(&ReplicationMessage {
            doc: None,
            changes: Some(DirectChanges {
                heads: Vec::new(),
                changes: a_change(),
            }),
            vector: Vector::default(),
            base: None,
            entries: Vec::new(),
        });
        // The change's last byte, inside the part its checksum covers.
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        assert!(matches!(
            ReplicationMessage::decode(&bytes),
            Err(ReplicationMessageError::Malformed(_))
        ));
    }

    #[test]
    fn an_invalid_automerge_part_keeps_automerge_s_error() {
        let mut bytes = encode(&ReplicationMessage {
            doc: Some(automerge_message(Vec::new(), Vec::new(), false)),
            changes: None,
            vector: Vector::default(),
            base: None,
            entries: Vec::new(),
        });
        // The first byte of the Automerge part names its type.
        let first = HEADER_LEN + 2 + 4 + 4;
        bytes[first] = 0xff;
        let err = ReplicationMessage::decode(&bytes).unwrap_err();
        assert!(matches!(
            err,
            ReplicationMessageError::Automerge(ReadMessageError::WrongType { found: 0xff, .. })
        ));
        assert!(std::error::Error::source(&err).is_some());
    }

    proptest! {
        #[test]
        fn round_trips(msg in message()) {
            let bytes = encode(&msg);
            let back = ReplicationMessage::decode(&bytes).unwrap();
            prop_assert_eq!(&back.doc, &msg.doc);
            prop_assert_eq!(&back.vector, &msg.vector);
            prop_assert_eq!(&back.base, &msg.base);
            // Keys have no `PartialEq` (they are secret): compare them through their encoding.
            prop_assert_eq!(encode(&back), bytes);
        }

        #[test]
        fn encoded_len_is_the_length_written(msg in message(), prefix in vec(any::<u8>(), 0..8)) {
            let doc = msg.doc.clone().map(AutomergeMessage::encode);
            let mut out = prefix.clone();
            msg.encode_into(&mut out);
            prop_assert_eq!(out.len() - prefix.len(), msg.encoded_len(doc.as_deref()));
        }

        #[test]
        fn damaged_input_never_panics(msg in message(), at in any::<Index>(), bit in 0u8..8) {
            let bytes = encode(&msg);
            for cut in 0..bytes.len() {
                prop_assert!(ReplicationMessage::decode(&bytes[..cut]).is_err());
            }
            let mut flipped = bytes;
            let i = at.index(flipped.len());
            flipped[i] ^= 1 << bit;
            crate::fuzzing::decode_replication_message(&flipped);
        }
    }
}
