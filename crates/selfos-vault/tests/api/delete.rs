//! Delete really deletes: after a delete has merged everywhere, the answer's text is in no
//! stored byte of any replica, its key is in no chunk, and no body left in any Automerge history
//! opens with any key left anywhere. Overwriting erases the same way: after an edit or a
//! resolution has merged everywhere, no body left in any history opens to the value it replaced.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use selfos_vault::{
    Answer, FileStore, Resolution, ResponseId, Vault, WriteError,
    forensics::{chunk_plaintexts, historical_bodies, open_body},
};
use tempfile::TempDir;

use crate::support::{T0, all_files, contains, content, ns, pair_mut, pass, replicas_in, text_of};

struct Replicas {
    _dir: TempDir,
    roots: Vec<PathBuf>,
    vaults: Vec<Vault<FileStore>>,
}

fn replicas(count: usize) -> Replicas {
    let dir = tempfile::tempdir().expect("tempdir");
    let roots: Vec<PathBuf> = (0..count)
        .map(|i| dir.path().join(format!("r{i}")))
        .collect();
    let vaults = replicas_in(roots.iter().map(FileStore::new));
    Replicas {
        _dir: dir,
        roots,
        vaults,
    }
}

fn merge_all(vaults: &mut [Vault<FileStore>], now: u64) {
    for _ in 0..2 {
        for i in 0..vaults.len() {
            for j in 0..vaults.len() {
                if i != j {
                    let (a, b) = pair_mut(vaults, i, j);
                    a.merge_from(b, now).expect("merge");
                }
            }
        }
    }
}

/// Everything an attacker with the passphrase and every replica's files can read.
struct Forensics {
    /// Every JSON content that some body in some history opens to, with some key.
    opened: Vec<String>,
}

/// Searches every replica for `gone` (texts that must be unrecoverable) and for the keys of
/// `deleted` (records whose keys must be in no chunk), and returns what it could open.
fn search(r: &Replicas, gone: &[&str], deleted: &[&ResponseId]) -> Forensics {
    // (i) No stored byte holds the text in the clear.
    for root in &r.roots {
        for (path, bytes) in all_files(root) {
            for text in gone {
                assert!(
                    !contains(&bytes, text.as_bytes()),
                    "{text:?} is stored in the clear in {}",
                    path.display()
                );
            }
        }
    }
    // (ii) Every chunk decrypted: the text is in no document, the key in no key list.
    let mut keys: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut bodies = Vec::new();
    let mut vault_id = None;
    for (i, v) in r.vaults.iter().enumerate() {
        let (vault, chunks) = chunk_plaintexts(v.store(), &pass()).expect("decrypt chunks");
        assert!(!chunks.is_empty());
        vault_id = Some(vault);
        let mut docs: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for chunk in chunks {
            for text in gone {
                assert!(
                    !contains(&chunk.doc, text.as_bytes()),
                    "replica {i}: {text:?} is in a chunk's document"
                );
            }
            for id in deleted {
                assert!(
                    chunk.keys.iter().all(|(record, _)| *record != id.record),
                    "replica {i}: the key of deleted {id} is still stored"
                );
            }
            keys.extend(chunk.keys.iter().map(|(_, k)| *k));
            docs.entry(chunk.namespace.to_string())
                .or_default()
                .push(chunk.doc);
        }
        // All of a namespace's chunks together, as an attacker would load them.
        for (namespace, docs) in docs {
            let docs: Vec<&[u8]> = docs.iter().map(Vec::as_slice).collect();
            for (record, body) in historical_bodies(&docs) {
                bodies.push((ns(&namespace), record, body));
            }
        }
    }
    // (iii) Every body in every history, tried with every key found anywhere.
    let vault = vault_id.expect("a vault");
    let mut opened = Vec::new();
    for (namespace, record, body) in &bodies {
        for key in &keys {
            if let Some(json) = open_body(body, key, &vault, namespace, *record) {
                for text in gone {
                    assert!(!json.contains(text), "{text:?} came out of a stored body");
                }
                opened.push(json);
            }
        }
    }
    Forensics { opened }
}

fn can_read(f: &Forensics, text: &str) -> bool {
    f.opened.iter().any(|json| json.contains(text))
}

#[test]
fn deleted_text_is_in_no_stored_byte_anywhere() {
    let mut r = replicas(3);
    let chatgpt = ns("chatgpt");
    let claude = ns("claude");
    let texts = [
        "zebra quartz lantern",
        "obsidian marmalade",
        "periwinkle catapult",
        "saffron gyroscope",
        "tungsten meadowlark",
    ];
    let mut ids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let t = T0 + i as u64 * 1_000;
        let n = if i % 2 == 0 { &chatgpt } else { &claude };
        let writer = i % 2; // replicas 0 and 1 write; replica 2 only merges
        ids.push(
            r.vaults[writer]
                .record(n, content(n.as_str(), text, t), t)
                .expect("record"),
        );
    }
    // An edit too: the old value stays in history, its key retired.
    let t = T0 + 10_000;
    r.vaults[0]
        .edit(
            &ids[2],
            Some(Answer::Text("periwinkle catapult, edited".into())),
            None,
            t,
        )
        .expect("edit");
    merge_all(&mut r.vaults, T0 + 20_000);

    // Before the delete the search finds every text, the doomed one included.
    let f = search(&r, &[], &[]);
    for text in texts {
        assert!(can_read(&f, text), "the search cannot find {text:?}");
    }

    // Replica 1 deletes an answer that replica 0 wrote and edited.
    let doomed = ids[2].clone();
    let report = r.vaults[1].delete(&doomed, T0 + 30_000).expect("delete");
    assert!(report.shredded_in_this_replica);
    merge_all(&mut r.vaults, T0 + 40_000);
    for (i, v) in r.vaults.iter().enumerate() {
        assert_eq!(v.get(&doomed).expect("get"), None, "replica {i}");
        assert_eq!(v.list(None).responses.len(), texts.len() - 1, "replica {i}");
        assert!(
            v.find(&doomed.to_string()).is_err(),
            "replica {i} finds {doomed}"
        );
    }
    let f = search(
        &r,
        &["periwinkle catapult", "periwinkle catapult, edited"],
        &[&doomed],
    );
    for (i, text) in texts.iter().enumerate() {
        if i != 2 {
            assert!(can_read(&f, text), "the search cannot find {text:?}");
        }
    }

    // Reopened from disk, every replica still agrees.
    let roots = r.roots.clone();
    r.vaults.clear();
    for root in &roots {
        let v = Vault::open(FileStore::new(root), &pass()).expect("reopen");
        assert!(v.damaged().is_empty());
        assert_eq!(v.get(&doomed).expect("get"), None);
        assert_eq!(v.list(None).responses.len(), texts.len() - 1);
        r.vaults.push(v);
    }
}

#[test]
fn delete_racing_an_edit_wins_and_the_edit_is_unrecoverable() {
    let mut r = replicas(2);
    let chatgpt = ns("chatgpt");
    let keep = r.vaults[0]
        .record(&chatgpt, content("chatgpt", "cobalt hummingbird", T0), T0)
        .expect("record");
    let doomed = r.vaults[0]
        .record(
            &chatgpt,
            content("chatgpt", "vermilion accordion", T0 + 1),
            T0 + 1,
        )
        .expect("record");
    merge_all(&mut r.vaults, T0 + 1_000);

    // Concurrently: A deletes, B edits the same answer.
    let report = r.vaults[0].delete(&doomed, T0 + 2_000).expect("delete");
    assert!(report.shredded_in_this_replica);
    r.vaults[1]
        .edit(
            &doomed,
            Some(Answer::Text("ultramarine bassoon".into())),
            None,
            T0 + 3_000,
        )
        .expect("edit");
    {
        let (a, b) = pair_mut(&mut r.vaults, 0, 1);
        a.merge_from(b, T0 + 4_000).expect("merge into A");
        b.merge_from(a, T0 + 4_000).expect("merge into B");
    }
    for (i, v) in r.vaults.iter().enumerate() {
        assert_eq!(v.get(&doomed).expect("get"), None, "replica {i}");
        let listing = v.list(None);
        assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
        assert_eq!(
            listing.responses.iter().map(|r| &r.id).collect::<Vec<_>>(),
            vec![&keep]
        );
        assert!(v.conflicts().is_empty(), "replica {i}: {:?}", v.conflicts());
        assert!(
            v.find(&doomed.to_string()).is_err(),
            "replica {i} finds {doomed}"
        );
    }
    assert!(matches!(
        r.vaults[1].edit(
            &doomed,
            Some(Answer::Text("again".into())),
            None,
            T0 + 5_000
        ),
        Err(WriteError::Deleted(_))
    ));
    let f = search(
        &r,
        &["vermilion accordion", "ultramarine bassoon"],
        &[&doomed],
    );
    assert!(can_read(&f, "cobalt hummingbird"));
}

/// The answer every replica reads for `id`, and whether it shows a conflict.
fn read_everywhere(r: &Replicas, id: &ResponseId) -> Vec<(String, bool)> {
    r.vaults
        .iter()
        .map(|v| {
            let read = v.get(id).expect("get").expect("present");
            (text_of(&read).expect("a text").to_owned(), read.conflicted)
        })
        .collect()
}

#[test]
fn an_edited_value_is_in_no_stored_byte_anywhere() {
    let mut r = replicas(3);
    let chatgpt = ns("chatgpt");
    let secret = "my SSN is 078-05-1120";
    let id = r.vaults[0]
        .record(&chatgpt, content("chatgpt", secret, T0), T0)
        .expect("record");
    r.vaults[0]
        .record(&chatgpt, content("chatgpt", "cobalt hummingbird", T0), T0)
        .expect("record");
    merge_all(&mut r.vaults, T0 + 1_000);
    assert!(can_read(&search(&r, &[], &[]), secret));

    // Replica 1 edits what replica 0 wrote; replica 2 holds the old value and only merges.
    r.vaults[1]
        .edit(
            &id,
            Some(Answer::Text("[redacted]".into())),
            None,
            T0 + 2_000,
        )
        .expect("edit");
    merge_all(&mut r.vaults, T0 + 3_000);
    assert_eq!(
        read_everywhere(&r, &id),
        vec![("[redacted]".into(), false); 3]
    );
    let f = search(&r, &["078-05-1120"], &[]);
    assert!(can_read(&f, "[redacted]"));
    assert!(can_read(&f, "cobalt hummingbird"));

    // Reopened from disk, every replica reads the edit.
    let roots = r.roots.clone();
    r.vaults.clear();
    for root in &roots {
        let v = Vault::open(FileStore::new(root), &pass()).expect("reopen");
        assert!(v.damaged().is_empty());
        r.vaults.push(v);
    }
    assert_eq!(
        read_everywhere(&r, &id),
        vec![("[redacted]".into(), false); 3]
    );
}

/// Two replicas edit one answer concurrently: each value reads (a conflict) and the value both
/// replaced does not. A third replica resolves by keeping one: the other is then gone too.
#[test]
fn concurrent_edits_erase_what_they_replaced_and_a_resolution_erases_the_other() {
    let mut r = replicas(3);
    let chatgpt = ns("chatgpt");
    let id = r.vaults[0]
        .record(&chatgpt, content("chatgpt", "saffron gyroscope", T0), T0)
        .expect("record");
    merge_all(&mut r.vaults, T0 + 1_000);

    r.vaults[0]
        .edit(
            &id,
            Some(Answer::Text("quartz lantern".into())),
            None,
            T0 + 2_000,
        )
        .expect("edit");
    r.vaults[1]
        .edit(
            &id,
            Some(Answer::Text("obsidian marmalade".into())),
            None,
            T0 + 3_000,
        )
        .expect("edit");
    merge_all(&mut r.vaults, T0 + 4_000);
    for (i, v) in r.vaults.iter().enumerate() {
        let conflicts = v.conflicts();
        assert_eq!(conflicts.len(), 1, "replica {i}");
        let texts: Vec<Option<String>> = conflicts[0]
            .values
            .iter()
            .map(|value| {
                let content = value.content.as_ref().expect("readable");
                match &content.answer {
                    Some(Answer::Text(t)) => Some(t.clone()),
                    _ => None,
                }
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                Some("obsidian marmalade".into()),
                Some("quartz lantern".into())
            ],
            "replica {i}"
        );
    }
    let f = search(&r, &["saffron gyroscope"], &[]);
    assert!(can_read(&f, "quartz lantern") && can_read(&f, "obsidian marmalade"));

    // Replica 2 keeps the earlier value (the second, latest first).
    r.vaults[2]
        .resolve(&id, Resolution::Keep(1), T0 + 5_000)
        .expect("resolve");
    merge_all(&mut r.vaults, T0 + 6_000);
    assert_eq!(
        read_everywhere(&r, &id),
        vec![("quartz lantern".into(), false); 3]
    );
    for v in &r.vaults {
        assert!(v.conflicts().is_empty());
    }
    let f = search(&r, &["saffron gyroscope", "obsidian marmalade"], &[]);
    assert!(can_read(&f, "quartz lantern"));
}

/// Three replicas hold one imported answer under three keys (each wrote it). An edit made where
/// two copies had met retires their two keys only: the third copy, which the edit did not
/// replace, stays readable as a concurrent value until a resolution replaces it too.
#[test]
fn an_edit_retires_only_the_keys_of_the_copies_it_replaced() {
    let mut r = replicas(3);
    let chatgpt = ns("chatgpt");
    let id = r.vaults[0]
        .record(&chatgpt, content("chatgpt", "tungsten meadowlark", T0), T0)
        .expect("record");
    let export = r.vaults[0].export();
    for v in &mut r.vaults[1..] {
        v.import(&export, T0 + 1_000).expect("import");
    }
    {
        let (one, two) = pair_mut(&mut r.vaults, 1, 2);
        one.merge_from(two, T0 + 2_000).expect("merge");
    }
    r.vaults[1]
        .edit(
            &id,
            Some(Answer::Text("periwinkle catapult".into())),
            None,
            T0 + 3_000,
        )
        .expect("edit");
    merge_all(&mut r.vaults, T0 + 4_000);
    // Replica 0's copy was not replaced: it stays, readable, beside the edit.
    for v in &r.vaults {
        let conflicts = v.conflicts();
        assert_eq!(conflicts.len(), 1);
        assert!(
            conflicts[0]
                .values
                .iter()
                .all(|value| value.content.is_ok())
        );
    }
    assert_eq!(
        read_everywhere(&r, &id),
        vec![("periwinkle catapult".into(), true); 3]
    );
    let f = search(&r, &[], &[]);
    assert!(can_read(&f, "tungsten meadowlark") && can_read(&f, "periwinkle catapult"));

    r.vaults[0]
        .resolve(&id, Resolution::Keep(0), T0 + 5_000)
        .expect("resolve");
    merge_all(&mut r.vaults, T0 + 6_000);
    assert_eq!(
        read_everywhere(&r, &id),
        vec![("periwinkle catapult".into(), false); 3]
    );
    let f = search(&r, &["tungsten meadowlark"], &[]);
    assert!(can_read(&f, "periwinkle catapult"));
}
