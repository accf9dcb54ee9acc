//! What the crate's unit tests share: vaults under the cheapest key derivation, and an answer.
//! (Integration tests use `selfos-testkit`, whose types are this crate's public ones.)

use crate::{Answer, CardKind, Content, KdfParams, MemoryStore, Passphrase, Vault};

/// The time every write of these tests is stamped with, ms since the Unix epoch.
pub(crate) const NOW: u64 = 1_700_000_000_000;

pub(crate) fn pass() -> Passphrase {
    Passphrase::new("correct horse battery staple".into())
}

/// A new vault, and a second replica of it.
pub(crate) fn pair() -> (Vault<MemoryStore>, Vault<MemoryStore>) {
    let kdf = KdfParams::new(64, 1, 1).unwrap();
    let a = Vault::create(MemoryStore::new(), &pass(), kdf).unwrap();
    let b = Vault::restore(MemoryStore::new(), &a.secret(), &pass(), kdf).unwrap();
    (a, b)
}

/// An answered intent card for `chatgpt` with the answer `text`.
pub(crate) fn answer(text: &str) -> Content {
    Content::answered(
        "intent.include",
        CardKind::Intent,
        Answer::Text(text.into()),
        "chatgpt",
        "tests",
        NOW,
    )
}
