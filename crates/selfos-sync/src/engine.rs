//! The sans-IO sync engine: relay frames in, frames and events out.
//!
//! One engine per connection to the relay. It answers the relay's challenge with the room key,
//! then keeps, for every peer in the room and every namespace, the vault's [`ReplicationState`]
//! and exchanges [`ReplicationMessage`]s inside envelopes until neither side has anything to
//! say. It owns what the transport needs: envelope counters (replay protection, saved through
//! the vault as bytes only this crate reads) and fragments. It reads no clock and opens no
//! socket: the caller passes time in and moves the bytes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ed25519_dalek::SigningKey;
use selfos_proto::{
    ErrorCode, Frame, MAX_PAYLOAD_LEN, Payload, PeerId, RoomId, StoreUsage,
    handshake::{Audience, sign_join},
};
use selfos_vault::{
    ChunkStore, ErrorKind, Namespace, ReplicaId, ReplicationMessage, ReplicationState, SyncKeys,
    Vault,
};
use zeroize::Zeroizing;

use crate::{
    counters::PeerCounters,
    envelope::{EnvelopeSealer, HEADER_LEN, Header, TAG_LEN},
    error::{EnvelopeError, SyncError},
    fragments::{MAX_MESSAGE_LEN, MAX_MESSAGE_PARTS, Reassembly},
    store::{Out, StoreStatus, StoreSync},
};

/// How long replication with a peer may stay unsettled in a namespace, with no message from the
/// peer about it, before the engine starts that exchange over: a message was lost or reordered
/// on the way, and both sides would otherwise wait for each other until the next connection.
pub const RESYNC_AFTER_MS: u64 = 15_000;

/// While envelope counters move, the engine saves them (with the replication states) on its tick
/// at most this often, so a process that is killed, not closed, restarts from counters at most
/// this old: only envelopes of the last few seconds could be replayed to it, and a replayed
/// message re-applies changes and key entries it already holds (both merge idempotently).
const SAVE_EVERY_MS: u64 = 10_000;

/// The largest fragment of a message that fits one frame: a frame's payload less the
/// envelope's header and tag.
pub const MAX_FRAGMENT_LEN: usize = MAX_PAYLOAD_LEN - HEADER_LEN - TAG_LEN;

// Every message a sender may send arrives within the receiver's bound on fragments.
const _: () = assert!(MAX_MESSAGE_LEN.div_ceil(MAX_FRAGMENT_LEN) <= MAX_MESSAGE_PARTS as usize);

/// What happened, for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// The relay let us into the room.
    Joined {
        /// The room.
        room: RoomId,
        /// Peers already there.
        peers: usize,
    },
    /// A peer is now in the room.
    PeerJoined(PeerId),
    /// A peer left the room.
    PeerLeft(PeerId),
    /// A peer's message changed a namespace.
    Changed {
        /// Who sent it.
        from: PeerId,
        /// What changed.
        namespace: Namespace,
        /// Deletions it brought.
        deletions: usize,
    },
    /// An envelope was refused (forged, replayed, damaged, over a bound of reassembly), or the
    /// message it completed was (the vault refused it); nothing was applied, and sync goes on.
    Rejected {
        /// Who the relay says sent it.
        from: PeerId,
        /// Why.
        reason: EnvelopeError,
    },
    /// The relay reported an error.
    RelayError {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// Replication with a peer stalled in a namespace (a message was lost on the way) and was
    /// started over within the session.
    Resynced {
        /// The peer.
        peer: PeerId,
        /// The namespace.
        namespace: Namespace,
    },
    /// A blob from the relay's store changed a namespace.
    FromStore {
        /// What changed.
        namespace: Namespace,
        /// Deletions it brought.
        deletions: usize,
    },
    /// Where this device stands with the room's store changed.
    Store(StoreStatus),
    /// Catching up from the store: bytes of blobs fetched so far, out of those listed.
    StoreProgress {
        /// Fetched.
        fetched_bytes: u64,
        /// Listed, to fetch in all.
        total_bytes: u64,
    },
    /// Something that needs no action but should not go unnoticed (a sync state that could not
    /// be saved or read: the next session starts from scratch for that peer).
    Warning(String),
}

/// What we know of one peer during this connection.
#[derive(Debug, Default)]
struct PeerSession {
    namespaces: BTreeMap<Namespace, ReplicationState>,
    fragments: Reassembly,
    /// Since when (clock of [`SyncEngine::tick`]) each namespace has been unsettled with no
    /// message from the peer about it.
    unsettled_since: BTreeMap<Namespace, u64>,
}

/// The engine. See the module docs.
pub struct SyncEngine {
    me: PeerId,
    room_key: SigningKey,
    relay: Audience,
    sealer: EnvelopeSealer,
    joined: bool,
    peers: BTreeMap<PeerId, PeerSession>,
    /// The last envelope counter accepted from each peer, kept across its sessions (a peer that
    /// leaves and comes back continues above it), so an old envelope replayed by the relay is
    /// refused. Senders seed counters from their clock, so a restarted sender stays above too.
    last_counters: BTreeMap<PeerId, u64>,
    next_counter: u64,
    /// Whether a counter moved since the engine last saved.
    counters_moved: bool,
    /// When [`SyncEngine::tick`] last saved.
    saved_at_ms: Option<u64>,
    /// The room's store on the relay.
    store: StoreSync,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<SyncEvent>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("me", &self.me)
            .field("room", &self.sealer.room)
            .field("relay", &self.relay)
            .field("joined", &self.joined)
            .field("peers", &self.peers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The replica behind a peer: devices join the room with their replica id as peer id
/// (PROTOCOL.md), so the vault's replication state is saved under the same id across
/// connections.
fn replica_of(peer: &PeerId) -> ReplicaId {
    ReplicaId::from(*peer.as_bytes())
}

/// The room id of a vault: the public half of its room key.
pub fn room_of(keys: &SyncKeys) -> Result<RoomId, SyncError> {
    let key = SigningKey::from_bytes(keys.room_seed());
    Ok(RoomId::try_from(key.verifying_key())?)
}

impl SyncEngine {
    /// An engine for one connection to `relay` (the address the relay names itself by), as
    /// `me` (this replica). `clock_ms` seeds the envelope counter, so counters keep growing
    /// across restarts and peers can refuse replays.
    pub fn new(
        keys: &SyncKeys,
        me: PeerId,
        relay: Audience,
        clock_ms: u64,
    ) -> Result<Self, SyncError> {
        let room_key = SigningKey::from_bytes(keys.room_seed());
        let room = RoomId::try_from(room_key.verifying_key())?;
        Ok(Self {
            me,
            room_key,
            store: StoreSync::new(keys, room, relay.clone()),
            relay,
            sealer: EnvelopeSealer::new(keys.envelope_key(), room),
            joined: false,
            peers: BTreeMap::new(),
            last_counters: BTreeMap::new(),
            next_counter: clock_ms.saturating_mul(1 << 16),
            counters_moved: false,
            saved_at_ms: None,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// This vault's room.
    pub fn room(&self) -> RoomId {
        self.sealer.room
    }

    /// Whether the relay let us in.
    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// The peers in the room.
    pub fn peers(&self) -> impl Iterator<Item = &PeerId> {
        self.peers.keys()
    }

    /// Where this device stands with the room's store on the relay.
    pub fn store_status(&self) -> StoreStatus {
        self.store.status()
    }

    /// What the room's store holds and may hold, as the relay last said.
    pub fn store_usage(&self) -> Option<StoreUsage> {
        self.store.usage()
    }

    /// Whether the room's store, or some device in the room, is known to hold every change this
    /// replica holds, in every namespace: until then, local writes exist here only.
    pub fn in_sync<S: ChunkStore>(&self, vault: &Vault<S>) -> bool {
        if self.store.status() == StoreStatus::Settled {
            return true;
        }
        let namespaces = vault.replicated_namespaces();
        self.peers.values().any(|session| {
            namespaces.iter().all(|ns| {
                session
                    .namespaces
                    .get(ns)
                    .is_some_and(|state| vault.peer_holds_all(ns, state))
            })
        })
    }

    /// The next frame to send to the relay.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        self.events.pop_front()
    }

    /// Handles one frame from the relay.
    pub fn handle_frame<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<(), SyncError> {
        match Frame::decode(bytes)? {
            Frame::Challenge(challenge) => {
                let join = sign_join(&challenge, &self.relay, &self.room_key, self.me)?;
                self.outgoing.push_back(Frame::Join(join).encode());
            }
            Frame::Joined { peers } => {
                self.joined = true;
                self.events.push_back(SyncEvent::Joined {
                    room: self.sealer.room,
                    peers: peers.len(),
                });
                for peer in peers.into_vec() {
                    self.start_peer(vault, peer)?;
                }
                self.store
                    .joined(vault, &mut Out::new(&mut self.outgoing, &mut self.events));
            }
            Frame::PeerJoined(peer) => {
                self.events.push_back(SyncEvent::PeerJoined(peer));
                self.start_peer(vault, peer)?;
            }
            Frame::PeerLeft(peer) => {
                if let Some(session) = self.peers.remove(&peer) {
                    self.save(vault, &peer, &session);
                }
                self.events.push_back(SyncEvent::PeerLeft(peer));
            }
            Frame::Deliver { from, payload } => self.deliver(vault, from, &payload, now_ms)?,
            Frame::Error { code, message } => self.events.push_back(SyncEvent::RelayError {
                code,
                message: message.as_str().to_owned(),
            }),
            Frame::Ping(n) => self.outgoing.push_back(Frame::Pong(n).encode()),
            Frame::Store(frame) => {
                let mut out = Out::new(&mut self.outgoing, &mut self.events);
                self.store.handle(vault, frame, now_ms, &mut out)?;
            }
            // Frames only clients send, and pongs, need no answer.
            _ => {}
        }
        Ok(())
    }

    /// Sends every peer, and the room's store, what changed locally. Call after writing to the
    /// vault.
    pub fn local_change<S: ChunkStore>(&mut self, vault: &mut Vault<S>) -> Result<(), SyncError> {
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            for ns in self.namespaces_with(vault, &peer) {
                self.send_update(vault, peer, &ns)?;
            }
        }
        let mut out = Out::new(&mut self.outgoing, &mut self.events);
        self.store.local_change(vault, &mut out)
    }

    /// Checks for stalled exchanges: a namespace whose replication with a peer stays unsettled
    /// for [`RESYNC_AFTER_MS`] with no message from that peer is started over (see
    /// [`ReplicationState::restart`]), so a lost or reordered frame heals within the session.
    /// Also saves the envelope counters, at most every ten seconds while they move, so a killed
    /// process refuses replays of all but its last few seconds. Call it every second or so with
    /// the same clock as [`SyncEngine::handle_frame`].
    pub fn tick<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        now_ms: u64,
    ) -> Result<(), SyncError> {
        let mut out = Out::new(&mut self.outgoing, &mut self.events);
        self.store.tick(now_ms, &mut out);
        if self.counters_moved
            && self
                .saved_at_ms
                .is_none_or(|at| now_ms.saturating_sub(at) >= SAVE_EVERY_MS)
        {
            let peers = std::mem::take(&mut self.peers);
            for (peer, session) in &peers {
                self.save(vault, peer, session);
            }
            self.peers = peers;
            self.counters_moved = false;
            self.saved_at_ms = Some(now_ms);
        }
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            for ns in self.namespaces_with(vault, &peer) {
                let Some(session) = self.peers.get_mut(&peer) else {
                    continue;
                };
                let state = session.namespaces.entry(ns.clone()).or_default();
                if vault.replication_settled(&ns, state) {
                    session.unsettled_since.remove(&ns);
                    continue;
                }
                let since = *session.unsettled_since.entry(ns.clone()).or_insert(now_ms);
                if now_ms.saturating_sub(since) < RESYNC_AFTER_MS {
                    continue;
                }
                state.restart();
                session.unsettled_since.insert(ns.clone(), now_ms);
                self.events.push_back(SyncEvent::Resynced {
                    peer,
                    namespace: ns.clone(),
                });
                self.send_update(vault, peer, &ns)?;
            }
        }
        Ok(())
    }

    /// The connection is gone: saves what outlives it and forgets the peers. A new connection
    /// starts with the relay's next challenge.
    pub fn disconnected<S: ChunkStore>(&mut self, vault: &mut Vault<S>) {
        for (peer, session) in std::mem::take(&mut self.peers) {
            self.save(vault, &peer, &session);
        }
        self.joined = false;
        self.store.disconnected();
        self.outgoing.clear();
    }

    /// Saves the replication state of every namespace with the peer, and with each the
    /// engine's counters (so whichever namespace's state survives, replays stay refused).
    fn save<S: ChunkStore>(&mut self, vault: &mut Vault<S>, peer: &PeerId, session: &PeerSession) {
        let counters = PeerCounters {
            last_received: self.last_counters.get(peer).copied().unwrap_or(0),
            last_sent: self.next_counter,
        }
        .encode();
        for (ns, state) in &session.namespaces {
            if let Err(e) = vault.save_peer_state(&replica_of(peer), ns, state, &counters) {
                self.events.push_back(SyncEvent::Warning(format!(
                    "sync state for {peer} in {ns} not saved: {e}"
                )));
            }
        }
    }

    /// Our namespaces plus those the peer told us about.
    fn namespaces_with<S: ChunkStore>(&self, vault: &Vault<S>, peer: &PeerId) -> Vec<Namespace> {
        let mut all: BTreeSet<Namespace> = vault.replicated_namespaces().into_iter().collect();
        if let Some(session) = self.peers.get(peer) {
            all.extend(session.namespaces.keys().cloned());
        }
        all.into_iter().collect()
    }

    fn start_peer<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        peer: PeerId,
    ) -> Result<(), SyncError> {
        if peer == self.me {
            return Ok(());
        }
        let mut session = PeerSession::default();
        for ns in vault.replicated_namespaces() {
            let state = match vault.load_peer_state(&replica_of(&peer), &ns) {
                Ok(None) => ReplicationState::new(),
                Ok(Some(saved)) => {
                    self.restore_counters(peer, &ns, &saved.engine);
                    saved.replication
                }
                Err(e) => {
                    self.events.push_back(SyncEvent::Warning(format!(
                        "saved sync state for {peer} in {ns} unreadable, starting over: {e}"
                    )));
                    ReplicationState::new()
                }
            };
            session.namespaces.insert(ns, state);
        }
        self.peers.insert(peer, session);
        for ns in self.namespaces_with(vault, &peer) {
            self.send_update(vault, peer, &ns)?;
        }
        Ok(())
    }

    /// Replays stay refused across restarts: refuses at or below the saved counter, and sends
    /// above what this replica sent before, even if the clock went back.
    fn restore_counters(&mut self, peer: PeerId, ns: &Namespace, saved: &[u8]) {
        match PeerCounters::decode(saved) {
            Ok(counters) => {
                let last = self.last_counters.entry(peer).or_insert(0);
                *last = (*last).max(counters.last_received);
                self.next_counter = self.next_counter.max(counters.last_sent);
            }
            Err(e) => self.events.push_back(SyncEvent::Warning(format!(
                "saved counters for {peer} in {ns} unreadable: {e}"
            ))),
        }
    }

    /// Sends `peer` the next message about `ns`, if there is one.
    fn send_update<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        peer: PeerId,
        ns: &Namespace,
    ) -> Result<(), SyncError> {
        let Some(session) = self.peers.get_mut(&peer) else {
            return Ok(());
        };
        let state = session.namespaces.entry(ns.clone()).or_default();
        let Some(message) = vault.generate_replication_message(ns, state)? else {
            return Ok(());
        };
        let mut plain = Zeroizing::new(Vec::with_capacity(1 + ns.as_str().len()));
        plain.push(ns.as_str().len() as u8);
        plain.extend_from_slice(ns.as_str().as_bytes());
        message.encode_into(&mut plain);
        if plain.len() > MAX_MESSAGE_LEN {
            // The peer would refuse it. Sync of this namespace with the peer stalls; the rest goes on.
            self.events.push_back(SyncEvent::Warning(format!(
                "{ns} not sent to {peer}: its {} bytes are over the limit of {MAX_MESSAGE_LEN}",
                plain.len()
            )));
            return Ok(());
        }
        let parts = plain.len().div_ceil(MAX_FRAGMENT_LEN).max(1);
        let parts = u16::try_from(parts).map_err(|_| EnvelopeError::TooLarge)?;
        for (part, fragment) in (0..parts).zip(plain.chunks(MAX_FRAGMENT_LEN).chain(
            // An empty message still travels as one (empty) fragment.
            std::iter::once(&[][..]).take(usize::from(plain.is_empty())),
        )) {
            self.next_counter += 1;
            self.counters_moved = true;
            let header = Header {
                counter: self.next_counter,
                part,
                parts,
            };
            let envelope = self.sealer.seal(&self.me, &peer, header, fragment)?;
            let payload = Payload::try_from(envelope).map_err(|_| EnvelopeError::TooLarge)?;
            self.outgoing
                .push_back(Frame::Send { to: peer, payload }.encode());
        }
        Ok(())
    }

    fn deliver<S: ChunkStore>(
        &mut self,
        vault: &mut Vault<S>,
        from: PeerId,
        payload: &Payload,
        now_ms: u64,
    ) -> Result<(), SyncError> {
        let message = match self.open(from, payload.as_bytes()) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(()),
            Err(reason) => {
                self.events.push_back(SyncEvent::Rejected { from, reason });
                return Ok(());
            }
        };
        let Some((ns, body)) = split_namespace(&message) else {
            self.events.push_back(SyncEvent::Rejected {
                from,
                reason: EnvelopeError::Malformed,
            });
            return Ok(());
        };
        let Ok(replication) = ReplicationMessage::decode(body) else {
            self.events.push_back(SyncEvent::Rejected {
                from,
                reason: EnvelopeError::Malformed,
            });
            return Ok(());
        };
        let Some(session) = self.peers.get_mut(&from) else {
            return Ok(());
        };
        session.unsettled_since.remove(&ns);
        let state = session.namespaces.entry(ns.clone()).or_default();
        let report = match vault.receive_replication_message(&ns, state, replication, now_ms) {
            Ok(report) => report,
            // This device's own failures would refuse every message: the caller must know.
            Err(e) if is_local(e.kind()) => return Err(e.into()),
            // The message's: it costs that message only. The vault is as before, and the
            // exchange with the peer starts over on a later tick.
            Err(e) => {
                // Nor is a namespace it would have started followed with this peer: a peer could
                // otherwise make the session track names without end.
                if !vault.replicated_namespaces().contains(&ns) {
                    session.namespaces.remove(&ns);
                }
                self.events.push_back(SyncEvent::Rejected {
                    from,
                    reason: EnvelopeError::Refused(e.kind()),
                });
                return Ok(());
            }
        };
        if report.erased {
            // The store may hold blobs with the destroyed keys, some uploaded by this device:
            // its next bundle is a snapshot, and the blobs it merged go.
            self.store.erased(ns.clone());
            let mut out = Out::new(&mut self.outgoing, &mut self.events);
            self.store.changed(vault, &mut out)?;
        }
        if report.changed {
            self.events.push_back(SyncEvent::Changed {
                from,
                namespace: ns.clone(),
                deletions: report.deletions,
            });
            // What came in may be news to the other peers too.
            let others: Vec<PeerId> = self.peers.keys().copied().filter(|p| *p != from).collect();
            for other in others {
                self.send_update(vault, other, &ns)?;
            }
        }
        self.send_update(vault, from, &ns)
    }

    /// Checks and decrypts one envelope; returns the whole message once its last fragment is in.
    fn open(
        &mut self,
        from: PeerId,
        envelope: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, EnvelopeError> {
        // What the room's other peers have in progress: a few sums per envelope, as the relay
        // bounds the peers of a room.
        let others: usize = self
            .peers
            .iter()
            .filter(|(peer, _)| **peer != from)
            .map(|(_, s)| s.fragments.buffered())
            .sum();
        let Some(session) = self.peers.get_mut(&from) else {
            // The relay announces every peer before delivering from it.
            return Err(EnvelopeError::Malformed);
        };
        let header = EnvelopeSealer::header(envelope)?;
        let last = self.last_counters.get(&from).copied().unwrap_or(0);
        if header.counter <= last {
            return Err(EnvelopeError::Replayed {
                counter: header.counter,
                last,
            });
        }
        let (header, fragment) = self.sealer.open(&from, &self.me, envelope)?;
        self.last_counters.insert(from, header.counter);
        self.counters_moved = true;
        session.fragments.push(header, fragment, others)
    }
}

/// Whether a failure is this device's (storage, randomness) rather than the message's.
pub(crate) fn is_local(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::StorageFull
            | ErrorKind::StorageUnwritable
            | ErrorKind::Storage
            | ErrorKind::Entropy
    )
}

/// `namespace length u8 ‖ namespace ‖ message`.
pub(crate) fn split_namespace(message: &[u8]) -> Option<(Namespace, &[u8])> {
    let (&len, rest) = message.split_first()?;
    let (name, body) = rest.split_at_checked(usize::from(len))?;
    let ns = Namespace::new(std::str::from_utf8(name).ok()?).ok()?;
    Some((ns, body))
}
