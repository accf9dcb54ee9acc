//! [`SqliteStore`]: the store in one SQLite file (WAL, `synchronous=FULL`).
//!
//! rusqlite blocks, so every call runs on Tokio's blocking threads. One connection serves them
//! all, behind a mutex: SQLite allows one writer at a time anyway, and even a read writes (it
//! bumps the room's `touched_ms`).

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use selfos_proto::{BlobId, ListEntry, RoomId};

use super::{
    ListOutcome, Page, PutOutcome, StoreError, StoreLimits, StoreTotals, fresh_epoch, int, nat,
};

/// The schema this relay writes; a file with a newer one is refused.
const SCHEMA_VERSION: i64 = 1;

/// A read bumps `touched_ms` only when the last touch is older than this, so reads rarely write.
const TOUCH_EVERY_MS: u64 = 3_600_000;

/// How long a statement waits for a lock held by another process on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS rooms (
        room BLOB PRIMARY KEY CHECK (length(room) = 32),
        epoch INTEGER NOT NULL CHECK (epoch <> 0),
        head INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        blobs INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        touched_ms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rooms_touched ON rooms (touched_ms);
    CREATE TABLE IF NOT EXISTS blobs (
        room BLOB NOT NULL REFERENCES rooms (room) ON DELETE CASCADE,
        id BLOB NOT NULL CHECK (length(id) = 32),
        seq INTEGER NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (room, id),
        UNIQUE (room, seq)
    );
";

/// The store in one SQLite file.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

/// A room's row.
struct RoomRow {
    epoch: u64,
    head: u64,
    bytes: u64,
    blobs: u32,
    updated_ms: u64,
    touched_ms: u64,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`, with its folder.
    pub(crate) async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || open_blocking(&path))
            .await
            .map_err(StoreError::unavailable)??;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic inside rusqlite would drop (roll back) its transaction: the connection
            // stays usable.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(StoreError::unavailable)?
        .map_err(StoreError::unavailable)
    }

    pub(crate) async fn list(
        &self,
        room: &RoomId,
        since: u64,
        limit: usize,
        now_ms: u64,
    ) -> Result<ListOutcome, StoreError> {
        let room = *room;
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let Some(row) = room_row(&tx, &room)? else {
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
            if since > row.head {
                return Ok(ListOutcome::BadCursor);
            }
            let mut entries = Vec::with_capacity(limit.min(1024));
            let mut more = false;
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, id, size FROM blobs WHERE room = ?1 AND seq > ?2
                     ORDER BY seq LIMIT ?3",
                )?;
                let fetch = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
                let mut rows = stmt.query(params![room.as_bytes(), int(since), fetch])?;
                while let Some(r) = rows.next()? {
                    if entries.len() == limit {
                        more = true;
                        break;
                    }
                    let id: [u8; 32] = r.get(1)?;
                    entries.push(ListEntry {
                        seq: nat(r.get(0)?),
                        id: BlobId::from_bytes(id),
                        size: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    });
                }
            }
            touch(&tx, &room, &row, now_ms)?;
            tx.commit()?;
            let head = match entries.last() {
                Some(last) if more => last.seq,
                _ => row.head,
            };
            Ok(ListOutcome::Page(Page {
                epoch: row.epoch,
                head,
                more,
                bytes: row.bytes,
                blobs: row.blobs,
                updated_ms: row.updated_ms,
                entries,
            }))
        })
        .await
    }

    pub(crate) async fn get(
        &self,
        room: &RoomId,
        id: &BlobId,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (room, id) = (*room, *id);
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let Some(row) = room_row(&tx, &room)? else {
                return Ok(None);
            };
            let data: Option<Vec<u8>> = tx
                .prepare_cached("SELECT data FROM blobs WHERE room = ?1 AND id = ?2")?
                .query_row(params![room.as_bytes(), id.as_bytes()], |r| r.get(0))
                .optional()?;
            touch(&tx, &room, &row, now_ms)?;
            tx.commit()?;
            Ok(data)
        })
        .await
    }

    pub(crate) async fn put(
        &self,
        room: &RoomId,
        id: &BlobId,
        blob: Vec<u8>,
        limits: &StoreLimits,
        now_ms: u64,
    ) -> Result<PutOutcome, StoreError> {
        let (room, id, limits) = (*room, *id, *limits);
        self.with(move |conn| {
            // IMMEDIATE takes the write lock first, so the room row read below cannot change
            // before this transaction commits: seqs follow commit order.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = match room_row(&tx, &room)? {
                Some(row) => row,
                None => {
                    let epoch = fresh_epoch().map_err(|e| {
                        rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(
                            e.to_string(),
                        )))
                    })?;
                    tx.execute(
                        "INSERT INTO rooms (room, epoch, head, bytes, blobs, updated_ms, touched_ms)
                         VALUES (?1, ?2, 0, 0, 0, 0, ?3)",
                        params![room.as_bytes(), int(epoch), int(now_ms)],
                    )?;
                    RoomRow {
                        epoch,
                        head: 0,
                        bytes: 0,
                        blobs: 0,
                        updated_ms: 0,
                        touched_ms: now_ms,
                    }
                }
            };
            let present = tx
                .prepare_cached("SELECT 1 FROM blobs WHERE room = ?1 AND id = ?2")?
                .exists(params![room.as_bytes(), id.as_bytes()])?;
            if present {
                tx.execute(
                    "UPDATE rooms SET touched_ms = ?2 WHERE room = ?1",
                    params![room.as_bytes(), int(now_ms)],
                )?;
                tx.commit()?;
                return Ok(PutOutcome::Present);
            }
            let size = u64::try_from(blob.len()).unwrap_or(u64::MAX);
            let over_bytes = row.bytes.saturating_add(size) > limits.max_bytes;
            let over_blobs = u64::from(row.blobs) + 1 > u64::from(limits.max_blobs);
            if over_bytes || over_blobs {
                // Dropping the transaction rolls back a room row created just now.
                return Ok(PutOutcome::OverQuota);
            }
            let head = row.head + 1;
            tx.prepare_cached(
                "INSERT INTO blobs (room, id, seq, size, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                room.as_bytes(),
                id.as_bytes(),
                int(head),
                int(size),
                blob
            ])?;
            tx.prepare_cached(
                "UPDATE rooms SET head = ?2, bytes = bytes + ?3, blobs = blobs + 1,
                 updated_ms = ?4, touched_ms = ?4 WHERE room = ?1",
            )?
            .execute(params![room.as_bytes(), int(head), int(size), int(now_ms)])?;
            tx.commit()?;
            Ok(PutOutcome::Stored { head })
        })
        .await
    }

    pub(crate) async fn delete(
        &self,
        room: &RoomId,
        ids: &[BlobId],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let (room, ids) = (*room, ids.to_vec());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if room_row(&tx, &room)?.is_none() {
                return Ok(());
            }
            let (mut bytes, mut blobs) = (0_i64, 0_i64);
            {
                let mut stmt = tx.prepare_cached(
                    "DELETE FROM blobs WHERE room = ?1 AND id = ?2 RETURNING size",
                )?;
                for id in &ids {
                    let size: Option<i64> = stmt
                        .query_row(params![room.as_bytes(), id.as_bytes()], |r| r.get(0))
                        .optional()?;
                    if let Some(size) = size {
                        bytes += size;
                        blobs += 1;
                    }
                }
            }
            tx.execute(
                "UPDATE rooms SET bytes = bytes - ?2, blobs = blobs - ?3, touched_ms = ?4
                 WHERE room = ?1",
                params![room.as_bytes(), bytes, blobs, int(now_ms)],
            )?;
            tx.commit()
        })
        .await
    }

    pub(crate) async fn expire(&self, untouched_before_ms: u64) -> Result<u64, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let before = int(untouched_before_ms);
            tx.execute(
                "DELETE FROM blobs WHERE room IN (SELECT room FROM rooms WHERE touched_ms < ?1)",
                [before],
            )?;
            let rooms = tx.execute("DELETE FROM rooms WHERE touched_ms < ?1", [before])?;
            tx.commit()?;
            Ok(u64::try_from(rooms).unwrap_or(u64::MAX))
        })
        .await
    }

    pub(crate) async fn totals(&self) -> Result<StoreTotals, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT count(*), coalesce(sum(blobs), 0), coalesce(sum(bytes), 0) FROM rooms",
                [],
                |r| {
                    Ok(StoreTotals {
                        rooms: nat(r.get(0)?),
                        blobs: nat(r.get(1)?),
                        bytes: nat(r.get(2)?),
                    })
                },
            )
        })
        .await
    }
}

fn open_blocking(path: &Path) -> Result<Connection, StoreError> {
    super::create_parent(path).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot create the folder of {}: {e}",
            path.display()
        ))
    })?;
    let fail = |e: rusqlite::Error| {
        StoreError::Unavailable(format!("cannot open {}: {e}", path.display()))
    };
    let mut conn = Connection::open(path).map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    // WAL keeps readers and the writer apart; FULL syncs the WAL at every commit, so an
    // acknowledged put survives a power cut.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "{} cannot use write-ahead logging (journal mode {mode})",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(fail)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    tx.execute_batch(SCHEMA).map_err(fail)?;
    let found: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .map_err(fail)?;
    match found {
        None => {
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(fail)?;
        }
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::Unavailable(format!(
                "{} has store schema version {v}, newer than this relay's {SCHEMA_VERSION}: \
                 run a newer relay",
                path.display()
            )));
        }
        Some(_) => {}
    }
    tx.commit().map_err(fail)?;
    Ok(conn)
}

fn room_row(conn: &Connection, room: &RoomId) -> rusqlite::Result<Option<RoomRow>> {
    conn.prepare_cached(
        "SELECT epoch, head, bytes, blobs, updated_ms, touched_ms FROM rooms WHERE room = ?1",
    )?
    .query_row([room.as_bytes()], |r| {
        Ok(RoomRow {
            epoch: nat(r.get(0)?),
            head: nat(r.get(1)?),
            bytes: nat(r.get(2)?),
            blobs: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(u32::MAX),
            updated_ms: nat(r.get(4)?),
            touched_ms: nat(r.get(5)?),
        })
    })
    .optional()
}

/// Records a read, unless the room was touched within the last [`TOUCH_EVERY_MS`].
fn touch(conn: &Connection, room: &RoomId, row: &RoomRow, now_ms: u64) -> rusqlite::Result<()> {
    if now_ms.saturating_sub(row.touched_ms) >= TOUCH_EVERY_MS {
        conn.prepare_cached("UPDATE rooms SET touched_ms = ?2 WHERE room = ?1")?
            .execute(params![room.as_bytes(), int(now_ms)])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreConfig, conformance::conformance};

    #[tokio::test]
    async fn sqlite_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("store.db");
        let store = Store::open(&StoreConfig::Sqlite(path.clone()))
            .await
            .unwrap();
        conformance(&store).await;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        drop(SqliteStore::open(&path).await.unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        drop(conn);
        let err = SqliteStore::open(&path).await.unwrap_err().to_string();
        assert!(err.contains("schema version 99"), "{err}");
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99);
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        std::fs::write(&path, vec![0x5a; 4096]).unwrap();
        let err = SqliteStore::open(&path).await.unwrap_err().to_string();
        assert!(err.contains("store.db"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), vec![0x5a; 4096]);
    }

    #[tokio::test]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let room =
            RoomId::try_from(ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key())
                .unwrap();
        let id = BlobId::from_bytes([7; 32]);
        let limits = StoreLimits {
            max_bytes: 100,
            max_blobs: 10,
            max_blob_len: 100,
        };
        let store = SqliteStore::open(&path).await.unwrap();
        store
            .put(&room, &id, vec![1, 2, 3], &limits, 5)
            .await
            .unwrap();
        drop(store);
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.get(&room, &id, 6).await.unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(
            store
                .put(&room, &id, vec![1, 2, 3], &limits, 7)
                .await
                .unwrap(),
            PutOutcome::Present
        );
    }
}
