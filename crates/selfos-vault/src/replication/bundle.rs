//! What a replica puts in the relay's store for devices that come later, and takes from it: one
//! *bundle* per blob (`SOSD`, FORMAT.md "Store bundle"), the changes of one namespace that the
//! store lacked (or the whole namespace, a snapshot) with the key entries it lacked.
//!
//! The store is a peer that never answers: it cannot say what it holds. So each replica keeps a
//! [`StoreMark`] per namespace, what it knows the store holds: the heads of every bundle it
//! merged or uploaded, and the key-table vector they add up to. A bundle carries what lies past
//! the mark; a mark that claims too little only makes a bundle larger, so every doubt resolves
//! towards claiming less.
//!
//! Sealing, ids and the store's protocol belong to the sync engine (`selfos-sync`); this module
//! knows documents and key tables only.

use automerge::ChangeHash;

use super::{ReplicationMessageError, message::MAX_HEADS};
use crate::{
    chunk::{
        decode_entries, decode_vector, encode_entries, encode_vector, encoded_entries_len,
        encoded_vector_len,
    },
    error::WriteError,
    ids::{Namespace, RecordId},
    keytable::{KeyEntry, Vector, check_dots},
    namespace::genesis_heads,
    storage::ChunkStore,
    vault::Vault,
    wire::{Reader, put_len_prefixed},
};

const BUNDLE_MAGIC: &[u8; 4] = b"SOSD";
const MARK_MAGIC: &[u8; 4] = b"SOSK";
const VERSION: u8 = 1;
const SNAPSHOT: u8 = 1;
const HAS_BASE: u8 = 2;

/// What this replica knows the relay's store holds of one namespace. Opaque; saved by the sync
/// engine with [`StoreMark::encode`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreMark {
    /// Heads whose changes, and all their ancestors, the store holds (not pruned to a minimal
    /// set until an upload is acknowledged).
    covered: Vec<ChangeHash>,
    vector: Vector,
}

/// The plaintext of one blob of the store. It holds record keys: it must only ever travel or
/// rest sealed.
#[derive(Debug)]
pub struct StoreBundle {
    snapshot: bool,
    heads: Vec<ChangeHash>,
    /// The writer's whole key-table vector.
    vector: Vector,
    /// The mark's vector the entries were computed from; `None` for a snapshot, which holds
    /// every entry.
    base: Option<Vector>,
    entries: Vec<(RecordId, KeyEntry)>,
    /// Automerge changes (incremental) or a whole document (snapshot), in Automerge's formats.
    doc: Vec<u8>,
}

/// What the store holds once a bundle is in it, to raise a mark with after the store
/// acknowledged the upload ([`Vault::store_holds`]).
#[derive(Debug, Clone)]
pub struct StoreCover {
    heads: Vec<ChangeHash>,
    vector: Vector,
}

/// What merging a bundle from the store did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BundleReport {
    /// Whether the document or the key table changed.
    pub changed: bool,
    /// Records deleted by it.
    pub deletions: usize,
    /// Whether it destroyed keys (a delete, or an overwrite): the blobs that held them must
    /// leave the store, so the namespace's blobs are due for compaction.
    pub erased: bool,
    /// Whether it holds keys this replica had destroyed already (it was made before the
    /// delete or overwrite reached its writer): it must leave the store too.
    pub stale: bool,
}

impl StoreMark {
    /// The saved form: `"SOSK" ‖ 1 ‖ heads count u16 ‖ heads [32] ‖ vector`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + 32 * self.covered.len() + 64);
        out.extend_from_slice(MARK_MAGIC);
        out.push(VERSION);
        put_heads(&mut out, &self.covered);
        encode_vector(&mut out, &self.vector);
        out
    }

    /// Reads [`StoreMark::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, ReplicationMessageError> {
        let mut r = open(bytes, MARK_MAGIC)?;
        let covered = read_heads(&mut r)?;
        let vector = decode_vector(&mut r).ok_or(short())?;
        finish(&r)?;
        vector
            .check()
            .map_err(|_| ReplicationMessageError::Malformed("key-table count over the bound"))?;
        Ok(Self { covered, vector })
    }

    /// Whether the mark claims nothing: the store holds none of the namespace, as far as this
    /// replica knows.
    pub fn is_empty(&self) -> bool {
        self.covered.is_empty() && self.vector.0.is_empty()
    }
}

impl StoreBundle {
    /// Whether it holds the whole namespace.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot
    }

    /// The Automerge bytes and the key entries, for the forensic tools.
    pub(crate) fn into_parts(self) -> (Vec<u8>, Vec<(RecordId, KeyEntry)>) {
        (self.doc, self.entries)
    }

    /// What the store holds once this bundle is in it.
    pub fn cover(&self) -> StoreCover {
        StoreCover {
            heads: self.heads.clone(),
            vector: self.vector.clone(),
        }
    }

    /// Appends the bundle to `out`, reserving the whole length first so that the buffer (pass
    /// one that is wiped after use) is never reallocated with keys in it.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve_exact(
            7 + 32 * self.heads.len()
                + encoded_vector_len(&self.vector)
                + self.base.as_ref().map_or(0, encoded_vector_len)
                + encoded_entries_len(&self.entries)
                + 4
                + self.doc.len(),
        );
        out.extend_from_slice(BUNDLE_MAGIC);
        out.push(VERSION);
        let flags = if self.snapshot { SNAPSHOT } else { 0 }
            | if self.base.is_some() { HAS_BASE } else { 0 };
        out.push(flags);
        put_heads(out, &self.heads);
        encode_vector(out, &self.vector);
        if let Some(base) = &self.base {
            encode_vector(out, base);
        }
        encode_entries(out, &self.entries);
        put_len_prefixed(out, &self.doc);
    }

    /// Reads a bundle another replica made. Checks every length and every key-table count;
    /// the Automerge part is checked when it is applied.
    pub fn decode(bytes: &[u8]) -> Result<Self, ReplicationMessageError> {
        let mut r = open(bytes, BUNDLE_MAGIC)?;
        let flags = r.u8().map_err(|_| short())?;
        if flags & !(SNAPSHOT | HAS_BASE) != 0 {
            return Err(ReplicationMessageError::Malformed("unknown bundle flags"));
        }
        let snapshot = flags & SNAPSHOT != 0;
        if snapshot == (flags & HAS_BASE != 0) {
            return Err(ReplicationMessageError::Malformed(
                "a bundle has a base exactly when it is not a snapshot",
            ));
        }
        let heads = read_heads(&mut r)?;
        let vector = decode_vector(&mut r).ok_or(short())?;
        let base = if snapshot {
            None
        } else {
            Some(decode_vector(&mut r).ok_or(short())?)
        };
        let entries = decode_entries(&mut r).map_err(ReplicationMessageError::Malformed)?;
        let len = r.u32().map_err(|_| short())? as usize;
        let doc = r.take(len).map_err(|_| short())?.to_vec();
        finish(&r)?;
        let counts = vector
            .check()
            .and_then(|()| base.as_ref().map_or(Ok(()), Vector::check))
            .and_then(|()| check_dots(entries.iter().map(|(_, e)| e)));
        if counts.is_err() {
            return Err(ReplicationMessageError::Malformed(
                "key-table count over the bound",
            ));
        }
        Ok(Self {
            snapshot,
            heads,
            vector,
            base,
            entries,
            doc,
        })
    }
}

impl<S: ChunkStore> Vault<S> {
    /// The bundle that brings the store up to this replica in `ns`, or `None` when the store
    /// holds everything `mark` says this replica has.
    ///
    /// It is a snapshot (the whole namespace) when `snapshot` is asked (compaction), when the
    /// mark is empty (the namespace's first blob), or when what the store lacks destroys keys
    /// (a delete or an overwrite): the device then deletes the blobs it merged, so the destroyed
    /// keys leave the store. Otherwise it carries the changes past the mark's heads and the key
    /// entries past its vector.
    pub fn store_bundle(
        &mut self,
        ns: &Namespace,
        mark: &StoreMark,
        snapshot: bool,
    ) -> Result<Option<StoreBundle>, WriteError> {
        let doc = self.namespace_mut(ns)?;
        let entries = doc.keys.entries_above(&mark.vector);
        let vector = doc.keys.vector().clone();
        let heads = doc.doc.get_heads();
        let erases = entries.iter().any(|(_, e)| e.erases());
        if snapshot || mark.is_empty() || erases {
            if !snapshot && entries.is_empty() && heads == genesis_heads() {
                // Nothing but the start every replica shares.
                return Ok(None);
            }
            return Ok(Some(StoreBundle {
                snapshot: true,
                heads,
                entries: doc.keys.iter().map(|(id, e)| (*id, e.clone())).collect(),
                vector,
                base: None,
                // Uncompressed, as local snapshots are: the values are ciphertext.
                doc: doc.doc.save_nocompress(),
            }));
        }
        let since: Vec<ChangeHash> = held(doc, &mark.covered);
        let changes = doc.doc.save_after(&since);
        if changes.is_empty() && entries.is_empty() && vector.le(&mark.vector) {
            return Ok(None);
        }
        Ok(Some(StoreBundle {
            snapshot: false,
            heads,
            vector,
            base: Some(mark.vector.clone()),
            entries,
            doc: changes,
        }))
    }

    /// Whether this replica holds erasures of `ns` (a delete, an overwrite) that the store, as
    /// far as `mark` says, has not heard of, nor the blob in flight whose cover is `in_flight`.
    /// Costs the entries past them.
    pub fn store_erasures(
        &self,
        ns: &Namespace,
        mark: &StoreMark,
        in_flight: Option<&StoreCover>,
    ) -> bool {
        self.namespace(ns).is_some_and(|doc| {
            let mut held = mark.vector.clone();
            if let Some(cover) = in_flight {
                held.join(&cover.vector);
            }
            doc.keys.above(&held).any(|(_, e)| e.erases())
        })
    }

    /// Records that the store acknowledged a bundle this replica uploaded: `mark` now covers
    /// it. Heads the bundle's cover already implies are pruned, so the mark stays small.
    pub fn store_holds(&mut self, ns: &Namespace, mark: &mut StoreMark, cover: StoreCover) {
        mark.vector.join(&cover.vector);
        let Ok(doc) = self.namespace_mut(ns) else {
            mark.covered = cover.heads;
            return;
        };
        // What came after the cover's heads: only those of the old heads stay meaningful.
        let since = held(doc, &cover.heads);
        let after: std::collections::BTreeSet<ChangeHash> = doc
            .doc
            .get_changes_meta(&since)
            .iter()
            .map(|c| c.hash)
            .collect();
        let mut covered = cover.heads;
        covered.extend(mark.covered.iter().filter(|h| after.contains(h)));
        covered.sort_unstable();
        covered.dedup();
        mark.covered = covered;
    }

    /// Merges a bundle fetched from the store into `ns`, stores what it brought, and raises
    /// `mark`: the store holds what the bundle holds. On failure the namespace and the mark are
    /// as before.
    pub fn apply_store_bundle(
        &mut self,
        ns: &Namespace,
        bundle: StoreBundle,
        mark: &mut StoreMark,
        now_ms: u64,
    ) -> Result<BundleReport, WriteError> {
        let StoreBundle {
            heads,
            vector,
            base,
            entries,
            doc: bytes,
            ..
        } = bundle;
        let (report, compaction) = self.write_namespace(ns, now_ms, |doc, _, _| {
            let before = doc.doc.get_heads();
            if !bytes.is_empty() {
                doc.doc.load_incremental(&bytes)?;
            }
            let mut changed = Vec::new();
            for (id, entry) in &entries {
                if doc.keys.merge_entry(*id, entry.clone()) {
                    changed.push((*id, entry.clone()));
                }
            }
            let stale = entries.iter().any(|(id, e)| doc.keys.destroyed(id, e));
            // A snapshot holds every entry under its vector; an incremental bundle, every entry
            // past its base, so it is complete for a replica that holds the base.
            let complete = base.as_ref().is_none_or(|b| b.le(doc.keys.vector()));
            if complete {
                doc.keys.advance_from_peer(&vector, doc.writer);
            }
            let report = BundleReport {
                changed: !changed.is_empty() || doc.doc.get_heads() != before,
                deletions: changed.iter().filter(|(_, e)| e.is_shredded()).count(),
                erased: changed.iter().any(|(_, e)| e.erases()),
                stale,
            };
            Ok((report, changed))
        })?;
        if report.erased {
            self.compact_after_erasure(ns, compaction);
        }
        // The store holds the bundle's changes, and their ancestors, whatever this replica made
        // of them; it holds every entry under the bundle's vector when the bundle is a snapshot,
        // or when the store held its base (as far as the mark knows).
        mark.covered.extend(heads);
        mark.covered.sort_unstable();
        mark.covered.dedup();
        if base.is_none_or(|b| b.le(&mark.vector)) {
            mark.vector.join(&vector);
        }

        Ok(report)
    }
}

/// Of `heads`, those the document holds: Automerge computes "changes after" from held hashes
/// only, and a mark may name changes whose dependencies have not arrived yet.
fn held(doc: &crate::namespace::NamespaceDoc, heads: &[ChangeHash]) -> Vec<ChangeHash> {
    heads
        .iter()
        .filter(|h| doc.holds_all(std::slice::from_ref(h)))
        .copied()
        .collect()
}

fn short() -> ReplicationMessageError {
    ReplicationMessageError::Malformed("ends early")
}

fn open<'a>(bytes: &'a [u8], magic: &[u8; 4]) -> Result<Reader<'a>, ReplicationMessageError> {
    let mut r = Reader::new(bytes);
    if r.take(4).map_err(|_| short())? != magic {
        return Err(ReplicationMessageError::Malformed("bad magic"));
    }
    match r.u8().map_err(|_| short())? {
        VERSION => Ok(r),
        other => Err(ReplicationMessageError::UnknownVersion(other)),
    }
}

fn finish(r: &Reader<'_>) -> Result<(), ReplicationMessageError> {
    if r.remaining().is_empty() {
        Ok(())
    } else {
        Err(ReplicationMessageError::Malformed("bytes after the end"))
    }
}

fn put_heads(out: &mut Vec<u8>, heads: &[ChangeHash]) {
    // A namespace has one head per device that wrote concurrently; past MAX_HEADS the rest are
    // left out, which only makes the next bundle larger.
    let count = heads.len().min(MAX_HEADS);
    out.extend_from_slice(&(count as u16).to_be_bytes());
    for head in &heads[..count] {
        out.extend_from_slice(&head.0);
    }
}

fn read_heads(r: &mut Reader<'_>) -> Result<Vec<ChangeHash>, ReplicationMessageError> {
    let count = usize::from(r.u16().map_err(|_| short())?);
    if count > MAX_HEADS {
        return Err(ReplicationMessageError::Malformed("too many heads"));
    }
    (0..count)
        .map(|_| r.array::<32>().map(ChangeHash).map_err(|_| short()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        MemoryStore,
        unit_kit::{NOW, answer, pair},
    };

    fn chatgpt() -> Namespace {
        Namespace::new("chatgpt").unwrap()
    }

    /// The bundle `from` would upload past `mark`, through its bytes, with the store's
    /// acknowledgement recorded in `mark`.
    fn upload(from: &mut Vault<MemoryStore>, mark: &mut StoreMark) -> Option<Vec<u8>> {
        let bundle = from.store_bundle(&chatgpt(), mark, false).unwrap()?;
        let mut bytes = Vec::new();
        bundle.encode_into(&mut bytes);
        from.store_holds(&chatgpt(), mark, bundle.cover());
        Some(bytes)
    }

    fn apply(to: &mut Vault<MemoryStore>, mark: &mut StoreMark, bytes: &[u8]) -> BundleReport {
        let bundle = StoreBundle::decode(bytes).unwrap();
        to.apply_store_bundle(&chatgpt(), bundle, mark, NOW)
            .unwrap()
    }

    fn texts(vault: &Vault<MemoryStore>) -> Vec<String> {
        let mut texts: Vec<String> = vault
            .list(None)
            .responses
            .into_iter()
            .filter_map(|r| match r.content.answer {
                Some(crate::Answer::Text(t)) => Some(t),
                _ => None,
            })
            .collect();
        texts.sort();
        texts
    }

    #[test]
    fn a_replica_catches_up_from_bundles_alone_and_uploads_nothing_back() {
        let (mut a, mut b) = pair();
        let (mut mark_a, mut mark_b) = (StoreMark::default(), StoreMark::default());
        assert!(
            upload(&mut a, &mut mark_a).is_none(),
            "nothing to store yet"
        );

        a.record(&chatgpt(), answer("first"), NOW).unwrap();
        let first = upload(&mut a, &mut mark_a).unwrap();
        assert!(StoreBundle::decode(&first).unwrap().is_snapshot());
        assert!(
            upload(&mut a, &mut mark_a).is_none(),
            "the store holds it all"
        );

        a.record(&chatgpt(), answer("second"), NOW).unwrap();
        let second = upload(&mut a, &mut mark_a).unwrap();
        let bundle = StoreBundle::decode(&second).unwrap();
        assert!(!bundle.is_snapshot());
        assert!(
            second.len() < first.len(),
            "an incremental carries one answer"
        );

        for bytes in [&first, &second] {
            assert!(apply(&mut b, &mut mark_b, bytes).changed);
        }
        assert_eq!(texts(&b), ["first", "second"]);
        // B's mark covers everything it holds: it has nothing to give the store.
        assert!(upload(&mut b, &mut mark_b).is_none());
        // Applying again changes nothing.
        assert!(!apply(&mut b, &mut mark_b, &second).changed);

        // B's own answer goes up as an incremental that A takes.
        b.record(&chatgpt(), answer("third"), NOW).unwrap();
        let third = upload(&mut b, &mut mark_b).unwrap();
        assert!(!StoreBundle::decode(&third).unwrap().is_snapshot());
        apply(&mut a, &mut mark_a, &third);
        assert_eq!(texts(&a), ["first", "second", "third"]);
        assert!(upload(&mut a, &mut mark_a).is_none());
    }

    #[test]
    fn bundles_arriving_out_of_order_still_converge() {
        let (mut a, mut b) = pair();
        let mut mark_a = StoreMark::default();
        a.record(&chatgpt(), answer("first"), NOW).unwrap();
        let first = upload(&mut a, &mut mark_a).unwrap();
        a.record(&chatgpt(), answer("second"), NOW).unwrap();
        let second = upload(&mut a, &mut mark_a).unwrap();

        let mut mark_b = StoreMark::default();
        apply(&mut b, &mut mark_b, &second);
        apply(&mut b, &mut mark_b, &first);
        assert_eq!(texts(&b), ["first", "second"]);
        // B's mark may claim less than the store holds (the incremental came before its
        // base), never more: what B would upload again brings A nothing new.
        if let Some(again) = upload(&mut b, &mut mark_b) {
            assert!(!apply(&mut a, &mut mark_a, &again).changed);
        }
    }

    #[test]
    fn a_delete_goes_up_as_a_snapshot_without_the_key() {
        let (mut a, mut b) = pair();
        let mut mark_a = StoreMark::default();
        let id = a.record(&chatgpt(), answer("secret plan"), NOW).unwrap();
        a.record(&chatgpt(), answer("kept"), NOW).unwrap();
        let before = upload(&mut a, &mut mark_a).unwrap();

        a.delete(&id, NOW).unwrap();
        let after = upload(&mut a, &mut mark_a).unwrap();
        let bundle = StoreBundle::decode(&after).unwrap();
        assert!(bundle.is_snapshot(), "an erasure compacts the store");
        assert!(
            bundle
                .entries
                .iter()
                .all(|(record, e)| *record != id.record || e.is_shredded()),
            "no live key of the deleted record"
        );

        let mut mark_b = StoreMark::default();
        apply(&mut b, &mut mark_b, &before);
        assert_eq!(texts(&b), ["kept", "secret plan"]);
        let report = apply(&mut b, &mut mark_b, &after);
        assert!(report.erased);
        assert_eq!(report.deletions, 1);
        assert_eq!(texts(&b), ["kept"]);
        // The old blob, met again, holds a key B destroyed: it must leave the store.
        let again = apply(&mut b, &mut mark_b, &before);
        assert!(again.stale && !again.changed);
        assert!(!apply(&mut b, &mut mark_b, &after).stale);
    }

    #[test]
    fn marks_round_trip_and_damage_is_refused() {
        let (mut a, _) = pair();
        let mut mark = StoreMark::default();
        a.record(&chatgpt(), answer("first"), NOW).unwrap();
        let bytes = upload(&mut a, &mut mark).unwrap();
        assert!(!mark.is_empty());
        assert_eq!(StoreMark::decode(&mark.encode()).unwrap(), mark);

        for cut in [0, 3, 5, 6, bytes.len() - 1] {
            assert!(StoreBundle::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(StoreBundle::decode(&longer).is_err());
        let mut version = bytes.clone();
        version[4] = 9;
        assert!(matches!(
            StoreBundle::decode(&version),
            Err(ReplicationMessageError::UnknownVersion(9))
        ));
        let mut flags = bytes;
        flags[5] = 3; // a snapshot with a base
        assert!(StoreBundle::decode(&flags).is_err());
    }

    /// Automerge skips what it cannot parse in an incremental load: a device that uploads a
    /// broken document (it holds the keys, so the seal is no help) changes nothing elsewhere.
    #[test]
    fn a_bundle_with_a_broken_document_changes_nothing() {
        let (mut a, mut b) = pair();
        let mut mark_a = StoreMark::default();
        a.record(&chatgpt(), answer("first"), NOW).unwrap();
        let mut bundle = a.store_bundle(&chatgpt(), &mark_a, false).unwrap().unwrap();
        a.store_holds(&chatgpt(), &mut mark_a, bundle.cover());
        bundle.doc = b"not automerge".to_vec();
        bundle.entries.clear();
        let mut mark_b = StoreMark::default();
        b.record(&chatgpt(), answer("mine"), NOW).unwrap();
        let report = b.apply_store_bundle(&chatgpt(), bundle, &mut mark_b, NOW);
        assert!(!report.unwrap().changed);
        assert_eq!(texts(&b), ["mine"]);
    }
}
