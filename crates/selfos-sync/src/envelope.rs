//! Envelopes: how one device's message reaches another through the relay, encrypted so the relay
//! (or anyone without the vault's keys) learns sizes and timing only. See PROTOCOL.md.
//!
//! ```text
//! "SOSE" ‖ version 1 ‖ counter u64 ‖ part u16 ‖ parts u16 ‖ nonce [24] ‖ ciphertext
//! ciphertext = XChaCha20-Poly1305(envelope key, nonce, fragment, aad)
//! aad        = "SOSE" ‖ 1 ‖ room [32] ‖ sender [16] ‖ recipient [16] ‖ counter ‖ part ‖ parts
//! ```
//!
//! The AAD binds the room, both ends and the counter, so an envelope cannot be replayed,
//! redirected to another peer or moved to another room. Messages larger than one frame are split
//! into `parts` fragments with consecutive counters.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use selfos_proto::{PeerId, RoomId};
use zeroize::Zeroizing;

use crate::error::EnvelopeError;

const MAGIC: &[u8; 4] = b"SOSE";
const VERSION: u8 = 1;
pub(crate) const NONCE_LEN: usize = 24;
/// Bytes before the ciphertext.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 1 + 8 + 2 + 2 + NONCE_LEN;
/// Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;

/// The fixed fields of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) counter: u64,
    pub(crate) part: u16,
    pub(crate) parts: u16,
}

fn aad(room: &RoomId, from: &PeerId, to: &PeerId, h: &Header) -> Vec<u8> {
    let mut aad = Vec::with_capacity(MAGIC.len() + 1 + 32 + 16 + 16 + 12);
    aad.extend_from_slice(MAGIC);
    aad.push(VERSION);
    aad.extend_from_slice(room.as_bytes());
    aad.extend_from_slice(from.as_bytes());
    aad.extend_from_slice(to.as_bytes());
    aad.extend_from_slice(&h.counter.to_be_bytes());
    aad.extend_from_slice(&h.part.to_be_bytes());
    aad.extend_from_slice(&h.parts.to_be_bytes());
    aad
}

/// XChaCha20-Poly1305 of `msg` under a random nonce: the nonce, and the ciphertext with its tag.
pub(crate) fn seal(
    cipher: &XChaCha20Poly1305,
    msg: &[u8],
    aad: &[u8],
) -> Result<([u8; NONCE_LEN], Vec<u8>), EnvelopeError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| EnvelopeError::Entropy)?;
    let sealed = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg, aad })
        .map_err(|_| EnvelopeError::TooLarge)?;
    Ok((nonce, sealed))
}

/// The key and the room of a vault's envelopes.
pub(crate) struct EnvelopeSealer {
    cipher: XChaCha20Poly1305,
    pub(crate) room: RoomId,
}

impl std::fmt::Debug for EnvelopeSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeSealer")
            .field("room", &self.room)
            .finish_non_exhaustive()
    }
}

impl EnvelopeSealer {
    pub(crate) fn new(key: &[u8; 32], room: RoomId) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
            room,
        }
    }

    pub(crate) fn seal(
        &self,
        from: &PeerId,
        to: &PeerId,
        header: Header,
        fragment: &[u8],
    ) -> Result<Vec<u8>, EnvelopeError> {
        let (nonce, sealed) = seal(&self.cipher, fragment, &aad(&self.room, from, to, &header))?;
        let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&header.counter.to_be_bytes());
        out.extend_from_slice(&header.part.to_be_bytes());
        out.extend_from_slice(&header.parts.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Reads the header without decrypting (to check the counter first).
    pub(crate) fn header(bytes: &[u8]) -> Result<Header, EnvelopeError> {
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(EnvelopeError::Malformed);
        }
        if &bytes[..MAGIC.len()] != MAGIC {
            return Err(EnvelopeError::Malformed);
        }
        if bytes[MAGIC.len()] != VERSION {
            return Err(EnvelopeError::UnknownVersion(bytes[MAGIC.len()]));
        }
        let at = MAGIC.len() + 1;
        let mut counter = [0u8; 8];
        counter.copy_from_slice(&bytes[at..at + 8]);
        let part = u16::from_be_bytes([bytes[at + 8], bytes[at + 9]]);
        let parts = u16::from_be_bytes([bytes[at + 10], bytes[at + 11]]);
        if parts == 0 || part >= parts {
            return Err(EnvelopeError::Malformed);
        }
        Ok(Header {
            counter: u64::from_be_bytes(counter),
            part,
            parts,
        })
    }

    pub(crate) fn open(
        &self,
        from: &PeerId,
        to: &PeerId,
        bytes: &[u8],
    ) -> Result<(Header, Zeroizing<Vec<u8>>), EnvelopeError> {
        let header = Self::header(bytes)?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[HEADER_LEN - NONCE_LEN..HEADER_LEN]);
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &bytes[HEADER_LEN..],
                    aad: &aad(&self.room, from, to, &header),
                },
            )
            .map_err(|_| EnvelopeError::Forged)?;
        Ok((header, Zeroizing::new(plain)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(b: u8) -> RoomId {
        let key = ed25519_dalek::SigningKey::from_bytes(&[b; 32]);
        RoomId::from_bytes(key.verifying_key().as_bytes()).unwrap()
    }

    #[test]
    fn binds_room_ends_and_counter() {
        let a = PeerId::from_bytes([1; 16]);
        let b = PeerId::from_bytes([2; 16]);
        let c = PeerId::from_bytes([3; 16]);
        let s = EnvelopeSealer::new(&[9; 32], room(1));
        let h = Header {
            counter: 7,
            part: 0,
            parts: 1,
        };
        let env = s.seal(&a, &b, h, b"secret answer").unwrap();
        assert!(!env.windows(6).any(|w| w == b"secret"));
        let (got, plain) = s.open(&a, &b, &env).unwrap();
        assert_eq!(got, h);
        assert_eq!(plain.as_slice(), b"secret answer");
        // Redirected, spoofed, moved to another room, or under another key: refused.
        assert_eq!(s.open(&a, &c, &env).unwrap_err(), EnvelopeError::Forged);
        assert_eq!(s.open(&c, &b, &env).unwrap_err(), EnvelopeError::Forged);
        let other_room = EnvelopeSealer::new(&[9; 32], room(2));
        assert_eq!(
            other_room.open(&a, &b, &env).unwrap_err(),
            EnvelopeError::Forged
        );
        let other_key = EnvelopeSealer::new(&[8; 32], room(1));
        assert_eq!(
            other_key.open(&a, &b, &env).unwrap_err(),
            EnvelopeError::Forged
        );
        // A counter rewritten to look fresh breaks authentication.
        let mut bumped = env.clone();
        bumped[12] ^= 1;
        assert_eq!(s.open(&a, &b, &bumped).unwrap_err(), EnvelopeError::Forged);
        for cut in 0..HEADER_LEN + TAG_LEN {
            assert!(s.open(&a, &b, &env[..cut]).is_err());
        }
    }
}
