//! One namespace: its Automerge document, its key table, and the chunks that store them.
//!
//! Storage follows automerge-repo's rule: each write appends an incremental chunk; once the
//! incrementals add up to the size of the snapshot, they are compacted into a new snapshot, and
//! only the chunks that went into it are deleted.

use std::collections::BTreeSet;

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

/// Every replica starts every namespace from the same first change (same actor, time and
/// operations, hence the same hash), so the `records` map is one object everywhere. Were each
/// replica to create it, concurrent creations would conflict and hide each other's records.
pub(crate) fn genesis() -> Vec<u8> {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(b"selfos/genesis/1"));
    // Writing to a fresh document cannot fail.
    let _ = doc.put(ROOT, "schema", 1u64);
    let _ = doc.put_object(ROOT, RECORDS, ObjType::Map);
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    doc.save()
}

#[derive(Debug)]
pub(crate) struct NamespaceDoc {
    pub(crate) ns: Namespace,
    pub(crate) doc: AutoCommit,
    pub(crate) keys: KeyTable,
    pub(crate) records: ObjId,
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
        doc.load_incremental(&genesis())
            .map_err(|e| ReadError::Document {
                namespace: ns.clone(),
                source: e.into(),
            })?;
        doc.set_actor(ActorId::from(writer.as_bytes()));
        let records = match doc.get(ROOT, RECORDS) {
            Ok(Some((automerge::Value::Object(ObjType::Map), id))) => id,
            _ => {
                return Err(ReadError::Document {
                    namespace: ns.clone(),
                    source: DocumentError::NoRecords,
                });
            }
        };
        let persisted = doc.get_heads();
        let persisted_vector = keys.vector().clone();
        Ok(Self {
            ns: ns.clone(),
            doc,
            keys,
            records,
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

    /// The concurrent values of one record, as stored bytes. Empty if it has none.
    pub(crate) fn values(&self, record: &RecordId) -> Vec<Vec<u8>> {
        self.doc
            .get_all(&self.records, record.to_string())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(value, _)| match value {
                automerge::Value::Scalar(s) => match s.as_ref() {
                    automerge::ScalarValue::Bytes(b) => Some(b.clone()),
                    _ => None,
                },
                automerge::Value::Object(_) => None,
            })
            .collect()
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
        self.doc
            .map_range(&self.records, ..)
            .filter_map(|item| Some((item.key.parse().ok()?, item.conflict)))
            .collect()
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
        let doc = self.doc.save();
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
        let a = AutoCommit::load(&genesis()).unwrap().get_heads();
        let b = AutoCommit::load(&genesis()).unwrap().get_heads();
        assert_eq!(a, b);
    }
}
