//! The vault secret: a recovery kit restores a device, nothing shared derives from a
//! passphrase, and a format-1 vault (keys from the passphrase) is refused but still exports.

use std::path::PathBuf;

use selfos_vault::{
    ErrorKind, FileStore, ImportOptions, MemoryStore, OpenError, Passphrase, RecoveryKitError,
    Vault, VaultSecret, VaultV1,
};

use crate::support::{T0, all_files, contains, content, kdf, ns, pass};

#[test]
fn a_recovery_kit_restores_a_device_of_the_same_vault() {
    let mut laptop = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    laptop
        .record(
            &ns("chatgpt"),
            content("chatgpt", "from the laptop", T0),
            T0,
        )
        .expect("record");
    let kit = laptop.secret().recovery_kit();

    let secret = VaultSecret::from_recovery_kit(&kit).expect("kit");
    assert_eq!(secret.vault_id().expect("id"), laptop.id());
    let phone_pass = Passphrase::new("the phone's own passphrase".into());
    let mut phone =
        Vault::restore(MemoryStore::new(), &secret, &phone_pass, kdf()).expect("restore");
    assert_eq!(phone.id(), laptop.id());
    assert_eq!(
        phone.sync_keys().room_seed(),
        laptop.sync_keys().room_seed()
    );
    assert_eq!(
        phone.sync_keys().envelope_key(),
        laptop.sync_keys().envelope_key()
    );
    assert_ne!(phone.replica(), laptop.replica());
    phone.merge_from(&mut laptop, T0 + 1).expect("merge");
    assert_eq!(phone.list(None).responses.len(), 1);

    // A kit with one word changed is caught before anything is created.
    let mut words: Vec<&str> = kit
        .lines()
        .skip(1)
        .flat_map(str::split_whitespace)
        .collect();
    words[3] = if words[3] == "abandon" {
        "ability"
    } else {
        "abandon"
    };
    let err = VaultSecret::from_recovery_kit(&words.join(" ")).expect_err("checksum");
    assert_eq!(err, RecoveryKitError::Checksum);
}

/// What a device keeps and what it shares: the header (salt, Argon2id output, wrapped
/// secret) is all a passphrase could be tested against, and it never goes into a chunk, so
/// chunks can be handed to a relay's store.
#[test]
fn nothing_in_a_chunk_derives_from_the_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = Vault::create(FileStore::new(dir.path()), &pass(), kdf()).expect("create");
    for i in 0..3 {
        v.record(
            &ns("chatgpt"),
            content("chatgpt", &format!("answer {i}"), T0),
            T0 + i,
        )
        .expect("record");
    }
    let header = std::fs::read(dir.path().join("header")).expect("header");
    // Salt (16 bytes) and wrapped secret (48) sit at fixed places of the 150-byte header.
    let (salt, wrapped) = (&header[54..70], &header[94..142]);
    let session = v.session_key().to_bytes();
    let device_key = &session[21..];
    for (path, bytes) in all_files(dir.path()) {
        if path.ends_with("header") {
            continue;
        }
        for (what, needle) in [
            ("salt", salt),
            ("wrapped secret", wrapped),
            ("device key", device_key),
        ] {
            assert!(
                !contains(&bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
}

fn v1_fixture() -> tempfile::TempDir {
    let from: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data/v1_vault"]
        .iter()
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, bytes) in all_files(&from) {
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("folder");
        std::fs::write(to, bytes).expect("copy");
    }
    dir
}

/// A vault written by the last format-1 build (`tests/data/v1_vault`, passphrase "format one
/// passphrase"): refused with a message that says what to do, exported read-only, imported
/// into a new vault.
#[test]
fn a_format_1_vault_is_refused_and_its_answers_move_to_a_new_vault() {
    let dir = v1_fixture();
    let before = all_files(dir.path());
    let v1_pass = || Passphrase::new("format one passphrase".into());
    let err = Vault::open(FileStore::new(dir.path()), &v1_pass()).expect_err("format 1");
    assert_eq!(err.kind(), ErrorKind::OldFormat, "{err}");
    assert!(err.to_string().contains("export"), "{err}");
    assert!(VaultV1::detect(&FileStore::new(dir.path())).expect("detect"));

    let err = VaultV1::open(FileStore::new(dir.path()), &pass()).expect_err("wrong passphrase");
    assert!(matches!(err, OpenError::WrongPassphrase), "{err}");
    let old = VaultV1::open(FileStore::new(dir.path()), &v1_pass()).expect("read-only");
    let export = old.export();
    assert_eq!(export.responses.len(), 2);
    assert!(
        old.export_markdown()
            .contains("format one answer about rust lifetimes")
    );
    drop(old);
    assert_eq!(
        all_files(dir.path()),
        before,
        "reading format 1 wrote nothing"
    );

    let mut new = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let report = new
        .import_with(&export, &ImportOptions::from_other_vault(), T0)
        .expect("import");
    assert_eq!(report.added, 2);
    let texts: Vec<String> = new
        .list(None)
        .responses
        .iter()
        .map(|r| format!("{:?}", r.content.answer))
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("rust lifetimes")),
        "{texts:?}"
    );

    let current = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let err = VaultV1::open(current.into_store(), &pass()).expect_err("not format 1");
    assert!(matches!(err, OpenError::NotFormatV1), "{err}");
}
