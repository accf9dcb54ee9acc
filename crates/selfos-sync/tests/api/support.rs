//! Helpers shared by every test module: the workspace's test kit, networks of replicas, and
//! checks over a whole [`Network`].

use std::path::Path;

use selfos_proto::{Frame, PeerId};
use selfos_sync::{SyncEvent, testing::Network};
pub(crate) use selfos_testkit::{contains, content, kdf, ns, pass, replicas, replicas_in};
use selfos_vault::{ChunkStore, MemoryStore, Vault};

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
    net.settle().expect("the network settles without error")
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

/// Asserts that every device holds the same replica: same namespaces, heads, readable
/// responses (ids, contents, stamps), conflicts, and nothing unreadable. Returns the number of
/// responses.
pub(crate) fn assert_converged<S: ChunkStore>(net: &mut Network<S>) -> usize {
    match net.converged() {
        Ok(converged) => converged.responses,
        Err(divergence) => panic!("not converged: {divergence}"),
    }
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

/// Copies the folder `from` into `to`, recursively.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}
