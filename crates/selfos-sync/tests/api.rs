//! Integration tests of the sync engine's public API, driven through the in-memory network of
//! `selfos_sync::testing`: one binary, one module per concern.
//!
//! The modules are `#[cfg(test)]` (always true here) so that clippy's allowances for tests
//! (`unwrap`, `expect`, `panic`) cover their helpers too.

#[cfg(test)]
#[path = "api/support.rs"]
mod support;

#[cfg(test)]
#[path = "api/convergence.rs"]
mod convergence;
#[cfg(test)]
#[path = "api/events.rs"]
mod events;
#[cfg(test)]
#[path = "api/hostile.rs"]
mod hostile;
#[cfg(test)]
#[path = "api/incremental.rs"]
mod incremental;
#[cfg(test)]
#[path = "api/initial.rs"]
mod initial;
#[cfg(test)]
#[path = "api/partitions.rs"]
mod partitions;
#[cfg(test)]
#[path = "api/privacy.rs"]
mod privacy;
#[cfg(test)]
#[path = "api/restore.rs"]
mod restore;
#[cfg(test)]
#[path = "api/rooms.rs"]
mod rooms;
#[cfg(test)]
#[path = "api/store.rs"]
mod store;
#[cfg(test)]
#[path = "api/tick.rs"]
mod tick;
