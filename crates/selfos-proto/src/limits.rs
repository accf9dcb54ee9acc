//! Every bound of the wire format in one place. Decoding rejects anything over them, and the types
//! that carry bounded data ([`Payload`](crate::Payload), [`PeerList`](crate::PeerList),
//! [`ErrorMessage`](crate::ErrorMessage), [`Audience`](crate::handshake::Audience)) cannot be built
//! over them, so every [`Frame`](crate::Frame) encodes within [`MAX_FRAME_LEN`].

/// Largest encoded frame, header included: 256 KiB.
pub const MAX_FRAME_LEN: usize = 256 * 1024;

/// Bytes that a `Send` or `Deliver` frame adds around its payload: header (6), peer id (16) and
/// payload length (4).
pub const PAYLOAD_FRAME_OVERHEAD: usize = 6 + 16 + 4;

/// Largest opaque payload of a `Send` or `Deliver` frame: [`MAX_FRAME_LEN`] minus
/// [`PAYLOAD_FRAME_OVERHEAD`], so a `Send` that fits is always forwarded as a `Deliver` that fits.
pub const MAX_PAYLOAD_LEN: usize = MAX_FRAME_LEN - PAYLOAD_FRAME_OVERHEAD;

/// Longest audience (the relay's public origin, e.g. `wss://relay.example.org`), in bytes.
pub const MAX_AUDIENCE_LEN: usize = 255;

/// Longest message of an `Error` frame, in bytes of UTF-8.
pub const MAX_ERROR_MESSAGE_LEN: usize = 1024;

/// Most peers one `Joined` frame lists. A relay caps peers per room at or below this.
pub const MAX_ROOM_PEERS: usize = 256;

// The length prefixes are u32 for payloads and u16 for strings and lists.
const _: () = assert!(MAX_PAYLOAD_LEN <= u32::MAX as usize);
const _: () = assert!(MAX_AUDIENCE_LEN <= u16::MAX as usize);
const _: () = assert!(MAX_ERROR_MESSAGE_LEN <= u16::MAX as usize);
const _: () = assert!(MAX_ROOM_PEERS <= u16::MAX as usize);

/// Most blobs one `StoreListed` frame lists (44 bytes each); a longer listing comes in pages.
pub const MAX_LIST_ENTRIES: usize = 4096;

/// Most blob ids one `StoreDelete` frame names.
pub const MAX_DELETE_IDS: usize = 4096;

/// Bytes that a `StorePut` or `StoreBlob` frame adds around its part of a blob: header (6),
/// request (4), blob id (32), total (4), offset (4) and part length (4).
pub const BLOB_PART_OVERHEAD: usize = 6 + 4 + 32 + 4 + 4 + 4;

/// Largest part of a blob one `StorePut` or `StoreBlob` frame carries; a longer blob is sent as
/// consecutive parts.
pub const MAX_BLOB_PART_LEN: usize = MAX_FRAME_LEN - BLOB_PART_OVERHEAD;

/// Bytes a `StoreListed` frame takes before its entries: header (6), request (4), epoch (8),
/// head (8), more (1), usage (36) and the entry count (2).
const LISTED_OVERHEAD: usize = 6 + 4 + 8 + 8 + 1 + 36 + 2;

const _: () = assert!(LISTED_OVERHEAD + MAX_LIST_ENTRIES * (8 + 32 + 4) <= MAX_FRAME_LEN);
const _: () = assert!(6 + 4 + 2 + MAX_DELETE_IDS * 32 <= MAX_FRAME_LEN);
const _: () = assert!(MAX_LIST_ENTRIES <= u16::MAX as usize);
const _: () = assert!(MAX_DELETE_IDS <= u16::MAX as usize);
