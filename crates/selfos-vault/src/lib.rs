//! The SelfOS vault: a user's micro-training answers in encrypted Automerge documents, one per
//! namespace (one per AI agent, plus `profile` and `settings`), over a store of opaque chunks.
//!
//! - **Keys.** A random 256-bit vault secret; HKDF derives from it the vault id, the storage key
//!   and the sync keys. Each device keeps the secret wrapped under its own passphrase (Argon2id,
//!   then XChaCha20-Poly1305), so a wrong passphrase is told apart from damaged data and nothing
//!   shared can test a passphrase. The secret moves between devices as a [`VaultSecret`]: a
//!   recovery kit of 24 words, or a pairing.
//! - **Storage.** Each write appends one AES-256-GCM chunk whose associated data binds vault,
//!   namespace and chunk name; incrementals are compacted into a snapshot when they reach its size.
//!   [`ChunkStore`] adapters: [`MemoryStore`], [`FileStore`] (crash-safe).
//! - **Records.** Each response is one Automerge value: its content sealed with
//!   XChaCha20-Poly1305 under a key of its own, stamped with a hybrid logical clock.
//! - **Delete.** Shreds the record's keys; the tombstone syncs and compaction removes the keys from
//!   every stored byte, so Automerge's history keeps only ciphertext nobody can open.
//! - **Overwrite.** An edit or a resolution seals the new value under a fresh key and retires the
//!   keys of the values it replaced, which then go the way of a deleted record's.
//! - **Conflicts.** Every record with concurrent values is listed; per namespace, last-write-wins
//!   by clock or user-merge.
//!
//! The crate does no I/O of its own beyond the store you hand it and the OS random number
//! generator; the caller passes the current time into every write. `FORMAT.md` specifies every
//! byte it stores.
//!
//! Two replicas of one vault, merged:
//!
//! ```
//! use selfos_vault::{
//!     Answer, CardKind, Content, KdfParams, MemoryStore, Namespace, Passphrase, Vault, VaultSecret,
//! };
//!
//! // The cheapest parameters accepted; real vaults use KdfParams::DEFAULT.
//! let kdf = KdfParams::FLOOR;
//! let pass = || Passphrase::new("correct horse battery staple".into());
//! let mut laptop = Vault::create(MemoryStore::new(), &pass(), kdf)?;
//! // The phone gets the vault secret from the laptop (by pairing, or typed from the recovery
//! // kit) and wraps it under a passphrase of its own.
//! let kit = laptop.secret().recovery_kit();
//! let secret = VaultSecret::from_recovery_kit(&kit)?;
//! let mut phone = Vault::restore(MemoryStore::new(), &secret, &pass(), kdf)?;
//!
//! let chatgpt = Namespace::new("chatgpt")?;
//! let answer = |text: &str| {
//!     let text = Answer::Text(text.into());
//!     Content::answered("intent.include", CardKind::Intent, text, "chatgpt", "example", 0)
//! };
//! laptop.record(&chatgpt, answer("a worked example"), 1_700_000_000_000)?;
//! phone.record(&chatgpt, answer("sources"), 1_700_000_000_500)?;
//!
//! laptop.merge_from(&mut phone, 1_700_000_001_000)?;
//! phone.merge_from(&mut laptop, 1_700_000_001_000)?;
//! assert_eq!(laptop.list(None).responses.len(), 2);
//! assert_eq!(laptop.heads(&chatgpt), phone.heads(&chatgpt));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod body;
mod chunk;
mod conflict;
mod devices;
mod error;
mod export;
#[doc(hidden)]
pub mod forensics;
#[doc(hidden)]
pub mod fuzzing;
mod grant;
mod header;
mod hlc;
mod ids;
mod keys;
mod keytable;
mod legacy;
mod namespace;
mod random;
mod recovery;
mod replication;
mod response;
mod session;
mod settings;
mod storage;
#[cfg(test)]
mod unit_kit;
mod vault;
pub mod view;
mod wire;

pub use body::{BodyError, RecordError};
pub use chunk::{ChunkError, SealError};
pub use conflict::{Conflict, ConflictValue, Policy, Resolution, UnknownPolicy};
pub use devices::{DeviceNameError, MAX_DEVICE_NAME_LEN, MAX_DEVICE_NAMES};
pub use error::{
    CreateError, DocumentError, ErrorKind, FindError, OpenError, ReadError, WriteError,
};
pub use export::{
    EXPORT_FORMAT, EXPORT_VERSION, Export, ExportedPolicy, ExportedResponse, ImportOptions,
    ImportReport,
};
pub use grant::{DeviceGrant, GrantError};
pub use header::HeaderError;
pub use hlc::{Hlc, MAX_CLOCK_AHEAD_MS};
pub use ids::{ChunkId, ChunkKind, IdError, Namespace, RecordId, ReplicaId, ResponseId, VaultId};
pub use keys::{KdfError, KdfParams, KdfParamsError, Passphrase, SyncKeys};
pub use keytable::{KeyCountError, MAX_KEY_COUNT};
pub use legacy::VaultV1;
pub use namespace::DamagedChunk;
pub use random::EntropyError;
pub use recovery::{RECOVERY_WORDS, RecoveryKitError, VaultSecret};
pub use replication::{
    BundleReport, PeerStateError, ReplicationMessage, ReplicationMessageError, ReplicationReport,
    ReplicationState, SavedPeerState, StoreBundle, StoreCover, StoreMark,
};
pub use response::{
    Answer, CardKind, Content, ContentError, ContentField, Context, JsonError, JsonErrorCategory,
    MAX_AGENT_LEN, MAX_CARD_ID_LEN, MAX_ORIGIN_LEN, MAX_TEXT_LEN, MAX_TIME_MS, MAX_TOPIC_LEN,
    MAX_TOPICS, Response, Status,
};
pub use session::{SessionKey, SessionKeyError};
pub use storage::{
    ChunkStore, JournalStore, MemoryStore, StorageKey, StoreError, StoreOp, UnknownStorageKey,
};
#[cfg(feature = "fs")]
pub use storage::{FileStore, FolderLock};
pub use vault::{
    Changes, Cursor, DeleteReport, Heads, Listing, MAX_NAMESPACES, MergeReport, Vault,
};
