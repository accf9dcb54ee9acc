//! Sync is incremental: one new answer costs a few hundred bytes, and replicas that meet again
//! with nothing new exchange little, thanks to the sync state saved when they parted.

use selfos_sync::testing::Network;
use selfos_vault::{ChunkStore, FileStore, Vault};
use tempfile::TempDir;

use crate::support::{
    assert_converged, assert_no_trouble, content, forwarded_bytes, ns, pass, replicas, replicas_in,
    settle,
};

/// Answers already in sync before the measurements.
const BACKLOG: usize = 300;

/// Upper bound for one new ~300-byte answer to reach the other replica, all frames counted.
const ONE_ANSWER_BUDGET: usize = 4 * 1024;

/// Upper bound for two replicas that reconnect with nothing new.
const RESYNC_BUDGET: usize = 2 * 1024;

fn text(n: usize) -> String {
    let mut t = format!("answer {n}: ");
    while t.len() < 300 {
        t.push_str("I would like a worked example and sources; ");
    }
    t
}

fn fill<S: ChunkStore>(net: &mut Network<S>, count: usize) {
    for n in 0..count {
        let i = n % net.devices.len();
        let agent = ["chatgpt", "claude"][n % 2];
        let now = net.now_ms;
        net.devices[i]
            .vault
            .record(
                &ns(agent),
                content(agent, "intent.include", &text(n), now),
                now,
            )
            .expect("record");
        net.local_change(i).expect("local change");
        if n % 50 == 0 {
            settle(net);
        }
    }
    settle(net);
}

/// Bytes the relay forwarded while one new answer went from device 0 to device 1.
fn one_answer<S: ChunkStore>(net: &mut Network<S>, n: usize) -> (usize, usize) {
    let mark = net.forwarded.len();
    let now = net.now_ms;
    net.devices[0]
        .vault
        .record(
            &ns("chatgpt"),
            content("chatgpt", "intent.include", &text(n), now),
            now,
        )
        .expect("record");
    net.local_change(0).expect("local change");
    settle(net);
    (forwarded_bytes(net, mark), net.forwarded.len() - mark)
}

/// Bytes the relay forwarded while every device reconnected and resynced.
fn reconnect<S: ChunkStore>(net: &mut Network<S>) -> (usize, usize) {
    for i in 0..net.devices.len() {
        net.disconnect(i);
    }
    settle(net);
    let mark = net.forwarded.len();
    for i in 0..net.devices.len() {
        net.connect(i).expect("connect");
    }
    settle(net);
    (forwarded_bytes(net, mark), net.forwarded.len() - mark)
}

#[test]
fn one_new_answer_and_an_idle_reconnect_cost_few_bytes() {
    let mut net = Network::new(6);
    for vault in replicas(2) {
        let i = net.add(vault);
        net.connect(i).expect("connect");
    }
    fill(&mut net, BACKLOG);
    assert_eq!(assert_converged(&mut net), BACKLOG);
    let full: usize = forwarded_bytes(&net, 0);

    let (bytes, frames) = one_answer(&mut net, BACKLOG);
    assert_eq!(assert_converged(&mut net), BACKLOG + 1);
    println!("incremental: one ~300-byte answer cost {bytes} bytes in {frames} frames");
    assert!(bytes < ONE_ANSWER_BUDGET, "one answer cost {bytes} bytes");

    let (bytes, frames) = reconnect(&mut net);
    assert_eq!(assert_converged(&mut net), BACKLOG + 1);
    println!(
        "incremental: idle reconnect cost {bytes} bytes in {frames} frames \
         (building the backlog cost {full})"
    );
    assert!(
        bytes < RESYNC_BUDGET,
        "an idle reconnect cost {bytes} bytes"
    );

    // The sessions after a reconnect are just as incremental.
    let (bytes, frames) = one_answer(&mut net, BACKLOG + 1);
    println!("incremental: one answer after the reconnect cost {bytes} bytes in {frames} frames");
    assert!(bytes < ONE_ANSWER_BUDGET, "one answer cost {bytes} bytes");
    assert_no_trouble(&net);
}

/// Two replicas on disk, in sync, then closed.
fn two_closed_replicas(dirs: &[TempDir; 2]) {
    let mut net = Network::new(7);
    for vault in replicas_in(dirs.iter().map(|d| FileStore::without_fsync(d.path()))) {
        let i = net.add(vault);
        net.connect(i).expect("connect");
    }
    fill(&mut net, BACKLOG);
    for i in 0..2 {
        net.disconnect(i);
    }
    settle(&mut net);
}

/// Reopens both replicas from disk in a new network (a new process) and resyncs them; returns
/// the bytes and frames that took.
fn reopen_and_resync(dirs: &[TempDir; 2], seed: u64) -> (usize, usize) {
    let mut net = Network::new(seed);
    for dir in dirs {
        let vault = Vault::open(FileStore::without_fsync(dir.path()), &pass()).expect("open");
        let i = net.add(vault);
        net.connect(i).expect("connect");
    }
    settle(&mut net);
    assert_eq!(assert_converged(&mut net), BACKLOG);
    assert_no_trouble(&net);
    for i in 0..2 {
        net.disconnect(i);
    }
    settle(&mut net);
    (forwarded_bytes(&net, 0), net.forwarded.len())
}

#[test]
fn saved_sync_state_survives_closing_and_reopening_the_vaults() {
    let dirs: [TempDir; 2] = std::array::from_fn(|_| tempfile::tempdir().expect("temp folder"));
    two_closed_replicas(&dirs);

    // The devices restart: vaults reopened from disk, a new process, new engines.
    let (saved, frames) = reopen_and_resync(&dirs, 8);
    println!(
        "incremental: resync after reopening both vaults cost {saved} bytes in {frames} frames"
    );
    assert!(
        saved < RESYNC_BUDGET,
        "resync after a restart cost {saved} bytes"
    );

    // The same without the saved sync state, for comparison.
    for dir in &dirs {
        let peers = dir.path().join("peers");
        assert!(
            peers.is_dir(),
            "no sync state saved in {}",
            dir.path().display()
        );
        std::fs::remove_dir_all(peers).expect("remove saved sync state");
    }
    let (unsaved, frames) = reopen_and_resync(&dirs, 9);
    println!(
        "incremental: the same resync without saved sync state cost {unsaved} bytes in {frames} frames"
    );
    assert!(
        saved < unsaved,
        "saved state did not help: {saved} >= {unsaved}"
    );
}
