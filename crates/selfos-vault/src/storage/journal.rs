//! A working copy in memory that remembers every change, for stores that can only commit
//! asynchronously (IndexedDB in the browser).
//!
//! The vault's store interface is synchronous, and IndexedDB is not. So the vault writes into
//! this journal, which answers reads from memory at once, and the caller takes the journal's
//! pending changes after each operation and commits them to durable storage in one atomic
//! transaction. An operation counts as saved only once that commit is done.
//!
//! Every entry is named by a [`StorageKey`], whose text form matches the [`FileStore`] layout
//! (`header`, `chunks/<namespace>/<chunk>`, `peers/<name>`).
//!
//! [`FileStore`]: super::FileStore

use std::{fmt, str::FromStr};

use super::{CHUNKS, ChunkStore, HEADER, MemoryStore, PEERS, StoreError};
use crate::ids::{ChunkId, Namespace};

/// The name of one stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageKey {
    /// The vault header.
    Header,
    /// One chunk of a namespace.
    Chunk(Namespace, ChunkId),
    /// Saved sync state (`<peer hex>.<namespace>`).
    Peer(String),
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header => f.write_str(HEADER),
            Self::Chunk(ns, id) => write!(f, "{CHUNKS}/{ns}/{id}"),
            Self::Peer(name) => write!(f, "{PEERS}/{name}"),
        }
    }
}

/// A key that is not one of the journal's layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised storage key {0:?}")]
pub struct UnknownStorageKey(pub String);

impl FromStr for StorageKey {
    type Err = UnknownStorageKey;

    fn from_str(s: &str) -> Result<Self, UnknownStorageKey> {
        let bad = || UnknownStorageKey(s.to_owned());
        let mut parts = s.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(HEADER), None, ..) => Ok(Self::Header),
            (Some(CHUNKS), Some(ns), Some(id), None) => Ok(Self::Chunk(
                Namespace::new(ns).map_err(|_| bad())?,
                id.parse().map_err(|_| bad())?,
            )),
            (Some(PEERS), Some(name), None, _) if !name.is_empty() => Ok(Self::Peer(name.into())),
            _ => Err(bad()),
        }
    }
}

/// One change for the durable store: put `value` under `key`, or delete `key` when `value` is
/// `None`. Apply them in order.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreOp {
    /// The entry.
    pub key: StorageKey,
    /// Its new bytes, or `None` to delete it.
    pub value: Option<Vec<u8>>,
}

impl fmt::Debug for StoreOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lengths only: the bytes are ciphertext, but a log has no use for them.
        f.debug_struct("StoreOp")
            .field("key", &self.key.to_string())
            .field("len", &self.value.as_ref().map(Vec::len))
            .finish()
    }
}

/// A [`MemoryStore`] that also records each change until [`JournalStore::take_pending`].
#[derive(Debug, Default)]
pub struct JournalStore {
    current: MemoryStore,
    pending: Vec<StoreOp>,
}

impl JournalStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding what a durable store read back, with nothing pending. Entries whose key
    /// is not recognised are left out and returned, so the caller can report them.
    pub fn load(entries: impl IntoIterator<Item = (String, Vec<u8>)>) -> (Self, Vec<String>) {
        let mut store = Self::new();
        let mut unrecognised = Vec::new();
        for (key, value) in entries {
            match key.parse() {
                Ok(key) => store.apply(&key, Some(&value)),
                Err(_) => unrecognised.push(key),
            }
        }
        store.pending.clear();
        (store, unrecognised)
    }

    /// Every change since the last call, oldest first.
    pub fn take_pending(&mut self) -> Vec<StoreOp> {
        std::mem::take(&mut self.pending)
    }

    /// Whether changes wait to be taken.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The working copy.
    pub fn current(&self) -> &MemoryStore {
        &self.current
    }

    fn apply(&mut self, key: &StorageKey, value: Option<&[u8]>) {
        // The memory store cannot fail; the results are kept only to satisfy its signature.
        let _ = match (key, value) {
            (StorageKey::Header, Some(v)) => self.current.write_header(v),
            (StorageKey::Chunk(ns, id), Some(v)) => self.current.write(ns, id, v),
            (StorageKey::Chunk(ns, id), None) => self.current.delete(ns, id),
            (StorageKey::Peer(name), Some(v)) => self.current.write_peer_state(name, v),
            // Nothing deletes a header or sync state.
            (StorageKey::Header | StorageKey::Peer(_), None) => Ok(()),
        };
        self.pending.push(StoreOp {
            key: key.clone(),
            value: value.map(<[u8]>::to_vec),
        });
    }
}

impl ChunkStore for JournalStore {
    fn read_header(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.current.read_header()
    }

    fn write_header(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.apply(&StorageKey::Header, Some(bytes));
        Ok(())
    }

    fn namespaces(&self) -> Result<Vec<Namespace>, StoreError> {
        self.current.namespaces()
    }

    fn list(&self, ns: &Namespace) -> Result<Vec<ChunkId>, StoreError> {
        self.current.list(ns)
    }

    fn read(&self, ns: &Namespace, id: &ChunkId) -> Result<Vec<u8>, StoreError> {
        self.current.read(ns, id)
    }

    fn write(&mut self, ns: &Namespace, id: &ChunkId, bytes: &[u8]) -> Result<(), StoreError> {
        self.apply(&StorageKey::Chunk(ns.clone(), *id), Some(bytes));
        Ok(())
    }

    fn delete(&mut self, ns: &Namespace, id: &ChunkId) -> Result<(), StoreError> {
        self.apply(&StorageKey::Chunk(ns.clone(), *id), None);
        Ok(())
    }

    fn read_peer_state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.current.read_peer_state(name)
    }

    fn write_peer_state(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.apply(&StorageKey::Peer(name.to_owned()), Some(bytes));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Answer, CardKind, Content, KdfParams, Passphrase, Status, Vault, ids::ChunkKind};

    fn pass() -> Passphrase {
        Passphrase::new("journal test".into())
    }

    fn content(text: &str) -> Content {
        Content {
            card_id: "intent.include".into(),
            card_kind: CardKind::Intent,
            answer: Some(Answer::Text(text.into())),
            agent: "chatgpt".into(),
            origin: "test".into(),
            created_ms: 1_700_000_000_000,
            wait_ms: 5_000,
            status: Status::Answered,
            context: Default::default(),
        }
    }

    /// What a durable store holds after applying `ops` in order.
    fn replay(durable: &mut Vec<(String, Vec<u8>)>, ops: Vec<StoreOp>) {
        for op in ops {
            let key = op.key.to_string();
            durable.retain(|(k, _)| *k != key);
            if let Some(v) = op.value {
                durable.push((key, v));
            }
        }
    }

    #[test]
    fn keys_round_trip_and_match_the_folder_layout() {
        let ns = Namespace::new("claude").unwrap();
        let id = ChunkId::random(ChunkKind::Incremental).unwrap();
        for key in [
            StorageKey::Header,
            StorageKey::Chunk(ns.clone(), id),
            StorageKey::Peer("00ff.claude".into()),
        ] {
            assert_eq!(key.to_string().parse::<StorageKey>(), Ok(key));
        }
        assert_eq!(
            StorageKey::Chunk(ns, id).to_string(),
            format!("chunks/claude/{id}")
        );
        for bad in [
            "",
            "headers",
            "chunks/claude",
            "chunks/Claude/x",
            "chunks/claude/nope",
            "peers/",
            "peers/a/b",
        ] {
            assert!(bad.parse::<StorageKey>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn replayed_changes_reopen_to_the_same_vault() {
        let kdf = KdfParams::new(64, 1, 1).unwrap();
        let mut vault = Vault::create(JournalStore::new(), &pass(), kdf).unwrap();
        let ns = Namespace::new("chatgpt").unwrap();
        let mut durable = Vec::new();
        let mut ids = Vec::new();
        for i in 0..40 {
            ids.push(
                vault
                    .record(&ns, content(&format!("answer {i}")), 1_700_000_000_000 + i)
                    .unwrap(),
            );
            // Compaction writes a snapshot and deletes what it covered: replay must follow.
            if i % 10 == 9 {
                vault.maintain().unwrap();
            }
            let ops = vault.store_mut().take_pending();
            assert!(!ops.is_empty(), "a write changed nothing to commit");
            replay(&mut durable, ops);
        }
        vault.delete(&ids[3], 1_700_000_001_000).unwrap();
        replay(&mut durable, vault.store_mut().take_pending());
        assert!(!vault.store().has_pending());

        let (store, unrecognised) = JournalStore::load(durable.clone());
        assert!(unrecognised.is_empty());
        assert!(!store.has_pending(), "loading is not a change");
        assert_eq!(store.current(), vault.store().current());
        let reopened = Vault::open(store, &pass()).unwrap();
        assert_eq!(reopened.list(None).responses, vault.list(None).responses);
        assert_eq!(reopened.list(None).responses.len(), 39);
    }

    #[test]
    fn unrecognised_entries_are_returned_not_loaded() {
        let (store, unrecognised) = JournalStore::load([
            ("header".to_owned(), b"bytes".to_vec()),
            ("something/else".to_owned(), b"x".to_vec()),
        ]);
        assert_eq!(unrecognised, ["something/else"]);
        assert_eq!(store.read_header().unwrap(), Some(b"bytes".to_vec()));
    }
}
