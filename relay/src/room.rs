//! The rooms: which connection is which peer of which room, and routing between them.
//!
//! [`Rooms`] is a plain value with no IO and no locking: the server keeps it behind a mutex and
//! calls it for every join, leave and forwarded frame. Each member is reached through its bounded
//! outbound queue; a member whose queue is full is evicted on the spot (its connection is told
//! through its kick channel and closes with `SlowReader`), so no frame is ever buffered beyond
//! the queue's bound and no sender waits for a slow reader.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
};

use bytes::Bytes;
use selfos_proto::{Frame, PeerId, PeerList, RoomId, StoreFrame};
use tokio::sync::{mpsc::error::TrySendError, oneshot};

use crate::outbox::Outbox;

/// Why a member was removed by someone else than its own connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kick {
    /// A newer connection joined the room with the same peer id.
    Replaced,
    /// The member's outbound queue was full.
    SlowReader,
}

/// One connection joined to a room.
#[derive(Debug)]
pub(crate) struct Member {
    /// The connection's number, so a replaced connection's late leave does not remove its
    /// successor.
    conn: u64,
    /// Encoded frames for the connection to write.
    outbox: Outbox,
    /// Tells the connection it was removed.
    kick: oneshot::Sender<Kick>,
    /// Set once the connection has listed the room's store: from then on it is told
    /// `StoreChanged` when another connection stores a blob.
    listed: Arc<AtomicBool>,
}

impl Member {
    pub(crate) fn new(
        conn: u64,
        outbox: Outbox,
        kick: oneshot::Sender<Kick>,
        listed: Arc<AtomicBool>,
    ) -> Self {
        Self {
            conn,
            outbox,
            kick,
            listed,
        }
    }
}

/// The room is at its peer limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomFull;

/// What a join did besides admitting the newcomer.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Joined {
    /// Whether an older connection with the same peer id was replaced.
    pub(crate) replaced: bool,
    /// Peers evicted because their queue was full when told about the newcomer.
    pub(crate) evicted: Vec<PeerId>,
}

/// What became of a forwarded frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Routed {
    /// Queued for the recipient.
    Delivered,
    /// No such peer in the room (or the sender itself): the frame is dropped.
    UnknownPeer,
    /// The recipient's queue was full: the frame is dropped and these peers (the recipient, and
    /// any peer whose queue was full when told it left) were evicted.
    Evicted(Vec<PeerId>),
}

/// Every room with at least one member.
#[derive(Debug)]
pub(crate) struct Rooms {
    by_id: HashMap<RoomId, HashMap<PeerId, Member>>,
    max_peers: usize,
    peers: usize,
}

impl Rooms {
    pub(crate) fn new(max_peers: usize) -> Self {
        Self {
            by_id: HashMap::new(),
            max_peers,
            peers: 0,
        }
    }

    /// Rooms with at least one member.
    pub(crate) fn room_count(&self) -> usize {
        self.by_id.len()
    }

    /// Members of all rooms.
    pub(crate) fn peer_count(&self) -> usize {
        self.peers
    }

    /// Admits `member` as `peer`: queues `Joined` (the other peers) for it first, tells the
    /// others `PeerJoined`, and replaces an older connection with the same peer id (which gets
    /// [`Kick::Replaced`]; the others see `PeerLeft` then `PeerJoined`).
    pub(crate) fn join(
        &mut self,
        room: RoomId,
        peer: PeerId,
        member: Member,
    ) -> Result<Joined, RoomFull> {
        let peers = self.by_id.entry(room).or_default();
        if !peers.contains_key(&peer) && peers.len() >= self.max_peers {
            if peers.is_empty() {
                self.by_id.remove(&room);
            }
            return Err(RoomFull);
        }
        let mut outcome = Joined::default();
        if let Some(old) = peers.remove(&peer) {
            self.peers -= 1;
            outcome.replaced = true;
            // The old connection may have ended already; then there is no one to tell.
            let _ = old.kick.send(Kick::Replaced);
            notify(peers, &Frame::PeerLeft(peer), &mut outcome.evicted);
        }
        let others: Vec<PeerId> = peers.keys().copied().collect();
        // `max_peers` is at most MAX_ROOM_PEERS, so the list fits; the fresh queue has room.
        if let Ok(list) = PeerList::try_from(others) {
            let _ = member
                .outbox
                .try_send(Bytes::from(Frame::Joined { peers: list }.encode()));
        }
        notify(peers, &Frame::PeerJoined(peer), &mut outcome.evicted);
        peers.insert(peer, member);
        self.peers = self.peers + 1 - outcome.evicted.len();
        Ok(outcome)
    }

    /// Removes `peer` if connection `conn` still holds it, and tells the others `PeerLeft`.
    /// Returns the peers evicted on the way, or `None` if `conn` was no longer a member (it was
    /// replaced or evicted).
    pub(crate) fn leave(&mut self, room: RoomId, peer: PeerId, conn: u64) -> Option<Vec<PeerId>> {
        let Entry::Occupied(mut entry) = self.by_id.entry(room) else {
            return None;
        };
        let peers = entry.get_mut();
        if peers.get(&peer).is_none_or(|m| m.conn != conn) {
            return None;
        }
        peers.remove(&peer);
        let mut evicted = Vec::new();
        notify(peers, &Frame::PeerLeft(peer), &mut evicted);
        self.peers -= 1 + evicted.len();
        if peers.is_empty() {
            entry.remove();
        }
        Some(evicted)
    }

    /// Queues `deliver` (an encoded `Deliver` frame) for peer `to` of `room`, sent by `from`.
    pub(crate) fn route(
        &mut self,
        room: RoomId,
        from: PeerId,
        to: PeerId,
        deliver: Bytes,
    ) -> Routed {
        if from == to {
            return Routed::UnknownPeer;
        }
        let Some(peers) = self.by_id.get_mut(&room) else {
            return Routed::UnknownPeer;
        };
        let Some(recipient) = peers.get(&to) else {
            return Routed::UnknownPeer;
        };
        match recipient.outbox.try_send(deliver) {
            Ok(()) => Routed::Delivered,
            // The recipient's connection is ending and will leave the room itself.
            Err(TrySendError::Closed(_)) => Routed::UnknownPeer,
            Err(TrySendError::Full(_)) => {
                let mut evicted = Vec::new();
                evict(peers, to, &mut evicted);
                self.peers -= evicted.len();
                if peers.is_empty() {
                    self.by_id.remove(&room);
                }
                Routed::Evicted(evicted)
            }
        }
    }

    /// Tells every member of `room` that has listed its store, except connection `from`, that the
    /// store's head is now `head`. Returns the peers evicted because their queue was full.
    pub(crate) fn changed(&mut self, room: RoomId, from: u64, head: u64) -> Vec<PeerId> {
        let mut evicted = Vec::new();
        let Some(peers) = self.by_id.get_mut(&room) else {
            return evicted;
        };
        let frame = Frame::Store(StoreFrame::Changed { head });
        notify_some(
            peers,
            &frame,
            |m| m.conn != from && m.listed.load(Relaxed),
            &mut evicted,
        );
        self.peers -= evicted.len();
        if peers.is_empty() {
            self.by_id.remove(&room);
        }
        evicted
    }
}

/// Queues `frame` for every member; members whose queue is full are evicted.
fn notify(peers: &mut HashMap<PeerId, Member>, frame: &Frame, evicted: &mut Vec<PeerId>) {
    notify_some(peers, frame, |_| true, evicted);
}

/// Queues `frame` for the members `to` picks; those whose queue is full are evicted.
fn notify_some(
    peers: &mut HashMap<PeerId, Member>,
    frame: &Frame,
    to: impl Fn(&Member) -> bool,
    evicted: &mut Vec<PeerId>,
) {
    let bytes = Bytes::from(frame.encode());
    let full: Vec<PeerId> = peers
        .iter()
        .filter(|(_, m)| to(m))
        .filter(|(_, m)| matches!(m.outbox.try_send(bytes.clone()), Err(TrySendError::Full(_))))
        .map(|(id, _)| *id)
        .collect();
    for id in full {
        evict(peers, id, evicted);
    }
}

/// Removes a slow reader, kicks it, and tells the rest it left (which may evict more: at most
/// every member once, since each eviction removes one).
fn evict(peers: &mut HashMap<PeerId, Member>, id: PeerId, evicted: &mut Vec<PeerId>) {
    if let Some(member) = peers.remove(&id) {
        let _ = member.kick.send(Kick::SlowReader);
        evicted.push(id);
        notify(peers, &Frame::PeerLeft(id), evicted);
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::outbox::{Inbox, QueueBudget};

    struct Conn {
        rx: Inbox,
        kicked: oneshot::Receiver<Kick>,
        listed: Arc<AtomicBool>,
    }

    impl Conn {
        fn frames(&mut self) -> Vec<Frame> {
            let mut out = Vec::new();
            while let Some(bytes) = self.rx.try_recv() {
                out.push(Frame::decode(&bytes).unwrap());
            }
            out
        }
    }

    fn member(conn: u64, queue: usize) -> (Member, Conn) {
        let budget = QueueBudget::new(u64::MAX, Arc::default());
        let (tx, rx) = crate::outbox::channel(queue, u64::MAX, budget);
        let (kick, kicked) = oneshot::channel();
        let listed = Arc::new(AtomicBool::new(false));
        (
            Member::new(conn, tx, kick, listed.clone()),
            Conn { rx, kicked, listed },
        )
    }

    fn room() -> RoomId {
        RoomId::try_from(SigningKey::from_bytes(&[9; 32]).verifying_key()).unwrap()
    }

    fn peer(n: u8) -> PeerId {
        PeerId::from_bytes([n; 16])
    }

    fn deliver(from: PeerId, body: &[u8]) -> Bytes {
        let payload = body.to_vec().try_into().unwrap();
        Bytes::from(Frame::Deliver { from, payload }.encode())
    }

    #[test]
    fn join_route_leave() {
        let mut rooms = Rooms::new(8);
        let (a, mut ca) = member(1, 8);
        let (b, mut cb) = member(2, 8);
        rooms.join(room(), peer(1), a).unwrap();
        rooms.join(room(), peer(2), b).unwrap();
        assert_eq!((rooms.room_count(), rooms.peer_count()), (1, 2));
        assert_eq!(
            ca.frames(),
            [
                Frame::Joined {
                    peers: vec![].try_into().unwrap()
                },
                Frame::PeerJoined(peer(2))
            ]
        );
        assert_eq!(
            cb.frames(),
            [Frame::Joined {
                peers: vec![peer(1)].try_into().unwrap()
            }]
        );

        let frame = deliver(peer(1), b"x");
        assert_eq!(
            rooms.route(room(), peer(1), peer(2), frame.clone()),
            Routed::Delivered
        );
        assert_eq!(
            rooms.route(room(), peer(1), peer(1), frame.clone()),
            Routed::UnknownPeer
        );
        assert_eq!(
            rooms.route(room(), peer(1), peer(3), frame.clone()),
            Routed::UnknownPeer
        );
        assert_eq!(cb.frames(), [Frame::decode(&frame).unwrap()]);

        assert_eq!(rooms.leave(room(), peer(2), 2), Some(vec![]));
        assert_eq!(ca.frames(), [Frame::PeerLeft(peer(2))]);
        assert_eq!(rooms.leave(room(), peer(1), 1), Some(vec![]));
        assert_eq!((rooms.room_count(), rooms.peer_count()), (0, 0));
    }

    #[test]
    fn room_full_and_duplicate_peer() {
        let mut rooms = Rooms::new(2);
        let (a, mut ca) = member(1, 8);
        let (b, mut cb) = member(2, 8);
        let (c, _cc) = member(3, 8);
        rooms.join(room(), peer(1), a).unwrap();
        rooms.join(room(), peer(2), b).unwrap();
        assert_eq!(rooms.join(room(), peer(3), c).unwrap_err(), RoomFull);
        ca.frames();

        // Peer 2 reconnects: the old connection is kicked, peer 1 sees it leave and rejoin.
        let (b2, mut cb2) = member(4, 8);
        let joined = rooms.join(room(), peer(2), b2).unwrap();
        assert!(joined.replaced);
        assert_eq!(cb.kicked.try_recv().unwrap(), Kick::Replaced);
        assert_eq!(
            ca.frames(),
            [Frame::PeerLeft(peer(2)), Frame::PeerJoined(peer(2))]
        );
        assert_eq!(
            cb2.frames(),
            [Frame::Joined {
                peers: vec![peer(1)].try_into().unwrap()
            }]
        );
        // The replaced connection's late leave changes nothing.
        assert_eq!(rooms.leave(room(), peer(2), 2), None);
        assert_eq!(rooms.peer_count(), 2);
    }

    #[test]
    fn full_queue_evicts_the_reader_not_the_sender() {
        let mut rooms = Rooms::new(8);
        let (a, mut ca) = member(1, 64);
        let (b, mut cb) = member(2, 2);
        rooms.join(room(), peer(1), a).unwrap();
        rooms.join(room(), peer(2), b).unwrap();
        // b's queue holds `Joined`; one more frame fills it.
        let frame = deliver(peer(1), b"x");
        assert_eq!(
            rooms.route(room(), peer(1), peer(2), frame.clone()),
            Routed::Delivered
        );
        assert_eq!(
            rooms.route(room(), peer(1), peer(2), frame.clone()),
            Routed::Evicted(vec![peer(2)])
        );
        assert_eq!(cb.kicked.try_recv().unwrap(), Kick::SlowReader);
        assert_eq!(ca.frames().last(), Some(&Frame::PeerLeft(peer(2))));
        assert_eq!(rooms.peer_count(), 1);
        assert_eq!(
            rooms.route(room(), peer(1), peer(2), frame),
            Routed::UnknownPeer
        );
    }

    #[test]
    fn store_changes_reach_the_other_listed_members_only() {
        let mut rooms = Rooms::new(8);
        let (a, mut ca) = member(1, 8);
        let (b, mut cb) = member(2, 8);
        let (c, mut cc) = member(3, 8);
        rooms.join(room(), peer(1), a).unwrap();
        rooms.join(room(), peer(2), b).unwrap();
        rooms.join(room(), peer(3), c).unwrap();
        for conn in [&mut ca, &mut cb, &mut cc] {
            conn.frames();
        }
        ca.listed.store(true, Relaxed);
        cb.listed.store(true, Relaxed);
        // Connection 1 stored a blob: 2 listed and hears of it; 1 itself and 3 (never listed)
        // do not.
        assert_eq!(rooms.changed(room(), 1, 7), vec![]);
        assert_eq!(cb.frames(), [Frame::Store(StoreFrame::Changed { head: 7 })]);
        assert_eq!(ca.frames(), []);
        assert_eq!(cc.frames(), []);
    }
}
