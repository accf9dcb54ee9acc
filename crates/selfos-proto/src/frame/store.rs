//! The store frames of version 2: a joined client lists, fetches, uploads and deletes the sealed
//! blobs its room keeps on the relay (PROTOCOL.md, section 11). The relay reads none of them.

use super::{DecodeError, FrameReader, invalid};
use crate::{
    BlobId, ErrorCode, LengthError,
    limits::{MAX_BLOB_PART_LEN, MAX_DELETE_IDS, MAX_LIST_ENTRIES},
};

/// The type byte of each store frame.
pub(super) mod tag {
    pub(in super::super) const LIST: u8 = 0x0b;
    pub(in super::super) const LISTED: u8 = 0x0c;
    pub(in super::super) const FETCH: u8 = 0x0d;
    pub(in super::super) const BLOB: u8 = 0x0e;
    pub(in super::super) const PUT: u8 = 0x0f;
    pub(in super::super) const DELETE: u8 = 0x10;
    pub(in super::super) const DONE: u8 = 0x11;
    pub(in super::super) const CHANGED: u8 = 0x12;
}

/// A store request or its answer. Every request carries a number the client picks; the relay's
/// answers carry it back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFrame {
    /// `0x0b`, client to relay: the room's blobs stored after `since` (0 for all).
    List {
        /// Echoed in the answer.
        request: u32,
        /// The `head` of an earlier listing of this room (its cursor), or 0.
        since: u64,
    },
    /// `0x0c`, relay to client: one page of a listing.
    Listed(Listing),
    /// `0x0d`, client to relay: send me this blob.
    Fetch {
        /// Echoed in the answer.
        request: u32,
        /// The blob.
        id: BlobId,
    },
    /// `0x0e`, relay to client: a part of a fetched blob, in order.
    Blob(BlobPart),
    /// `0x0f`, client to relay: a part of a blob to store, in order.
    Put(BlobPart),
    /// `0x10`, client to relay: remove these blobs from the room's store (ids it does not hold
    /// are ignored).
    Delete {
        /// Echoed in the answer.
        request: u32,
        /// The blobs.
        ids: BlobIds,
    },
    /// `0x11`, relay to client: a `Put` or `Delete` is done, or a request was refused.
    Done {
        /// The request it answers.
        request: u32,
        /// `None` when it succeeded; otherwise why not (code 0 on the wire is success).
        error: Option<ErrorCode>,
    },
    /// `0x12`, relay to client: a blob was stored in the room; list again if `head` is past your
    /// cursor. Sent only to connections that listed the store.
    Changed {
        /// The room's new head.
        head: u64,
    },
}

impl StoreFrame {
    /// The request number of a frame a client sends (list, fetch, put, delete); `None` for the
    /// relay's frames, which a client never sends.
    pub fn client_request(&self) -> Option<u32> {
        match self {
            Self::List { request, .. }
            | Self::Fetch { request, .. }
            | Self::Delete { request, .. } => Some(*request),
            Self::Put(part) => Some(part.request),
            Self::Listed(_) | Self::Blob(_) | Self::Done { .. } | Self::Changed { .. } => None,
        }
    }
}

/// A page of the room's store: what `StoreList` asked for, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The request it answers.
    pub request: u32,
    /// Changes when the room's store is created anew (it expired, or the relay's store was
    /// reset): a cursor from another epoch means nothing, so list from 0.
    pub epoch: u64,
    /// The cursor for the next listing: the sequence number of the last entry of this page, or
    /// the room's newest one when the page is the last.
    pub head: u64,
    /// Whether more entries follow: list again from `head`.
    pub more: bool,
    /// What the room stores, and its limits.
    pub usage: StoreUsage,
    /// The blobs, by increasing sequence number.
    pub entries: ListEntries,
}

/// What a room's store holds and may hold (36 bytes on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreUsage {
    /// Bytes stored.
    pub bytes: u64,
    /// Blobs stored.
    pub blobs: u32,
    /// The room's quota of bytes.
    pub max_bytes: u64,
    /// The room's quota of blobs.
    pub max_blobs: u32,
    /// The largest blob the relay accepts.
    pub max_blob_len: u32,
    /// When a blob was last stored, in ms since the Unix epoch (0: never).
    pub updated_ms: u64,
}

/// One stored blob of a listing (44 bytes on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListEntry {
    /// Its place in the room's store: strictly increasing in the order blobs were stored.
    pub seq: u64,
    /// The blob.
    pub id: BlobId,
    /// Its length in bytes.
    pub size: u32,
}

/// Defines a list type that cannot hold more than its bound.
macro_rules! bounded_list {
    ($(#[$doc:meta])* $name:ident, $item:ty, $max:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name(Vec<$item>);

        impl $name {
            /// The items.
            pub fn as_slice(&self) -> &[$item] {
                &self.0
            }

            /// The items, without a copy.
            pub fn into_vec(self) -> Vec<$item> {
                self.0
            }

            /// How many.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether there are none.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl TryFrom<Vec<$item>> for $name {
            type Error = LengthError;

            fn try_from(items: Vec<$item>) -> Result<Self, LengthError> {
                if items.len() > $max {
                    return Err(LengthError {
                        what: $what,
                        len: items.len(),
                        max: $max,
                    });
                }
                Ok(Self(items))
            }
        }
    };
}

bounded_list!(
    /// The entries of a `StoreListed` frame, at most [`MAX_LIST_ENTRIES`].
    ListEntries,
    ListEntry,
    MAX_LIST_ENTRIES,
    "list entries"
);

bounded_list!(
    /// The ids of a `StoreDelete` frame, at most [`MAX_DELETE_IDS`].
    BlobIds,
    BlobId,
    MAX_DELETE_IDS,
    "blob ids"
);

/// A part of one blob: `bytes` are the blob's bytes from `offset`, out of `total`. A blob longer
/// than [`MAX_BLOB_PART_LEN`] travels as consecutive parts; an empty blob as one empty part.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobPart {
    /// The request it belongs to.
    pub request: u32,
    /// The blob.
    pub id: BlobId,
    total: u32,
    offset: u32,
    bytes: Vec<u8>,
}

impl BlobPart {
    /// Checks that the part holds at most [`MAX_BLOB_PART_LEN`] bytes and ends within `total`.
    pub fn new(
        request: u32,
        id: BlobId,
        total: u32,
        offset: u32,
        bytes: Vec<u8>,
    ) -> Result<Self, LengthError> {
        if bytes.len() > MAX_BLOB_PART_LEN {
            return Err(LengthError {
                what: "blob part",
                len: bytes.len(),
                max: MAX_BLOB_PART_LEN,
            });
        }
        let end = u64::from(offset) + bytes.len() as u64;
        if end > u64::from(total) {
            return Err(LengthError {
                what: "blob part end",
                len: usize::try_from(end).unwrap_or(usize::MAX),
                max: total as usize,
            });
        }
        Ok(Self {
            request,
            id,
            total,
            offset,
            bytes,
        })
    }

    /// The parts that carry `blob`, in order: one per [`MAX_BLOB_PART_LEN`] bytes, and one empty
    /// part for an empty blob. `Err` if the blob is longer than `u32::MAX` bytes.
    pub fn split(
        request: u32,
        id: BlobId,
        blob: &[u8],
    ) -> Result<impl Iterator<Item = Self> + '_, LengthError> {
        let total = u32::try_from(blob.len()).map_err(|_| LengthError {
            what: "blob",
            len: blob.len(),
            max: u32::MAX as usize,
        })?;
        let count = blob.len().div_ceil(MAX_BLOB_PART_LEN).max(1);
        Ok((0..count).map(move |i| {
            let start = i * MAX_BLOB_PART_LEN;
            let end = (start + MAX_BLOB_PART_LEN).min(blob.len());
            Self {
                request,
                id,
                total,
                // start < blob.len() <= u32::MAX, or 0.
                offset: start as u32,
                bytes: blob[start..end].to_vec(),
            }
        }))
    }

    /// The whole blob's length.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Where this part starts in the blob.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// This part's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// This part's bytes, without a copy.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Whether this part ends the blob.
    pub fn is_last(&self) -> bool {
        u64::from(self.offset) + self.bytes.len() as u64 == u64::from(self.total)
    }
}

impl core::fmt::Debug for BlobPart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlobPart")
            .field("request", &self.request)
            .field("id", &self.id)
            .field("total", &self.total)
            .field("offset", &self.offset)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl StoreFrame {
    pub(super) fn tag(&self) -> u8 {
        match self {
            Self::List { .. } => tag::LIST,
            Self::Listed(_) => tag::LISTED,
            Self::Fetch { .. } => tag::FETCH,
            Self::Blob(_) => tag::BLOB,
            Self::Put(_) => tag::PUT,
            Self::Delete { .. } => tag::DELETE,
            Self::Done { .. } => tag::DONE,
            Self::Changed { .. } => tag::CHANGED,
        }
    }

    /// Length of the fields after the header.
    pub(super) fn fields_len(&self) -> usize {
        match self {
            Self::List { .. } => 4 + 8,
            Self::Listed(listing) => 4 + 8 + 8 + 1 + 36 + 2 + listing.entries.len() * 44,
            Self::Fetch { .. } => 4 + BlobId::LEN,
            Self::Blob(part) | Self::Put(part) => 4 + BlobId::LEN + 4 + 4 + 4 + part.bytes.len(),
            Self::Delete { ids, .. } => 4 + 2 + ids.len() * BlobId::LEN,
            Self::Done { .. } => 4 + 2,
            Self::Changed { .. } => 8,
        }
    }

    pub(super) fn write_fields(&self, buf: &mut Vec<u8>) {
        // The bounded types keep every count within its prefix (see `limits`).
        match self {
            Self::List { request, since } => {
                buf.extend_from_slice(&request.to_be_bytes());
                buf.extend_from_slice(&since.to_be_bytes());
            }
            Self::Listed(l) => {
                buf.extend_from_slice(&l.request.to_be_bytes());
                buf.extend_from_slice(&l.epoch.to_be_bytes());
                buf.extend_from_slice(&l.head.to_be_bytes());
                buf.push(u8::from(l.more));
                let u = &l.usage;
                buf.extend_from_slice(&u.bytes.to_be_bytes());
                buf.extend_from_slice(&u.blobs.to_be_bytes());
                buf.extend_from_slice(&u.max_bytes.to_be_bytes());
                buf.extend_from_slice(&u.max_blobs.to_be_bytes());
                buf.extend_from_slice(&u.max_blob_len.to_be_bytes());
                buf.extend_from_slice(&u.updated_ms.to_be_bytes());
                buf.extend_from_slice(&(l.entries.len() as u16).to_be_bytes());
                for e in l.entries.as_slice() {
                    buf.extend_from_slice(&e.seq.to_be_bytes());
                    buf.extend_from_slice(e.id.as_bytes());
                    buf.extend_from_slice(&e.size.to_be_bytes());
                }
            }
            Self::Fetch { request, id } => {
                buf.extend_from_slice(&request.to_be_bytes());
                buf.extend_from_slice(id.as_bytes());
            }
            Self::Blob(part) | Self::Put(part) => {
                buf.extend_from_slice(&part.request.to_be_bytes());
                buf.extend_from_slice(part.id.as_bytes());
                buf.extend_from_slice(&part.total.to_be_bytes());
                buf.extend_from_slice(&part.offset.to_be_bytes());
                buf.extend_from_slice(&(part.bytes.len() as u32).to_be_bytes());
                buf.extend_from_slice(&part.bytes);
            }
            Self::Delete { request, ids } => {
                buf.extend_from_slice(&request.to_be_bytes());
                buf.extend_from_slice(&(ids.len() as u16).to_be_bytes());
                for id in ids.as_slice() {
                    buf.extend_from_slice(id.as_bytes());
                }
            }
            Self::Done { request, error } => {
                buf.extend_from_slice(&request.to_be_bytes());
                buf.extend_from_slice(&error.map_or(0, ErrorCode::to_u16).to_be_bytes());
            }
            Self::Changed { head } => buf.extend_from_slice(&head.to_be_bytes()),
        }
    }

    /// Reads the fields of the store frame `r.tag`, or `None` if the tag is not a store frame.
    pub(super) fn read(r: &mut FrameReader<'_>) -> Option<Result<Self, DecodeError>> {
        let frame = match r.tag {
            tag::LIST => read_list(r),
            tag::LISTED => read_listed(r).map(Self::Listed),
            tag::FETCH => (|| {
                Ok(Self::Fetch {
                    request: r.u32("request")?,
                    id: BlobId::from_bytes(r.array("blob id")?),
                })
            })(),
            tag::BLOB => read_part(r).map(Self::Blob),
            tag::PUT => read_part(r).map(Self::Put),
            tag::DELETE => read_delete(r),
            tag::DONE => (|| {
                let request = r.u32("request")?;
                let code = r.u16("code")?;
                Ok(Self::Done {
                    request,
                    error: (code != 0).then(|| ErrorCode::from_u16(code)),
                })
            })(),
            tag::CHANGED => r.u64("head").map(|head| Self::Changed { head }),
            _ => return None,
        };
        Some(frame)
    }
}

fn read_list(r: &mut FrameReader<'_>) -> Result<StoreFrame, DecodeError> {
    Ok(StoreFrame::List {
        request: r.u32("request")?,
        since: r.u64("since")?,
    })
}

fn read_listed(r: &mut FrameReader<'_>) -> Result<Listing, DecodeError> {
    let request = r.u32("request")?;
    let epoch = r.u64("epoch")?;
    let head = r.u64("head")?;
    let more = match r.u8("more")? {
        0 => false,
        1 => true,
        _ => return Err(invalid("more", super::FieldError::Value("not 0 or 1"))),
    };
    let usage = StoreUsage {
        bytes: r.u64("bytes stored")?,
        blobs: r.u32("blobs stored")?,
        max_bytes: r.u64("byte quota")?,
        max_blobs: r.u32("blob quota")?,
        max_blob_len: r.u32("blob limit")?,
        updated_ms: r.u64("updated")?,
    };
    let count = usize::from(r.u16("entry count")?);
    let bytes = r.bounded(count, MAX_LIST_ENTRIES, 44, "entries")?;
    let mut each = FrameReader {
        tag: r.tag,
        version: r.version,
        rest: bytes,
    };
    let entries = (0..count)
        .map(|_| {
            Ok(ListEntry {
                seq: each.u64("entries")?,
                id: BlobId::from_bytes(each.array("entries")?),
                size: each.u32("entries")?,
            })
        })
        .collect::<Result<Vec<_>, DecodeError>>()?;
    // `bounded` checked the count, so this cannot fail.
    let entries = ListEntries::try_from(entries).map_err(|e| DecodeError::FieldTooLong {
        field: "entries",
        len: e.len,
        max: e.max,
    })?;
    Ok(Listing {
        request,
        epoch,
        head,
        more,
        usage,
        entries,
    })
}

fn read_part(r: &mut FrameReader<'_>) -> Result<BlobPart, DecodeError> {
    let request = r.u32("request")?;
    let id = BlobId::from_bytes(r.array("blob id")?);
    let total = r.u32("total")?;
    let offset = r.u32("offset")?;
    let len = usize::try_from(r.u32("part length")?).unwrap_or(usize::MAX);
    let bytes = r.bounded(len, MAX_BLOB_PART_LEN, 1, "part")?;
    BlobPart::new(request, id, total, offset, bytes.to_vec()).map_err(|_| {
        invalid(
            "part",
            super::FieldError::Value("ends past the blob's total"),
        )
    })
}

fn read_delete(r: &mut FrameReader<'_>) -> Result<StoreFrame, DecodeError> {
    let request = r.u32("request")?;
    let count = usize::from(r.u16("id count")?);
    let bytes = r.bounded(count, MAX_DELETE_IDS, BlobId::LEN, "blob ids")?;
    let ids = bytes
        .chunks_exact(BlobId::LEN)
        .map(BlobId::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("blob ids", e))?;
    let ids = BlobIds::try_from(ids).map_err(|e| DecodeError::FieldTooLong {
        field: "blob ids",
        len: e.len,
        max: e.max,
    })?;
    Ok(StoreFrame::Delete { request, ids })
}
