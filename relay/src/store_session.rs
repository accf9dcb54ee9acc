//! The store side of a joined connection (PROTOCOL.md section 11).
//!
//! The connection's read loop turns store frames into [`Request`]s with [`Uploads::request`]:
//! it checks the order of a blob's parts and gathers them, so a protocol violation closes the
//! connection at once. A [`Worker`], run beside the read loop in the connection's task, answers
//! the requests one by one, in order. Its answers go through a queue of their own, which it
//! waits on: a client that reads its answers slowly only slows its own requests, while frames
//! from other peers keep the slow-reader rule of their queue. Every store call runs on the
//! blocking pool (see `store`), and so does hashing an upload.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering::Relaxed},
};

use bytes::Bytes;
use selfos_proto::{
    BlobId, BlobIds, BlobPart, ErrorCode, Frame, ListEntries, Listing, MAX_LIST_ENTRIES, RoomId,
    StoreFrame, StoreUsage,
};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tracing::{debug, warn};

use crate::{
    hub::{Hub, now_ms},
    metrics::StoreRejection,
    store::{ListOutcome, PutOutcome, StoreError},
};

/// Answers that may wait for one connection: enough for a client to read one part while the
/// next is being queued, few enough that a fetch holds little memory.
pub(crate) const ANSWER_QUEUE: usize = 4;

/// Requests that may wait for the worker before the connection stops reading.
pub(crate) const REQUEST_QUEUE: usize = 16;

/// A store request, whole, as the worker answers it.
#[derive(Debug)]
pub(crate) enum Request {
    List {
        request: u32,
        since: u64,
    },
    Fetch {
        request: u32,
        id: BlobId,
    },
    Put {
        request: u32,
        id: BlobId,
        blob: Vec<u8>,
        /// The blob's share of the upload buffer, given back once it is stored (or not).
        held: OwnedSemaphorePermit,
    },
    Delete {
        request: u32,
        ids: BlobIds,
    },
    /// Refused before it was whole (an upload too large, with no store, or with no buffer left).
    Refused {
        request: u32,
        why: StoreRejection,
    },
}

/// A frame a client may not send, or a part out of order: `Error{UnexpectedFrame}`, close 4001.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Violation;

/// The connection's upload: at most one at a time.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    state: Upload,
}

#[derive(Debug, Default)]
enum Upload {
    #[default]
    Idle,
    /// Gathering the parts of an accepted upload.
    Receiving {
        request: u32,
        id: BlobId,
        total: u32,
        blob: Vec<u8>,
        held: OwnedSemaphorePermit,
    },
    /// The upload was refused at its first part: its later parts are dropped unread.
    Skipping { request: u32 },
}

impl Uploads {
    /// Turns a store frame from the client into a request, once it is whole.
    pub(crate) fn request(
        &mut self,
        frame: StoreFrame,
        hub: &Hub,
    ) -> Result<Option<Request>, Violation> {
        Ok(Some(match frame {
            StoreFrame::List { request, since } => Request::List { request, since },
            StoreFrame::Fetch { request, id } => Request::Fetch { request, id },
            StoreFrame::Delete { request, ids } => Request::Delete { request, ids },
            StoreFrame::Put(part) => return self.part(part, hub),
            // Frames only the relay sends.
            _ => return Err(Violation),
        }))
    }

    fn part(&mut self, part: BlobPart, hub: &Hub) -> Result<Option<Request>, Violation> {
        match &mut self.state {
            Upload::Receiving {
                request,
                id,
                total,
                blob,
                ..
            } => {
                let next = u32::try_from(blob.len()).map_err(|_| Violation)?;
                if part.request != *request
                    || part.id != *id
                    || part.total() != *total
                    || part.offset() != next
                {
                    return Err(Violation);
                }
                blob.extend_from_slice(part.bytes());
                if !part.is_last() {
                    return Ok(None);
                }
                match std::mem::take(&mut self.state) {
                    Upload::Receiving {
                        request,
                        id,
                        blob,
                        held,
                        ..
                    } => Ok(Some(Request::Put {
                        request,
                        id,
                        blob,
                        held,
                    })),
                    _ => Err(Violation),
                }
            }
            Upload::Skipping { request } if part.request == *request => {
                if part.is_last() {
                    self.state = Upload::Idle;
                }
                Ok(None)
            }
            Upload::Idle | Upload::Skipping { .. } => self.start(part, hub),
        }
    }

    /// The first part of an upload.
    fn start(&mut self, part: BlobPart, hub: &Hub) -> Result<Option<Request>, Violation> {
        if part.offset() != 0 {
            return Err(Violation);
        }
        let total = part.total();
        let refused = if !hub.store.enabled() {
            Some(StoreRejection::Disabled)
        } else if total > hub.cfg.store_max_blob_len {
            Some(StoreRejection::TooLarge)
        } else {
            None
        };
        let held = match refused {
            Some(why) => return Ok(Some(self.refuse(&part, why))),
            None => match hub.upload_buffer.clone().try_acquire_many_owned(total) {
                Ok(held) => held,
                Err(_) => {
                    warn!(total, "upload buffer full: upload refused");
                    return Ok(Some(self.refuse(&part, StoreRejection::Unavailable)));
                }
            },
        };
        let (request, id, last) = (part.request, part.id, part.is_last());
        // The buffer holds `total` bytes for it, which max_blob_len bounds.
        let mut blob = Vec::with_capacity(total as usize);
        blob.extend_from_slice(part.bytes());
        if last {
            return Ok(Some(Request::Put {
                request,
                id,
                blob,
                held,
            }));
        }
        self.state = Upload::Receiving {
            request,
            id,
            total,
            blob,
            held,
        };
        Ok(None)
    }

    fn refuse(&mut self, part: &BlobPart, why: StoreRejection) -> Request {
        self.state = if part.is_last() {
            Upload::Idle
        } else {
            Upload::Skipping {
                request: part.request,
            }
        };
        Request::Refused {
            request: part.request,
            why,
        }
    }
}

/// The connection's answers queue was closed: the connection is ending.
#[derive(Debug)]
struct Gone;

/// Answers one connection's store requests, in order.
#[derive(Debug)]
pub(crate) struct Worker<'a> {
    pub(crate) hub: &'a Hub,
    pub(crate) room: RoomId,
    pub(crate) conn: u64,
    /// Shared with the connection's room membership: set at the first listing.
    pub(crate) listed: Arc<AtomicBool>,
    pub(crate) answers: mpsc::Sender<Bytes>,
}

impl Worker<'_> {
    /// Answers requests until the connection stops sending them or stops taking answers.
    pub(crate) async fn serve(self, mut requests: mpsc::Receiver<Request>) {
        while let Some(request) = requests.recv().await {
            if self.answer(request).await.is_err() {
                return;
            }
        }
    }

    async fn answer(&self, request: Request) -> Result<(), Gone> {
        let store = &self.hub.store;
        if !store.enabled() {
            let number = match &request {
                Request::List { request, .. }
                | Request::Fetch { request, .. }
                | Request::Put { request, .. }
                | Request::Delete { request, .. }
                | Request::Refused { request, .. } => *request,
            };
            return self.refuse(number, StoreRejection::Disabled).await;
        }
        match request {
            Request::List { request, since } => self.list(request, since).await,
            Request::Fetch { request, id } => self.fetch(request, id).await,
            Request::Put {
                request,
                id,
                blob,
                held,
            } => {
                let answer = self.put(request, id, blob).await;
                drop(held);
                answer
            }
            Request::Delete { request, ids } => {
                let deleted = store
                    .delete(&self.room, ids.as_slice(), now_ms())
                    .await
                    .map(|()| {
                        let n = u64::try_from(ids.len()).unwrap_or(u64::MAX);
                        self.hub.metrics.blobs_deleted.fetch_add(n, Relaxed);
                    });
                self.done(request, deleted).await
            }
            Request::Refused { request, why } => self.refuse(request, why).await,
        }
    }

    async fn list(&self, request: u32, since: u64) -> Result<(), Gone> {
        self.listed.store(true, Relaxed);
        let listed = self
            .hub
            .store
            .list(&self.room, since, MAX_LIST_ENTRIES, now_ms())
            .await;
        let page = match listed {
            Ok(ListOutcome::Page(page)) => page,
            Ok(ListOutcome::BadCursor) => {
                return self.refuse(request, StoreRejection::BadCursor).await;
            }
            Err(e) => return self.unavailable(request, &e).await,
        };
        let cfg = &self.hub.cfg;
        let Ok(entries) = ListEntries::try_from(page.entries) else {
            // The store returns at most the limit asked for.
            let e = StoreError::Unavailable("the store returned too many entries".into());
            return self.unavailable(request, &e).await;
        };
        let listing = Listing {
            request,
            epoch: page.epoch,
            head: page.head,
            more: page.more,
            usage: StoreUsage {
                bytes: page.bytes,
                blobs: page.blobs,
                max_bytes: cfg.store_max_bytes,
                max_blobs: cfg.store_max_blobs,
                max_blob_len: cfg.store_max_blob_len,
                updated_ms: page.updated_ms,
            },
            entries,
        };
        self.send(Frame::Store(StoreFrame::Listed(listing))).await
    }

    async fn fetch(&self, request: u32, id: BlobId) -> Result<(), Gone> {
        let blob = match self.hub.store.get(&self.room, &id, now_ms()).await {
            Ok(Some(blob)) => blob,
            Ok(None) => {
                return self
                    .send(done(request, Some(ErrorCode::BlobNotFound)))
                    .await;
            }
            Err(e) => return self.unavailable(request, &e).await,
        };
        let Ok(parts) = BlobPart::split(request, id, &blob) else {
            // Only a blob over 4 GiB fails to split, and none is accepted.
            let e = StoreError::Unavailable("a stored blob is too large to send".into());
            return self.unavailable(request, &e).await;
        };
        for part in parts {
            self.send(Frame::Store(StoreFrame::Blob(part))).await?;
        }
        self.hub.metrics.blobs_fetched.fetch_add(1, Relaxed);
        Ok(())
    }

    async fn put(&self, request: u32, id: BlobId, blob: Vec<u8>) -> Result<(), Gone> {
        // Hashing up to the largest blob takes milliseconds: not on the async threads.
        let hashed = tokio::task::spawn_blocking(move || {
            let matches = Sha256::digest(&blob).as_slice() == id.as_bytes();
            (matches, blob)
        })
        .await;
        let blob = match hashed {
            Ok((true, blob)) => blob,
            Ok((false, _)) => return self.refuse(request, StoreRejection::Mismatch).await,
            Err(e) => return self.unavailable(request, &StoreError::unavailable(e)).await,
        };
        let limits = self.hub.store_limits();
        match self
            .hub
            .store
            .put(&self.room, &id, blob, &limits, now_ms())
            .await
        {
            Ok(PutOutcome::Stored { head }) => {
                self.hub.metrics.blobs_stored.fetch_add(1, Relaxed);
                let evicted = self.hub.changed(self.room, self.conn, head);
                self.hub.log_evicted(self.room, &evicted);
                self.send(done(request, None)).await
            }
            Ok(PutOutcome::Present) => self.send(done(request, None)).await,
            Ok(PutOutcome::OverQuota) => self.refuse(request, StoreRejection::Quota).await,
            Err(e) => self.unavailable(request, &e).await,
        }
    }

    async fn done(&self, request: u32, outcome: Result<(), StoreError>) -> Result<(), Gone> {
        match outcome {
            Ok(()) => self.send(done(request, None)).await,
            Err(e) => self.unavailable(request, &e).await,
        }
    }

    async fn unavailable(&self, request: u32, e: &StoreError) -> Result<(), Gone> {
        warn!(error = %e, "store request failed");
        self.refuse(request, StoreRejection::Unavailable).await
    }

    async fn refuse(&self, request: u32, why: StoreRejection) -> Result<(), Gone> {
        self.hub.metrics.store_reject(why);
        debug!(request, reason = why.label(), "store request refused");
        self.send(done(request, Some(why.error_code()))).await
    }

    /// Queues an answer, waiting for room: only this connection's requests wait.
    async fn send(&self, frame: Frame) -> Result<(), Gone> {
        self.answers
            .send(Bytes::from(frame.encode()))
            .await
            .map_err(|_| Gone)
    }
}

fn done(request: u32, error: Option<ErrorCode>) -> Frame {
    Frame::Store(StoreFrame::Done { request, error })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::{
        config::RelayConfig,
        store::{Store, StoreConfig},
    };

    async fn hub(dir: &std::path::Path, max_blob_len: u32) -> Hub {
        let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.store_max_blob_len = max_blob_len;
        cfg.store_upload_buffer = u64::from(max_blob_len);
        let store = Store::open(&StoreConfig::Sqlite(dir.join("store.db")))
            .await
            .unwrap();
        Hub::new(cfg, "ws://relay.test".parse().unwrap(), Arc::new(store))
    }

    fn parts(request: u32, blob: &[u8]) -> Vec<StoreFrame> {
        let id = BlobId::from_bytes(Sha256::digest(blob).into());
        BlobPart::split(request, id, blob)
            .unwrap()
            .map(StoreFrame::Put)
            .collect()
    }

    #[tokio::test]
    async fn parts_are_gathered_in_order_under_the_upload_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(dir.path(), 1 << 20).await;
        let blob: Vec<u8> = (0..600_000u32).map(|i| i as u8).collect();
        let mut uploads = Uploads::default();
        let mut frames = parts(1, &blob).into_iter();
        let (first, second, last) = (
            frames.next().unwrap(),
            frames.next().unwrap(),
            frames.next().unwrap(),
        );
        assert!(uploads.request(first, &hub).unwrap().is_none());
        // The whole blob's bytes are held from the first part on.
        assert_eq!(hub.upload_buffer.available_permits(), (1 << 20) - 600_000);
        assert!(uploads.request(second, &hub).unwrap().is_none());
        match uploads.request(last, &hub).unwrap() {
            Some(Request::Put {
                request,
                blob: got,
                held,
                ..
            }) => {
                assert_eq!((request, got), (1, blob));
                drop(held);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(hub.upload_buffer.available_permits(), 1 << 20);

        // Another request's part while an upload is unfinished.
        let two = parts(3, &[1; 300_000]);
        assert!(uploads.request(two[0].clone(), &hub).unwrap().is_none());
        let other = parts(4, b"x").remove(0);
        assert_eq!(uploads.request(other, &hub).unwrap_err(), Violation);
    }

    #[tokio::test]
    async fn a_refused_upload_drops_its_later_parts_and_violations_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub(dir.path(), 1000).await;
        let big = vec![7; MAX_LIST_ENTRIES * 100];
        let mut uploads = Uploads::default();
        let mut frames = parts(1, &big).into_iter();
        assert!(matches!(
            uploads.request(frames.next().unwrap(), &hub),
            Ok(Some(Request::Refused {
                request: 1,
                why: StoreRejection::TooLarge
            }))
        ));
        for rest in frames {
            assert!(uploads.request(rest, &hub).unwrap().is_none());
        }
        // The next upload is taken.
        let small = parts(2, b"small").remove(0);
        assert!(matches!(
            uploads.request(small, &hub),
            Ok(Some(Request::Put { request: 2, .. }))
        ));

        // A later part first, and a frame only the relay sends.
        let two = parts(3, &[1; 300_000]);
        assert_eq!(
            Uploads::default()
                .request(two[1].clone(), &hub)
                .unwrap_err(),
            Violation
        );
        let changed = StoreFrame::Changed { head: 1 };
        assert_eq!(
            Uploads::default().request(changed, &hub).unwrap_err(),
            Violation
        );
    }
}
