//! Integration tests of the vault's public API: one binary, one module per concern.
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
#[path = "api/crash.rs"]
mod crash;
#[cfg(test)]
#[path = "api/damage.rs"]
mod damage;
#[cfg(test)]
#[path = "api/delete.rs"]
mod delete;
#[cfg(test)]
#[path = "api/errors.rs"]
mod errors;
#[cfg(test)]
#[path = "api/export.rs"]
mod export;
#[cfg(test)]
#[path = "api/faults.rs"]
mod faults;
#[cfg(test)]
#[path = "api/keys.rs"]
mod keys;
#[cfg(test)]
#[path = "api/limits.rs"]
mod limits;
#[cfg(test)]
#[path = "api/markdown.rs"]
mod markdown;
#[cfg(test)]
#[path = "api/policy.rs"]
mod policy;
#[cfg(test)]
#[path = "api/restore.rs"]
mod restore;
