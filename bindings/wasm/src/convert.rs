//! Every conversion between JavaScript values and core types, in one place, and the TypeScript
//! declarations of the objects that cross the boundary.

use js_sys::{Array, Object, Reflect, Uint8Array};
use selfos::{
    proto::{Frame, PeerId, StoreUsage},
    sync::{StoreStatus, SyncEvent},
    vault::{JournalStore, Namespace, Policy, ResponseId, StoreOp},
};
use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::error::Error;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Fields are snake_case, as in the vault's JSON export. */
export type CardKind = "intent" | "rating" | "preference" | "recall" | "reconfirm";
export type Answer =
  | { type: "text"; value: string }
  | { type: "choice"; value: string }
  | { type: "rating"; value: number };
export type Status = "answered" | "skipped" | "retry";
export type Policy = "last-write-wins" | "user-merge";
export interface Context { prompt_excerpt?: string; topics?: string[] }
/** What one answer records; encrypted under the record's own key. */
export interface Content {
  card_id: string;
  card_kind: CardKind;
  answer?: Answer;
  agent: string;
  origin: string;
  created_ms: number;
  wait_ms: number;
  status: Status;
  context?: Context;
}
/** A hybrid-logical-clock stamp: the last-write-wins order. */
export interface Stamp { wall_ms: number; counter: number; node: string }
export interface VaultResponse extends Content {
  /** `namespace/record`. */
  id: string;
  namespace: string;
  updated: Stamp;
  conflicted: boolean;
}
/** A device of the vault and the name it goes by (`setDeviceName`). */
export interface DeviceName { replica: string; name: string }
export interface Listing {
  responses: VaultResponse[];
  unreadable: { id: string; reason: string }[];
}
export interface ConflictValue extends Partial<Content> { updated: Stamp; unreadable?: string }
export interface VaultConflict {
  id: string;
  namespace: string;
  policy: Policy;
  /** Whether the user still has to decide (user-merge). */
  pending: boolean;
  /** Latest first: under last-write-wins the first is the winner. */
  values: ConflictValue[];
}
export type Resolution = { keep: number } | { answer: Answer };
export interface DeleteReport { shredded_in_this_replica: boolean }
export interface ImportReport { added: number; existing: number; deleted_here: number }
/** A stored entry that could not be read; it is left untouched. */
export interface DamagedEntry { key: string; reason: string }
export interface KdfParams { memory_kib: number; iterations: number; parallelism: number }
/** One stored entry, as a durable store read it back. */
export interface StoredEntry { key: string; value: Uint8Array }
/** One change to commit: put `value` under `key`, or delete `key` when `value` is absent. */
export interface StoreOp { key: string; value?: Uint8Array }
export type SyncEvent =
  | { type: "joined"; room: string; peers: number }
  | { type: "peer-joined"; peer: string }
  | { type: "peer-left"; peer: string }
  | { type: "changed"; from: string; namespace: string; deletions: number }
  | { type: "rejected"; from: string; reason: string }
  | { type: "relay-error"; code: string; message: string }
  | { type: "resynced"; peer: string; namespace: string }
  | { type: "from-store"; namespace: string; deletions: number }
  | { type: "store"; status: StoreStatus }
  | { type: "store-progress"; fetched_bytes: number; total_bytes: number }
  | { type: "warning"; message: string };
/**
 * Where this device stands with the relay's store of the vault's room: `unknown` (not joined, or
 * not answered yet), `disabled` (the relay keeps no store), `syncing` (catching up or uploading),
 * `settled` (the store and this device hold the same), `full` (the room is over its quota: new
 * writes stay on this device), `unavailable` (the store failed; asked again later).
 */
export type StoreStatus = "unknown" | "disabled" | "syncing" | "settled" | "full" | "unavailable";
/** What the room's store holds and may hold, as the relay last said (bytes, blobs, ms). */
export interface StoreUsage {
  bytes: number;
  blobs: number;
  max_bytes: number;
  max_blobs: number;
  /** The largest blob the relay accepts. */
  max_blob_len: number;
  /** When a blob was last stored, ms since the Unix epoch; 0 when never. */
  updated_ms: number;
}
/** What happened in a pairing's rendezvous room; peers are hex ids. */
export type RoomEvent =
  | { type: "joined"; peers: string[] }
  | { type: "peer-joined"; peer: string }
  | { type: "peer-left"; peer: string }
  | { type: "message"; from: string; message: Uint8Array };

export type NodeKind = "agent" | "card" | "preference" | "topic";
export interface GraphNode {
  /** `kind:label`. */
  id: string;
  kind: NodeKind;
  label: string;
  /** Decayed reinforcement: grows with answers, halves every 30 days without. */
  strength: number;
  pagerank: number;
  community: number;
}
export interface GraphLink { source: string; target: string; weight: number }
/** Alignment of one agent; see the graph crate's `metrics` module for each definition. */
export interface AgentMetrics {
  answers: number;
  ratings: number;
  rating_mean: number | null;
  rating_trend_per_day: number | null;
  intent_agreement: number | null;
  intent_followups: number;
  preference_adherence: number | null;
  /** Ratings given at or after the first preference answer. */
  preference_ratings: number;
  rating_share_before_preferences: number | null;
  consistency: number | null;
}
/** UTC days, or weeks from Monday 00:00 UTC. */
export type SeriesPeriod = "day" | "week";
/** One agent's alignment in one period: the metrics of the answers given in it. */
export interface SeriesPoint {
  /** Start of the period, ms since the Unix epoch. */
  start_ms: number;
  metrics: AgentMetrics;
}
export interface GraphJson { nodes: GraphNode[]; links: GraphLink[]; metrics: Record<string, AgentMetrics> }
export type SnippetTarget = "chat-gpt" | "claude" | "generic";
export interface SnippetLine { text: string; sources: string[] }
export interface SnippetField { title: string; limit: number; lines: SnippetLine[] }
export interface Snippet { target: SnippetTarget; fields: SnippetField[] }
export interface NodeEmbedding { id: string; kind: NodeKind; label: string; vector: number[] }
export type AnswerSpec =
  | { type: "text"; placeholder: string }
  | { type: "choice"; options: string[]; allow_text: boolean }
  | { type: "rating"; low: string; high: string };
/** The card to show: record the answer with `card_id: card`, `card_kind: kind`. */
export interface CardPick {
  card: string;
  kind: CardKind;
  prompt: string;
  answer: AnswerSpec;
  dimension: string | null;
  /** For recall: store it as the first of the response's `context.topics`. */
  concept: string | null;
  reason: string;
  seconds: number;
}
"#;

/// A serializable value as a plain JavaScript object (maps as objects, safe integers as
/// numbers).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Error> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::new("internal", e.to_string()))
}

/// A JavaScript value as a core type, or an `invalid` error naming what was expected.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, Error> {
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::invalid(format!("{what}: {e}")))
}

/// A JavaScript time in milliseconds since the Unix epoch.
pub(crate) fn ms(now: f64) -> Result<u64, Error> {
    // Integers up to 2^53 are exact in a JavaScript number.
    if (0.0..9_007_199_254_740_992.0).contains(&now) {
        // In range and finite: the cast only drops a fraction of a millisecond.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(now as u64)
    } else {
        Err(Error::invalid(format!(
            "{now} is not a time in milliseconds"
        )))
    }
}

pub(crate) fn namespace(name: &str) -> Result<Namespace, Error> {
    Namespace::new(name).map_err(Error::invalid)
}

pub(crate) fn response_id(id: &str) -> Result<ResponseId, Error> {
    id.parse().map_err(Error::invalid)
}

pub(crate) fn policy(name: &str) -> Result<Policy, Error> {
    name.parse().map_err(Error::invalid)
}

/// `StoredEntry[]` into the journal a vault opens from.
pub(crate) fn stored_entries(entries: &Array) -> Result<(JournalStore, Vec<String>), Error> {
    let mut out = Vec::with_capacity(entries.length() as usize);
    for entry in entries.iter() {
        let key = Reflect::get(&entry, &"key".into())
            .ok()
            .and_then(|k| k.as_string())
            .ok_or_else(|| Error::invalid("a stored entry needs a string `key`"))?;
        let value = Reflect::get(&entry, &"value".into())
            .ok()
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .ok_or_else(|| {
                Error::invalid(format!("stored entry {key}: `value` must be a Uint8Array"))
            })?;
        out.push((key, value.to_vec()));
    }
    Ok(JournalStore::load(out))
}

/// Pending store changes as `StoreOp[]`.
pub(crate) fn store_ops(ops: Vec<StoreOp>) -> Result<Array, Error> {
    let out = Array::new_with_length(0);
    for op in ops {
        let obj = Object::new();
        set(&obj, "key", &op.key.to_string().into())?;
        if let Some(value) = op.value {
            set(&obj, "value", &Uint8Array::from(value.as_slice()).into())?;
        }
        out.push(&obj);
    }
    Ok(out)
}

fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), Error> {
    Reflect::set(obj, &key.into(), value)
        .map(|_| ())
        .map_err(|_| Error::new("internal", "could not build a JavaScript object"))
}

/// A sync event as JavaScript sees it.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum EventView {
    Joined {
        room: String,
        peers: usize,
    },
    PeerJoined {
        peer: String,
    },
    PeerLeft {
        peer: String,
    },
    Changed {
        from: String,
        namespace: String,
        deletions: usize,
    },
    Rejected {
        from: String,
        reason: String,
    },
    RelayError {
        code: String,
        message: String,
    },
    Resynced {
        peer: String,
        namespace: String,
    },
    FromStore {
        namespace: String,
        deletions: usize,
    },
    Store {
        status: &'static str,
    },
    StoreProgress {
        fetched_bytes: f64,
        total_bytes: f64,
    },
    Warning {
        message: String,
    },
}

/// A count from the relay as a JavaScript number: past 2^53 it rounds, where serializing the
/// integer would fail (a relay's numbers are not ours to trust).
#[allow(clippy::cast_precision_loss)]
fn number(n: u64) -> f64 {
    n as f64
}

/// A store status as its `StoreStatus` word.
pub(crate) fn store_status(status: StoreStatus) -> &'static str {
    match status {
        StoreStatus::Disabled => "disabled",
        StoreStatus::Syncing => "syncing",
        StoreStatus::Settled => "settled",
        StoreStatus::Full => "full",
        StoreStatus::Unavailable => "unavailable",
        // `Unknown`, and any status a newer core adds: nothing the app can act on yet.
        _ => "unknown",
    }
}

/// The relay's word on the room's store, as a `StoreUsage`.
#[derive(Serialize)]
struct UsageView {
    bytes: f64,
    blobs: u32,
    max_bytes: f64,
    max_blobs: u32,
    max_blob_len: u32,
    updated_ms: f64,
}

pub(crate) fn store_usage(usage: &StoreUsage) -> Result<JsValue, Error> {
    to_js(&UsageView {
        bytes: number(usage.bytes),
        blobs: usage.blobs,
        max_bytes: number(usage.max_bytes),
        max_blobs: usage.max_blobs,
        max_blob_len: usage.max_blob_len,
        updated_ms: number(usage.updated_ms),
    })
}

pub(crate) fn sync_event(event: &SyncEvent) -> Result<JsValue, Error> {
    let peer = |p: &PeerId| p.to_string();
    let view = match event {
        SyncEvent::Joined { room, peers } => EventView::Joined {
            room: room.to_string(),
            peers: *peers,
        },
        SyncEvent::PeerJoined(p) => EventView::PeerJoined { peer: peer(p) },
        SyncEvent::PeerLeft(p) => EventView::PeerLeft { peer: peer(p) },
        SyncEvent::Changed {
            from,
            namespace,
            deletions,
        } => EventView::Changed {
            from: peer(from),
            namespace: namespace.to_string(),
            deletions: *deletions,
        },
        SyncEvent::Rejected { from, reason } => EventView::Rejected {
            from: peer(from),
            reason: reason.to_string(),
        },
        SyncEvent::RelayError { code, message } => EventView::RelayError {
            code: format!("{code:?}"),
            message: message.clone(),
        },
        SyncEvent::Resynced { peer: p, namespace } => EventView::Resynced {
            peer: peer(p),
            namespace: namespace.to_string(),
        },
        SyncEvent::FromStore {
            namespace,
            deletions,
        } => EventView::FromStore {
            namespace: namespace.to_string(),
            deletions: *deletions,
        },
        SyncEvent::Store(status) => EventView::Store {
            status: store_status(*status),
        },
        SyncEvent::StoreProgress {
            fetched_bytes,
            total_bytes,
        } => EventView::StoreProgress {
            fetched_bytes: number(*fetched_bytes),
            total_bytes: number(*total_bytes),
        },
        SyncEvent::Warning(message) => EventView::Warning {
            message: message.clone(),
        },
        // Events a newer core adds reach JavaScript as warnings until they get a view.
        other => EventView::Warning {
            message: format!("{other:?}"),
        },
    };
    to_js(&view)
}

/// A relay frame of a pairing's rendezvous room as a `RoomEvent`, or `undefined` for a frame
/// that tells the room nothing.
pub(crate) fn room_event(frame: &Frame) -> Result<JsValue, Error> {
    let event = Object::new();
    let (kind, peer) = match frame {
        Frame::Joined { peers } => {
            let list: Array = peers
                .as_slice()
                .iter()
                .map(|p| JsValue::from(p.to_string()))
                .collect();
            set(&event, "peers", &list)?;
            ("joined", None)
        }
        Frame::PeerJoined(p) => ("peer-joined", Some(("peer", p))),
        Frame::PeerLeft(p) => ("peer-left", Some(("peer", p))),
        Frame::Deliver { from, payload } => {
            set(
                &event,
                "message",
                &Uint8Array::from(payload.as_bytes()).into(),
            )?;
            ("message", Some(("from", from)))
        }
        _ => return Ok(JsValue::UNDEFINED),
    };
    set(&event, "type", &kind.into())?;
    if let Some((field, p)) = peer {
        set(&event, field, &p.to_string().into())?;
    }
    Ok(event.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_counts_past_2_pow_53_round_instead_of_failing() {
        // serde_wasm_bindgen refuses such a u64: the usage getter would throw on a relay's word.
        assert_eq!(number(u64::MAX), 2f64.powi(64));
        assert_eq!(number((1 << 53) + 1), 2f64.powi(53));
        assert_eq!(number(4_096), 4_096.0);
    }

    #[test]
    fn each_store_status_has_its_own_word() {
        let words = [
            StoreStatus::Unknown,
            StoreStatus::Disabled,
            StoreStatus::Syncing,
            StoreStatus::Settled,
            StoreStatus::Full,
            StoreStatus::Unavailable,
        ]
        .map(store_status);
        assert_eq!(
            words,
            [
                "unknown",
                "disabled",
                "syncing",
                "settled",
                "full",
                "unavailable"
            ]
        );
    }
}
