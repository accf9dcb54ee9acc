//! Blobs: what a device puts in the relay's store, sealed so the relay learns sizes only.
//!
//! ```text
//! "SOSB" ‖ version 1 ‖ nonce [24] ‖ ciphertext
//! ciphertext = XChaCha20-Poly1305(store key, nonce, namespace length u8 ‖ namespace ‖ bundle)
//! aad        = "SOSB" ‖ 1 ‖ room [32]
//! blob id    = SHA-256(the whole blob)
//! ```
//!
//! The nonce is random per blob, so sealing the same bundle twice gives two blobs; the id is a
//! hash of the sealed bytes, which the relay checks on upload and the device on download.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use selfos_proto::{BlobId, RoomId};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{
    envelope::{NONCE_LEN, seal},
    error::EnvelopeError,
};

const MAGIC: &[u8; 4] = b"SOSB";
const VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1 + NONCE_LEN;
const TAG_LEN: usize = 16;

/// The id of a blob: the SHA-256 of its bytes.
pub(crate) fn blob_id(blob: &[u8]) -> BlobId {
    BlobId::from_bytes(Sha256::digest(blob).into())
}

/// The key and the room of a vault's blobs.
pub(crate) struct BlobSealer {
    cipher: XChaCha20Poly1305,
    aad: [u8; MAGIC.len() + 1 + RoomId::LEN],
}

impl BlobSealer {
    pub(crate) fn new(key: &[u8; 32], room: RoomId) -> Self {
        let mut aad = [0u8; MAGIC.len() + 1 + RoomId::LEN];
        aad[..4].copy_from_slice(MAGIC);
        aad[4] = VERSION;
        aad[5..].copy_from_slice(room.as_bytes());
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
            aad,
        }
    }

    /// Seals `plain` into a blob; returns its id and bytes.
    pub(crate) fn seal(&self, plain: &[u8]) -> Result<(BlobId, Vec<u8>), EnvelopeError> {
        let (nonce, sealed) = seal(&self.cipher, plain, &self.aad)?;
        let mut blob = Vec::with_capacity(HEADER_LEN + sealed.len());
        blob.extend_from_slice(MAGIC);
        blob.push(VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok((blob_id(&blob), blob))
    }

    /// Opens a blob of this room.
    pub(crate) fn open(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        if blob.len() < HEADER_LEN + TAG_LEN || &blob[..MAGIC.len()] != MAGIC {
            return Err(EnvelopeError::Malformed);
        }
        if blob[MAGIC.len()] != VERSION {
            return Err(EnvelopeError::UnknownVersion(blob[MAGIC.len()]));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&blob[MAGIC.len() + 1..HEADER_LEN]);
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &blob[HEADER_LEN..],
                    aad: &self.aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| EnvelopeError::Forged)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    fn room(seed: u8) -> RoomId {
        RoomId::try_from(SigningKey::from_bytes(&[seed; 32]).verifying_key()).unwrap()
    }

    #[test]
    fn a_blob_opens_only_with_its_key_and_room() {
        let sealer = BlobSealer::new(&[1; 32], room(1));
        let (id, blob) = sealer.seal(b"bundle").unwrap();
        assert_eq!(id, blob_id(&blob));
        assert_eq!(&sealer.open(&blob).unwrap()[..], b"bundle");
        // Same plaintext, new nonce: another blob.
        assert_ne!(sealer.seal(b"bundle").unwrap().0, id);

        let other_key = BlobSealer::new(&[2; 32], room(1));
        assert_eq!(other_key.open(&blob), Err(EnvelopeError::Forged));
        let other_room = BlobSealer::new(&[1; 32], room(2));
        assert_eq!(other_room.open(&blob), Err(EnvelopeError::Forged));

        let mut flipped = blob.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(sealer.open(&flipped), Err(EnvelopeError::Forged));
        let mut version = blob.clone();
        version[4] = 2;
        assert_eq!(sealer.open(&version), Err(EnvelopeError::UnknownVersion(2)));
        assert_eq!(sealer.open(&blob[..20]), Err(EnvelopeError::Malformed));
    }
}
