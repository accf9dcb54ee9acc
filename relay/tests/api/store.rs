//! The room's store through the relay binary (PROTOCOL.md section 11): blobs kept across
//! connections, restarts and a kill mid-upload, quotas and limits, forged input, notifications,
//! a relay without a store, and the store's metrics.

use std::time::{Duration, Instant};

use selfos_proto::{BlobId, BlobPart, ErrorCode, Frame, MAX_BLOB_PART_LEN, StoreFrame};
use selfos_testkit::RelayProcess;

use crate::support::{
    Client, audience, blob, blob_id, closed, http_get, key, metric, peer, relay_process,
};

/// A relay process with `args` and a store of its own.
fn relay(args: &[&str]) -> RelayProcess {
    relay_process(&std::env::temp_dir(), args)
}

/// A client of the room of `key(room)`, joined as `peer(n)`.
async fn client(relay: &RelayProcess, room: u8, n: u8) -> Client {
    let mut c = Client::connect(relay.addr, &audience(relay.addr)).await;
    c.join(&key(room), peer(n)).await;
    c
}

#[tokio::test]
async fn blobs_reach_a_later_device_of_the_same_room_only() {
    let relay = relay(&[]);
    let blobs = [blob(1, 1000), blob(2, 0), blob(3, 70_000)];
    let mut a = client(&relay, 1, 1).await;
    for (i, b) in blobs.iter().enumerate() {
        assert_eq!(a.put(i as u32, b).await, None);
    }
    // Gone before the next device comes.
    a.ws.close(None).await.unwrap();
    let _ = a.closed().await;

    let mut b = client(&relay, 1, 2).await;
    let listing = b.list(7, 0).await.unwrap();
    assert_ne!(listing.epoch, 0);
    assert!(!listing.more);
    assert_eq!(listing.head, 3);
    assert_eq!(listing.usage.blobs, 3);
    assert_eq!(listing.usage.bytes, 71_000);
    assert_eq!(listing.usage.max_bytes, 64 * 1024 * 1024);
    let entries = listing.entries.as_slice();
    for (i, (entry, bytes)) in entries.iter().zip(&blobs).enumerate() {
        assert_eq!(entry.seq, i as u64 + 1);
        assert_eq!(entry.id, blob_id(bytes));
        assert_eq!(entry.size as usize, bytes.len());
        assert_eq!(&b.fetch(10 + i as u32, entry.id).await.unwrap(), bytes);
    }

    // Another room sees nothing, and cannot fetch the first room's blobs by id.
    let mut c = client(&relay, 2, 1).await;
    let other = c.list(1, 0).await.unwrap();
    assert_eq!((other.epoch, other.head), (0, 0));
    assert!(other.entries.is_empty());
    assert_eq!(
        c.fetch(2, blob_id(&blobs[0])).await,
        Err(ErrorCode::BlobNotFound)
    );
}

#[tokio::test]
async fn a_blob_of_several_parts_round_trips() {
    let relay = relay(&[]);
    let big = blob(9, 3 * MAX_BLOB_PART_LEN + 12_345);
    let mut a = client(&relay, 1, 1).await;
    assert_eq!(a.put(1, &big).await, None);
    let mut b = client(&relay, 1, 2).await;
    assert_eq!(b.fetch(2, blob_id(&big)).await.unwrap(), big);
}

#[tokio::test]
async fn a_kill_mid_upload_keeps_exactly_the_acknowledged_blobs() {
    let relay = relay(&[]);
    let acked = [blob(1, 5000), blob(2, 300_000)];
    let partial = blob(3, 3 * MAX_BLOB_PART_LEN);
    let mut a = client(&relay, 1, 1).await;
    for (i, b) in acked.iter().enumerate() {
        assert_eq!(a.put(i as u32, b).await, None);
    }
    // Two parts of three, then a ping: once its pong is back, the relay has read both parts.
    let parts: Vec<_> = BlobPart::split(9, blob_id(&partial), &partial)
        .unwrap()
        .collect();
    for part in &parts[..2] {
        a.send(&Frame::Store(StoreFrame::Put(part.clone()))).await;
    }
    a.round_trip(1).await;

    let relay = relay.restart();
    let mut b = client(&relay, 1, 2).await;
    let entries = b.list_all().await;
    let ids: Vec<BlobId> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, acked.iter().map(|b| blob_id(b)).collect::<Vec<_>>());
    for (i, bytes) in acked.iter().enumerate() {
        assert_eq!(&b.fetch(i as u32, blob_id(bytes)).await.unwrap(), bytes);
    }
    assert_eq!(
        b.fetch(5, blob_id(&partial)).await,
        Err(ErrorCode::BlobNotFound)
    );
}

#[tokio::test]
async fn a_graceful_restart_keeps_everything() {
    let mut relay = relay(&[]);
    let blobs: Vec<_> = (0..5).map(|n| blob(n, 1000 * usize::from(n))).collect();
    let mut a = client(&relay, 1, 1).await;
    for (i, b) in blobs.iter().enumerate() {
        assert_eq!(a.put(i as u32, b).await, None);
    }
    let before = a.list(9, 0).await.unwrap();
    relay.terminate();
    let _ = a.closed().await;
    assert!(relay.exited().success());

    let relay = relay.restart();
    let mut b = client(&relay, 1, 2).await;
    let after = b.list(1, 0).await.unwrap();
    assert_eq!(after.epoch, before.epoch);
    assert_eq!(after.head, before.head);
    assert_eq!(after.entries, before.entries);
    for (i, bytes) in blobs.iter().enumerate() {
        assert_eq!(&b.fetch(i as u32, blob_id(bytes)).await.unwrap(), bytes);
    }
}

#[tokio::test]
async fn quotas_refuse_and_the_room_keeps_working_and_metrics_show_it() {
    let relay = relay(&[
        "--store-max-bytes",
        "1000",
        "--store-max-blobs",
        "3",
        "--store-max-blob-len",
        "600",
    ]);
    let mut a = client(&relay, 1, 1).await;
    assert_eq!(a.put(1, &blob(1, 600)).await, None);
    // Bytes: 600 + 401 > 1000.
    assert_eq!(
        a.put(2, &blob(2, 401)).await,
        Some(ErrorCode::QuotaExceeded)
    );
    assert_eq!(a.put(3, &blob(3, 300)).await, None);
    assert_eq!(a.put(4, &blob(4, 100)).await, None);
    // Blobs: a fourth, though its byte fits.
    assert_eq!(a.put(5, &blob(5, 0)).await, Some(ErrorCode::QuotaExceeded));
    // A blob already stored is acknowledged, quota or not.
    assert_eq!(a.put(6, &blob(1, 600)).await, None);
    let listing = a.list(7, 0).await.unwrap();
    assert_eq!((listing.usage.bytes, listing.usage.blobs), (1000, 3));
    assert_eq!(listing.usage.max_blobs, 3);
    assert_eq!(listing.usage.max_blob_len, 600);
    // A delete makes room again.
    assert_eq!(a.delete(8, &[blob_id(&blob(1, 600))]).await, None);
    assert_eq!(a.put(9, &blob(5, 0)).await, None);
    assert_eq!(a.list_all().await.len(), 3);

    // The refusals are counted at once; the gauges follow within seconds.
    let text = http_get(relay.addr, "/metrics").await;
    assert_eq!(
        metric(
            &text,
            "selfos_relay_store_rejections_total{reason=\"quota\"}"
        ),
        2
    );
    assert_eq!(metric(&text, "selfos_relay_store_blobs_stored_total"), 4);
    assert_eq!(metric(&text, "selfos_relay_store_blobs_deleted_total"), 1);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = http_get(relay.addr, "/metrics").await;
        let gauges = [
            "selfos_relay_store_bytes",
            "selfos_relay_store_blobs",
            "selfos_relay_store_rooms",
        ]
        .map(|name| metric(&text, name));
        if gauges == [400, 3, 1] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "store gauges stuck at {gauges:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_blob_over_the_limit_is_refused_at_its_first_part_and_the_connection_goes_on() {
    let relay = relay(&["--store-max-blob-len", "1000"]);
    let mut a = client(&relay, 1, 1).await;
    // Two parts: one answer, at the first; the second part is dropped unread.
    let big = blob(1, MAX_BLOB_PART_LEN + 10);
    a.send_parts(1, blob_id(&big), &big).await;
    assert_eq!(a.done(1).await, Some(ErrorCode::BlobTooLarge));
    a.round_trip(5).await;
    assert_eq!(a.put(2, &blob(2, 1000)).await, None);
    assert_eq!(
        a.put(3, &blob(3, 1001)).await,
        Some(ErrorCode::BlobTooLarge)
    );
    assert_eq!(a.list_all().await.len(), 1);
    let text = http_get(relay.addr, "/metrics").await;
    assert_eq!(
        metric(
            &text,
            "selfos_relay_store_rejections_total{reason=\"too_large\"}"
        ),
        2
    );
}

#[tokio::test]
async fn forged_cursors_and_forged_ids_change_nothing() {
    let relay = relay(&[]);
    let mut a = client(&relay, 1, 1).await;
    // A cursor for a room with no store, then one past the head.
    assert_eq!(a.list(1, 5).await.unwrap_err(), ErrorCode::BadCursor);
    assert_eq!(a.put(2, &blob(1, 100)).await, None);
    assert_eq!(a.list(3, 2).await.unwrap_err(), ErrorCode::BadCursor);
    assert_eq!(a.list(4, u64::MAX).await.unwrap_err(), ErrorCode::BadCursor);
    assert_eq!(a.list(5, 0).await.unwrap().entries.len(), 1);

    // Bytes that do not hash to the id: refused, nothing stored.
    let bytes = blob(2, 300_000);
    a.send_parts(6, BlobId::from_bytes([0xab; 32]), &bytes)
        .await;
    assert_eq!(a.done(6).await, Some(ErrorCode::BlobMismatch));
    let entries = a.list_all().await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, blob_id(&blob(1, 100)));
    let text = http_get(relay.addr, "/metrics").await;
    assert_eq!(
        metric(
            &text,
            "selfos_relay_store_rejections_total{reason=\"mismatch\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &text,
            "selfos_relay_store_rejections_total{reason=\"bad_cursor\"}"
        ),
        3
    );
}

#[tokio::test]
async fn parts_out_of_order_close_the_connection() {
    let relay = relay(&[]);
    let bytes = blob(1, 2 * MAX_BLOB_PART_LEN);
    let parts: Vec<_> = BlobPart::split(1, blob_id(&bytes), &bytes)
        .unwrap()
        .collect();
    let unexpected = closed(Some(ErrorCode::UnexpectedFrame), 4001);

    // The second part first.
    let mut a = client(&relay, 1, 1).await;
    a.send(&Frame::Store(StoreFrame::Put(parts[1].clone())))
        .await;
    assert_eq!(a.closed().await, unexpected);

    // The first part twice.
    let mut a = client(&relay, 1, 1).await;
    for _ in 0..2 {
        a.send(&Frame::Store(StoreFrame::Put(parts[0].clone())))
            .await;
    }
    assert_eq!(a.closed().await, unexpected);

    // A part of another request while an upload is unfinished.
    let mut a = client(&relay, 1, 1).await;
    a.send(&Frame::Store(StoreFrame::Put(parts[0].clone())))
        .await;
    let other = blob(2, 10);
    a.send_parts(2, blob_id(&other), &other).await;
    assert_eq!(a.closed().await, unexpected);

    // A frame only the relay sends.
    let mut a = client(&relay, 1, 1).await;
    a.send(&Frame::Store(StoreFrame::Changed { head: 1 })).await;
    assert_eq!(a.closed().await, unexpected);

    // None of it was stored.
    let mut b = client(&relay, 1, 2).await;
    assert!(b.list_all().await.is_empty());
}

#[tokio::test]
async fn store_frames_before_join_are_unexpected() {
    let relay = relay(&[]);
    let mut c = Client::connect(relay.addr, &audience(relay.addr)).await;
    c.challenge().await;
    c.send(&Frame::Store(StoreFrame::List {
        request: 1,
        since: 0,
    }))
    .await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::UnexpectedFrame), 4001)
    );
}

#[tokio::test]
async fn a_stored_blob_is_announced_to_the_other_listed_connections() {
    let relay = relay(&[]);
    let mut a = client(&relay, 1, 1).await;
    let mut b = client(&relay, 1, 2).await;
    let mut c = client(&relay, 1, 3).await;
    // Membership news first.
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(3)));
    assert_eq!(b.recv().await, Frame::PeerJoined(peer(3)));
    // a and b have listed; c has not.
    a.list(1, 0).await.unwrap();
    b.list(1, 0).await.unwrap();

    assert_eq!(a.put(2, &blob(1, 10)).await, None);
    assert_eq!(
        b.recv().await,
        Frame::Store(StoreFrame::Changed { head: 1 })
    );
    // The uploader is not told, nor is c: their next frame is the answer to a ping.
    a.round_trip(3).await;
    c.round_trip(4).await;
    // b lists from its cursor and finds the blob.
    let page = b.list(5, 0).await.unwrap();
    assert_eq!(page.entries.as_slice()[0].id, blob_id(&blob(1, 10)));
    // A blob the room holds already changes nothing: no news.
    assert_eq!(a.put(6, &blob(1, 10)).await, None);
    b.round_trip(7).await;
}

#[tokio::test]
async fn a_relay_without_a_store_answers_store_disabled() {
    let relay = relay(&["--store", "none"]);
    assert!(relay.store_dir().is_none());
    let mut a = client(&relay, 1, 1).await;
    let disabled = Some(ErrorCode::StoreDisabled);
    assert_eq!(a.list(1, 0).await.unwrap_err(), ErrorCode::StoreDisabled);
    assert_eq!(a.put(2, &blob(1, 10)).await, disabled);
    // A blob of several parts: one answer, the other parts dropped.
    let big = blob(2, MAX_BLOB_PART_LEN + 1);
    a.send_parts(3, blob_id(&big), &big).await;
    assert_eq!(a.done(3).await, disabled);
    assert_eq!(
        a.fetch(4, blob_id(&big)).await,
        Err(ErrorCode::StoreDisabled)
    );
    assert_eq!(a.delete(5, &[blob_id(&big)]).await, disabled);
    a.round_trip(6).await;
    let text = http_get(relay.addr, "/metrics").await;
    assert_eq!(
        metric(
            &text,
            "selfos_relay_store_rejections_total{reason=\"disabled\"}"
        ),
        5
    );
}

#[tokio::test]
async fn answers_wait_for_a_slow_requester_instead_of_evicting_it() {
    // A queue of one frame: under the slow-reader rule, a second queued answer would evict.
    let relay = relay(&["--queue-len", "1"]);
    let big = blob(1, 3 * MAX_BLOB_PART_LEN);
    let mut a = client(&relay, 1, 1).await;
    assert_eq!(a.put(1, &big).await, None);
    // Fifteen parts asked for before one is read.
    for request in 0..5 {
        a.send(&Frame::Store(StoreFrame::Fetch {
            request,
            id: blob_id(&big),
        }))
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for request in 0..5 {
        assert_eq!(a.fetched(request, blob_id(&big)).await.unwrap(), big);
    }
    a.round_trip(9).await;
}

#[tokio::test]
async fn a_full_upload_buffer_answers_store_unavailable_until_it_drains() {
    let len = MAX_BLOB_PART_LEN + 1000;
    let limit = len.to_string();
    let relay = relay(&[
        "--store-max-blob-len",
        &limit,
        "--store-upload-buffer",
        &limit,
    ]);
    let (first, second) = (blob(1, len), blob(2, len));
    let first_parts: Vec<_> = BlobPart::split(1, blob_id(&first), &first)
        .unwrap()
        .collect();
    // a's unfinished upload holds the whole buffer.
    let mut a = client(&relay, 1, 1).await;
    a.send(&Frame::Store(StoreFrame::Put(first_parts[0].clone())))
        .await;
    a.round_trip(1).await;
    let mut b = client(&relay, 2, 1).await;
    assert_eq!(b.put(1, &second).await, Some(ErrorCode::StoreUnavailable));
    // Once a's upload is stored, the buffer is free again.
    a.send(&Frame::Store(StoreFrame::Put(first_parts[1].clone())))
        .await;
    assert_eq!(a.done(1).await, None);
    assert_eq!(b.put(2, &second).await, None);
    let text = http_get(relay.addr, "/metrics").await;
    assert_eq!(
        metric(
            &text,
            "selfos_relay_store_rejections_total{reason=\"unavailable\"}"
        ),
        1
    );
}

#[tokio::test]
async fn a_locked_database_answers_store_unavailable_and_changes_nothing() {
    let relay = relay(&[]);
    let mut a = client(&relay, 1, 1).await;
    assert_eq!(a.put(1, &blob(1, 100)).await, None);
    // Another process's write lock on the file, held past the relay's busy timeout.
    let db = relay.store_dir().unwrap().join("store.db");
    let lock = rusqlite::Connection::open(&db).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert_eq!(
        a.put(2, &blob(2, 100)).await,
        Some(ErrorCode::StoreUnavailable)
    );
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    // The store works again, and holds exactly what was acknowledged.
    let ids: Vec<_> = a.list_all().await.iter().map(|e| e.id).collect();
    assert_eq!(ids, [blob_id(&blob(1, 100))]);
    assert_eq!(a.put(3, &blob(2, 100)).await, None);
    assert_eq!(a.list_all().await.len(), 2);
}

#[tokio::test]
async fn an_untouched_room_expires_and_starts_anew_with_a_new_epoch() {
    let relay = relay(&["--store-expiry", "1s"]);
    let mut a = client(&relay, 1, 1).await;
    assert_eq!(a.put(1, &blob(1, 100)).await, None);
    let epoch = a.list(2, 0).await.unwrap().epoch;
    assert_ne!(epoch, 0);
    // Reads touch a room at most hourly, so listing does not keep it alive here.
    let deadline = Instant::now() + Duration::from_secs(15);
    while a.list(3, 0).await.unwrap().epoch != 0 {
        assert!(Instant::now() < deadline, "the room never expired");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        a.fetch(4, blob_id(&blob(1, 100))).await,
        Err(ErrorCode::BlobNotFound)
    );
    assert_eq!(a.put(5, &blob(2, 100)).await, None);
    let fresh = a.list(6, 0).await.unwrap();
    assert_ne!(fresh.epoch, 0);
    assert_ne!(fresh.epoch, epoch);
    assert_eq!(fresh.head, 1);
}
