//! The SelfOS wire protocol, shared by the relay and the sync engine.
//!
//! Devices of one vault meet in a *room* on a WebSocket relay, which forwards their frames and
//! keeps the sealed blobs they upload to the room's store. This crate defines:
//!
//! - the identifiers: [`RoomId`] (the room's Ed25519 public key, so rooms are self-certifying and
//!   the relay keeps no registry), [`PeerId`] (16 random bytes a device picks per connection) and
//!   the challenge [`Nonce`];
//! - the versioned binary [`Frame`]s, with [`Frame::encode`] and [`Frame::decode`], the bounds in
//!   [`MAX_FRAME_LEN`] and friends, the [`ErrorCode`]s of `Error` frames and the WebSocket
//!   [`CloseCode`]s;
//! - the join [`handshake`]: the client signs the relay's challenge with the room key, the relay
//!   verifies and forgets.
//!
//! `PROTOCOL.md` beside this crate specifies every byte, for implementations in other languages.
//!
//! # What it does not do
//!
//! No IO: no sockets, no tasks, no clock and no randomness. Callers pass in bytes, the current time
//! and nonces drawn from their CSPRNG, and send the bytes that come out. It builds for
//! `wasm32-unknown-unknown`. It does not encrypt: payloads are opaque here. The sync engine fills
//! them with XChaCha20-Poly1305 envelopes whose associated data binds room, sender, recipient and
//! a counter; the relay forwards them unread. This crate holds no secret: the room's signing key
//! is borrowed for one signature and stays with its owner.
//!
//! # Example
//!
//! Both sides of a join, then a frame round trip:
//!
//! ```
//! use ed25519_dalek::SigningKey;
//! use selfos_proto::{
//!     Frame, Nonce, Payload, PeerId,
//!     handshake::{Audience, Challenge, sign_join, verify_join},
//! };
//!
//! let relay: Audience = "wss://relay.example.org".parse()?;
//! let now_ms = 1_700_000_000_000;
//!
//! // Relay: a new connection gets a challenge; the nonce comes from the relay's CSPRNG.
//! let challenge = Challenge::new(relay.clone(), now_ms, Nonce::from_bytes([7; 32]));
//! let on_the_wire = Frame::Challenge(challenge.clone()).encode();
//!
//! // Client: the room key is derived from the vault's root key elsewhere.
//! let room_key = SigningKey::from_bytes(&[42; 32]);
//! let me = PeerId::from_bytes([1; 16]);
//! let Frame::Challenge(received) = Frame::decode(&on_the_wire)? else {
//!     unreachable!("the relay sent a challenge")
//! };
//! let join = sign_join(&received, &relay, &room_key, me)?;
//! let answer = Frame::Join(join).encode();
//!
//! // Relay: verify against the challenge this connection was sent, then forget it.
//! let Frame::Join(join) = Frame::decode(&answer)? else {
//!     unreachable!("the client sent a join")
//! };
//! let (room, peer) = verify_join(&challenge, &join, &relay, now_ms + 150, 30_000)?;
//! assert_eq!(peer, me);
//! assert_eq!(room.as_bytes(), room_key.verifying_key().as_bytes());
//!
//! // Afterwards the client addresses opaque payloads to other peers of the room.
//! let send = Frame::Send {
//!     to: PeerId::from_bytes([2; 16]),
//!     payload: Payload::try_from(b"ciphertext".to_vec())?,
//! };
//! let bytes = send.encode();
//! assert_eq!(bytes.len(), send.encoded_len());
//! assert_eq!(Frame::decode(&bytes)?, send);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod bounded;
mod codes;
mod frame;
pub mod handshake;
mod ids;
mod limits;
#[cfg(test)]
mod spec_examples;

pub use crate::{
    bounded::{ErrorMessage, LengthError, Payload, PeerList},
    codes::{CloseCode, ErrorCode},
    frame::{
        DecodeError, FieldError, Frame, MAGIC, VERSION, send_to_deliver_in_place,
        store::{BlobIds, BlobPart, ListEntries, ListEntry, Listing, StoreFrame, StoreUsage},
    },
    ids::{BlobId, IdError, Nonce, PeerId, RoomId},
    limits::{
        BLOB_PART_OVERHEAD, MAX_AUDIENCE_LEN, MAX_BLOB_PART_LEN, MAX_DELETE_IDS,
        MAX_ERROR_MESSAGE_LEN, MAX_FRAME_LEN, MAX_LIST_ENTRIES, MAX_PAYLOAD_LEN, MAX_ROOM_PEERS,
        PAYLOAD_FRAME_OVERHEAD,
    },
};

/// Entry points for the cargo-fuzz targets in `fuzz/`. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use crate::{Frame, PeerId, send_to_deliver_in_place};

    /// Decodes arbitrary bytes. Panics (which the fuzzer reports) if decoding panics, if a decoded
    /// frame does not encode back to exactly `data` (the encoding is canonical), or if the relay's
    /// in-place `Send` rewrite disagrees with decoding.
    pub fn decode_frame(data: &[u8]) {
        let decoded = Frame::decode(data);
        if let Ok(frame) = &decoded {
            assert_eq!(frame.encoded_len(), data.len(), "encoded_len disagrees");
            assert_eq!(frame.encode(), data, "decoding is not canonical");
        }
        let from = PeerId::from_bytes([0xa5; PeerId::LEN]);
        let mut rewritten = data.to_vec();
        match (send_to_deliver_in_place(&mut rewritten, from), decoded) {
            (
                Ok(to),
                Ok(Frame::Send {
                    to: sent_to,
                    payload,
                }),
            ) => {
                assert_eq!(to, sent_to, "rewrite returned another recipient");
                assert_eq!(rewritten, Frame::Deliver { from, payload }.encode());
            }
            (Ok(_), _) => unreachable!("rewrite accepted a frame that is not a valid Send"),
            (Err(_), Ok(Frame::Send { .. })) => unreachable!("rewrite refused a valid Send"),
            (Err(_), _) => assert_eq!(rewritten, data, "a refused rewrite changed the bytes"),
        }
    }
}
