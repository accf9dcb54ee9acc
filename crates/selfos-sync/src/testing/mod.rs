//! Convergence testing: replicas of a vault on a deterministic in-memory network, proptest
//! strategies for what users and networks do, and a check that every replica ends identical.
//! Behind the `test-utils` feature; meant for tests, examples and benches.
//!
//! # The network
//!
//! A [`Network`] holds devices (each a [`Vault`](selfos_vault::Vault) with, while connected, a
//! [`SyncEngine`](crate::SyncEngine)) and in-memory [`Relay`]s that behave like `selfos-relay`.
//! [`Network::step`] moves one frame, [`Network::settle`] runs until nothing is in flight. Every
//! random choice comes from the seed given to [`Network::new`], so a seed and a sequence of calls
//! always make the same run.
//!
//! What it can do to the replicas:
//!
//! - **Faults** ([`Network::faults`]): sync messages lost, duplicated or reordered, each with a
//!   chance per frame; [`Network::stats`] counts what happened.
//! - **Partitions** ([`Network::partition`]): the devices split into sides, each side meeting at
//!   a relay of its own; the peers on the other side leave. Each side syncs within itself and
//!   the sides diverge until healed.
//! - **Disconnects** ([`Network::disconnect`], [`Network::connect`]): a device goes offline and
//!   keeps writing.
//! - **Relay restarts** ([`Network::restart_relay`]): every connection drops, the frames in
//!   flight are lost, and the devices reconnect.
//!
//! # What the engine does with a faulty wire
//!
//! The engine expects the transport of a real connection: reliable and ordered, as a WebSocket
//! is. It detects what goes wrong but does not repair it within a session:
//!
//! - a **lost** frame leaves Automerge's sync protocol waiting for an answer that never comes:
//!   that peer's sync of that namespace stalls (a message in several fragments is dropped whole)
//!   until the next session;
//! - a **duplicated** frame is refused as a replay ([`SyncEvent::Rejected`](crate::SyncEvent)
//!   with [`EnvelopeError::Replayed`](crate::EnvelopeError)), and nothing is applied twice;
//! - a frame **overtaken** by a later one from the same peer is refused as a replay too, so it
//!   counts as lost.
//!
//! A new session repairs all of it: it starts from the sync state saved when the last one ended,
//! and Automerge's protocol sends whatever the peer lacks. So convergence is due once the wire is
//! reliable again and every session has started over; [`Network::heal`] does exactly that (no
//! more faults, no partition, every device connected, the relay restarted if any frame was lost,
//! duplicated or reordered) and settles. Partitions, disconnects and relay restarts alone need no
//! restart: reconnecting is enough.
//!
//! # Hostile peers
//!
//! A device that holds the vault's keys may still not follow the engine's rules. [`Hostile`]
//! seals envelopes as such a peer (any counter, any fragment numbers, any content), so a test can
//! hand them to an engine and check that they cost that peer's messages only.
//!
//! # Property tests
//!
//! [`strategy::ops`] generates programs of [`Op`](strategy::Op)s (proptest 1 strategies: add `proptest = "1"`
//! to your dev-dependencies to run them) (record, edit, delete, resolve, set a policy,
//! disconnect, connect, partition, heal, restart the relay, change the faults, run),
//! [`Network::apply`] plays them, and [`Network::converged`] checks the end state: the same
//! namespaces with the same heads, the same listing, the same conflicts, nothing unreadable.
//! Your own writes mix in freely: write to `net.devices[i].vault`, then call
//! [`Network::local_change`].
//!
//! ```
//! use proptest::test_runner::{Config, TestRunner};
//! use selfos_sync::testing::{
//!     Network,
//!     strategy::{Wire, ops},
//! };
//! use selfos_vault::{KdfParams, MemoryStore, Passphrase, Vault};
//!
//! let mut runner = TestRunner::new(Config::with_cases(2));
//! runner.run(&ops(Wire::Faulty, 1..30), |program| {
//!     let pass = || Passphrase::new("correct horse battery staple".into());
//!     let first = Vault::create(MemoryStore::new(), &pass(), KdfParams::new(64, 1, 1)?)?;
//!     let secret = first.secret();
//!     let mut net = Network::new(42);
//!     net.add(first);
//!     net.add(Vault::restore(MemoryStore::new(), &secret, &pass(), KdfParams::new(64, 1, 1)?)?);
//!     for i in 0..2 {
//!         net.connect(i)?;
//!     }
//!     for op in &program {
//!         net.apply(op)?;
//!     }
//!     net.heal()?;
//!     net.converged()?;
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod hostile;
mod network;
mod relay;
mod store;
pub mod strategy;

pub use hostile::{Hostile, message_about, vector_message};
pub use network::{
    AUDIENCE, Converged, Device, Divergence, Faults, Network, NetworkError, SETTLE_STEPS, Stats,
};
pub use relay::{ConnectionId, Relay};
pub use store::StoreLimits;

/// Opens a blob of the relay's store with the vault's keys: its namespace and its bundle's bytes
/// (`selfos_vault::forensics::bundle_plaintext` reads them), or `None` if it does not open. For
/// tests that search what a store holds.
pub fn open_blob(
    keys: &selfos_vault::SyncKeys,
    blob: &[u8],
) -> Option<(selfos_vault::Namespace, zeroize::Zeroizing<Vec<u8>>)> {
    crate::store::open_blob(keys, blob)
}
