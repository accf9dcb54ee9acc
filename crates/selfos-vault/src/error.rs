//! The errors of the vault's operations, one enum per operation whose callers handle failures
//! differently, and [`ErrorKind`], the one classification of all of them. Leaf errors live with
//! the code that raises them (chunks, headers, ids, keys, links, storage); this module collects.

use crate::{
    body::{BodyError, RecordError},
    chunk::{ChunkError, SealError},
    conflict::UnknownPolicy,
    grant::GrantError,
    header::{HeaderError, WrapError},
    ids::{IdError, Namespace, ResponseId, VaultId},
    keys::{KdfError, KdfParamsError},
    keytable::KeyCountError,
    random::EntropyError,
    recovery::RecoveryKitError,
    replication::{message::ReplicationMessageError, state::PeerStateError},
    response::ContentError,
    session::SessionKeyError,
    storage::StoreError,
};

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
    /// The cipher failed to wrap the vault secret (a bug).
    #[error("the vault secret could not be wrapped: the cipher refused it")]
    Cipher,
}

impl From<WrapError> for CreateError {
    fn from(e: WrapError) -> Self {
        match e {
            WrapError::Kdf(e) => Self::Kdf(e),
            WrapError::Entropy(e) => Self::Entropy(e),
            WrapError::Cipher => Self::Cipher,
        }
    }
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
    #[error("no vault here")]
    NotFound,
    /// The passphrase does not match this vault's key check.
    #[error("wrong passphrase: it does not unlock this vault")]
    WrongPassphrase,
    /// The session key belongs to another vault, or the vault's passphrase changed since.
    #[error("the session key does not unlock this vault: unlock with the passphrase")]
    WrongSessionKey,
    /// [`crate::VaultV1::open`] was given a vault of the current format.
    #[error("this vault is not in format 1: open it as usual")]
    NotFormatV1,
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
    /// No randomness for this opening's writer id.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
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
    /// The content breaks a limit.
    #[error("invalid input: {0}")]
    Invalid(#[from] ContentError),
    /// A response of an export is not acceptable.
    #[error("invalid input: response {id:?} of the export: {source}")]
    InvalidImport {
        /// The response's id as the export gives it.
        id: String,
        /// What is wrong with it.
        source: Box<WriteError>,
    },
    /// An id in the input is malformed.
    #[error("invalid input: {0}")]
    Id(#[from] IdError),
    /// A device name breaks a rule.
    #[error("invalid input: {0}")]
    DeviceName(#[from] crate::devices::DeviceNameError),
    /// Resolve was asked for a response that holds no concurrent values.
    #[error("{0} has no conflict to resolve")]
    NoConflict(ResponseId),
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
    /// An export of another vault, imported without
    /// [`ImportOptions::from_other_vault`](crate::ImportOptions).
    #[error("the export comes from vault {export:?}, not from this vault {vault}")]
    ExportFromOtherVault {
        /// The vault the export names, as written in it.
        export: String,
        /// This vault.
        vault: VaultId,
    },
    /// An export in a format or version this build does not read.
    #[error(
        "unsupported export: format {format:?} version {version} (this build reads selfos-export versions 1 to {})",
        crate::export::EXPORT_VERSION
    )]
    UnsupportedExport {
        /// The format named in the file.
        format: String,
        /// Its schema version.
        version: u32,
    },
    /// A key-table count is out of bounds: a peer's is over the limit, or this opening wrote its
    /// last entry. Nothing was applied.
    #[error(transparent)]
    KeyCount(#[from] KeyCountError),
    /// Automerge refused an operation or a peer's changes.
    #[error("document operation failed: {0}")]
    Document(#[source] Box<automerge::AutomergeError>),
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

/// Why an Automerge document could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Automerge refused the bytes.
    #[error(transparent)]
    Automerge(Box<automerge::AutomergeError>),
    /// The document lacks the records map or a shard: not written by this vault.
    #[error("the records map or one of its shards is missing")]
    NoRecords,
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
    /// A response cannot be read.
    #[error("response {id} is damaged: {source}")]
    Body {
        /// The response.
        id: ResponseId,
        /// What is wrong.
        source: RecordError,
    },
    /// A document inside a chunk is not valid Automerge data.
    #[error("namespace {namespace}: {source}")]
    Document {
        /// Its namespace.
        namespace: Namespace,
        /// What is wrong.
        source: DocumentError,
    },
    /// An id is malformed.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A new namespace past [`MAX_NAMESPACES`](crate::MAX_NAMESPACES), from this device or a peer.
    #[error("namespace {namespace}: a vault holds at most {max} namespaces (one per AI agent)")]
    TooManyNamespaces {
        /// The namespace that would have been one too many.
        namespace: Namespace,
        /// The bound.
        max: usize,
    },
}

// Automerge's errors are large; boxed, they keep every `Result` of the vault small.
impl From<automerge::AutomergeError> for WriteError {
    fn from(e: automerge::AutomergeError) -> Self {
        Self::Document(Box::new(e))
    }
}

impl From<automerge::AutomergeError> for DocumentError {
    fn from(e: automerge::AutomergeError) -> Self {
        Self::Automerge(Box::new(e))
    }
}

/// What kind of failure an error is: the one classification of every error of this crate, for
/// clients that turn errors into exit codes, error codes or messages.
///
/// Deliberately exhaustive: a new kind breaks every client's `match`, so each client decides
/// what it means instead of silently calling it "other".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No vault in the store, no such response, or nothing matches.
    NotFound,
    /// The response was deleted for good.
    Deleted,
    /// A vault already exists where one was to be created.
    AlreadyExists,
    /// An empty passphrase.
    EmptyPassphrase,
    /// The passphrase does not unlock the vault.
    WrongPassphrase,
    /// The session key does not unlock the vault.
    WrongSessionKey,
    /// A vault in a format this build only exports (format 1): move its answers to a new vault.
    OldFormat,
    /// The caller's input is not acceptable (content, ids, parameters, links, a conflict that
    /// is not one).
    Invalid,
    /// A namespace that holds no responses was written to.
    ReservedNamespace,
    /// The other replica or export belongs to another vault.
    OtherVault,
    /// An export in a format or version this build does not read.
    UnsupportedExport,
    /// Stored or received data is damaged, tampered with or of an unknown version.
    Damaged,
    /// Data that has not all arrived yet (a value before its key): the next sync completes it.
    Pending,
    /// Storage is full.
    StorageFull,
    /// Storage cannot be written.
    StorageUnwritable,
    /// Any other storage failure.
    Storage,
    /// The operating system's random number generator failed.
    Entropy,
    /// A failure the caller cannot act on (a bug, or a library refusing valid input).
    Internal,
}

impl ErrorKind {
    /// A stable kebab-case name for the kind (`wrong-passphrase`, `storage-full`, ...), for
    /// error codes that cross a language boundary.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotFound => "not-found",
            Self::Deleted => "deleted",
            Self::AlreadyExists => "already-exists",
            Self::EmptyPassphrase => "empty-passphrase",
            Self::WrongPassphrase => "wrong-passphrase",
            Self::WrongSessionKey => "wrong-session-key",
            Self::OldFormat => "old-format",
            Self::Invalid => "invalid",
            Self::ReservedNamespace => "reserved-namespace",
            Self::OtherVault => "other-vault",
            Self::UnsupportedExport => "unsupported-export",
            Self::Damaged => "damaged",
            Self::Pending => "pending",
            Self::StorageFull => "storage-full",
            Self::StorageUnwritable => "storage-unwritable",
            Self::Storage => "storage",
            Self::Entropy => "entropy",
            Self::Internal => "internal",
        }
    }

    /// The kind of the first error in `error`'s source chain that this crate raised, if any.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if let Some(kind) = Self::of_one(e) {
                return Some(kind);
            }
            cause = e.source();
        }
        None
    }

    fn of_one(e: &(dyn std::error::Error + 'static)) -> Option<Self> {
        macro_rules! kinds {
            ($($t:ty),* $(,)?) => {
                $(if let Some(e) = e.downcast_ref::<$t>() {
                    return Some(e.kind());
                })*
            };
        }
        kinds!(
            CreateError,
            OpenError,
            WriteError,
            ReadError,
            FindError,
            StoreError,
            RecordError,
            BodyError,
            ChunkError,
            HeaderError,
            IdError,
            KdfError,
            KdfParamsError,
            RecoveryKitError,
            GrantError,
            SessionKeyError,
            SealError,
            KeyCountError,
            ReplicationMessageError,
            PeerStateError,
            EntropyError,
            ContentError,
            UnknownPolicy,
        );
        None
    }
}

impl CreateError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::AlreadyExists => ErrorKind::AlreadyExists,
            Self::EmptyPassphrase => ErrorKind::EmptyPassphrase,
            Self::Params(e) => e.kind(),
            Self::Kdf(e) => e.kind(),
            Self::Store(e) => e.kind(),
            Self::Entropy(e) => e.kind(),
            Self::Cipher => ErrorKind::Internal,
        }
    }
}

impl OpenError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::WrongPassphrase => ErrorKind::WrongPassphrase,
            Self::WrongSessionKey => ErrorKind::WrongSessionKey,
            Self::NotFormatV1 => ErrorKind::Invalid,
            Self::Header(e) => e.kind(),
            Self::Kdf(e) => e.kind(),
            Self::Read(e) => e.kind(),
            Self::Store(e) => e.kind(),
            Self::Entropy(e) => e.kind(),
        }
    }
}

impl WriteError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Deleted(_) => ErrorKind::Deleted,
            Self::ReservedNamespace(_) => ErrorKind::ReservedNamespace,
            Self::Invalid(e) => e.kind(),
            Self::InvalidImport { source, .. } => source.kind(),
            Self::Id(e) => e.kind(),
            Self::NoConflict(_) | Self::NoSuchValue { .. } | Self::DeviceName(_) => {
                ErrorKind::Invalid
            }
            Self::OtherVault | Self::ExportFromOtherVault { .. } => ErrorKind::OtherVault,
            Self::UnsupportedExport { .. } => ErrorKind::UnsupportedExport,
            Self::Document(_) => ErrorKind::Internal,
            Self::KeyCount(e) => e.kind(),
            Self::Seal(e) => e.kind(),
            Self::Read(e) => e.kind(),
            Self::Store(e) => e.kind(),
            Self::Entropy(e) => e.kind(),
        }
    }
}

impl ReadError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            // An id read from storage that does not parse is damage, not the caller's input.
            Self::Chunk { .. } | Self::Body { .. } | Self::Document { .. } | Self::Id(_) => {
                ErrorKind::Damaged
            }
            Self::Store(e) => e.kind(),
            Self::TooManyNamespaces { .. } => ErrorKind::Invalid,
        }
    }
}

impl FindError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoMatch(_) => ErrorKind::NotFound,
            Self::Malformed(_) | Self::Ambiguous { .. } => ErrorKind::Invalid,
        }
    }
}

impl StoreError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Full => ErrorKind::StorageFull,
            Self::Unwritable(_) => ErrorKind::StorageUnwritable,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Io(_) => ErrorKind::Storage,
        }
    }
}

impl RecordError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::KeyPending => ErrorKind::Pending,
            Self::KeyMissing | Self::Body(_) => ErrorKind::Damaged,
        }
    }
}

impl SealError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Encode(_) => ErrorKind::Internal,
            Self::Entropy(e) => e.kind(),
            Self::TooLarge => ErrorKind::Invalid,
        }
    }
}

impl KeyCountError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::FromPeer(_) => ErrorKind::Damaged,
            Self::Exhausted => ErrorKind::Internal,
        }
    }
}

impl HeaderError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::FormatV1 => ErrorKind::OldFormat,
            _ => ErrorKind::Damaged,
        }
    }
}

/// Errors that are all of one kind.
macro_rules! one_kind {
    ($($t:ty => $kind:ident),* $(,)?) => {
        $(impl $t {
            /// What kind of failure this is.
            pub fn kind(&self) -> ErrorKind {
                ErrorKind::$kind
            }
        })*
    };
}

one_kind!(
    BodyError => Damaged,
    ChunkError => Damaged,
    ReplicationMessageError => Damaged,
    PeerStateError => Damaged,
    IdError => Invalid,
    KdfParamsError => Invalid,
    RecoveryKitError => Invalid,
    GrantError => Damaged,
    SessionKeyError => Invalid,
    ContentError => Invalid,
    UnknownPolicy => Invalid,
    KdfError => Internal,
    EntropyError => Entropy,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_found_down_a_source_chain() {
        let err = WriteError::Read(ReadError::Store(StoreError::Full));
        assert_eq!(ErrorKind::of(&err), Some(ErrorKind::StorageFull));
        #[derive(Debug, thiserror::Error)]
        #[error("while unlocking")]
        struct Caller(#[source] OpenError);
        let wrapped = Caller(OpenError::WrongPassphrase);
        assert_eq!(ErrorKind::of(&wrapped), Some(ErrorKind::WrongPassphrase));
        assert_eq!(ErrorKind::of(&std::io::Error::other("elsewhere")), None);
    }
}
