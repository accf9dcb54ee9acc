//! Records: write, read, find, list, edit and delete one response.

use automerge::transaction::Transactable;

use crate::{
    body::{self, RecordError},
    error::{FindError, ReadError, WriteError},
    ids::{Namespace, RecordId, ResponseId, VaultId},
    keys::SecretKey,
    keytable::{KeyState, Keys},
    namespace::{Compaction, NamespaceDoc},
    response::{Answer, Content, Response, Status},
    storage::ChunkStore,
};

use super::{Vault, conflicts::conflict_values};

/// Responses read back, and those that could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    /// Readable responses, oldest first.
    pub responses: Vec<Response>,
    /// Responses that exist but cannot be read, and why.
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
        let id = ResponseId {
            namespace: ns.clone(),
            record: RecordId::random()?,
        };
        let key = SecretKey::random()?;
        let me = self.header.replica;
        self.write_namespace(ns, now_ms, |doc, clock, vault| {
            let sealed = body::seal(&content, clock.tick(now_ms), &key, vault, &id)?;
            doc.doc.put(&doc.records, id.record.to_string(), sealed)?;
            let entry = doc.keys.insert_local(me, id.record, KeyState::Live(key));
            Ok(((), vec![(id.record, entry)]))
        })?;
        Ok(id)
    }

    /// Reads one record: `None` if absent or deleted.
    fn read(&self, id: &ResponseId) -> Option<Result<Response, RecordError>> {
        let doc = self.namespaces.get(&id.namespace)?;
        read_record(doc, &self.header.vault, id)
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
                match read_record(doc, &self.header.vault, &id) {
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

    /// Writes `content` as the record's new value, replacing every concurrent value.
    pub(super) fn overwrite(
        &mut self,
        id: &ResponseId,
        content: Content,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        content.validate()?;
        let (updated, _) = self.write_namespace(&id.namespace, now_ms, |doc, clock, vault| {
            let Keys::Live(keys) = doc.keys.keys(&id.record) else {
                return Err(WriteError::Deleted(id.clone()));
            };
            let Some(key) = keys.first() else {
                return Err(WriteError::Deleted(id.clone()));
            };
            let stamp = clock.tick(now_ms);
            let sealed = body::seal(&content, stamp, key, vault, id)?;
            doc.doc.put(&doc.records, id.record.to_string(), sealed)?;
            Ok((stamp, Vec::new()))
        })?;
        Ok(Response {
            id: id.clone(),
            updated,
            content,
            conflicted: false,
        })
    }

    /// Changes a response's answer and/or status.
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
    pub fn delete(&mut self, id: &ResponseId, now_ms: u64) -> Result<DeleteReport, WriteError> {
        self.current(id)?;
        let me = self.header.replica;
        let (_, compaction) = self.write_namespace(&id.namespace, now_ms, |doc, _, _| {
            doc.doc.delete(&doc.records, id.record.to_string())?;
            let entry = doc.keys.insert_local(me, id.record, KeyState::Shredded);
            Ok(((), vec![(id.record, entry)]))
        })?;
        // The tombstone is stored: the delete has happened, whatever the compaction does.
        let compaction = match compaction {
            Compaction::Done => Compaction::Done,
            _ => self
                .compact_namespace(&id.namespace)
                .unwrap_or(Compaction::NotDue),
        };
        Ok(DeleteReport {
            shredded_in_this_replica: compaction == Compaction::Done,
        })
    }
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
        Keys::Missing => return Some(Err(RecordError::KeyMissing)),
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
