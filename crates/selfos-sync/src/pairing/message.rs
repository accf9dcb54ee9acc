//! The pairing messages on the wire: `"SOPR" ‖ version 1 ‖ kind ‖ body`, each in one relay
//! payload. Bodies have fixed sizes except the sealed payload's ciphertext, which has a `u16`
//! length prefix; nothing may follow the last field. See PROTOCOL.md, "Pairing".

use std::fmt;

/// The first bytes of every pairing message.
pub(super) const MAGIC: &[u8; 4] = b"SOPR";
/// The version this code speaks.
pub(super) const VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 2;

/// A SPAKE2 message on Ed25519: a side byte and a compressed point.
pub(super) const PAKE_LEN: usize = 33;
/// An HMAC-SHA256 tag.
pub(super) const MAC_LEN: usize = 32;
/// An XChaCha20-Poly1305 nonce.
pub(super) const NONCE_LEN: usize = 24;
/// A Poly1305 tag.
pub(super) const TAG_LEN: usize = 16;

/// The largest payload a pairing carries (the vault secret and a few fields need far less).
pub const MAX_PAIRING_PAYLOAD_LEN: usize = 4096;
/// The largest pairing message: a sealed payload of [`MAX_PAIRING_PAYLOAD_LEN`] bytes.
pub const MAX_PAIRING_MESSAGE_LEN: usize =
    HEADER_LEN + NONCE_LEN + 2 + MAX_PAIRING_PAYLOAD_LEN + TAG_LEN;

/// Which message, by its kind byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Accept → offer: the accepting device's PAKE message.
    Start = 1,
    /// Offer → accept: the offering device's PAKE message and key confirmation.
    Reply = 2,
    /// Accept → offer: the accepting device's key confirmation.
    Confirm = 3,
    /// Offer → accept: the payload, encrypted.
    Sealed = 4,
    /// Accept → offer: the payload arrived.
    Ack = 5,
    /// Either way: the sender gave up.
    Abort = 6,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Why a side gave up, as it tells the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(super) enum AbortReason {
    /// Key confirmation failed: the codes differ (or a message was altered on the way).
    WrongCode = 1,
    /// Anything else: the sender could not use what it received, or could not go on.
    Failed = 2,
}

/// One pairing message.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Message {
    Start {
        pake: [u8; PAKE_LEN],
    },
    Reply {
        pake: [u8; PAKE_LEN],
        confirm: [u8; MAC_LEN],
    },
    Confirm {
        confirm: [u8; MAC_LEN],
    },
    Sealed {
        nonce: [u8; NONCE_LEN],
        ciphertext: Vec<u8>,
    },
    Ack {
        mac: [u8; MAC_LEN],
    },
    Abort(AbortReason),
}

/// Why bytes are not a pairing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Longer than [`MAX_PAIRING_MESSAGE_LEN`].
    #[error("a pairing message of {0} bytes, over the limit of {MAX_PAIRING_MESSAGE_LEN}")]
    TooLarge(usize),
    /// Ends before its last field.
    #[error("truncated pairing message")]
    Truncated,
    /// Does not start with `SOPR`.
    #[error("not a pairing message")]
    BadMagic,
    /// Written by another version of the protocol.
    #[error("pairing message version {0} is not supported (this device speaks {VERSION})")]
    UnsupportedVersion(u8),
    /// A kind byte this version does not define.
    #[error("unknown pairing message kind {0}")]
    UnknownKind(u8),
    /// A ciphertext too short to hold a tag, or longer than the largest payload sealed.
    #[error("a sealed payload of {0} bytes is out of bounds")]
    CiphertextLength(usize),
    /// An abort reason this version does not define.
    #[error("unknown abort reason {0}")]
    UnknownAbortReason(u8),
    /// Bytes after the last field.
    #[error("bytes after the end of a pairing message")]
    TrailingBytes,
}

impl Message {
    pub(super) fn kind(&self) -> Kind {
        match self {
            Self::Start { .. } => Kind::Start,
            Self::Reply { .. } => Kind::Reply,
            Self::Confirm { .. } => Kind::Confirm,
            Self::Sealed { .. } => Kind::Sealed,
            Self::Ack { .. } => Kind::Ack,
            Self::Abort(_) => Kind::Abort,
        }
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + PAKE_LEN + MAC_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.kind() as u8);
        match self {
            Self::Start { pake } => out.extend_from_slice(pake),
            Self::Reply { pake, confirm } => {
                out.extend_from_slice(pake);
                out.extend_from_slice(confirm);
            }
            Self::Confirm { confirm: mac } | Self::Ack { mac } => out.extend_from_slice(mac),
            Self::Sealed { nonce, ciphertext } => {
                out.extend_from_slice(nonce);
                // Bounded by MAX_PAIRING_PAYLOAD_LEN when sealed, so it fits a u16.
                let len = u16::try_from(ciphertext.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(ciphertext);
            }
            Self::Abort(reason) => out.push(*reason as u8),
        }
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_PAIRING_MESSAGE_LEN {
            return Err(MessageError::TooLarge(bytes.len()));
        }
        let mut r = Reader(bytes);
        let magic: [u8; 4] = r.array().map_err(|_| {
            if MAGIC.starts_with(bytes) {
                MessageError::Truncated
            } else {
                MessageError::BadMagic
            }
        })?;
        if &magic != MAGIC {
            return Err(MessageError::BadMagic);
        }
        let [version] = r.array()?;
        if version != VERSION {
            return Err(MessageError::UnsupportedVersion(version));
        }
        let [kind] = r.array()?;
        let message = match kind {
            1 => Self::Start { pake: r.array()? },
            2 => Self::Reply {
                pake: r.array()?,
                confirm: r.array()?,
            },
            3 => Self::Confirm {
                confirm: r.array()?,
            },
            4 => {
                let nonce = r.array()?;
                let len = usize::from(u16::from_be_bytes(r.array()?));
                if !(TAG_LEN..=MAX_PAIRING_PAYLOAD_LEN + TAG_LEN).contains(&len) {
                    return Err(MessageError::CiphertextLength(len));
                }
                let ciphertext = r.take(len)?.to_vec();
                Self::Sealed { nonce, ciphertext }
            }
            5 => Self::Ack { mac: r.array()? },
            6 => Self::Abort(match r.array()? {
                [1] => AbortReason::WrongCode,
                [2] => AbortReason::Failed,
                [other] => return Err(MessageError::UnknownAbortReason(other)),
            }),
            other => return Err(MessageError::UnknownKind(other)),
        };
        if !r.0.is_empty() {
            return Err(MessageError::TrailingBytes);
        }
        Ok(message)
    }
}

/// Reads fields off the front of a message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MessageError> {
        if self.0.len() < n {
            return Err(MessageError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MessageError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

impl fmt::Debug for Message {
    /// Sizes only: a confirmation tag or a ciphertext is of no use in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sealed { ciphertext, .. } => {
                write!(f, "Sealed({} bytes)", ciphertext.len())
            }
            Self::Abort(reason) => write!(f, "Abort({reason:?})"),
            other => write!(f, "{}", other.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn samples() -> Vec<Message> {
        vec![
            Message::Start {
                pake: [1; PAKE_LEN],
            },
            Message::Reply {
                pake: [2; PAKE_LEN],
                confirm: [3; MAC_LEN],
            },
            Message::Confirm {
                confirm: [4; MAC_LEN],
            },
            Message::Sealed {
                nonce: [5; NONCE_LEN],
                ciphertext: vec![6; TAG_LEN + 10],
            },
            Message::Sealed {
                nonce: [5; NONCE_LEN],
                ciphertext: vec![6; TAG_LEN + MAX_PAIRING_PAYLOAD_LEN],
            },
            Message::Ack { mac: [7; MAC_LEN] },
            Message::Abort(AbortReason::WrongCode),
            Message::Abort(AbortReason::Failed),
        ]
    }

    #[test]
    fn round_trips_and_the_largest_fits_the_bound() {
        for m in samples() {
            let bytes = m.encode();
            assert!(bytes.len() <= MAX_PAIRING_MESSAGE_LEN);
            assert_eq!(Message::decode(&bytes).unwrap(), m);
        }
        let largest = samples()[4].encode();
        assert_eq!(largest.len(), MAX_PAIRING_MESSAGE_LEN);
    }

    #[test]
    fn a_start_message_is_laid_out_as_specified() {
        let bytes = Message::Start {
            pake: [0xab; PAKE_LEN],
        }
        .encode();
        assert_eq!(&bytes[..6], b"SOPR\x01\x01");
        assert_eq!(bytes.len(), 6 + PAKE_LEN);
    }

    #[test]
    fn refuses_malformed_messages() {
        use MessageError::*;
        let start = Message::Start {
            pake: [1; PAKE_LEN],
        }
        .encode();
        let mut cases: Vec<(Vec<u8>, MessageError)> = vec![
            (vec![], Truncated),
            (b"SOP".to_vec(), Truncated),
            (b"SOSF\x01\x01".to_vec(), BadMagic),
            (b"XY".to_vec(), BadMagic),
            (b"SOPR".to_vec(), Truncated),
            (b"SOPR\x02\x01".to_vec(), UnsupportedVersion(2)),
            (b"SOPR\x01\x00".to_vec(), UnknownKind(0)),
            (b"SOPR\x01\x07".to_vec(), UnknownKind(7)),
            (start[..start.len() - 1].to_vec(), Truncated),
            ([&start[..], &[0]].concat(), TrailingBytes),
            (b"SOPR\x01\x06\x03".to_vec(), UnknownAbortReason(3)),
            (
                vec![0; MAX_PAIRING_MESSAGE_LEN + 1],
                TooLarge(MAX_PAIRING_MESSAGE_LEN + 1),
            ),
        ];
        let sealed = |len: u16, body: usize| {
            let mut b = b"SOPR\x01\x04".to_vec();
            b.extend_from_slice(&[0; NONCE_LEN]);
            b.extend_from_slice(&len.to_be_bytes());
            b.extend(std::iter::repeat_n(0, body));
            b
        };
        cases.push((sealed(15, 15), CiphertextLength(15)));
        cases.push((sealed(5000, 5000), TooLarge(6 + NONCE_LEN + 2 + 5000)));
        cases.push((sealed(4200, 0), CiphertextLength(4200)));
        cases.push((sealed(20, 19), Truncated));
        for (bytes, err) in cases {
            assert_eq!(Message::decode(&bytes), Err(err), "{bytes:02x?}");
        }
    }

    #[test]
    fn debug_shows_no_bytes() {
        let shown = format!("{:?}", samples());
        assert!(
            !shown.contains("3, 3") && !shown.contains("6, 6"),
            "{shown}"
        );
    }

    proptest! {
        #[test]
        fn decoding_never_panics_on_damaged_messages(
            which in 0..8usize,
            flip in any::<(usize, u8)>(),
            cut in any::<usize>(),
        ) {
            let mut bytes = samples()[which].encode();
            let at = flip.0 % bytes.len();
            bytes[at] ^= flip.1;
            let _ = Message::decode(&bytes);
            let _ = Message::decode(&bytes[..cut % bytes.len()]);
        }
    }
}
