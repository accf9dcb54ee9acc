//! Every refusal is named, and a refused call changes nothing.

use selfos_vault::{
    Answer, ChunkStore, ContentError, CreateError, ErrorKind, FileStore, MemoryStore, Namespace,
    OpenError, Passphrase, Policy, Resolution, ResponseId, Status, Vault, WriteError,
};

use crate::support::{T0, content, kdf, ns, pass};

fn vault() -> Vault<MemoryStore> {
    Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create")
}

/// Runs a refused call and checks that neither memory nor storage changed.
fn refused<T: std::fmt::Debug>(
    v: &mut Vault<MemoryStore>,
    call: impl FnOnce(&mut Vault<MemoryStore>) -> Result<T, WriteError>,
) -> WriteError {
    let listing = v.list(None).responses;
    let stored = v.store().clone();
    let err = call(v).expect_err("refused");
    assert_eq!(v.list(None).responses, listing, "memory changed: {err}");
    assert_eq!(v.store(), &stored, "storage changed: {err}");
    err
}

#[test]
fn writes_to_settings_are_refused() {
    let mut v = vault();
    let settings = Namespace::settings();
    let err = refused(&mut v, |v| v.record(&settings, content("x", "y", T0), T0));
    assert!(matches!(err, WriteError::ReservedNamespace(n) if n == settings));
    let err = refused(&mut v, |v| v.set_policy(&settings, Policy::UserMerge, T0));
    assert!(matches!(err, WriteError::ReservedNamespace(_)));
}

#[test]
fn invalid_content_is_refused() {
    let mut v = vault();
    let chatgpt = ns("chatgpt");
    let id = v
        .record(&chatgpt, content("chatgpt", "fine", T0), T0)
        .expect("record");
    for rating in [0u8, 6, 255] {
        let mut c = content("chatgpt", "", T0);
        c.answer = Some(Answer::Rating(rating));
        let err = refused(&mut v, |v| v.record(&chatgpt, c, T0));
        assert!(
            matches!(&err, WriteError::Invalid(ContentError::Rating(r)) if *r == rating),
            "{err}"
        );
        let err = refused(&mut v, |v| {
            v.edit(&id, Some(Answer::Rating(rating)), None, T0)
        });
        assert!(matches!(err, WriteError::Invalid(_)), "{err}");
    }
    for rating in 1..=5 {
        let mut c = content("chatgpt", "", T0);
        c.answer = Some(Answer::Rating(rating));
        v.record(&chatgpt, c, T0).expect("ratings 1-5 are fine");
    }
    let mut unanswered = content("chatgpt", "", T0);
    unanswered.answer = None;
    let err = refused(&mut v, |v| v.record(&chatgpt, unanswered.clone(), T0));
    assert!(matches!(err, WriteError::Invalid(_)));
    unanswered.status = Status::Skipped;
    v.record(&chatgpt, unanswered, T0)
        .expect("a skipped card needs no answer");
    let mut long = content("chatgpt", "", T0);
    long.answer = Some(Answer::Text("x".repeat(selfos_vault::MAX_TEXT_LEN + 1)));
    assert!(matches!(
        refused(&mut v, |v| v.record(&chatgpt, long, T0)),
        WriteError::Invalid(_)
    ));
}

#[test]
fn unknown_and_deleted_records_are_named() {
    let mut v = vault();
    let chatgpt = ns("chatgpt");
    let id = v
        .record(&chatgpt, content("chatgpt", "here", T0), T0)
        .expect("record");
    let unknown = ResponseId {
        namespace: chatgpt.clone(),
        record: [9; 16].into(),
    };
    let elsewhere = ResponseId {
        namespace: ns("claude"),
        record: id.record,
    };
    for missing in [&unknown, &elsewhere] {
        let err = refused(&mut v, |v| v.edit(missing, None, Some(Status::Skipped), T0));
        assert!(
            matches!(&err, WriteError::NotFound(i) if i == missing),
            "{err}"
        );
        let err = refused(&mut v, |v| v.delete(missing, T0));
        assert!(
            matches!(&err, WriteError::NotFound(i) if i == missing),
            "{err}"
        );
        assert_eq!(v.get(missing).expect("get"), None);
    }

    v.delete(&id, T0 + 1).expect("delete");
    let err = refused(&mut v, |v| {
        v.edit(&id, Some(Answer::Text("back".into())), None, T0 + 2)
    });
    assert!(matches!(&err, WriteError::Deleted(i) if *i == id), "{err}");
    let err = refused(&mut v, |v| v.delete(&id, T0 + 2));
    assert!(matches!(err, WriteError::Deleted(_)), "{err}");
}

#[test]
fn resolving_what_is_not_a_conflict_is_refused() {
    let mut v = vault();
    let chatgpt = ns("chatgpt");
    let id = v
        .record(&chatgpt, content("chatgpt", "one value", T0), T0)
        .expect("record");
    let err = refused(&mut v, |v| v.resolve(&id, Resolution::Keep(0), T0));
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(
        matches!(&err, WriteError::NoConflict(i) if *i == id),
        "{err}"
    );

    // A real conflict, and a value index past its end.
    let mut b = Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
    b.merge_from(&mut v, T0 + 1).expect("merge");
    v.edit(&id, Some(Answer::Text("from a".into())), None, T0 + 2)
        .expect("edit");
    b.edit(&id, Some(Answer::Text("from b".into())), None, T0 + 3)
        .expect("edit");
    v.merge_from(&mut b, T0 + 4).expect("merge");
    assert_eq!(v.conflicts().len(), 1);
    let err = refused(&mut v, |v| v.resolve(&id, Resolution::Keep(2), T0 + 5));
    assert!(
        matches!(&err, WriteError::NoSuchValue { index: 2, count: 2, id: i } if *i == id),
        "{err}"
    );
    let kept = v
        .resolve(&id, Resolution::Keep(1), T0 + 6)
        .expect("resolve");
    assert_eq!(kept.content.answer, Some(Answer::Text("from a".into())));
    assert!(v.conflicts().is_empty());
}

#[test]
fn merging_another_vault_is_refused_and_passphrases_are_per_device() {
    let mut a = vault();
    a.record(&ns("chatgpt"), content("chatgpt", "a", T0), T0)
        .expect("record");
    let mut stranger = vault();
    stranger
        .record(&ns("chatgpt"), content("chatgpt", "stranger", T0), T0)
        .expect("record");
    let err = refused(&mut a, |a| a.merge_from(&mut stranger, T0));
    assert!(matches!(err, WriteError::OtherVault), "{err}");
    let err = refused(&mut stranger, |s| s.merge_from(&mut a, T0));
    assert!(matches!(err, WriteError::OtherVault), "{err}");

    // A device of the same vault under a passphrase of its own is a replica like any other.
    let own_pass = Passphrase::new("a passphrase of its own".into());
    let mut phone =
        Vault::restore(MemoryStore::new(), &a.secret(), &own_pass, kdf()).expect("restore");
    phone
        .record(&ns("chatgpt"), content("chatgpt", "phone", T0), T0)
        .expect("record");
    a.merge_from(&mut phone, T0 + 1).expect("merge");
    assert_eq!(a.list(None).responses.len(), 2);
    let phone_store = phone.into_store();
    let err = Vault::open(phone_store.clone(), &pass()).expect_err("its own passphrase only");
    assert!(matches!(err, OpenError::WrongPassphrase), "{err}");
    Vault::open(phone_store, &own_pass).expect("opens with its own passphrase");
}

#[test]
fn create_and_open_refusals() {
    let v = vault();
    let secret = v.secret();
    let store = v.store().clone();
    let err = Vault::create(store.clone(), &pass(), kdf()).expect_err("exists");
    assert!(matches!(err, CreateError::AlreadyExists), "{err}");
    let err = Vault::restore(store.clone(), &secret, &pass(), kdf()).expect_err("exists");
    assert!(matches!(err, CreateError::AlreadyExists), "{err}");

    let empty = Passphrase::new(String::new());
    let err = Vault::create(MemoryStore::new(), &empty, kdf()).expect_err("empty");
    assert!(matches!(err, CreateError::EmptyPassphrase), "{err}");
    let err = Vault::restore(MemoryStore::new(), &secret, &empty, kdf()).expect_err("empty");
    assert!(matches!(err, CreateError::EmptyPassphrase), "{err}");
    let err = Vault::open(store, &empty).expect_err("empty never unlocks");
    assert!(matches!(err, OpenError::WrongPassphrase), "{err}");

    let err = Vault::open(MemoryStore::new(), &pass()).expect_err("nothing there");
    assert!(matches!(err, OpenError::NotFound), "{err}");

    // The same on disk, where a refused create leaves the folder as it was.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("vault");
    Vault::create(FileStore::new(&root), &pass(), kdf()).expect("create");
    let header = std::fs::read(root.join("header")).expect("header");
    let err = Vault::create(FileStore::new(&root), &pass(), kdf()).expect_err("exists");
    assert!(matches!(err, CreateError::AlreadyExists), "{err}");
    assert_eq!(std::fs::read(root.join("header")).expect("header"), header);
    let err =
        Vault::create(FileStore::new(dir.path().join("other")), &empty, kdf()).expect_err("empty");
    assert!(matches!(err, CreateError::EmptyPassphrase), "{err}");
    assert!(
        !dir.path().join("other").exists(),
        "a refused create wrote a folder"
    );
}

#[test]
fn a_session_key_reopens_its_vault_and_no_other() {
    let mut v = vault();
    let chatgpt = ns("chatgpt");
    v.record(&chatgpt, content("chatgpt", "kept", T0), T0)
        .unwrap();
    let bytes = v.session_key().to_bytes();
    let key = selfos_vault::SessionKey::from_bytes(&bytes).unwrap();
    let resumed = Vault::resume(v.store().clone(), &key).unwrap();
    assert_eq!(resumed.list(None).responses, v.list(None).responses);
    assert_eq!(resumed.sync_keys().room_seed(), v.sync_keys().room_seed());

    // Another vault's key, even one with the same passphrase, unlocks nothing and writes nothing.
    let other = vault();
    let stored = v.store().clone();
    let err = Vault::resume(v.store().clone(), &other.session_key()).unwrap_err();
    assert!(matches!(err, OpenError::WrongSessionKey), "{err}");
    assert_eq!(v.store(), &stored);
    // Another replica of the same vault, even under the same passphrase, has its own salt and
    // so its own device key.
    let sibling = Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).unwrap();
    let err = Vault::resume(v.store().clone(), &sibling.session_key()).unwrap_err();
    assert!(matches!(err, OpenError::WrongSessionKey), "{err}");
}

#[test]
fn a_new_passphrase_rewraps_locally_and_ends_older_sessions() {
    let mut v = vault();
    let chatgpt = ns("chatgpt");
    v.record(&chatgpt, content("chatgpt", "kept", T0), T0)
        .unwrap();
    let before = v.session_key();
    let chunks = v.store().clone();
    let new_pass = Passphrase::new("a brand new passphrase".into());
    v.change_passphrase(&new_pass, kdf()).expect("rewrap");

    let err = Vault::open(v.store().clone(), &pass()).expect_err("old passphrase");
    assert!(matches!(err, OpenError::WrongPassphrase), "{err}");
    let err = Vault::resume(v.store().clone(), &before).expect_err("old session");
    assert!(matches!(err, OpenError::WrongSessionKey), "{err}");
    let reopened = Vault::open(v.store().clone(), &new_pass).expect("new passphrase");
    assert_eq!(reopened.list(None).responses, v.list(None).responses);
    assert_eq!(reopened.sync_keys().room_seed(), v.sync_keys().room_seed());
    Vault::resume(v.store().clone(), &v.session_key()).expect("the new session key");
    // Only the header changed: no chunk was written, so there is nothing to sync.
    for ns in chunks.namespaces().unwrap() {
        assert_eq!(chunks.list(&ns).unwrap(), v.store().list(&ns).unwrap());
    }
    let err = v
        .change_passphrase(&Passphrase::new(String::new()), kdf())
        .expect_err("empty");
    assert!(matches!(err, CreateError::EmptyPassphrase), "{err}");
}
