//! [`Hub`]: what every connection of one server shares (settings, rooms, metrics).

use std::{
    fmt,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use selfos_proto::{PeerId, RoomId, handshake::Audience};
use tokio::sync::Semaphore;
use tracing::debug;

use crate::{
    config::RelayConfig,
    metrics::Metrics,
    outbox::QueueBudget,
    room::{Joined, Member, RoomFull, Rooms, Routed},
    store::{Store, StoreLimits},
};

/// Shared by all connections of one server.
#[derive(Debug)]
pub(crate) struct Hub {
    pub(crate) cfg: RelayConfig,
    /// The audience every challenge names.
    pub(crate) audience: Audience,
    pub(crate) metrics: Metrics,
    rooms: Mutex<Rooms>,
    next_conn: AtomicU64,
    pub(crate) store: Arc<Store>,
    /// Bytes of unfinished uploads, across connections: each upload holds its blob's total.
    pub(crate) upload_buffer: Arc<Semaphore>,
    /// Bytes waiting in outbound queues, across connections.
    pub(crate) queue_budget: Arc<QueueBudget>,
}

impl Hub {
    pub(crate) fn new(cfg: RelayConfig, audience: Audience, store: Arc<Store>) -> Self {
        // `check` bounds the buffer below the semaphore's limit.
        let buffer = usize::try_from(cfg.store_upload_buffer).unwrap_or(Semaphore::MAX_PERMITS);
        let metrics = Metrics::default();
        Self {
            store,
            upload_buffer: Arc::new(Semaphore::new(buffer.min(Semaphore::MAX_PERMITS))),
            queue_budget: QueueBudget::new(cfg.queue_budget, metrics.queued_bytes.clone()),
            rooms: Mutex::new(Rooms::new(cfg.max_room_peers)),
            cfg,
            audience,
            metrics,
            next_conn: AtomicU64::new(1),
        }
    }

    /// A number for a new connection, unique for this server.
    pub(crate) fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Relaxed)
    }

    /// The per-room bounds of the store.
    pub(crate) fn store_limits(&self) -> StoreLimits {
        StoreLimits {
            max_bytes: self.cfg.store_max_bytes,
            max_blobs: self.cfg.store_max_blobs,
            max_blob_len: self.cfg.store_max_blob_len,
        }
    }

    pub(crate) fn max_skew_ms(&self) -> u64 {
        millis(self.cfg.max_clock_skew)
    }

    fn rooms(&self) -> MutexGuard<'_, Rooms> {
        // `Rooms` keeps its invariants across every call (none panics midway), so a poisoned lock
        // still holds consistent rooms.
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn gauges(&self, rooms: &Rooms) {
        self.metrics.rooms.store(count(rooms.room_count()), Relaxed);
        self.metrics
            .joined_peers
            .store(count(rooms.peer_count()), Relaxed);
    }

    pub(crate) fn join(
        &self,
        room: RoomId,
        peer: PeerId,
        member: Member,
    ) -> Result<Joined, RoomFull> {
        let mut rooms = self.rooms();
        let joined = rooms.join(room, peer, member);
        self.gauges(&rooms);
        joined
    }

    pub(crate) fn leave(&self, room: RoomId, peer: PeerId, conn: u64) -> Option<Vec<PeerId>> {
        let mut rooms = self.rooms();
        let left = rooms.leave(room, peer, conn);
        self.gauges(&rooms);
        left
    }

    /// Logs the peers evicted as slow readers. Their ids go to debug level only; each evicted
    /// connection logs its own end (`SlowReader`) at info level, under its connection number.
    pub(crate) fn log_evicted(&self, room: RoomId, evicted: &[PeerId]) {
        for peer in evicted {
            debug!(room = %ShortRoom(room), %peer, queue_len = self.cfg.queue_len, "slow reader evicted");
        }
    }

    /// Tells the room's other listed connections that its store's head is now `head`.
    pub(crate) fn changed(&self, room: RoomId, from_conn: u64, head: u64) -> Vec<PeerId> {
        let mut rooms = self.rooms();
        let evicted = rooms.changed(room, from_conn, head);
        if !evicted.is_empty() {
            self.gauges(&rooms);
        }
        evicted
    }

    pub(crate) fn route(&self, room: RoomId, from: PeerId, to: PeerId, deliver: Bytes) -> Routed {
        let mut rooms = self.rooms();
        let routed = rooms.route(room, from, to, deliver);
        if matches!(routed, Routed::Evicted(_)) {
            self.gauges(&rooms);
        }
        routed
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(millis)
        .unwrap_or(0)
}

/// Whole milliseconds of `d`, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A room id shortened for logs: its first 8 hex digits.
pub(crate) struct ShortRoom(pub(crate) RoomId);

impl fmt::Display for ShortRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_bytes()[..4]
            .iter()
            .try_for_each(|b| write!(f, "{b:02x}"))
    }
}
