//! Helpers shared by every test module: the workspace's test kit, networks of replicas, and
//! checks over a whole [`Network`].

use std::collections::BTreeSet;

use selfos_proto::{Frame, PeerId};
use selfos_sync::{SyncEvent, harness::Network};
pub(crate) use selfos_testkit::{contains, content, kdf, ns, pass, replicas, replicas_in};
use selfos_vault::{ChunkStore, MemoryStore, Namespace, Vault};

/// Frames any test may need to settle a network; far above what any of them takes.
pub(crate) const MAX_STEPS: usize = 1_000_000;

/// A network of `n` replicas of one vault, all connected and past the handshake.
pub(crate) fn network(n: usize, seed: u64) -> Network<MemoryStore> {
    let mut net = Network::new(seed);
    for vault in replicas(n) {
        let i = net.add(vault);
        net.connect(i).expect("connect");
    }
    settle(&mut net);
    net
}

/// The relay's name for a replica.
pub(crate) fn peer_of<S: ChunkStore>(vault: &Vault<S>) -> PeerId {
    PeerId::from_bytes(*vault.replica().as_bytes())
}

/// Runs until nothing is in flight; fails if that does not happen.
pub(crate) fn settle<S: ChunkStore>(net: &mut Network<S>) -> usize {
    let steps = net.run(MAX_STEPS).expect("network runs without error");
    assert!(!net.busy(), "still busy after {steps} steps");
    steps
}

/// Total bytes of the `Deliver` frames the relay forwarded from index `from` on.
pub(crate) fn forwarded_bytes<S>(net: &Network<S>, from: usize) -> usize {
    net.forwarded[from..].iter().map(Vec::len).sum()
}

/// The payloads (envelopes) of the `Deliver` frames the relay forwarded.
pub(crate) fn forwarded_payloads<S>(net: &Network<S>) -> Vec<Vec<u8>> {
    net.forwarded
        .iter()
        .map(
            |frame| match Frame::decode(frame).expect("the relay forwards valid frames") {
                Frame::Deliver { payload, .. } => payload.as_bytes().to_vec(),
                other => panic!("forwarded a {other:?}"),
            },
        )
        .collect()
}

/// Every namespace any device holds.
pub(crate) fn all_namespaces<S: ChunkStore>(net: &Network<S>) -> BTreeSet<Namespace> {
    net.devices
        .iter()
        .flat_map(|d| d.vault.sync_namespaces())
        .collect()
}

/// Asserts that every device holds the same replica: same namespaces, heads, readable
/// responses (ids, contents, stamps), conflicts, and nothing unreadable. Returns the number of
/// responses.
pub(crate) fn assert_converged<S: ChunkStore>(net: &mut Network<S>) -> usize {
    let namespaces = all_namespaces(net);
    let reference = &net.devices[0].vault;
    let listing = reference.list(None);
    assert!(
        listing.unreadable.is_empty(),
        "device 0 cannot read {:?}",
        listing.unreadable
    );
    let conflicts = reference.conflicts();
    let responses = listing.responses;
    let mut heads = Vec::new();
    for ns in &namespaces {
        heads.push(net.devices[0].vault.heads(ns));
    }
    for (i, device) in net.devices.iter_mut().enumerate().skip(1) {
        let theirs: BTreeSet<Namespace> = device.vault.sync_namespaces().into_iter().collect();
        assert_eq!(theirs, namespaces, "device {i} holds other namespaces");
        for (ns, h) in namespaces.iter().zip(&heads) {
            assert_eq!(
                &device.vault.heads(ns),
                h,
                "device {i}: heads of {ns} differ"
            );
        }
        let listing = device.vault.list(None);
        assert!(
            listing.unreadable.is_empty(),
            "device {i} cannot read {:?}",
            listing.unreadable
        );
        assert_eq!(listing.responses, responses, "device {i}: responses differ");
        assert_eq!(
            device.vault.conflicts(),
            conflicts,
            "device {i}: conflicts differ"
        );
    }
    responses.len()
}

/// Events of device `i` that match `pred`.
pub(crate) fn events_of<S>(
    net: &Network<S>,
    i: usize,
    pred: impl Fn(&SyncEvent) -> bool,
) -> Vec<SyncEvent> {
    net.devices[i]
        .events
        .iter()
        .filter(|e| pred(e))
        .cloned()
        .collect()
}

/// Fails if any device reported a rejected envelope, a warning or a relay error.
pub(crate) fn assert_no_trouble<S>(net: &Network<S>) {
    for (i, d) in net.devices.iter().enumerate() {
        let trouble: Vec<&SyncEvent> = d
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    SyncEvent::Rejected { .. }
                        | SyncEvent::Warning(_)
                        | SyncEvent::RelayError { .. }
                )
            })
            .collect();
        assert!(trouble.is_empty(), "device {i}: {trouble:?}");
    }
}
