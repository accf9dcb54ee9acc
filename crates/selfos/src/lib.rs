//! SelfOS, the library a client embeds: one dependency that re-exports the subsystems.
//!
//! - [`vault`]: encrypted Automerge documents, one per AI agent, over a chunk store.
//! - [`proto`]: the wire frames and the relay handshake.
//! - [`sync`]: the sans-IO engine that keeps replicas identical through the relay.
//! - [`training`]: the card catalog and the scheduler that picks what to ask during a wait.
//! - [`graph`]: the knowledge graph, alignment metrics and exports built from the answers.
//! - `net` (feature `net`, on by default): the native WebSocket transport that drives the engine.
//! - `testing` (feature `test-utils`): an in-memory network of replicas, proptest strategies and a
//!   convergence check, to property-test that your own use of the vault converges.
//!
//! Only `net` does network I/O; the rest work on bytes and the store you pass in, and take the
//! current time as an argument.
//!
//! # A vault
//!
//! ```
//! use selfos::vault::{
//!     Answer, CardKind, Content, KdfParams, MemoryStore, Namespace, Passphrase, Status, Vault,
//! };
//!
//! // Cheap key derivation for the example; real vaults use KdfParams::DEFAULT.
//! let pass = Passphrase::new("correct horse battery staple".into());
//! let mut vault = Vault::create(MemoryStore::new(), &pass, KdfParams::new(64, 1, 1)?)?;
//! let now_ms = 1_800_000_000_000;
//! let answer = Content {
//!     card_id: "intent.include".into(),
//!     card_kind: CardKind::Intent,
//!     answer: Some(Answer::Text("a worked example".into())),
//!     agent: "chatgpt".into(),
//!     origin: "my app".into(),
//!     created_ms: now_ms,
//!     wait_ms: 8_000,
//!     status: Status::Answered,
//!     context: Default::default(),
//! };
//! let id = vault.record(&Namespace::new("chatgpt")?, answer, now_ms)?;
//! assert_eq!(vault.list(None).responses[0].id, id);
//!
//! // When the application is idle: see "Call maintain() periodically" below.
//! vault.maintain()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Call `maintain()` periodically
//!
//! Writes only append: every write, local or arriving by sync, stores one small encrypted chunk
//! per namespace, so that writes stay fast. [`Vault::maintain`](vault::Vault::maintain) compacts
//! each namespace whose chunks are due (32 of them, or as many bytes as its snapshot) into one
//! snapshot. Call it when the application is idle: after a batch of writes, after a sync, or on a
//! timer in a long-running process (the CLI calls it after each write command).
//!
//! If it is never called, each namespace piles up to 256 chunks before a write compacts it on
//! the spot (tens of milliseconds on a large vault, on the write path), opening the vault replays
//! every chunk (about a millisecond each on a vault of 10,000 answers), and the store holds many
//! small files. Deletes do not wait for it: a delete, local or synced, compacts its namespace at
//! once, so that the deleted record's key is in no stored byte.
//!
//! # Build settings
//!
//! Argon2id (unlocking) and Automerge (every write and merge) are tens of times slower
//! unoptimised, so a debug build or `cargo test` of your application is slow unless its
//! dependencies are optimised. This workspace sets that for itself, and profiles do not reach the
//! crates that depend on it, so put these lines in your own workspace's `Cargo.toml`:
//!
//! ```toml
//! # Argon2 and Automerge are slow unoptimised: optimise dependencies in debug builds and tests.
//! [profile.dev.package."*"]
//! opt-level = 2
//! [profile.test.package."*"]
//! opt-level = 2
//! ```
//!
//! Your own crate stays unoptimised and quick to rebuild; the dependencies build once.
//!
//! # Syncing
//!
//! The relay (`selfos-relay`) forwards encrypted frames between the devices of a vault. With the
//! `net` feature, `selfos::net::sync` and `selfos::net::watch` connect to it over a WebSocket and
//! drive the engine. To carry the frames yourself, drive a [`SyncEngine`](sync::SyncEngine) over
//! any reliable, ordered connection to the relay: see [`sync`], and `examples/own_transport.rs`.
//!
//! # Features
//!
//! - `net` (default): the native transport (tokio, tokio-tungstenite, rustls). Off for
//!   `wasm32-unknown-unknown`, where the browser does the IO.
//! - `test-utils`: the `testing` module, for your tests (`[dev-dependencies] selfos = { version =
//!   "…", features = ["test-utils"] }`).

#![deny(missing_docs)]

/// Milliseconds since the Unix epoch by the system clock: the `now_ms` that every write takes.
///
/// The subsystems read no clock of their own, so tests and simulations pass any time they like;
/// an application usually passes this. 0 for a clock set before 1970. Not on
/// `wasm32-unknown-unknown`, where there is no system clock (pass `Date.now()`).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[doc(inline)]
pub use selfos_graph as graph;
#[cfg(feature = "net")]
#[doc(inline)]
pub use selfos_net as net;
#[doc(inline)]
pub use selfos_proto as proto;
#[doc(inline)]
pub use selfos_training as training;
#[doc(inline)]
pub use selfos_vault as vault;

pub mod sync {
    //! The sans-IO sync engine that keeps the replicas of one vault identical through the relay.
    //!
    //! A [`SyncEngine`] serves one connection to the relay. It takes the relay's frames in and
    //! gives frames and [`SyncEvent`]s out; you own the connection, the clock and the vault. Per
    //! peer and namespace it runs Automerge's sync protocol in XChaCha20-Poly1305 envelopes: the
    //! relay sees sizes and timing, nothing else.
    //!
    //! # Driving it over a transport of your own
    //!
    //! With the `net` feature, `selfos::net` does all of this over a WebSocket. Otherwise:
    //!
    //! 1. Open a connection to the relay and make an engine with
    //!    [`SyncEngine::new`]`(&vault.sync_keys(), me, relay_address, now_ms)`, where `me` is the
    //!    replica's id as a [`PeerId`](crate::proto::PeerId) and the relay address is the
    //!    [`Audience`](crate::proto::handshake::Audience) it names itself by.
    //! 2. Give every frame that arrives to [`SyncEngine::handle_frame`], and send every frame
    //!    [`SyncEngine::poll_transmit`] returns, one frame per message, after each call. Read
    //!    [`SyncEngine::poll_event`] for who joined and what changed.
    //! 3. After each write to the vault, call [`SyncEngine::local_change`] and send again.
    //! 4. When the connection ends, call [`SyncEngine::disconnected`]: it saves, in the vault,
    //!    what the next session with each peer starts from. The next connection starts with the
    //!    relay's new challenge.
    //!
    //! `examples/own_transport.rs` runs two engines this way over std channels.
    //!
    //! # The transport must be reliable and ordered
    //!
    //! Each frame must arrive whole, once and in order, as over a WebSocket. The engine detects
    //! a faulty wire but does not repair it within a session:
    //!
    //! - a **lost** frame leaves Automerge's sync protocol waiting for an answer that never
    //!   comes: that peer's sync of that namespace stalls until the next session;
    //! - a **duplicated** frame is refused as a replay ([`SyncEvent::Rejected`] with
    //!   [`EnvelopeError::Replayed`]) and nothing is applied twice;
    //! - a frame **overtaken** by a later frame from the same peer is refused as a replay too,
    //!   so it counts as lost.
    //!
    //! A new session repairs all of it: it starts from the state saved when the last one ended,
    //! and Automerge's protocol sends whatever the peer lacks. So if your transport can lose
    //! frames, drop the connection when it does (or when a sync stops making progress) and
    //! reconnect.

    #[doc(inline)]
    pub use selfos_sync::{
        EnvelopeError, MAX_BLOB_LEN, StoreStatus, SyncEngine, SyncError, SyncEvent, pairing,
        room_of,
    };
}

#[cfg(feature = "test-utils")]
pub mod testing {
    //! Convergence testing of your own use of the vault: replicas on a deterministic in-memory
    //! network with faults, proptest strategies for what users and networks do, and a check
    //! that every replica ends identical. Feature `test-utils`; for tests, with proptest to run
    //! the strategies:
    //!
    //! ```toml
    //! [dev-dependencies]
    //! selfos = { version = "0.1", features = ["test-utils"] }
    //! proptest = "1"
    //! ```
    //!
    //! A [`Network`] holds devices (a vault each, with an engine while connected) and in-memory
    //! relays. It can lose, duplicate and reorder sync messages ([`Network::faults`]), split into
    //! partitions ([`Network::partition`]), take devices offline ([`Network::disconnect`]) and
    //! restart the relay ([`Network::restart_relay`]), every choice drawn from its seed.
    //! [`strategy::ops`] generates programs of [`Op`](strategy::Op)s, [`Network::apply`] plays one, and
    //! [`Network::converged`] checks that every replica holds the same namespaces, heads,
    //! listing and conflicts.
    //!
    //! Convergence is due only once the wire is healthy again: the engine stalls on a lost
    //! frame until the next session (see [`sync`](crate::sync)). [`Network::heal`] stops the
    //! faults, heals the partitions, connects every device, restarts the relay if a frame was
    //! lost, duplicated or reordered, and settles; check convergence after it.
    //!
    //! # A property test of your own writes
    //!
    //! Your application writes in its own ways; mix them with the kit's operations, and check
    //! both convergence and your own invariants. Here the application records star ratings:
    //!
    //! ```
    //! use proptest::{
    //!     prelude::*,
    //!     test_runner::{Config, TestRunner},
    //! };
    //! use selfos::{
    //!     testing::{
    //!         Network,
    //!         strategy::{Op, Outcome, Wire, op},
    //!     },
    //!     vault::{
    //!         Answer, CardKind, Content, KdfParams, MemoryStore, Namespace, Passphrase,
    //!         ResponseId, Status, Vault,
    //!     },
    //! };
    //!
    //! /// What the application does: a rating of the last answer of `agent`.
    //! fn rate(
    //!     vault: &mut Vault<MemoryStore>,
    //!     agent: &str,
    //!     stars: u8,
    //!     now_ms: u64,
    //! ) -> Result<ResponseId, Box<dyn std::error::Error>> {
    //!     let content = Content {
    //!         card_id: "rating.overall".into(),
    //!         card_kind: CardKind::Rating,
    //!         answer: Some(Answer::Rating(stars)),
    //!         agent: agent.into(),
    //!         origin: "my app".into(),
    //!         created_ms: now_ms,
    //!         wait_ms: 5_000,
    //!         status: Status::Answered,
    //!         context: Default::default(),
    //!     };
    //!     Ok(vault.record(&Namespace::new(agent)?, content, now_ms)?)
    //! }
    //!
    //! /// One step: the kit's (writes, partitions, faults, restarts...) or the application's.
    //! #[derive(Debug, Clone)]
    //! enum Step {
    //!     Kit(Op),
    //!     Rate { device: usize, stars: u8 },
    //! }
    //!
    //! let step = prop_oneof![
    //!     4 => op(Wire::Faulty).prop_map(Step::Kit),
    //!     1 => (0..3usize, 1..=5u8).prop_map(|(device, stars)| Step::Rate { device, stars }),
    //! ];
    //! let program = (any::<u64>(), prop::collection::vec(step, 1..40));
    //!
    //! // Inside `proptest! { #[test] fn ... }` the body is the same.
    //! let mut runner = TestRunner::new(Config::with_cases(4));
    //! runner.run(&program, |(seed, steps)| {
    //!     // Three replicas of one vault (cheap key derivation: this is a test).
    //!     let pass = || Passphrase::new("correct horse battery staple".into());
    //!     let first = Vault::create(MemoryStore::new(), &pass(), KdfParams::new(64, 1, 1)?)?;
    //!     let secret = first.secret();
    //!     let mut net = Network::new(seed);
    //!     net.add(first);
    //!     for _ in 1..3 {
    //!         net.add(Vault::restore(MemoryStore::new(), &secret, &pass(), KdfParams::new(64, 1, 1)?)?);
    //!     }
    //!     for i in 0..3 {
    //!         net.connect(i)?;
    //!     }
    //!
    //!     let (mut ratings, mut deleted) = (Vec::new(), Vec::new());
    //!     for step in &steps {
    //!         match step {
    //!             Step::Kit(op) => {
    //!                 if let Outcome::Deleted(id) = net.apply(op)? {
    //!                     deleted.push(id);
    //!                 }
    //!             }
    //!             Step::Rate { device, stars } => {
    //!                 let now = net.now_ms;
    //!                 let id = rate(&mut net.devices[*device].vault, "claude", *stars, now)
    //!                     .map_err(|e| TestCaseError::fail(e.to_string()))?;
    //!                 // Tell the engine, as the application does after every write.
    //!                 net.local_change(*device)?;
    //!                 ratings.push(id);
    //!             }
    //!         }
    //!     }
    //!
    //!     net.heal()?;
    //!     net.converged()?;
    //!     // The application's own invariant: every rating it recorded that nobody deleted is on
    //!     // every device.
    //!     for device in &net.devices {
    //!         for id in ratings.iter().filter(|id| !deleted.contains(id)) {
    //!             prop_assert!(device.vault.get(id)?.is_some(), "rating {id} lost");
    //!         }
    //!     }
    //!     Ok(())
    //! })?;
    //! # Ok::<(), Box<dyn std::error::Error>>(())
    //! ```

    #[doc(inline)]
    pub use selfos_sync::testing::*;
}
