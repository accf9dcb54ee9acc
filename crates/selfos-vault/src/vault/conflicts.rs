//! Conflicts: each namespace's policy, the records that hold concurrent values, and
//! settling them.

use automerge::transaction::Transactable;

use crate::{
    body::{self, RecordError},
    conflict::{Conflict, ConflictValue, Policy, Resolution},
    error::{ReadError, WriteError},
    ids::{Namespace, ResponseId, VaultId},
    keytable::Keys,
    namespace::NamespaceDoc,
    response::{Content, Response, Status},
    settings::{self, StampedPolicy},
    storage::ChunkStore,
};

use super::Vault;

impl<S: ChunkStore> Vault<S> {
    /// The conflict policy of a namespace (last-write-wins unless set).
    pub fn policy(&self, ns: &Namespace) -> Policy {
        self.stamped_policy(ns)
            .map(|p| p.policy)
            .unwrap_or_default()
    }

    /// The policy set for a namespace, with its stamp; `None` if none was set.
    fn stamped_policy(&self, ns: &Namespace) -> Option<StampedPolicy> {
        settings::current(self.namespaces.get(&Namespace::settings())?, ns.as_str())
    }

    /// Every namespace whose policy was set, with it.
    pub(crate) fn policies_set(&self) -> Vec<(Namespace, StampedPolicy)> {
        self.namespaces
            .get(&Namespace::settings())
            .map(settings::all)
            .unwrap_or_default()
    }

    /// Sets the conflict policy of a namespace. Syncs like any other change; when two replicas
    /// set it concurrently, the later by hybrid logical clock wins everywhere.
    pub fn set_policy(
        &mut self,
        ns: &Namespace,
        policy: Policy,
        now_ms: u64,
    ) -> Result<(), WriteError> {
        if ns.is_settings() {
            return Err(WriteError::ReservedNamespace(ns.clone()));
        }
        self.write_namespace(&Namespace::settings(), now_ms, |doc, clock, _| {
            // Order after the setting this replica sees, even if its wall clock is behind.
            if let Some(seen) = settings::current(doc, ns.as_str()) {
                clock.observe(seen.updated, now_ms);
            }
            let updated = clock.tick(now_ms);
            let value = StampedPolicy { policy, updated }.encode();
            doc.doc.put(&doc.records, ns.as_str(), value)?;
            Ok(((), Vec::new()))
        })?;
        Ok(())
    }

    /// Writes the policies (an import's) that were set later than what this replica has set,
    /// keeping their stamps. One chunk.
    pub(crate) fn merge_policies(
        &mut self,
        policies: Vec<(Namespace, StampedPolicy)>,
        now_ms: u64,
    ) -> Result<(), WriteError> {
        let newer: Vec<_> = policies
            .into_iter()
            .filter(|(ns, p)| {
                self.stamped_policy(ns)
                    .is_none_or(|here| p.updated > here.updated)
            })
            .collect();
        if newer.is_empty() {
            return Ok(());
        }
        self.write_namespace(&Namespace::settings(), now_ms, |doc, clock, _| {
            for (ns, policy) in &newer {
                clock.observe(policy.updated, now_ms);
                doc.doc.put(&doc.records, ns.as_str(), policy.encode())?;
            }
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
                let values = conflict_values(doc, &self.keys.vault, &id);
                if values.len() > 1 {
                    out.push(Conflict { values, id, policy });
                }
            }
        }
        out
    }

    /// Settles a conflict by keeping one value or writing a new answer. The values it replaces,
    /// the kept one's old copy included, are erased like an edited value (see [`Vault::edit`]).
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
        let values = conflict_values(doc, &self.keys.vault, id);
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

/// The concurrent values of a record, latest first. Values with the same stamp that open to the
/// same content are one write that reached the record more than once (two replicas that import
/// one export write it with the stamp the export gives it), so they count once.
pub(super) fn conflict_values(
    doc: &NamespaceDoc,
    vault: &VaultId,
    id: &ResponseId,
) -> Vec<ConflictValue> {
    let keys: Option<Vec<_>> = match doc.keys.keys(&id.record) {
        Keys::Live(keys) => Some(keys.into_iter().map(|(_, key)| key).collect()),
        _ => None,
    };
    let mut values: Vec<ConflictValue> = Vec::new();
    for bytes in doc.values(&id.record) {
        let updated = body::stamp(&bytes).unwrap_or_default();
        let content = keys
            .as_deref()
            .ok_or_else(|| doc.missing_key())
            .and_then(|keys| {
                body::open_any(&bytes, keys, vault, id)
                    .map(|(_, c)| c)
                    .map_err(RecordError::from)
            });
        let same_write =
            |v: &ConflictValue| v.updated == updated && v.content.is_ok() && v.content == content;
        if !values.iter().any(same_write) {
            values.push(ConflictValue { updated, content });
        }
    }
    values.sort_by_key(|v| std::cmp::Reverse(v.updated));
    values
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;

    use crate::{
        conflict::Policy,
        ids::Namespace,
        keys::{KdfParams, Passphrase},
        storage::MemoryStore,
        vault::Vault,
    };

    const NOW: u64 = 1_700_000_000_000;

    /// Writes a policy as builds before stamps did: autosurgeon's bare variant name.
    fn set_bare(v: &mut Vault<MemoryStore>, ns: &Namespace, name: &str) {
        v.write_namespace(&Namespace::settings(), NOW, |doc, _, _| {
            doc.doc.put(&doc.records, ns.as_str(), name)?;
            Ok(((), Vec::new()))
        })
        .unwrap();
    }

    #[test]
    fn a_bare_policy_from_before_stamps_is_read_and_any_stamped_one_wins_over_it() {
        let pass = Passphrase::new("correct horse battery staple".into());
        let kdf = KdfParams::new(64, 1, 1).unwrap();
        let mut a = Vault::create(MemoryStore::new(), &pass, kdf).unwrap();
        let mut b = Vault::restore(MemoryStore::new(), &a.secret(), &pass, kdf).unwrap();
        let claude = Namespace::new("claude").unwrap();
        set_bare(&mut a, &claude, "UserMerge");
        assert_eq!(a.policy(&claude), Policy::UserMerge);
        let reopened = Vault::open(a.store().clone(), &pass).unwrap();
        assert_eq!(reopened.policy(&claude), Policy::UserMerge);
        let exported = a.export();
        assert_eq!(
            exported
                .policies
                .get("claude")
                .map(|p| (p.policy(), p.updated())),
            Some((Policy::UserMerge, crate::hlc::Hlc::default()))
        );

        // Set concurrently elsewhere at the earliest wall time: still later than a bare value.
        b.set_policy(&claude, Policy::LastWriteWins, 1).unwrap();
        a.merge_from(&mut b, NOW).unwrap();
        b.merge_from(&mut a, NOW).unwrap();
        assert_eq!(a.policy(&claude), Policy::LastWriteWins);
        assert_eq!(b.policy(&claude), Policy::LastWriteWins);

        // Two concurrent bare values: every replica picks the same.
        let (mut c, mut d) = (
            Vault::restore(MemoryStore::new(), &a.secret(), &pass, kdf).unwrap(),
            Vault::restore(MemoryStore::new(), &a.secret(), &pass, kdf).unwrap(),
        );
        let gemini = Namespace::new("gemini").unwrap();
        set_bare(&mut c, &gemini, "LastWriteWins");
        set_bare(&mut d, &gemini, "UserMerge");
        c.merge_from(&mut d, NOW).unwrap();
        d.merge_from(&mut c, NOW).unwrap();
        assert_eq!(c.policy(&gemini), d.policy(&gemini));
    }
}
