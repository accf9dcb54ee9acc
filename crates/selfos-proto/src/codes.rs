//! Error codes carried by `Error` frames, and the WebSocket close codes the relay uses.

/// Why the relay refused something. Carried as a big-endian u16 in an `Error` frame.
///
/// Codes this build does not know decode to [`ErrorCode::Other`], so a newer relay can add codes
/// without breaking older clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 1: the frame could not be decoded (bad magic, unknown type, truncated, invalid field).
    MalformedFrame,
    /// 2: the frame's version byte is one the relay does not speak.
    UnsupportedVersion,
    /// 3: the frame is longer than [`MAX_FRAME_LEN`](crate::MAX_FRAME_LEN).
    FrameTooLarge,
    /// 4: a well-formed frame that is not allowed now (a `Send` before `Join`, a second `Join`,
    /// a frame type that only the relay sends).
    UnexpectedFrame,
    /// 5: the join failed: bad signature, expired challenge or wrong audience.
    Unauthenticated,
    /// 6: the room already has as many peers as the relay allows.
    RoomFull,
    /// 7: a newer connection joined the room with this connection's peer id and replaced it.
    DuplicatePeer,
    /// 8: a `Send` named a peer that is not in the room (it may have just left). Not fatal.
    UnknownPeer,
    /// 9: the client sends faster than the relay allows.
    RateLimited,
    /// 10: the client reads slower than its peers send; its queue overflowed.
    SlowReader,
    /// 11: the relay is shutting down; reconnect (with backoff) to carry on.
    ShuttingDown,
    /// 12: the relay keeps no store (`--store none`); the room syncs only while devices are
    /// online together. Not fatal.
    StoreDisabled,
    /// 13: the blob would take the room over its quota of bytes or blobs; nothing was stored.
    /// Not fatal: compact, or keep the data on the devices.
    QuotaExceeded,
    /// 14: the blob is larger than the relay's per-blob limit; nothing was stored. Not fatal.
    BlobTooLarge,
    /// 15: the room's store holds no blob with that id (a device compacted it away). Not fatal:
    /// list again.
    BlobNotFound,
    /// 16: a list cursor beyond anything the room's store has handed out. Not fatal: list again
    /// from 0.
    BadCursor,
    /// 17: the uploaded bytes do not hash to the blob id they were sent under; nothing was
    /// stored. Not fatal.
    BlobMismatch,
    /// 18: the relay's store failed or cannot be reached right now; nothing was changed. Not
    /// fatal: try again later.
    StoreUnavailable,
    /// A code this build does not know; [`ErrorCode::from_u16`] returns it only for unassigned
    /// numbers, and it encodes back to the same number.
    Other(u16),
}

impl ErrorCode {
    /// The code's number on the wire.
    pub const fn to_u16(self) -> u16 {
        match self {
            Self::MalformedFrame => 1,
            Self::UnsupportedVersion => 2,
            Self::FrameTooLarge => 3,
            Self::UnexpectedFrame => 4,
            Self::Unauthenticated => 5,
            Self::RoomFull => 6,
            Self::DuplicatePeer => 7,
            Self::UnknownPeer => 8,
            Self::RateLimited => 9,
            Self::SlowReader => 10,
            Self::ShuttingDown => 11,
            Self::StoreDisabled => 12,
            Self::QuotaExceeded => 13,
            Self::BlobTooLarge => 14,
            Self::BlobNotFound => 15,
            Self::BadCursor => 16,
            Self::BlobMismatch => 17,
            Self::StoreUnavailable => 18,
            Self::Other(code) => code,
        }
    }

    /// The code for a number on the wire; unassigned numbers become [`ErrorCode::Other`].
    pub const fn from_u16(code: u16) -> Self {
        match code {
            1 => Self::MalformedFrame,
            2 => Self::UnsupportedVersion,
            3 => Self::FrameTooLarge,
            4 => Self::UnexpectedFrame,
            5 => Self::Unauthenticated,
            6 => Self::RoomFull,
            7 => Self::DuplicatePeer,
            8 => Self::UnknownPeer,
            9 => Self::RateLimited,
            10 => Self::SlowReader,
            11 => Self::ShuttingDown,
            12 => Self::StoreDisabled,
            13 => Self::QuotaExceeded,
            14 => Self::BlobTooLarge,
            15 => Self::BlobNotFound,
            16 => Self::BadCursor,
            17 => Self::BlobMismatch,
            18 => Self::StoreUnavailable,
            other => Self::Other(other),
        }
    }
}

impl From<u16> for ErrorCode {
    fn from(code: u16) -> Self {
        Self::from_u16(code)
    }
}

impl From<ErrorCode> for u16 {
    fn from(code: ErrorCode) -> Self {
        code.to_u16()
    }
}

/// The WebSocket close codes the relay sends, all in the private range 4000-4999.
///
/// A relay sends an `Error` frame first where it has something to explain, then closes with one of
/// these. [`CloseCode::should_reconnect`] tells a client whether retrying (with backoff) can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 4000: the relay is draining (for example on SIGTERM). Reconnect with backoff.
    GoingAway,
    /// 4001: the client broke the protocol (malformed or unexpected frame, frame too large).
    /// Reconnecting with the same code will fail the same way.
    ProtocolError,
    /// 4002: the frame version is not supported; the client must be upgraded.
    UnsupportedVersion,
    /// 4003: the join signature, audience or challenge age was wrong.
    Unauthenticated,
    /// 4004: no valid `Join` arrived within the relay's handshake timeout. Reconnect.
    HandshakeTimeout,
    /// 4005: the room is full. Retry later with backoff.
    RoomFull,
    /// 4006: a newer connection joined with the same peer id. Do not reconnect with that id: the
    /// other connection is the live one.
    PeerReplaced,
    /// 4007: the client's outgoing queue overflowed because it read too slowly. Reconnect.
    SlowReader,
    /// 4008: the connection was idle longer than the relay allows. Reconnect when needed.
    IdleTimeout,
    /// 4009: the client exceeded the relay's rate limit. Reconnect after a backoff.
    RateLimited,
}

impl CloseCode {
    /// Every close code, in numeric order.
    pub const ALL: [Self; 10] = [
        Self::GoingAway,
        Self::ProtocolError,
        Self::UnsupportedVersion,
        Self::Unauthenticated,
        Self::HandshakeTimeout,
        Self::RoomFull,
        Self::PeerReplaced,
        Self::SlowReader,
        Self::IdleTimeout,
        Self::RateLimited,
    ];

    /// The WebSocket close code.
    pub const fn to_u16(self) -> u16 {
        match self {
            Self::GoingAway => 4000,
            Self::ProtocolError => 4001,
            Self::UnsupportedVersion => 4002,
            Self::Unauthenticated => 4003,
            Self::HandshakeTimeout => 4004,
            Self::RoomFull => 4005,
            Self::PeerReplaced => 4006,
            Self::SlowReader => 4007,
            Self::IdleTimeout => 4008,
            Self::RateLimited => 4009,
        }
    }

    /// The close code for a number, if it is one of ours.
    pub fn from_u16(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.to_u16() == code)
    }

    /// Whether a client should reconnect (always with backoff) after this close.
    pub const fn should_reconnect(self) -> bool {
        match self {
            Self::GoingAway
            | Self::HandshakeTimeout
            | Self::RoomFull
            | Self::SlowReader
            | Self::IdleTimeout
            | Self::RateLimited => true,
            Self::ProtocolError
            | Self::UnsupportedVersion
            | Self::Unauthenticated
            | Self::PeerReplaced => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn close_codes_are_private_range_and_distinct() {
        for (i, code) in CloseCode::ALL.into_iter().enumerate() {
            assert_eq!(code.to_u16(), 4000 + u16::try_from(i).unwrap());
            assert_eq!(CloseCode::from_u16(code.to_u16()), Some(code));
        }
        assert_eq!(CloseCode::from_u16(1000), None);
        assert_eq!(CloseCode::from_u16(4010), None);
        assert!(CloseCode::GoingAway.should_reconnect());
        assert!(!CloseCode::Unauthenticated.should_reconnect());
    }

    #[test]
    fn known_error_codes_have_names() {
        for n in 1..=18 {
            assert!(!matches!(ErrorCode::from_u16(n), ErrorCode::Other(_)));
        }
        assert_eq!(ErrorCode::from_u16(0), ErrorCode::Other(0));
        assert_eq!(ErrorCode::from_u16(19), ErrorCode::Other(19));
    }

    proptest! {
        #[test]
        fn error_codes_round_trip(n: u16) {
            prop_assert_eq!(ErrorCode::from(n).to_u16(), n);
            prop_assert_eq!(u16::from(ErrorCode::from(n)), n);
        }
    }
}
