//! Chunks: what the vault stores. Each holds Automerge bytes and key-table entries of one
//! namespace, sealed with AES-256-GCM under the storage key. See FORMAT.md.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use zeroize::Zeroizing;

use crate::{
    ids::{ChunkId, ChunkKind, Namespace, RecordId, VaultId, WriterId},
    keys::SecretKey,
    keytable::{Dot, KeyEntry, KeyState, Vector},
    random::{self, EntropyError},
    response::JsonError,
    wire::{Reader, Short, put_len_prefixed},
};

const MAGIC: &[u8; 8] = b"SELFOSCK";
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes before the ciphertext.
const PREFIX_LEN: usize = MAGIC.len() + 1 + NONCE_LEN + 4;
const ENTRY_LIVE: u8 = 1;
const ENTRY_SHREDDED: u8 = 2;
const ENTRY_RETIRED: u8 = 3;
/// Bytes of a retired dot: origin [16] ‖ count u64.
const DOT_LEN: usize = 16 + 8;

/// Sealing data failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The content could not be encoded.
    #[error("could not encode: {0}")]
    Encode(#[from] JsonError),
    /// No randomness for the nonce.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The data is larger than the format can hold.
    #[error("too large to store in one piece")]
    TooLarge,
}

/// Why a chunk could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// Not a SelfOS chunk.
    #[error("not a SelfOS chunk (bad magic bytes)")]
    BadMagic,
    /// Written by an unknown format version.
    #[error("unknown chunk format version {found} (this build reads version {VERSION})")]
    UnknownVersion {
        /// The version found.
        found: u8,
    },
    /// The chunk is shorter than it says: a write was cut off or the file was truncated.
    #[error("truncated: {available} of {needed} bytes present")]
    Truncated {
        /// Bytes the chunk says it has.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// Bytes after the end of the chunk.
    #[error("{extra} unexpected bytes after the end of the chunk")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// Authentication failed: the bytes were changed, or the chunk was moved from another
    /// namespace, vault or name.
    #[error("tampered or corrupted: authentication failed")]
    Tampered,
    /// Authenticated but not well formed (a bug in the writer).
    #[error("malformed contents: {0}")]
    Malformed(&'static str),
}

/// Bytes of one key entry without its key: record, origin, count, tag.
const ENTRY_MIN_LEN: usize = 16 + 16 + 8 + 1;

/// A chunk's plaintext: document bytes, key-table entries and the key table's version vector.
#[derive(Debug, Default)]
pub(crate) struct ChunkBody {
    pub(crate) keys: Vec<(RecordId, KeyEntry)>,
    pub(crate) vector: Vector,
    pub(crate) doc: Vec<u8>,
}

/// Appends a version vector: count u16, then (writer [16], count u64) pairs. Past `u16::MAX`
/// writers the rest are left out: a vector that claims less only makes peers send entries again.
pub(crate) fn encode_vector(out: &mut Vec<u8>, vector: &Vector) {
    let count = u16::try_from(vector.0.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for (origin, seq) in vector.0.iter().take(usize::from(count)) {
        out.extend_from_slice(origin.as_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
    }
}

/// The number of bytes [`encode_vector`] appends.
pub(crate) fn encoded_vector_len(vector: &Vector) -> usize {
    2 + vector.0.len().min(usize::from(u16::MAX)) * (16 + 8)
}

pub(crate) fn decode_vector(r: &mut Reader<'_>) -> Option<Vector> {
    let count = usize::from(r.u16().ok()?);
    let mut vector = Vector::default();
    for _ in 0..count {
        let origin = WriterId::from(r.array().ok()?);
        vector.0.insert(origin, u64::from_be_bytes(r.array().ok()?));
    }
    Some(vector)
}

/// Appends key entries: count u32, then record [16] ‖ origin [16] ‖ count u64 ‖ tag u8
/// ‖ (tag 1: key [32] | tag 2: nothing | tag 3: the retired key's origin [16] ‖ count u64).
pub(crate) fn encode_entries(out: &mut Vec<u8>, entries: &[(RecordId, KeyEntry)]) {
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (id, entry) in entries {
        out.extend_from_slice(id.as_bytes());
        encode_dot(out, &entry.dot);
        match &entry.state {
            KeyState::Live(key) => {
                out.push(ENTRY_LIVE);
                out.extend_from_slice(key.expose());
            }
            KeyState::Shredded => out.push(ENTRY_SHREDDED),
            KeyState::Retired(dot) => {
                out.push(ENTRY_RETIRED);
                encode_dot(out, dot);
            }
        }
    }
}

fn encode_dot(out: &mut Vec<u8>, dot: &Dot) {
    out.extend_from_slice(dot.origin.as_bytes());
    out.extend_from_slice(&dot.seq.to_be_bytes());
}

/// The number of bytes [`encode_entries`] appends.
pub(crate) fn encoded_entries_len(entries: &[(RecordId, KeyEntry)]) -> usize {
    let tails: usize = entries
        .iter()
        .map(|(_, e)| match e.state {
            KeyState::Live(_) => 32,
            KeyState::Shredded => 0,
            KeyState::Retired(_) => DOT_LEN,
        })
        .sum();
    4 + entries.len() * ENTRY_MIN_LEN + tails
}

pub(crate) fn decode_entries(
    r: &mut Reader<'_>,
) -> Result<Vec<(RecordId, KeyEntry)>, &'static str> {
    let bad = |_| "key entries end early";
    let count = r.u32().map_err(bad)? as usize;
    // Refuse counts the input cannot hold before allocating for them.
    if count > r.remaining().len() / ENTRY_MIN_LEN {
        return Err("key count exceeds contents");
    }
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        let id = RecordId::from(r.array().map_err(bad)?);
        let dot = decode_dot(r).map_err(bad)?;
        let state = match r.u8().map_err(bad)? {
            ENTRY_LIVE => {
                let mut raw = Zeroizing::new(r.array::<32>().map_err(bad)?);
                KeyState::Live(SecretKey::from_bytes(&mut raw))
            }
            ENTRY_SHREDDED => KeyState::Shredded,
            ENTRY_RETIRED => KeyState::Retired(decode_dot(r).map_err(bad)?),
            _ => return Err("unknown key entry tag"),
        };
        keys.push((id, KeyEntry { state, dot }));
    }
    Ok(keys)
}

fn decode_dot(r: &mut Reader<'_>) -> Result<Dot, Short> {
    let origin = WriterId::from(r.array()?);
    let seq = u64::from_be_bytes(r.array()?);
    Ok(Dot { origin, seq })
}

/// Binds a chunk to its vault, namespace and name, so a chunk copied elsewhere fails to open.
fn aad_tail(vault: &VaultId, ns: &Namespace, id: &ChunkId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(vault.as_bytes());
    aad.push(ns.as_str().len() as u8);
    aad.extend_from_slice(ns.as_str().as_bytes());
    aad.push(match id.kind {
        ChunkKind::Snapshot => 1,
        ChunkKind::Incremental => 2,
    });
    aad.extend_from_slice(&id.nonce);
    aad
}

impl ChunkBody {
    pub(crate) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            encoded_vector_len(&self.vector) + encoded_entries_len(&self.keys) + 4 + self.doc.len(),
        ));
        encode_vector(&mut out, &self.vector);
        encode_entries(&mut out, &self.keys);
        put_len_prefixed(&mut out, &self.doc);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, ChunkError> {
        let mut r = Reader::new(bytes);
        let vector =
            decode_vector(&mut r).ok_or(ChunkError::Malformed("version vector ends early"))?;
        let keys = decode_entries(&mut r).map_err(ChunkError::Malformed)?;
        let doc_len =
            r.u32()
                .map_err(|_| ChunkError::Malformed("contents end early"))? as usize;
        let doc = r
            .take(doc_len)
            .map_err(|_| ChunkError::Malformed("document ends early"))?
            .to_vec();
        if !r.remaining().is_empty() {
            return Err(ChunkError::Malformed("bytes after the document"));
        }
        Ok(Self { keys, vector, doc })
    }

    /// Encrypts the body into a chunk named `id` in namespace `ns` of `vault`.
    pub(crate) fn seal(
        &self,
        key: &SecretKey,
        vault: &VaultId,
        ns: &Namespace,
        id: &ChunkId,
    ) -> Result<Vec<u8>, SealError> {
        seal_at_rest(MAGIC, key, &aad_tail(vault, ns, id), &self.encode())
    }

    /// Checks and decrypts a chunk.
    pub(crate) fn open(
        bytes: &[u8],
        key: &SecretKey,
        vault: &VaultId,
        ns: &Namespace,
        id: &ChunkId,
    ) -> Result<Self, ChunkError> {
        Self::decode(&open_at_rest(MAGIC, key, &aad_tail(vault, ns, id), bytes)?)
    }
}

/// The at-rest envelope shared by chunks and saved sync state:
/// `magic [8] ‖ version ‖ nonce [12] ‖ length u32 ‖ AES-256-GCM ciphertext`, with associated
/// data `magic ‖ version ‖ aad_tail`.
pub(crate) fn seal_at_rest(
    magic: &[u8; 8],
    key: &SecretKey,
    aad_tail: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, SealError> {
    if plain.len() > u32::MAX as usize - TAG_LEN {
        return Err(SealError::TooLarge);
    }
    let nonce_bytes = random::bytes::<NONCE_LEN>()?;
    let cipher = Aes256Gcm::new(key.expose().into());
    // AES-GCM fails only for inputs over 64 GiB, refused above.
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: plain,
                aad: &full_aad(magic, aad_tail),
            },
        )
        .map_err(|_| SealError::TooLarge)?;
    let mut out = Vec::with_capacity(PREFIX_LEN + sealed.len());
    out.extend_from_slice(magic);
    out.push(VERSION);
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Inverse of [`seal_at_rest`]; names every kind of damage.
pub(crate) fn open_at_rest(
    magic: &[u8; 8],
    key: &SecretKey,
    aad_tail: &[u8],
    bytes: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ChunkError> {
    let short = |needed: usize| ChunkError::Truncated {
        needed,
        available: bytes.len(),
    };
    if bytes.len() < magic.len() + 1 {
        return Err(short(PREFIX_LEN + TAG_LEN));
    }
    if &bytes[..magic.len()] != magic {
        return Err(ChunkError::BadMagic);
    }
    if bytes[magic.len()] != VERSION {
        return Err(ChunkError::UnknownVersion {
            found: bytes[magic.len()],
        });
    }
    let mut r = Reader::new(&bytes[magic.len() + 1..]);
    let nonce: [u8; NONCE_LEN] = r.array().map_err(|_| short(PREFIX_LEN + TAG_LEN))?;
    let len = r.u32().map_err(|_| short(PREFIX_LEN + TAG_LEN))? as usize;
    let sealed = r
        .take(len)
        .map_err(|_| short(PREFIX_LEN.saturating_add(len)))?;
    if !r.remaining().is_empty() {
        return Err(ChunkError::TrailingBytes {
            extra: r.remaining().len(),
        });
    }
    let cipher = Aes256Gcm::new(key.expose().into());
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: sealed,
                aad: &full_aad(magic, aad_tail),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| ChunkError::Tampered)
}

fn full_aad(magic: &[u8; 8], tail: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(magic.len() + 1 + tail.len());
    aad.extend_from_slice(magic);
    aad.push(VERSION);
    aad.extend_from_slice(tail);
    aad
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ctx() -> (SecretKey, VaultId, Namespace, ChunkId) {
        (
            SecretKey::from_bytes(&mut [7; 32]),
            VaultId::from([1; 16]),
            Namespace::new("chatgpt").unwrap(),
            ChunkId {
                kind: ChunkKind::Incremental,
                nonce: [3; 16],
            },
        )
    }

    fn dot(seq: u64) -> Dot {
        Dot {
            origin: WriterId::from([4; 16]),
            seq,
        }
    }

    fn body() -> ChunkBody {
        ChunkBody {
            keys: vec![
                (
                    RecordId::from([5; 16]),
                    KeyEntry {
                        state: KeyState::Live(SecretKey::from_bytes(&mut [6; 32])),
                        dot: dot(1),
                    },
                ),
                (
                    RecordId::from([8; 16]),
                    KeyEntry {
                        state: KeyState::Shredded,
                        dot: dot(2),
                    },
                ),
                (
                    RecordId::from([5; 16]),
                    KeyEntry {
                        state: KeyState::Retired(dot(1)),
                        dot: dot(3),
                    },
                ),
            ],
            vector: Vector([(WriterId::from([4; 16]), 3)].into()),
            doc: b"automerge bytes".to_vec(),
        }
    }

    #[test]
    fn seal_then_open() {
        let (key, vault, ns, id) = ctx();
        let sealed = body().seal(&key, &vault, &ns, &id).unwrap();
        let back = ChunkBody::open(&sealed, &key, &vault, &ns, &id).unwrap();
        assert_eq!(back.doc, b"automerge bytes");
        assert_eq!(back.keys.len(), 3);
        assert!(matches!(&back.keys[0].1.state, KeyState::Live(k) if k.expose() == &[6; 32]));
        assert!(back.keys[1].1.is_shredded());
        assert_eq!(back.keys[1].1.dot, dot(2));
        assert!(matches!(back.keys[2].1.state, KeyState::Retired(d) if d == dot(1)));
        assert_eq!(back.keys[2].1.dot, dot(3));
        assert_eq!(back.vector, body().vector);
        // Nothing of the plaintext is visible.
        assert!(!sealed.windows(15).any(|w| w == b"automerge bytes"));
    }

    /// The bytes of each kind of entry, as FORMAT.md gives them; an unknown tag is refused by
    /// name, and so is a retirement cut short.
    #[test]
    fn entry_bytes_are_as_specified() {
        let entries = body().keys;
        let mut out = Vec::new();
        encode_entries(&mut out, &entries);
        let mut expected = 3u32.to_be_bytes().to_vec();
        let head = |record: u8, seq: u64, tag: u8| {
            let mut b = vec![record; 16];
            b.extend([4; 16]);
            b.extend(seq.to_be_bytes());
            b.push(tag);
            b
        };
        expected.extend(head(5, 1, 1));
        expected.extend([6; 32]);
        expected.extend(head(8, 2, 2));
        expected.extend(head(5, 3, 3));
        expected.extend([4; 16]);
        expected.extend(1u64.to_be_bytes());
        assert_eq!(out, expected);
        assert_eq!(encoded_entries_len(&entries), out.len());

        let back = decode_entries(&mut Reader::new(&out)).unwrap();
        let mut again = Vec::new();
        encode_entries(&mut again, &back);
        assert_eq!(again, out);

        let retired_tag = out.len() - DOT_LEN - 1;
        let mut unknown = out.clone();
        unknown[retired_tag] = 4;
        assert_eq!(
            decode_entries(&mut Reader::new(&unknown)).unwrap_err(),
            "unknown key entry tag"
        );
        assert_eq!(
            decode_entries(&mut Reader::new(&out[..out.len() - 1])).unwrap_err(),
            "key entries end early"
        );
    }

    #[test]
    fn moved_chunk_fails_to_open() {
        let (key, vault, ns, id) = ctx();
        let sealed = body().seal(&key, &vault, &ns, &id).unwrap();
        let other_ns = Namespace::new("claude").unwrap();
        let other_id = ChunkId {
            kind: ChunkKind::Snapshot,
            nonce: [3; 16],
        };
        let other_vault = VaultId::from([2; 16]);
        assert_eq!(
            ChunkBody::open(&sealed, &key, &vault, &other_ns, &id).unwrap_err(),
            ChunkError::Tampered
        );
        assert_eq!(
            ChunkBody::open(&sealed, &key, &vault, &ns, &other_id).unwrap_err(),
            ChunkError::Tampered
        );
        assert_eq!(
            ChunkBody::open(&sealed, &key, &other_vault, &ns, &id).unwrap_err(),
            ChunkError::Tampered
        );
    }

    #[test]
    fn damage_is_named() {
        let (key, vault, ns, id) = ctx();
        let sealed = body().seal(&key, &vault, &ns, &id).unwrap();
        let open = |b: &[u8]| ChunkBody::open(b, &key, &vault, &ns, &id).unwrap_err();
        assert!(matches!(
            open(&sealed[..sealed.len() - 1]),
            ChunkError::Truncated { .. }
        ));
        assert!(matches!(open(&sealed[..5]), ChunkError::Truncated { .. }));
        let mut v9 = sealed.clone();
        v9[8] = 9;
        assert_eq!(open(&v9), ChunkError::UnknownVersion { found: 9 });
        let mut magic = sealed.clone();
        magic[0] = b'X';
        assert_eq!(open(&magic), ChunkError::BadMagic);
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(open(&longer), ChunkError::TrailingBytes { extra: 1 });
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(open(&flipped), ChunkError::Tampered);
    }

    proptest! {
        #[test]
        fn never_panics_on_damage(cut in 0usize..200, flip in 0usize..200, bit in 0u8..8) {
            let (key, vault, ns, id) = ctx();
            let mut sealed = body().seal(&key, &vault, &ns, &id).unwrap();
            let i = flip % sealed.len();
            sealed[i] ^= 1 << bit;
            prop_assert!(ChunkBody::open(&sealed, &key, &vault, &ns, &id).is_err());
            let cut = cut % sealed.len();
            prop_assert!(ChunkBody::open(&sealed[..cut], &key, &vault, &ns, &id).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let (key, vault, ns, id) = ctx();
            let _ = ChunkBody::open(&bytes, &key, &vault, &ns, &id);
            let _ = ChunkBody::decode(&bytes);
        }

        #[test]
        fn round_trip(doc in proptest::collection::vec(any::<u8>(), 0..500), n in 0usize..20) {
            let (key, vault, ns, id) = ctx();
            // Tombstones and retirements alternate.
            let state = |i: u64| if i.is_multiple_of(2) { KeyState::Shredded } else { KeyState::Retired(dot(i - 1)) };
            let body = ChunkBody {
                keys: (0..n)
                    .map(|i| (RecordId::from([i as u8; 16]), KeyEntry { state: state(i as u64), dot: dot(i as u64) }))
                    .collect(),
                vector: Vector::default(),
                doc: doc.clone(),
            };
            let sealed = body.seal(&key, &vault, &ns, &id).unwrap();
            let entries = n * ENTRY_MIN_LEN + n / 2 * DOT_LEN;
            prop_assert_eq!(sealed.len(), PREFIX_LEN + 2 + 4 + entries + 4 + doc.len() + TAG_LEN);
            let back = ChunkBody::open(&sealed, &key, &vault, &ns, &id).unwrap();
            prop_assert_eq!(back.keys.len(), n);
            let (again, sent) = (back.encode(), body.encode());
            prop_assert_eq!(again.as_slice(), sent.as_slice());
            prop_assert_eq!(back.doc, doc);
        }
    }
}
