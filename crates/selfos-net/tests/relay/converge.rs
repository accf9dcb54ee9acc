//! Replicas that sync at the same time through the relay end up identical.

use selfos_net::{SyncOptions, SyncSummary};
use selfos_vault::{MemoryStore, Vault};

use crate::common::{answer, now_ms, ns, options, relay, snapshot};

/// `n` replicas of one vault, each with answers of its own in several namespaces.
fn replicas(n: usize) -> Vec<Vault<MemoryStore>> {
    let mut all = selfos_testkit::replicas(n);
    for (i, vault) in all.iter_mut().enumerate() {
        for (j, name) in ["chatgpt", "claude", "profile"].into_iter().enumerate() {
            if j <= i {
                let text = format!("replica {i} in {name}");
                vault
                    .record(&ns(name), answer("intent.include", &text), now_ms())
                    .unwrap();
            }
        }
    }
    all
}

/// Runs `selfos_net::sync` for every replica at once, each on its own task.
async fn sync_all(
    vaults: Vec<Vault<MemoryStore>>,
    opts: &SyncOptions,
) -> Vec<(Vault<MemoryStore>, SyncSummary)> {
    let tasks: Vec<_> = vaults
        .into_iter()
        .map(|mut vault| {
            let opts = opts.clone();
            tokio::spawn(async move {
                let summary = selfos_net::sync(&mut vault, &opts, |_| {}).await.unwrap();
                (vault, summary)
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn converge(n: usize) {
    let server = relay().await;
    let vaults = replicas(n);
    let expected: usize = vaults.iter().map(|v| v.list(None).responses.len()).sum();
    let ids: Vec<_> = vaults.iter().map(|v| v.replica()).collect();
    let mut opts = options(server.local_addr());
    // "At the same time": each stays until all have met. A quiet spell shorter than a loaded
    // machine's scheduling stalls lets the first two finish before the third is in the room.
    opts.quiet = std::time::Duration::from_secs(2);
    let mut done = sync_all(vaults, &opts).await;

    let reference = snapshot(&mut done[0].0);
    assert_eq!(reference.responses.len(), expected);
    assert!(reference.heads.contains_key("claude"));
    for (i, (vault, summary)) in done.iter_mut().enumerate() {
        assert_eq!(snapshot(vault), reference, "replica {i} differs");
        // Each met every other replica, and nobody else.
        let met: Vec<_> = summary.peers.iter().map(|p| *p.as_bytes()).collect();
        let others: Vec<_> = ids
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, r)| *r.as_bytes())
            .collect();
        assert_eq!(met, {
            let mut o = others;
            o.sort_unstable();
            o
        });
        assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
        assert_eq!(summary.connections, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_converge_through_the_relay() {
    converge(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_converge_through_the_relay() {
    converge(3).await;
}

/// A device whose peer finished first and left is done too: it does not sit out the rest of
/// `peer_wait` waiting for a device to appear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_ends_soon_after_the_peer_left() {
    let server = relay().await;
    let mut vaults = replicas(2);
    let (mut slow, mut quick) = (vaults.remove(0), vaults.remove(0));
    let mut slow_opts = options(server.local_addr());
    slow_opts.quiet = std::time::Duration::from_millis(800);
    slow_opts.peer_wait = std::time::Duration::from_secs(8);
    let mut quick_opts = options(server.local_addr());
    quick_opts.quiet = std::time::Duration::from_millis(100);
    let started = std::time::Instant::now();
    let (s, q) = tokio::join!(
        selfos_net::sync(&mut slow, &slow_opts, |_| {}),
        selfos_net::sync(&mut quick, &quick_opts, |_| {}),
    );
    let took = started.elapsed();
    let (s, q) = (s.unwrap(), q.unwrap());
    assert_eq!((s.peers.len(), q.peers.len()), (1, 1));
    assert_eq!(snapshot(&mut slow), snapshot(&mut quick));
    assert!(
        took < std::time::Duration::from_secs(4),
        "took {took:?}: waited for another peer after the only one left"
    );
}
