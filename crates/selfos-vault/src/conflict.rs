//! Conflict policies and the conflicts the vault exposes.
//!
//! Automerge keeps every concurrent value of a field and picks a display winner by op id, which
//! has nothing to do with time. The vault instead exposes all of them, and each namespace's policy
//! says what happens next: last-write-wins by the writers' hybrid logical clock (settled at once,
//! with what was overwritten still listed), or user-merge (the conflict waits until resolved).

use serde::{Deserialize, Serialize};

use crate::{
    body::RecordError,
    hlc::Hlc,
    ids::ResponseId,
    response::{Answer, Content},
};

/// How a namespace settles concurrent writes to one record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// The value written last, by hybrid logical clock, wins; the others are listed as
    /// overwritten.
    #[default]
    LastWriteWins,
    /// The user picks a value or writes a merged one; until then the conflict is pending.
    UserMerge,
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::LastWriteWins => "last-write-wins",
            Self::UserMerge => "user-merge",
        })
    }
}

/// A policy name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown policy {0:?}: use last-write-wins or user-merge")]
pub struct UnknownPolicy(pub String);

impl std::str::FromStr for Policy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, UnknownPolicy> {
        match s {
            "last-write-wins" | "lww" => Ok(Self::LastWriteWins),
            "user-merge" | "merge" => Ok(Self::UserMerge),
            _ => Err(UnknownPolicy(s.to_owned())),
        }
    }
}

/// One of the concurrent values of a conflicted record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictValue {
    /// When and by whom it was written.
    pub updated: Hlc,
    /// What it holds, or why it cannot be read.
    pub content: Result<Content, RecordError>,
}

/// A record that holds concurrent values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The record.
    pub id: ResponseId,
    /// Its namespace's policy.
    pub policy: Policy,
    /// The values, latest first: under last-write-wins the first is the winner.
    pub values: Vec<ConflictValue>,
}

impl Conflict {
    /// Whether the user still has to decide (user-merge); last-write-wins conflicts are settled.
    pub fn is_pending(&self) -> bool {
        self.policy == Policy::UserMerge
    }
}

/// How to settle a conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Keep the value at this index of [`Conflict::values`].
    Keep(usize),
    /// Replace all values with this answer (the rest of the content comes from the latest value).
    Answer(Answer),
}
