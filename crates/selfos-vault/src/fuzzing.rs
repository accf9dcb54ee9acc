//! Entry points for the cargo-fuzz targets in `fuzz/`, one per decoder of bytes that come from
//! outside the process: a peer's replication message, chunks and the header (whatever the store
//! hands back), the recovery kit (typed or pasted by the user), the session key (browser session
//! storage) and a JSON export (any file). None may panic, and each checks what its format promises. Not a
//! stable API.

use crate::{
    chunk::ChunkBody,
    export::{Export, ImportOptions},
    header::VaultHeader,
    ids::{ChunkId, ChunkKind, Namespace, ResponseId, VaultId},
    keys::{KdfParams, Passphrase, SecretKey},
    recovery::VaultSecret,
    replication::ReplicationMessage,
    session::SessionKey,
    storage::MemoryStore,
    vault::Vault,
};

/// Decodes arbitrary bytes as a replication message from a peer. Must never panic, and what
/// decodes must encode to bytes that decode and encode the same again.
pub fn decode_replication_message(data: &[u8]) {
    let Ok(message) = ReplicationMessage::decode(data) else {
        return;
    };
    // The framing is checked without the Automerge part: Automerge's encoder is only meant for
    // messages Automerge generated (it debug-asserts that their hashes are sorted), and the vault
    // never re-encodes one it received.
    let framing = ReplicationMessage {
        doc: None,
        ..message
    };
    let mut encoded = Vec::new();
    framing.encode_into(&mut encoded);
    let mut again = Vec::new();
    if let Ok(back) = ReplicationMessage::decode(&encoded) {
        back.encode_into(&mut again);
    }
    assert_eq!(
        encoded, again,
        "a decoded message does not re-encode stably"
    );
}

/// Opens arbitrary bytes as the chunk named by `chunk_names`, then decodes them as a chunk's
/// plaintext (the part only an authenticated writer reaches). A decoded body re-encodes to bytes
/// that decode to the same encoding.
pub fn chunk(data: &[u8]) {
    let Some((key, vault, ns, id)) = chunk_names() else {
        return;
    };
    if let Ok(body) = ChunkBody::open(data, &key, &vault, &ns, &id) {
        check_body(&body);
    }
    if let Ok(body) = ChunkBody::decode(data) {
        check_body(&body);
    }
}

fn check_body(body: &ChunkBody) {
    let once = body.encode();
    let again = ChunkBody::decode(&once).map(|b| b.encode());
    assert!(
        again
            .as_ref()
            .is_ok_and(|a| a.as_slice() == once.as_slice()),
        "a decoded chunk body does not re-encode stably"
    );
}

/// Key, vault, namespace and name of the chunk that [`chunk`] opens (and its seeds are sealed
/// for). `None` never happens: the namespace is valid.
fn chunk_names() -> Option<(SecretKey, VaultId, Namespace, ChunkId)> {
    let id = ChunkId {
        kind: ChunkKind::Snapshot,
        nonce: [2; 16],
    };
    let ns = Namespace::new("chatgpt").ok()?;
    Some((
        SecretKey::from_bytes(&mut [7; 32]),
        VaultId::from([1; 16]),
        ns,
        id,
    ))
}

/// Decodes arbitrary bytes as a vault header. The format has one encoding per header, so a
/// decoded header re-encodes to exactly its input.
pub fn header(data: &[u8]) {
    if let Ok(header) = VaultHeader::decode(data) {
        assert!(header.encode() == data, "a header re-encodes differently");
    }
}

/// Parses arbitrary bytes as the text of a recovery kit. A kit that parses prints back as a kit
/// of the same secret.
pub fn recovery_kit(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(secret) = VaultSecret::from_recovery_kit(text)
    {
        let again = VaultSecret::from_recovery_kit(&secret.recovery_kit());
        assert!(
            again.is_ok_and(|a| a.0.same_as(&secret.0)),
            "a recovery kit does not survive printing and parsing"
        );
    }
}

/// Decodes arbitrary bytes as a session key; one decoded re-encodes to exactly its input.
pub fn session_key(data: &[u8]) {
    if let Ok(key) = SessionKey::from_bytes(data) {
        assert!(
            key.to_bytes().as_slice() == data,
            "a session key re-encodes differently"
        );
    }
}

/// Parses arbitrary bytes as a JSON export and imports it into a new vault (whatever vault it
/// names). An accepted import
/// accounts for every response, reads each new one back as it was in the file (the first of
/// repeated ids wins), leaves nothing unreadable, and adds nothing the second time.
pub fn export_import(data: &[u8]) {
    const NOW_MS: u64 = 1_700_000_000_000;
    let Ok(export) = serde_json::from_slice::<Export>(data) else {
        return;
    };
    // The smallest Argon2id work: the fuzzer is after the import, not the key derivation.
    let Ok(kdf) = KdfParams::new(8, 1, 1) else {
        return;
    };
    let pass = Passphrase::new("fuzz".into());
    let Ok(mut vault) = Vault::create(MemoryStore::new(), &pass, kdf) else {
        return;
    };
    let options = ImportOptions::from_other_vault();
    let Ok(report) = vault.import_with(&export, &options, NOW_MS) else {
        return;
    };
    assert_eq!(
        report.added + report.existing + report.deleted_here,
        export.responses.len(),
        "the import report does not account for every response"
    );
    let listing = vault.list(None);
    assert!(
        listing.unreadable.is_empty(),
        "an imported response is unreadable"
    );
    assert_eq!(listing.responses.len(), report.added);
    for read in &listing.responses {
        let first = export
            .responses
            .iter()
            .find(|r| r.id.parse::<ResponseId>().as_ref() == Ok(&read.id));
        assert!(
            first.is_some_and(|r| r.content == read.content && r.stamp() == read.updated),
            "an imported response reads back differently"
        );
    }
    let again = vault.import_with(&export, &options, NOW_MS);
    assert!(
        again.is_ok_and(|r| r.added == 0),
        "a second import of the same export added responses"
    );
}

#[cfg(test)]
mod tests {
    //! The seeds of the corpora in `fuzz/corpus/`. `cargo test -p selfos-vault fuzzing --
    //! --ignored` writes them again (chunk nonces are random, so the sealed seeds change).

    use std::{fs, path::PathBuf};

    use super::*;
    use crate::{
        Answer, CardKind, Content, Status,
        ids::{RecordId, ReplicaId, WriterId},
        keytable::{Dot, KeyEntry, KeyState, Vector},
    };

    fn write(target: &str, name: &str, bytes: &[u8]) {
        let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "../../fuzz/corpus", target]
            .iter()
            .collect();
        fs::create_dir_all(&dir).expect("corpus folder");
        fs::write(dir.join(name), bytes).expect("seed written");
    }

    fn kdf() -> KdfParams {
        KdfParams::new(64, 1, 1).expect("test parameters")
    }

    #[test]
    #[ignore = "writes the seed corpora; run by hand"]
    fn write_seeds() {
        // chunk: one sealed for the names the target opens with, and plaintext bodies.
        let (key, vault, ns, id) = chunk_names().expect("names");
        let mut vector = Vector::default();
        vector.0.insert(WriterId::from([3; 16]), 3);
        let entry = |seq, state| KeyEntry {
            state,
            dot: Dot {
                origin: WriterId::from([3; 16]),
                seq,
            },
        };
        let body = ChunkBody {
            keys: vec![
                (
                    RecordId::from([4; 16]),
                    entry(1, KeyState::Live(SecretKey::from_bytes(&mut [5; 32]))),
                ),
                (RecordId::from([6; 16]), entry(2, KeyState::Shredded)),
                (
                    RecordId::from([4; 16]),
                    entry(3, KeyState::Retired(entry(1, KeyState::Shredded).dot)),
                ),
            ],
            vector,
            doc: b"automerge bytes".to_vec(),
        };
        let sealed = body.seal(&key, &vault, &ns, &id).expect("sealed");
        write("chunk", "sealed", &sealed);
        write("chunk", "body", &body.encode());
        write("chunk", "body_empty", &ChunkBody::default().encode());

        // header
        let (header, _) = VaultHeader::seal(
            vault,
            ReplicaId::from([3; 16]),
            &key,
            &Passphrase::new("seed".into()),
            kdf(),
        )
        .expect("sealed");
        write("header", "header", &header.encode());

        // recovery kit: as printed, and as copied by hand (numbered, upper case).
        let kit = VaultSecret(SecretKey::from_bytes(&mut [5; 32])).recovery_kit();
        write("recovery_kit", "printed", kit.as_bytes());
        let numbered: String = kit
            .lines()
            .skip(1)
            .flat_map(str::split_whitespace)
            .enumerate()
            .map(|(i, w)| format!("{}. {}\n", i + 1, w.to_uppercase()))
            .collect();
        write("recovery_kit", "numbered", numbered.as_bytes());

        // session key
        let session = SessionKey {
            vault,
            device: SecretKey::from_bytes(&mut [5; 32]),
        };
        write("session_key", "key", &session.to_bytes());

        // export: an empty one, and a vault with answers of every kind and a policy.
        let pass = Passphrase::new("seed".into());
        let mut v = Vault::create(MemoryStore::new(), &pass, kdf()).expect("vault");
        let content = |answer, status| Content {
            card_id: "intent.include".into(),
            card_kind: CardKind::Intent,
            answer,
            agent: "chatgpt".into(),
            origin: "https://chatgpt.com".into(),
            created_ms: 1_700_000_000_000,
            wait_ms: 8_000,
            status,
            context: Default::default(),
        };
        let now = 1_700_000_000_000;
        for c in [
            content(
                Some(Answer::Text("a worked example".into())),
                Status::Answered,
            ),
            content(Some(Answer::Rating(4)), Status::Answered),
            content(Some(Answer::Choice("short".into())), Status::Answered),
            content(None, Status::Skipped),
        ] {
            v.record(&ns, c, now).expect("recorded");
        }
        let claude = Namespace::new("claude").expect("namespace");
        v.record(
            &claude,
            content(Some(Answer::Text("sources".into())), Status::Answered),
            now,
        )
        .expect("recorded");
        v.set_policy(&claude, crate::Policy::UserMerge, now)
            .expect("policy");
        let full = serde_json::to_vec_pretty(&v.export()).expect("json");
        write("export_import", "vault", &full);
        let empty = Vault::create(MemoryStore::new(), &pass, kdf()).expect("vault");
        let empty = serde_json::to_vec(&empty.export()).expect("json");
        write("export_import", "empty", &empty);
    }
}
