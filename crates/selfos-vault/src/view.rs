//! Plain-data views of vault values, serialized the same way by every client: the CLI's
//! `--json` output and the WASM bindings' JavaScript objects. Fields are snake_case, as in the
//! JSON export; ids are strings, clock nodes are hex.

use serde::Serialize;

use crate::{
    conflict::Conflict, hlc::Hlc, namespace::DamagedChunk, response::Content, response::Response,
    storage::StorageKey, vault::Listing,
};

/// A clock stamp.
#[derive(Debug, Serialize)]
pub struct StampView {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: u64,
    /// Orders stamps within one millisecond.
    pub counter: u32,
    /// The writer, in hex.
    pub node: String,
}

impl From<Hlc> for StampView {
    fn from(stamp: Hlc) -> Self {
        Self {
            wall_ms: stamp.wall_ms,
            counter: stamp.counter,
            node: hex(&stamp.node),
        }
    }
}

/// A response: its id, namespace, last stamp, content fields and conflict flag.
#[derive(Debug, Serialize)]
pub struct ResponseView<'a> {
    /// `namespace/record`.
    pub id: String,
    /// Its namespace.
    pub namespace: &'a str,
    /// Its last write.
    pub updated: StampView,
    /// What it holds.
    #[serde(flatten)]
    pub content: &'a Content,
    /// Whether it holds concurrent values.
    pub conflicted: bool,
}

impl<'a> From<&'a Response> for ResponseView<'a> {
    fn from(r: &'a Response) -> Self {
        Self {
            id: r.id.to_string(),
            namespace: r.id.namespace.as_str(),
            updated: r.updated.into(),
            content: &r.content,
            conflicted: r.conflicted,
        }
    }
}

/// Readable responses and those that could not be read.
#[derive(Debug, Serialize)]
pub struct ListingView<'a> {
    /// Readable responses, oldest first.
    pub responses: Vec<ResponseView<'a>>,
    /// Responses that exist but cannot be read.
    pub unreadable: Vec<UnreadableView>,
}

/// A response that cannot be read, and why.
#[derive(Debug, Serialize)]
pub struct UnreadableView {
    /// `namespace/record`.
    pub id: String,
    /// Why.
    pub reason: String,
}

impl<'a> From<&'a Listing> for ListingView<'a> {
    fn from(l: &'a Listing) -> Self {
        Self {
            responses: l.responses.iter().map(Into::into).collect(),
            unreadable: l
                .unreadable
                .iter()
                .map(|(id, reason)| UnreadableView {
                    id: id.to_string(),
                    reason: reason.to_string(),
                })
                .collect(),
        }
    }
}

/// A conflict.
#[derive(Debug, Serialize)]
pub struct ConflictView<'a> {
    /// `namespace/record`.
    pub id: String,
    /// Its namespace.
    pub namespace: &'a str,
    /// The namespace's policy.
    pub policy: String,
    /// Whether the user still has to decide.
    pub pending: bool,
    /// The concurrent values, latest first.
    pub values: Vec<ValueView<'a>>,
}

/// One concurrent value: its content fields, or why it cannot be read.
#[derive(Debug, Serialize)]
pub struct ValueView<'a> {
    /// When and by whom it was written.
    pub updated: StampView,
    /// What it holds.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a Content>,
    /// Why it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl<'a> From<&'a Conflict> for ConflictView<'a> {
    fn from(c: &'a Conflict) -> Self {
        Self {
            id: c.id.to_string(),
            namespace: c.id.namespace.as_str(),
            policy: c.policy.to_string(),
            pending: c.is_pending(),
            values: c
                .values
                .iter()
                .map(|v| ValueView {
                    updated: v.updated.into(),
                    content: v.content.as_ref().ok(),
                    unreadable: v.content.as_ref().err().map(ToString::to_string),
                })
                .collect(),
        }
    }
}

/// A stored entry that could not be read.
#[derive(Debug, Serialize)]
pub struct DamagedView {
    /// Its storage key (see [`StorageKey`]).
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl From<&DamagedChunk> for DamagedView {
    fn from(d: &DamagedChunk) -> Self {
        Self {
            key: StorageKey::Chunk(d.namespace.clone(), d.chunk).to_string(),
            reason: d.reason.clone(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
