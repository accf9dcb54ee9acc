//! Conflicts: each namespace's policy, the records that hold concurrent values, and
//! settling them.

use crate::{
    body::{self, RecordError},
    conflict::{Conflict, ConflictValue, Policy, Resolution},
    error::{ReadError, WriteError},
    ids::{Namespace, ResponseId, VaultId},
    keytable::Keys,
    namespace::NamespaceDoc,
    response::{Content, Response, Status},
    storage::ChunkStore,
};

use super::Vault;

impl<S: ChunkStore> Vault<S> {
    /// The conflict policy of a namespace (last-write-wins unless set).
    pub fn policy(&self, ns: &Namespace) -> Policy {
        self.namespaces
            .get(&Namespace::settings())
            .and_then(|doc| {
                autosurgeon::hydrate_prop::<_, autosurgeon::MaybeMissing<Policy>, _, _>(
                    &doc.doc,
                    &doc.records,
                    ns.as_str(),
                )
                .ok()
            })
            .and_then(|p| match p {
                autosurgeon::MaybeMissing::Present(p) => Some(p),
                autosurgeon::MaybeMissing::Missing => None,
            })
            .unwrap_or_default()
    }

    /// Sets the conflict policy of a namespace. Syncs like any other change.
    pub fn set_policy(
        &mut self,
        ns: &Namespace,
        policy: Policy,
        now_ms: u64,
    ) -> Result<(), WriteError> {
        if ns.is_settings() {
            return Err(WriteError::ReservedNamespace(ns.clone()));
        }
        self.write_namespace(&Namespace::settings(), now_ms, |doc, _, _| {
            autosurgeon::reconcile_prop(&mut doc.doc, &doc.records, ns.as_str(), policy)?;
            Ok(((), Vec::new()))
        })?;
        Ok(())
    }

    /// Every record that holds concurrent values, whatever its namespace's policy.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (ns, doc) in &self.namespaces {
            if ns.is_settings() {
                continue;
            }
            let policy = self.policy(ns);
            for (record, conflicted) in doc.record_ids() {
                if !conflicted || doc.keys.is_shredded(&record) {
                    continue;
                }
                let id = ResponseId {
                    namespace: ns.clone(),
                    record,
                };
                out.push(Conflict {
                    values: conflict_values(doc, &self.header.vault, &id),
                    id,
                    policy,
                });
            }
        }
        out
    }

    /// Settles a conflict by keeping one value or writing a new answer.
    pub fn resolve(
        &mut self,
        id: &ResponseId,
        resolution: Resolution,
        now_ms: u64,
    ) -> Result<Response, WriteError> {
        let doc = self
            .namespaces
            .get(&id.namespace)
            .ok_or_else(|| WriteError::NotFound(id.clone()))?;
        let values = conflict_values(doc, &self.header.vault, id);
        if values.len() < 2 {
            return Err(WriteError::NoConflict(id.clone()));
        }
        let unreadable = |source| ReadError::Body {
            id: id.clone(),
            source,
        };
        // What a new answer keeps comes from the latest readable value; when none can be read,
        // the latest value's reason is the error.
        let latest = match values.iter().find_map(|v| v.content.as_ref().ok()) {
            Some(readable) => readable.clone(),
            None => match &values[0].content {
                Ok(content) => content.clone(),
                Err(e) => return Err(unreadable(e.clone()).into()),
            },
        };
        let content = match resolution {
            Resolution::Keep(index) => {
                let count = values.len();
                let value = values
                    .into_iter()
                    .nth(index)
                    .ok_or(WriteError::NoSuchValue {
                        id: id.clone(),
                        index,
                        count,
                    })?;
                value.content.map_err(unreadable)?
            }
            Resolution::Answer(answer) => Content {
                answer: Some(answer),
                status: Status::Answered,
                ..latest
            },
        };
        self.overwrite(id, content, now_ms)
    }
}

/// The concurrent values of a record, latest first.
fn conflict_values(doc: &NamespaceDoc, vault: &VaultId, id: &ResponseId) -> Vec<ConflictValue> {
    let keys = match doc.keys.keys(&id.record) {
        Keys::Live(keys) => Some(keys),
        _ => None,
    };
    let mut values: Vec<ConflictValue> = doc
        .values(&id.record)
        .iter()
        .map(|bytes| {
            let updated = body::stamp(bytes).unwrap_or_default();
            let content = keys
                .as_deref()
                .ok_or_else(|| doc.missing_key())
                .and_then(|keys| {
                    body::open_any(bytes, keys, vault, id)
                        .map(|(_, c)| c)
                        .map_err(RecordError::from)
                });
            ConflictValue { updated, content }
        })
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.updated));
    values
}
