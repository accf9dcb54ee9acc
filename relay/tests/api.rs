//! End-to-end tests of `selfos-relay`: real sockets, tokio-tungstenite clients, ed25519 room keys.
//! One binary, one module per concern.
//!
//! The modules are `#[cfg(test)]` (always true here) so that clippy's allowances for tests
//! (`unwrap`, `expect`, `panic`) cover their helpers too.

#[cfg(test)]
#[path = "api/support.rs"]
mod support;

#[cfg(test)]
#[path = "api/binary.rs"]
mod binary;
#[cfg(test)]
#[path = "api/http.rs"]
mod http;
#[cfg(test)]
#[path = "api/joins.rs"]
mod joins;
#[cfg(test)]
#[path = "api/limits.rs"]
mod limits;
#[cfg(test)]
#[path = "api/load.rs"]
mod load;
#[cfg(test)]
#[path = "api/logs.rs"]
mod logs;
#[cfg(test)]
#[path = "api/postgres.rs"]
mod postgres;
#[cfg(test)]
#[path = "api/queues.rs"]
mod queues;
#[cfg(test)]
#[path = "api/rooms.rs"]
mod rooms;
#[cfg(test)]
#[path = "api/store.rs"]
mod store;
#[cfg(test)]
#[path = "api/tls.rs"]
mod tls;
