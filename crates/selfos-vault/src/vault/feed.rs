//! The change feed: which responses changed since a reader last looked, found at a cost that
//! follows the changes, not the vault. A reader that keeps state built from the records (the
//! trainer's history, the knowledge graph) holds a [`Cursor`] and asks
//! [`Vault::changed_since`] whenever anything may have changed: a local write, a sync message, a
//! merge, a refresh.
//!
//! Per namespace the cursor holds what the reader had seen: the document's heads, and how far
//! the key table's log went. A record changed when a change after those heads put or deleted
//! its value, or when its key entry changed: a key that arrives after its value makes the record
//! readable with no change to the document. A document loaded afresh (a failed write reloads it
//! from storage) starts a new key log under a new writer, so the cursor names each document by
//! the writer of its opening, and a reader whose document was replaced starts over.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ChangeHash, legacy::Key};

use crate::{
    ids::{Namespace, RecordId, ResponseId, VaultId, WriterId},
    response::Response,
    storage::ChunkStore,
};

use super::Vault;

/// How far a reader has read a vault's records. [`Cursor::default`] has read nothing.
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    vault: Option<VaultId>,
    namespaces: BTreeMap<Namespace, Mark>,
}

/// How far a reader has read one namespace's document.
#[derive(Debug, Clone)]
struct Mark {
    writer: WriterId,
    heads: Vec<ChangeHash>,
    keys: usize,
}

/// The answer of [`Vault::changed_since`].
#[derive(Debug)]
pub struct Changes {
    /// Whether the reader's view could not be brought up to date (a first read, another
    /// vault's cursor, a document reloaded): `responses` holds every readable response, and
    /// the reader forgets what it read before.
    pub everything: bool,
    /// Responses written, edited or made readable since, as [`Vault::get`] reads them.
    pub responses: Vec<Response>,
    /// Responses deleted since, or no longer readable ([`Vault::list`] tells why).
    pub gone: Vec<ResponseId>,
    /// Where the reader stands now.
    pub cursor: Cursor,
}

impl<S: ChunkStore> Vault<S> {
    /// The responses that changed since `since`, read, and the cursor to ask from next time.
    /// Costs what the changes since hold, not what the vault holds, unless it answers
    /// `everything`.
    /// Takes `&mut self` because Automerge lists changes only from a document it may write to;
    /// nothing changes.
    pub fn changed_since(&mut self, since: &Cursor) -> Changes {
        let vault = self.keys.vault;
        let everything = since.vault != Some(vault)
            || since.namespaces.iter().any(|(ns, mark)| {
                self.namespaces
                    .get(ns)
                    .is_none_or(|doc| doc.writer != mark.writer)
            });
        let mut ids = BTreeSet::new();
        let mut namespaces = BTreeMap::new();
        for (ns, doc) in &mut self.namespaces {
            if ns.is_settings() {
                continue;
            }
            let seen = since.namespaces.get(ns).filter(|_| !everything);
            let heads = doc.stored_heads().to_vec();
            let mut changed = BTreeSet::new();
            match seen {
                // Every record of a namespace the reader has not seen is new to it.
                None => changed.extend(doc.record_ids().into_iter().map(|(r, _)| r)),
                Some(mark) if mark.heads != heads => {
                    // The records map and the shards are the maps whose keys are record ids (see
                    // `namespace::genesis`): every put or delete of a value is an op on one.
                    for change in doc.doc.get_changes(&mark.heads) {
                        changed.extend(change.decode().operations.into_iter().filter_map(|op| {
                            match op.key {
                                Key::Map(key) => key.parse::<RecordId>().ok(),
                                Key::Seq(_) => None,
                            }
                        }));
                    }
                }
                Some(_) => {}
            }
            let (keyed, keys) = doc.keys.changed_since(seen.map_or(0, |m| m.keys));
            changed.extend(keyed.iter().copied());
            ids.extend(changed.into_iter().map(|record| ResponseId {
                namespace: ns.clone(),
                record,
            }));
            let mark = Mark {
                writer: doc.writer,
                heads,
                keys,
            };
            namespaces.insert(ns.clone(), mark);
        }
        let (mut responses, mut gone) = (Vec::new(), Vec::new());
        for id in ids {
            match self.get(&id) {
                Ok(Some(r)) => responses.push(r),
                Ok(None) | Err(_) => gone.push(id),
            }
        }
        Changes {
            everything,
            responses,
            gone,
            cursor: Cursor {
                vault: Some(vault),
                namespaces,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Answer, KdfParams, MemoryStore, Passphrase,
        unit_kit::{NOW, answer, pair},
    };

    fn chatgpt() -> Namespace {
        Namespace::new("chatgpt").unwrap()
    }

    fn ids(changes: &Changes) -> Vec<&ResponseId> {
        changes.responses.iter().map(|r| &r.id).collect()
    }

    #[test]
    fn a_first_read_is_everything_then_only_what_changed() {
        let (mut a, _) = pair();
        let first = a.record(&chatgpt(), answer("one"), NOW).unwrap();
        let second = a.record(&chatgpt(), answer("two"), NOW + 1).unwrap();
        let all = a.changed_since(&Cursor::default());
        assert!(all.everything);
        assert_eq!(all.responses.len(), 2);

        let idle = a.changed_since(&all.cursor);
        assert!(!idle.everything && idle.responses.is_empty() && idle.gone.is_empty());

        let third = a.record(&chatgpt(), answer("three"), NOW + 2).unwrap();
        let written = a.changed_since(&idle.cursor);
        assert!(!written.everything);
        assert_eq!(ids(&written), vec![&third]);

        let edited = a
            .edit(
                &first,
                Some(Answer::Text("one, edited".into())),
                None,
                NOW + 3,
            )
            .unwrap();
        let after_edit = a.changed_since(&written.cursor);
        assert_eq!(after_edit.responses, vec![edited]);

        a.delete(&second, NOW + 4).unwrap();
        let after_delete = a.changed_since(&after_edit.cursor);
        assert!(after_delete.responses.is_empty());
        assert_eq!(after_delete.gone, vec![second]);
    }

    #[test]
    fn what_a_merge_brings_is_listed() {
        let (mut a, mut b) = pair();
        a.record(&chatgpt(), answer("mine"), NOW).unwrap();
        let seen = a.changed_since(&Cursor::default()).cursor;
        let theirs = [
            b.record(&chatgpt(), answer("theirs"), NOW).unwrap(),
            b.record(
                &Namespace::new("claude").unwrap(),
                answer("new namespace"),
                NOW,
            )
            .unwrap(),
        ];
        a.merge_from(&mut b, NOW + 1).unwrap();
        let merged = a.changed_since(&seen);
        assert!(!merged.everything);
        let mut expected: Vec<&ResponseId> = theirs.iter().collect();
        expected.sort();
        assert_eq!(ids(&merged), expected);
    }

    #[test]
    fn another_vaults_cursor_starts_over() {
        let (mut a, _) = pair();
        a.record(&chatgpt(), answer("one"), NOW).unwrap();
        let kdf = KdfParams::new(64, 1, 1).unwrap();
        let pass = Passphrase::new("another vault entirely".into());
        let mut other = Vault::create(MemoryStore::new(), &pass, kdf).unwrap();
        other.record(&chatgpt(), answer("other"), NOW).unwrap();
        let elsewhere = other.changed_since(&Cursor::default()).cursor;
        let here = a.changed_since(&elsewhere);
        assert!(here.everything);
        assert_eq!(here.responses.len(), 1);
    }
}
