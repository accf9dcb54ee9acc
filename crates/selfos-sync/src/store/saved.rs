//! What the engine keeps about a relay's store between connections, saved through the vault
//! (which seals it, `SELFOSSS`, and never reads it):
//!
//! ```text
//! "SOSS" ‖ version u8 = 1 ‖ epoch u64 ‖ cursor u64 ‖ namespace count u16 ‖ per namespace:
//!   name length u8 ‖ name ‖ mark length u32 ‖ mark (the vault's `SOSK`)
//!   ‖ merged count u32 ‖ (blob id [32] ‖ size u32 ‖ snapshot u8) each
//!   ‖ to delete count u32 ‖ blob id [32] each ‖ compact u8 (0 or 1)
//! ```

use std::collections::BTreeMap;

use selfos_proto::BlobId;
use selfos_vault::{Namespace, StoreMark};

const MAGIC: &[u8; 4] = b"SOSS";
const VERSION: u8 = 1;

/// A blob of the store this replica merged (fetched and applied, or uploaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Merged {
    pub(crate) id: BlobId,
    pub(crate) size: u32,
    pub(crate) snapshot: bool,
}

/// What this replica knows of one namespace in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StoreNamespace {
    pub(crate) mark: StoreMark,
    /// Blobs merged since (and including) this replica's last snapshot: what its next
    /// compaction deletes.
    pub(crate) merged: Vec<Merged>,
    /// Blobs a snapshot of this replica replaced, still to delete.
    pub(crate) to_delete: Vec<BlobId>,
    /// Keys were destroyed since this replica's last snapshot: the next bundle is one.
    pub(crate) compact: bool,
}

impl StoreNamespace {
    /// Whether the blobs merged since the last snapshot add up to that snapshot's size (the
    /// storage rule of automerge-repo), or are many.
    pub(crate) fn compaction_due(&self) -> bool {
        let snapshot: u64 = self
            .merged
            .iter()
            .filter(|m| m.snapshot)
            .map(|m| u64::from(m.size))
            .max()
            .unwrap_or(0);
        let (count, bytes) = self
            .merged
            .iter()
            .filter(|m| !m.snapshot)
            .fold((0usize, 0u64), |(n, b), m| (n + 1, b + u64::from(m.size)));
        count >= MAX_INCREMENTALS || (count > 0 && bytes >= snapshot)
    }

    pub(crate) fn holds(&self, id: &BlobId) -> bool {
        self.merged.iter().any(|m| m.id == *id)
    }
}

/// Incremental blobs past which a namespace is compacted whatever their size: each costs the
/// room one blob of its quota (10,000 by default) and a catching-up device one fetch (sixteen go
/// per round trip). A compaction uploads the whole namespace, so on a large vault this is what
/// spreads its cost: 10,000 answers make a 6 MB snapshot, 24 KB per answer over 256.
const MAX_INCREMENTALS: usize = 256;

/// The engine's saved state about one relay's store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SavedStore {
    /// The epoch of the room's store the cursor belongs to (0: never listed).
    pub(crate) epoch: u64,
    /// Every blob up to this sequence number has been merged (or skipped as unreadable).
    pub(crate) cursor: u64,
    pub(crate) namespaces: BTreeMap<Namespace, StoreNamespace>,
}

/// Why saved store state could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("saved store state is damaged: {0}")]
pub(crate) struct SavedStoreError(&'static str);

impl SavedStore {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.cursor.to_be_bytes());
        // A vault holds at most MAX_NAMESPACES (128) namespaces.
        out.extend_from_slice(&(self.namespaces.len() as u16).to_be_bytes());
        for (ns, state) in &self.namespaces {
            out.push(ns.as_str().len() as u8);
            out.extend_from_slice(ns.as_str().as_bytes());
            let mark = state.mark.encode();
            out.extend_from_slice(&(mark.len() as u32).to_be_bytes());
            out.extend_from_slice(&mark);
            out.extend_from_slice(&(state.merged.len() as u32).to_be_bytes());
            for m in &state.merged {
                out.extend_from_slice(m.id.as_bytes());
                out.extend_from_slice(&m.size.to_be_bytes());
                out.push(u8::from(m.snapshot));
            }
            out.extend_from_slice(&(state.to_delete.len() as u32).to_be_bytes());
            for id in &state.to_delete {
                out.extend_from_slice(id.as_bytes());
            }
            out.push(u8::from(state.compact));
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, SavedStoreError> {
        let mut r = Cursor(bytes);
        if r.take(4)? != MAGIC {
            return Err(SavedStoreError("bad magic"));
        }
        if r.take(1)? != [VERSION] {
            return Err(SavedStoreError("unknown version"));
        }
        let epoch = r.u64()?;
        let cursor = r.u64()?;
        let mut namespaces = BTreeMap::new();
        for _ in 0..r.u16()? {
            let len = usize::from(r.take(1)?[0]);
            let name = std::str::from_utf8(r.take(len)?)
                .map_err(|_| SavedStoreError("namespace is not UTF-8"))?;
            let ns = Namespace::new(name).map_err(|_| SavedStoreError("invalid namespace"))?;
            let len = r.u32()? as usize;
            let mark =
                StoreMark::decode(r.take(len)?).map_err(|_| SavedStoreError("invalid mark"))?;
            let count = r.count(32 + 4 + 1)?;
            let mut merged = Vec::with_capacity(count);
            for _ in 0..count {
                let id = r.blob_id()?;
                let size = r.u32()?;
                let snapshot = r.take(1)?[0] != 0;
                merged.push(Merged { id, size, snapshot });
            }
            let count = r.count(32)?;
            let to_delete = (0..count).map(|_| r.blob_id()).collect::<Result<_, _>>()?;
            let compact = match r.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return Err(SavedStoreError("compact is not 0 or 1")),
            };
            namespaces.insert(
                ns,
                StoreNamespace {
                    mark,
                    merged,
                    to_delete,
                    compact,
                },
            );
        }
        if !r.0.is_empty() {
            return Err(SavedStoreError("bytes after the end"));
        }
        Ok(Self {
            epoch,
            cursor,
            namespaces,
        })
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SavedStoreError> {
        let (head, tail) = self
            .0
            .split_at_checked(n)
            .ok_or(SavedStoreError("ends early"))?;
        self.0 = tail;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, SavedStoreError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, SavedStoreError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SavedStoreError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SavedStoreError> {
        <[u8; N]>::try_from(self.take(N)?).map_err(|_| SavedStoreError("ends early"))
    }

    fn blob_id(&mut self) -> Result<BlobId, SavedStoreError> {
        self.array().map(BlobId::from_bytes)
    }

    /// A count of items of `item_len` bytes, checked against what is left before anything is
    /// allocated for them.
    fn count(&mut self, item_len: usize) -> Result<usize, SavedStoreError> {
        let count = self.u32()? as usize;
        if count > self.0.len() / item_len {
            return Err(SavedStoreError("count exceeds contents"));
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> BlobId {
        BlobId::from_bytes([n; 32])
    }

    fn sample() -> SavedStore {
        let mut saved = SavedStore {
            epoch: 7,
            cursor: 42,
            ..SavedStore::default()
        };
        saved.namespaces.insert(
            Namespace::new("chatgpt").unwrap(),
            StoreNamespace {
                mark: StoreMark::default(),
                merged: vec![
                    Merged {
                        id: id(1),
                        size: 900,
                        snapshot: true,
                    },
                    Merged {
                        id: id(2),
                        size: 100,
                        snapshot: false,
                    },
                ],
                to_delete: vec![id(3)],
                compact: true,
            },
        );
        saved
    }

    #[test]
    fn saved_state_round_trips_and_damage_is_refused() {
        let saved = sample();
        let bytes = saved.encode();
        assert_eq!(SavedStore::decode(&bytes).unwrap(), saved);
        for cut in 0..bytes.len() {
            assert!(SavedStore::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SavedStore::decode(&longer).is_err());
    }

    #[test]
    fn compaction_follows_the_storage_rule() {
        let ns = Namespace::new("chatgpt").unwrap();
        let mut state = sample().namespaces.remove(&ns).unwrap();
        assert!(!state.compaction_due(), "100 bytes of incrementals < 900");
        state.merged.push(Merged {
            id: id(4),
            size: 800,
            snapshot: false,
        });
        assert!(state.compaction_due(), "900 bytes of incrementals >= 900");
        state.merged.retain(|m| m.snapshot);
        assert!(!state.compaction_due(), "a snapshot alone");
    }
}
