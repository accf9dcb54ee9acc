//! Keys: the vault secret and the HKDF subkeys every device derives from it, and the passphrase
//! that wraps the secret on each device.
//!
//! ```text
//! vault secret (random, 256 bits) --HKDF-SHA256(label)--> vault id, storage key, envelope key, room seed
//! passphrase + salt --Argon2id--> device key --XChaCha20-Poly1305--> the secret, wrapped in the header
//! ```
//!
//! Nothing a device shares derives from the passphrase, so nothing on the wire or in a relay's
//! hands can test a guess at it: the passphrase only guards the copy of the secret on its own
//! device. Every derived key has its own label, so no two uses ever share a key.

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{
    ids::VaultId,
    random::{self, EntropyError},
};

/// A user's passphrase. Zeroized on drop; never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps a passphrase. The caller's copy should be dropped (or zeroized) right after.
    pub fn new(passphrase: String) -> Self {
        Self(passphrase)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The passphrase text, for a strength estimator. Secret: never print or store it.
    pub fn expose(&self) -> &str {
        &self.0
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

/// Argon2id cost parameters of one device's passphrase, stored in its header.
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
    /// A parameter is outside the range this build accepts.
    #[error(
        "Argon2id parameters out of range: memory {memory_kib} KiB ({}..={} KiB), \
         iterations {iterations} ({}..={}), lanes {parallelism} (1..={})",
        KdfParams::FLOOR.memory_kib, KdfParams::CEILING.memory_kib,
        KdfParams::FLOOR.iterations, KdfParams::CEILING.iterations,
        KdfParams::CEILING.parallelism
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
    /// The default for new passphrases: 64 MiB, 3 passes, 4 lanes (about 120 ms natively).
    pub const DEFAULT: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 4,
    };

    /// The least accepted: OWASP's minimum for Argon2id (19 MiB, 2 passes).
    pub const FLOOR: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// The most accepted, in each parameter: what a browser worker still runs in seconds. It
    /// stops a forged header from making a device allocate or compute without limit.
    pub const CEILING: Self = Self {
        memory_kib: 256 * 1024,
        iterations: 16,
        parallelism: 16,
    };

    /// Checks that the parameters lie between [`KdfParams::FLOOR`] and
    /// [`KdfParams::CEILING`]: enforced when a passphrase is set and when one unlocks.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, KdfParamsError> {
        Self::bounded(memory_kib, iterations, parallelism, enforced_floor())
    }

    /// Format 1 had no floor (its vaults may have been made cheap), so reading one checks the
    /// ceiling only: a forged header still cannot make a device allocate without limit.
    pub(crate) fn format_1(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<Self, KdfParamsError> {
        Self::bounded(memory_kib, iterations, parallelism, ARGON2_MIN)
    }

    fn bounded(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        floor: KdfParams,
    ) -> Result<Self, KdfParamsError> {
        let ceiling = Self::CEILING;
        let ok = (1..=ceiling.parallelism).contains(&parallelism)
            && (floor.iterations..=ceiling.iterations).contains(&iterations)
            && memory_kib >= floor.memory_kib.max(8 * parallelism)
            && memory_kib <= ceiling.memory_kib;
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

    /// The same check for parameters already in a struct.
    pub(crate) fn checked(self) -> Result<Self, KdfParamsError> {
        Self::new(self.memory_kib, self.iterations, self.parallelism)
    }
}

/// [`KdfParams::FLOOR`], except in builds with the `insecure-kdf` feature, which only the
/// project's own tests enable (thousands of unlocks at the floor would take minutes): those
/// accept any cost. Release builds, the CLI and the WASM package never have it.
#[cfg(not(any(test, feature = "insecure-kdf")))]
fn enforced_floor() -> KdfParams {
    KdfParams::FLOOR
}

#[cfg(any(test, feature = "insecure-kdf"))]
fn enforced_floor() -> KdfParams {
    ARGON2_MIN
}

/// The least Argon2 itself runs with (8 KiB per lane, one pass).
const ARGON2_MIN: KdfParams = KdfParams {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

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

    /// Constant-time equality.
    pub(crate) fn same_as(&self, other: &SecretKey) -> bool {
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// The HKDF labels; a new use of the vault secret gets a new label.
mod label {
    pub(super) const VAULT_ID: &[u8] = b"selfos/v2/vault-id";
    pub(super) const STORAGE: &[u8] = b"selfos/v2/storage-aes256gcm";
    pub(super) const ENVELOPE: &[u8] = b"selfos/v2/sync-envelope-xchacha20poly1305";
    pub(super) const ROOM: &[u8] = b"selfos/v2/room-ed25519-seed";
    pub(super) const STORE: &[u8] = b"selfos/v2/store-blob-xchacha20poly1305";
}

/// The secrets the sync engine needs: the key of the envelopes between devices, the seed of the
/// room's Ed25519 signing key (whose public half is the room id), and the key of the blobs kept
/// in the relay's store. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct SyncKeys {
    pub(crate) envelope: SecretKey,
    pub(crate) room_seed: SecretKey,
    pub(crate) store: SecretKey,
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

    /// The XChaCha20-Poly1305 key for the blobs of the relay's store. Secret: hand it to the
    /// cipher only.
    pub fn store_key(&self) -> &[u8; 32] {
        self.store.expose()
    }
}

impl std::fmt::Debug for SyncKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncKeys(..)")
    }
}

/// The keys of an unlocked vault, all derived from its secret.
pub(crate) struct VaultKeys {
    /// The vault secret; kept to wrap it again, hand it to a session or a new device.
    pub(crate) secret: SecretKey,
    /// The vault's public id, derived from the secret.
    pub(crate) vault: VaultId,
    /// Encrypts chunks at rest.
    pub(crate) storage: SecretKey,
    /// For the sync engine.
    pub(crate) sync: SyncKeys,
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultKeys")
            .field("vault", &self.vault)
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
    /// HKDF refused an output length (a bug: every subkey is at most 32 bytes).
    #[error("key derivation failed: {0}")]
    Hkdf(#[from] hkdf::InvalidLength),
}

/// HKDF-SHA256 of `ikm` under `label`, 32 bytes.
pub(crate) fn expand(ikm: &[u8; 32], label: &[u8]) -> Result<Zeroizing<[u8; 32]>, KdfError> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, ikm).expand(label, out.as_mut())?;
    Ok(out)
}

/// Argon2id of the passphrase: the key that wraps (or, in format 1, derived) everything else.
/// Costs what `params` say.
pub(crate) fn stretch(
    passphrase: &Passphrase,
    salt: &[u8; 16],
    params: KdfParams,
) -> Result<SecretKey, KdfError> {
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
    let mut out = Zeroizing::new([0u8; 32]);
    argon.hash_password_into(passphrase.as_bytes(), salt, out.as_mut())?;
    Ok(SecretKey::from_bytes(&mut out))
}

impl VaultKeys {
    /// Derives every key of a vault from its secret (no Argon2id: microseconds).
    pub(crate) fn from_secret(secret: SecretKey) -> Result<Self, KdfError> {
        let ikm = secret.expose();
        let id = expand(ikm, label::VAULT_ID)?;
        let mut vault = [0u8; 16];
        vault.copy_from_slice(&id[..16]);
        Ok(Self {
            vault: VaultId::from(vault),
            storage: SecretKey::from_bytes(&mut *expand(ikm, label::STORAGE)?),
            sync: SyncKeys {
                envelope: SecretKey::from_bytes(&mut *expand(ikm, label::ENVELOPE)?),
                room_seed: SecretKey::from_bytes(&mut *expand(ikm, label::ROOM)?),
                store: SecretKey::from_bytes(&mut *expand(ikm, label::STORE)?),
            },
            secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(byte: u8) -> VaultKeys {
        VaultKeys::from_secret(SecretKey::from_bytes(&mut [byte; 32])).unwrap()
    }

    #[test]
    fn same_secret_same_keys_and_labels_differ() {
        let (a, b) = (keys(1), keys(1));
        assert_eq!(a.vault, b.vault);
        assert!(a.storage.same_as(&b.storage));
        let derived = [
            a.secret.expose(),
            a.storage.expose(),
            a.sync.envelope_key(),
            a.sync.room_seed(),
        ];
        for (i, x) in derived.iter().enumerate() {
            for y in &derived[i + 1..] {
                assert_ne!(x, y);
            }
        }
        let c = keys(2);
        assert_ne!(a.vault, c.vault);
        assert!(!a.storage.same_as(&c.storage));
    }

    /// A known answer: the derivation must never change, or existing vaults stop opening.
    /// The expected values were computed independently with Python's hmac (HKDF-SHA256 with an
    /// all-zero salt, secret = 32 bytes of 0x07): vault id, then storage key.
    #[test]
    fn known_answer() {
        let k = keys(7);
        let expected = include_str!("../tests/data/v2_keys_kat.hex");
        let mut lines = expected.lines();
        assert_eq!(k.vault.to_string(), lines.next().unwrap());
        assert_eq!(hex::encode(k.storage.expose()), lines.next().unwrap());
    }

    #[test]
    fn secrets_never_print() {
        let k = keys(3);
        let printed = format!(
            "{k:?} {:?} {:?} {:?}",
            Passphrase::new("hunter2".into()),
            k.sync,
            k.secret
        );
        assert!(!printed.contains("hunter2"));
        for secret in [
            k.secret.expose(),
            k.storage.expose(),
            k.sync.envelope_key(),
            k.sync.room_seed(),
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
        assert!(KdfParams::new(256 * 1024 + 1, 3, 4).is_err());
        assert!(KdfParams::new(64 * 1024, 17, 4).is_err());
        assert!(KdfParams::DEFAULT.checked().is_ok());
        assert!(KdfParams::CEILING.checked().is_ok());
    }
}
