//! The relay process is killed and restarted over and over while two replicas watch and keep
//! recording; afterwards nothing is missing anywhere.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    time::{Duration, Instant},
};

use selfos_vault::{FileStore, Vault};
use tokio_util::sync::CancellationToken;

use crate::common::{answer, kdf, now_ms, ns, options, pass, snapshot, start};

const RESTARTS: u32 = 20;

fn ids(vault: &mut Vault<FileStore>) -> BTreeSet<String> {
    vault.refresh().unwrap();
    let listing = vault.list(None);
    assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
    listing.responses.iter().map(|r| r.id.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_lose_nothing_while_the_relay_is_killed_and_restarted() {
    let started = Instant::now();
    let mut relay = start(SocketAddr::from(([127, 0, 0, 1], 0)), &[]).await;
    let addr = relay.addr;
    let opts = options(addr);

    // Each device: one handle that watches (as `selfos sync --watch` does) and one that records
    // into the same folder (as `selfos record` in another process does).
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store = |d: &tempfile::TempDir| FileStore::without_fsync(d.path());
    let mut writer_a = Vault::create(store(&dir_a), &pass(), kdf()).unwrap();
    let mut writer_b = Vault::restore(store(&dir_b), &writer_a.secret(), &pass(), kdf()).unwrap();
    let stop = CancellationToken::new();
    let watchers: Vec<_> = [&dir_a, &dir_b]
        .into_iter()
        .map(|dir| {
            let mut vault = Vault::open(store(dir), &pass()).unwrap();
            let (opts, stop) = (opts.clone(), stop.clone());
            tokio::spawn(async move {
                let summary = selfos_net::watch(&mut vault, &opts, &stop, |_| {})
                    .await
                    .unwrap();
                (vault, summary)
            })
        })
        .collect();

    let mut recorded = BTreeSet::new();
    let mut record =
        |round: u32, phase: &str, a: &mut Vault<FileStore>, b: &mut Vault<FileStore>| {
            for (side, vault) in [("a", a), ("b", b)] {
                let text = format!("round {round} {phase} from {side}");
                let namespace = ns(if round.is_multiple_of(2) {
                    "chatgpt"
                } else {
                    "claude"
                });
                let id = vault
                    .record(&namespace, answer("intent.include", &text), now_ms())
                    .unwrap();
                recorded.insert(id.to_string());
            }
        };
    for round in 0..RESTARTS {
        record(round, "while up", &mut writer_a, &mut writer_b);
        // Up for 40-190 ms: sometimes mid-sync, sometimes after it settled.
        tokio::time::sleep(Duration::from_millis(40 + u64::from(round * 37 % 150))).await;
        tokio::task::spawn_blocking(move || relay.kill())
            .await
            .unwrap();
        record(round, "while down", &mut writer_a, &mut writer_b);
        tokio::time::sleep(Duration::from_millis(u64::from(round * 13 % 60))).await;
        relay = start(addr, &[]).await;
        assert_eq!(relay.addr, addr);
    }
    record(
        RESTARTS,
        "after the last restart",
        &mut writer_a,
        &mut writer_b,
    );
    assert_eq!(recorded.len(), (2 * 2 * RESTARTS + 2) as usize);

    // Converged: both folders hold every answer recorded on either side.
    let mut reader_a = Vault::open(store(&dir_a), &pass()).unwrap();
    let mut reader_b = Vault::open(store(&dir_b), &pass()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (a, b) = (ids(&mut reader_a), ids(&mut reader_b));
        if recorded.is_subset(&a) && recorded.is_subset(&b) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not converged: a misses {}, b misses {}",
            recorded.difference(&a).count(),
            recorded.difference(&b).count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    stop.cancel();
    let mut done = Vec::new();
    for w in watchers {
        done.push(w.await.unwrap());
    }
    let [(mut a, sa), (mut b, sb)]: [_; 2] = done.try_into().unwrap();
    a.refresh().unwrap();
    b.refresh().unwrap();
    let snap_a = snapshot(&mut a);
    assert_eq!(snap_a, snapshot(&mut b));
    let listed: BTreeSet<String> = snap_a.responses.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(listed, recorded, "something recorded is missing, or extra");
    for s in [&sa, &sb] {
        // The watchers really went through the restarts (not one long connection).
        assert!(
            s.connections > RESTARTS / 2,
            "only {} connections",
            s.connections
        );
        assert!(s.rejected.is_empty(), "{:?}", s.rejected);
    }
    eprintln!(
        "{RESTARTS} restarts, {} answers, connections a={} b={}, {:?}",
        recorded.len(),
        sa.connections,
        sb.connections,
        started.elapsed()
    );
}
