//! [`PostgresStore`]: the store in a PostgreSQL database, which several relay processes may
//! share.
//!
//! Every call borrows a connection from a pool (deadpool-postgres). A connection the server
//! closed (a restart, a network cut) is dropped when it comes back to the pool, and the pool
//! opens new ones on demand: once the database is back, calls succeed again without a restart of
//! the relay. While it is down, every call fails fast with [`StoreError::Unavailable`] (the
//! connection attempt is refused or times out).
//!
//! Writers of one room are serialised by a lock on its `rooms` row (`INSERT … ON CONFLICT DO
//! UPDATE` takes it), so seqs and quotas are right across processes. Connections use no TLS
//! (`NoTls`): the database is the operator's own, reached over a trusted network or a Unix
//! socket, and it only ever sees sealed blobs.

use std::{future::poll_fn, pin::pin, time::Duration};

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use selfos_proto::{BlobId, ListEntry, RoomId};
use tokio_postgres::{AsyncMessage, Config, NoTls, Row};
use tracing::warn;

use super::{
    ListOutcome, Page, PutOutcome, StoreError, StoreLimits, StoreTotals, fresh_epoch, int, nat,
};

/// The schema this relay writes; a database with a newer one is refused.
const SCHEMA_VERSION: i32 = 1;

/// A read bumps `touched_ms` only when the last touch is older than this, so reads rarely write.
const TOUCH_EVERY_MS: u64 = 3_600_000;

/// Connections per relay process: each store call holds one for its few statements.
const POOL_SIZE: usize = 16;

/// How long a call waits for a free connection, for a new one to be made, or for a pooled one to
/// be checked; past it, the call fails with [`StoreError::Unavailable`].
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The channel on which a put announces a room's new head to the other relay processes sharing
/// the database (`NOTIFY`; its payload: the sending process's instance, the room id and the head,
/// which stay inside the operator's database).
const CHANGED_CHANNEL: &str = "selfos_store_changed";

/// How long [`PostgresStore::watch`] waits before listening again after its connection broke.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// The key of the advisory lock that serialises schema creation by relays starting at once
/// (`CREATE TABLE IF NOT EXISTS` is not safe against itself running concurrently). Any fixed
/// number works; this one is "selfos" in ASCII.
const SCHEMA_LOCK: i64 = 0x0000_7365_6c66_6f73;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS rooms (
        room BYTEA PRIMARY KEY CHECK (length(room) = 32),
        epoch BIGINT NOT NULL CHECK (epoch <> 0),
        head BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        blobs BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        touched_ms BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rooms_touched ON rooms (touched_ms);
    CREATE TABLE IF NOT EXISTS blobs (
        room BYTEA NOT NULL REFERENCES rooms (room) ON DELETE CASCADE,
        id BYTEA NOT NULL CHECK (length(id) = 32),
        seq BIGINT NOT NULL,
        size BIGINT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (room, id),
        UNIQUE (room, seq)
    );
    -- Sealed blobs do not compress: store them out of line without trying.
    ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;
";

/// The store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub(crate) struct PostgresStore {
    pool: Pool,
    /// For the connection that listens for other processes' puts (not pooled: it stays open).
    /// Boxed: it is large, and the store is one variant of [`super::Store`].
    config: Box<Config>,
    /// Random per open: tells this process's own notifications from other processes'.
    instance: u64,
}

impl PostgresStore {
    /// Connects to the database `url` names (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, or any
    /// form tokio-postgres accepts) and creates the schema if missing.
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        // The URL may hold a password: errors never quote it.
        let mut config: Config = url.parse().map_err(|e| {
            StoreError::Unavailable(format!("the PostgreSQL URL is not valid: {e}"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("selfos-relay");
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                // A connection the server closed is dropped on its way back to the pool.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(StoreError::unavailable)?;
        let instance = fresh_epoch().map_err(StoreError::unavailable)?;
        let store = Self {
            pool,
            config: Box::new(config),
            instance,
        };
        store.create_schema().await?;
        Ok(store)
    }

    async fn create_schema(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(unavailable)?;
        tx.batch_execute(SCHEMA).await.map_err(unavailable)?;
        let found: Option<i32> = tx
            .query_one("SELECT max(version) FROM schema_version", &[])
            .await
            .and_then(|row| row.try_get(0))
            .map_err(unavailable)?;
        match found {
            None => {
                tx.execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[&SCHEMA_VERSION],
                )
                .await
                .map_err(unavailable)?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError::Unavailable(format!(
                    "the PostgreSQL database has store schema version {v}, newer than this \
                     relay's {SCHEMA_VERSION}: run a newer relay"
                )));
            }
            Some(_) => {}
        }
        tx.commit().await.map_err(unavailable)
    }

    /// A pooled connection: a live one, or a new one if none is idle.
    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(no_connection)
    }

    pub(crate) async fn list(
        &self,
        room: &RoomId,
        since: u64,
        limit: usize,
        now_ms: u64,
    ) -> Result<ListOutcome, StoreError> {
        let client = self.client().await?;
        let room_key = room.as_bytes().as_slice();
        let stmt = client
            .prepare_cached(
                "SELECT epoch, head, bytes, blobs, updated_ms, touched_ms FROM rooms
                 WHERE room = $1",
            )
            .await
            .map_err(unavailable)?;
        let Some(row) = client
            .query_opt(&stmt, &[&room_key])
            .await
            .map_err(unavailable)?
        else {
            return Ok(if since == 0 {
                ListOutcome::Page(Page {
                    epoch: 0,
                    head: 0,
                    more: false,
                    bytes: 0,
                    blobs: 0,
                    updated_ms: 0,
                    entries: Vec::new(),
                })
            } else {
                ListOutcome::BadCursor
            });
        };
        let room_row = RoomRow::from_row(&row).map_err(unavailable)?;
        if since > room_row.head {
            return Ok(ListOutcome::BadCursor);
        }
        // Seqs up to the head read above only: a put committed since then is listed next time,
        // so the page never runs past the head it reports. (A room's blobs and its head commit
        // together, so every seq up to that head is visible now.)
        let stmt = client
            .prepare_cached(
                "SELECT seq, id, size FROM blobs WHERE room = $1 AND seq > $2 AND seq <= $3
                 ORDER BY seq LIMIT $4",
            )
            .await
            .map_err(unavailable)?;
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let rows = client
            .query(
                &stmt,
                &[&room_key, &int(since), &int(room_row.head), &fetch],
            )
            .await
            .map_err(unavailable)?;
        let more = rows.len() > limit;
        let entries = rows
            .iter()
            .take(limit)
            .map(list_entry)
            .collect::<Result<Vec<_>, _>>()
            .map_err(unavailable)?;
        touch(&client, room, room_row.touched_ms, now_ms).await?;
        let head = match entries.last() {
            Some(last) if more => last.seq,
            _ => room_row.head,
        };
        Ok(ListOutcome::Page(Page {
            epoch: room_row.epoch,
            head,
            more,
            bytes: room_row.bytes,
            blobs: room_row.blobs,
            updated_ms: room_row.updated_ms,
            entries,
        }))
    }

    pub(crate) async fn get(
        &self,
        room: &RoomId,
        id: &BlobId,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT rooms.touched_ms, blobs.data FROM rooms
                 LEFT JOIN blobs ON blobs.room = rooms.room AND blobs.id = $2
                 WHERE rooms.room = $1",
            )
            .await
            .map_err(unavailable)?;
        let Some(row) = client
            .query_opt(
                &stmt,
                &[&room.as_bytes().as_slice(), &id.as_bytes().as_slice()],
            )
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let touched_ms: i64 = row.try_get(0).map_err(unavailable)?;
        let data: Option<Vec<u8>> = row.try_get(1).map_err(unavailable)?;
        touch(&client, room, nat(touched_ms), now_ms).await?;
        Ok(data)
    }

    pub(crate) async fn put(
        &self,
        room: &RoomId,
        id: &BlobId,
        blob: Vec<u8>,
        limits: &StoreLimits,
        now_ms: u64,
    ) -> Result<PutOutcome, StoreError> {
        let epoch = fresh_epoch().map_err(StoreError::unavailable)?;
        let room_key = room.as_bytes().as_slice();
        let id_key = id.as_bytes().as_slice();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        // Creates the room row or locks the existing one, in one statement: the lock is held
        // until commit, so writers of one room (in any relay process) take turns, and the head
        // and usage read here are the latest.
        let stmt = tx
            .prepare_cached(
                "INSERT INTO rooms (room, epoch, head, bytes, blobs, updated_ms, touched_ms)
                 VALUES ($1, $2, 0, 0, 0, 0, $3)
                 ON CONFLICT (room) DO UPDATE SET touched_ms = rooms.touched_ms
                 RETURNING head, bytes, blobs",
            )
            .await
            .map_err(unavailable)?;
        let row = tx
            .query_one(&stmt, &[&room_key, &int(epoch), &int(now_ms)])
            .await
            .map_err(unavailable)?;
        let (head, bytes, blobs) = (nat(get(&row, 0)?), nat(get(&row, 1)?), nat(get(&row, 2)?));
        let present = tx
            .query_opt(
                "SELECT 1 FROM blobs WHERE room = $1 AND id = $2",
                &[&room_key, &id_key],
            )
            .await
            .map_err(unavailable)?
            .is_some();
        if present {
            tx.execute(
                "UPDATE rooms SET touched_ms = greatest(touched_ms, $2) WHERE room = $1",
                &[&room_key, &int(now_ms)],
            )
            .await
            .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            return Ok(PutOutcome::Present);
        }
        let size = u64::try_from(blob.len()).unwrap_or(u64::MAX);
        if bytes.saturating_add(size) > limits.max_bytes
            || blobs.saturating_add(1) > u64::from(limits.max_blobs)
        {
            // Dropping the transaction rolls it back, with a room row created just now.
            return Ok(PutOutcome::OverQuota);
        }
        let head = head + 1;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO blobs (room, id, seq, size, data) VALUES ($1, $2, $3, $4, $5)",
            )
            .await
            .map_err(unavailable)?;
        tx.execute(&stmt, &[&room_key, &id_key, &int(head), &int(size), &blob])
            .await
            .map_err(unavailable)?;
        let stmt = tx
            .prepare_cached(
                "UPDATE rooms SET head = $2, bytes = bytes + $3, blobs = blobs + 1,
                 updated_ms = $4, touched_ms = $4 WHERE room = $1",
            )
            .await
            .map_err(unavailable)?;
        tx.execute(&stmt, &[&room_key, &int(head), &int(size), &int(now_ms)])
            .await
            .map_err(unavailable)?;
        // Delivered to the listeners (other relay processes) only if this commits.
        let payload = format!("{:016x} {room} {head}", self.instance);
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANGED_CHANNEL, &payload])
            .await
            .map_err(unavailable)?;
        // With PostgreSQL's default `synchronous_commit = on`, the commit returns once the WAL
        // is flushed: a `Stored` answer survives a crash of the database.
        tx.commit().await.map_err(unavailable)?;
        Ok(PutOutcome::Stored { head })
    }

    pub(crate) async fn delete(
        &self,
        room: &RoomId,
        ids: &[BlobId],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let room_key = room.as_bytes().as_slice();
        let ids: Vec<&[u8]> = ids.iter().map(|id| id.as_bytes().as_slice()).collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        // The room row's lock first, as `put` takes it: usage stays the sum of the blobs.
        let locked = tx
            .query_opt(
                "SELECT 1 FROM rooms WHERE room = $1 FOR UPDATE",
                &[&room_key],
            )
            .await
            .map_err(unavailable)?;
        if locked.is_none() {
            return Ok(());
        }
        tx.execute(
            "WITH gone AS (DELETE FROM blobs WHERE room = $1 AND id = ANY($2) RETURNING size)
             UPDATE rooms SET bytes = bytes - (SELECT coalesce(sum(size), 0) FROM gone),
                              blobs = blobs - (SELECT count(*) FROM gone),
                              touched_ms = greatest(touched_ms, $3)
             WHERE room = $1",
            &[&room_key, &ids, &int(now_ms)],
        )
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    pub(crate) async fn expire(&self, untouched_before_ms: u64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        // Blobs go with their room (ON DELETE CASCADE). A put in progress holds the room's
        // row lock; this waits for it and then sees the fresh `touched_ms`, so it keeps the room.
        let rooms = client
            .execute(
                "DELETE FROM rooms WHERE touched_ms < $1",
                &[&int(untouched_before_ms)],
            )
            .await
            .map_err(unavailable)?;
        Ok(rooms)
    }

    pub(crate) async fn totals(&self) -> Result<StoreTotals, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT count(*), coalesce(sum(blobs), 0)::BIGINT, coalesce(sum(bytes), 0)::BIGINT
                 FROM rooms",
                &[],
            )
            .await
            .map_err(unavailable)?;
        Ok(StoreTotals {
            rooms: nat(get(&row, 0)?),
            blobs: nat(get(&row, 1)?),
            bytes: nat(get(&row, 2)?),
        })
    }
}

impl PostgresStore {
    /// Runs until dropped: calls `changed(room, head)` for every blob another relay process
    /// sharing this database stores. While the database is unreachable it tries again every
    /// [`RELISTEN_AFTER`]; puts made meanwhile are not announced (clients still find them at
    /// their next listing).
    pub(crate) async fn watch(&self, mut changed: impl FnMut(RoomId, u64)) {
        loop {
            let Err(e) = self.listen(&mut changed).await;
            warn!(error = %e, "not hearing other relay processes' store changes; listening again");
            tokio::time::sleep(RELISTEN_AFTER).await;
        }
    }

    /// Listens on [`CHANGED_CHANNEL`] until the connection breaks.
    async fn listen(
        &self,
        changed: &mut impl FnMut(RoomId, u64),
    ) -> Result<std::convert::Infallible, StoreError> {
        let (client, mut connection) = self.config.connect(NoTls).await.map_err(unavailable)?;
        let listen_sql = format!("LISTEN {CHANGED_CHANNEL}");
        let mut listening = pin!(client.batch_execute(&listen_sql));
        // The connection does its work only while polled: poll it while LISTEN runs.
        loop {
            tokio::select! {
                done = &mut listening => {
                    done.map_err(unavailable)?;
                    break;
                }
                message = poll_fn(|cx| connection.poll_message(cx)) => {
                    closed_or_failed(message)?;
                }
            }
        }
        loop {
            let message = poll_fn(|cx| connection.poll_message(cx)).await;
            if let Some(Ok(AsyncMessage::Notification(note))) = &message
                && let Some((room, head)) = self.parse_change(note.payload())
            {
                changed(room, head);
            }
            closed_or_failed(message)?;
        }
    }

    /// The room and head of another process's notification; `None` for this process's own (its
    /// connections were told already) and for a payload this relay did not write.
    fn parse_change(&self, payload: &str) -> Option<(RoomId, u64)> {
        let mut fields = payload.split(' ');
        let instance = u64::from_str_radix(fields.next()?, 16).ok()?;
        let room = fields.next()?.parse().ok()?;
        let head = fields.next()?.parse().ok()?;
        (instance != self.instance && fields.next().is_none()).then_some((room, head))
    }
}

/// The end of a listening connection as an error; anything else it says is ignored.
fn closed_or_failed(
    message: Option<Result<AsyncMessage, tokio_postgres::Error>>,
) -> Result<(), StoreError> {
    match message {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(unavailable(e)),
        None => Err(StoreError::Unavailable(
            "the server closed the connection".into(),
        )),
    }
}

/// A room's row, as `list` reads it.
struct RoomRow {
    epoch: u64,
    head: u64,
    bytes: u64,
    blobs: u32,
    updated_ms: u64,
    touched_ms: u64,
}

impl RoomRow {
    fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            epoch: nat(row.try_get(0)?),
            head: nat(row.try_get(1)?),
            bytes: nat(row.try_get(2)?),
            blobs: u32::try_from(row.try_get::<_, i64>(3)?).unwrap_or(u32::MAX),
            updated_ms: nat(row.try_get(4)?),
            touched_ms: nat(row.try_get(5)?),
        })
    }
}

fn list_entry(row: &Row) -> Result<ListEntry, tokio_postgres::Error> {
    let id: &[u8] = row.try_get(1)?;
    // The schema holds only 32-byte ids (a CHECK constraint).
    let id = <[u8; BlobId::LEN]>::try_from(id).unwrap_or([0; BlobId::LEN]);
    Ok(ListEntry {
        seq: nat(row.try_get(0)?),
        id: BlobId::from_bytes(id),
        size: u32::try_from(row.try_get::<_, i64>(2)?).unwrap_or(u32::MAX),
    })
}

/// Column `idx` of `row` as a BIGINT.
fn get(row: &Row, idx: usize) -> Result<i64, StoreError> {
    row.try_get(idx).map_err(unavailable)
}

/// Records a read, unless the room was touched within the last [`TOUCH_EVERY_MS`].
async fn touch(
    client: &Object,
    room: &RoomId,
    touched_ms: u64,
    now_ms: u64,
) -> Result<(), StoreError> {
    if now_ms.saturating_sub(touched_ms) < TOUCH_EVERY_MS {
        return Ok(());
    }
    client
        .execute(
            "UPDATE rooms SET touched_ms = greatest(touched_ms, $2) WHERE room = $1",
            &[&room.as_bytes().as_slice(), &int(now_ms)],
        )
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Every PostgreSQL failure (refused connection, closed connection, failed statement) leaves the
/// store unavailable for that call; the next call tries again. The message names the cause
/// (tokio-postgres keeps it apart: "db error" alone says nothing).
fn unavailable(e: tokio_postgres::Error) -> StoreError {
    match std::error::Error::source(&e) {
        Some(cause) => StoreError::Unavailable(format!("{e}: {cause}")),
        None => StoreError::unavailable(e),
    }
}

/// No connection: none free within [`POOL_TIMEOUT`], or a new one failed.
fn no_connection(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => unavailable(e),
        e => StoreError::unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ed25519_dalek::SigningKey;
    use selfos_testkit::Postgres;
    use sha2::{Digest, Sha256};

    use super::{super::conformance::conformance, *};
    use crate::store::{Store, StoreConfig};

    const LIMITS: StoreLimits = StoreLimits {
        max_bytes: 1 << 30,
        max_blobs: 100_000,
        max_blob_len: 1 << 20,
    };
    const NOW: u64 = 1_800_000_000_000;

    fn room(n: u8) -> RoomId {
        RoomId::try_from(SigningKey::from_bytes(&[n; 32]).verifying_key()).unwrap()
    }

    /// A blob of `len` bytes that differs for every `n`, with its id.
    fn blob(n: u32, len: usize) -> (BlobId, Vec<u8>) {
        let mut bytes = n.to_be_bytes().repeat(len.div_ceil(4));
        bytes.truncate(len.max(4));
        let id = BlobId::from_bytes(Sha256::digest(&bytes).into());
        (id, bytes)
    }

    async fn open(pg: &Postgres) -> Store {
        Store::open(&StoreConfig::Postgres(pg.url())).await.unwrap()
    }

    fn page(outcome: ListOutcome) -> Page {
        match outcome {
            ListOutcome::Page(page) => page,
            ListOutcome::BadCursor => panic!("unexpected BadCursor"),
        }
    }

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        let pg = Postgres::start();
        conformance(&open(&pg).await).await;
    }

    #[tokio::test]
    async fn fails_with_unavailable_while_the_database_is_down_and_recovers_without_loss() {
        let mut pg = Postgres::start();
        let store = open(&pg).await;
        let room = room(1);
        let blobs: Vec<_> = (0..3).map(|n| blob(n, 100)).collect();
        for (n, (id, bytes)) in blobs.iter().enumerate() {
            let outcome = store
                .put(&room, id, bytes.clone(), &LIMITS, NOW)
                .await
                .unwrap();
            assert_eq!(outcome, PutOutcome::Stored { head: n as u64 + 1 });
        }

        // The pool now holds connections the server is about to close.
        pg.stop();
        let (id, bytes) = blob(3, 100);
        let down = [
            store
                .put(&room, &id, bytes.clone(), &LIMITS, NOW)
                .await
                .err(),
            store.list(&room, 0, 10, NOW).await.err(),
            store.get(&room, &blobs[0].0, NOW).await.err(),
            store.delete(&room, &[blobs[0].0], NOW).await.err(),
            store.expire(NOW).await.err(),
            store.totals().await.err(),
        ];
        for (call, error) in down.iter().enumerate() {
            assert!(
                matches!(error, Some(StoreError::Unavailable(_))),
                "call {call} while down: {error:?}"
            );
        }

        pg.restart();
        let listed = page(store.list(&room, 0, 10, NOW).await.unwrap());
        assert_eq!(listed.head, 3);
        assert_eq!(listed.blobs, 3);
        assert_eq!(listed.bytes, 300);
        let ids: Vec<_> = listed.entries.iter().map(|e| e.id).collect();
        assert_eq!(ids, blobs.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        for (id, bytes) in &blobs {
            assert_eq!(
                store.get(&room, id, NOW).await.unwrap().as_ref(),
                Some(bytes)
            );
        }
        // The put that failed while down did not count; this one takes the next seq.
        assert_eq!(
            store.put(&room, &id, bytes, &LIMITS, NOW).await.unwrap(),
            PutOutcome::Stored { head: 4 }
        );
    }

    #[tokio::test]
    async fn hears_only_other_processes_well_formed_changes() {
        let pg = Postgres::start();
        let Store::Postgres(store) = open(&pg).await else {
            panic!("not a PostgreSQL store");
        };
        let Store::Postgres(other) = open(&pg).await else {
            panic!("not a PostgreSQL store");
        };
        let room = room(3);
        let note = |instance: u64| format!("{instance:016x} {room} 42");
        assert_eq!(store.parse_change(&note(other.instance)), Some((room, 42)));
        // Its own: its connections were told already.
        assert_eq!(store.parse_change(&note(store.instance)), None);
        for bad in [
            String::new(),
            format!("{} 42", room),
            format!("{:016x} {room}", other.instance),
            format!("{:016x} {room} 42 7", other.instance),
            format!("{:016x} {room} -1", other.instance),
            format!("{:016x} 00 42", other.instance),
        ] {
            assert_eq!(store.parse_change(&bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn open_fails_with_unavailable_when_the_database_is_down() {
        let mut pg = Postgres::start();
        pg.stop();
        let error = Store::open(&StoreConfig::Postgres(pg.url())).await.err();
        assert!(
            matches!(error, Some(StoreError::Unavailable(_))),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn open_refuses_a_bad_url_without_quoting_its_password() {
        let url = "postgres://relay:hunter2@127.0.0.1:notaport/selfos";
        match Store::open(&StoreConfig::Postgres(url.into())).await {
            Err(StoreError::Unavailable(message)) => {
                assert!(message.contains("URL is not valid"), "{message}");
                assert!(!message.contains("hunter2"), "{message}");
            }
            Ok(_) => panic!("opened {url}"),
        }
    }

    #[tokio::test]
    async fn open_refuses_a_newer_schema_and_accepts_its_own_again() {
        let pg = Postgres::start();
        drop(open(&pg).await);
        // Opening again finds version 1 and changes nothing.
        drop(open(&pg).await);
        let (client, connection) = tokio_postgres::connect(&pg.url(), NoTls).await.unwrap();
        let connection = tokio::spawn(connection);
        let versions = client
            .query_one("SELECT count(*) FROM schema_version", &[])
            .await
            .unwrap();
        assert_eq!(versions.get::<_, i64>(0), 1);
        client
            .execute("INSERT INTO schema_version (version) VALUES (2)", &[])
            .await
            .unwrap();
        drop(client);
        connection.await.unwrap().unwrap();

        match Store::open(&StoreConfig::Postgres(pg.url())).await {
            Err(StoreError::Unavailable(message)) => {
                assert!(message.contains("schema version 2"), "{message}");
                assert!(message.contains("run a newer relay"), "{message}");
            }
            Ok(_) => panic!("opened a database with a newer schema"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn relays_starting_at_once_create_the_schema_once() {
        let pg = Postgres::start();
        let url = pg.url();
        let opens: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&StoreConfig::Postgres(url)).await })
            })
            .collect();
        for open in opens {
            open.await.unwrap().unwrap();
        }
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
        tokio::spawn(connection);
        let versions = client
            .query_one("SELECT count(*) FROM schema_version", &[])
            .await
            .unwrap();
        assert_eq!(versions.get::<_, i64>(0), 1);
    }

    /// `writers` tasks, each with its own store (pool), put `each` blobs to one room; returns,
    /// per task, the outcomes in the order that task got them, with the sizes it put.
    async fn put_concurrently(
        pg: &Postgres,
        writers: u32,
        each: u32,
        limits: StoreLimits,
    ) -> Vec<Vec<(PutOutcome, u64)>> {
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = open(pg).await;
            tasks.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..each {
                    let n = w * each + i;
                    // Sizes differ, so a wrong byte count shows.
                    let (id, bytes) = blob(n, 50 + n as usize);
                    let size = bytes.len() as u64;
                    let outcome = store.put(&room(7), &id, bytes, &limits, NOW).await.unwrap();
                    outcomes.push((outcome, size));
                }
                outcomes
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.unwrap());
        }
        all
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_puts_to_one_room_get_unique_seqs_in_commit_order_and_exact_usage() {
        let pg = Postgres::start();
        let per_writer = put_concurrently(&pg, 6, 15, LIMITS).await;

        let mut heads = BTreeSet::new();
        let mut bytes = 0;
        for outcomes in &per_writer {
            let mut last = 0;
            for (outcome, size) in outcomes {
                let PutOutcome::Stored { head } = *outcome else {
                    panic!("{outcome:?}");
                };
                // A writer's puts commit one after the other: later commits, higher seqs.
                assert!(head > last, "seq {head} after {last}");
                last = head;
                assert!(heads.insert(head), "seq {head} handed out twice");
                bytes += size;
            }
        }
        assert_eq!(heads, (1..=90).collect());

        let store = open(&pg).await;
        let listed = page(store.list(&room(7), 0, 1000, NOW).await.unwrap());
        assert_eq!(listed.head, 90);
        assert_eq!(listed.blobs, 90);
        assert_eq!(listed.bytes, bytes);
        let seqs: Vec<_> = listed.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=90).collect::<Vec<_>>());
        let listed_bytes: u64 = listed.entries.iter().map(|e| u64::from(e.size)).sum();
        assert_eq!(listed_bytes, bytes);
        let totals = store.totals().await.unwrap();
        assert_eq!((totals.rooms, totals.blobs, totals.bytes), (1, 90, bytes));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_puts_never_pass_the_quota() {
        let pg = Postgres::start();
        let limits = StoreLimits {
            max_blobs: 25,
            ..LIMITS
        };
        let per_writer = put_concurrently(&pg, 5, 8, limits).await;
        let stored: Vec<_> = per_writer
            .iter()
            .flatten()
            .filter(|(outcome, _)| matches!(outcome, PutOutcome::Stored { .. }))
            .collect();
        let over = per_writer
            .iter()
            .flatten()
            .filter(|(outcome, _)| *outcome == PutOutcome::OverQuota)
            .count();
        assert_eq!((stored.len(), over), (25, 15));
        let bytes: u64 = stored.iter().map(|(_, size)| size).sum();
        let store = open(&pg).await;
        let listed = page(store.list(&room(7), 0, 1000, NOW).await.unwrap());
        assert_eq!((listed.blobs, listed.bytes, listed.head), (25, bytes, 25));

        // The byte quota, from a fresh room's point of view: each blob here is 50..=89 bytes,
        // so 1000 bytes hold between 11 and 20 of them; never a byte more.
        let pg = Postgres::start();
        let limits = StoreLimits {
            max_bytes: 1000,
            ..LIMITS
        };
        let per_writer = put_concurrently(&pg, 5, 8, limits).await;
        let stored: u64 = per_writer
            .iter()
            .flatten()
            .filter(|(outcome, _)| matches!(outcome, PutOutcome::Stored { .. }))
            .map(|(_, size)| size)
            .sum();
        let store = open(&pg).await;
        let listed = page(store.list(&room(7), 0, 1000, NOW).await.unwrap());
        assert_eq!(listed.bytes, stored);
        assert!(
            stored <= 1000,
            "{stored} bytes stored under a 1000-byte quota"
        );
        assert!(
            stored > 1000 - 89,
            "the quota refused a blob that fit: {stored} bytes"
        );
    }
}
