//! One namespace: its Automerge document, its key table, and the chunks that store them.
//!
//! Storage follows automerge-repo's rule: each write appends an incremental chunk; once the
//! incrementals add up to the size of the snapshot, they are compacted into a new snapshot, and
//! only the chunks that went into it are deleted.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::OnceLock,
};

use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, transaction::Transactable,
};

use crate::{
    chunk::{ChunkBody, ChunkError},
    error::{DocumentError, ReadError, WriteError},
    ids::{ChunkId, ChunkKind, Namespace, RecordId, VaultId, WriterId},
    keys::SecretKey,
    keytable::{KeyCountError, KeyEntry, KeyState, KeyTable, Vector},
    storage::ChunkStore,
};

/// Compaction waits until incrementals reach at least this many bytes, so tiny documents do
/// not rewrite their snapshot on every write.
const MIN_COMPACT_BYTES: usize = 1024;
/// Compaction is also due at this many incrementals: opening replays every incremental change,
/// about a millisecond each on a document of 10,000 records, so the count bounds the time to open.
const DUE_INCREMENTALS: usize = 32;
/// A write compacts on the spot past this many incrementals, for callers that never run
/// `Vault::maintain`. Compacting a large document takes tens of milliseconds, which is why it
/// normally happens off the write path.
const FORCE_INCREMENTALS: usize = 256;

/// The map, at the document root, that holds the records (or, in `settings`, the policies).
pub(crate) const RECORDS: &str = "records";

/// A chunk that could not be read. It stays in storage untouched and blocks compaction of its
/// namespace, so nothing is lost that a repair could still recover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedChunk {
    /// Its namespace.
    pub namespace: Namespace,
    /// Its name in the store.
    pub chunk: ChunkId,
    /// What is wrong with it.
    pub reason: String,
}

/// Everything the chunk layer needs to seal and open a namespace's chunks.
pub(crate) struct ChunkSealer<'a> {
    pub(crate) key: &'a SecretKey,
    pub(crate) vault: &'a VaultId,
}

/// The map, at the document root, whose maps hold the records: each record in the one named by
/// the first byte of its id, in hex. Automerge applies a change from another replica by walking
/// the map it writes to from the start, so one flat map of records made every received answer
/// cost time in proportion to the namespace; a shard holds a 256th of it.
pub(crate) const SHARDS: &str = "shards";

/// Every replica starts every namespace from the same first changes (same actors, times and
/// operations, hence the same hashes), so `records` and every shard are one object everywhere.
/// Were each replica to create them, concurrent creations would conflict and hide each other's
/// records. The second change came with the shards; documents written before it get it on load.
pub(crate) fn genesis() -> &'static [u8] {
    static GENESIS: OnceLock<Vec<u8>> = OnceLock::new();
    GENESIS.get_or_init(build_genesis)
}

/// The heads of a namespace that holds nothing but [`genesis`].
pub(crate) fn genesis_heads() -> Vec<ChangeHash> {
    static HEADS: OnceLock<Vec<ChangeHash>> = OnceLock::new();
    HEADS
        .get_or_init(|| {
            let mut doc = AutoCommit::new();
            // The genesis bytes are built above and always load.
            let _ = doc.load_incremental(genesis());
            doc.get_heads()
        })
        .clone()
}

fn build_genesis() -> Vec<u8> {
    let at_zero = || automerge::transaction::CommitOptions::default().with_time(0);
    let mut doc = AutoCommit::new().with_actor(ActorId::from(b"selfos/genesis/1"));
    // Writing to a fresh document cannot fail.
    let _ = doc.put(ROOT, "schema", 1u64);
    let _ = doc.put_object(ROOT, RECORDS, ObjType::Map);
    doc.commit_with(at_zero());
    doc.set_actor(ActorId::from(b"selfos/genesis/2"));
    let _ = doc.put(ROOT, "schema", 2u64);
    if let Ok(shards) = doc.put_object(ROOT, SHARDS, ObjType::Map) {
        for byte in 0..=u8::MAX {
            let _ = doc.put_object(&shards, shard_name(byte), ObjType::Map);
        }
    }
    doc.commit_with(at_zero());
    doc.save()
}

/// The map at `key` in `obj`, if there is one.
fn map_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((automerge::Value::Object(ObjType::Map), id))) => Some(id),
        _ => None,
    }
}

/// The key of the shard that holds records whose id starts with `byte`.
fn shard_name(byte: u8) -> String {
    format!("{byte:02x}")
}

#[derive(Debug)]
pub(crate) struct NamespaceDoc {
    pub(crate) ns: Namespace,
    pub(crate) doc: AutoCommit,
    pub(crate) keys: KeyTable,
    /// The flat map of records that documents written before the shards hold (and, in
    /// `settings`, the map of policies).
    pub(crate) records: ObjId,
    /// The shards, by the first byte of the ids they hold.
    shards: Vec<ObjId>,
    /// Names the changes and key entries made to this document while it is loaded: its
    /// Automerge actor and the origin of its key table's new dots.
    pub(crate) writer: WriterId,
    /// Heads already in storage; the next incremental chunk holds what came after.
    persisted: Vec<ChangeHash>,
    /// The key table's vector as storage holds it; the next incremental chunk carries only the
    /// counts raised since, so a write costs the same however many writers the vault has seen.
    persisted_vector: Vector,
    snapshot: Option<(ChunkId, usize)>,
    incrementals: Vec<(ChunkId, usize)>,
    /// Chunks that could not be read: left alone, and they block compaction.
    damaged: BTreeSet<ChunkId>,
}

/// Whether a compaction ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compaction {
    Done,
    NotDue,
    /// Skipped because damaged chunks would have been left out.
    BlockedByDamage,
}

impl NamespaceDoc {
    /// Reads every chunk of `ns`. Damaged chunks are reported, not fatal.
    pub(crate) fn load(
        store: &impl ChunkStore,
        ns: &Namespace,
        sealer: &ChunkSealer<'_>,
        writer: WriterId,
        damaged: &mut Vec<DamagedChunk>,
    ) -> Result<Self, ReadError> {
        let mut ids = store.list(ns)?;
        // Snapshots first: the first load into an empty document takes the fast path.
        ids.sort_by_key(|id| (id.kind != ChunkKind::Snapshot, id.nonce));
        let mut doc = AutoCommit::new();
        let mut keys = KeyTable::default();
        let mut bad = BTreeSet::new();
        let read = read_chunks(
            &mut doc, &mut keys, store, ns, ids, sealer, &mut bad, damaged,
        )?;
        let mut snapshot = None;
        let mut incrementals = Vec::new();
        for entry in read {
            match (entry.0.kind, snapshot) {
                (ChunkKind::Snapshot, None) => snapshot = Some(entry),
                // A second snapshot (left by an interrupted compaction) is compacted away like
                // an incremental.
                _ => incrementals.push(entry),
            }
        }
        doc.load_incremental(genesis())
            .map_err(|e| ReadError::Document {
                namespace: ns.clone(),
                source: e.into(),
            })?;
        doc.set_actor(ActorId::from(writer.as_bytes()));
        let missing = || ReadError::Document {
            namespace: ns.clone(),
            source: DocumentError::NoRecords,
        };
        let records = map_at(&doc, &ROOT, RECORDS).ok_or_else(missing)?;
        let shards_map = map_at(&doc, &ROOT, SHARDS).ok_or_else(missing)?;
        let shards = (0..=u8::MAX)
            .map(|byte| map_at(&doc, &shards_map, &shard_name(byte)).ok_or_else(missing))
            .collect::<Result<_, _>>()?;
        let persisted = doc.get_heads();
        let persisted_vector = keys.vector().clone();
        Ok(Self {
            ns: ns.clone(),
            doc,
            keys,
            records,
            shards,
            writer,
            persisted,
            persisted_vector,
            snapshot,
            incrementals,
            damaged: bad,
        })
    }

    /// Reads the chunks another process added to the store since this one last looked;
    /// returns whether anything changed.
    pub(crate) fn refresh(
        &mut self,
        store: &impl ChunkStore,
        sealer: &ChunkSealer<'_>,
        damaged: &mut Vec<DamagedChunk>,
    ) -> Result<bool, ReadError> {
        let known: BTreeSet<ChunkId> = self
            .snapshot
            .iter()
            .chain(&self.incrementals)
            .map(|(id, _)| *id)
            .chain(self.damaged.iter().copied())
            .collect();
        let new: Vec<ChunkId> = store
            .list(&self.ns)?
            .into_iter()
            .filter(|id| !known.contains(id))
            .collect();
        if new.is_empty() {
            return Ok(false);
        }
        let heads = self.doc.get_heads();
        let read = read_chunks(
            &mut self.doc,
            &mut self.keys,
            store,
            &self.ns,
            new,
            sealer,
            &mut self.damaged,
            damaged,
        )?;
        self.incrementals.extend(read);
        // What another process stored needs no storing again.
        if self.persisted == heads {
            self.persisted = self.doc.get_heads();
        }
        // The vector is raised only by writes, which store it before they return: all of it is
        // in storage, this replica's chunks and the other process's together.
        self.persisted_vector = self.keys.vector().clone();
        Ok(true)
    }

    /// The heads already in storage.
    pub(crate) fn stored_heads(&self) -> &[ChangeHash] {
        &self.persisted
    }

    /// The shard that holds `record`.
    fn shard(&self, record: &RecordId) -> &ObjId {
        &self.shards[usize::from(record.as_bytes()[0])]
    }

    /// The concurrent values of one record, as stored bytes. Empty if it has none.
    pub(crate) fn values(&self, record: &RecordId) -> Vec<Vec<u8>> {
        let key = record.to_string();
        [&self.records, self.shard(record)]
            .into_iter()
            .flat_map(|map| self.doc.get_all(map, &key).unwrap_or_default())
            .filter_map(|(value, _)| match value {
                automerge::Value::Scalar(s) => match s.as_ref() {
                    automerge::ScalarValue::Bytes(b) => Some(b.clone()),
                    _ => None,
                },
                automerge::Value::Object(_) => None,
            })
            .collect()
    }

    /// Writes `value` as the record's value, over every value this replica holds for it. A
    /// record from before the shards moves into its shard.
    pub(crate) fn put_value(
        &mut self,
        record: &RecordId,
        value: Vec<u8>,
    ) -> Result<(), automerge::AutomergeError> {
        let key = record.to_string();
        if self.doc.get(&self.records, &key)?.is_some() {
            self.doc.delete(&self.records, &key)?;
        }
        let shard = self.shard(record).clone();
        self.doc.put(&shard, key, value)
    }

    /// Deletes every value of the record this replica holds.
    pub(crate) fn delete_values(
        &mut self,
        record: &RecordId,
    ) -> Result<(), automerge::AutomergeError> {
        let key = record.to_string();
        for map in [self.records.clone(), self.shard(record).clone()] {
            if self.doc.get(&map, &key)?.is_some() {
                self.doc.delete(&map, &key)?;
            }
        }
        Ok(())
    }

    /// Why a record that holds values has no key here: pending until the key arrives, unless a
    /// damaged chunk of this namespace may be what held it.
    pub(crate) fn missing_key(&self) -> crate::body::RecordError {
        if self.damaged.is_empty() {
            crate::body::RecordError::KeyPending
        } else {
            crate::body::RecordError::KeyMissing
        }
    }

    /// A new key-table entry for `record`, dotted by this document's writer. Returns it for
    /// storage.
    pub(crate) fn insert_key(
        &mut self,
        record: RecordId,
        state: KeyState,
    ) -> Result<KeyEntry, KeyCountError> {
        self.keys.insert_local(self.writer, record, state)
    }

    /// Whether the document holds every change in `heads`.
    pub(crate) fn holds_all(&self, heads: &[ChangeHash]) -> bool {
        heads
            .iter()
            .all(|h| automerge::ReadDoc::get_change_by_hash(&self.doc, h).is_some())
    }

    /// Ids of every record present, with whether each holds concurrent values.
    pub(crate) fn record_ids(&self) -> Vec<(RecordId, bool)> {
        let mut ids = BTreeMap::new();
        for map in std::iter::once(&self.records).chain(&self.shards) {
            for item in self.doc.map_range(map, ..) {
                if let Ok(id) = item.key.parse() {
                    // Values in both places (a record from before the shards, written to by a
                    // replica that had them) are concurrent values too.
                    ids.entry(id)
                        .and_modify(|conflict| *conflict = true)
                        .or_insert(item.conflict);
                }
            }
        }
        ids.into_iter().collect()
    }

    /// Writes what changed since the last write as one incremental chunk, plus `new_keys`.
    /// Returns the compaction outcome that followed, if any.
    pub(crate) fn persist(
        &mut self,
        store: &mut impl ChunkStore,
        sealer: &ChunkSealer<'_>,
        new_keys: Vec<(RecordId, KeyEntry)>,
        time_s: i64,
    ) -> Result<Compaction, WriteError> {
        self.doc
            .commit_with(automerge::transaction::CommitOptions::default().with_time(time_s));
        let doc = self.doc.save_after(&self.persisted);
        if doc.is_empty() && new_keys.is_empty() {
            return Ok(Compaction::NotDue);
        }
        let id = ChunkId::random(ChunkKind::Incremental)?;
        let vector = self.keys.vector().since(&self.persisted_vector);
        let sealed = ChunkBody {
            keys: new_keys,
            vector,
            doc,
        }
        .seal(sealer.key, sealer.vault, &self.ns, &id)?;
        store.write(&self.ns, &id, &sealed)?;
        self.persisted = self.doc.get_heads();
        self.persisted_vector = self.keys.vector().clone();
        self.incrementals.push((id, sealed.len()));
        if self.incrementals.len() < FORCE_INCREMENTALS {
            return Ok(Compaction::NotDue);
        }
        // The write above is durable; a failed compaction is retried later.
        Ok(self.compact(store, sealer).unwrap_or(Compaction::NotDue))
    }

    /// Whether compaction is due: the incrementals add up to the snapshot's size
    /// (automerge-repo's rule) or are many.
    pub(crate) fn compaction_due(&self) -> bool {
        let bytes: usize = self.incrementals.iter().map(|(_, n)| n).sum();
        self.incrementals.len() >= DUE_INCREMENTALS
            || bytes >= self.snapshot.map_or(0, |(_, n)| n).max(MIN_COMPACT_BYTES)
    }

    /// Replaces every chunk this replica loaded or wrote with one snapshot, then deletes them.
    /// Chunks that appeared in the store meanwhile (another process) are not touched.
    pub(crate) fn compact(
        &mut self,
        store: &mut impl ChunkStore,
        sealer: &ChunkSealer<'_>,
    ) -> Result<Compaction, WriteError> {
        if !self.damaged.is_empty() {
            return Ok(Compaction::BlockedByDamage);
        }
        // Uncompressed: the values are ciphertext, which DEFLATE cannot shrink. On 5,000
        // answers the snapshot is 8% larger and saving it fifteen times faster.
        let doc = self.doc.save_nocompress();
        let keys = self.keys.iter().map(|(id, e)| (*id, e.clone())).collect();
        let id = ChunkId::random(ChunkKind::Snapshot)?;
        let sealed = ChunkBody {
            keys,
            vector: self.keys.vector().clone(),
            doc,
        }
        .seal(sealer.key, sealer.vault, &self.ns, &id)?;
        store.write(&self.ns, &id, &sealed)?;
        self.persisted = self.doc.get_heads();
        self.persisted_vector = self.keys.vector().clone();
        let old: Vec<_> = self
            .snapshot
            .take()
            .into_iter()
            .chain(self.incrementals.drain(..))
            .collect();
        self.snapshot = Some((id, sealed.len()));
        for (i, (chunk, _)) in old.iter().enumerate() {
            if let Err(e) = store.delete(&self.ns, chunk) {
                // Keep what was not deleted on the books, so the next compaction retries.
                self.incrementals.extend_from_slice(&old[i..]);
                return Err(e.into());
            }
        }
        Ok(Compaction::Done)
    }

    /// Merges another replica's copy of this namespace; returns the key entries that changed.
    pub(crate) fn merge(
        &mut self,
        other: &mut NamespaceDoc,
    ) -> Result<Vec<(RecordId, KeyEntry)>, WriteError> {
        self.doc.merge(&mut other.doc)?;
        Ok(self.keys.merge(&other.keys, self.writer)?)
    }
}

/// Opens `ids` and applies them to `doc` and `keys`; returns the chunks read, with their sizes.
/// Chunks that fail go to `bad` and are reported in `damaged`.
#[allow(clippy::too_many_arguments)]
fn read_chunks(
    doc: &mut AutoCommit,
    keys: &mut KeyTable,
    store: &impl ChunkStore,
    ns: &Namespace,
    ids: Vec<ChunkId>,
    sealer: &ChunkSealer<'_>,
    bad: &mut BTreeSet<ChunkId>,
    damaged: &mut Vec<DamagedChunk>,
) -> Result<Vec<(ChunkId, usize)>, ReadError> {
    let mut read = Vec::new();
    for id in ids {
        let bytes = match store.read(ns, &id) {
            Ok(bytes) => bytes,
            // Compacted away by another process since it was listed.
            Err(crate::storage::StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let outcome = ChunkBody::open(&bytes, sealer.key, sealer.vault, ns, &id)
            .map_err(|e: ChunkError| e.to_string())
            .and_then(|body| {
                doc.load_incremental(&body.doc)
                    .map_err(|e| format!("invalid document data: {e}"))?;
                Ok(body)
            });
        match outcome {
            Ok(body) => {
                for (record, entry) in body.keys {
                    keys.merge_entry(record, entry);
                }
                keys.advance(&body.vector);
                read.push((id, bytes.len()));
            }
            Err(reason) => {
                bad.insert(id);
                damaged.push(DamagedChunk {
                    namespace: ns.clone(),
                    chunk: id,
                    reason,
                });
            }
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_is_identical_everywhere() {
        let a = AutoCommit::load(&build_genesis()).unwrap().get_heads();
        let b = AutoCommit::load(&build_genesis()).unwrap().get_heads();
        assert_eq!(a, b);
    }
}
