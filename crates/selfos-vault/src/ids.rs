//! Identifiers: each a newtype checked when it is built.

use std::{fmt, str::FromStr, sync::Arc};

use crate::random::{self, EntropyError};

/// Why a string or byte slice is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The value does not have the expected length.
    #[error("{what} must be {expected} bytes ({hex} hex digits), got {found} bytes")]
    Length {
        /// Which kind of id.
        what: &'static str,
        /// Expected length in bytes.
        expected: usize,
        /// Same, in hex digits.
        hex: usize,
        /// Length found.
        found: usize,
    },
    /// The value is not hexadecimal.
    #[error("{what} must be hexadecimal")]
    NotHex {
        /// Which kind of id.
        what: &'static str,
    },
    /// A namespace name outside `[a-z][a-z0-9-]{0,31}`.
    #[error(
        "namespace {0:?} is invalid: use 1-32 characters of a-z, 0-9 and '-', starting with a letter"
    )]
    Namespace(String),
    /// A response id is not of the form `namespace/hex`.
    #[error("response id {0:?} is invalid: expected NAMESPACE/HEX, e.g. chatgpt/3f2a9c0e")]
    ResponseId(String),
    /// A chunk id is not of the form `snap-HEX` or `inc-HEX`.
    #[error("chunk id {0:?} is invalid: expected snap-HEX or inc-HEX")]
    ChunkId(String),
}

macro_rules! byte_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 16]);

        impl $name {
            /// A fresh random id.
            pub fn random() -> Result<Self, EntropyError> {
                Ok(Self(random::bytes()?))
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl From<[u8; 16]> for $name {
            fn from(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = IdError;
            fn try_from(bytes: &[u8]) -> Result<Self, IdError> {
                <[u8; 16]>::try_from(bytes).map(Self).map_err(|_| IdError::Length {
                    what: $what,
                    expected: 16,
                    hex: 32,
                    found: bytes.len(),
                })
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let bytes = hex::decode(s).map_err(|_| IdError::NotHex { what: $what })?;
                Self::try_from(bytes.as_slice())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }
    };
}

byte_id!(
    /// Identifies a vault; every replica of the vault shares it.
    VaultId,
    "vault id"
);
byte_id!(
    /// Identifies one replica (one device's copy) of a vault: the address its peers sync with and
    /// keep replication state for. It names no change: each opening of a replica names its
    /// changes afresh (FORMAT.md, "Writers").
    ReplicaId,
    "replica id"
);

/// Names the changes one opening of a replica makes: the Automerge actor and the key table's
/// dot origin. Fresh each time a replica is opened, so a replica restored from a backup, or a
/// folder copied to a second device, never reuses a sequence number that another copy of it
/// already gave to a different change.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct WriterId([u8; 16]);

impl WriterId {
    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl From<[u8; 16]> for WriterId {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}
byte_id!(
    /// Identifies one record inside a namespace.
    RecordId,
    "record id"
);

/// The name of one Automerge document in the vault: an AI agent (`chatgpt`, `claude`, ...),
/// `profile` (cross-agent preferences) or `settings`. Shared, not copied: every response id
/// carries one, and readers such as the knowledge graph hold thousands of ids.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace(Arc<str>);

impl Namespace {
    /// Cross-agent preferences.
    pub const PROFILE: &'static str = "profile";
    /// Vault settings such as the conflict policy of each namespace. Holds no responses.
    pub const SETTINGS: &'static str = "settings";

    /// Checks and wraps a namespace name.
    pub fn new(name: &str) -> Result<Self, IdError> {
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok && name.len() <= 32 {
            Ok(Self(Arc::from(name)))
        } else {
            Err(IdError::Namespace(name.to_owned()))
        }
    }

    /// The `settings` namespace.
    pub fn settings() -> Self {
        Self(Arc::from(Self::SETTINGS))
    }

    /// Whether this is the `profile` namespace.
    pub fn is_profile(&self) -> bool {
        &*self.0 == Self::PROFILE
    }

    /// Whether this is the `settings` namespace, which holds no responses.
    pub fn is_settings(&self) -> bool {
        &*self.0 == Self::SETTINGS
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Namespace {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::new(s)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.0)
    }
}

/// A response's id, unique across the vault: the namespace plus the record id, written
/// `chatgpt/3f2a…`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResponseId {
    /// The namespace the response lives in.
    pub namespace: Namespace,
    /// The record inside that namespace.
    pub record: RecordId,
}

impl FromStr for ResponseId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let (ns, record) = s
            .split_once('/')
            .ok_or_else(|| IdError::ResponseId(s.to_owned()))?;
        Ok(Self {
            namespace: ns.parse()?,
            record: record.parse()?,
        })
    }
}

impl fmt::Display for ResponseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.record)
    }
}

impl fmt::Debug for ResponseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseId({self})")
    }
}

/// Whether a chunk holds a whole document or the changes since an earlier chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChunkKind {
    /// The whole document and the whole key table of a namespace.
    Snapshot,
    /// Changes and key-table entries added since other chunks.
    Incremental,
}

impl ChunkKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Snapshot => "snap",
            Self::Incremental => "inc",
        }
    }
}

/// Names one stored chunk inside a namespace, e.g. `inc-0f3a…`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkId {
    /// Snapshot or incremental.
    pub kind: ChunkKind,
    /// Random bytes that make the name unique.
    pub nonce: [u8; 16],
}

impl ChunkId {
    /// A fresh chunk id of the given kind.
    pub fn random(kind: ChunkKind) -> Result<Self, EntropyError> {
        Ok(Self {
            kind,
            nonce: random::bytes()?,
        })
    }
}

impl FromStr for ChunkId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::ChunkId(s.to_owned());
        let (prefix, rest) = s.split_once('-').ok_or_else(bad)?;
        let kind = match prefix {
            "snap" => ChunkKind::Snapshot,
            "inc" => ChunkKind::Incremental,
            _ => return Err(bad()),
        };
        let bytes = hex::decode(rest).map_err(|_| bad())?;
        let nonce = <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| bad())?;
        Ok(Self { kind, nonce })
    }
}

impl fmt::Display for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind.prefix(), hex::encode(self.nonce))
    }
}

impl fmt::Debug for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_rules() {
        for ok in ["chatgpt", "claude", "le-chat", "a", "x2"] {
            assert!(Namespace::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ChatGPT", "2x", "-a", "a/b", "a b", &"a".repeat(33)] {
            assert!(Namespace::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_id_round_trips() {
        let id = ResponseId {
            namespace: Namespace::new("claude").unwrap(),
            record: RecordId::from([7; 16]),
        };
        let text = id.to_string();
        assert_eq!(text, format!("claude/{}", "07".repeat(16)));
        assert_eq!(text.parse::<ResponseId>().unwrap(), id);
        assert!("claude".parse::<ResponseId>().is_err());
        assert!("claude/zz".parse::<ResponseId>().is_err());
        assert!("claude/0707".parse::<ResponseId>().is_err());
    }

    #[test]
    fn chunk_id_round_trips() {
        for kind in [ChunkKind::Snapshot, ChunkKind::Incremental] {
            let id = ChunkId::random(kind).unwrap();
            assert_eq!(id.to_string().parse::<ChunkId>().unwrap(), id);
        }
        assert!("tmp-00".parse::<ChunkId>().is_err());
        assert!(
            format!("snap-{}", "00".repeat(15))
                .parse::<ChunkId>()
                .is_err()
        );
    }
}
