//! The engine tells the application who is in the room and what changed.

use selfos_sync::{StoreStatus, SyncEvent, room_of, testing::Network};
use selfos_vault::{Answer, MemoryStore, Namespace, Policy};

use crate::support::{content, ns, peer_of, replicas, settle};

fn take_events(net: &mut Network<MemoryStore>, i: usize) -> Vec<SyncEvent> {
    std::mem::take(&mut net.devices[i].events)
}

/// The `(namespace, deletions)` of the `Changed` events in `events`, all from `from`.
fn changes(events: &[SyncEvent], from: selfos_proto::PeerId) -> Vec<(Namespace, usize)> {
    events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Changed {
                from: f,
                namespace,
                deletions,
            } => {
                assert_eq!(*f, from);
                Some((namespace.clone(), *deletions))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn joins_leaves_and_changes_are_reported() {
    let mut net = Network::new(10);
    for vault in replicas(3) {
        net.add(vault);
    }
    let room = room_of(&net.devices[0].vault.sync_keys()).expect("room");
    let peers: Vec<_> = net.devices.iter().map(|d| peer_of(&d.vault)).collect();

    net.connect(0).expect("connect");
    settle(&mut net);
    assert_eq!(
        take_events(&mut net, 0),
        [
            SyncEvent::Joined { room, peers: 0 },
            SyncEvent::Store(StoreStatus::Disabled)
        ]
    );

    net.connect(1).expect("connect");
    settle(&mut net);
    assert_eq!(take_events(&mut net, 0), [SyncEvent::PeerJoined(peers[1])]);
    assert_eq!(
        take_events(&mut net, 1),
        [
            SyncEvent::Joined { room, peers: 1 },
            SyncEvent::Store(StoreStatus::Disabled)
        ]
    );

    net.connect(2).expect("connect");
    settle(&mut net);
    assert_eq!(take_events(&mut net, 0), [SyncEvent::PeerJoined(peers[2])]);
    assert_eq!(take_events(&mut net, 1), [SyncEvent::PeerJoined(peers[2])]);
    assert_eq!(
        take_events(&mut net, 2),
        [
            SyncEvent::Joined { room, peers: 2 },
            SyncEvent::Store(StoreStatus::Disabled)
        ]
    );

    // A record: every other device hears of it once, from its writer, without deletions.
    let now = net.now_ms;
    let id = net.devices[0]
        .vault
        .record(
            &ns("chatgpt"),
            content("chatgpt", "intent.include", "hello", now),
            now,
        )
        .expect("record");
    net.local_change(0).expect("local change");
    settle(&mut net);
    assert_eq!(changes(&take_events(&mut net, 0), peers[0]), []);
    for i in 1..3 {
        let events = take_events(&mut net, i);
        assert_eq!(
            changes(&events, peers[0]),
            [(ns("chatgpt"), 0)],
            "device {i}"
        );
        assert_eq!(events.len(), 1, "device {i}: {events:?}");
    }

    // An edit on device 1, then a policy change on device 2: both reported in their namespace.
    let now = net.now_ms;
    net.devices[1]
        .vault
        .edit(&id, Some(Answer::Text("hello again".into())), None, now)
        .expect("edit");
    net.local_change(1).expect("local change");
    settle(&mut net);
    for i in [0, 2] {
        assert_eq!(
            changes(&take_events(&mut net, i), peers[1]),
            [(ns("chatgpt"), 0)]
        );
    }
    assert_eq!(take_events(&mut net, 1), []);
    let now = net.now_ms;
    net.devices[2]
        .vault
        .set_policy(&ns("chatgpt"), Policy::UserMerge, now)
        .expect("policy");
    net.local_change(2).expect("local change");
    settle(&mut net);
    for i in [0, 1] {
        assert_eq!(
            changes(&take_events(&mut net, i), peers[2]),
            [(Namespace::settings(), 0)]
        );
    }
    assert_eq!(take_events(&mut net, 2), []);

    // A delete: one deletion, reported where it arrives.
    let now = net.now_ms;
    net.devices[0].vault.delete(&id, now).expect("delete");
    net.local_change(0).expect("local change");
    settle(&mut net);
    for i in 1..3 {
        assert_eq!(
            changes(&take_events(&mut net, i), peers[0]),
            [(ns("chatgpt"), 1)]
        );
    }
    assert_eq!(take_events(&mut net, 0), []);

    // Leaving: the others hear it; the one that left hears nothing more.
    net.disconnect(1);
    settle(&mut net);
    assert_eq!(take_events(&mut net, 0), [SyncEvent::PeerLeft(peers[1])]);
    assert_eq!(take_events(&mut net, 2), [SyncEvent::PeerLeft(peers[1])]);
    assert_eq!(take_events(&mut net, 1), []);

    // A relay restart: everyone rejoins; each sees the others come back.
    net.restart_relay().expect("restart");
    settle(&mut net);
    let first = take_events(&mut net, 0);
    let second = take_events(&mut net, 2);
    assert_eq!(first.first(), Some(&SyncEvent::Joined { room, peers: 0 }));
    assert_eq!(second.first(), Some(&SyncEvent::Joined { room, peers: 1 }));
    // Each new session asks the relay about its store again.
    let disabled = SyncEvent::Store(StoreStatus::Disabled);
    assert_eq!(
        first[1..],
        [SyncEvent::PeerJoined(peers[2]), disabled.clone()]
    );
    assert_eq!(second[1..], [disabled], "{second:?}");
}

#[test]
fn in_sync_says_whether_another_device_holds_every_local_write() {
    let mut net = Network::new(12);
    for vault in replicas(2) {
        net.add(vault);
    }
    net.connect(0).expect("connect");
    settle(&mut net);
    // Alone in the room: nobody holds anything of ours.
    assert!(!net.in_sync(0));
    net.connect(1).expect("connect");
    settle(&mut net);
    assert!(net.in_sync(0) && net.in_sync(1));

    let chatgpt = ns("chatgpt");
    let now = net.now_ms;
    net.devices[0]
        .vault
        .record(
            &chatgpt,
            content("chatgpt", "intent.include", "new", now),
            now,
        )
        .expect("record");
    // Written here only, until the peer confirms it.
    assert!(!net.in_sync(0));
    net.local_change(0).expect("local change");
    settle(&mut net);
    assert!(net.in_sync(0) && net.in_sync(1));
    assert_eq!(net.devices[1].vault.list(None).responses.len(), 1);

    net.disconnect(1);
    settle(&mut net);
    assert!(!net.in_sync(0), "the only peer left");
}
