//! Errors, one enum per operation whose callers handle failures differently.

use crate::{
    chunk::ChunkError,
    header::HeaderError,
    ids::{IdError, Namespace, ResponseId},
    keys::{KdfError, KdfParamsError},
    storage::StoreError,
};

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct EntropyError;

/// Sealing data failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The content could not be encoded.
    #[error("could not encode: {0}")]
    Encode(String),
    /// No randomness for the nonce.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The data is larger than the format can hold.
    #[error("too large to store in one piece")]
    TooLarge,
}

/// Why a vault could not be created or joined.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The folder or store already holds a vault.
    #[error("a vault already exists here")]
    AlreadyExists,
    /// An empty passphrase was given.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// The Argon2id parameters are out of range.
    #[error(transparent)]
    Params(#[from] KdfParamsError),
    /// Key derivation failed.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// Why [`crate::Vault::find`] found no single response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    /// Not of the form `namespace/hex-prefix`.
    #[error("{0:?} is not a response id: expected NAMESPACE/ID, e.g. chatgpt/3f2a")]
    Malformed(String),
    /// No response matches.
    #[error("no response matches {0}")]
    NoMatch(String),
    /// Several responses match.
    #[error("{prefix} matches {count} responses: give more of the id")]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// How many matched.
        count: usize,
    },
}

/// Why a vault could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// There is no vault in this store.
    #[error("no vault here (run `selfos init` or `selfos join` first)")]
    NotFound,
    /// The passphrase does not match this vault's key check.
    #[error("wrong passphrase: it does not unlock this vault")]
    WrongPassphrase,
    /// The session key belongs to another vault, or the vault's passphrase changed since.
    #[error("the session key does not unlock this vault: unlock with the passphrase")]
    WrongSessionKey,
    /// The header is damaged, truncated or of an unknown version.
    #[error("the vault header is unreadable: {0}")]
    Header(#[from] HeaderError),
    /// Key derivation failed.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// A namespace could not be loaded at all (damaged chunks alone do not cause this).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a write (record, edit, delete, resolve, import, merge, settings) failed. After any of these
/// the vault in memory is as it was before the call, and storage holds what it held.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// No response has this id.
    #[error("no response {0}")]
    NotFound(ResponseId),
    /// The response was deleted; its key is shredded and it cannot come back.
    #[error("response {0} was deleted")]
    Deleted(ResponseId),
    /// Responses cannot be written to this namespace.
    #[error("namespace {0} holds no responses")]
    ReservedNamespace(Namespace),
    /// The input is not acceptable.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The value chosen to resolve a conflict is not one of its values.
    #[error("conflict on {id} has no value number {index} (it has {count})")]
    NoSuchValue {
        /// The conflicted response.
        id: ResponseId,
        /// The index asked for.
        index: usize,
        /// How many values there are.
        count: usize,
    },
    /// The other replica belongs to another vault.
    #[error("that replica belongs to another vault")]
    OtherVault,
    /// The other replica of this vault was set up with a different passphrase.
    #[error("that replica of this vault was joined with a different passphrase")]
    PassphraseMismatch,
    /// An export in a format or version this build does not read.
    #[error(
        "unsupported export: format {format:?} version {version} (this build reads selfos-export version 1)"
    )]
    UnsupportedExport {
        /// The format named in the file.
        format: String,
        /// Its schema version.
        version: u32,
    },
    /// Automerge refused an operation or a peer's changes.
    #[error("document operation failed: {0}")]
    Document(String),
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The data to merge or import is damaged.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Storage failed (full, unwritable, ...). Nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// Why stored data could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A chunk is damaged.
    #[error("chunk {namespace}/{chunk}: {source}")]
    Chunk {
        /// Its namespace.
        namespace: Namespace,
        /// Its name.
        chunk: String,
        /// What is wrong.
        source: ChunkError,
    },
    /// A response body is damaged.
    #[error("response {id} is damaged: {reason}")]
    Body {
        /// The response.
        id: ResponseId,
        /// What is wrong.
        reason: String,
    },
    /// A document inside a chunk is not valid Automerge data.
    #[error("namespace {namespace}: {reason}")]
    Document {
        /// Its namespace.
        namespace: Namespace,
        /// What Automerge said.
        reason: String,
    },
    /// An id is malformed.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<automerge::AutomergeError> for WriteError {
    fn from(e: automerge::AutomergeError) -> Self {
        Self::Document(e.to_string())
    }
}
