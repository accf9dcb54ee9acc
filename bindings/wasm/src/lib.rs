//! SelfOS in the browser: a thin wasm-bindgen layer over the `selfos` facade.
//!
//! - [`Vault`] wraps the core vault over a [`JournalStore`](selfos::vault::JournalStore): reads
//!   come from memory, and every change waits in the journal until JavaScript takes it
//!   (`takePending`) and commits it to IndexedDB in one transaction.
//! - [`Trainer`] and [`KnowledgeGraph`] wrap the card scheduler and the knowledge graph
//!   (metrics in total and per day or week, instruction snippets, embeddings), fed from a
//!   vault's answers.
//! - [`SyncEngine`] wraps the sans-IO sync engine: binary frames in, frames and events out; the
//!   browser's WebSocket does the IO.
//! - [`PairingCode`], [`PairingOffer`], [`PairingAccept`] and [`PairingRoom`] wrap pairing: a
//!   one-time code hands the vault secret to a new device through the relay's rendezvous room,
//!   without the secret ever reaching JavaScript.
//!
//! No logic lives here: each type wraps a core type, conversions sit in `convert.rs`, and
//! errors become JavaScript `Error`s named `SelfosError` with a stable `code` (`error.rs`). The
//! TypeScript package around it (`ts/`) adds IndexedDB, the WebSocket transport and the client.

#![deny(missing_docs)]

mod convert;
mod error;
mod graph;
mod pairing;
mod sync;
mod trainer;
mod vault;

pub use error::Error;
pub use graph::KnowledgeGraph;
pub use pairing::{PairingAccept, PairingCode, PairingOffer, PairingRoom};
pub use sync::SyncEngine;
pub use trainer::Trainer;
pub use vault::Vault;
