//! JSON export round-trips through serde and import; import never resurrects a delete.

use selfos_vault::{
    EXPORT_FORMAT, EXPORT_VERSION, Export, ImportReport, MemoryStore, Policy, Vault, WriteError,
};

use crate::support::{T0, content, kdf, ns, pass};

fn source() -> Vault<MemoryStore> {
    let mut v = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    for (i, agent) in ["chatgpt", "claude", "chatgpt", "profile"]
        .iter()
        .enumerate()
    {
        let t = T0 + i as u64 * 1_000;
        v.record(
            &ns(agent),
            content(agent, &format!("answer {i} \"quoted\"\n"), t),
            t,
        )
        .expect("record");
    }
    v.set_policy(&ns("claude"), Policy::UserMerge, T0 + 10_000)
        .expect("policy");
    v
}

#[test]
fn export_round_trips_through_json_and_import() {
    let v = source();
    let export = v.export();
    assert_eq!(export.format, EXPORT_FORMAT);
    assert_eq!(export.schema_version, EXPORT_VERSION);
    assert_eq!(export.responses.len(), 4);
    assert_eq!(export.policies.get("claude"), Some(&Policy::UserMerge));

    let json = serde_json::to_string_pretty(&export).expect("serialize");
    let back: Export = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, export);

    // A fresh replica of the same vault, and a different vault, both import it whole.
    let mut replica = Vault::join(MemoryStore::new(), &v.link(), &pass()).expect("join");
    let report = replica.import(&back, T0 + 20_000).expect("import");
    assert_eq!(
        report,
        ImportReport {
            added: 4,
            existing: 0,
            deleted_here: 0
        }
    );
    assert_eq!(replica.export(), export);
    let mut other = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    other.import(&back, T0 + 20_000).expect("import");
    let again = other.export();
    assert_eq!(again.responses, export.responses);
    assert_eq!(again.policies, export.policies);

    // Importing twice adds nothing.
    let report = replica.import(&back, T0 + 30_000).expect("import again");
    assert_eq!(
        report,
        ImportReport {
            added: 0,
            existing: 4,
            deleted_here: 0
        }
    );
    assert_eq!(replica.export(), export);
    // And the imported replica survives a reopen.
    let reopened = Vault::open(replica.store().clone(), &pass()).expect("reopen");
    assert_eq!(reopened.export(), export);
}

#[test]
fn import_does_not_resurrect_a_deleted_answer() {
    let mut v = source();
    let export = v.export();
    let victim = v.list(None).responses[1].id.clone();
    v.delete(&victim, T0 + 20_000).expect("delete");
    let report = v.import(&export, T0 + 30_000).expect("import");
    assert_eq!(
        report,
        ImportReport {
            added: 0,
            existing: 3,
            deleted_here: 1
        }
    );
    assert_eq!(v.get(&victim).expect("get"), None);
    assert_eq!(v.list(None).responses.len(), 3);
    // A replica that imports the same export and then merges does not bring it back either.
    let mut replica = Vault::join(MemoryStore::new(), &v.link(), &pass()).expect("join");
    replica.import(&export, T0 + 30_000).expect("import");
    assert!(replica.get(&victim).expect("get").is_some());
    replica.merge_from(&mut v, T0 + 40_000).expect("merge");
    assert_eq!(replica.get(&victim).expect("get"), None);
    assert!(replica.list(None).responses.iter().all(|r| r.id != victim));
}

/// Restoring one export on two devices of one vault, then syncing them, must keep every answer
/// readable: each import seals the records under its own fresh keys, and the key table keeps
/// every live key of a record, so each value opens with the key that sealed it.
#[test]
fn importing_on_two_replicas_then_merging_keeps_answers_readable() {
    let v = source();
    let export = v.export();
    let mut a = Vault::join(MemoryStore::new(), &v.link(), &pass()).expect("join");
    let mut b = Vault::join(MemoryStore::new(), &v.link(), &pass()).expect("join");
    a.import(&export, T0 + 30_000).expect("import");
    b.import(&export, T0 + 30_000).expect("import");
    a.merge_from(&mut b, T0 + 40_000).expect("merge");
    b.merge_from(&mut a, T0 + 40_000).expect("merge");
    for replica in [&a, &b] {
        let listing = replica.list(None);
        assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
        assert_eq!(replica.export().responses, export.responses);
        for conflict in replica.conflicts() {
            assert!(conflict.values.iter().all(|v| v.content.is_ok()));
        }
    }
}

#[test]
fn unsupported_exports_are_refused() {
    let v = source();
    let mut target = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let before = target.store().clone();
    let mut wrong_format = v.export();
    wrong_format.format = "someone-elses-export".into();
    let mut wrong_version = v.export();
    wrong_version.schema_version = EXPORT_VERSION + 1;
    for bad in [wrong_format, wrong_version] {
        let err = target.import(&bad, T0).expect_err("refused");
        match err {
            WriteError::UnsupportedExport { format, version } => {
                assert_eq!(format, bad.format);
                assert_eq!(version, bad.schema_version);
            }
            other => panic!("expected UnsupportedExport, got {other:?}"),
        }
        assert!(target.list(None).responses.is_empty());
        assert_eq!(target.store(), &before, "a refused import wrote something");
    }
    // Deserialized from JSON the same way.
    let mut json: serde_json::Value = serde_json::to_value(v.export()).expect("json");
    json["schema_version"] = 99.into();
    let parsed: Export = serde_json::from_value(json).expect("still parses");
    assert!(matches!(
        target.import(&parsed, T0),
        Err(WriteError::UnsupportedExport { version: 99, .. })
    ));
}
