//! Vaults, answers and responses as the tests want them: cheap to make, the same everywhere.

use selfos_vault::{
    Answer, CardKind, ChunkStore, Content, Hlc, KdfParams, MemoryStore, Namespace, Passphrase,
    RecordId, Response, ResponseId, Status, Vault,
};

/// The passphrase of every test vault.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Argon2id memory of every test vault, in KiB: the least Argon2 accepts, because tests derive
/// keys for every replica they make (`KdfParams::DEFAULT` takes 64 MiB). Only builds with the
/// vault's `insecure-kdf` feature, which this crate turns on, accept it.
pub const KDF_MEMORY_KIB: u32 = 64;
/// Argon2id passes of every test vault.
pub const KDF_ITERATIONS: u32 = 1;
/// Argon2id lanes of every test vault.
pub const KDF_PARALLELISM: u32 = 1;

/// The cheap key-derivation parameters of every test vault.
#[track_caller]
pub fn kdf() -> KdfParams {
    KdfParams::new(KDF_MEMORY_KIB, KDF_ITERATIONS, KDF_PARALLELISM)
        .expect("cheap KDF parameters are in range")
}

/// [`PASSPHRASE`], as the vault takes it.
pub fn pass() -> Passphrase {
    Passphrase::new(PASSPHRASE.into())
}

/// The namespace `name`.
#[track_caller]
pub fn ns(name: &str) -> Namespace {
    Namespace::new(name).expect("valid namespace")
}

/// Replicas of one new vault under the test passphrase and key derivation, one in each store:
/// the first creates it, the others restore its secret.
#[track_caller]
pub fn replicas_in<S: ChunkStore>(stores: impl IntoIterator<Item = S>) -> Vec<Vault<S>> {
    let mut stores = stores.into_iter();
    let first = Vault::create(stores.next().expect("at least one store"), &pass(), kdf())
        .expect("create vault");
    let secret = first.secret();
    let mut out = vec![first];
    for store in stores {
        out.push(Vault::restore(store, &secret, &pass(), kdf()).expect("restore vault"));
    }
    out
}

/// `n` replicas of one new vault, in memory.
#[track_caller]
pub fn replicas(n: usize) -> Vec<Vault<MemoryStore>> {
    replicas_in((0..n).map(|_| MemoryStore::new()))
}

/// `agent`'s answer to card `card_id` (of kind `kind`), recorded at `created_ms`, with no context.
pub fn answered(
    agent: &str,
    card_id: &str,
    kind: CardKind,
    answer: Answer,
    created_ms: u64,
) -> Content {
    Content {
        card_id: card_id.into(),
        card_kind: kind,
        answer: Some(answer),
        agent: agent.into(),
        origin: "tests".into(),
        created_ms,
        wait_ms: 7_000,
        status: Status::Answered,
        context: Default::default(),
    }
}

/// `agent`'s free-text answer `text` to the intent card `card_id`, recorded at `created_ms`:
/// what most tests record.
pub fn content(agent: &str, card_id: &str, text: &str, created_ms: u64) -> Content {
    answered(
        agent,
        card_id,
        CardKind::Intent,
        Answer::Text(text.into()),
        created_ms,
    )
}

/// `content` as a vault lists it, made without a vault: `record` in the namespace named after
/// its agent, last written when it was created, by a node of all zeros, with no conflict. For
/// the crates that read histories (graph, trainer).
#[track_caller]
pub fn response(record: [u8; 16], content: Content) -> Response {
    Response {
        id: ResponseId {
            namespace: ns(&content.agent),
            record: RecordId::from(record),
        },
        updated: Hlc {
            wall_ms: content.created_ms,
            counter: 0,
            node: [0; 8],
        },
        content,
        conflicted: false,
    }
}

/// The text of a response's free-text or choice answer, if it has one.
pub fn text_of(r: &Response) -> Option<&str> {
    match &r.content.answer {
        Some(Answer::Text(t) | Answer::Choice(t)) => Some(t),
        _ => None,
    }
}
