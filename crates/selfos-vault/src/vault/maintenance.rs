//! Maintenance: compaction, and reading what other processes stored.

use crate::{
    error::{ReadError, WriteError},
    ids::Namespace,
    namespace::Compaction,
    storage::ChunkStore,
};

use super::{Parts, Vault, loaded};

impl<S: ChunkStore> Vault<S> {
    pub(crate) fn compact_namespace(&mut self, ns: &Namespace) -> Result<Compaction, WriteError> {
        let Parts {
            store,
            sealer,
            namespaces,
            ..
        } = self.parts();
        match namespaces.get_mut(ns) {
            Some(doc) => doc.compact(store, &sealer),
            None => Ok(Compaction::NotDue),
        }
    }

    /// Compacts `ns` after a write that stored an erasure (a tombstone or a retirement), unless
    /// the write compacted it already: compaction is what takes the destroyed keys out of every
    /// stored byte. Returns whether the namespace is compacted; when it is not (damage, or the
    /// store refused), the next compaction finishes the job.
    pub(crate) fn compact_after_erasure(&mut self, ns: &Namespace, write: Compaction) -> bool {
        write == Compaction::Done || self.compact_namespace(ns).ok() == Some(Compaction::Done)
    }

    /// Reads what other processes stored in this replica's store since it was opened (or last
    /// refreshed), for long-running clients such as `selfos sync --watch`. Returns the
    /// namespaces that changed.
    pub fn refresh(&mut self) -> Result<Vec<Namespace>, ReadError> {
        let mut changed = Vec::new();
        let Parts {
            store,
            sealer,
            writers,
            namespaces,
            damaged,
            ..
        } = self.parts();
        for ns in store.namespaces()? {
            if let Some(doc) = namespaces.get_mut(&ns) {
                if doc.refresh(&*store, &sealer, damaged)? {
                    changed.push(ns);
                }
            } else {
                loaded(namespaces, &*store, &sealer, writers, damaged, &ns)?;
                changed.push(ns);
            }
        }
        Ok(changed)
    }

    /// Compacts every namespace whose compaction is due. Writes only append, so that they stay
    /// fast; call this when idle (the CLI does after each write command), or opening the vault
    /// slows down as incrementals pile up. Returns the namespaces compacted; namespaces with
    /// damaged chunks are left as they are.
    pub fn maintain(&mut self) -> Result<Vec<Namespace>, WriteError> {
        let due: Vec<Namespace> = self
            .namespaces
            .iter()
            .filter(|(_, doc)| doc.compaction_due())
            .map(|(ns, _)| ns.clone())
            .collect();
        let mut compacted = Vec::new();
        for ns in due {
            if self.compact_namespace(&ns)? == Compaction::Done {
                compacted.push(ns);
            }
        }
        Ok(compacted)
    }
}
