//! The vault header: everything needed to derive the keys, nothing secret. See FORMAT.md.

use sha2::{Digest, Sha256};

use crate::{
    ids::{ReplicaId, VaultId},
    keys::{KdfParams, KeyCheck},
    wire::{Reader, Short},
};

const MAGIC: &[u8; 8] = b"SELFOSVH";
const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const BODY_LEN: usize = 8 + 1 + 16 + 16 + 1 + 12 + 32 + 16;
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

/// The header of one replica of a vault.
#[derive(Debug, Clone)]
pub(crate) struct VaultHeader {
    pub(crate) vault: VaultId,
    pub(crate) salt: [u8; 16],
    pub(crate) kdf: KdfParams,
    pub(crate) check: KeyCheck,
    /// This replica (not shared: each replica writes its own header).
    pub(crate) replica: ReplicaId,
}

impl VaultHeader {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(self.vault.as_bytes());
        out.extend_from_slice(&self.salt);
        encode_kdf(&mut out, self.kdf);
        out.extend_from_slice(&self.check.0);
        out.extend_from_slice(self.replica.as_bytes());
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum[..8]);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        if bytes.len() < MAGIC.len() + 1 {
            return Err(HeaderError::Truncated { found: bytes.len() });
        }
        if &bytes[..MAGIC.len()] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = bytes[MAGIC.len()];
        if version != VERSION {
            return Err(HeaderError::UnknownVersion { found: version });
        }
        match bytes.len() {
            n if n < LEN => return Err(HeaderError::Truncated { found: n }),
            n if n > LEN => return Err(HeaderError::TrailingBytes { found: n }),
            _ => {}
        }
        let sum = Sha256::digest(&bytes[..BODY_LEN]);
        if sum[..8] != bytes[BODY_LEN..] {
            return Err(HeaderError::Checksum);
        }
        let short = |_: Short| HeaderError::Truncated { found: bytes.len() };
        let mut r = Reader::new(&bytes[MAGIC.len() + 1..]);
        let vault = VaultId::from(r.array().map_err(short)?);
        let salt = r.array().map_err(short)?;
        let kdf = decode_kdf(&mut r).map_err(|e| e.unwrap_or(HeaderError::Kdf))?;
        let check = KeyCheck(r.array().map_err(short)?);
        let replica = ReplicaId::from(r.array().map_err(short)?);
        Ok(Self {
            vault,
            salt,
            kdf,
            check,
            replica,
        })
    }
}

/// KDF id and parameters, shared by the header and the vault link.
pub(crate) fn encode_kdf(out: &mut Vec<u8>, kdf: KdfParams) {
    out.push(KDF_ARGON2ID);
    out.extend_from_slice(&kdf.memory_kib.to_be_bytes());
    out.extend_from_slice(&kdf.iterations.to_be_bytes());
    out.extend_from_slice(&kdf.parallelism.to_be_bytes());
}

/// `Err(None)` means unsupported parameters; `Err(Some(_))` a read error.
pub(crate) fn decode_kdf(r: &mut Reader<'_>) -> Result<KdfParams, Option<HeaderError>> {
    let short = |s: Short| Some(HeaderError::Truncated { found: s.available });
    if r.u8().map_err(short)? != KDF_ARGON2ID {
        return Err(None);
    }
    let (m, t, p) = (
        r.u32().map_err(short)?,
        r.u32().map_err(short)?,
        r.u32().map_err(short)?,
    );
    KdfParams::new(m, t, p).map_err(|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> VaultHeader {
        VaultHeader {
            vault: VaultId::from([1; 16]),
            salt: [2; 16],
            kdf: KdfParams::DEFAULT,
            check: KeyCheck([3; 32]),
            replica: ReplicaId::from([4; 16]),
        }
    }

    #[test]
    fn round_trip() {
        let bytes = header().encode();
        assert_eq!(bytes.len(), LEN);
        assert_eq!(LEN, 110, "FORMAT.md documents a 110-byte header");
        let back = VaultHeader::decode(&bytes).unwrap();
        assert_eq!(back.vault, header().vault);
        assert_eq!(back.salt, [2; 16]);
        assert_eq!(back.kdf, KdfParams::DEFAULT);
        assert_eq!(back.check.0, [3; 32]);
        assert_eq!(back.replica, header().replica);
    }

    #[test]
    fn every_damage_is_named() {
        let good = header().encode();
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
        let mut v2 = good.clone();
        v2[8] = 2;
        assert_eq!(
            VaultHeader::decode(&v2).unwrap_err(),
            HeaderError::UnknownVersion { found: 2 }
        );
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
