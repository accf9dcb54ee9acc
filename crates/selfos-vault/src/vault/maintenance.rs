//! Maintenance: compaction, and reading what other processes stored.

use automerge::ActorId;

use crate::{
    error::{ReadError, WriteError},
    ids::Namespace,
    namespace::{ChunkSealer, Compaction, NamespaceDoc},
    storage::ChunkStore,
};

use super::Vault;

impl<S: ChunkStore> Vault<S> {
    pub(crate) fn compact_namespace(&mut self, ns: &Namespace) -> Result<Compaction, WriteError> {
        let Self {
            store,
            header,
            keys,
            namespaces,
            ..
        } = self;
        let sealer = ChunkSealer {
            key: &keys.storage,
            vault: &header.vault,
        };
        match namespaces.get_mut(ns) {
            Some(doc) => doc.compact(store, &sealer),
            None => Ok(Compaction::NotDue),
        }
    }

    /// Reads what other processes stored in this replica's store since it was opened (or last
    /// refreshed), for long-running clients such as `selfos sync --watch`. Returns the
    /// namespaces that changed.
    pub fn refresh(&mut self) -> Result<Vec<Namespace>, ReadError> {
        let mut changed = Vec::new();
        let mut damaged = Vec::new();
        let sealer = ChunkSealer {
            key: &self.keys.storage,
            vault: &self.header.vault,
        };
        for ns in self.store.namespaces()? {
            if !self.namespaces.contains_key(&ns) {
                let actor = ActorId::from(self.header.replica.as_bytes());
                let doc = NamespaceDoc::load(&self.store, &ns, &sealer, &actor, &mut damaged)?;
                self.namespaces.insert(ns.clone(), doc);
                changed.push(ns);
            } else if let Some(doc) = self.namespaces.get_mut(&ns)
                && doc.refresh(&self.store, &sealer, &mut damaged)?
            {
                changed.push(ns);
            }
        }
        self.damaged.extend(damaged);
        if !changed.is_empty() {
            self.clock_synced = false;
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
