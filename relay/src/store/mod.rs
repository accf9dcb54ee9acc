//! The rooms' blind store: per room, sealed blobs addressed by their SHA-256, numbered in the order
//! they were stored (PROTOCOL.md section 11).
//!
//! [`Store`] dispatches to one backend; every backend passes the same conformance suite
//! (`conformance.rs`). The store knows nothing of blob contents and checks neither a blob's hash
//! nor its length: the connection does that before calling [`Store::put`].

use std::{
    fmt, io,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use selfos_proto::{BlobId, ListEntry, RoomId};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::hub::{Hub, millis, now_ms};

#[cfg(test)]
mod conformance;
mod postgres;
mod sqlite;

/// Where the relay keeps rooms' blobs.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreConfig {
    /// No store: every store request is answered `StoreDisabled`.
    None,
    /// A SQLite database file (created, with its folder, if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server, as a `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            // The URL may hold a password.
            Self::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

/// A `--store` value that names no store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a store: use none, a file path, sqlite:PATH or postgres://...")]
pub struct UnknownStore(String);

impl FromStr for StoreConfig {
    type Err = UnknownStore;

    /// `none`, `sqlite:PATH`, `postgres://...`/`postgresql://...`, or a plain file path (SQLite).
    fn from_str(text: &str) -> Result<Self, UnknownStore> {
        if text.is_empty() {
            return Err(UnknownStore(text.into()));
        }
        if text == "none" {
            return Ok(Self::None);
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Self::Postgres(text.into()));
        }
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(UnknownStore(text.into()));
            }
            return Ok(Self::Sqlite(path.into()));
        }
        // Anything else with a scheme is a typo, not a file name.
        if text.contains("://") {
            return Err(UnknownStore(text.into()));
        }
        Ok(Self::Sqlite(text.into()))
    }
}

/// The open store.
#[derive(Debug)]
pub(crate) enum Store {
    /// `--store none`.
    None,
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

/// The bounds of one room's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreLimits {
    pub max_bytes: u64,
    pub max_blobs: u32,
    pub max_blob_len: u32,
}

/// What the whole store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StoreTotals {
    pub rooms: u64,
    pub blobs: u64,
    pub bytes: u64,
}

/// One page of a room's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// Random per creation of the room's store, never 0 (0: the room has no store).
    pub epoch: u64,
    /// The cursor for the next listing: the last entry's seq if `more`, else the room's newest.
    pub head: u64,
    pub more: bool,
    /// The room's usage.
    pub bytes: u64,
    pub blobs: u32,
    /// Time of the last successful put, ms since the Unix epoch (0: none).
    pub updated_ms: u64,
    /// Seq ascending, at most the `limit` asked for.
    pub entries: Vec<ListEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListOutcome {
    Page(Page),
    /// `since` is above the room's newest seq (or the room has no store and `since` is not 0).
    BadCursor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutOutcome {
    /// Stored durably with this seq (the room's new head).
    Stored { head: u64 },
    /// The room already holds the blob.
    Present,
    /// Storing it would pass the room's byte or blob quota; nothing changed.
    OverQuota,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub(crate) fn unavailable(e: impl fmt::Display) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// The `--store none` answer to a backend call that should not have been made.
fn disabled() -> StoreError {
    StoreError::Unavailable("the relay runs without a store".into())
}

impl Store {
    /// Opens the store `config` names, creating its schema (and, for SQLite, its folder).
    pub(crate) async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        match config {
            StoreConfig::None => Ok(Self::None),
            StoreConfig::Sqlite(path) => sqlite::SqliteStore::open(path).await.map(Self::Sqlite),
            StoreConfig::Postgres(url) => {
                postgres::PostgresStore::open(url).await.map(Self::Postgres)
            }
        }
    }

    /// The backend's name, for the logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Whether requests are served at all (`--store none` answers `StoreDisabled`).
    pub(crate) fn enabled(&self) -> bool {
        !matches!(self, Self::None)
    }

    pub(crate) async fn list(
        &self,
        room: &RoomId,
        since: u64,
        limit: usize,
        now_ms: u64,
    ) -> Result<ListOutcome, StoreError> {
        match self {
            Self::None => Err(disabled()),
            Self::Sqlite(s) => s.list(room, since, limit, now_ms).await,
            Self::Postgres(s) => s.list(room, since, limit, now_ms).await,
        }
    }

    pub(crate) async fn get(
        &self,
        room: &RoomId,
        id: &BlobId,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::None => Err(disabled()),
            Self::Sqlite(s) => s.get(room, id, now_ms).await,
            Self::Postgres(s) => s.get(room, id, now_ms).await,
        }
    }

    pub(crate) async fn put(
        &self,
        room: &RoomId,
        id: &BlobId,
        blob: Vec<u8>,
        limits: &StoreLimits,
        now_ms: u64,
    ) -> Result<PutOutcome, StoreError> {
        match self {
            Self::None => Err(disabled()),
            Self::Sqlite(s) => s.put(room, id, blob, limits, now_ms).await,
            Self::Postgres(s) => s.put(room, id, blob, limits, now_ms).await,
        }
    }

    pub(crate) async fn delete(
        &self,
        room: &RoomId,
        ids: &[BlobId],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        match self {
            Self::None => Err(disabled()),
            Self::Sqlite(s) => s.delete(room, ids, now_ms).await,
            Self::Postgres(s) => s.delete(room, ids, now_ms).await,
        }
    }

    /// Deletes every room (and its blobs) untouched since `untouched_before_ms`; returns how many.
    pub(crate) async fn expire(&self, untouched_before_ms: u64) -> Result<u64, StoreError> {
        match self {
            Self::None => Ok(0),
            Self::Sqlite(s) => s.expire(untouched_before_ms).await,
            Self::Postgres(s) => s.expire(untouched_before_ms).await,
        }
    }

    /// Runs until dropped: calls `changed(room, head)` whenever another relay process sharing
    /// this store stores a blob. Only a PostgreSQL store is shared; with the others this waits
    /// forever.
    pub(crate) async fn watch(&self, changed: impl FnMut(RoomId, u64)) {
        match self {
            Self::Postgres(s) => s.watch(changed).await,
            Self::None | Self::Sqlite(_) => std::future::pending().await,
        }
    }

    pub(crate) async fn totals(&self) -> Result<StoreTotals, StoreError> {
        match self {
            Self::None => Ok(StoreTotals::default()),
            Self::Sqlite(s) => s.totals().await,
            Self::Postgres(s) => s.totals().await,
        }
    }
}

/// How often the expiry sweep runs: a tenth of the expiry time, at most an hour (at least a second).
fn sweep_interval(expiry: Duration) -> Duration {
    (expiry / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// How often the store gauges of `/metrics` are refreshed from [`Store::totals`], so a scrape
/// never waits for the database.
const GAUGE_INTERVAL: Duration = Duration::from_secs(2);

/// The store's background work, until `stop` is cancelled: the expiry sweep and the gauges.
pub(crate) async fn background(hub: Arc<Hub>, stop: CancellationToken) {
    if !hub.store.enabled() {
        return;
    }
    tokio::select! {
        () = stop.cancelled() => {}
        () = sweep(&hub.store, hub.cfg.store_expiry) => {}
        () = refresh_gauges(&hub) => {}
        () = hub.store.watch(|room, head| {
            // Connection 0 is none: every listed connection of the room here is told.
            let evicted = hub.changed(room, 0, head);
            hub.log_evicted(room, &evicted);
        }) => {}
    }
}

/// Deletes rooms untouched for `expiry`, every [`sweep_interval`].
async fn sweep(store: &Store, expiry: Duration) {
    let mut ticks = tokio::time::interval(sweep_interval(expiry));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let before = now_ms().saturating_sub(millis(expiry));
        match store.expire(before).await {
            Ok(0) => {}
            Ok(rooms) => info!(rooms, "expired rooms' stores"),
            Err(e) => warn!(error = %e, "expiry sweep failed; trying again at the next one"),
        }
    }
}

async fn refresh_gauges(hub: &Hub) {
    let mut ticks = tokio::time::interval(GAUGE_INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match hub.store.totals().await {
            Ok(totals) => {
                let m = &hub.metrics;
                m.store_rooms.store(totals.rooms, Relaxed);
                m.store_blobs.store(totals.blobs, Relaxed);
                m.store_bytes.store(totals.bytes, Relaxed);
            }
            Err(e) => debug!(error = %e, "store totals unavailable"),
        }
    }
}

/// Creates `path`'s parent folder if missing, readable by the relay's user only where the system
/// has modes.
fn create_parent(path: &Path) -> io::Result<()> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    if parent.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(parent)
}

/// A random epoch, nonzero and below 2^63: both databases keep signed 64-bit integers.
fn fresh_epoch() -> Result<u64, getrandom::Error> {
    loop {
        let mut bytes = [0; 8];
        getrandom::fill(&mut bytes)?;
        let epoch = u64::from_be_bytes(bytes) >> 1;
        if epoch != 0 {
            return Ok(epoch);
        }
    }
}

/// A number for the database, whose integers are signed; every number the store keeps (seqs,
/// sizes, times, epochs) is below 2^63.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A number from the database (never negative, as [`int`] writes them).
fn nat(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
