//! The relay's store in memory: what `selfos-relay` keeps for devices that come later, for the
//! in-memory [`Relay`](super::Relay) (PROTOCOL.md, section 11).

use std::collections::{BTreeMap, VecDeque};

use selfos_proto::{
    BlobId, BlobPart, ErrorCode, ListEntries, ListEntry, Listing, MAX_LIST_ENTRIES, RoomId,
    StoreFrame, StoreUsage,
};
use sha2::{Digest, Sha256};

/// The limits of the in-memory relay's store, `selfos-relay`'s defaults unless changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Bytes per room.
    pub max_bytes: u64,
    /// Blobs per room.
    pub max_blobs: u32,
    /// Bytes per blob.
    pub max_blob_len: u32,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_bytes: 64 << 20,
            max_blobs: 10_000,
            max_blob_len: 16 << 20,
        }
    }
}

#[derive(Debug, Default)]
struct Room {
    epoch: u64,
    head: u64,
    blobs: BTreeMap<u64, (BlobId, Vec<u8>)>,
    updated_ms: u64,
}

impl Room {
    fn bytes(&self) -> u64 {
        self.blobs.values().map(|(_, b)| b.len() as u64).sum()
    }
}

/// An upload in progress on one connection.
#[derive(Debug)]
pub(super) struct Upload {
    request: u32,
    id: BlobId,
    blob: Vec<u8>,
    refused: bool,
}

/// Every room's blobs, in memory. It survives [`Relay::restart`](super::Relay::restart), as a
/// relay's database survives its process.
#[derive(Debug, Default)]
pub(super) struct BlobStore {
    pub(super) limits: StoreLimits,
    rooms: BTreeMap<RoomId, Room>,
    /// The database is down: every request is answered `StoreUnavailable`.
    pub(super) down: bool,
}

static NEXT_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// What a store request gives back: frames for the connection that asked, and whether the
/// room's head moved (the others who listed hear it).
pub(super) struct Answer {
    pub(super) frames: VecDeque<StoreFrame>,
    pub(super) changed: Option<u64>,
}

impl BlobStore {
    pub(super) fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Bytes stored in `room`, as the relay would report them.
    pub(super) fn blobs(&self, room: &RoomId) -> Vec<Vec<u8>> {
        self.rooms
            .get(room)
            .map(|r| r.blobs.values().map(|(_, b)| b.clone()).collect())
            .unwrap_or_default()
    }

    fn usage(&self, room: Option<&Room>) -> StoreUsage {
        StoreUsage {
            bytes: room.map_or(0, Room::bytes),
            blobs: room.map_or(0, |r| r.blobs.len() as u32),
            max_bytes: self.limits.max_bytes,
            max_blobs: self.limits.max_blobs,
            max_blob_len: self.limits.max_blob_len,
            updated_ms: room.map_or(0, |r| r.updated_ms),
        }
    }

    /// Answers one store frame of a joined connection; `upload` is that connection's upload
    /// in progress.
    pub(super) fn handle(
        &mut self,
        room_id: RoomId,
        frame: StoreFrame,
        upload: &mut Option<Upload>,
        now_ms: u64,
    ) -> Answer {
        let mut answer = Answer {
            frames: VecDeque::new(),
            changed: None,
        };
        let done = |request, error| StoreFrame::Done { request, error };
        if self.down {
            // An upload learns that the database is down once it is whole.
            let not_last = matches!(&frame, StoreFrame::Put(part) if !part.is_last());
            let request = frame.client_request().filter(|_| !not_last);
            *upload = None;
            answer
                .frames
                .extend(request.map(|r| done(r, Some(ErrorCode::StoreUnavailable))));
            return answer;
        }
        match frame {
            StoreFrame::List { request, since } => {
                let room = self.rooms.get(&room_id);
                let head = room.map_or(0, |r| r.head);
                if since > head {
                    answer
                        .frames
                        .push_back(done(request, Some(ErrorCode::BadCursor)));
                    return answer;
                }
                let mut entries: Vec<ListEntry> = room
                    .map(|r| {
                        r.blobs
                            .range(since + 1..)
                            .take(MAX_LIST_ENTRIES + 1)
                            .map(|(seq, (id, blob))| ListEntry {
                                seq: *seq,
                                id: *id,
                                size: blob.len() as u32,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let more = entries.len() > MAX_LIST_ENTRIES;
                entries.truncate(MAX_LIST_ENTRIES);
                let page_head = if more {
                    entries.last().map_or(head, |e| e.seq)
                } else {
                    head
                };
                answer.frames.push_back(StoreFrame::Listed(Listing {
                    request,
                    epoch: room.map_or(0, |r| r.epoch),
                    head: page_head,
                    more,
                    usage: self.usage(room),
                    entries: ListEntries::try_from(entries).unwrap_or_default(),
                }));
            }
            StoreFrame::Fetch { request, id } => {
                let blob = self
                    .rooms
                    .get(&room_id)
                    .and_then(|r| r.blobs.values().find(|(i, _)| *i == id));
                match blob.map(|(_, b)| BlobPart::split(request, id, b)) {
                    Some(Ok(parts)) => answer.frames.extend(parts.map(StoreFrame::Blob)),
                    _ => answer
                        .frames
                        .push_back(done(request, Some(ErrorCode::BlobNotFound))),
                }
            }
            StoreFrame::Put(part) => {
                let fresh = upload.as_ref().is_none_or(|u| u.request != part.request);
                if fresh {
                    let refused = part.total() > self.limits.max_blob_len;
                    if refused {
                        answer
                            .frames
                            .push_back(done(part.request, Some(ErrorCode::BlobTooLarge)));
                    }
                    *upload = Some(Upload {
                        request: part.request,
                        id: part.id,
                        blob: Vec::new(),
                        refused,
                    });
                }
                let last = part.is_last();
                if let Some(u) = upload.as_mut()
                    && !u.refused
                {
                    u.blob.extend_from_slice(part.bytes());
                }
                if last
                    && let Some(u) = upload.take()
                    && !u.refused
                {
                    let (error, changed) = self.put(room_id, u.id, u.blob, now_ms);
                    answer.frames.push_back(done(u.request, error));
                    answer.changed = changed;
                }
            }
            StoreFrame::Delete { request, ids } => {
                if let Some(room) = self.rooms.get_mut(&room_id) {
                    room.blobs.retain(|_, (id, _)| !ids.as_slice().contains(id));
                }
                answer.frames.push_back(done(request, None));
            }
            _ => {}
        }
        answer
    }

    fn put(
        &mut self,
        room_id: RoomId,
        id: BlobId,
        blob: Vec<u8>,
        now_ms: u64,
    ) -> (Option<ErrorCode>, Option<u64>) {
        if BlobId::from_bytes(Sha256::digest(&blob).into()) != id {
            return (Some(ErrorCode::BlobMismatch), None);
        }
        // Unique across every store of the process, as a relay's random epochs are.
        let epoch = NEXT_EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let limits = self.limits;
        let room = self.rooms.entry(room_id).or_insert_with(|| Room {
            epoch,
            ..Room::default()
        });
        if room.blobs.values().any(|(i, _)| *i == id) {
            return (None, None);
        }
        if room.bytes() + blob.len() as u64 > limits.max_bytes
            || room.blobs.len() as u32 >= limits.max_blobs
        {
            return (Some(ErrorCode::QuotaExceeded), None);
        }
        room.head += 1;
        room.updated_ms = now_ms;
        room.blobs.insert(room.head, (id, blob));
        (None, Some(room.head))
    }
}
