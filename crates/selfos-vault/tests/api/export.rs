//! JSON export round-trips through serde and import; import never resurrects a delete, never
//! turns back a newer policy, never makes a conflict out of one export, and takes another
//! vault's export only when asked to.

use selfos_vault::{
    EXPORT_FORMAT, EXPORT_VERSION, ErrorKind, Export, ExportedPolicy, ImportOptions, ImportReport,
    MemoryStore, Policy, Resolution, Vault, WriteError,
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
    assert_eq!(
        export.policies.get("claude").map(ExportedPolicy::policy),
        Some(Policy::UserMerge)
    );

    let json = serde_json::to_string_pretty(&export).expect("serialize");
    let back: Export = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, export);

    // A fresh replica of the same vault, and a different vault when asked to, both import it
    // whole.
    let mut replica =
        Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
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
    other
        .import_with(&back, &ImportOptions::from_other_vault(), T0 + 20_000)
        .expect("import");
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
    let mut replica =
        Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
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
    let mut a = Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
    let mut b = Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
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

/// The export as a build of schema 1 wrote it: no stamps, and bare policy names.
fn as_version_1(export: &Export, policies: &[(&str, &str)]) -> Export {
    let mut json = serde_json::to_value(export).expect("json");
    json["schema_version"] = 1.into();
    for r in json["responses"].as_array_mut().expect("responses") {
        let r = r.as_object_mut().expect("response");
        r.remove("updated_counter").expect("a counter");
        r.remove("updated_node").expect("a node");
    }
    json["policies"] = policies
        .iter()
        .map(|(ns, p)| ((*ns).to_owned(), serde_json::Value::from(*p)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    serde_json::from_value(json).expect("a schema 1 export parses")
}

#[test]
fn an_export_lists_only_the_policies_that_were_set() {
    let v = source();
    let export = v.export();
    // chatgpt and profile hold answers but were never given a policy.
    let listed: Vec<&str> = export.policies.keys().map(String::as_str).collect();
    assert_eq!(listed, ["claude"]);
    // A policy set for a namespace with no answers is listed too: it was set.
    let mut v = v;
    v.set_policy(&ns("gemini"), Policy::LastWriteWins, T0 + 20_000)
        .expect("policy");
    let listed: Vec<String> = v.export().policies.into_keys().collect();
    assert_eq!(listed, ["claude", "gemini"]);
}

#[test]
fn importing_an_older_export_keeps_a_newer_policy() {
    let mut v = source();
    let older = v.export();
    v.set_policy(&ns("claude"), Policy::LastWriteWins, T0 + 20_000)
        .expect("policy");
    v.import(&older, T0 + 30_000).expect("import");
    assert_eq!(v.policy(&ns("claude")), Policy::LastWriteWins);

    // A replica that restores the older export, then meets this one: the later setting wins on
    // both, whichever merges first.
    let mut restored =
        Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
    restored.import(&older, T0 + 40_000).expect("import");
    assert_eq!(restored.policy(&ns("claude")), Policy::UserMerge);
    v.merge_from(&mut restored, T0 + 50_000).expect("merge");
    restored.merge_from(&mut v, T0 + 50_000).expect("merge");
    assert_eq!(v.policy(&ns("claude")), Policy::LastWriteWins);
    assert_eq!(restored.policy(&ns("claude")), Policy::LastWriteWins);

    // A newer export does bring its policy.
    let mut newer_source =
        Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
    newer_source.merge_from(&mut v, T0 + 60_000).expect("merge");
    newer_source
        .set_policy(&ns("claude"), Policy::UserMerge, T0 + 70_000)
        .expect("policy");
    v.import(&newer_source.export(), T0 + 80_000)
        .expect("import");
    assert_eq!(v.policy(&ns("claude")), Policy::UserMerge);
}

#[test]
fn a_version_1_export_is_read_and_its_policies_apply_only_where_none_is_set() {
    let mut v = source();
    let old = as_version_1(
        &v.export(),
        &[("claude", "last-write-wins"), ("chatgpt", "user-merge")],
    );
    let report = v.import(&old, T0 + 30_000).expect("import");
    assert_eq!(report.existing, 4);
    // claude's policy was set here: it stays. chatgpt had none: it takes the export's.
    assert_eq!(v.policy(&ns("claude")), Policy::UserMerge);
    assert_eq!(v.policy(&ns("chatgpt")), Policy::UserMerge);
    // Any later setting, anywhere, wins over it.
    let mut other = Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
    other
        .set_policy(&ns("chatgpt"), Policy::LastWriteWins, T0)
        .expect("policy");
    v.merge_from(&mut other, T0 + 40_000).expect("merge");
    assert_eq!(v.policy(&ns("chatgpt")), Policy::LastWriteWins);

    // Its responses read back with the time it gives them.
    let mut fresh = Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
    let report = fresh.import(&old, T0 + 30_000).expect("import");
    assert_eq!(report.added, 4);
    let back = fresh.export();
    for (mine, theirs) in back.responses.iter().zip(&old.responses) {
        assert_eq!((&mine.id, mine.updated_ms), (&theirs.id, theirs.updated_ms));
        assert_eq!(mine.content, theirs.content);
    }
    assert_eq!(
        back.policies.get("claude").map(ExportedPolicy::policy),
        Some(Policy::LastWriteWins)
    );
}

/// Restoring one export on two devices before they meet gives each answer twice, once from each
/// import: the same answer under the same stamp, which is one value, not a conflict, under
/// either policy and whichever schema the export has. Meeting the replica the export came from
/// adds no conflict either.
#[test]
fn importing_one_export_on_two_replicas_makes_no_conflict() {
    for policy in [Policy::LastWriteWins, Policy::UserMerge] {
        let mut v = source();
        for agent in ["chatgpt", "claude", "profile"] {
            v.set_policy(&ns(agent), policy, T0 + 20_000)
                .expect("policy");
        }
        let current = v.export();
        let old = as_version_1(&current, &[]);
        for (export, schema) in [(&current, 2), (&old, 1)] {
            let mut a =
                Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
            let mut b =
                Vault::restore(MemoryStore::new(), &v.secret(), &pass(), kdf()).expect("join");
            a.import(export, T0 + 30_000).expect("import");
            b.import(export, T0 + 35_000).expect("import");
            a.merge_from(&mut b, T0 + 40_000).expect("merge");
            b.merge_from(&mut a, T0 + 40_000).expect("merge");
            if schema == 2 {
                a.merge_from(&mut v, T0 + 50_000).expect("merge");
            }
            for (name, replica) in [("a", &mut a), ("b", &mut b)] {
                let case = format!("{policy}, schema {schema}, replica {name}");
                assert_eq!(replica.conflicts(), [], "{case}");
                let listing = replica.list(None);
                assert!(listing.unreadable.is_empty(), "{case}");
                assert_eq!(listing.responses.len(), 4, "{case}");
                assert!(listing.responses.iter().all(|r| !r.conflicted), "{case}");
                let stamped = |e: &Export| -> Vec<_> {
                    let r = e.responses.iter();
                    r.map(|r| (r.id.clone(), r.stamp(), r.content.clone()))
                        .collect()
                };
                assert_eq!(stamped(&replica.export()), stamped(export), "{case}");
                let id = &listing.responses[0].id;
                assert!(
                    matches!(
                        replica.resolve(id, Resolution::Keep(0), T0 + 60_000),
                        Err(WriteError::NoConflict(_))
                    ),
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn an_export_of_another_vault_is_refused_unless_asked_for() {
    let v = source();
    let export = v.export();
    let mut other = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let before = other.store().clone();
    let err = other.import(&export, T0).expect_err("refused");
    let message = err.to_string();
    match &err {
        WriteError::ExportFromOtherVault {
            export: named,
            vault,
        } => {
            assert_eq!(named, &v.id().to_string());
            assert_eq!(vault, &other.id());
        }
        e => panic!("expected ExportFromOtherVault, got {e:?}"),
    }
    assert!(message.contains(&v.id().to_string()), "{message}");
    assert!(message.contains(&other.id().to_string()), "{message}");
    assert_eq!(err.kind(), ErrorKind::OtherVault);
    assert_eq!(other.store(), &before, "a refused import wrote something");

    // Nor is an export whose vault is not an id at all.
    let mut unnamed = export.clone();
    unnamed.vault = "not a vault".into();
    assert!(matches!(
        other.import(&unnamed, T0),
        Err(WriteError::ExportFromOtherVault { .. })
    ));
    assert_eq!(other.store(), &before, "a refused import wrote something");

    // Asked for, it is imported whole.
    let report = other
        .import_with(&export, &ImportOptions::from_other_vault(), T0)
        .expect("import");
    assert_eq!(report.added, 4);
    assert_eq!(other.policy(&ns("claude")), Policy::UserMerge);
}
