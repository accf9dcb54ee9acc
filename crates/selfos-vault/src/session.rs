//! A session key: an unlock handed from one process of a device to its next, without the
//! passphrase and without running Argon2id again.
//!
//! A browser extension's service worker is stopped whenever it is idle and started again by the
//! next event, losing the unlocked vault each time; asking for the passphrase after every pause
//! would make the extension unusable. Its answer is to keep a session key in storage that lives
//! in memory only and that the browser clears when it closes (`chrome.storage.session`).
//!
//! The key is what Argon2id made of the passphrase: it unwraps the vault secret from this
//! device's header and nothing else, until the passphrase changes (a new salt makes a new key).
//! Never write it to disk, a log or the network.
//!
//! Format: `SOSK` | version (2) | vault id (16) | device key (32) = 53 bytes. Version 1 held
//! format 1's root key; it is refused, and the passphrase unlocks again.

use zeroize::Zeroizing;

use crate::{ids::VaultId, keys::SecretKey};

const MAGIC: &[u8; 4] = b"SOSK";
const VERSION: u8 = 2;
const LEN: usize = 4 + 1 + 16 + 32;

/// The device key of one unlocked vault, bound to its id. Zeroized on drop; never printed.
pub struct SessionKey {
    pub(crate) vault: VaultId,
    pub(crate) device: SecretKey,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// Why bytes are not a session key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionKeyError {
    /// Wrong length or magic bytes.
    #[error("not a SelfOS session key")]
    Malformed,
    /// A version this build does not read.
    #[error("session key version {0} is not supported (this build reads version 2)")]
    UnknownVersion(u8),
}

impl SessionKey {
    /// The bytes to keep in memory-only storage. Secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(LEN));
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(self.vault.as_bytes());
        out.extend_from_slice(self.device.expose());
        out
    }

    /// Reads what [`SessionKey::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionKeyError> {
        if bytes.len() != LEN || &bytes[..4] != MAGIC {
            return Err(SessionKeyError::Malformed);
        }
        if bytes[4] != VERSION {
            return Err(SessionKeyError::UnknownVersion(bytes[4]));
        }
        let mut vault = [0u8; 16];
        vault.copy_from_slice(&bytes[5..21]);
        let mut device = Zeroizing::new([0u8; 32]);
        device.copy_from_slice(&bytes[21..]);
        Ok(Self {
            vault: VaultId::from(vault),
            device: SecretKey::from_bytes(&mut device),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key() -> SessionKey {
        SessionKey {
            vault: VaultId::from([7; 16]),
            device: SecretKey::from_bytes(&mut [9; 32]),
        }
    }

    #[test]
    fn round_trip_exact_length_and_no_printing() {
        let bytes = key().to_bytes();
        assert_eq!(bytes.len(), LEN);
        let back = SessionKey::from_bytes(&bytes).unwrap();
        assert_eq!(back.vault, key().vault);
        assert_eq!(back.device.expose(), key().device.expose());
        assert_eq!(format!("{back:?}"), "SessionKey(..)");
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        let mut bytes = key().to_bytes().to_vec();
        assert_eq!(
            SessionKey::from_bytes(&bytes[..LEN - 1]).unwrap_err(),
            SessionKeyError::Malformed
        );
        bytes[4] = 1;
        assert_eq!(
            SessionKey::from_bytes(&bytes).unwrap_err(),
            SessionKeyError::UnknownVersion(1)
        );
        bytes[0] = b'X';
        assert_eq!(
            SessionKey::from_bytes(&bytes).unwrap_err(),
            SessionKeyError::Malformed
        );
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = SessionKey::from_bytes(&bytes);
        }
    }
}
