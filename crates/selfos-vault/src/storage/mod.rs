//! Where chunks live. The vault sees a store of opaque, already-encrypted blobs; an adapter
//! decides where they go: memory ([`MemoryStore`]), a folder ([`FileStore`]), or IndexedDB
//! (in the WASM bindings).

#[cfg(feature = "fs")]
mod file;
mod journal;
mod memory;

use std::io;

#[cfg(feature = "fs")]
pub use file::{FileStore, FolderLock};
pub use journal::{JournalStore, StorageKey, StoreOp, UnknownStorageKey};
pub use memory::MemoryStore;

use crate::ids::{ChunkId, Namespace};

/// Names shared by every layout of stored entries (folders, IndexedDB keys).
const HEADER: &str = "header";
const CHUNKS: &str = "chunks";
const PEERS: &str = "peers";

/// Why the store failed. Each variant names a different remedy for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No space left on the device (or quota exceeded). Nothing was written.
    #[error("storage is full: free some space and try again (nothing was written)")]
    Full,
    /// The store cannot be written: read-only file system or no permission.
    #[error("storage is not writable: {0}")]
    Unwritable(String),
    /// The named item does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Any other I/O failure.
    #[error("storage I/O error: {0}")]
    Io(#[source] io::Error),
}

impl StoreError {
    /// Classifies an I/O error by what the user can do about it.
    pub fn from_io(e: io::Error, what: &str) -> Self {
        match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Self::Full,
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                Self::Unwritable(format!("{what}: {e}"))
            }
            io::ErrorKind::NotFound => Self::NotFound(what.to_owned()),
            _ => Self::Io(e),
        }
    }
}

/// A store of opaque chunks, per namespace, plus the vault header.
///
/// Every `write_*` and `delete` returns only once the change is durable (for stores where that
/// means something), so a vault acknowledges a write only when it would survive a crash.
pub trait ChunkStore {
    /// The header, or `None` if the store holds no vault.
    fn read_header(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes the header (replacing any previous one).
    fn write_header(&mut self, bytes: &[u8]) -> Result<(), StoreError>;
    /// Namespaces that hold chunks.
    fn namespaces(&self) -> Result<Vec<Namespace>, StoreError>;
    /// The chunks of a namespace, in no particular order.
    fn list(&self, ns: &Namespace) -> Result<Vec<ChunkId>, StoreError>;
    /// One chunk's bytes.
    fn read(&self, ns: &Namespace, id: &ChunkId) -> Result<Vec<u8>, StoreError>;
    /// Stores a chunk under a new name.
    fn write(&mut self, ns: &Namespace, id: &ChunkId, bytes: &[u8]) -> Result<(), StoreError>;
    /// Removes a chunk.
    fn delete(&mut self, ns: &Namespace, id: &ChunkId) -> Result<(), StoreError>;
    /// Saved sync state for one peer and namespace (`name` is `<peer hex>.<namespace>`), if any.
    fn read_peer_state(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Saves sync state for one peer and namespace, replacing what was there.
    fn write_peer_state(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_remedies() {
        let full = StoreError::from_io(io::Error::from(io::ErrorKind::StorageFull), "x");
        assert!(matches!(full, StoreError::Full));
        let quota = StoreError::from_io(io::Error::from(io::ErrorKind::QuotaExceeded), "x");
        assert!(matches!(quota, StoreError::Full));
        let ro = StoreError::from_io(io::Error::from(io::ErrorKind::ReadOnlyFilesystem), "x");
        assert!(matches!(ro, StoreError::Unwritable(_)));
        let perm = StoreError::from_io(io::Error::from(io::ErrorKind::PermissionDenied), "x");
        assert!(matches!(perm, StoreError::Unwritable(_)));
        // ENOSPC as the kernel reports it.
        let enospc = StoreError::from_io(io::Error::from_raw_os_error(28), "x");
        assert!(matches!(enospc, StoreError::Full));
    }
}
