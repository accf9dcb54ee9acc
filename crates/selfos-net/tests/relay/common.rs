//! Shared pieces beyond the workspace's test kit: answers, the relay in process, sync options,
//! snapshots.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use selfos_net::{RelayAddress, SyncOptions};
use selfos_relay::{RelayConfig, Server};
use selfos_testkit::{RelayProcess, content, relay_binary};
pub(crate) use selfos_testkit::{kdf, now_ms, ns, pass};
use selfos_vault::{ChunkStore, Content, Response, Vault};

/// `chatgpt`'s free-text answer `text` to card `card_id`, recorded now.
pub(crate) fn answer(card_id: &str, text: &str) -> Content {
    content("chatgpt", card_id, text, now_ms())
}

/// The relay binary on `listen` with the flags `args`, started off the runtime's threads (it
/// waits for the process).
pub(crate) async fn start(listen: SocketAddr, args: &[&str]) -> RelayProcess {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        RelayProcess::start(&relay_binary(), listen, &std::env::temp_dir(), &args)
    })
    .await
    .unwrap()
}

/// A relay in this process on a free loopback port.
pub(crate) async fn relay() -> Server {
    Server::spawn(RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0))))
        .await
        .unwrap()
}

pub(crate) fn address(addr: SocketAddr) -> RelayAddress {
    format!("ws://{addr}").parse().unwrap()
}

/// Options for tests: short waits and a short backoff.
pub(crate) fn options(addr: SocketAddr) -> SyncOptions {
    let mut opts = SyncOptions::new(address(addr));
    opts.peer_wait = Duration::from_secs(5);
    opts.quiet = Duration::from_millis(300);
    opts.timeout = Duration::from_secs(20);
    opts.backoff = (Duration::from_millis(20), Duration::from_millis(300));
    opts.refresh_every = Duration::from_millis(50);
    opts
}

/// What must be identical on converged replicas: every response (sorted by id) and the heads
/// of every namespace.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) responses: Vec<Response>,
    pub(crate) heads: BTreeMap<String, String>,
}

pub(crate) fn snapshot<S: ChunkStore>(vault: &mut Vault<S>) -> Snapshot {
    let listing = vault.list(None);
    assert!(
        listing.unreadable.is_empty(),
        "unreadable: {:?}",
        listing.unreadable
    );
    let mut responses = listing.responses;
    responses.sort_by_key(|r| r.id.to_string());
    let heads = vault
        .namespaces()
        .into_iter()
        .map(|n| {
            let heads = vault.heads(&n);
            (n.to_string(), format!("{heads:?}"))
        })
        .collect();
    Snapshot { responses, heads }
}

/// What a passphrase yields on a device, none of which may leave it: its Argon2id output (the
/// device key, the last 32 bytes of a session key), and the header's salt and wrapped secret,
/// which a guess is tested against. Named for failure messages.
pub(crate) fn passphrase_material<S: ChunkStore>(
    name: &str,
    vault: &Vault<S>,
) -> Vec<(String, Vec<u8>)> {
    let session = vault.session_key().to_bytes();
    let header = vault.store().read_header().unwrap().unwrap();
    vec![
        (format!("device key of {name}"), session[21..].to_vec()),
        (format!("salt of {name}"), header[54..70].to_vec()),
        (
            format!("wrapped secret of {name}"),
            header[94..142].to_vec(),
        ),
    ]
}
