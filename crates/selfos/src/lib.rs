//! SelfOS, the library a client embeds: one dependency that re-exports the subsystems.
//!
//! - [`vault`]: encrypted Automerge documents, one per AI agent, over a chunk store.
//! - [`proto`]: the wire frames and the relay handshake.
//! - [`sync`]: the sans-IO engine that keeps replicas identical through the relay.
//! - [`net`] (feature `net`, on by default): the native WebSocket transport that drives it.
//!
//! Only [`net`] does network I/O; the rest work on bytes and the store you pass in.

#![deny(missing_docs)]

#[cfg(feature = "net")]
pub use selfos_net as net;
pub use selfos_proto as proto;
pub use selfos_sync as sync;
pub use selfos_vault as vault;
