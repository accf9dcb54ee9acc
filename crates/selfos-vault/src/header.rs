//! The vault header: the vault and replica ids, and the vault secret wrapped under this
//! device's passphrase. See FORMAT.md, "Header".

use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{
    ids::{ReplicaId, VaultId},
    keys::{self, KdfError, KdfParams, Passphrase, SecretKey},
    random::{self, EntropyError},
    wire::{Reader, Short},
};

pub(crate) const MAGIC: &[u8; 8] = b"SELFOSVH";
const VERSION: u8 = 2;
/// The format whose keys all derived from the passphrase; read only to export it (see
/// `legacy`).
pub(crate) const VERSION_1: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const KDF_LEN: usize = 1 + 12;
const NONCE_LEN: usize = 24;
/// The secret (32 bytes) and the Poly1305 tag (16).
const WRAPPED_LEN: usize = 32 + 16;
/// Everything the wrap's AEAD binds: magic to salt.
const BOUND_LEN: usize = 8 + 1 + 16 + 16 + KDF_LEN + 16;
const BODY_LEN: usize = BOUND_LEN + NONCE_LEN + WRAPPED_LEN;
/// Header length in bytes, checksum included.
pub(crate) const LEN: usize = BODY_LEN + 8;

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Not a SelfOS vault header.
    #[error("not a SelfOS vault (bad magic bytes)")]
    BadMagic,
    /// Written by a newer (or unknown) version.
    #[error("unknown vault format version {found} (this build reads version {VERSION})")]
    UnknownVersion {
        /// The version found.
        found: u8,
    },
    /// Format 1, which derived every key from the passphrase.
    #[error(
        "this vault is in format 1, which this build no longer opens (its keys derived from the \
         passphrase, so its room id could test guesses at it): export its answers (export still \
         reads format 1), create a new vault and import them there"
    )]
    FormatV1,
    /// Shorter than a header.
    #[error("truncated: {found} of {LEN} bytes")]
    Truncated {
        /// Bytes found.
        found: usize,
    },
    /// Longer than a header.
    #[error("{found} bytes where a header has {LEN}")]
    TrailingBytes {
        /// Bytes found.
        found: usize,
    },
    /// The checksum does not match: the bytes were changed.
    #[error("checksum mismatch: the header is damaged")]
    Checksum,
    /// The key derivation function or its parameters are not supported.
    #[error("unsupported key derivation settings")]
    Kdf,
}

/// The AEAD refused the device key: with a checksum that matched, that is a wrong passphrase
/// (or a session key from before the passphrase changed).
#[derive(Debug, thiserror::Error)]
pub(crate) enum UnwrapError {
    #[error("wrong key")]
    WrongKey,
}

/// Why a secret could not be wrapped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WrapError {
    #[error(transparent)]
    Kdf(#[from] KdfError),
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The cipher did not seal 32 bytes into 48 (a bug: it always does).
    #[error("the cipher refused to seal the vault secret")]
    Cipher,
}

/// The vault secret sealed under a key Argon2id made from the passphrase.
#[derive(Debug, Clone)]
pub(crate) struct Wrap {
    pub(crate) kdf: KdfParams,
    salt: [u8; 16],
    nonce: [u8; NONCE_LEN],
    sealed: [u8; WRAPPED_LEN],
}

/// The header of one replica of a vault.
#[derive(Debug, Clone)]
pub(crate) struct VaultHeader {
    pub(crate) vault: VaultId,
    /// This replica (not shared: each replica writes its own header).
    pub(crate) replica: ReplicaId,
    pub(crate) wrap: Wrap,
}

impl VaultHeader {
    /// Wraps `secret` under `passphrase` with fresh salt and nonce. Runs Argon2id once; gives
    /// the device key too.
    pub(crate) fn seal(
        vault: VaultId,
        replica: ReplicaId,
        secret: &SecretKey,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<(Self, SecretKey), WrapError> {
        let salt = random::bytes()?;
        let nonce = random::bytes()?;
        let bound = bound_bytes(&vault, &replica, kdf, &salt);
        let key = keys::stretch(passphrase, &salt, kdf)?;
        let cipher = XChaCha20Poly1305::new(key.expose().into());
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.expose(),
                    aad: &bound,
                },
            )
            .map_err(|_| WrapError::Cipher)?;
        let sealed =
            <[u8; WRAPPED_LEN]>::try_from(sealed.as_slice()).map_err(|_| WrapError::Cipher)?;
        let header = Self {
            vault,
            replica,
            wrap: Wrap {
                kdf,
                salt,
                nonce,
                sealed,
            },
        };
        Ok((header, key))
    }

    /// The device key: what Argon2id makes of `passphrase` with this header's salt and cost.
    pub(crate) fn device_key(&self, passphrase: &Passphrase) -> Result<SecretKey, KdfError> {
        keys::stretch(passphrase, &self.wrap.salt, self.wrap.kdf)
    }

    /// Unwraps the vault secret with the device key (no Argon2id).
    pub(crate) fn unseal(&self, device: &SecretKey) -> Result<SecretKey, UnwrapError> {
        let Wrap {
            kdf,
            salt,
            nonce,
            sealed,
        } = &self.wrap;
        let cipher = XChaCha20Poly1305::new(device.expose().into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    &XNonce::from(*nonce),
                    Payload {
                        msg: sealed,
                        aad: &bound_bytes(&self.vault, &self.replica, *kdf, salt),
                    },
                )
                .map_err(|_| UnwrapError::WrongKey)?,
        );
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&plain);
        Ok(SecretKey::from_bytes(&mut bytes))
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let Wrap {
            kdf,
            salt,
            nonce,
            sealed,
        } = &self.wrap;
        let mut out = bound_bytes(&self.vault, &self.replica, *kdf, salt);
        out.extend_from_slice(nonce);
        out.extend_from_slice(sealed);
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum[..8]);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        match version(bytes)? {
            VERSION => {}
            VERSION_1 => return Err(HeaderError::FormatV1),
            found => return Err(HeaderError::UnknownVersion { found }),
        }
        let body = checked_body(bytes, LEN)?;
        let short = |_: Short| HeaderError::Truncated { found: bytes.len() };
        let mut r = Reader::new(&body[MAGIC.len() + 1..]);
        let vault = VaultId::from(r.array().map_err(short)?);
        let replica = ReplicaId::from(r.array().map_err(short)?);
        let kdf = decode_kdf(&mut r, KdfParams::new).map_err(|e| e.unwrap_or(HeaderError::Kdf))?;
        Ok(Self {
            vault,
            replica,
            wrap: Wrap {
                kdf,
                salt: r.array().map_err(short)?,
                nonce: r.array().map_err(short)?,
                sealed: r.array().map_err(short)?,
            },
        })
    }
}

/// The header's bytes up to the nonce, which the wrap authenticates.
fn bound_bytes(vault: &VaultId, replica: &ReplicaId, kdf: KdfParams, salt: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(vault.as_bytes());
    out.extend_from_slice(replica.as_bytes());
    encode_kdf(&mut out, kdf);
    out.extend_from_slice(salt);
    debug_assert_eq!(out.len(), BOUND_LEN);
    out
}

/// The format version of a header, after its magic bytes.
pub(crate) fn version(bytes: &[u8]) -> Result<u8, HeaderError> {
    if bytes.len() < MAGIC.len() + 1 {
        return Err(HeaderError::Truncated { found: bytes.len() });
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err(HeaderError::BadMagic);
    }
    Ok(bytes[MAGIC.len()])
}

/// A header of `len` bytes whose checksum (the last 8 bytes: SHA-256 of the rest) matches,
/// without its checksum.
pub(crate) fn checked_body(bytes: &[u8], len: usize) -> Result<&[u8], HeaderError> {
    match bytes.len() {
        n if n < len => return Err(HeaderError::Truncated { found: n }),
        n if n > len => return Err(HeaderError::TrailingBytes { found: n }),
        _ => {}
    }
    let (body, sum) = bytes.split_at(len - 8);
    if Sha256::digest(body)[..8] != *sum {
        return Err(HeaderError::Checksum);
    }
    Ok(body)
}

fn encode_kdf(out: &mut Vec<u8>, kdf: KdfParams) {
    out.push(KDF_ARGON2ID);
    out.extend_from_slice(&kdf.memory_kib.to_be_bytes());
    out.extend_from_slice(&kdf.iterations.to_be_bytes());
    out.extend_from_slice(&kdf.parallelism.to_be_bytes());
}

/// The KDF id and parameters, checked by `accept` (`KdfParams::new`, or format 1's own rule).
/// `Err(None)` means unsupported parameters; `Err(Some(_))` a read error.
pub(crate) fn decode_kdf<E>(
    r: &mut Reader<'_>,
    accept: impl FnOnce(u32, u32, u32) -> Result<KdfParams, E>,
) -> Result<KdfParams, Option<HeaderError>> {
    let short = |s: Short| Some(HeaderError::Truncated { found: s.available });
    if r.u8().map_err(short)? != KDF_ARGON2ID {
        return Err(None);
    }
    let (m, t, p) = (
        r.u32().map_err(short)?,
        r.u32().map_err(short)?,
        r.u32().map_err(short)?,
    );
    accept(m, t, p).map_err(|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn header(secret: &SecretKey) -> VaultHeader {
        VaultHeader::seal(
            VaultId::from([1; 16]),
            ReplicaId::from([4; 16]),
            secret,
            &Passphrase::new("correct horse".into()),
            FAST,
        )
        .unwrap()
        .0
    }

    fn unseal(header: &VaultHeader, passphrase: &str) -> Result<SecretKey, UnwrapError> {
        let device = header
            .device_key(&Passphrase::new(passphrase.into()))
            .unwrap();
        header.unseal(&device)
    }

    #[test]
    fn round_trip_and_unwrap() {
        let secret = SecretKey::from_bytes(&mut [7; 32]);
        let bytes = header(&secret).encode();
        assert_eq!(bytes.len(), LEN);
        assert_eq!(LEN, 150, "FORMAT.md documents a 150-byte header");
        let back = VaultHeader::decode(&bytes).unwrap();
        assert_eq!(back.vault, VaultId::from([1; 16]));
        assert_eq!(back.replica, ReplicaId::from([4; 16]));
        assert_eq!(back.wrap.kdf, FAST);
        assert!(unseal(&back, "correct horse").unwrap().same_as(&secret));
        assert!(matches!(
            unseal(&back, "correct horsf"),
            Err(UnwrapError::WrongKey)
        ));
        let plain = hex::encode(secret.expose());
        assert!(
            !hex::encode(&bytes).contains(&plain),
            "the secret is sealed"
        );
    }

    /// The wrap binds the ids: a header whose ids were swapped for another's (checksum fixed
    /// up) unwraps to nothing.
    #[test]
    fn the_wrap_binds_the_ids() {
        let secret = SecretKey::from_bytes(&mut [7; 32]);
        let mut bytes = header(&secret).encode();
        bytes[9] ^= 1;
        let sum = Sha256::digest(&bytes[..BODY_LEN]);
        bytes[BODY_LEN..].copy_from_slice(&sum[..8]);
        let moved = VaultHeader::decode(&bytes).unwrap();
        assert!(matches!(
            unseal(&moved, "correct horse"),
            Err(UnwrapError::WrongKey)
        ));
    }

    #[test]
    fn every_damage_is_named() {
        let good = header(&SecretKey::from_bytes(&mut [7; 32])).encode();
        assert_eq!(
            VaultHeader::decode(&good[..40]).unwrap_err(),
            HeaderError::Truncated { found: 40 }
        );
        let mut longer = good.clone();
        longer.push(0);
        assert!(matches!(
            VaultHeader::decode(&longer),
            Err(HeaderError::TrailingBytes { .. })
        ));
        let mut v3 = good.clone();
        v3[8] = 3;
        assert_eq!(
            VaultHeader::decode(&v3).unwrap_err(),
            HeaderError::UnknownVersion { found: 3 }
        );
        let mut v1 = good.clone();
        v1[8] = 1;
        assert_eq!(VaultHeader::decode(&v1).unwrap_err(), HeaderError::FormatV1);
        assert_eq!(
            VaultHeader::decode(b"PK\x03\x04 not a vault at all..").unwrap_err(),
            HeaderError::BadMagic
        );
        for i in 9..LEN {
            let mut flipped = good.clone();
            flipped[i] ^= 0x10;
            assert_eq!(
                VaultHeader::decode(&flipped).unwrap_err(),
                HeaderError::Checksum,
                "byte {i}"
            );
        }
    }
}
