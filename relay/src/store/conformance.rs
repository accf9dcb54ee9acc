//! The suite every store backend passes: the semantics of the store API (and of PROTOCOL.md
//! section 11 as far as the store carries them), against a real database.

use selfos_proto::{BlobId, RoomId};
use sha2::{Digest, Sha256};

use super::{ListOutcome, Page, PutOutcome, Store, StoreLimits};

const LIMITS: StoreLimits = StoreLimits {
    max_bytes: 1000,
    max_blobs: 5,
    max_blob_len: 1000,
};

/// A room id (any 32 bytes name a room as far as the store goes).
fn room(n: u8) -> RoomId {
    let key = ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key();
    RoomId::try_from(key).unwrap()
}

fn blob(n: u8, len: usize) -> (BlobId, Vec<u8>) {
    let bytes = vec![n; len];
    let id = BlobId::from_bytes(Sha256::digest(&bytes).into());
    (id, bytes)
}

async fn page(store: &Store, room: &RoomId, since: u64, limit: usize, now: u64) -> Page {
    match store.list(room, since, limit, now).await.unwrap() {
        ListOutcome::Page(page) => page,
        ListOutcome::BadCursor => panic!("unexpected BadCursor at since {since}"),
    }
}

async fn put(store: &Store, room: &RoomId, n: u8, len: usize, now: u64) -> PutOutcome {
    let (id, bytes) = blob(n, len);
    store.put(room, &id, bytes, &LIMITS, now).await.unwrap()
}

/// Runs every check against `store`, which must be empty.
pub(crate) async fn conformance(store: &Store) {
    puts_lists_gets_deletes(store).await;
    quotas(store).await;
    cursors_and_pages(store).await;
    expiry_and_epochs(store).await;
}

async fn puts_lists_gets_deletes(store: &Store) {
    let (r, other) = (room(1), room(2));
    // An absent room lists empty, with epoch 0.
    let empty = page(store, &r, 0, 10, 1).await;
    assert_eq!((empty.epoch, empty.head, empty.more), (0, 0, false));
    assert!(empty.entries.is_empty());

    assert_eq!(
        put(store, &r, 1, 10, 100).await,
        PutOutcome::Stored { head: 1 }
    );
    assert_eq!(
        put(store, &r, 2, 20, 200).await,
        PutOutcome::Stored { head: 2 }
    );
    // The same bytes again: acknowledged, not stored twice.
    assert_eq!(put(store, &r, 1, 10, 300).await, PutOutcome::Present);
    assert_eq!(
        put(store, &r, 3, 0, 400).await,
        PutOutcome::Stored { head: 3 }
    );

    let p = page(store, &r, 0, 10, 500).await;
    assert_ne!(p.epoch, 0);
    assert_eq!((p.head, p.more, p.bytes, p.blobs), (3, false, 30, 3));
    // The last successful put (the `Present` one stored nothing).
    assert_eq!(p.updated_ms, 400);
    let ids: Vec<_> = p.entries.iter().map(|e| (e.seq, e.id, e.size)).collect();
    assert_eq!(
        ids,
        [
            (1, blob(1, 10).0, 10),
            (2, blob(2, 20).0, 20),
            (3, blob(3, 0).0, 0)
        ]
    );
    assert_eq!(
        store.get(&r, &blob(2, 20).0, 1).await.unwrap(),
        Some(blob(2, 20).1)
    );
    assert_eq!(store.get(&r, &blob(3, 0).0, 1).await.unwrap(), Some(vec![]));
    // Another room holds none of them.
    assert_eq!(store.get(&other, &blob(2, 20).0, 1).await.unwrap(), None);
    assert!(page(store, &other, 0, 10, 1).await.entries.is_empty());

    // Delete: unknown ids ignored, usage updated, the rest listed.
    store
        .delete(&r, &[blob(1, 10).0, blob(9, 9).0], 600)
        .await
        .unwrap();
    assert_eq!(store.get(&r, &blob(1, 10).0, 1).await.unwrap(), None);
    let p = page(store, &r, 0, 10, 700).await;
    assert_eq!((p.head, p.bytes, p.blobs), (3, 20, 2));
    assert_eq!(p.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    // A deleted blob stored again gets a new, higher seq.
    assert_eq!(
        put(store, &r, 1, 10, 800).await,
        PutOutcome::Stored { head: 4 }
    );
    // Deleting in a room without a store changes nothing.
    store.delete(&other, &[blob(1, 10).0], 1).await.unwrap();
    assert_eq!(
        store.list(&other, 1, 10, 1).await.unwrap(),
        ListOutcome::BadCursor
    );
}

async fn quotas(store: &Store) {
    let r = room(3);
    // By bytes: 600 + 400 fits exactly, one byte more does not.
    assert!(matches!(
        put(store, &r, 1, 600, 1).await,
        PutOutcome::Stored { .. }
    ));
    assert_eq!(put(store, &r, 2, 401, 2).await, PutOutcome::OverQuota);
    assert!(matches!(
        put(store, &r, 2, 400, 3).await,
        PutOutcome::Stored { .. }
    ));
    assert_eq!(put(store, &r, 3, 1, 4).await, PutOutcome::OverQuota);
    let p = page(store, &r, 0, 10, 5).await;
    assert_eq!((p.bytes, p.blobs, p.head), (1000, 2, 2));
    // A refused put leaves no trace, and a blob already there is still acknowledged.
    assert_eq!(put(store, &r, 1, 600, 6).await, PutOutcome::Present);
    // A delete makes room again.
    store.delete(&r, &[blob(1, 600).0], 7).await.unwrap();
    assert!(matches!(
        put(store, &r, 3, 1, 8).await,
        PutOutcome::Stored { head: 3 }
    ));

    // By blobs: five fit, the sixth does not.
    let r = room(4);
    for n in 1..=5 {
        assert!(matches!(
            put(store, &r, n, 1, 1).await,
            PutOutcome::Stored { .. }
        ));
    }
    assert_eq!(put(store, &r, 6, 1, 1).await, PutOutcome::OverQuota);
    store.delete(&r, &[blob(5, 1).0], 1).await.unwrap();
    assert_eq!(
        put(store, &r, 6, 1, 1).await,
        PutOutcome::Stored { head: 6 }
    );

    // A room whose first put is over quota is not created.
    let r = room(5);
    assert_eq!(put(store, &r, 1, 1001, 1).await, PutOutcome::OverQuota);
    assert_eq!(page(store, &r, 0, 10, 1).await.epoch, 0);
}

async fn cursors_and_pages(store: &Store) {
    let r = room(6);
    let limits = StoreLimits {
        max_bytes: 1 << 20,
        max_blobs: 100,
        max_blob_len: 1 << 20,
    };
    let mut last = 0;
    for n in 0..25u8 {
        let (id, bytes) = blob(n, usize::from(n));
        match store.put(&r, &id, bytes, &limits, 1).await.unwrap() {
            PutOutcome::Stored { head } => {
                assert!(head > last, "seq {head} after {last}");
                last = head;
            }
            other => panic!("{other:?}"),
        }
    }
    // Pages of 10: the cursor walks the room, `more` until the last page.
    let (mut since, mut seen) = (0, Vec::new());
    loop {
        let p = page(store, &r, since, 10, 2).await;
        assert!(p.entries.len() <= 10);
        seen.extend(p.entries.iter().map(|e| e.seq));
        if let Some(e) = p.entries.last() {
            assert_eq!(p.head, if p.more { e.seq } else { last });
        }
        since = p.head;
        if !p.more {
            break;
        }
    }
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());
    // The head itself lists nothing new; past it is a forged cursor.
    let p = page(store, &r, last, 10, 3).await;
    assert!(p.entries.is_empty() && !p.more && p.head == last);
    assert_eq!(
        store.list(&r, last + 1, 10, 3).await.unwrap(),
        ListOutcome::BadCursor
    );
    assert_eq!(
        store.list(&r, u64::MAX, 10, 3).await.unwrap(),
        ListOutcome::BadCursor
    );
    // An absent room with a cursor: BadCursor too.
    assert_eq!(
        store.list(&room(7), 1, 10, 3).await.unwrap(),
        ListOutcome::BadCursor
    );
}

async fn expiry_and_epochs(store: &Store) {
    let day = 86_400_000;
    let (old, listed, written) = (room(10), room(11), room(12));
    let _ = put(store, &old, 1, 1, day).await;
    let _ = put(store, &listed, 1, 1, day).await;
    let _ = put(store, &written, 1, 1, day).await;
    let old_epoch = page(store, &old, 0, 10, day).await.epoch;
    // Days later, one room is listed and one written; the third is left alone.
    let _ = page(store, &listed, 0, 10, 10 * day).await;
    let _ = put(store, &written, 2, 1, 10 * day).await;
    let before = store.totals().await.unwrap();

    let removed = store.expire(5 * day).await.unwrap();
    // Every other room of the suite was last touched at small times: they expire too.
    assert!(removed >= 1);
    assert_eq!(page(store, &old, 0, 10, 11 * day).await.epoch, 0);
    assert_eq!(
        store.get(&old, &blob(1, 1).0, 11 * day).await.unwrap(),
        None
    );
    assert_eq!(page(store, &listed, 0, 10, 11 * day).await.blobs, 1);
    assert_eq!(page(store, &written, 0, 10, 11 * day).await.blobs, 2);
    let after = store.totals().await.unwrap();
    assert_eq!(
        (after.rooms, after.blobs, after.bytes),
        (2, 3, 3),
        "before the sweep: {before:?}"
    );

    // A room that expired starts anew: seq from 1, a new nonzero epoch.
    assert_eq!(
        put(store, &old, 1, 1, 12 * day).await,
        PutOutcome::Stored { head: 1 }
    );
    let fresh = page(store, &old, 0, 10, 12 * day).await.epoch;
    assert_ne!(fresh, 0);
    assert_ne!(fresh, old_epoch);
    assert_eq!(store.totals().await.unwrap().rooms, 3);
}
