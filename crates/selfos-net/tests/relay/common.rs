//! Shared pieces: vaults, answers, relays (in process and as a child process), snapshots.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use selfos_net::{RelayAddress, SyncOptions};
use selfos_relay::{RelayConfig, Server};
use selfos_vault::{
    Answer, CardKind, ChunkStore, Content, KdfParams, Namespace, Passphrase, Response, Status,
    Vault,
};

pub(crate) fn pass() -> Passphrase {
    Passphrase::new("correct horse battery staple".into())
}

pub(crate) fn kdf() -> KdfParams {
    KdfParams::new(64, 1, 1).unwrap()
}

pub(crate) fn ns(name: &str) -> Namespace {
    Namespace::new(name).unwrap()
}

pub(crate) fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A text answer to card `card_id`.
pub(crate) fn answer(card_id: &str, text: &str) -> Content {
    Content {
        card_id: card_id.into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text(text.into())),
        agent: "chatgpt".into(),
        origin: "selfos-net tests".into(),
        created_ms: now_ms(),
        wait_ms: 8_000,
        status: Status::Answered,
        context: Default::default(),
    }
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

/// The `selfos-relay` binary, built once per test run (a no-op when it is fresh).
pub(crate) fn relay_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // The test executable is target/<profile>/deps/relay-<hash>.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| profile_dir.parent().unwrap().to_path_buf());
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "selfos-relay", "--bin", "selfos-relay"])
            .env("CARGO_TARGET_DIR", &target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building selfos-relay failed");
        let bin = target_dir.join("debug").join("selfos-relay");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// The relay binary running as a child process; killed (SIGKILL) when dropped.
pub(crate) struct RelayProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl RelayProcess {
    /// Starts the binary on `listen` (port 0 picks one), retrying while the port is still
    /// held, and waits for its `listening on ADDR` line.
    pub(crate) fn start(listen: SocketAddr) -> Self {
        let bin = relay_binary();
        let mut last = String::new();
        for _ in 0..100 {
            let mut child = Command::new(&bin)
                .args(["--listen", &listen.to_string()])
                .env("RUST_LOG", "error")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            if let Some(addr) = line.trim().strip_prefix("listening on ") {
                return Self {
                    child,
                    addr: addr.parse().unwrap(),
                };
            }
            // No line: it could not bind (the port is not free yet).
            let _ = child.wait();
            last = line;
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the relay did not start on {listen}: {last:?}");
    }

    /// SIGKILL: no drain, no close frames; connections just break.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
