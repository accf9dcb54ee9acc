//! Merging another replica of the same vault directly (offline sync).

use crate::{error::WriteError, ids::Namespace, storage::ChunkStore};

use super::Vault;

/// What a merge brought in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Responses present after the merge that were not before.
    pub new_responses: usize,
    /// Deletions that arrived with the merge.
    pub deletions: usize,
    /// Response namespaces that changed.
    pub namespaces: Vec<Namespace>,
    /// Whether settings (conflict policies) changed.
    pub settings_changed: bool,
}

impl<S: ChunkStore> Vault<S> {
    /// How many records of `ns` are present and not deleted, without decrypting any.
    fn live_records(&self, ns: &Namespace) -> usize {
        self.namespaces.get(ns).map_or(0, |doc| {
            doc.record_ids()
                .iter()
                .filter(|(r, _)| !doc.keys.is_shredded(r))
                .count()
        })
    }

    /// Merges another replica of the same vault into this one, and stores what it brought. The
    /// other replica is read, not changed.
    pub fn merge_from<T: ChunkStore>(
        &mut self,
        other: &mut Vault<T>,
        now_ms: u64,
    ) -> Result<MergeReport, WriteError> {
        // The id derives from the secret, so equal ids mean equal secrets; comparing the
        // secrets too costs nothing and does not rest on that.
        if other.keys.vault != self.keys.vault || !other.keys.secret.same_as(&self.keys.secret) {
            return Err(WriteError::OtherVault);
        }
        let mut report = MergeReport::default();
        let names: Vec<Namespace> = other.namespaces.keys().cloned().collect();
        for ns in names {
            let Some(theirs) = other.namespaces.get_mut(&ns) else {
                continue;
            };
            let before = self.live_records(&ns);
            let ((changed, shredded, erased), compaction) =
                self.write_namespace(&ns, now_ms, |doc, _, _| {
                    let heads = doc.doc.get_heads();
                    let keys = doc.merge(theirs)?;
                    let shredded = keys.iter().filter(|(_, e)| e.is_shredded()).count();
                    let erased = keys.iter().any(|(_, e)| e.erases());
                    let changed = !keys.is_empty() || doc.doc.get_heads() != heads;
                    Ok(((changed, shredded, erased), keys))
                })?;
            if erased {
                self.compact_after_erasure(&ns, compaction);
            }
            if changed {
                if ns.is_settings() {
                    report.settings_changed = true;
                } else {
                    report.namespaces.push(ns.clone());
                }
            }
            report.deletions += shredded;
            report.new_responses += self.live_records(&ns).saturating_sub(before);
        }
        Ok(report)
    }
}
