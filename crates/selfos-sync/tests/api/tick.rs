//! What the engine does on its tick: a lost frame stalls an exchange, and the engine starts the
//! exchange over within the same session, with no reconnect; and it saves its envelope counters
//! while they move, so a killed process still refuses old envelopes replayed to it.

use selfos_sync::{
    RESYNC_AFTER_MS, SyncEvent,
    testing::{Faults, Network, strategy::Op},
};
use selfos_vault::MemoryStore;

use selfos_proto::Frame;

use crate::support::{assert_converged, assert_no_trouble, network, peer_of, settle};

fn record(net: &mut Network<MemoryStore>, device: usize, agent: usize) {
    net.apply(&Op::Record { device, agent }).expect("record");
}

fn resynced(net: &Network<MemoryStore>) -> usize {
    net.devices
        .iter()
        .flat_map(|d| &d.events)
        .filter(|e| matches!(e, SyncEvent::Resynced { .. }))
        .count()
}

#[test]
fn dropped_frames_heal_within_the_session() {
    let mut stalled = 0;
    for seed in 1..=24 {
        let mut net = network(3, seed);
        net.faults = Faults::new(350, 0, 0);
        for round in 0..3 {
            for device in 0..3 {
                record(&mut net, device, round);
            }
            settle(&mut net);
        }
        net.faults = Faults::NONE;
        settle(&mut net);
        if net.converged().is_ok() {
            continue; // nothing that mattered was lost
        }
        stalled += 1;
        let lost = net.stats.lost;
        // Only time passes: no reconnect, no relay restart.
        let mut waited = 0;
        while net.converged().is_err() {
            assert!(
                waited <= 4 * RESYNC_AFTER_MS,
                "seed {seed}: still stalled after {waited} ms"
            );
            net.tick(RESYNC_AFTER_MS / 3).expect("tick");
            settle(&mut net);
            waited += RESYNC_AFTER_MS / 3;
        }
        assert_eq!(net.stats.lost, lost, "seed {seed}: nothing was lost since");
        assert!(resynced(&net) > 0, "seed {seed}: healed by a restart");
        assert!(net.devices.iter().all(|d| d.engine().is_some()));
        // A lost fragment makes the rest of its message refused; nothing else may go wrong.
        for device in &mut net.devices {
            device.events.retain(|e| {
                !matches!(
                    e,
                    SyncEvent::Rejected {
                        reason: selfos_sync::EnvelopeError::Fragments,
                        ..
                    }
                )
            });
        }
        assert_no_trouble(&net);
        assert_eq!(assert_converged(&mut net), 9, "seed {seed}");
    }
    assert!(
        stalled >= 3,
        "only {stalled} seeds stalled: the test lost its point"
    );
}

#[test]
fn a_settled_network_stays_quiet_on_its_ticks() {
    let mut net = network(3, 5);
    for device in 0..3 {
        record(&mut net, device, device);
    }
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 3);
    let forwarded = net.forwarded.len();
    for _ in 0..5 {
        net.tick(RESYNC_AFTER_MS).expect("tick");
        settle(&mut net);
    }
    assert_eq!(
        net.forwarded.len(),
        forwarded,
        "no message on a settled network"
    );
    assert_eq!(resynced(&net), 0);
}

#[test]
fn a_killed_device_refuses_envelopes_from_before_its_last_tick() {
    let mut net = network(2, 9);
    record(&mut net, 0, 0);
    settle(&mut net);
    // What the relay delivered to device 1 so far.
    let from_0 = peer_of(&net.devices[0].vault);
    let old: Vec<Vec<u8>> = net
        .forwarded
        .iter()
        .filter(|f| matches!(Frame::decode(f), Ok(Frame::Deliver { from, .. }) if from == from_0))
        .cloned()
        .collect();
    assert!(!old.is_empty());
    net.tick(1_000).expect("tick"); // saves: the counters moved
    record(&mut net, 0, 1);
    settle(&mut net);

    // Device 1's process is killed (nothing saved on the way out), then starts again.
    net.kill(1);
    net.connect(1).expect("connect");
    // The relay replays the old envelopes as soon as the device is back in the room, before
    // any new one from device 0 reaches it.
    while !net.devices[1].engine().is_some_and(|e| e.is_joined()) {
        assert!(net.step().expect("step"), "device 1 joins");
    }
    net.devices[1].events.clear();
    for frame in &old {
        net.inject(1, frame).expect("the engine takes the frame");
    }
    let refused = net.devices[1]
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                SyncEvent::Rejected {
                    reason: selfos_sync::EnvelopeError::Replayed { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(refused, old.len(), "every old envelope is a replay");
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), 2);
}
