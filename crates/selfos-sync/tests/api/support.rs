//! Helpers shared by every test module: replicas of one vault, a content builder, and checks
//! over a whole [`Network`].

use std::path::{Path, PathBuf};

use selfos_proto::{Frame, PeerId};
use selfos_sync::{SyncEvent, testing::Network};
use selfos_vault::{
    Answer, CardKind, ChunkStore, Content, KdfParams, MemoryStore, Namespace, Passphrase, Status,
    Vault,
};

/// The passphrase of every test vault.
pub(crate) const PASS: &str = "correct horse battery staple";

/// Cheap Argon2id parameters: tests derive keys for every replica.
pub(crate) fn kdf() -> KdfParams {
    KdfParams::new(64, 1, 1).expect("cheap KDF parameters are in range")
}

pub(crate) fn pass() -> Passphrase {
    Passphrase::new(PASS.into())
}

pub(crate) fn ns(name: &str) -> Namespace {
    Namespace::new(name).expect("valid namespace")
}

/// An answered intent card with a free-text answer.
pub(crate) fn content(agent: &str, card: &str, text: &str, created_ms: u64) -> Content {
    Content {
        card_id: card.into(),
        card_kind: CardKind::Intent,
        answer: Some(Answer::Text(text.into())),
        agent: agent.into(),
        origin: "tests".into(),
        created_ms,
        wait_ms: 7_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

/// `n` replicas of one new vault, in memory.
pub(crate) fn replicas(n: usize) -> Vec<Vault<MemoryStore>> {
    let first = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create vault");
    let link = first.link();
    let mut out = vec![first];
    for _ in 1..n {
        out.push(Vault::join(MemoryStore::new(), &link, &pass()).expect("join vault"));
    }
    out
}

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

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A folder under the system's temporary folder, removed on drop.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).expect("randomness");
        let path = std::env::temp_dir().join(format!(
            "selfos-sync-{label}-{}-{}",
            std::process::id(),
            u64::from_le_bytes(nonce)
        ));
        std::fs::create_dir_all(&path).expect("create temp folder");
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
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

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
