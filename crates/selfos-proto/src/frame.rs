//! The binary frames exchanged between clients and the relay, one per WebSocket binary message.
//!
//! Every frame is `"SOSF"`, a version byte, a type byte, then the type's fields; integers are
//! big-endian. `PROTOCOL.md` next to this crate specifies each frame byte by byte.

use crate::{
    ErrorCode, ErrorMessage, IdError, Nonce, Payload, PeerId, PeerList, RoomId,
    handshake::{Audience, AudienceError, Challenge, Join, SIGNATURE_LEN},
    limits::{
        MAX_AUDIENCE_LEN, MAX_ERROR_MESSAGE_LEN, MAX_FRAME_LEN, MAX_PAYLOAD_LEN, MAX_ROOM_PEERS,
    },
};

use self::store::StoreFrame;

/// The four bytes that open every frame.
pub const MAGIC: [u8; 4] = *b"SOSF";

/// The newest protocol version this crate speaks.
///
/// Each frame carries the version that defined its type's layout: version 1 defined the frames
/// `0x01..=0x0a`, version 2 added the store frames `0x0b..=0x12` and changed nothing of the
/// first version. So a version-1 client works unchanged with a version-2 relay, which sends
/// store frames only to a client that asked the store something.
pub const VERSION: u8 = 2;

/// The version whose layout a frame type has, or `None` for a type no version defines.
const fn version_of(tag: u8) -> Option<u8> {
    match tag {
        0x01..=0x0a => Some(1),
        0x0b..=0x12 => Some(2),
        _ => None,
    }
}

/// Magic, version and type byte.
const HEADER_LEN: usize = MAGIC.len() + 2;

/// The type byte of each frame.
mod tag {
    pub(super) const CHALLENGE: u8 = 0x01;
    pub(super) const JOIN: u8 = 0x02;
    pub(super) const JOINED: u8 = 0x03;
    pub(super) const PEER_JOINED: u8 = 0x04;
    pub(super) const PEER_LEFT: u8 = 0x05;
    pub(super) const SEND: u8 = 0x06;
    pub(super) const DELIVER: u8 = 0x07;
    pub(super) const ERROR: u8 = 0x08;
    pub(super) const PING: u8 = 0x09;
    pub(super) const PONG: u8 = 0x0a;
}

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// `0x01`, relay to client, first frame of every connection: prove you hold a room key.
    Challenge(Challenge),
    /// `0x02`, client to relay, the answer to the challenge.
    Join(Join),
    /// `0x03`, relay to client after a valid join: the peers already in the room.
    Joined {
        /// Peers in the room before this one, each listed once.
        peers: PeerList,
    },
    /// `0x04`, relay to client: a peer joined the room.
    PeerJoined(PeerId),
    /// `0x05`, relay to client: a peer left the room.
    PeerLeft(PeerId),
    /// `0x06`, client to relay: forward `payload` to peer `to` of the same room.
    Send {
        /// Recipient.
        to: PeerId,
        /// Opaque to the relay: an encrypted envelope.
        payload: Payload,
    },
    /// `0x07`, relay to client: `payload` that peer `from` sent to this client.
    Deliver {
        /// Sender, as authenticated by its join.
        from: PeerId,
        /// The bytes of the sender's `Send`, unchanged.
        payload: Payload,
    },
    /// `0x08`, relay to client: something was refused. Fatal errors are followed by a close.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for logs.
        message: ErrorMessage,
    },
    /// `0x09`, either direction: answer with a [`Frame::Pong`] of the same value.
    ///
    /// WebSocket pings exist too, but a browser's WebSocket API can neither send one nor see the
    /// pong, so a browser client cannot detect a dead connection or measure its latency without
    /// these; a client-sent frame also keeps an MV3 extension service worker alive.
    Ping(u64),
    /// `0x0a`, either direction: the answer to a [`Frame::Ping`], echoing its value.
    Pong(u64),
    /// `0x0b..=0x12` (version 2): the room's blind store of sealed blobs.
    Store(StoreFrame),
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is longer than [`MAX_FRAME_LEN`](crate::MAX_FRAME_LEN); nothing else was read.
    #[error("frame is {len} bytes, more than the limit of {MAX_FRAME_LEN}")]
    TooLong {
        /// The input's length.
        len: usize,
    },
    /// The input does not start with [`MAGIC`].
    #[error("not a SelfOS frame (bad magic bytes)")]
    BadMagic,
    /// The version byte is 0, above [`VERSION`], or not the version of the frame's type.
    #[error("unsupported frame version {found}, this build speaks 1 to {VERSION}")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// The type byte names no frame this version knows.
    #[error("unknown frame type {found:#04x}")]
    UnknownFrameType {
        /// The type byte found.
        found: u8,
    },
    /// The input ends inside a field.
    #[error("frame ends inside its {field} field")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A length prefix is over that field's bound.
    #[error("{field} has length {len}, more than the limit of {max}")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// The length the prefix announced.
        len: usize,
        /// The field's bound.
        max: usize,
    },
    /// A field has the right length but an invalid value.
    #[error("invalid {field}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        #[source]
        source: FieldError,
    },
    /// Bytes follow the end of the frame.
    #[error("{count} bytes after the end of the frame")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// What is wrong with an invalid field (the source of [`DecodeError::InvalidField`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A room id that is not a usable Ed25519 public key.
    #[error(transparent)]
    Id(#[from] IdError),
    /// An audience that is empty or not printable ASCII.
    #[error(transparent)]
    Audience(#[from] AudienceError),
    /// Text that is not UTF-8.
    #[error(transparent)]
    Utf8(#[from] core::str::Utf8Error),
    /// A number outside what the field allows.
    #[error("{0}")]
    Value(&'static str),
}

impl Frame {
    fn tag(&self) -> u8 {
        match self {
            Self::Challenge(_) => tag::CHALLENGE,
            Self::Join(_) => tag::JOIN,
            Self::Joined { .. } => tag::JOINED,
            Self::PeerJoined(_) => tag::PEER_JOINED,
            Self::PeerLeft(_) => tag::PEER_LEFT,
            Self::Send { .. } => tag::SEND,
            Self::Deliver { .. } => tag::DELIVER,
            Self::Error { .. } => tag::ERROR,
            Self::Ping(_) => tag::PING,
            Self::Pong(_) => tag::PONG,
            Self::Store(store) => store.tag(),
        }
    }

    /// The exact length of [`Frame::encode`]'s output, never more than
    /// [`MAX_FRAME_LEN`](crate::MAX_FRAME_LEN).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Self::Challenge(challenge) => challenge.fields_len(),
                Self::Join(_) => RoomId::LEN + PeerId::LEN + SIGNATURE_LEN,
                Self::Joined { peers } => 2 + peers.len() * PeerId::LEN,
                Self::PeerJoined(_) | Self::PeerLeft(_) => PeerId::LEN,
                Self::Send { payload, .. } | Self::Deliver { payload, .. } => {
                    PeerId::LEN + 4 + payload.len()
                }
                Self::Error { message, .. } => 2 + 2 + message.as_str().len(),
                Self::Ping(_) | Self::Pong(_) => 8,
                Self::Store(store) => store.fields_len(),
            }
    }

    /// The frame's bytes, to send as one WebSocket binary message.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.encoded_len());
        let tag = self.tag();
        buf.extend_from_slice(&MAGIC);
        // Every tag a `Frame` has is defined by some version.
        buf.push(version_of(tag).unwrap_or(VERSION));
        buf.push(tag);
        // The bounded types keep every length below its prefix's range (see `limits`), so the
        // `as` conversions below are exact.
        match self {
            Self::Challenge(challenge) => challenge.write_fields(&mut buf),
            Self::Join(join) => {
                buf.extend_from_slice(join.room.as_bytes());
                buf.extend_from_slice(join.peer.as_bytes());
                buf.extend_from_slice(&join.signature);
            }
            Self::Joined { peers } => {
                buf.extend_from_slice(&(peers.len() as u16).to_be_bytes());
                for peer in peers.as_slice() {
                    buf.extend_from_slice(peer.as_bytes());
                }
            }
            Self::PeerJoined(peer) | Self::PeerLeft(peer) => buf.extend_from_slice(peer.as_bytes()),
            Self::Send { to: peer, payload }
            | Self::Deliver {
                from: peer,
                payload,
            } => {
                buf.extend_from_slice(peer.as_bytes());
                buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                buf.extend_from_slice(payload.as_bytes());
            }
            Self::Error { code, message } => {
                buf.extend_from_slice(&code.to_u16().to_be_bytes());
                let text = message.as_str().as_bytes();
                buf.extend_from_slice(&(text.len() as u16).to_be_bytes());
                buf.extend_from_slice(text);
            }
            Self::Ping(value) | Self::Pong(value) => buf.extend_from_slice(&value.to_be_bytes()),
            Self::Store(store) => store.write_fields(&mut buf),
        }
        buf
    }

    /// Parses one whole frame. Never panics, and allocates only for fields whose bytes are present
    /// in `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = FrameReader::new(bytes)?;
        let frame = match r.tag {
            tag::CHALLENGE => Self::Challenge(read_challenge(&mut r)?),
            tag::JOIN => Self::Join(Join {
                room: r.room_id("room")?,
                peer: r.peer_id("peer")?,
                signature: r.array("signature")?,
            }),
            tag::JOINED => {
                let count = usize::from(r.u16("peer count")?);
                let bytes = r.bounded(count, MAX_ROOM_PEERS, PeerId::LEN, "peers")?;
                let peers = bytes
                    .chunks_exact(PeerId::LEN)
                    .map(PeerId::try_from)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| invalid("peers", e))?;
                // `bounded` checked the count, so this cannot fail.
                let peers = PeerList::try_from(peers).map_err(|e| DecodeError::FieldTooLong {
                    field: "peers",
                    len: e.len,
                    max: e.max,
                })?;
                Self::Joined { peers }
            }
            tag::PEER_JOINED => Self::PeerJoined(r.peer_id("peer")?),
            tag::PEER_LEFT => Self::PeerLeft(r.peer_id("peer")?),
            tag::SEND => {
                let (to, payload) = read_addressed(&mut r, "to")?;
                Self::Send {
                    to,
                    payload: to_payload(payload)?,
                }
            }
            tag::DELIVER => {
                let (from, payload) = read_addressed(&mut r, "from")?;
                Self::Deliver {
                    from,
                    payload: to_payload(payload)?,
                }
            }
            tag::ERROR => {
                let code = ErrorCode::from_u16(r.u16("error code")?);
                let len = usize::from(r.u16("message length")?);
                let text = r.bounded(len, MAX_ERROR_MESSAGE_LEN, 1, "message")?;
                let text = core::str::from_utf8(text).map_err(|e| invalid("message", e))?;
                Self::Error {
                    code,
                    message: ErrorMessage::new(text),
                }
            }
            tag::PING => Self::Ping(r.u64("ping value")?),
            tag::PONG => Self::Pong(r.u64("pong value")?),
            found => match StoreFrame::read(&mut r) {
                Some(store) => Self::Store(store?),
                None => return Err(DecodeError::UnknownFrameType { found }),
            },
        };
        r.finish()?;
        Ok(frame)
    }
}

/// Relay fast path: turns the bytes of a `Send` frame into the `Deliver` frame its recipient gets,
/// in place and without copying the payload, and returns the recipient.
///
/// `frame` is checked exactly as [`Frame::decode`] would check a `Send` (the payload itself is
/// opaque and not looked at); on error it is left unchanged. The result is byte for byte
/// `Frame::Deliver { from, payload }.encode()`.
pub fn send_to_deliver_in_place(frame: &mut [u8], from: PeerId) -> Result<PeerId, DecodeError> {
    let to = {
        let mut r = FrameReader::new(frame)?;
        if r.tag != tag::SEND {
            return Err(DecodeError::UnknownFrameType { found: r.tag });
        }
        let (to, _payload) = read_addressed(&mut r, "to")?;
        r.finish()?;
        to
    };
    // `FrameReader::new` and `read_addressed` checked that the header and the peer id are present.
    frame[HEADER_LEN - 1] = tag::DELIVER;
    frame[HEADER_LEN..HEADER_LEN + PeerId::LEN].copy_from_slice(from.as_bytes());
    Ok(to)
}

fn invalid(field: &'static str, source: impl Into<FieldError>) -> DecodeError {
    DecodeError::InvalidField {
        field,
        source: source.into(),
    }
}

fn to_payload(bytes: &[u8]) -> Result<Payload, DecodeError> {
    // `read_addressed` checked the bound, so this cannot fail.
    Payload::try_from(bytes).map_err(|e| DecodeError::FieldTooLong {
        field: "payload",
        len: e.len,
        max: e.max,
    })
}

fn read_challenge(r: &mut FrameReader<'_>) -> Result<Challenge, DecodeError> {
    let len = usize::from(r.u16("audience length")?);
    let audience = r.bounded(len, MAX_AUDIENCE_LEN, 1, "audience")?;
    let audience = Audience::try_from(audience).map_err(|e| invalid("audience", e))?;
    let timestamp_ms = r.u64("timestamp")?;
    let nonce = Nonce::from_bytes(r.array("nonce")?);
    Ok(Challenge::new(audience, timestamp_ms, nonce))
}

/// Reads the peer id and the length-prefixed payload of a `Send` or `Deliver`.
fn read_addressed<'a>(
    r: &mut FrameReader<'a>,
    peer_field: &'static str,
) -> Result<(PeerId, &'a [u8]), DecodeError> {
    let peer = r.peer_id(peer_field)?;
    let len = usize::try_from(r.u32("payload length")?).unwrap_or(usize::MAX);
    let payload = r.bounded(len, MAX_PAYLOAD_LEN, 1, "payload")?;
    Ok((peer, payload))
}

/// A cursor over a frame's bytes after its header.
struct FrameReader<'a> {
    tag: u8,
    version: u8,
    rest: &'a [u8],
}

impl<'a> FrameReader<'a> {
    /// Checks the size limit, magic and version, and reads the type byte, which must be one
    /// that the version byte defines.
    fn new(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME_LEN {
            return Err(DecodeError::TooLong { len: bytes.len() });
        }
        let mut r = Self {
            tag: 0,
            version: 0,
            rest: bytes,
        };
        // A prefix of the magic is a truncated frame; anything else is not ours.
        let magic = r.rest.get(..MAGIC.len()).unwrap_or(r.rest);
        if !MAGIC.starts_with(magic) {
            return Err(DecodeError::BadMagic);
        }
        r.take(MAGIC.len(), "magic")?;
        let version = r.u8("version")?;
        if version == 0 || version > VERSION {
            return Err(DecodeError::UnsupportedVersion { found: version });
        }
        r.version = version;
        r.tag = r.u8("frame type")?;
        match version_of(r.tag) {
            None => Err(DecodeError::UnknownFrameType { found: r.tag }),
            Some(v) if v != version => Err(DecodeError::UnsupportedVersion { found: version }),
            Some(_) => Ok(r),
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(DecodeError::Truncated { field })?;
        self.rest = tail;
        Ok(head)
    }

    /// Reads `count` items of `item_len` bytes, after checking `count <= max`.
    fn bounded(
        &mut self,
        count: usize,
        max: usize,
        item_len: usize,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        if count > max {
            return Err(DecodeError::FieldTooLong {
                field,
                len: count,
                max,
            });
        }
        // count <= max and every max is far below usize::MAX / item_len.
        self.take(count.saturating_mul(item_len), field)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, field)?;
        <[u8; N]>::try_from(bytes).map_err(|_| DecodeError::Truncated { field })
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.array::<1>(field).map(u8::from_be_bytes)
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.array(field).map(u16::from_be_bytes)
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.array(field).map(u32::from_be_bytes)
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.array(field).map(u64::from_be_bytes)
    }

    fn peer_id(&mut self, field: &'static str) -> Result<PeerId, DecodeError> {
        self.array(field).map(PeerId::from_bytes)
    }

    fn room_id(&mut self, field: &'static str) -> Result<RoomId, DecodeError> {
        RoomId::from_bytes(&self.array(field)?).map_err(|e| invalid(field, e))
    }

    fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                count: self.rest.len(),
            })
        }
    }
}

pub(crate) mod store;
#[cfg(test)]
mod tests;
