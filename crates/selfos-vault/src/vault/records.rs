//! Records: write, read, find, list, edit and delete one response.

use crate::{
    body::{self, BodyError, RecordError},
    error::{FindError, ReadError, WriteError},
    ids::{Namespace, RecordId, ResponseId, VaultId},
    keys::SecretKey,
    keytable::{Dot, KeyState, Keys},
    namespace::NamespaceDoc,
    response::{Answer, Content, Response, Status},
    storage::ChunkStore,
};

use super::{Vault, conflicts::conflict_values};

/// Responses read back, and those that could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    /// Readable responses, oldest first.
    pub responses: Vec<Response>,
    /// Responses that exist but cannot be read, and why: damage, a missing key, or a value
    /// over a limit of [`Content`] that a peer wrote without checking it.
    pub unreadable: Vec<(ResponseId, RecordError)>,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    /// Whether every chunk of the namespace in this replica's store was rewritten, so the
    /// record's key is in no byte this replica stores. Other replicas shred it when the
    /// tombstone reaches them. False when damaged chunks block compaction (they are listed in
    /// [`Vault::damaged`]) or the store refused the compaction's writes; a later compaction
    /// (the next delete, or enough writes) finishes the shredding.
    pub shredded_in_this_replica: bool,
}

impl<S: ChunkStore> Vault<S> {
    /// Records a new response in namespace `ns` (an agent's name, or `profile`).
    pub fn record(
        &mut self,
        ns: &Namespace,
        content: Content,
        now_ms: u64,
    ) -> Result<ResponseId, WriteError> {
        if ns.is_settings() {
            return Err(WriteError::ReservedNamespace(ns.clone()));
        }
        content.validate()?;
        self.insert(ns, &content, now_ms)
    }

    /// Writes `content` as a new record in `ns`, unchecked: [`Vault::record`] checks it first,
    /// and the tests write through here what a peer that does not check would.
    fn insert(
        &mut self,
        ns: &Namespace,
        content: &Content,
        now_ms: u64,
    ) -> Result<ResponseId, WriteError> {
        let id = ResponseId {
            namespace: ns.clone(),
            record: RecordId::random()?,
        };
        let key = SecretKey::random()?;
        self.write_namespace(ns, now_ms, |doc, clock, vault| {
            let sealed = body::seal(content, clock.tick(now_ms), &key, vault, &id)?;
            doc.put_value(&id.record, sealed)?;
            let entry = doc.insert_key(id.record, KeyState::Live(key))?;
            Ok(((), vec![(id.record, entry)]))
        })?;
        Ok(id)
    }

    /// Reads one record: `None` if absent or deleted.
    fn read(&self, id: &ResponseId) -> Option<Result<Response, RecordError>> {
        let doc = self.namespaces.get(&id.namespace)?;
        read_record(doc, &self.keys.vault, id)
    }

    /// One response, `None` if there is none (or it was deleted).
    pub fn get(&self, id: &ResponseId) -> Result<Option<Response>, ReadError> {
        match self.read(id) {
            None => Ok(None),
            Some(Ok(r)) => Ok(Some(r)),
            Some(Err(source)) => Err(ReadError::Body {
                id: id.clone(),
                source,
            }),
        }
    }

    /// Finds the one response whose id starts with `prefix` (`chatgpt/3f2a`).
    pub fn find(&self, prefix: &str) -> Result<ResponseId, FindError> {
        let malformed = || FindError::Malformed(prefix.to_owned());
        let (ns, hex) = prefix.split_once('/').ok_or_else(malformed)?;
        let ns: Namespace = ns.parse().map_err(|_| malformed())?;
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let hex = hex.to_ascii_lowercase();
        let matches: Vec<RecordId> = self
            .namespaces
            .get(&ns)
            .map(|doc| {
                doc.record_ids()
                    .into_iter()
                    .map(|(r, _)| r)
                    .filter(|r| r.to_string().starts_with(&hex) && !doc.keys.is_shredded(r))
                    .collect()
            })
            .unwrap_or_default();
        match matches.as_slice() {
            [one] => Ok(ResponseId {
                namespace: ns,
                record: *one,
            }),
            [] => Err(FindError::NoMatch(prefix.to_owned())),
            _ => Err(FindError::Ambiguous {
                prefix: prefix.to_owned(),
                count: matches.len(),
            }),
        }
    }

    /// Every response, in one namespace or all, oldest first; unreadable ones are listed apart.
    pub fn list(&self, ns: Option<&Namespace>) -> Listing {
        let mut listing = Listing::default();
        for (name, doc) in &self.namespaces {
            if name.is_settings() || ns.is_some_and(|n| n != name) {
                continue;
            }
            for (record, _) in doc.record_ids() {
                let id = ResponseId {
                    namespace: name.clone(),
                    record,
                };
                match read_record(doc, &self.keys.vault, &id) {
                    None => {}
                    Some(Ok(r)) => listing.responses.push(r),
                    Some(Err(reason)) => listing.unreadable.push((id, reason)),
                }
            }
        }
        listing
            .responses
            .sort_by(|a, b| (a.content.created_ms, &a.id).cmp(&(b.content.created_ms, &b.id)));
        listing
    }

    fn current(&self, id: &ResponseId) -> Result<Response, WriteError> {
        match self.read(id) {
            Some(Ok(r)) => Ok(r),
            Some(Err(source)) => Err(ReadError::Body {
                id: id.clone(),
                source,
            }
            .into()),
            None => match self.namespaces.get(&id.namespace) {
                Some(doc) if doc.keys.is_shredded(&id.record) => {
                    Err(WriteError::Deleted(id.clone()))
                }
                _ => Err(WriteError::NotFound(id.clone())),
            },
        }
    }

    /// Writes `content` as the record's new value, replacing every concurrent value this
    /// replica holds. The value is sealed under a fresh key, and the keys that sealed the values
    /// it replaces are retired, then compacted out of this replica's chunks: what was overwritten
    /// is as gone as a deleted record, here and on every replica the change reaches.
    pub(super) fn overwrite(
        &mut self,
        id: &ResponseId,
        content: Content,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        content.validate()?;
        let key = SecretKey::random()?;
        let (updated, compaction) =
            self.write_namespace(&id.namespace, now_ms, |doc, clock, vault| {
                if doc.keys.is_shredded(&id.record) {
                    return Err(WriteError::Deleted(id.clone()));
                }
                let values = doc.values(&id.record);
                let retired = sealing_keys(doc, &values, vault, id);
                // Later than every value it replaces, whatever this device's wall clock says:
                // the one place last-write-wins needs the clock past stamps from elsewhere, so
                // no write rescans the vault for them. A stamp beyond `MAX_CLOCK_AHEAD_MS` is
                // not followed; the value it is on is replaced all the same (see `hlc.rs`).
                for value in &values {
                    if let Ok(seen) = body::stamp(value) {
                        clock.observe(seen, now_ms);
                    }
                }
                let stamp = clock.tick(now_ms);
                let sealed = body::seal(&content, stamp, &key, vault, id)?;
                doc.put_value(&id.record, sealed)?;
                let mut new_keys =
                    vec![(id.record, doc.insert_key(id.record, KeyState::Live(key))?)];
                for dot in retired {
                    let entry = doc.insert_key(id.record, KeyState::Retired(dot))?;
                    new_keys.push((id.record, entry));
                }
                Ok((stamp, new_keys))
            })?;
        // The value is stored: a compaction that fails is retried by the next one.
        self.compact_after_erasure(&id.namespace, compaction);
        Ok(Response {
            id: id.clone(),
            updated,
            content,
            conflicted: false,
        })
    }

    /// Changes a response's answer and/or status. The value it replaces is erased: its key is
    /// retired, the retirement syncs to every replica, and this replica's chunks are rewritten so
    /// the key is in no stored byte (as [`Vault::delete`] does for a whole record).
    pub fn edit(
        &mut self,
        id: &ResponseId,
        answer: Option<Answer>,
        status: Option<Status>,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        let mut content = self.current(id)?.content;
        if let Some(a) = answer {
            content.answer = Some(a);
            if content.status != Status::Answered && status.is_none() {
                content.status = Status::Answered;
            }
        }
        if let Some(s) = status {
            content.status = s;
        }
        self.overwrite(id, content, now_ms)
    }

    /// Deletes a response for good: its key is shredded, the tombstone syncs to every replica,
    /// and this replica's chunks are rewritten so the key is in no stored byte. What Automerge
    /// keeps in its history is ciphertext nobody can open any more.
    ///
    /// A record whose value breaks a limit of [`Content`] (a peer wrote it without checking)
    /// can be deleted, although it cannot be read: deleting is how the user gets rid of it.
    pub fn delete(&mut self, id: &ResponseId, now_ms: u64) -> Result<DeleteReport, WriteError> {
        match self.current(id) {
            Ok(_)
            | Err(WriteError::Read(ReadError::Body {
                source: RecordError::Body(BodyError::Invalid(_) | BodyError::TooLarge { .. }),
                ..
            })) => {}
            Err(e) => return Err(e),
        }
        let (_, compaction) = self.write_namespace(&id.namespace, now_ms, |doc, _, _| {
            doc.delete_values(&id.record)?;
            let entry = doc.insert_key(id.record, KeyState::Shredded)?;
            Ok(((), vec![(id.record, entry)]))
        })?;
        // The tombstone is stored: the delete has happened, whatever the compaction does.
        Ok(DeleteReport {
            shredded_in_this_replica: self.compact_after_erasure(&id.namespace, compaction),
        })
    }
}

/// The dots of the keys that sealed `values`, each once: what overwriting them retires. The
/// overwrite replaces exactly the values this replica holds, and every write seals its value
/// under a key of its own, so a value written concurrently elsewhere (which the overwrite does
/// not replace) is under another key and stays readable. A value that no key here opens (its
/// key has not arrived) keeps its key.
fn sealing_keys(
    doc: &NamespaceDoc,
    values: &[Vec<u8>],
    vault: &VaultId,
    id: &ResponseId,
) -> Vec<Dot> {
    let Keys::Live(keys) = doc.keys.keys(&id.record) else {
        return Vec::new();
    };
    let secrets: Vec<&SecretKey> = keys.iter().map(|(_, key)| *key).collect();
    let mut dots: Vec<Dot> = values
        .iter()
        .filter_map(|value| body::sealed_by(value, &secrets, vault, id))
        .filter_map(|index| keys.get(index).map(|(dot, _)| *dot))
        .collect();
    dots.sort();
    dots.dedup();
    dots
}

/// Decrypts one record, choosing the value with the latest stamp when it holds several.
fn read_record(
    doc: &NamespaceDoc,
    vault: &VaultId,
    id: &ResponseId,
) -> Option<Result<Response, RecordError>> {
    if doc.values(&id.record).is_empty() {
        return None;
    }
    match doc.keys.keys(&id.record) {
        Keys::Live(_) => {}
        // A delete that raced an edit: the edit's value survives in the map, but its key is
        // shredded, so the record stays deleted.
        Keys::Shredded => return None,
        Keys::Missing => return Some(Err(doc.missing_key())),
    }
    let values = conflict_values(doc, vault, id);
    let conflicted = values.len() > 1;
    let latest = values.into_iter().next()?;
    Some(latest.content.map(|content| Response {
        id: id.clone(),
        updated: latest.updated,
        content,
        conflicted,
    }))
}

#[cfg(test)]
mod tests {
    use automerge::{ReadDoc, transaction::Transactable};

    use super::*;
    use crate::{
        BodyError, ContentError, ContentField, MAX_TEXT_LEN, MAX_TIME_MS, MAX_TOPIC_LEN,
        MAX_TOPICS, MemoryStore, ReplicationMessage, ReplicationState, Resolution,
        unit_kit::{NOW, answer, pair, pass},
    };

    /// Values over each limit, as a peer that does not check them writes them, and the error
    /// each one is read back with.
    fn oversized() -> Vec<(Content, BodyError)> {
        let too_long = |field, max| BodyError::Invalid(ContentError::TooLong { field, max });
        // 512 KiB: larger than any content within the limits, so never decrypted.
        let mut huge = answer("eight topics of 64 KiB");
        huge.context.topics = vec!["t".repeat(64 << 10); 8];
        let mut topics = answer("eight topics over the limit");
        topics.context.topics = vec!["t".repeat(MAX_TOPIC_LEN + 1); 8];
        let mut many = answer("65 topics");
        many.context.topics = vec!["rust".into(); MAX_TOPICS + 1];
        let mut excerpt = answer("a long excerpt");
        excerpt.context.prompt_excerpt = Some("p".repeat(MAX_TEXT_LEN + 1));
        let mut agent = answer("a long agent");
        agent.agent = "a".repeat(65);
        let mut late = answer("after year 9999");
        late.created_ms = MAX_TIME_MS + 1;
        vec![
            (topics, too_long(ContentField::Topic(0), MAX_TOPIC_LEN)),
            (
                many,
                BodyError::Invalid(ContentError::TooMany {
                    field: ContentField::Topics,
                    max: MAX_TOPICS,
                }),
            ),
            (
                answer(&"x".repeat(MAX_TEXT_LEN + 1)),
                too_long(ContentField::Answer, MAX_TEXT_LEN),
            ),
            (excerpt, too_long(ContentField::PromptExcerpt, MAX_TEXT_LEN)),
            (agent, too_long(ContentField::Agent, 64)),
            (
                late,
                BodyError::Invalid(ContentError::TooLarge {
                    field: ContentField::CreatedMs,
                    max: MAX_TIME_MS,
                }),
            ),
            (
                huge,
                BodyError::TooLarge {
                    max: body::MAX_BODY_LEN,
                },
            ),
        ]
    }

    /// What `v` lists: the readable answers' texts, and each unreadable record's reason.
    fn listed(v: &Vault<MemoryStore>) -> (Vec<Content>, Vec<(ResponseId, RecordError)>) {
        let listing = v.list(None);
        let readable = listing.responses.into_iter().map(|r| r.content).collect();
        let mut unreadable = listing.unreadable;
        unreadable.sort_by(|a, b| a.0.cmp(&b.0));
        (readable, unreadable)
    }

    fn expected(written: &[(ResponseId, BodyError)]) -> Vec<(ResponseId, RecordError)> {
        let mut out: Vec<_> = written
            .iter()
            .map(|(id, e)| (id.clone(), RecordError::Body(e.clone())))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A peer that skips the checks (another build, a bug, or a writer holding the
    /// passphrase) writes values over the limits; the receiver merges them without failing,
    /// and lists each as unreadable, naming the limit, never as a response.
    #[test]
    fn a_peers_values_over_the_limits_are_listed_as_unreadable() {
        let (mut me, mut peer) = pair();
        let ns = Namespace::new("chatgpt").unwrap();
        let fine = answer("a worked example");
        peer.record(&ns, fine.clone(), NOW).unwrap();
        let written: Vec<(ResponseId, BodyError)> = oversized()
            .into_iter()
            .map(|(content, e)| (peer.insert(&ns, &content, NOW).unwrap(), e))
            .collect();

        me.merge_from(&mut peer, NOW + 1).unwrap();
        assert_eq!(listed(&me), (vec![fine.clone()], expected(&written)));
        for (id, e) in &written {
            let err = me.get(id).unwrap_err();
            assert!(err.to_string().contains(&e.to_string()), "{err}");
            assert!(matches!(
                me.edit(id, None, Some(Status::Skipped), NOW),
                Err(WriteError::Read(_))
            ));
        }
        let export = me.export();
        assert_eq!(export.responses.len(), 1);
        assert!(me.export_markdown().len() < 1_000);

        // Reopened, the receiver reads its store the same way.
        let mut reopened = Vault::open(me.store().clone(), &pass()).unwrap();
        assert_eq!(listed(&reopened), (vec![fine.clone()], expected(&written)));

        // The user can delete them, and the deletes reach the peer.
        for (id, _) in &written {
            reopened.delete(id, NOW + 2).unwrap();
        }
        assert_eq!(listed(&reopened), (vec![fine.clone()], Vec::new()));
        peer.merge_from(&mut reopened, NOW + 3).unwrap();
        assert_eq!(listed(&peer), (vec![fine], Vec::new()));
    }

    /// Sends `from`'s replication message to `to` through its bytes; whether there was one.
    fn send(
        from: &mut Vault<MemoryStore>,
        from_state: &mut ReplicationState,
        to: &mut Vault<MemoryStore>,
        to_state: &mut ReplicationState,
        ns: &Namespace,
    ) -> bool {
        let Some(message) = from.generate_replication_message(ns, from_state).unwrap() else {
            return false;
        };
        let mut bytes = Vec::new();
        message.encode_into(&mut bytes);
        let message = ReplicationMessage::decode(&bytes).unwrap();
        to.receive_replication_message(ns, to_state, message, NOW)
            .unwrap();
        true
    }

    /// The same values, received through replication messages (what the sync engine carries).
    #[test]
    fn values_over_the_limits_received_by_sync_are_unreadable() {
        let (mut me, mut peer) = pair();
        let ns = Namespace::new("chatgpt").unwrap();
        let written: Vec<(ResponseId, BodyError)> = oversized()
            .into_iter()
            .map(|(content, e)| (peer.insert(&ns, &content, NOW).unwrap(), e))
            .collect();
        let (mut mine, mut theirs) = (ReplicationState::new(), ReplicationState::new());
        while send(&mut peer, &mut theirs, &mut me, &mut mine, &ns)
            | send(&mut me, &mut mine, &mut peer, &mut theirs, &ns)
        {}
        assert_eq!(me.heads(&ns), peer.heads(&ns));
        assert_eq!(listed(&me), (Vec::new(), expected(&written)));
    }

    /// Writes `content` into the flat map of records, as a replica from before the shards does,
    /// sealed under a key of its own, as every write is now (FORMAT.md, "Overwrite" tells what
    /// becomes of a concurrent edit that a build from before that sealed under the record's key).
    fn put_flat(vault: &mut Vault<MemoryStore>, id: &ResponseId, content: &Content, now_ms: u64) {
        vault
            .write_namespace(&id.namespace, now_ms, |doc, clock, key_vault| {
                let key = SecretKey::random()?;
                let sealed = body::seal(content, clock.tick(now_ms), &key, key_vault, id)?;
                doc.doc.put(&doc.records, id.record.to_string(), sealed)?;
                let entry = doc.insert_key(id.record, KeyState::Live(key))?;
                Ok(((), vec![(id.record, entry)]))
            })
            .unwrap();
    }

    /// How many values of `id` the flat map and its shard hold on `vault`.
    fn placed(vault: &mut Vault<MemoryStore>, id: &ResponseId) -> (usize, usize) {
        let doc = vault.namespace_mut(&id.namespace).unwrap();
        let all = doc.values(&id.record).len();
        let flat = doc
            .doc
            .get_all(&doc.records, id.record.to_string())
            .unwrap()
            .len();
        (flat, all - flat)
    }

    /// Records that replicas from before the shards wrote into the flat map are read, move to
    /// their shard when edited, conflict with a concurrent edit made in the flat map, and are
    /// deleted from both.
    #[test]
    fn records_from_before_the_shards_are_read_moved_on_edit_and_deleted() {
        let (mut me, mut old) = pair();
        let ns = Namespace::new("chatgpt").unwrap();
        let id = ResponseId {
            namespace: ns.clone(),
            record: RecordId::random().unwrap(),
        };
        put_flat(&mut old, &id, &answer("written flat"), NOW);
        me.merge_from(&mut old, NOW).unwrap();
        assert_eq!(placed(&mut me, &id), (1, 0));
        let read = me.get(&id).unwrap().unwrap();
        assert_eq!(
            read.content.answer,
            Some(Answer::Text("written flat".into()))
        );
        assert_eq!(me.list(None).responses.len(), 1);

        // Edited here (into the shard) and, concurrently, in the flat map by the old replica.
        me.edit(&id, Some(Answer::Text("mine".into())), None, NOW + 1)
            .unwrap();
        assert_eq!(placed(&mut me, &id), (0, 1));
        put_flat(&mut old, &id, &answer("theirs"), NOW + 2);
        me.merge_from(&mut old, NOW + 3).unwrap();
        assert_eq!(placed(&mut me, &id), (1, 1));
        let conflicts = me.conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].values.len(), 2);
        assert_eq!(me.list(None).responses.len(), 1);

        me.delete(&id, NOW + 4).unwrap();
        assert_eq!(placed(&mut me, &id), (0, 0));
        assert!(me.get(&id).unwrap().is_none());
        assert!(me.list(None).responses.is_empty());
        // Nothing is left under the record's name in the flat map either.
        let doc = me.namespace_mut(&ns).unwrap();
        assert!(
            doc.doc
                .get(&doc.records, id.record.to_string())
                .unwrap()
                .is_none()
        );
    }

    /// A peer's concurrent value over a limit is listed in the conflict as unreadable, and
    /// cannot be kept; the readable value can.
    #[test]
    fn a_conflicting_value_over_a_limit_cannot_be_kept() {
        let (mut me, mut peer) = pair();
        let ns = Namespace::new("chatgpt").unwrap();
        let id = me.record(&ns, answer("first"), NOW).unwrap();
        peer.merge_from(&mut me, NOW).unwrap();
        me.edit(&id, Some(Answer::Text("mine".into())), None, NOW + 1)
            .unwrap();
        let (mut big, error) = oversized().swap_remove(0);
        big.created_ms = NOW;
        // The peer's edit, unchecked: overwrite checks, so seal it as `overwrite` would, under
        // a key of its own.
        peer.write_namespace(&ns, NOW + 2, |doc, clock, vault| {
            let key = SecretKey::random()?;
            let sealed = body::seal(&big, clock.tick(NOW + 2), &key, vault, &id)?;
            doc.put_value(&id.record, sealed)?;
            Ok((
                (),
                vec![(id.record, doc.insert_key(id.record, KeyState::Live(key))?)],
            ))
        })
        .unwrap();
        me.merge_from(&mut peer, NOW + 3).unwrap();

        let conflicts = me.conflicts();
        assert_eq!(conflicts.len(), 1);
        let values = &conflicts[0].values;
        assert_eq!(values[0].content, Err(RecordError::Body(error)));
        assert_eq!(
            values[1].content.as_ref().map(|c| c.answer.clone()),
            Ok(Some(Answer::Text("mine".into())))
        );
        assert!(matches!(
            me.resolve(&id, Resolution::Keep(0), NOW + 4),
            Err(WriteError::Read(_))
        ));
        let kept = me.resolve(&id, Resolution::Keep(1), NOW + 4).unwrap();
        assert_eq!(kept.content.answer, Some(Answer::Text("mine".into())));
        assert_eq!(me.list(None).responses.len(), 1);
    }

    /// A peer whose clock runs a year ahead (or that stamps so on purpose) writes a record and
    /// edits a shared one concurrently. Every replica shows the same winners
    /// (the stamps decide, the data alone); no replica's clock follows the stamp, so later writes
    /// here are stamped by this device's clock; and an edit made after seeing the far-ahead
    /// value replaces it, whatever the stamps.
    #[test]
    fn a_stamp_a_year_ahead_wins_nothing_it_did_not_race_and_drags_no_clock() {
        const YEAR: u64 = 365 * 24 * 60 * 60 * 1000;
        let (mut me, mut peer) = pair();
        let ns = Namespace::new("chatgpt").unwrap();
        let shared = me.record(&ns, answer("shared"), NOW).unwrap();
        peer.merge_from(&mut me, NOW).unwrap();
        // Concurrent edits: the peer's is stamped a year ahead.
        me.edit(&shared, Some(Answer::Text("mine".into())), None, NOW + 1)
            .unwrap();
        let ahead = peer
            .edit(
                &shared,
                Some(Answer::Text("ahead".into())),
                None,
                NOW + YEAR,
            )
            .unwrap();
        let theirs = peer
            .record(&ns, answer("from the future"), NOW + YEAR)
            .unwrap();
        me.merge_from(&mut peer, NOW + 2).unwrap();
        peer.merge_from(&mut me, NOW + YEAR).unwrap();
        for v in [&me, &peer] {
            let read = v.get(&shared).unwrap().unwrap();
            assert_eq!(read.updated, ahead.updated, "same winner everywhere");
            assert!(read.conflicted, "the race is shown");
        }

        // Editing after seeing the far-ahead values: stamped by this device's clock, and
        // still the value every replica reads.
        let edited = me
            .edit(
                &theirs,
                Some(Answer::Text("edited here".into())),
                None,
                NOW + 3,
            )
            .unwrap();
        assert_eq!(edited.updated.wall_ms, NOW + 3);
        let kept = me
            .resolve(
                &shared,
                Resolution::Answer(Answer::Text("settled".into())),
                NOW + 4,
            )
            .unwrap();
        assert_eq!(kept.updated.wall_ms, NOW + 4);
        let later = me.record(&ns, answer("later"), NOW + 5).unwrap();
        assert_eq!(me.get(&later).unwrap().unwrap().updated.wall_ms, NOW + 5);
        peer.merge_from(&mut me, NOW + YEAR).unwrap();
        for v in [&me, &peer] {
            let text = |id| v.get(id).unwrap().unwrap().content.answer;
            assert_eq!(text(&theirs), Some(Answer::Text("edited here".into())));
            assert_eq!(text(&shared), Some(Answer::Text("settled".into())));
            assert!(!v.get(&shared).unwrap().unwrap().conflicted);
        }
    }
}
