//! An in-memory store: for tests, benchmarks, and as the working copy behind async stores.

use std::collections::BTreeMap;

use super::{ChunkStore, StoreError};
use crate::ids::{ChunkId, Namespace};

/// Chunks in a map. Cloning copies every byte, which tests use to compare states.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryStore {
    header: Option<Vec<u8>>,
    chunks: BTreeMap<(Namespace, ChunkId), Vec<u8>>,
    peers: BTreeMap<String, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored byte sequence (header, chunks, sync state), for tests that search storage.
    pub fn blobs(&self) -> impl Iterator<Item = &[u8]> {
        self.header
            .iter()
            .map(Vec::as_slice)
            .chain(self.chunks.values().map(Vec::as_slice))
            .chain(self.peers.values().map(Vec::as_slice))
    }

    /// Mutable access to one chunk, for tests that damage storage on purpose.
    pub fn chunk_mut(&mut self, ns: &Namespace, id: &ChunkId) -> Option<&mut Vec<u8>> {
        self.chunks.get_mut(&(ns.clone(), *id))
    }
}

impl ChunkStore for MemoryStore {
    fn read_header(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.header.clone())
    }

    fn write_header(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.header = Some(bytes.to_vec());
        Ok(())
    }

    fn namespaces(&self) -> Result<Vec<Namespace>, StoreError> {
        let mut out: Vec<Namespace> = self.chunks.keys().map(|(ns, _)| ns.clone()).collect();
        out.dedup();
        Ok(out)
    }

    fn list(&self, ns: &Namespace) -> Result<Vec<ChunkId>, StoreError> {
        Ok(self
            .chunks
            .keys()
            .filter(|(n, _)| n == ns)
            .map(|(_, id)| *id)
            .collect())
    }

    fn read(&self, ns: &Namespace, id: &ChunkId) -> Result<Vec<u8>, StoreError> {
        self.chunks
            .get(&(ns.clone(), *id))
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("{ns}/{id}")))
    }

    fn write(&mut self, ns: &Namespace, id: &ChunkId, bytes: &[u8]) -> Result<(), StoreError> {
        self.chunks.insert((ns.clone(), *id), bytes.to_vec());
        Ok(())
    }

    fn delete(&mut self, ns: &Namespace, id: &ChunkId) -> Result<(), StoreError> {
        self.chunks.remove(&(ns.clone(), *id));
        Ok(())
    }

    fn read_peer_state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.peers.get(name).cloned())
    }

    fn write_peer_state(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.peers.insert(name.to_owned(), bytes.to_vec());
        Ok(())
    }
}
