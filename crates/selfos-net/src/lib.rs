//! The native transport of SelfOS: runs the sans-IO [`SyncEngine`](selfos_sync::SyncEngine)
//! over a WebSocket to `selfos-relay`, with reconnects (capped exponential backoff with jitter).
//!
//! [`sync`] connects, syncs with whoever is in the room until nothing moves for a moment, and
//! returns; [`watch`] stays connected (reconnecting as needed) and picks up what other processes
//! write to the vault's store. `wss://` uses rustls with the web PKI roots, plus any extra
//! certificate authority given.
//!
//! [`pairing::offer`] and [`pairing::accept`] pair a new device: they run the pairing of
//! [`selfos_sync::pairing`] through the relay's rendezvous room of a one-time code, so the
//! vault's secret reaches the new device sealed under a key only the two devices hold.
//!
//! This crate does IO; the vault and the engine it drives do none.

#![deny(missing_docs)]

mod backoff;
pub mod pairing;
mod relay;
mod session;

pub use backoff::Backoff;
pub use relay::{RelayAddress, RelayAddressError};
pub use session::{NetError, Progress, SyncOptions, SyncSummary, sync, watch};
