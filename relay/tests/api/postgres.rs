//! The store on PostgreSQL through relay processes: two relays on one database serve one room's
//! blobs to clients of either, keep them across a relay restart, number concurrent uploads from
//! both without a gap or a repeat, hold the quota across them, announce a blob stored through
//! one to listed connections of the other, and answer `StoreUnavailable` while the database is
//! down, then work again.
//!
//! Each test starts a throwaway PostgreSQL server of its own (`selfos_testkit::Postgres`).

use std::collections::BTreeSet;

use selfos_proto::{BlobId, ErrorCode, Frame, MAX_BLOB_PART_LEN, StoreFrame};
use selfos_testkit::{Postgres, RelayProcess};

use crate::support::{Client, audience, blob, blob_id, key, peer, relay_process};

/// A relay process on `pg`'s database, with `args` besides `--store`.
fn relay(pg: &Postgres, args: &[&str]) -> RelayProcess {
    let url = pg.url();
    let mut all = vec!["--store", url.as_str()];
    all.extend_from_slice(args);
    relay_process(&std::env::temp_dir(), &all)
}

/// A client of room 1, joined through `relay` as `peer(n)`.
async fn client(relay: &RelayProcess, n: u8) -> Client {
    let mut c = Client::connect(relay.addr, &audience(relay.addr)).await;
    c.join(&key(1), peer(n)).await;
    c
}

#[tokio::test]
async fn blobs_put_through_one_relay_are_served_by_another_and_kept_across_restarts() {
    let pg = Postgres::start();
    let one = relay(&pg, &[]);
    let two = relay(&pg, &[]);
    let blobs = [
        blob(1, 1000),
        blob(2, 0),
        blob(3, 2 * MAX_BLOB_PART_LEN + 77),
    ];
    let mut a = client(&one, 1).await;
    for (i, b) in blobs.iter().enumerate() {
        assert_eq!(a.put(i as u32, b).await, None);
    }

    let mut b = client(&two, 2).await;
    let listing = b.list(1, 0).await.unwrap();
    assert_ne!(listing.epoch, 0);
    assert_eq!(listing.head, 3);
    assert_eq!(listing.usage.blobs, 3);
    let bytes: usize = blobs.iter().map(Vec::len).sum();
    assert_eq!(listing.usage.bytes, bytes as u64);
    let ids: Vec<BlobId> = listing.entries.as_slice().iter().map(|e| e.id).collect();
    assert_eq!(ids, blobs.iter().map(|b| blob_id(b)).collect::<Vec<_>>());
    for (i, bytes) in blobs.iter().enumerate() {
        assert_eq!(
            &b.fetch(10 + i as u32, blob_id(bytes)).await.unwrap(),
            bytes
        );
    }

    // A put through the second relay continues the room's numbering.
    let fourth = blob(4, 500);
    assert_eq!(b.put(20, &fourth).await, None);
    drop((a, b));

    // Both relays killed and started again: nothing was kept in them.
    let one = one.restart();
    let two = two.restart();
    for (n, relay) in [(3, &one), (4, &two)] {
        let mut c = client(relay, n).await;
        let entries = c.list_all().await;
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert_eq!(entries[3].id, blob_id(&fourth));
        assert_eq!(c.fetch(1, blob_id(&blobs[2])).await.unwrap(), blobs[2]);
        assert_eq!(c.fetch(2, blob_id(&fourth)).await.unwrap(), fourth);
    }
}

/// `per_relay` clients on each of `relays`, each uploading `each` blobs at the same time as the
/// others; returns the blobs every upload got no error for, and the errors of the others.
async fn upload_from_all(
    relays: &[&RelayProcess],
    per_relay: u8,
    each: u8,
) -> (Vec<Vec<u8>>, Vec<ErrorCode>) {
    let mut clients = Vec::new();
    for relay in relays {
        let first = clients.len();
        for _ in 0..per_relay {
            let n = clients.len() as u8 + 1;
            clients.push((n, client(relay, n).await));
        }
        // The membership news of this relay's clients, read now so that only store answers
        // follow (clients of the other relay are not announced: rooms are per process).
        for (j, (_, c)) in clients[first..].iter_mut().enumerate() {
            for _ in j + 1..usize::from(per_relay) {
                assert!(matches!(c.recv().await, Frame::PeerJoined(_)));
            }
        }
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(n, mut c)| {
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..each {
                    // Sizes differ, so a wrong byte count shows.
                    let len = 100 + usize::from(n) * 40 + usize::from(i);
                    let b = blob(n.wrapping_mul(31) ^ i, len);
                    let error = c.put(u32::from(i), &b).await;
                    outcomes.push((b, error));
                }
                // Kept until every task is done: a client leaving would be news to the others.
                (c, outcomes)
            })
        })
        .collect();
    let (mut stored, mut refused, mut done) = (Vec::new(), Vec::new(), Vec::new());
    for task in tasks {
        let (c, outcomes) = task.await.unwrap();
        done.push(c);
        for (b, error) in outcomes {
            match error {
                None => stored.push(b),
                Some(code) => refused.push(code),
            }
        }
    }
    (stored, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_through_two_relays_are_numbered_once_each_with_exact_usage() {
    let pg = Postgres::start();
    let one = relay(&pg, &[]);
    let two = relay(&pg, &[]);
    let (stored, refused) = upload_from_all(&[&one, &two], 3, 12).await;
    assert_eq!(refused, []);
    assert_eq!(stored.len(), 72);

    let mut c = client(&two, 100).await;
    let entries = c.list_all().await;
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=72).collect::<Vec<_>>());
    let listed: BTreeSet<BlobId> = entries.iter().map(|e| e.id).collect();
    let uploaded: BTreeSet<BlobId> = stored.iter().map(|b| blob_id(b)).collect();
    assert_eq!(listed, uploaded);
    let listing = c.list(1, 0).await.unwrap();
    let bytes: usize = stored.iter().map(Vec::len).sum();
    assert_eq!(listing.usage.bytes, bytes as u64);
    assert_eq!(listing.usage.blobs, 72);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_holds_across_two_relays_uploading_at_once() {
    let pg = Postgres::start();
    let args = ["--store-max-blobs", "20"];
    let one = relay(&pg, &args);
    let two = relay(&pg, &args);
    let (stored, refused) = upload_from_all(&[&one, &two], 2, 10).await;
    assert_eq!(stored.len(), 20);
    assert_eq!(refused, [ErrorCode::QuotaExceeded; 20]);

    let mut c = client(&one, 100).await;
    let listing = c.list(1, 0).await.unwrap();
    assert_eq!(listing.usage.blobs, 20);
    assert_eq!(listing.head, 20);
    let bytes: usize = stored.iter().map(Vec::len).sum();
    assert_eq!(listing.usage.bytes, bytes as u64);
}

#[tokio::test]
async fn while_the_database_is_down_store_requests_get_store_unavailable_then_work_again() {
    let mut pg = Postgres::start();
    let relay = relay(&pg, &[]);
    let first = blob(1, 3000);
    let mut a = client(&relay, 1).await;
    assert_eq!(a.put(1, &first).await, None);

    pg.stop();
    let unavailable = ErrorCode::StoreUnavailable;
    assert_eq!(a.list(2, 0).await.unwrap_err(), unavailable);
    assert_eq!(a.fetch(3, blob_id(&first)).await.unwrap_err(), unavailable);
    assert_eq!(a.put(4, &blob(2, 10)).await, Some(unavailable));
    assert_eq!(a.delete(5, &[blob_id(&first)]).await, Some(unavailable));
    // The connection goes on: it still answers, and a new client still joins.
    a.round_trip(6).await;
    let mut b = client(&relay, 2).await;
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));
    assert_eq!(b.list(1, 0).await.unwrap_err(), unavailable);

    pg.restart();
    let listing = a.list(7, 0).await.unwrap();
    assert_eq!(listing.head, 1);
    assert_eq!(listing.entries.as_slice()[0].id, blob_id(&first));
    assert_eq!(a.fetch(8, blob_id(&first)).await.unwrap(), first);
    // The upload refused while down is accepted now, as the next seq.
    assert_eq!(b.put(2, &blob(2, 10)).await, None);
    assert_eq!(b.list(3, 0).await.unwrap().head, 2);
}

/// Waits until `n` relay processes listen for each other's store changes on `pg`: each relay
/// starts listening in the background after it prints its address.
async fn listening_relays(pg: &Postgres, n: i64) {
    let (client, connection) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    for _ in 0..500 {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE query = 'LISTEN selfos_store_changed' AND state = 'idle'",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{n} relays did not start listening");
}

#[tokio::test]
async fn a_blob_stored_through_one_relay_is_announced_to_listed_connections_of_the_other() {
    let mut pg = Postgres::start();
    let one = relay(&pg, &[]);
    let two = relay(&pg, &[]);
    // a uploads and d lists on relay one; b lists and c does not on relay two.
    let mut a = client(&one, 1).await;
    let mut d = client(&one, 4).await;
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(4)));
    let mut b = client(&two, 2).await;
    let mut c = client(&two, 3).await;
    assert_eq!(b.recv().await, Frame::PeerJoined(peer(3)));
    b.list(1, 0).await.unwrap();
    d.list(1, 0).await.unwrap();
    listening_relays(&pg, 2).await;

    assert_eq!(a.put(1, &blob(1, 10)).await, None);
    let changed = |head| Frame::Store(StoreFrame::Changed { head });
    assert_eq!(b.recv().await, changed(1));
    assert_eq!(d.recv().await, changed(1));
    // Told once each: the next frame is the answer to a ping. The uploader and the connection
    // that never listed are not told.
    for (n, client) in [&mut a, &mut b, &mut c, &mut d].into_iter().enumerate() {
        client.round_trip(n as u64).await;
    }

    // The other way round, after a restart of the database: the relays listen again.
    pg.restart();
    listening_relays(&pg, 2).await;
    assert_eq!(c.put(2, &blob(2, 10)).await, None);
    assert_eq!(b.recv().await, changed(2));
    assert_eq!(d.recv().await, changed(2));
    for (n, client) in [&mut a, &mut b, &mut c, &mut d].into_iter().enumerate() {
        client.round_trip(10 + n as u64).await;
    }
}
