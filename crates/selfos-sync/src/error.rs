//! Errors of the sync engine.

use selfos_vault::{ErrorKind, ReadError, WriteError};

/// Why an envelope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not an envelope, or cut short.
    #[error("malformed envelope")]
    Malformed,
    /// Written by an unknown version.
    #[error("unknown envelope version {0}")]
    UnknownVersion(u8),
    /// Authentication failed: not sealed with this vault's key for this room, sender and
    /// recipient.
    #[error("forged or damaged envelope: authentication failed")]
    Forged,
    /// A counter at or below one already seen from this sender.
    #[error("replayed envelope (counter {counter} <= {last})")]
    Replayed {
        /// The counter received.
        counter: u64,
        /// The last one accepted.
        last: u64,
    },
    /// Fragments out of order or too many.
    #[error("fragments out of order")]
    Fragments,
    /// A message announced in more fragments than
    /// [`MAX_MESSAGE_PARTS`](crate::MAX_MESSAGE_PARTS).
    #[error("a message in {0} fragments: over the limit of {max}", max = crate::MAX_MESSAGE_PARTS)]
    TooManyParts(u16),
    /// A message whose fragments add up to more than
    /// [`MAX_MESSAGE_LEN`](crate::MAX_MESSAGE_LEN) bytes.
    #[error("a message over the limit of {max} bytes", max = crate::MAX_MESSAGE_LEN)]
    MessageTooLong,
    /// A fragment that would take what this device buffers for all peers of the room past
    /// [`MAX_BUFFERED_LEN`](crate::MAX_BUFFERED_LEN): its message is dropped.
    #[error(
        "the peers of this room have {max} bytes of messages in progress: this one is dropped",
        max = crate::MAX_BUFFERED_LEN
    )]
    RoomBufferFull,
    /// The message opened, but the vault refused what it holds (an Automerge change it cannot
    /// apply, a key-table count over its bound): nothing of it was applied.
    #[error("the vault refused the message ({})", .0.code())]
    Refused(ErrorKind),
    /// No randomness for a nonce.
    #[error("the operating system's random number generator failed")]
    Entropy,
    /// The message cannot be encrypted in one piece, or is over
    /// [`MAX_MESSAGE_LEN`](crate::MAX_MESSAGE_LEN).
    #[error("message too large")]
    TooLarge,
}

/// Why the engine could not go on. Refused envelopes are not errors (they are reported as
/// events); these are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The relay sent bytes that are not a valid frame.
    #[error("relay sent an invalid frame: {0}")]
    Frame(#[from] selfos_proto::DecodeError),
    /// The join handshake failed (wrong relay address, for instance).
    #[error("join failed: {0}")]
    Handshake(#[from] selfos_proto::handshake::HandshakeError),
    /// The vault refused a write (storage full, ...).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The vault could not read saved state.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The room key does not give a valid room id.
    #[error("invalid room key: {0}")]
    RoomKey(#[from] selfos_proto::IdError),
    /// Sealing an envelope failed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

impl SyncError {
    /// The vault's classification of this error, when the vault raised it.
    pub fn vault_kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Write(e) => Some(e.kind()),
            Self::Read(e) => Some(e.kind()),
            Self::Frame(_) | Self::Handshake(_) | Self::RoomKey(_) | Self::Envelope(_) => None,
        }
    }
}
