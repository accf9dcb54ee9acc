//! Format 1, read to move its answers out.
//!
//! A format-1 vault derived every key from its passphrase (Argon2id, then HKDF), so its room id
//! and a link could test guesses at the passphrase. This build opens it only read-only, for an
//! export that a new vault imports: rewrapping it in place would keep the keys that leaked.

use zeroize::Zeroizing;

use crate::{
    error::OpenError,
    export::Export,
    header::{self, HeaderError, MAGIC, VERSION_1},
    ids::{ReplicaId, VaultId},
    keys::{KdfParams, Passphrase, SecretKey, SyncKeys, VaultKeys, expand, stretch},
    storage::ChunkStore,
    vault::{Listing, Vault},
    wire::{Reader, Short},
};

/// magic | version | vault | salt | kdf | key check | replica | checksum.
const LEN: usize = 8 + 1 + 16 + 16 + 13 + 32 + 16 + 8;

mod label {
    pub(super) const STORAGE: &[u8] = b"selfos/v1/storage-aes256gcm";
    pub(super) const KEY_CHECK: &[u8] = b"selfos/v1/key-check";
    pub(super) const ENVELOPE: &[u8] = b"selfos/v1/sync-envelope-xchacha20poly1305";
    pub(super) const ROOM: &[u8] = b"selfos/v1/room-ed25519-seed";
    /// Format 1 never had a store (nor syncs any more); the key only completes `SyncKeys`.
    pub(super) const STORE: &[u8] = b"selfos/v1/store-blob-xchacha20poly1305";
}

struct HeaderV1 {
    vault: VaultId,
    salt: [u8; 16],
    kdf: KdfParams,
    check: [u8; 32],
    replica: ReplicaId,
}

fn decode(bytes: &[u8]) -> Result<HeaderV1, HeaderError> {
    let body = header::checked_body(bytes, LEN)?;
    let short = |_: Short| HeaderError::Truncated { found: bytes.len() };
    let mut r = Reader::new(&body[MAGIC.len() + 1..]);
    Ok(HeaderV1 {
        vault: VaultId::from(r.array().map_err(short)?),
        salt: r.array().map_err(short)?,
        kdf: header::decode_kdf(&mut r, KdfParams::format_1)
            .map_err(|e| e.unwrap_or(HeaderError::Kdf))?,
        check: r.array().map_err(short)?,
        replica: ReplicaId::from(r.array().map_err(short)?),
    })
}

/// The keys of format 1: everything from Argon2id of the passphrase. The key check is public
/// (stored in the header) and tells a wrong passphrase apart from damage.
fn keys(passphrase: &Passphrase, header: &HeaderV1) -> Result<(VaultKeys, bool), OpenError> {
    let root = stretch(passphrase, &header.salt, header.kdf)?;
    let ikm = root.expose();
    let check: Zeroizing<[u8; 32]> = expand(ikm, label::KEY_CHECK)?;
    let matches = subtle::ConstantTimeEq::ct_eq(&check[..], &header.check[..]).into();
    let keys = VaultKeys {
        vault: header.vault,
        storage: SecretKey::from_bytes(&mut *expand(ikm, label::STORAGE)?),
        sync: SyncKeys {
            envelope: SecretKey::from_bytes(&mut *expand(ikm, label::ENVELOPE)?),
            room_seed: SecretKey::from_bytes(&mut *expand(ikm, label::ROOM)?),
            store: SecretKey::from_bytes(&mut *expand(ikm, label::STORE)?),
        },
        secret: root,
    };
    Ok((keys, matches))
}

/// A format-1 vault, opened read-only: it lists and exports, nothing else.
#[derive(Debug)]
pub struct VaultV1<S>(Vault<S>);

impl<S: ChunkStore> VaultV1<S> {
    /// Whether `store` holds a format-1 vault (no passphrase needed).
    pub fn detect(store: &S) -> Result<bool, OpenError> {
        let bytes = store.read_header()?.ok_or(OpenError::NotFound)?;
        Ok(header::version(&bytes)? == VERSION_1)
    }

    /// Unlocks a format-1 vault to read it. Runs Argon2id once; never writes.
    pub fn open(store: S, passphrase: &Passphrase) -> Result<Self, OpenError> {
        let bytes = store.read_header()?.ok_or(OpenError::NotFound)?;
        if header::version(&bytes)? != VERSION_1 {
            return Err(OpenError::NotFormatV1);
        }
        let header = decode(&bytes)?;
        let (keys, matches) = keys(passphrase, &header)?;
        if !matches {
            return Err(OpenError::WrongPassphrase);
        }
        // Format 1's session key held its root key, which stands for the device key here; a
        // read-only vault never hands it out.
        let device = keys.secret.clone();
        Ok(Self(Vault::load(store, header.replica, keys, device)?))
    }

    /// Every response, as [`Vault::list`] gives them.
    pub fn list(&self) -> Listing {
        self.0.list(None)
    }

    /// The export a new vault imports with [`Vault::import`].
    pub fn export(&self) -> Export {
        self.0.export()
    }

    /// The Markdown export, as [`Vault::export_markdown`].
    pub fn export_markdown(&self) -> String {
        self.0.export_markdown()
    }

    /// Chunks that could not be read.
    pub fn damaged(&self) -> &[crate::DamagedChunk] {
        self.0.damaged()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known answer: format 1's derivation must never change, or its vaults stop exporting.
    /// The expected value was computed independently with argon2-cffi and Python's hmac
    /// (Argon2id v19, m=64 KiB, t=1, p=1, then HKDF-SHA256 with an all-zero salt).
    #[test]
    fn known_answer() {
        let header = HeaderV1 {
            vault: VaultId::from([0; 16]),
            salt: [0; 16],
            kdf: KdfParams::new(64, 1, 1).unwrap(),
            check: [0; 32],
            replica: ReplicaId::from([0; 16]),
        };
        let root = stretch(&Passphrase::new("selfos".into()), &header.salt, header.kdf).unwrap();
        let check = expand(root.expose(), label::KEY_CHECK).unwrap();
        assert_eq!(
            hex::encode(*check),
            include_str!("../tests/data/key_check_kat.hex").trim()
        );
    }
}
