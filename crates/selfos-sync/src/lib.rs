//! The SelfOS sync engine: keeps the replicas of one vault identical through the relay.
//!
//! Sans-IO: it takes the relay's frames in and gives frames and [`SyncEvent`]s out; the caller
//! owns the socket, the clock and the vault. Per peer and namespace it runs Automerge's sync
//! protocol plus the key-table deltas of `selfos-vault`, each message sealed in an
//! XChaCha20-Poly1305 envelope whose associated data binds room, sender, recipient and a counter.
//! The relay sees sizes and timing, nothing else.
//!
//! # The transport
//!
//! The engine is written for a reliable, ordered connection to the relay, as a WebSocket is:
//! `selfos-net` drives it over one natively, the WASM package over the browser's, and anything
//! that carries each frame whole, once and in order will do. Give it every frame the relay sends
//! with [`SyncEngine::handle_frame`], send everything [`SyncEngine::poll_transmit`] returns, call
//! [`SyncEngine::local_change`] after each write to the vault, and when the connection ends call
//! [`SyncEngine::disconnected`]: it saves what the next session starts from, which begins with
//! the relay's next challenge (to this engine or a new one).
//!
//! It does not repair a faulty wire within a session. A lost frame stalls that peer's sync of
//! that namespace (Automerge's protocol waits for an answer that never comes); a duplicated
//! frame, or one overtaken by a later frame of the same peer, is refused as a replay
//! ([`SyncEvent::Rejected`]). The next session repairs all of it: it starts from the sync state
//! saved when the last one ended and sends whatever the peer lacks. So if frames can be lost,
//! drop the connection and reconnect.
//!
//! # Pairing
//!
//! [`pairing`] hands the vault's secret to a new device through the same relay: a one-time
//! code, SPAKE2 and key confirmation, then the secret sealed under the exchanged key. It is
//! sans-IO too; `selfos-net` drives it over a WebSocket.
//!
//! # Testing
//!
//! With the `test-utils` feature, the `testing` module offers a deterministic in-memory network
//! of replicas (lost, duplicated and reordered frames, partitions, relay restarts), proptest
//! strategies for what users and networks do, and a convergence check.
//!
//! # Example
//!
//! Two replicas meet through the in-memory relay of `testing` (in real life `selfos-relay`
//! over a WebSocket):
//!
//! ```
//! # #[cfg(feature = "test-utils")] {
//! use selfos_sync::testing::Network;
//! use selfos_vault::{Answer, CardKind, Content, KdfParams, MemoryStore, Namespace, Passphrase, Status, Vault};
//!
//! let pass = || Passphrase::new("correct horse battery staple".into());
//! let laptop = Vault::create(MemoryStore::new(), &pass(), KdfParams::new(64, 1, 1)?)?;
//! let phone = Vault::restore(MemoryStore::new(), &laptop.secret(), &pass(), KdfParams::new(64, 1, 1)?)?;
//! let mut net = Network::new(7);
//! let (a, b) = (net.add(laptop), net.add(phone));
//! net.connect(a)?;
//! net.connect(b)?;
//!
//! let answer = Content {
//!     card_id: "intent.include".into(),
//!     card_kind: CardKind::Intent,
//!     answer: Some(Answer::Text("a worked example".into())),
//!     agent: "chatgpt".into(),
//!     origin: "example".into(),
//!     created_ms: net.now_ms,
//!     wait_ms: 8_000,
//!     status: Status::Answered,
//!     context: Default::default(),
//! };
//! net.devices[a].vault.record(&Namespace::new("chatgpt")?, answer, net.now_ms)?;
//! net.local_change(a)?;
//! net.settle()?;
//!
//! let on_phone = net.devices[b].vault.list(None).responses;
//! assert_eq!(on_phone.len(), 1);
//! assert_eq!(on_phone[0].content.answer, Some(Answer::Text("a worked example".into())));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod counters;
mod engine;
mod envelope;
mod error;
mod fragments;
pub mod pairing;
mod store;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use engine::{MAX_FRAGMENT_LEN, RESYNC_AFTER_MS, SyncEngine, SyncEvent, room_of};
pub use fragments::{MAX_BUFFERED_LEN, MAX_MESSAGE_LEN, MAX_MESSAGE_PARTS};
pub use store::{MAX_BLOB_LEN, StoreStatus};

/// Entry points for the cargo-fuzz targets in `fuzz/`. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use selfos_proto::{PeerId, RoomId};

    use crate::envelope::EnvelopeSealer;

    /// Opens arbitrary bytes as an envelope from one fixed peer to another. Must never panic;
    /// without the key nothing may open.
    pub fn open_envelope(data: &[u8]) {
        let Ok(room) = RoomId::from_bytes(&ROOM) else {
            return;
        };
        let sealer = EnvelopeSealer::new(&[7; 32], room);
        let _ = EnvelopeSealer::header(data);
        let opened = sealer.open(
            &PeerId::from_bytes([1; 16]),
            &PeerId::from_bytes([2; 16]),
            data,
        );
        assert!(opened.is_err(), "forged envelope opened");
    }

    /// The room id of the seed `[0x42; 32]` (PROTOCOL.md's worked example).
    const ROOM: [u8; 32] = [
        0x21, 0x52, 0xf8, 0xd1, 0x9b, 0x79, 0x1d, 0x24, 0x45, 0x32, 0x42, 0xe1, 0x5f, 0x2e, 0xab,
        0x6c, 0xb7, 0xcf, 0xfa, 0x7b, 0x6a, 0x5e, 0xd3, 0x00, 0x97, 0x96, 0x0e, 0x06, 0x98, 0x81,
        0xdb, 0x12,
    ];
}
pub use error::{EnvelopeError, SyncError};

#[cfg(test)]
mod corpus {
    /// Replays every saved input (seeds and past crashers) of a fuzz target.
    fn replay(target: &str, run: fn(&[u8])) {
        let dir = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
        let mut replayed = 0;
        for entry in std::fs::read_dir(&dir).expect("the fuzz corpus folder") {
            let data = std::fs::read(entry.expect("a corpus entry").path()).expect("readable");
            run(&data);
            replayed += 1;
        }
        assert!(replayed > 0, "the corpus of {target} is empty");
    }

    #[test]
    fn corpora_replay() {
        replay("frame_decode", selfos_proto::fuzzing::decode_frame);
        replay("envelope_open", crate::fuzzing::open_envelope);
        replay(
            "replication_message",
            selfos_vault::fuzzing::decode_replication_message,
        );
        replay("chunk", selfos_vault::fuzzing::chunk);
        replay("header", selfos_vault::fuzzing::header);
        replay("recovery_kit", selfos_vault::fuzzing::recovery_kit);
        replay("session_key", selfos_vault::fuzzing::session_key);
        replay("export_import", selfos_vault::fuzzing::export_import);
    }
}
