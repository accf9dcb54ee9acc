//! The relay's store: devices that are never online together converge through it, a fresh
//! device catches up from it alone and gives nothing back, compaction keeps it small, a refusal
//! costs nothing stored, and a delete leaves no blob from which the deleted text can be read.

use std::collections::BTreeSet;

use proptest::{prelude::*, test_runner::FileFailurePersistence};
use selfos_sync::{
    StoreStatus, SyncEvent,
    testing::{
        Network, StoreLimits, open_blob,
        strategy::{Outcome, Wire, ops},
    },
};
use selfos_vault::{
    MemoryStore, Namespace,
    forensics::{ChunkPlaintext, bundle_plaintext, chunk_plaintexts, historical_bodies, open_body},
};

use crate::support::{
    assert_converged, assert_no_trouble, content, events_of, ns, pass, replicas, settle,
};

/// A network of `n` replicas of one vault whose relay keeps a store; nobody is connected.
fn offline(n: usize, limits: StoreLimits) -> Network<MemoryStore> {
    let mut net = Network::new(11);
    net.keep_store(limits);
    for vault in replicas(n) {
        net.add(vault);
    }
    net
}

/// Device `i` records `text` for `agent` and tells its engine.
fn record(net: &mut Network<MemoryStore>, i: usize, agent: &str, text: &str) {
    let now = net.now_ms;
    let c = content(agent, "intent.include", text, now);
    net.devices[i]
        .vault
        .record(&ns(agent), c, now)
        .expect("record");
    net.local_change(i).expect("local change");
}

/// Device `i` comes online alone, syncs with the store until nothing moves, and goes.
fn visit(net: &mut Network<MemoryStore>, i: usize) {
    net.connect(i).expect("connect");
    settle(net);
    assert_eq!(status(net, i), Some(StoreStatus::Settled));
    net.disconnect(i);
}

fn status(net: &Network<MemoryStore>, i: usize) -> Option<StoreStatus> {
    net.devices[i].engine().map(|e| e.store_status())
}

fn texts(net: &Network<MemoryStore>, i: usize) -> usize {
    net.devices[i].vault.list(None).responses.len()
}

#[test]
fn devices_never_online_together_converge_through_the_store() {
    let mut net = offline(3, StoreLimits::default());
    net.connect(0).expect("connect");
    for n in 0..3 {
        record(
            &mut net,
            0,
            "chatgpt",
            &format!("answer {n} from the laptop"),
        );
    }
    settle(&mut net);
    assert_eq!(status(&net, 0), Some(StoreStatus::Settled));
    // What the device says the store holds is the store's word after its own uploads.
    let usage = net.devices[0]
        .engine()
        .and_then(|e| e.store_usage())
        .expect("usage");
    let stored = net.stored(0);
    assert_eq!(usage.blobs as usize, stored.len());
    assert_eq!(
        usage.bytes,
        stored.iter().map(|b| b.len() as u64).sum::<u64>()
    );
    net.disconnect(0);

    visit(&mut net, 1);
    assert_eq!(texts(&net, 1), 3, "the phone caught up with no one online");
    assert!(!events_of(&net, 1, |e| matches!(e, SyncEvent::FromStore { .. })).is_empty());

    net.connect(1).expect("connect");
    record(&mut net, 1, "claude", "an answer from the phone");
    settle(&mut net);
    net.disconnect(1);

    visit(&mut net, 2);
    visit(&mut net, 0);
    assert_eq!(texts(&net, 0), 4);
    assert_eq!(texts(&net, 2), 4);
    assert_converged(&mut net);
}

#[test]
fn a_device_that_caught_up_uploads_nothing_it_took() {
    let mut net = offline(2, StoreLimits::default());
    net.connect(0).expect("connect");
    for n in 0..20 {
        record(&mut net, 0, "chatgpt", &format!("answer {n}"));
        settle(&mut net);
    }
    net.disconnect(0);
    let before = net.stored(0);

    visit(&mut net, 1);
    assert_eq!(texts(&net, 1), 20);
    assert_eq!(
        net.stored(1),
        before,
        "the store is as the first device left it"
    );
    // A second visit lists from its cursor and fetches nothing.
    let fetched = |net: &Network<MemoryStore>| {
        events_of(net, 1, |e| matches!(e, SyncEvent::StoreProgress { .. })).len()
    };
    let progress = fetched(&net);
    visit(&mut net, 1);
    assert_eq!(fetched(&net), progress);
}

#[test]
fn compaction_keeps_the_store_small() {
    let mut net = offline(2, StoreLimits::default());
    net.connect(0).expect("connect");
    for n in 0..300 {
        record(
            &mut net,
            0,
            "chatgpt",
            &format!("answer number {n}, a few words long"),
        );
        settle(&mut net);
    }
    let blobs = net.stored(0);
    assert!(
        blobs.len() <= 260,
        "{} blobs for 300 answers: compaction does not run",
        blobs.len()
    );
    let bytes: usize = blobs.iter().map(Vec::len).sum();
    net.disconnect(0);

    visit(&mut net, 1);
    assert_eq!(texts(&net, 1), 300);
    assert!(bytes > 0);
    assert_converged(&mut net);
}

#[test]
fn over_quota_keeps_everything_local_and_says_so() {
    let limits = StoreLimits {
        max_bytes: 4_000,
        ..StoreLimits::default()
    };
    let mut net = offline(2, limits);
    net.connect(0).expect("connect");
    let long = "a long answer ".repeat(400);
    record(&mut net, 0, "chatgpt", &long);
    settle(&mut net);
    assert_eq!(status(&net, 0), Some(StoreStatus::Full));
    assert!(
        net.stored(0).is_empty(),
        "nothing over the quota was stored"
    );
    assert_eq!(texts(&net, 0), 1, "the answer stays on the device");
    assert!(!events_of(&net, 0, |e| *e == SyncEvent::Store(StoreStatus::Full)).is_empty());

    // The device is still in the room: a peer online with it gets the answer live.
    net.connect(1).expect("connect");
    settle(&mut net);
    assert_eq!(texts(&net, 1), 1);
}

#[test]
fn a_blob_over_the_limit_is_held_back_and_the_rest_still_syncs() {
    let limits = StoreLimits {
        max_blob_len: 3_000,
        ..StoreLimits::default()
    };
    let mut net = offline(2, limits);
    net.connect(0).expect("connect");
    record(&mut net, 0, "claude", &"too long for one blob ".repeat(300));
    record(&mut net, 0, "chatgpt", "short");
    settle(&mut net);
    assert_eq!(status(&net, 0), Some(StoreStatus::Settled));
    assert!(
        !events_of(
            &net,
            0,
            |e| matches!(e, SyncEvent::Warning(w) if w.contains("claude"))
        )
        .is_empty()
    );
    net.disconnect(0);
    visit(&mut net, 1);
    assert_eq!(texts(&net, 1), 1, "the short answer came through");
}

#[test]
fn a_store_that_fails_is_asked_again_and_loses_nothing() {
    let mut net = offline(2, StoreLimits::default());
    net.connect(0).expect("connect");
    record(&mut net, 0, "chatgpt", "written while the database is up");
    settle(&mut net);
    net.set_store_down(true);
    record(&mut net, 0, "chatgpt", "written while it is down");
    settle(&mut net);
    assert_eq!(status(&net, 0), Some(StoreStatus::Unavailable));
    assert_eq!(
        net.stored(0).len(),
        1,
        "the second answer is not stored yet"
    );

    // Still down at the first retry, up at a later one: the answer goes up then.
    net.tick(1_500).expect("tick");
    settle(&mut net);
    assert_eq!(status(&net, 0), Some(StoreStatus::Unavailable));
    net.set_store_down(false);
    for _ in 0..5 {
        net.tick(5_000).expect("tick");
        settle(&mut net);
    }
    assert_eq!(status(&net, 0), Some(StoreStatus::Settled));
    net.disconnect(0);
    visit(&mut net, 1);
    assert_eq!(texts(&net, 1), 2, "nothing was lost");
}

#[test]
fn a_relay_without_a_store_leaves_live_sync_as_it_was() {
    let mut net = Network::new(5);
    for vault in replicas(2) {
        let i = net.add(vault);
        net.connect(i).expect("connect");
    }
    record(&mut net, 0, "chatgpt", "live only");
    settle(&mut net);
    assert_eq!(status(&net, 0), Some(StoreStatus::Disabled));
    assert_eq!(texts(&net, 1), 1);
    assert!(
        net.devices[0]
            .engine()
            .is_some_and(|e| e.in_sync(&net.devices[0].vault))
    );
}

/// Every key and every Automerge byte of the store's blobs, per namespace, plus every key the
/// replicas hold in their own chunks.
fn store_contents(net: &Network<MemoryStore>) -> Vec<ChunkPlaintext> {
    let keys = net.devices[0].vault.sync_keys();
    let mut out: Vec<ChunkPlaintext> = net
        .stored(0)
        .iter()
        .map(|blob| {
            let (namespace, bundle) = open_blob(&keys, blob).expect("every blob opens");
            bundle_plaintext(namespace, &bundle).expect("every blob holds a bundle")
        })
        .collect();
    for device in &net.devices {
        let (_, chunks) = chunk_plaintexts(device.vault.store(), &pass()).expect("forensics");
        out.extend(chunks.into_iter().map(|c| ChunkPlaintext {
            doc: Vec::new(),
            ..c
        }));
    }
    out
}

#[test]
fn once_a_delete_has_synced_no_blob_opens_to_the_deleted_text() {
    let secret = "pumpernickel: the answer the user deleted";
    let mut net = offline(2, StoreLimits::default());
    net.connect(0).expect("connect");
    record(&mut net, 0, "chatgpt", secret);
    record(&mut net, 0, "chatgpt", "an answer that stays");
    settle(&mut net);
    net.disconnect(0);

    // The phone catches up, then deletes while the laptop is away.
    visit(&mut net, 1);
    net.connect(1).expect("connect");
    let id = net.devices[1]
        .vault
        .list(None)
        .responses
        .into_iter()
        .find(|r| format!("{:?}", r.content.answer).contains("pumpernickel"))
        .expect("the answer arrived")
        .id;
    let now = net.now_ms;
    net.devices[1].vault.delete(&id, now).expect("delete");
    net.local_change(1).expect("local change");
    settle(&mut net);
    net.disconnect(1);
    visit(&mut net, 0);
    assert_eq!(texts(&net, 0), 1);

    let contents = store_contents(&net);
    let keys: Vec<_> = contents.iter().flat_map(|c| c.keys.clone()).collect();
    let vault = net.devices[0].vault.id();
    let chatgpt = Namespace::new("chatgpt").expect("namespace");
    let docs: Vec<&[u8]> = contents
        .iter()
        .filter(|c| c.namespace == chatgpt && !c.doc.is_empty())
        .map(|c| c.doc.as_slice())
        .collect();
    assert!(!docs.is_empty());
    let bodies = historical_bodies(&docs);
    assert!(
        bodies.iter().any(|(r, _)| *r == id.record),
        "the deleted body is in the history"
    );
    for (record, body) in &bodies {
        for (_, key) in &keys {
            if let Some(json) = open_body(body, key, &vault, &chatgpt, *record) {
                assert!(
                    !json.contains("pumpernickel"),
                    "a blob opens to the deleted text"
                );
            }
        }
    }
    for blob in net.stored(0) {
        assert!(!blob.windows(12).any(|w| w == b"pumpernickel"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // `PROPTEST_CASES=500` for a longer hunt.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(16),
        max_shrink_iters: 500,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/store.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Whatever users and the network do, with the relay keeping a store: once every device is
    /// back and settled, the replicas are identical, every device agrees with the store, and no
    /// blob holds the key of a deleted record.
    #[test]
    fn replicas_and_the_store_converge_and_deletes_leave_the_store(
        devices in 2..=4usize,
        seed in any::<u64>(),
        program in ops(Wire::Reliable, 1..50),
    ) {
        let mut net = Network::new(seed);
        net.keep_store(StoreLimits::default());
        for vault in replicas(devices) {
            let i = net.add(vault);
            net.connect(i).expect("connect");
        }
        settle(&mut net);
        let mut deleted = BTreeSet::new();
        for op in &program {
            if let Outcome::Deleted(id) = net.apply(op).expect("the operation applies") {
                deleted.insert(id.record);
            }
        }
        for device in &mut net.devices {
            device.events.clear();
        }
        net.heal().expect("the network heals");
        assert_no_trouble(&net);
        assert_converged(&mut net);
        for i in 0..devices {
            prop_assert_eq!(status(&net, i), Some(StoreStatus::Settled), "device {}", i);
        }
        let keys = net.devices[0].vault.sync_keys();
        for blob in net.stored(0) {
            let (namespace, bundle) = open_blob(&keys, &blob).expect("every blob opens");
            let plain = bundle_plaintext(namespace, &bundle).expect("a bundle");
            for (record, _) in plain.keys {
                prop_assert!(!deleted.contains(&record), "the store keeps the key of deleted {}", record);
            }
        }
    }
}
