//! The variable-length contents of frames, each bounded when it is built: [`Payload`],
//! [`PeerList`] and [`ErrorMessage`].

use core::fmt;

use crate::{
    PeerId,
    limits::{MAX_ERROR_MESSAGE_LEN, MAX_PAYLOAD_LEN, MAX_ROOM_PEERS},
};

/// A value is longer than the wire format allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what} has length {len}, more than the limit of {max}")]
pub struct LengthError {
    /// What was too long.
    pub what: &'static str,
    /// Its length (bytes, or entries for a list).
    pub len: usize,
    /// The limit.
    pub max: usize,
}

/// The opaque body of a `Send` or `Deliver` frame, at most
/// [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN) bytes.
///
/// For SelfOS it is an XChaCha20-Poly1305 envelope made by the sync engine; the relay never looks
/// inside. `Debug` prints only the length.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Payload(Vec<u8>);

impl Payload {
    /// The payload's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The payload's bytes, without a copy.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the payload has no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<u8>> for Payload {
    type Error = LengthError;

    fn try_from(bytes: Vec<u8>) -> Result<Self, LengthError> {
        if bytes.len() > MAX_PAYLOAD_LEN {
            return Err(LengthError {
                what: "payload",
                len: bytes.len(),
                max: MAX_PAYLOAD_LEN,
            });
        }
        Ok(Self(bytes))
    }
}

impl TryFrom<&[u8]> for Payload {
    type Error = LengthError;

    fn try_from(bytes: &[u8]) -> Result<Self, LengthError> {
        // Check before copying, so an oversized slice is never cloned.
        if bytes.len() > MAX_PAYLOAD_LEN {
            return Err(LengthError {
                what: "payload",
                len: bytes.len(),
                max: MAX_PAYLOAD_LEN,
            });
        }
        Ok(Self(bytes.to_vec()))
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.0.len())
    }
}

/// The peers of a `Joined` frame, at most [`MAX_ROOM_PEERS`](crate::MAX_ROOM_PEERS).
///
/// The relay lists each peer once; the order carries no meaning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PeerList(Vec<PeerId>);

impl PeerList {
    /// The peers.
    pub fn as_slice(&self) -> &[PeerId] {
        &self.0
    }

    /// The peers, without a copy.
    pub fn into_vec(self) -> Vec<PeerId> {
        self.0
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no peer is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<PeerId>> for PeerList {
    type Error = LengthError;

    fn try_from(peers: Vec<PeerId>) -> Result<Self, LengthError> {
        if peers.len() > MAX_ROOM_PEERS {
            return Err(LengthError {
                what: "peer list",
                len: peers.len(),
                max: MAX_ROOM_PEERS,
            });
        }
        Ok(Self(peers))
    }
}

/// The human-readable text of an `Error` frame, at most
/// [`MAX_ERROR_MESSAGE_LEN`](crate::MAX_ERROR_MESSAGE_LEN) bytes of UTF-8.
///
/// It is for logs only; programs act on the [`ErrorCode`](crate::ErrorCode). It must never contain
/// a secret or user data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ErrorMessage(String);

impl ErrorMessage {
    /// Builds a message, cutting `text` at the last character boundary within the limit: the
    /// message is diagnostic, so a relay should never fail to report an error for its length.
    pub fn new(text: &str) -> Self {
        let mut end = text.len().min(MAX_ERROR_MESSAGE_LEN);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self(text[..end].to_owned())
    }

    /// The message text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ErrorMessage {
    type Error = LengthError;

    /// Takes `text` whole, or fails if it is over the limit (see [`ErrorMessage::new`] to cut).
    fn try_from(text: String) -> Result<Self, LengthError> {
        if text.len() > MAX_ERROR_MESSAGE_LEN {
            return Err(LengthError {
                what: "error message",
                len: text.len(),
                max: MAX_ERROR_MESSAGE_LEN,
            });
        }
        Ok(Self(text))
    }
}

impl fmt::Display for ErrorMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn payload_bound() {
        assert!(Payload::try_from(vec![0; MAX_PAYLOAD_LEN]).is_ok());
        assert_eq!(
            Payload::try_from(&vec![0; MAX_PAYLOAD_LEN + 1][..]),
            Err(LengthError {
                what: "payload",
                len: MAX_PAYLOAD_LEN + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
        let payload = Payload::try_from(vec![1, 2, 3]).unwrap();
        assert_eq!(format!("{payload:?}"), "Payload(3 bytes)");
        assert_eq!(payload.len(), 3);
        assert!(!payload.is_empty());
    }

    #[test]
    fn peer_list_bound() {
        let peer = PeerId::from_bytes([0; 16]);
        assert!(PeerList::try_from(vec![peer; MAX_ROOM_PEERS]).is_ok());
        assert!(PeerList::try_from(vec![peer; MAX_ROOM_PEERS + 1]).is_err());
    }

    #[test]
    fn error_message_bound() {
        assert!(ErrorMessage::try_from("x".repeat(MAX_ERROR_MESSAGE_LEN)).is_ok());
        assert!(ErrorMessage::try_from("x".repeat(MAX_ERROR_MESSAGE_LEN + 1)).is_err());
        // 'é' is two bytes: 1023 of them are 2046 bytes, cut to 512 characters.
        let cut = ErrorMessage::new(&"é".repeat(1023));
        assert_eq!(cut.as_str().len(), MAX_ERROR_MESSAGE_LEN);
        assert_eq!(ErrorMessage::new("room full").to_string(), "room full");
    }

    proptest! {
        #[test]
        fn error_message_new_cuts_at_char_boundaries(text in ".{0,1100}") {
            let msg = ErrorMessage::new(&text);
            prop_assert!(msg.as_str().len() <= MAX_ERROR_MESSAGE_LEN);
            prop_assert!(text.starts_with(msg.as_str()));
            prop_assert!(text.len() > MAX_ERROR_MESSAGE_LEN || msg.as_str() == text);
        }
    }
}
