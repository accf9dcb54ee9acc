//! The relay's part of the protocol, in memory: what `selfos-relay` does for the engines
//! (challenge, join, peer notices, forwarding, and with [`Relay::with_store`] the room's store),
//! without sockets, tasks or a clock.

use std::collections::{BTreeMap, VecDeque};

use selfos_proto::{
    ErrorCode, Frame, Nonce, PeerId, PeerList, RoomId, StoreFrame,
    handshake::{Audience, Challenge, verify_join},
};

use super::store::{BlobStore, StoreLimits, Upload};

/// How long a challenge stays valid, as `selfos-relay`'s default.
const CHALLENGE_TTL_MS: u64 = 30_000;

/// A connection to the [`Relay`], named by whoever carries its frames (the [`Network`] uses the
/// device's index).
///
/// [`Network`]: super::Network
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub usize);

#[derive(Debug)]
struct Connection {
    challenge: Challenge,
    joined: Option<(RoomId, PeerId)>,
    upload: Option<Upload>,
    /// Whether it listed the store, so hears when a blob arrives.
    listed: bool,
}

/// A relay in memory, sans-IO like the engine: frames from the connections in, frames for them
/// out.
///
/// It follows `selfos-relay`: every connection gets a challenge, a valid join admits it to its
/// vault's room and tells it who is there, the others hear that it joined and, when it goes, that
/// it left, and `Send` frames reach their recipient as `Deliver`. A refused join closes the
/// connection without a word (the real relay sends an `Error` frame first). Made with
/// [`Relay::new`] it keeps no store (store requests get `StoreDisabled`); with
/// [`Relay::with_store`] it keeps each room's blobs as `selfos-relay` does. A [`Relay::restart`]
/// is what a crash of the relay process does: every connection is gone, the store stays.
///
/// It is the relay inside [`Network`]; use it on its own to drive engines over a transport of
/// your own in a test or an example, as `examples/own_transport.rs` does.
///
/// ```
/// use selfos_proto::{Frame, Nonce, handshake::Audience};
/// use selfos_sync::testing::{ConnectionId, Relay};
///
/// let mut relay = Relay::new("ws://relay.test".parse::<Audience>()?);
/// // The nonce comes from the caller (a real relay draws it from its CSPRNG).
/// relay.connect(ConnectionId(0), 1_800_000_000_000, Nonce::from_bytes([7; 32]));
/// let (to, frame) = relay.poll_transmit().ok_or("a challenge")?;
/// assert_eq!(to, ConnectionId(0));
/// assert!(matches!(Frame::decode(&frame)?, Frame::Challenge(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Network`]: super::Network
#[derive(Debug)]
pub struct Relay {
    audience: Audience,
    connections: BTreeMap<ConnectionId, Connection>,
    outgoing: VecDeque<(ConnectionId, Vec<u8>)>,
    store: Option<BlobStore>,
}

impl Relay {
    /// A relay that names itself `audience` (engines sign joins for that name) and keeps no
    /// store.
    pub fn new(audience: Audience) -> Self {
        Self {
            audience,
            connections: BTreeMap::new(),
            outgoing: VecDeque::new(),
            store: None,
        }
    }

    /// A relay that keeps each room's blobs within `limits`, as `selfos-relay` does by default.
    pub fn with_store(audience: Audience, limits: StoreLimits) -> Self {
        Self {
            store: Some(BlobStore::new(limits)),
            ..Self::new(audience)
        }
    }

    /// Takes the store's database down (every store request is answered `StoreUnavailable`,
    /// nothing changes) or brings it back.
    pub fn set_store_down(&mut self, down: bool) {
        if let Some(store) = self.store.as_mut() {
            store.down = down;
        }
    }

    /// The blobs the store holds for `room`, as a database would hand them over.
    pub fn stored(&self, room: &RoomId) -> Vec<Vec<u8>> {
        self.store
            .as_ref()
            .map(|s| s.blobs(room))
            .unwrap_or_default()
    }

    /// The name engines must sign their joins for.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// A new connection: the relay sends it a challenge built from `nonce`, valid for 30 s from
    /// `now_ms`. A connection that already exists starts over.
    pub fn connect(&mut self, conn: ConnectionId, now_ms: u64, nonce: Nonce) {
        self.disconnect(conn);
        let challenge = Challenge::new(self.audience.clone(), now_ms, nonce);
        self.outgoing
            .push_back((conn, Frame::Challenge(challenge.clone()).encode()));
        self.connections.insert(
            conn,
            Connection {
                challenge,
                joined: None,
                upload: None,
                listed: false,
            },
        );
    }

    /// Whether `conn` is open (connected and not refused).
    pub fn is_connected(&self, conn: ConnectionId) -> bool {
        self.connections.contains_key(&conn)
    }

    /// The open connections.
    pub fn connections(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        self.connections.keys().copied()
    }

    /// The connection closed: the other peers of its room hear that it left.
    pub fn disconnect(&mut self, conn: ConnectionId) {
        let Some(Connection {
            joined: Some((room, peer)),
            ..
        }) = self.connections.remove(&conn)
        else {
            return;
        };
        for (other, c) in &self.connections {
            if c.joined.is_some_and(|(r, _)| r == room) {
                self.outgoing
                    .push_back((*other, Frame::PeerLeft(peer).encode()));
            }
        }
    }

    /// The relay process dies and comes back: every connection is gone, silently, and so is
    /// every frame it had yet to send (the store, a database, stays). Engines must reconnect.
    pub fn restart(&mut self) {
        self.connections.clear();
        self.outgoing.clear();
    }

    /// Handles one frame that arrived on `conn` at `now_ms`. Frames on unknown connections,
    /// frames that do not decode and frames out of place are ignored.
    pub fn receive(&mut self, conn: ConnectionId, frame: &[u8], now_ms: u64) {
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        match (Frame::decode(frame), connection.joined) {
            (Ok(Frame::Join(join)), None) => {
                let Ok((room, peer)) = verify_join(
                    &connection.challenge,
                    &join,
                    &self.audience,
                    now_ms,
                    CHALLENGE_TTL_MS,
                ) else {
                    // Refused: the connection is closed and nothing reaches the room.
                    self.connections.remove(&conn);
                    return;
                };
                let mut peers = Vec::new();
                for (other, c) in &self.connections {
                    if let Some((r, p)) = c.joined
                        && r == room
                    {
                        peers.push(p);
                        self.outgoing
                            .push_back((*other, Frame::PeerJoined(peer).encode()));
                    }
                }
                if let Some(connection) = self.connections.get_mut(&conn) {
                    connection.joined = Some((room, peer));
                }
                let peers = PeerList::try_from(peers).unwrap_or_default();
                self.outgoing
                    .push_back((conn, Frame::Joined { peers }.encode()));
            }
            (Ok(Frame::Send { to, payload }), Some((room, from))) => {
                let target = self
                    .connections
                    .iter()
                    .find(|(_, c)| c.joined == Some((room, to)))
                    .map(|(c, _)| *c);
                if let Some(target) = target {
                    self.outgoing
                        .push_back((target, Frame::Deliver { from, payload }.encode()));
                }
            }
            (Ok(Frame::Ping(n)), _) => self.outgoing.push_back((conn, Frame::Pong(n).encode())),
            (Ok(Frame::Store(frame)), Some((room, _))) => self.store(conn, room, frame, now_ms),
            _ => {}
        }
    }

    fn store(&mut self, conn: ConnectionId, room: RoomId, frame: StoreFrame, now_ms: u64) {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return;
        };
        connection.listed |= matches!(frame, StoreFrame::List { .. });
        let Some(store) = self.store.as_mut() else {
            // As `selfos-relay` does, an upload is refused at its first part.
            let later_part = matches!(&frame, StoreFrame::Put(part) if part.offset() != 0);
            if let Some(request) = frame.client_request().filter(|_| !later_part) {
                let done = StoreFrame::Done {
                    request,
                    error: Some(ErrorCode::StoreDisabled),
                };
                self.outgoing.push_back((conn, Frame::Store(done).encode()));
            }
            return;
        };
        let answer = store.handle(room, frame, &mut connection.upload, now_ms);
        for frame in answer.frames {
            self.outgoing
                .push_back((conn, Frame::Store(frame).encode()));
        }
        if let Some(head) = answer.changed {
            for (other, c) in &self.connections {
                if *other != conn && c.listed && c.joined.is_some_and(|(r, _)| r == room) {
                    let changed = StoreFrame::Changed { head };
                    self.outgoing
                        .push_back((*other, Frame::Store(changed).encode()));
                }
            }
        }
    }

    /// The next frame to send, and the connection it goes to.
    pub fn poll_transmit(&mut self) -> Option<(ConnectionId, Vec<u8>)> {
        self.outgoing.pop_front()
    }
}
