//! Store benchmarks, against the budget in DESIGN.md ("Budgets"): a fresh device catches up
//! 10,000 answers from the relay's store, native, in 1 s or less (download, decrypt, load).
//!
//! The relay (`selfos_relay::Server`) runs in process on its own runtime threads, on loopback;
//! each device is a vault in memory with a hand-driven `SyncEngine` over a WebSocket.
//!
//! 1. **Catch-up.** Device A records N answers (10,000), uploads them to a relay with a SQLite
//!    store and leaves. A fresh device (another replica of the vault, holding nothing) connects
//!    alone; timed from the connection until its engine reports the store settled (every blob
//!    listed is fetched, checked, opened and merged, and its vault stored it). Side by side, the
//!    same catch-up from a live peer: A online at a relay without a store, the fresh device
//!    connecting, timed until it holds A's heads. Bytes on the wire (WebSocket payloads, both
//!    ways, the fresh device's connection) for each.
//! 2. **Upload of one answer**, per backend: A, holding the N answers and settled with the store,
//!    records one more; timed from the write until the store's acknowledgement (the engine
//!    settled again), with the bytes moved. Compaction (a snapshot of the whole namespace) runs
//!    now and then, by the storage rule: when it runs within the iterations, the slowest and
//!    the largest upload show its cost. SQLite, and PostgreSQL: a
//!    throwaway server the test kit starts (Debian's `postgresql` package), or the database of
//!    `SELFOS_BENCH_POSTGRES` (a `postgres://` URL; the bench writes to it).
//!
//! A summary table is printed at the end. Under `--test` (`cargo test --benches`) N is 200 and
//! a few iterations run; the figures mean nothing.

// Bench setup: a failure should abort the run loudly, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use selfos::{
    net::RelayAddress,
    sync::StoreStatus,
    vault::{MemoryStore, Vault},
};
use selfos_benches::{Device, Row, ms, percentile, print_table, pump, sample_content, test_mode};
use selfos_relay::{RelayConfig, Server, StoreConfig};
use selfos_testkit::{now_ms, ns, replicas};
use tokio::runtime::Runtime;

/// A relay in this process with `store`.
fn relay(rt: &Runtime, store: StoreConfig) -> (Server, RelayAddress) {
    let mut config = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.store = store;
    let server = rt.block_on(Server::spawn(config)).unwrap();
    let address = format!("ws://{}", server.local_addr()).parse().unwrap();
    (server, address)
}

fn settled(device: &Device) -> bool {
    device.engine.store_status() == StoreStatus::Settled
}

/// A vault holding `n` answers.
fn filled(vault: &mut Vault<MemoryStore>, n: u64) {
    let chatgpt = ns("chatgpt");
    for i in 0..n {
        vault.record(&chatgpt, sample_content(i), now_ms()).unwrap();
    }
}

/// A fresh replica catches up from the store alone: time and bytes.
fn from_store(rt: &Runtime, relay: &RelayAddress, fresh: Vault<MemoryStore>) -> (Duration, usize) {
    rt.block_on(async {
        let started = Instant::now();
        let mut device = Device::connect(fresh, relay).await;
        device.run_until(settled).await;
        (started.elapsed(), device.bytes)
    })
}

/// A fresh replica catches up from `a`, online at a relay without a store: time and bytes.
fn from_peer(
    rt: &Runtime,
    relay: &RelayAddress,
    a: &mut Device,
    fresh: Vault<MemoryStore>,
) -> (Duration, usize) {
    let heads = a.vault.heads(&ns("chatgpt"));
    rt.block_on(async {
        let started = Instant::now();
        let mut device = Device::connect(fresh, relay).await;
        let mut arrived = None;
        pump(a, &mut device, Duration::from_millis(50), |d| {
            let done = d.vault.heads(&ns("chatgpt")) == heads;
            if done && arrived.is_none() {
                arrived = Some(started.elapsed());
            }
            done
        })
        .await;
        (arrived.unwrap(), device.bytes)
    })
}

/// One answer more on `a`, until the store holds it: time and bytes.
fn upload_one(rt: &Runtime, a: &mut Device, i: u64) -> (Duration, usize) {
    rt.block_on(async {
        let before = a.bytes;
        let started = Instant::now();
        a.vault
            .record(&ns("chatgpt"), sample_content(i), now_ms())
            .unwrap();
        a.engine.local_change(&mut a.vault).unwrap();
        a.run_until(settled).await;
        (started.elapsed(), a.bytes - before)
    })
}

/// Uploads of one answer each to the store of `relay`, from a device holding `a`'s answers.
fn uploads(
    rt: &Runtime,
    relay: &RelayAddress,
    vault: Vault<MemoryStore>,
    n: u64,
    iterations: u64,
) -> Vec<Row> {
    let mut a = rt.block_on(async {
        let mut a = Device::connect(vault, relay).await;
        a.run_until(settled).await;
        a
    });
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for i in 0..iterations {
        let (time, moved) = upload_one(rt, &mut a, n + i);
        times.push(time);
        bytes.push(moved);
    }
    times.sort_unstable();
    bytes.sort_unstable();
    vec![
        (
            "p50",
            format!(
                "{:.1} ms, {} B",
                ms(percentile(&times, 50.0).unwrap()),
                bytes[bytes.len() / 2]
            ),
        ),
        // The slowest and the largest upload, each on its own: a compaction (a snapshot of the
        // whole namespace) is both, when one ran within the iterations.
        ("slowest", format!("{:.1} ms", ms(*times.last().unwrap()))),
        ("largest", format!("{} B", bytes.last().unwrap())),
    ]
    .into_iter()
    .map(|(what, figure)| Row::info(what, figure))
    .collect()
}

fn main() {
    let (n, rounds, iterations): (u64, usize, u64) = if test_mode() {
        (200, 1, 5)
    } else {
        // Past the 256 incrementals after which a device compacts: one compaction shows.
        (10_000, 5, 300)
    };
    let rt = Runtime::new().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let (store_relay, store_at) = relay(&rt, StoreConfig::Sqlite(folder.path().join("store.db")));
    let (live_relay, live_at) = relay(&rt, StoreConfig::None);

    let mut vaults = replicas(2 * rounds + 3).into_iter();
    let mut a = vaults.next().unwrap();
    filled(&mut a, n);
    let secret_holder = a;
    // A uploads everything and leaves.
    let a = rt.block_on(async {
        let mut a = Device::connect(secret_holder, &store_at).await;
        a.run_until(settled).await;
        a
    });
    let stored = db_bytes(folder.path());
    let vault_a = a.vault;

    let mut store_times = Vec::new();
    let mut store_bytes = 0;
    for _ in 0..rounds {
        let (time, bytes) = from_store(&rt, &store_at, vaults.next().unwrap());
        store_times.push(time);
        store_bytes = bytes;
    }
    let mut a_live = rt.block_on(Device::connect(vault_a, &live_at));
    let mut peer_times = Vec::new();
    let mut peer_bytes = 0;
    for _ in 0..rounds {
        let (time, bytes) = from_peer(&rt, &live_at, &mut a_live, vaults.next().unwrap());
        peer_times.push(time);
        peer_bytes = bytes;
    }
    store_times.sort_unstable();
    peer_times.sort_unstable();
    let store_p50 = percentile(&store_times, 50.0).unwrap();
    let peer_p50 = percentile(&peer_times, 50.0).unwrap();

    let mut rows = vec![
        Row::info(
            &format!("{n} answers in the SQLite store"),
            format!("{stored} B on disk"),
        ),
        Row::budget(
            &format!("a fresh device catches up {n} answers from the store (p50 of {rounds})"),
            ms(store_p50),
            "ms",
            1_000.0,
        ),
        Row::info("  bytes on the wire", format!("{store_bytes} B")),
        Row::info(
            &format!("the same catch-up from a live peer (p50 of {rounds})"),
            format!("{:.0} ms, {peer_bytes} B", ms(peer_p50)),
        ),
        Row::info(
            "  store / live peer",
            format!(
                "{:.2}x the time, {:.2}x the bytes",
                store_p50.as_secs_f64() / peer_p50.as_secs_f64(),
                store_bytes as f64 / peer_bytes.max(1) as f64
            ),
        ),
    ];
    let vault_a = a_live.vault;
    rows.push(Row::info(
        &format!("upload of one answer, SQLite, {iterations} uploads"),
        String::new(),
    ));
    rows.extend(uploads(&rt, &store_at, vault_a, n, iterations));
    // The server, when the bench starts its own, stops when this goes.
    let (url, _server) = match std::env::var("SELFOS_BENCH_POSTGRES") {
        Ok(url) => (url, None),
        Err(_) => {
            let server = selfos_testkit::Postgres::start();
            (server.url(), Some(server))
        }
    };
    let (pg_relay, pg_at) = relay(&rt, StoreConfig::Postgres(url));
    let mut fresh = vaults.next().unwrap();
    filled(&mut fresh, n);
    rows.push(Row::info(
        &format!("upload of one answer, PostgreSQL, {iterations} uploads"),
        String::new(),
    ));
    rows.extend(uploads(&rt, &pg_at, fresh, n, iterations));
    rt.block_on(pg_relay.shutdown());
    rt.block_on(store_relay.shutdown());
    rt.block_on(live_relay.shutdown());
    let title = if test_mode() {
        "store budgets (TEST MODE: few answers and iterations, figures meaningless)"
    } else {
        "store budgets"
    };
    print_table(title, &rows);
}

/// Bytes of the SQLite database and its write-ahead log.
fn db_bytes(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}
