//! Damaged storage: a wrong passphrase, flipped or cut chunks, a broken header, chunks moved
//! around. Opening only reads, damage is named, and what is intact stays readable.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use selfos_vault::{
    ChunkId, ChunkKind, FileStore, HeaderError, Namespace, OpenError, Passphrase, ResponseId, Vault,
};
use tempfile::TempDir;

use crate::support::{T0, content, kdf, ns, pass, snapshot_dir, text_of};

/// A vault on disk with records in two namespaces, both compacted at least once, and one more
/// record (`victim`) in `chatgpt` whose only copy is the newest incremental chunk.
struct Fixture {
    _dir: TempDir,
    root: PathBuf,
    /// Every record and its text.
    texts: BTreeMap<ResponseId, String>,
    victim: ResponseId,
    victim_chunk: PathBuf,
}

fn chatgpt() -> Namespace {
    ns("chatgpt")
}

fn claude() -> Namespace {
    ns("claude")
}

fn chunk_files(root: &Path, ns: &Namespace) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("chunks").join(ns.as_str()))
        .expect("namespace folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn chunk_id(path: &Path) -> ChunkId {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 name")
        .parse()
        .expect("a chunk name")
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("vault");
    let mut vault = Vault::create(FileStore::new(&root), &pass(), kdf()).expect("create");
    let mut texts = BTreeMap::new();
    let mut t = T0;
    for namespace in [chatgpt(), claude()] {
        for i in 0.. {
            t += 1_000;
            let text = format!("{namespace} answer number {i}");
            let id = vault
                .record(&namespace, content(namespace.as_str(), &text, t), t)
                .expect("record");
            texts.insert(id, text);
            // As a client does when idle: compaction runs off the write path.
            vault.maintain().expect("maintain");
            let compacted = chunk_files(&root, &namespace)
                .iter()
                .any(|p| chunk_id(p).kind == ChunkKind::Snapshot);
            if compacted && i >= 3 {
                break;
            }
            assert!(i < 40, "{namespace} never compacted");
        }
    }
    let before = chunk_files(&root, &chatgpt());
    t += 1_000;
    let text = "the victim answer".to_owned();
    let victim = vault
        .record(&chatgpt(), content("chatgpt", &text, t), t)
        .expect("record");
    texts.insert(victim.clone(), text);
    let after = chunk_files(&root, &chatgpt());
    let added: Vec<&PathBuf> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(added.len(), 1, "one incremental chunk per write: {added:?}");
    assert_eq!(after.len(), before.len() + 1, "no compaction on this write");
    let victim_chunk = added[0].clone();
    assert_eq!(chunk_id(&victim_chunk).kind, ChunkKind::Incremental);
    Fixture {
        _dir: dir,
        root,
        texts,
        victim,
        victim_chunk,
    }
}

fn open(root: &Path) -> Vault<FileStore> {
    Vault::open(FileStore::new(root), &pass()).expect("open")
}

/// Asserts that every record except `missing` is readable with its text.
fn assert_readable_except(vault: &Vault<FileStore>, f: &Fixture, missing: &[&ResponseId]) {
    let listing = vault.list(None);
    assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
    let got: BTreeMap<ResponseId, String> = listing
        .responses
        .iter()
        .map(|r| (r.id.clone(), text_of(r).expect("text").to_owned()))
        .collect();
    let mut want = f.texts.clone();
    for m in missing {
        want.remove(m);
    }
    assert_eq!(got, want);
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let f = fixture();
    let before = snapshot_dir(&f.root);
    let wrong = Passphrase::new("correct horse battery stapler".into());
    let err = Vault::open(FileStore::new(&f.root), &wrong).expect_err("wrong passphrase");
    assert!(matches!(err, OpenError::WrongPassphrase), "{err:?}");
    assert_eq!(
        snapshot_dir(&f.root),
        before,
        "a failed open changed the folder"
    );

    let vault = open(&f.root);
    assert!(vault.damaged().is_empty());
    assert_readable_except(&vault, &f, &[]);
    assert_eq!(snapshot_dir(&f.root), before, "an open changed the folder");
}

#[test]
fn flipped_byte_is_named_and_kept() {
    let f = fixture();
    let mut bytes = fs::read(&f.victim_chunk).expect("read chunk");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&f.victim_chunk, &bytes).expect("damage chunk");
    let before = snapshot_dir(&f.root);

    let mut vault = open(&f.root);
    assert_eq!(snapshot_dir(&f.root), before, "open changed the folder");
    let damaged = vault.damaged().to_vec();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert_eq!(damaged[0].namespace, chatgpt());
    assert_eq!(damaged[0].chunk, chunk_id(&f.victim_chunk));
    assert!(
        damaged[0].reason.contains("tampered"),
        "{}",
        damaged[0].reason
    );
    assert_readable_except(&vault, &f, &[&f.victim]);
    assert_eq!(vault.get(&f.victim).expect("get"), None);

    // Writing to the other namespace leaves the damaged chunk alone.
    let t = T0 + 1_000_000;
    vault
        .record(&claude(), content("claude", "after the damage", t), t)
        .expect("record");
    assert_eq!(fs::read(&f.victim_chunk).expect("still there"), bytes);

    // Writing to the damaged namespace, even far past the compaction threshold, neither
    // deletes nor rewrites any of its chunks: compaction is blocked.
    let chatgpt_before: BTreeMap<_, _> = before
        .iter()
        .filter(|(p, _)| p.starts_with("chunks/chatgpt"))
        .collect();
    for i in 0..30 {
        let t = t + 1_000 * (i + 1);
        vault
            .record(&chatgpt(), content("chatgpt", &format!("more {i}"), t), t)
            .expect("record");
    }
    let now = snapshot_dir(&f.root);
    for (path, bytes) in chatgpt_before {
        assert_eq!(
            now.get(path),
            Some(bytes),
            "{} was rewritten or deleted",
            path.display()
        );
    }
    drop(vault);
    let vault = open(&f.root);
    assert_eq!(vault.damaged().len(), 1);
    assert_eq!(vault.list(None).responses.len(), f.texts.len() - 1 + 31);
}

#[test]
fn truncated_chunk_is_named() {
    let f = fixture();
    let bytes = fs::read(&f.victim_chunk).expect("read chunk");
    fs::write(&f.victim_chunk, &bytes[..bytes.len() - 7]).expect("truncate");
    let before = snapshot_dir(&f.root);
    let vault = open(&f.root);
    assert_eq!(snapshot_dir(&f.root), before);
    let damaged = vault.damaged();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert_eq!(damaged[0].chunk, chunk_id(&f.victim_chunk));
    assert!(
        damaged[0].reason.contains("truncated"),
        "{}",
        damaged[0].reason
    );
    assert_readable_except(&vault, &f, &[&f.victim]);
}

#[test]
fn damaged_header_is_named() {
    let f = fixture();
    let header = f.root.join("header");
    let good = fs::read(&header).expect("header");
    type Expected = fn(&HeaderError) -> bool;
    let cases: Vec<(Vec<u8>, Expected)> = vec![
        (good[..good.len() / 2].to_vec(), |e| {
            matches!(e, HeaderError::Truncated { .. })
        }),
        (good[..3].to_vec(), |e| {
            matches!(e, HeaderError::Truncated { .. })
        }),
        (
            {
                let mut v = good.clone();
                v[8] = 0x7f;
                v
            },
            |e| matches!(e, HeaderError::UnknownVersion { found: 0x7f }),
        ),
        (
            {
                let mut v = good.clone();
                v[..8].copy_from_slice(b"NOTSELFO");
                v
            },
            |e| matches!(e, HeaderError::BadMagic),
        ),
        (
            {
                let mut v = good.clone();
                v[20] ^= 0x04;
                v
            },
            |e| matches!(e, HeaderError::Checksum),
        ),
        (
            {
                let mut v = good.clone();
                v.push(0);
                v
            },
            |e| matches!(e, HeaderError::TrailingBytes { .. }),
        ),
    ];
    for (bytes, expected) in cases {
        fs::write(&header, &bytes).expect("damage header");
        let before = snapshot_dir(&f.root);
        let err = Vault::open(FileStore::new(&f.root), &pass()).expect_err("damaged header");
        match &err {
            OpenError::Header(e) => assert!(expected(e), "unexpected {e:?}"),
            other => panic!("expected a header error, got {other:?}"),
        }
        assert_eq!(
            snapshot_dir(&f.root),
            before,
            "a failed open changed the folder"
        );
    }
    fs::write(&header, &good).expect("restore header");
    assert_readable_except(&open(&f.root), &f, &[]);
}

#[test]
fn moved_or_renamed_chunks_fail_authentication() {
    let f = fixture();
    let name = f.victim_chunk.file_name().expect("name").to_owned();

    // A copy in the other namespace's folder, under the same name.
    let copied = f.root.join("chunks").join("claude").join(&name);
    fs::copy(&f.victim_chunk, &copied).expect("copy");
    // A copy in the same folder under another name, and one that claims to be a snapshot.
    let id = chunk_id(&f.victim_chunk);
    let mut nonce = id.nonce;
    nonce[0] ^= 0xff;
    let renamed = ChunkId {
        kind: ChunkKind::Incremental,
        nonce,
    };
    let as_snapshot = ChunkId {
        kind: ChunkKind::Snapshot,
        nonce: id.nonce,
    };
    let dir = f.victim_chunk.parent().expect("folder");
    for other in [renamed, as_snapshot] {
        fs::copy(&f.victim_chunk, dir.join(other.to_string())).expect("copy");
    }
    let before = snapshot_dir(&f.root);

    let vault = open(&f.root);
    assert_eq!(snapshot_dir(&f.root), before);
    let mut damaged: Vec<(Namespace, ChunkId)> = vault
        .damaged()
        .iter()
        .inspect(|d| assert!(d.reason.contains("tampered"), "{}", d.reason))
        .map(|d| (d.namespace.clone(), d.chunk))
        .collect();
    damaged.sort_by_key(|(n, c)| (n.clone(), c.to_string()));
    let mut want = vec![
        (claude(), id),
        (chatgpt(), renamed),
        (chatgpt(), as_snapshot),
    ];
    want.sort_by_key(|(n, c)| (n.clone(), c.to_string()));
    assert_eq!(damaged, want);
    // The original still opens: every record, the victim included, is readable.
    assert_readable_except(&vault, &f, &[]);

    // Moved rather than copied: the record is gone, and the move is reported.
    drop(vault);
    for other in [renamed, as_snapshot] {
        fs::remove_file(dir.join(other.to_string())).expect("remove copy");
    }
    fs::remove_file(&copied).expect("remove copy");
    fs::rename(&f.victim_chunk, &copied).expect("move");
    let vault = open(&f.root);
    assert_eq!(vault.damaged().len(), 1);
    assert_eq!(vault.damaged()[0].namespace, claude());
    assert_readable_except(&vault, &f, &[&f.victim]);
}
