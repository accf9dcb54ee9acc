//! The datum keys of one namespace: one random key per value, kept outside Automerge's history.
//!
//! A record's content is encrypted under a key of its own (see `body.rs`). Deleting a record
//! shreds its keys: the entry becomes a tombstone, which wins every merge, and compaction rewrites
//! the chunks so the keys are in no stored byte. The ciphertext left in Automerge's history can
//! then never be read again, on any replica that merged the tombstone.
//!
//! Overwriting a record erases what it overwrote the same way, one key at a time: every value is
//! sealed under a key of its own, and an edit or a resolution seals the new value under a fresh
//! key and *retires* the keys of the values it replaces. A retirement is an entry of its own that
//! names the dot of the key it retires; it removes that key whenever the two meet, in either
//! order, and compaction leaves the retired key out of every chunk.
//!
//! A record has one live key per current value: several after concurrent edits (each sealed its
//! value under its own key), or after two replicas each import the same export before they meet
//! (each value opens with one of them).
//!
//! The table is a state-based CRDT (merge is a union where a tombstone beats every key and a
//! retirement beats the key it names) with delta sync: every entry carries a *dot*, the writer
//! that made it (one opening of a replica, see [`WriterId`]) and that writer's running count of
//! entries, and the table keeps a version vector, the highest dot seen per writer. A replica that
//! advertises its vector receives exactly the entries above it. A replica restored from a backup
//! writes under a new writer, so its counts never repeat a dot that its older self already gave
//! to another entry.
//!
//! Counts from peers are bounded ([`MAX_KEY_COUNT`], FORMAT.md): a replica that holds the vault's
//! keys may still send a vector or an entry counted near `u64::MAX`, and one more local entry
//! would then wrap. A peer's count for this replica's own writer is never taken either: only this
//! replica writes under it, so a higher count is false, and would push its next dot to the limit.

use std::collections::BTreeMap;

use crate::{
    ids::{RecordId, WriterId},
    keys::SecretKey,
};

/// The highest count a writer's entry may carry: 2^48. A writer is one opening of a replica, and
/// would need a million entries a second for nine years to get there, so a count above it from
/// a peer is refused, never stored (FORMAT.md).
pub const MAX_KEY_COUNT: u64 = 1 << 48;

/// Why a key-table count is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyCountError {
    /// A peer sent a vector or an entry counted above [`MAX_KEY_COUNT`]; nothing of its message
    /// was applied.
    #[error("a key-table count from another replica, {0}, is over the limit of 2^48")]
    FromPeer(u64),
    /// This opening of the vault wrote [`MAX_KEY_COUNT`] entries: reopening it gives a new writer.
    #[error("this opening of the vault wrote its last key-table entry (2^48): reopen the vault")]
    Exhausted,
}

/// Who wrote an entry, and that writer's count of entries at the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Dot {
    pub(crate) origin: WriterId,
    pub(crate) seq: u64,
}

/// A record's key, the retirement of one of its keys, or the tombstone left when the record was
/// shredded.
#[derive(Clone, Debug)]
pub(crate) enum KeyState {
    Live(SecretKey),
    /// The key of this dot sealed only values that were overwritten: it is gone, and stays gone
    /// if it arrives later. Kept as long as the record (a replica that lacks it would otherwise
    /// keep the key it names).
    Retired(Dot),
    Shredded,
}

#[derive(Clone, Debug)]
pub(crate) struct KeyEntry {
    pub(crate) state: KeyState,
    pub(crate) dot: Dot,
}

impl KeyEntry {
    pub(crate) fn is_shredded(&self) -> bool {
        matches!(self.state, KeyState::Shredded)
    }

    /// Whether merging this entry destroys a key: a tombstone or a retirement. Compaction then
    /// takes the key out of every stored byte.
    pub(crate) fn erases(&self) -> bool {
        !matches!(self.state, KeyState::Live(_))
    }

    /// Whether this entry retires the key dotted `dot`.
    fn retires(&self, dot: &Dot) -> bool {
        matches!(&self.state, KeyState::Retired(retired) if retired == dot)
    }

    /// Every count this entry carries: its own, and the one of the dot it retires.
    fn counts(&self) -> impl Iterator<Item = u64> {
        let retired = match &self.state {
            KeyState::Retired(dot) => Some(dot.seq),
            KeyState::Live(_) | KeyState::Shredded => None,
        };
        std::iter::once(self.dot.seq).chain(retired)
    }
}

/// The highest dot seen per writer. The table holds every entry at or below it (or the
/// tombstone that replaced one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Vector(pub(crate) BTreeMap<WriterId, u64>);

impl Vector {
    pub(crate) fn get(&self, origin: &WriterId) -> u64 {
        self.0.get(origin).copied().unwrap_or(0)
    }

    /// Whether every count here is at most the matching one in `other`.
    pub(crate) fn le(&self, other: &Vector) -> bool {
        self.0.iter().all(|(origin, seq)| other.get(origin) >= *seq)
    }

    /// The counts here that are above `base`: what a chunk written after `base` was stored
    /// must carry, so that loading every chunk joins back to this vector.
    pub(crate) fn since(&self, base: &Vector) -> Vector {
        Vector(
            self.0
                .iter()
                .filter(|(origin, seq)| base.get(origin) < **seq)
                .map(|(origin, seq)| (*origin, *seq))
                .collect(),
        )
    }

    /// `Err` naming the first count over [`MAX_KEY_COUNT`], for a vector from a peer.
    pub(crate) fn check(&self) -> Result<(), KeyCountError> {
        match self.0.values().find(|seq| **seq > MAX_KEY_COUNT) {
            Some(seq) => Err(KeyCountError::FromPeer(*seq)),
            None => Ok(()),
        }
    }

    pub(crate) fn join(&mut self, other: &Vector) {
        for (origin, seq) in &other.0 {
            self.raise(*origin, *seq);
        }
    }

    /// Raises `origin`'s count to `seq` if it is below.
    fn raise(&mut self, origin: WriterId, seq: u64) {
        let mine = self.0.entry(origin).or_insert(0);
        *mine = (*mine).max(seq);
    }
}

/// `Err` naming the first count over [`MAX_KEY_COUNT`], for entries from a peer: an entry's own,
/// or that of the dot a retirement names (no key can carry it).
pub(crate) fn check_dots<'a>(
    entries: impl IntoIterator<Item = &'a KeyEntry>,
) -> Result<(), KeyCountError> {
    match entries
        .into_iter()
        .flat_map(KeyEntry::counts)
        .find(|seq| *seq > MAX_KEY_COUNT)
    {
        Some(seq) => Err(KeyCountError::FromPeer(seq)),
        None => Ok(()),
    }
}

/// What the table knows of one record's keys.
#[derive(Debug)]
pub(crate) enum Keys<'a> {
    /// One or more keys, each with its dot (see the module docs for when there are several).
    Live(Vec<(Dot, &'a SecretKey)>),
    /// Deleted: the keys are gone.
    Shredded,
    /// No live key: the chunk that held it is damaged, or it has not arrived yet.
    Missing,
}

#[derive(Default, Debug)]
pub(crate) struct KeyTable {
    /// Per record: one tombstone, or live keys and retirements ordered by dot, none of the keys
    /// named by one of the retirements.
    entries: BTreeMap<RecordId, Vec<KeyEntry>>,
    vector: Vector,
    /// The record of each entry held, by its dot's writer then count: what a peer lacks above
    /// its vector is a range per writer, found without reading the whole table.
    by_dot: BTreeMap<WriterId, BTreeMap<u64, RecordId>>,
    /// The record of every entry that changed the table, in order: a record whose value arrived
    /// before its key becomes readable here, with no change to its document (see `vault/feed.rs`).
    log: Vec<RecordId>,
}

impl KeyTable {
    pub(crate) fn keys(&self, id: &RecordId) -> Keys<'_> {
        let entries = match self.entries.get(id).map(Vec::as_slice) {
            None | Some([]) => return Keys::Missing,
            Some([first, ..]) if first.is_shredded() => return Keys::Shredded,
            Some(entries) => entries,
        };
        let live: Vec<_> = entries
            .iter()
            .filter_map(|e| match &e.state {
                KeyState::Live(k) => Some((e.dot, k)),
                KeyState::Retired(_) | KeyState::Shredded => None,
            })
            .collect();
        if live.is_empty() {
            // Only retirements: the key of the value that replaced the retired ones is still
            // on its way.
            Keys::Missing
        } else {
            Keys::Live(live)
        }
    }

    /// Every entry, record by record.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&RecordId, &KeyEntry)> {
        self.entries
            .iter()
            .flat_map(|(id, entries)| entries.iter().map(move |e| (id, e)))
    }

    pub(crate) fn vector(&self) -> &Vector {
        &self.vector
    }

    /// Raises the vector: the caller holds every entry below `other`.
    pub(crate) fn advance(&mut self, other: &Vector) {
        self.vector.join(other);
    }

    /// Raises the vector to a peer's: the caller holds every entry below it. The count of `me`,
    /// this replica's writer, stays this replica's own (see the module docs).
    pub(crate) fn advance_from_peer(&mut self, other: &Vector, me: WriterId) {
        for (origin, seq) in other.0.iter().filter(|(origin, _)| **origin != me) {
            self.vector.raise(*origin, *seq);
        }
    }

    /// A new local entry for `id`, dotted with this writer's next count. Returns it for storage.
    pub(crate) fn insert_local(
        &mut self,
        me: WriterId,
        id: RecordId,
        state: KeyState,
    ) -> Result<KeyEntry, KeyCountError> {
        let seq = self
            .vector
            .get(&me)
            .checked_add(1)
            .filter(|seq| *seq <= MAX_KEY_COUNT)
            .ok_or(KeyCountError::Exhausted)?;
        self.vector.0.insert(me, seq);
        let entry = KeyEntry {
            state,
            dot: Dot { origin: me, seq },
        };
        self.merge_entry(id, entry.clone());
        Ok(entry)
    }

    /// Merges one entry; returns whether the table changed. A tombstone replaces every entry;
    /// between two tombstones the smaller dot stays, so every replica keeps the same one. A
    /// retirement removes the key it names and keeps it out if it arrives later. Live keys and
    /// retirements accumulate (a dot names one entry). The outcome is the same in any order.
    pub(crate) fn merge_entry(&mut self, id: RecordId, entry: KeyEntry) -> bool {
        let slot = self.entries.entry(id).or_default();
        let changed = match slot.first() {
            None => true,
            Some(old) if old.is_shredded() => entry.is_shredded() && entry.dot < old.dot,
            Some(_) if entry.is_shredded() => true,
            Some(_) => !slot
                .iter()
                .any(|e| e.dot == entry.dot || e.retires(&entry.dot)),
        };
        if changed {
            self.log.push(id);
            let by_dot = &mut self.by_dot;
            slot.retain(|old| {
                let replaced = entry.is_shredded() || entry.retires(&old.dot);
                if replaced {
                    unindex(by_dot, &old.dot);
                }
                !replaced
            });
            self.by_dot
                .entry(entry.dot.origin)
                .or_default()
                .insert(entry.dot.seq, id);
            slot.push(entry);
            slot.sort_by_key(|e| e.dot);
        }
        changed
    }

    /// Entries the holder of `vector` lacks: those whose dot it does not cover.
    pub(crate) fn entries_above(&self, vector: &Vector) -> Vec<(RecordId, KeyEntry)> {
        self.above(vector).map(|(id, e)| (*id, e.clone())).collect()
    }

    /// The same entries, borrowed: for a question about them that needs no copy of the keys.
    pub(crate) fn above<'a>(
        &'a self,
        vector: &'a Vector,
    ) -> impl Iterator<Item = (&'a RecordId, &'a KeyEntry)> + 'a {
        self.by_dot.iter().flat_map(move |(origin, seqs)| {
            let from = vector.get(origin).saturating_add(1);
            seqs.range(from..).flat_map(move |(seq, id)| {
                let dot = Dot {
                    origin: *origin,
                    seq: *seq,
                };
                let held = self.entries.get(id).into_iter().flatten();
                held.filter(move |e| e.dot == dot).map(move |e| (id, e))
            })
        })
    }

    /// Merges another replica's whole table, as this replica's writer `me`; returns the entries
    /// that changed this one. Refuses, changing nothing, a table with a count over
    /// [`MAX_KEY_COUNT`].
    pub(crate) fn merge(
        &mut self,
        other: &KeyTable,
        me: WriterId,
    ) -> Result<Vec<(RecordId, KeyEntry)>, KeyCountError> {
        other.vector.check()?;
        check_dots(other.iter().map(|(_, e)| e))?;
        let mut changed = Vec::new();
        for (id, entry) in other.iter() {
            if self.merge_entry(*id, entry.clone()) {
                changed.push((*id, entry.clone()));
            }
        }
        self.advance_from_peer(&other.vector, me);
        Ok(changed)
    }

    /// The records whose entries changed since the log held `from` items, and the log's length.
    pub(crate) fn changed_since(&self, from: usize) -> (&[RecordId], usize) {
        (self.log.get(from..).unwrap_or_default(), self.log.len())
    }

    /// Whether `entry`, a live key of `id`, is one this table destroyed: the record was
    /// shredded, or the key retired.
    pub(crate) fn destroyed(&self, id: &RecordId, entry: &KeyEntry) -> bool {
        matches!(entry.state, KeyState::Live(_))
            && !self
                .entries
                .get(id)
                .is_some_and(|held| held.iter().any(|e| e.dot == entry.dot))
    }

    pub(crate) fn is_shredded(&self, id: &RecordId) -> bool {
        matches!(self.keys(id), Keys::Shredded)
    }
}

/// Drops `dot` from the index of entries held.
fn unindex(by_dot: &mut BTreeMap<WriterId, BTreeMap<u64, RecordId>>, dot: &Dot) {
    if let Some(seqs) = by_dot.get_mut(&dot.origin) {
        seqs.remove(&dot.seq);
        if seqs.is_empty() {
            by_dot.remove(&dot.origin);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a` then `b`, and `b` then `a`, each merged into an empty table.
    fn both_orders(a: &KeyTable, b: &KeyTable) -> (KeyTable, KeyTable) {
        let mut ab = KeyTable::default();
        ab.merge(a, me()).unwrap();
        ab.merge(b, me()).unwrap();
        let mut ba = KeyTable::default();
        ba.merge(b, me()).unwrap();
        ba.merge(a, me()).unwrap();
        (ab, ba)
    }

    /// The writer of the tables that merge: none of the entries' origins.
    fn me() -> WriterId {
        WriterId::from([0xff; 16])
    }

    fn live(b: u8, origin: u8, seq: u64) -> KeyEntry {
        KeyEntry {
            state: KeyState::Live(SecretKey::from_bytes(&mut [b; 32])),
            dot: Dot {
                origin: WriterId::from([origin; 16]),
                seq,
            },
        }
    }

    fn tomb(origin: u8, seq: u64) -> KeyEntry {
        KeyEntry {
            state: KeyState::Shredded,
            dot: Dot {
                origin: WriterId::from([origin; 16]),
                seq,
            },
        }
    }

    fn retire(origin: u8, seq: u64, retired: &KeyEntry) -> KeyEntry {
        KeyEntry {
            state: KeyState::Retired(retired.dot),
            dot: Dot {
                origin: WriterId::from([origin; 16]),
                seq,
            },
        }
    }

    /// The first byte of each live key of `id`, and how many entries the table holds.
    fn live_keys(table: &KeyTable, id: &RecordId) -> (Vec<u8>, usize) {
        let keys = match table.keys(id) {
            Keys::Live(keys) => keys.iter().map(|(_, k)| k.expose()[0]).collect(),
            Keys::Shredded | Keys::Missing => Vec::new(),
        };
        (keys, table.iter().count())
    }

    /// Every order of `entries`, by Heap's algorithm.
    fn orders(mut entries: Vec<KeyEntry>) -> Vec<Vec<KeyEntry>> {
        fn heap(k: usize, items: &mut Vec<KeyEntry>, out: &mut Vec<Vec<KeyEntry>>) {
            if k <= 1 {
                out.push(items.clone());
                return;
            }
            for i in 0..k {
                heap(k - 1, items, out);
                items.swap(if k.is_multiple_of(2) { i } else { 0 }, k - 1);
            }
        }
        let mut out = Vec::new();
        heap(entries.len(), &mut entries, &mut out);
        out
    }

    /// Two devices edit a record concurrently: each seals under a key of its own and retires
    /// the record's first key. In every order of arrival (the key before its retirements, after
    /// them, between them) the first key is gone for good and both new keys stay.
    #[test]
    fn a_retirement_removes_its_key_in_any_order() {
        let id = RecordId::from([1; 16]);
        let first = live(1, 1, 1);
        let entries = vec![
            first.clone(),
            live(2, 2, 1),
            retire(2, 2, &first),
            live(3, 3, 1),
            retire(3, 2, &first),
        ];
        let all = orders(entries);
        assert_eq!(all.len(), 120);
        for order in all {
            let mut table = KeyTable::default();
            for entry in order {
                table.merge_entry(id, entry);
            }
            assert_eq!(live_keys(&table, &id), (vec![2, 3], 4));
            // The retired key arriving again changes nothing.
            assert!(!table.merge_entry(id, first.clone()));
            assert!(
                table
                    .entries_above(&Vector::default())
                    .iter()
                    .all(|(_, e)| e.dot != first.dot)
            );
        }
    }

    /// Whole tables merged either way round agree, and a tombstone still beats everything.
    #[test]
    fn retirements_merge_between_tables_and_a_tombstone_beats_them() {
        let id = RecordId::from([1; 16]);
        let first = live(1, 1, 1);
        // A holds the first key only; B edited it (new key, retirement) before it got it.
        let mut a = KeyTable::default();
        a.merge_entry(id, first.clone());
        let mut b = KeyTable::default();
        b.merge_entry(id, live(2, 2, 1));
        b.merge_entry(id, retire(2, 2, &first));
        let (mut ab, ba) = both_orders(&a, &b);
        assert_eq!(live_keys(&ab, &id), (vec![2], 2));
        assert_eq!(live_keys(&ba, &id), (vec![2], 2));
        // Only retirements, the new key not there yet: no key to open anything with.
        let mut only = KeyTable::default();
        only.merge_entry(id, retire(2, 2, &first));
        assert!(matches!(only.keys(&id), Keys::Missing));

        ab.merge_entry(id, tomb(3, 1));
        assert!(ab.is_shredded(&id));
        assert_eq!(ab.iter().count(), 1);
        assert!(!ab.merge_entry(id, retire(4, 1, &first)));
        assert!(!ab.merge_entry(id, live(4, 4, 2)));
        assert_eq!(ab.entries_above(&Vector::default()).len(), 1);
    }

    /// A retirement that names a dot counted over the limit is refused like any other count.
    #[test]
    fn a_retired_dot_over_the_limit_is_refused() {
        let mut liar = KeyTable::default();
        liar.merge_entry(
            RecordId::from([2; 16]),
            retire(3, 1, &live(1, 1, MAX_KEY_COUNT + 1)),
        );
        assert_eq!(
            KeyTable::default().merge(&liar, me()).unwrap_err(),
            KeyCountError::FromPeer(MAX_KEY_COUNT + 1)
        );
    }

    #[test]
    fn tombstone_wins_in_any_order() {
        let id = RecordId::from([1; 16]);
        let mut a = KeyTable::default();
        a.merge_entry(id, live(5, 1, 1));
        let mut b = KeyTable::default();
        b.merge_entry(id, tomb(2, 1));

        let (mut ab, ba) = both_orders(&a, &b);
        assert!(ab.is_shredded(&id) && ba.is_shredded(&id));
        // Merging the old key again changes nothing.
        assert!(ab.merge(&a, me()).unwrap().is_empty());
    }

    #[test]
    fn merge_reports_only_changes() {
        let mut a = KeyTable::default();
        a.merge_entry(RecordId::from([1; 16]), live(1, 1, 1));
        let mut b = KeyTable::default();
        b.merge_entry(RecordId::from([1; 16]), live(1, 1, 1));
        b.merge_entry(RecordId::from([2; 16]), live(2, 1, 2));
        let changed = a.merge(&b, me()).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0, RecordId::from([2; 16]));
        assert_eq!(a.iter().count(), 2);
    }

    #[test]
    fn two_keys_for_one_record_are_both_kept_until_shredded() {
        let id = RecordId::from([1; 16]);
        let mut a = KeyTable::default();
        a.merge_entry(id, live(1, 1, 1));
        let mut b = KeyTable::default();
        b.merge_entry(id, live(2, 2, 1));
        a.merge(&b, me()).unwrap();
        b.merge(&a, me()).unwrap();
        for t in [&a, &b] {
            let Keys::Live(keys) = t.keys(&id) else {
                panic!("expected live keys")
            };
            let bytes: Vec<u8> = keys.iter().map(|(_, k)| k.expose()[0]).collect();
            assert_eq!(bytes, vec![1, 2]);
        }
        a.merge_entry(id, tomb(3, 1));
        assert!(a.is_shredded(&id));
        assert_eq!(a.iter().count(), 1);
        b.merge(&a, me()).unwrap();
        assert!(b.is_shredded(&id));
        assert!(matches!(KeyTable::default().keys(&id), Keys::Missing));
    }

    #[test]
    fn deltas_carry_exactly_what_is_missing() {
        let me = WriterId::from([1; 16]);
        let mut a = KeyTable::default();
        for i in 0..5u8 {
            a.insert_local(me, RecordId::from([i; 16]), KeyState::Shredded)
                .unwrap();
        }
        let mut b = KeyTable::default();
        for (id, e) in a.entries_above(&Vector::default()).into_iter().take(3) {
            b.merge_entry(id, e);
        }
        b.advance(&Vector([(me, 3)].into()));
        let delta = a.entries_above(b.vector());
        assert_eq!(delta.len(), 2);
        for (id, e) in delta {
            b.merge_entry(id, e);
        }
        b.advance(a.vector());
        assert!(a.entries_above(b.vector()).is_empty());
        assert_eq!(b.iter().count(), 5);
        // The next local entry gets the next count.
        let next = a
            .insert_local(me, RecordId::from([9; 16]), KeyState::Shredded)
            .unwrap();
        assert_eq!(next.dot.seq, 6);
        assert!(a.vector().le(&Vector([(me, 6)].into())));
        assert!(!a.vector().le(b.vector()));
    }

    /// A peer cannot push this replica's writer toward the limit, a table counted over it is
    /// refused whole, and the last count a writer may use is the limit itself: no `+ 1` wraps.
    #[test]
    fn counts_stop_at_the_limit_and_a_peer_cannot_raise_ours() {
        let me = me();
        let mut table = KeyTable::default();
        table
            .insert_local(me, RecordId::from([1; 16]), KeyState::Shredded)
            .unwrap();
        let before = table.vector().clone();

        let mut liar = KeyTable::default();
        liar.advance(&Vector([(me, u64::MAX)].into()));
        assert_eq!(
            table.merge(&liar, me).unwrap_err(),
            KeyCountError::FromPeer(u64::MAX)
        );
        let mut liar = KeyTable::default();
        liar.merge_entry(RecordId::from([2; 16]), live(2, 3, MAX_KEY_COUNT + 1));
        assert_eq!(
            table.merge(&liar, me).unwrap_err(),
            KeyCountError::FromPeer(MAX_KEY_COUNT + 1)
        );
        assert_eq!(table.vector(), &before);
        assert_eq!(table.iter().count(), 1);

        // At the limit a peer's count is taken, except for our own writer.
        let other = WriterId::from([3; 16]);
        table.advance_from_peer(
            &Vector([(me, MAX_KEY_COUNT), (other, MAX_KEY_COUNT)].into()),
            me,
        );
        assert_eq!(table.vector().get(&me), 1);
        assert_eq!(table.vector().get(&other), MAX_KEY_COUNT);
        let next = table
            .insert_local(me, RecordId::from([4; 16]), KeyState::Shredded)
            .unwrap();
        assert_eq!(next.dot.seq, 2);

        // A writer that reached the limit (only possible by writing 2^48 entries) stops.
        table.advance(&Vector([(me, MAX_KEY_COUNT - 1)].into()));
        let last = table
            .insert_local(me, RecordId::from([5; 16]), KeyState::Shredded)
            .unwrap();
        assert_eq!(last.dot.seq, MAX_KEY_COUNT);
        assert_eq!(
            table
                .insert_local(me, RecordId::from([6; 16]), KeyState::Shredded)
                .unwrap_err(),
            KeyCountError::Exhausted
        );
        assert_eq!(table.vector().get(&me), MAX_KEY_COUNT);
    }

    proptest::proptest! {
        /// The index answers as a scan of the whole table would, whatever was merged in,
        /// tombstones replacing keys and retirements removing them included.
        #[test]
        fn entries_above_match_a_scan(
            // Each dot names one entry: (record, kind) per (writer, count); kind 0 is a key,
            // 1 a tombstone, 2 the retirement of the key dotted (writer, count).
            dots in proptest::collection::btree_map(
                (0u8..3, 1u64..10),
                (0u8..5, 0u8..3, (0u8..3, 1u64..10)),
                0..40,
            ),
            vector in proptest::collection::btree_map(0u8..4, 0u64..10, 0..4),
        ) {
            let mut table = KeyTable::default();
            for ((origin, seq), (record, kind, (r_origin, r_seq))) in dots {
                let entry = match kind {
                    0 => live(record, origin, seq),
                    1 => tomb(origin, seq),
                    _ => retire(origin, seq, &live(0, r_origin, r_seq)),
                };
                table.merge_entry(RecordId::from([record; 16]), entry);
            }
            let vector = Vector(vector.into_iter().map(|(o, s)| (WriterId::from([o; 16]), s)).collect());
            let sorted = |mut v: Vec<(RecordId, KeyEntry)>| {
                v.sort_by_key(|(id, e)| (*id, e.dot));
                v.into_iter().map(|(id, e)| (id, e.dot, e.is_shredded(), e.erases())).collect::<Vec<_>>()
            };
            let scan = table
                .iter()
                .filter(|(_, e)| vector.get(&e.dot.origin) < e.dot.seq)
                .map(|(id, e)| (*id, e.clone()))
                .collect();
            proptest::prop_assert_eq!(sorted(table.entries_above(&vector)), sorted(scan));
            // The index names exactly the entries held: none that a tombstone or a retirement
            // removed.
            let mut indexed: Vec<(RecordId, Dot)> = table
                .by_dot
                .iter()
                .flat_map(|(origin, seqs)| {
                    seqs.iter().map(|(seq, id)| (*id, Dot { origin: *origin, seq: *seq }))
                })
                .collect();
            indexed.sort();
            let held: Vec<(RecordId, Dot)> = table.iter().map(|(id, e)| (*id, e.dot)).collect();
            proptest::prop_assert_eq!(indexed, held);
        }
    }
}
