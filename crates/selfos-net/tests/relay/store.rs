//! The relay's store, searched the way the vault's forensic tests search files: devices that are
//! never online together sync through it, and its database holds no plaintext, nothing derived
//! from a passphrase, and, once a delete has synced, no blob from which the deleted text can be
//! read with any key any replica holds.

use std::{net::SocketAddr, path::Path};

use selfos_relay::{RelayConfig, Server, StoreConfig};
use selfos_sync::{StoreStatus, testing::open_blob};
use selfos_testkit::{PASSPHRASE, contains};
use selfos_vault::{
    MemoryStore, Vault,
    forensics::{bundle_plaintext, chunk_plaintexts, historical_bodies, open_body},
};

use crate::common::{answer, kdf, now_ms, ns, options, pass, passphrase_material};

/// Every byte of the folder's files (the database, its write-ahead log), each file whole.
fn files(folder: &Path) -> Vec<Vec<u8>> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect()
}

/// The blobs the database holds, as a thief of the file would read them.
fn blobs(db: &Path) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut query = conn.prepare("SELECT data FROM blobs").unwrap();
    query
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

async fn sync_alone(vault: &mut Vault<MemoryStore>, addr: SocketAddr) {
    let summary = selfos_net::sync(vault, &options(addr), |_| {})
        .await
        .unwrap();
    assert!(summary.peers.is_empty(), "{summary:?}");
    assert_eq!(summary.store, Some(StoreStatus::Settled), "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_holds_no_plaintext_nothing_to_test_a_passphrase_and_no_deleted_text() {
    let folder = tempfile::tempdir().unwrap();
    let db = folder.path().join("store.db");
    let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.store = StoreConfig::Sqlite(db.clone());
    let server = Server::spawn(cfg).await.unwrap();
    let addr = server.local_addr();

    let mut laptop = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    let mut phone = Vault::restore(MemoryStore::new(), &laptop.secret(), &pass(), kdf()).unwrap();
    let namespace = ns("agent-ocelot");
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    for i in 0..4 {
        let text = format!("zebra quokka marmalade {i}: the secret is tangerine");
        let card = format!("card.periwinkle-{i}");
        ids.push(
            laptop
                .record(&namespace, answer(&card, &text), now_ms())
                .unwrap(),
        );
        texts.push(text);
    }
    sync_alone(&mut laptop, addr).await;
    sync_alone(&mut phone, addr).await;
    assert_eq!(
        phone.list(None).responses.len(),
        4,
        "caught up from the store"
    );

    // The phone deletes the first answer; the laptop hears of it from the store alone.
    let deleted = "pumpernickel: the answer the user deleted";
    let gone = phone
        .record(&namespace, answer("card.gone", deleted), now_ms())
        .unwrap();
    sync_alone(&mut phone, addr).await;
    sync_alone(&mut laptop, addr).await;
    phone.delete(&gone, now_ms()).unwrap();
    sync_alone(&mut phone, addr).await;
    sync_alone(&mut laptop, addr).await;
    assert_eq!(laptop.list(None).responses.len(), 4);
    assert!(laptop.get(&gone).unwrap().is_none());
    drop(server);

    // What must never be in the store's files.
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for t in texts
        .iter()
        .map(String::as_str)
        .chain([deleted, "tangerine", "pumpernickel"])
    {
        secrets.push((format!("text {t:?}"), t.as_bytes().to_vec()));
    }
    for id in ids.iter().chain([&gone]) {
        secrets.push((
            format!("record id {id}"),
            id.record.to_string().into_bytes(),
        ));
        secrets.push((
            format!("record id {id} (raw)"),
            id.record.as_bytes().to_vec(),
        ));
    }
    secrets.push(("namespace".into(), namespace.to_string().into_bytes()));
    secrets.push(("passphrase".into(), PASSPHRASE.as_bytes().to_vec()));
    secrets.push(("vault secret".into(), laptop.secret().to_bytes().to_vec()));
    let mut keys = Vec::new();
    for (name, vault) in [("laptop", &laptop), ("phone", &phone)] {
        secrets.extend(passphrase_material(name, vault));
        let (_, chunks) = chunk_plaintexts(vault.store(), &pass()).unwrap();
        keys.extend(chunks.into_iter().flat_map(|c| c.keys));
    }
    assert!(keys.len() >= 4, "the record keys the replicas hold");
    for (record, key) in &keys {
        secrets.push((format!("key of record {record}"), key.to_vec()));
    }
    let files = files(folder.path());
    assert!(
        files.iter().map(Vec::len).sum::<usize>() > 1000,
        "the store is written"
    );
    for (what, bytes) in &secrets {
        for file in &files {
            assert!(!contains(file, bytes), "{what} is in the store's files");
        }
    }

    // Every blob opens with the vault's keys; with every key any replica or blob holds, no body
    // in the blobs' history opens to the deleted text.
    let sync_keys = laptop.sync_keys();
    let mut docs = Vec::new();
    for blob in blobs(&db) {
        let (blob_ns, bundle) = open_blob(&sync_keys, &blob).expect("a blob of this vault");
        let plain = bundle_plaintext(blob_ns, &bundle).expect("a bundle");
        keys.extend(plain.keys);
        if plain.namespace == namespace {
            docs.push(plain.doc);
        }
    }
    assert!(!docs.is_empty());
    let docs: Vec<&[u8]> = docs.iter().map(Vec::as_slice).collect();
    let bodies = historical_bodies(&docs);
    assert!(
        bodies.iter().any(|(r, _)| *r == gone.record),
        "its body is in the history"
    );
    for (record, body) in &bodies {
        for (_, key) in &keys {
            if let Some(json) = open_body(body, key, &laptop.id(), &namespace, *record) {
                assert!(
                    !json.contains("pumpernickel"),
                    "a blob opens to the deleted text"
                );
            }
        }
    }
}

/// A relay whose database is down still forwards: a one-shot sync with nobody else online ends
/// after a few of the store's retries, saying the store is unavailable, instead of waiting for
/// it until the run's timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stops_waiting_for_a_store_that_stays_unavailable() {
    let mut postgres = selfos_testkit::Postgres::start();
    let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.store = StoreConfig::Postgres(postgres.url());
    let server = Server::spawn(cfg).await.unwrap();
    postgres.stop();

    let mut vault = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    vault
        .record(
            &ns("agent-ocelot"),
            answer("card.one", "kept here"),
            now_ms(),
        )
        .unwrap();
    let mut opts = options(server.local_addr());
    opts.peer_wait = std::time::Duration::from_secs(1);
    // Far longer than the retries take (1 s, then 2 s): ending by the timeout is the failure.
    opts.timeout = std::time::Duration::from_secs(60);
    let summary = selfos_net::sync(&mut vault, &opts, |_| {}).await.unwrap();
    assert_eq!(summary.store, Some(StoreStatus::Unavailable), "{summary:?}");
    assert!(summary.peers.is_empty(), "{summary:?}");
    assert_eq!(summary.connections, 1, "{summary:?}");
}
