//! Integration tests of the trainer's public API: one binary, one module per concern.
//!
//! The modules are `#[cfg(test)]` (always true here) so that clippy's allowances for tests
//! (`unwrap`, `expect`, `panic`) cover their helpers too.

#[cfg(test)]
#[path = "api/support.rs"]
mod support;

#[cfg(test)]
#[path = "api/picks.rs"]
mod picks;
#[cfg(test)]
#[path = "api/properties.rs"]
mod properties;
#[cfg(test)]
#[path = "api/scheduling.rs"]
mod scheduling;
