//! Keys: the passphrase, Argon2id, and the HKDF subkeys derived from the root key.
//!
//! passphrase + salt --Argon2id--> root key --HKDF-SHA256(label)--> storage key, key check, ...
//! Every derived key has its own label, so no two uses ever share a key.

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::random::{self, EntropyError};

/// A user's passphrase. Zeroized on drop; never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps a passphrase. The caller's copy should be dropped (or zeroized) right after.
    pub fn new(passphrase: String) -> Self {
        Self(passphrase)
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether the passphrase is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(..)")
    }
}

/// Argon2id cost parameters, stored in the vault header so every replica derives the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// Why Argon2id parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KdfParamsError {
    /// A parameter is outside the range this version accepts.
    #[error(
        "Argon2id parameters out of range: memory {memory_kib} KiB (8*lanes..=4194304), \
         iterations {iterations} (1..=64), lanes {parallelism} (1..=16)"
    )]
    OutOfRange {
        /// Memory in KiB.
        memory_kib: u32,
        /// Passes.
        iterations: u32,
        /// Lanes.
        parallelism: u32,
    },
}

impl KdfParams {
    /// The default for new vaults: 64 MiB, 3 passes, 4 lanes.
    pub const DEFAULT: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 4,
    };

    /// Checks that the parameters are in range. The upper bounds stop a forged header or link
    /// from making a device allocate without limit.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, KdfParamsError> {
        let ok = (1..=16).contains(&parallelism)
            && (1..=64).contains(&iterations)
            && memory_kib >= 8 * parallelism
            && memory_kib <= 4 * 1024 * 1024;
        if ok {
            Ok(Self {
                memory_kib,
                iterations,
                parallelism,
            })
        } else {
            Err(KdfParamsError::OutOfRange {
                memory_kib,
                iterations,
                parallelism,
            })
        }
    }

    /// Whether these parameters are below OWASP's minimum for Argon2id (19 MiB, 2 passes).
    pub fn is_weak(&self) -> bool {
        self.memory_kib < 19 * 1024 || self.iterations < 2
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A 256-bit secret key. Zeroized on drop, never printed, never compared in variable time.
#[derive(Zeroize, ZeroizeOnDrop, Clone)]
pub(crate) struct SecretKey(Box<[u8; 32]>);

impl SecretKey {
    /// A fresh random key.
    pub(crate) fn random() -> Result<Self, EntropyError> {
        let mut bytes = Zeroizing::new(random::bytes::<32>()?);
        Ok(Self::from_bytes(&mut bytes))
    }

    /// Takes the key out of `bytes`, zeroizing the source.
    pub(crate) fn from_bytes(bytes: &mut [u8; 32]) -> Self {
        let key = Self(Box::new(*bytes));
        bytes.zeroize();
        key
    }

    /// The key bytes, for the cipher that uses them.
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A public value that proves a passphrase right without revealing anything about it beyond
/// what Argon2id allows: HKDF(root, "key-check"). Stored in the header, so a wrong passphrase
/// is told apart from damaged data.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyCheck(pub(crate) [u8; 32]);

impl KeyCheck {
    /// Constant-time comparison.
    pub(crate) fn matches(&self, other: &KeyCheck) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// The HKDF labels; a new use of the root key gets a new label.
mod label {
    pub(super) const STORAGE: &[u8] = b"selfos/v1/storage-aes256gcm";
    pub(super) const KEY_CHECK: &[u8] = b"selfos/v1/key-check";
    pub(super) const ENVELOPE: &[u8] = b"selfos/v1/sync-envelope-xchacha20poly1305";
    pub(super) const ROOM: &[u8] = b"selfos/v1/room-ed25519-seed";
}

/// The secrets the sync engine needs: the key of the envelopes between devices, and the seed of
/// the room's Ed25519 signing key (whose public half is the room id). Zeroized on drop; never
/// printed.
#[derive(Clone)]
pub struct SyncKeys {
    envelope: SecretKey,
    room_seed: SecretKey,
}

impl SyncKeys {
    /// The XChaCha20-Poly1305 key for envelopes. Secret: hand it to the cipher only.
    pub fn envelope_key(&self) -> &[u8; 32] {
        self.envelope.expose()
    }

    /// The seed of the room's Ed25519 signing key. Secret: hand it to the signer only.
    pub fn room_seed(&self) -> &[u8; 32] {
        self.room_seed.expose()
    }
}

impl std::fmt::Debug for SyncKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncKeys(..)")
    }
}

/// The keys of an unlocked vault.
pub(crate) struct VaultKeys {
    /// What Argon2id gave; kept only so [`SessionKey`] can hand an unlock on within a session.
    pub(crate) root: SecretKey,
    /// Encrypts chunks at rest.
    pub(crate) storage: SecretKey,
    /// Proves the passphrase.
    pub(crate) check: KeyCheck,
    /// For the sync engine.
    pub(crate) sync: SyncKeys,
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            root: _,
            storage: _,
            check,
            sync: _,
        } = self;
        f.debug_struct("VaultKeys")
            .field("check", check)
            .finish_non_exhaustive()
    }
}

/// Failure to run the key derivation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KdfError {
    /// Argon2id refused its parameters or failed.
    #[error("key derivation failed: {0}")]
    Argon2(#[from] argon2::Error),
    /// HKDF refused an output length (a bug: every subkey is 32 bytes).
    #[error("key derivation failed: {0}")]
    Hkdf(#[from] hkdf::InvalidLength),
}

impl VaultKeys {
    /// Runs Argon2id and derives the subkeys. Costs what `params` say (about 120 ms natively at
    /// the defaults).
    pub(crate) fn derive(
        passphrase: &Passphrase,
        salt: &[u8; 16],
        params: KdfParams,
    ) -> Result<Self, KdfError> {
        let argon_params = argon2::Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(32),
        )?;
        let argon = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon_params,
        );
        let mut root = Zeroizing::new([0u8; 32]);
        argon.hash_password_into(passphrase.as_bytes(), salt, root.as_mut())?;
        Self::from_root(SecretKey::from_bytes(&mut root))
    }

    /// Derives the subkeys from the root key (no Argon2id).
    pub(crate) fn from_root(root: SecretKey) -> Result<Self, KdfError> {
        let hk = Hkdf::<Sha256>::new(None, root.expose());
        let expand = |label: &[u8]| -> Result<Zeroizing<[u8; 32]>, KdfError> {
            let mut out = Zeroizing::new([0u8; 32]);
            hk.expand(label, out.as_mut())?;
            Ok(out)
        };
        let storage = SecretKey::from_bytes(&mut *expand(label::STORAGE)?);
        // The key check is public by design: it is stored in the header.
        let check = KeyCheck(*expand(label::KEY_CHECK)?);
        let sync = SyncKeys {
            envelope: SecretKey::from_bytes(&mut *expand(label::ENVELOPE)?),
            room_seed: SecretKey::from_bytes(&mut *expand(label::ROOM)?),
        };
        Ok(Self {
            root,
            storage,
            check,
            sync,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn same_inputs_same_keys_and_labels_differ() {
        let p = Passphrase::new("correct horse".into());
        let a = VaultKeys::derive(&p, &[1; 16], FAST).unwrap();
        let b = VaultKeys::derive(&p, &[1; 16], FAST).unwrap();
        assert_eq!(a.storage.expose(), b.storage.expose());
        assert!(a.check.matches(&b.check));
        assert_ne!(a.storage.expose(), &a.check.0);
        let labels = [
            a.storage.expose(),
            &a.check.0,
            a.sync.envelope_key(),
            a.sync.room_seed(),
        ];
        for (i, x) in labels.iter().enumerate() {
            for y in &labels[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn passphrase_and_salt_change_everything() {
        let a = VaultKeys::derive(&Passphrase::new("one".into()), &[1; 16], FAST).unwrap();
        let b = VaultKeys::derive(&Passphrase::new("two".into()), &[1; 16], FAST).unwrap();
        let c = VaultKeys::derive(&Passphrase::new("one".into()), &[2; 16], FAST).unwrap();
        assert!(!a.check.matches(&b.check));
        assert!(!a.check.matches(&c.check));
        assert_ne!(a.storage.expose(), b.storage.expose());
    }

    /// A known answer: the derivation must never change, or existing vaults stop opening.
    /// The expected value was computed independently with argon2-cffi and Python's hmac
    /// (Argon2id v19, m=64 KiB, t=1, p=1, then HKDF-SHA256 with an all-zero salt).
    #[test]
    fn known_answer() {
        let keys = VaultKeys::derive(&Passphrase::new("selfos".into()), &[0; 16], FAST).unwrap();
        assert_eq!(
            hex::encode(keys.check.0),
            include_str!("../tests/data/key_check_kat.hex").trim()
        );
    }

    #[test]
    fn secrets_never_print() {
        let keys = VaultKeys::derive(&Passphrase::new("hunter2".into()), &[0; 16], FAST).unwrap();
        let printed = format!(
            "{keys:?} {:?} {:?}",
            Passphrase::new("hunter2".into()),
            keys.sync
        );
        assert!(!printed.contains("hunter2"));
        for secret in [
            keys.storage.expose(),
            keys.sync.envelope_key(),
            keys.sync.room_seed(),
        ] {
            assert!(!printed.contains(&hex::encode(secret)));
        }
        assert!(printed.contains("Passphrase(..)"));
    }

    #[test]
    fn params_bounds() {
        assert!(KdfParams::new(64 * 1024, 3, 4).is_ok());
        assert!(KdfParams::new(7, 1, 1).is_err());
        assert!(KdfParams::new(64, 0, 1).is_err());
        assert!(KdfParams::new(64, 1, 0).is_err());
        assert!(KdfParams::new(u32::MAX, 1, 1).is_err());
        assert!(!KdfParams::DEFAULT.is_weak());
        assert!(FAST.is_weak());
    }
}
