//! The set-up that SelfOS's own tests and benches share, written once: vaults with cheap key
//! derivation and the test passphrase, answers and responses to put in them, clocks, folder
//! snapshots, the relay binary as a child process, and a throwaway PostgreSQL server.
//!
//! Not for embedders (`publish = false`, as rustls keeps `rustls-test`): it panics on every
//! failure, because a failed set-up should fail the test that asked for it, at its call site
//! (`#[track_caller]`). The in-memory sync network is not here: it is a feature of `selfos-sync`
//! that embedders use as well.
//!
//! ```
//! use selfos_testkit::{T0, content, ns, replicas};
//!
//! let [mut laptop, mut phone]: [_; 2] = replicas(2).try_into().expect("two replicas");
//! let id = laptop
//!     .record(&ns("chatgpt"), content("chatgpt", "intent.include", "an example", T0), T0)
//!     .expect("record");
//! phone.merge_from(&mut laptop, T0 + 1).expect("merge");
//! assert!(phone.get(&id).expect("read").is_some());
//! ```
//!
//! # Which crates may use it
//!
//! The kit depends on `selfos-vault` and on nothing else of the workspace (the relay and
//! PostgreSQL are started as processes, through `std` and temporary folders), so every other
//! crate's tests can use all of it.
//!
//! `selfos-vault`'s own integration tests (`tests/`) use it too, and that is sound: Cargo builds
//! the vault library once, without `cfg(test)`, and links that one build into both the test
//! binary and this kit, so a `Vault` or `Content` from here is the type the test names. What
//! would not work is using the kit from the vault's unit tests (`#[cfg(test)]` in `src/`): there
//! the crate under test is a second build of `selfos-vault`, and its types would not match the
//! ones this kit returns; those tests keep their own few lines of set-up.

// A test kit reports a failed set-up by panicking, like the tests that call it; clippy.toml
// allows that only inside `#[test]` functions.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a failed set-up fails the test that asked for it"
)]

mod clock;
mod files;
mod postgres;
mod relay;
mod vault;

pub use clock::{T0, now_ms};
pub use files::{all_files, contains, id_forms, snapshot_dir};
pub use postgres::Postgres;
pub use relay::{RelayProcess, relay_binary};
pub use vault::{
    KDF_ITERATIONS, KDF_MEMORY_KIB, KDF_PARALLELISM, PASSPHRASE, answered, content, kdf, ns, pass,
    replicas, replicas_in, response, text_of,
};
