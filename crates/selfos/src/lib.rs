//! SelfOS, the library a client embeds: one dependency that re-exports the subsystems.
//!
//! - [`vault`]: encrypted Automerge documents, one per AI agent, over a chunk store.
//! - [`proto`]: the wire frames and the relay handshake.
//! - [`sync`]: the sans-IO engine that keeps replicas identical through the relay.
//! - [`training`]: the card catalog and the scheduler that picks what to ask during a wait.
//! - [`graph`]: the knowledge graph, alignment metrics and exports built from the answers.
//! - [`net`] (feature `net`, on by default): the native WebSocket transport that drives it.
//!
//! Only [`net`] does network I/O; the rest work on bytes and the store you pass in.

#![deny(missing_docs)]

pub use selfos_graph as graph;
#[cfg(feature = "net")]
pub use selfos_net as net;
pub use selfos_proto as proto;
pub use selfos_sync as sync;
pub use selfos_training as training;
pub use selfos_vault as vault;
