//! Helpers shared by every test module: the workspace's test kit, networks of replicas, and
//! checks over a whole [`Network`].

use selfos_proto::{ErrorCode, Frame, Payload, PeerId, PeerList, StoreFrame, handshake::Audience};
use selfos_sync::{
    SyncEngine, SyncEvent,
    testing::{AUDIENCE, Network},
};
pub(crate) use selfos_testkit::{contains, content, kdf, ns, pass, replicas, replicas_in};
use selfos_vault::{ChunkStore, MemoryStore, Namespace, Vault};

/// A network of `n` replicas of one vault, all connected and past the handshake.
pub(crate) fn network(n: usize, seed: u64) -> Network<MemoryStore> {
    let mut net = Network::new(seed);
    for vault in replicas(n) {
        let i = net.add(vault);
        net.connect(i).expect("connect");
    }
    settle(&mut net);
    net
}

/// The relay's name for a replica.
pub(crate) fn peer_of<S: ChunkStore>(vault: &Vault<S>) -> PeerId {
    PeerId::from_bytes(*vault.replica().as_bytes())
}

/// Runs until nothing is in flight; fails if that does not happen.
pub(crate) fn settle<S: ChunkStore>(net: &mut Network<S>) -> usize {
    net.settle().expect("the network settles without error")
}

/// Total bytes of the `Deliver` frames the relay forwarded from index `from` on.
pub(crate) fn forwarded_bytes<S>(net: &Network<S>, from: usize) -> usize {
    net.forwarded[from..].iter().map(Vec::len).sum()
}

/// The payloads (envelopes) of the `Deliver` frames the relay forwarded.
pub(crate) fn forwarded_payloads<S>(net: &Network<S>) -> Vec<Vec<u8>> {
    net.forwarded
        .iter()
        .map(
            |frame| match Frame::decode(frame).expect("the relay forwards valid frames") {
                Frame::Deliver { payload, .. } => payload.as_bytes().to_vec(),
                other => panic!("forwarded a {other:?}"),
            },
        )
        .collect()
}

/// Asserts that every device holds the same replica: same namespaces, heads, readable
/// responses (ids, contents, stamps), conflicts, and nothing unreadable. Returns the number of
/// responses.
pub(crate) fn assert_converged<S: ChunkStore>(net: &mut Network<S>) -> usize {
    match net.converged() {
        Ok(converged) => converged.responses,
        Err(divergence) => panic!("not converged: {divergence}"),
    }
}

/// Events of device `i` that match `pred`.
pub(crate) fn events_of<S>(
    net: &Network<S>,
    i: usize,
    pred: impl Fn(&SyncEvent) -> bool,
) -> Vec<SyncEvent> {
    net.devices[i]
        .events
        .iter()
        .filter(|e| pred(e))
        .cloned()
        .collect()
}

/// Fails if any device reported a rejected envelope, a warning or a relay error.
pub(crate) fn assert_no_trouble<S>(net: &Network<S>) {
    for (i, d) in net.devices.iter().enumerate() {
        let trouble: Vec<&SyncEvent> = d
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    SyncEvent::Rejected { .. }
                        | SyncEvent::Warning(_)
                        | SyncEvent::RelayError { .. }
                )
            })
            .collect();
        assert!(trouble.is_empty(), "device {i}: {trouble:?}");
    }
}

/// The address the in-memory relay names itself by.
pub(crate) fn audience() -> Audience {
    AUDIENCE.parse().expect("valid audience")
}

/// One replica driven by hand: a vault and an engine that believes it is in a room with `peers`
/// on a relay that keeps no store.
pub(crate) struct Side {
    pub(crate) vault: Vault<MemoryStore>,
    pub(crate) engine: SyncEngine,
    /// Frames the engine sent while joining, for [`Side::sends`].
    joining: Vec<Vec<u8>>,
}

impl Side {
    /// Joins; its first events are `Joined` and `Store(Disabled)`.
    pub(crate) fn new(vault: Vault<MemoryStore>, me: PeerId, peers: &[PeerId], now: u64) -> Self {
        let engine = SyncEngine::new(&vault.sync_keys(), me, audience(), now).expect("engine");
        let mut side = Self {
            vault,
            engine,
            joining: Vec::new(),
        };
        let joined = Frame::Joined {
            peers: PeerList::try_from(peers.to_vec()).expect("peer list"),
        }
        .encode();
        side.handle(&joined, now);
        while let Some(frame) = side.engine.poll_transmit() {
            match Frame::decode(&frame).expect("valid frame") {
                Frame::Store(StoreFrame::List { request, .. }) => {
                    let done = StoreFrame::Done {
                        request,
                        error: Some(ErrorCode::StoreDisabled),
                    };
                    side.handle(&Frame::Store(done).encode(), now);
                }
                _ => side.joining.push(frame),
            }
        }
        side
    }

    pub(crate) fn handle(&mut self, frame: &[u8], now: u64) {
        self.engine
            .handle_frame(&mut self.vault, frame, now)
            .expect("engine handles the frame");
    }

    /// The envelopes the engine wants sent, with their recipients.
    pub(crate) fn sends(&mut self) -> Vec<(PeerId, Vec<u8>)> {
        let joining = std::mem::take(&mut self.joining);
        joining
            .into_iter()
            .chain(std::iter::from_fn(|| self.engine.poll_transmit()))
            .map(|frame| match Frame::decode(&frame).expect("valid frame") {
                Frame::Send { to, payload } => (to, payload.as_bytes().to_vec()),
                other => panic!("engine sent {other:?}"),
            })
            .collect()
    }

    pub(crate) fn events(&mut self) -> Vec<SyncEvent> {
        std::iter::from_fn(|| self.engine.poll_event()).collect()
    }

    /// Everything a test can observe of the replica.
    pub(crate) fn snapshot(&mut self) -> (Vec<(Namespace, Vec<String>)>, String) {
        let namespaces = self.vault.replicated_namespaces();
        let heads = namespaces
            .into_iter()
            .map(|n| {
                let h = self.vault.heads(&n).to_hex();
                (n, h)
            })
            .collect();
        let listing = self.vault.list(None);
        (
            heads,
            format!("{:?} {:?}", listing.responses, self.vault.conflicts()),
        )
    }
}

pub(crate) fn deliver(from: PeerId, envelope: &[u8]) -> Vec<u8> {
    Frame::Deliver {
        from,
        payload: Payload::try_from(envelope.to_vec()).expect("payload fits"),
    }
    .encode()
}
