//! The `selfos` binary, driven as a user would: real folders, real processes, exit codes.

// Test helpers outside `#[test]` functions fail loudly too; clippy.toml only covers the latter.
#![allow(clippy::unwrap_used)]

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use selfos_testkit::{KDF_ITERATIONS, KDF_MEMORY_KIB, KDF_PARALLELISM, PASSPHRASE, all_files};
use serde_json::Value;
use tempfile::TempDir;

/// What one run printed and returned.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap()
    }
}

/// `selfos --vault VAULT ARGS` with the test passphrase in the environment.
fn cmd(vault: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_selfos"));
    c.env_remove("SELFOS_VAULT")
        .env("SELFOS_PASSPHRASE", PASSPHRASE)
        .arg("--vault")
        .arg(vault)
        .args(args);
    c
}

fn run(vault: &Path, args: &[&str]) -> Run {
    Run::from(cmd(vault, args).output().unwrap())
}

/// Runs and insists on success; returns stdout.
fn ok(vault: &Path, args: &[&str]) -> String {
    let r = run(vault, args);
    assert_eq!(r.code, 0, "selfos {args:?} failed: {}", r.stderr);
    r.stdout
}

/// The `init` flags for the test kit's cheap key derivation.
fn tiny_kdf() -> Vec<String> {
    [
        ("--kdf-memory-kib", KDF_MEMORY_KIB),
        ("--kdf-iterations", KDF_ITERATIONS),
        ("--kdf-parallelism", KDF_PARALLELISM),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value.to_string()])
    .collect()
}

fn init(vault: &Path) {
    let kdf = tiny_kdf();
    let mut args = vec!["init"];
    args.extend(kdf.iter().map(String::as_str));
    ok(vault, &args);
}

/// A new replica of `from`'s vault in `to`, from its recovery kit on standard input.
fn join(from: &Path, to: &Path) {
    let kit = ok(from, &["recovery-kit"]);
    let mut args = vec!["join", "--recovery-kit", "-"];
    let kdf = tiny_kdf();
    args.extend(kdf.iter().map(String::as_str));
    let mut child = cmd(to, &args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), kit.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "join: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Records a text answer; returns its id.
fn record(vault: &Path, agent: &str, answer: &str) -> String {
    ok(
        vault,
        &[
            "record",
            "--agent",
            agent,
            "--card",
            "intent.include",
            "--answer",
            answer,
        ],
    )
    .trim()
    .to_owned()
}

fn merge(into: &Path, from: &Path) {
    ok(into, &["merge-from", from.to_str().unwrap()]);
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn two_dirs() -> (TempDir, PathBuf, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let (a, b) = (tmp.path().join("laptop"), tmp.path().join("phone"));
    (tmp, a, b)
}

#[test]
fn two_replicas_converge_after_merging_both_ways() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    let first = record(&a, "chatgpt", "a worked example");
    let rating = ok(
        &a,
        &[
            "record",
            "--agent",
            "claude",
            "--card",
            "rate.last",
            "--rating",
            "4",
        ],
    );
    join(&a, &b);
    let on_phone = record(&b, "profile", "short answers");
    let second_on_laptop = record(&a, "chatgpt", "sources");
    merge(&a, &b);
    merge(&b, &a);

    let list_a = ok(&a, &["list", "--json"]);
    let list_b = ok(&b, &["list", "--json"]);
    assert_eq!(
        list_a, list_b,
        "converged replicas must print identical bytes"
    );
    let mut got = ids(&serde_json::from_str(&list_a).unwrap());
    got.sort();
    let mut want = vec![first, rating.trim().to_owned(), on_phone, second_on_laptop];
    want.sort();
    assert_eq!(got, want);

    let listed: Value = serde_json::from_str(&list_a).unwrap();
    let rated = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["namespace"] == "claude")
        .unwrap();
    assert_eq!(rated["card_kind"], "rating", "--rating defaults the kind");
    assert_eq!(rated["answer"]["value"], 4);
    assert_eq!(rated["updated"]["node"].as_str().unwrap().len(), 16);
}

#[test]
fn wrong_passphrase_exits_3_and_changes_nothing() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    record(&a, "chatgpt", "a worked example");
    let before = all_files(&a);
    for args in [
        &["list"][..],
        &[
            "record", "--agent", "chatgpt", "--card", "c", "--answer", "x",
        ],
    ] {
        let r = Run::from(
            cmd(&a, args)
                .env("SELFOS_PASSPHRASE", "not the passphrase")
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("error: ") && r.stderr.contains("wrong passphrase"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("not the passphrase"));
        assert_eq!(
            all_files(&a),
            before,
            "a failed unlock must not touch the vault"
        );
    }

    // A replica under another passphrase cannot be opened with this one to merge from.
    let kit_file = b.with_extension("kit");
    fs::write(&kit_file, ok(&a, &["recovery-kit"])).unwrap();
    let mut args = vec!["join", "--recovery-kit", kit_file.to_str().unwrap()];
    let kdf = tiny_kdf();
    args.extend(kdf.iter().map(String::as_str));
    let joined = Run::from(
        cmd(&b, &args)
            .env("SELFOS_PASSPHRASE", "quartz lagoon ember thimble")
            .output()
            .unwrap(),
    );
    assert_eq!(joined.code, 0, "{}", joined.stderr);
    let r = run(&a, &["merge-from", b.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(all_files(&a), before);
}

#[test]
fn a_damaged_chunk_is_reported_and_the_rest_still_listed() {
    let tmp = TempDir::new().unwrap();
    let a = tmp.path().join("vault");
    init(&a);
    let kept = record(&a, "chatgpt", "a worked example");
    record(&a, "claude", "doomed answer");
    let chunks = a.join("chunks").join("claude");
    let chunk = chunks.join(&all_files(&chunks)[0].0);
    let mut bytes = fs::read(&chunk).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    fs::write(&chunk, bytes).unwrap();
    let before = all_files(&a);

    let r = run(&a, &["list", "--json"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(ids(&r.json()), vec![kept.clone()]);
    assert!(
        r.stderr.contains("warning: damaged chunk claude/"),
        "{}",
        r.stderr
    );

    let human = run(&a, &["list"]);
    assert_eq!(human.code, 4);
    assert!(human.stdout.contains("a worked example"));
    assert_eq!(
        all_files(&a),
        before,
        "reading must not repair or drop anything"
    );
}

#[test]
fn a_truncated_header_exits_4() {
    let tmp = TempDir::new().unwrap();
    let a = tmp.path().join("vault");
    init(&a);
    let header = a.join("header");
    let bytes = fs::read(&header).unwrap();
    fs::write(&header, &bytes[..bytes.len() / 2]).unwrap();
    let r = run(&a, &["list"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("header"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_missing_things_exit_6() {
    let tmp = TempDir::new().unwrap();
    let a = tmp.path().join("vault");

    let missing = run(&a, &["list"]);
    assert_eq!(missing.code, 6, "{}", missing.stderr);
    assert!(missing.stderr.contains("no vault"), "{}", missing.stderr);

    init(&a);
    record(&a, "chatgpt", "a worked example");
    for args in [
        &["record", "--agent", "chatgpt", "--card", "c"][..],
        &[
            "record", "--agent", "chatgpt", "--card", "c", "--rating", "9",
        ],
        &[
            "record",
            "--agent",
            "Not A Name",
            "--card",
            "c",
            "--answer",
            "x",
        ],
        &[
            "record", "--agent", "settings", "--card", "c", "--answer", "x",
        ],
        &["show", "no-slash"],
        &["policy", "chatgpt", "sometimes"],
        &["join", "--recovery-kit", "/no/such/kit"],
        &["frobnicate"],
    ] {
        let r = run(&a, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error"), "{args:?}: {}", r.stderr);
    }
    let again = run(&a, &["init"]);
    assert_eq!(again.code, 2, "{}", again.stderr);

    let no_vault = Run::from(
        Command::new(env!("CARGO_BIN_EXE_selfos"))
            .env_remove("SELFOS_VAULT")
            .arg("list")
            .output()
            .unwrap(),
    );
    assert_eq!(no_vault.code, 2);
    assert!(no_vault.stderr.contains("--vault"), "{}", no_vault.stderr);

    let absent = run(&a, &["show", "chatgpt/ffffffff"]);
    assert_eq!(absent.code, 6, "{}", absent.stderr);
    assert!(absent.stderr.starts_with("error: "));
}

#[test]
fn a_conflict_shows_on_both_replicas_and_resolves_everywhere() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    let id = record(&a, "chatgpt", "original");
    join(&a, &b);
    merge(&b, &a);
    let prefix = &id[..id.len() - 20];
    ok(&a, &["edit", prefix, "--answer", "laptop's edit"]);
    ok(&b, &["edit", prefix, "--answer", "phone's edit"]);
    merge(&a, &b);
    merge(&b, &a);

    let on_a = ok(&a, &["conflicts", "--json"]);
    assert_eq!(on_a, ok(&b, &["conflicts", "--json"]));
    let conflicts: Value = serde_json::from_str(&on_a).unwrap();
    let c = &conflicts.as_array().unwrap()[..];
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["id"], id.as_str());
    assert_eq!(c[0]["policy"], "last-write-wins");
    assert_eq!(c[0]["pending"], false);
    let answers: Vec<&str> = c[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["answer"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(answers.len(), 2);
    assert!(answers.contains(&"laptop's edit") && answers.contains(&"phone's edit"));

    ok(&a, &["policy", "chatgpt", "user-merge"]);
    merge(&b, &a);
    let policy: Value = serde_json::from_str(&ok(&b, &["policy", "chatgpt", "--json"])).unwrap();
    assert_eq!(policy["policy"], "user-merge");
    let pending: Value = serde_json::from_str(&ok(&b, &["conflicts", "--json"])).unwrap();
    assert_eq!(pending[0]["pending"], true);
    assert!(ok(&b, &["conflicts"]).contains("pending"));

    let out_of_range = run(&b, &["resolve", prefix, "--keep", "7"]);
    assert_eq!(out_of_range.code, 2, "{}", out_of_range.stderr);
    ok(&b, &["resolve", prefix, "--keep", "1"]);
    merge(&a, &b);
    merge(&b, &a);
    for v in [&a, &b] {
        assert_eq!(ok(v, &["conflicts", "--json"]).trim(), "[]");
        let shown: Value = serde_json::from_str(&ok(v, &["show", &id, "--json"])).unwrap();
        assert_eq!(shown["answer"]["value"], answers[1]);
        assert_eq!(shown["conflicted"], false);
    }
}

#[test]
fn devices_name_themselves_a_rename_reaches_the_other_replica_and_a_bad_name_is_refused() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    join(&a, &b);
    let names = |dir: &Path| -> Vec<(String, String, bool)> {
        let listed = run(dir, &["devices", "--json"]).json();
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["replica"].as_str().unwrap().to_owned(),
                    d["name"].as_str().unwrap().to_owned(),
                    d["this_device"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    // A new replica is named after this machine.
    let named = names(&a);
    assert_eq!(named.len(), 1, "{named:?}");
    let (replica_a, name_a, this_device) = named[0].clone();
    assert!(this_device && !name_a.is_empty(), "{named:?}");

    ok(&a, &["devices", "--name", "  work laptop  "]);
    merge(&b, &a);
    let seen_by_b = names(&b);
    assert!(
        seen_by_b.contains(&(replica_a.clone(), "work laptop".to_owned(), false)),
        "{seen_by_b:?}"
    );
    assert_eq!(seen_by_b.len(), 2, "{seen_by_b:?}");

    // B renames A; the name reaches A.
    ok(
        &b,
        &["devices", "--name", "Ada's laptop", "--replica", &replica_a],
    );
    merge(&a, &b);
    assert!(names(&a).contains(&(replica_a, "Ada's laptop".to_owned(), true)));

    let refused = run(&a, &["devices", "--name", &"x".repeat(65)]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("at most 64 bytes"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_delete_reaches_the_other_replica() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    let doomed = record(&a, "chatgpt", "secret answer");
    let kept = record(&a, "chatgpt", "kept answer");
    join(&a, &b);
    merge(&b, &a);
    ok(&a, &["delete", &doomed]);
    merge(&b, &a);
    let listed = run(&b, &["list", "--json"]);
    assert_eq!(ids(&listed.json()), vec![kept]);
    let gone = run(&b, &["show", &doomed]);
    assert_eq!(gone.code, 6, "{}", gone.stderr);
    let again = run(&a, &["delete", &doomed]);
    assert_eq!(again.code, 6, "{}", again.stderr);
}

#[test]
fn export_round_trips_through_import_and_markdown_has_the_answers() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    record(&a, "chatgpt", "a worked example");
    ok(
        &a,
        &[
            "record",
            "--agent",
            "claude",
            "--card",
            "rate.last",
            "--rating",
            "5",
        ],
    );
    ok(&a, &["policy", "claude", "user-merge"]);
    let file = a.with_file_name("export.json");
    ok(
        &a,
        &[
            "export",
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ],
    );

    join(&a, &b);
    let imported = run(&b, &["import", file.to_str().unwrap(), "--json"]);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    assert_eq!(imported.json()["added"], 2);
    let original: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let again: Value = serde_json::from_str(&ok(&b, &["export", "--format", "json"])).unwrap();
    assert_eq!(again["responses"], original["responses"]);
    assert_eq!(again["policies"], original["policies"]);
    assert_eq!(original["responses"].as_array().unwrap().len(), 2);

    let markdown = ok(&a, &["export", "--format", "markdown"]);
    assert!(markdown.contains("a worked example"), "{markdown}");
    assert!(markdown.contains("5/5"), "{markdown}");

    let not_json = a.with_file_name("notes.txt");
    fs::write(&not_json, "hello").unwrap();
    let bad = run(&b, &["import", not_json.to_str().unwrap()]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn an_export_of_another_vault_is_imported_only_with_from_other_vault() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    init(&b);
    record(&a, "chatgpt", "a worked example");
    let file = a.with_file_name("export.json");
    let file = file.to_str().unwrap();
    ok(&a, &["export", "--output", file]);
    let exported: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    let ours = ok(&b, &["export"]);
    let ours: Value = serde_json::from_str(&ours).unwrap();

    let refused = run(&b, &["import", file]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    for vault in [&exported["vault"], &ours["vault"]] {
        let id = vault.as_str().unwrap();
        assert!(refused.stderr.contains(id), "{}", refused.stderr);
    }
    assert!(
        refused.stderr.contains("--from-other-vault"),
        "{}",
        refused.stderr
    );
    assert_eq!(ok(&b, &["list", "--json"]).trim(), "[]");

    let imported = run(&b, &["import", file, "--from-other-vault", "--json"]);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    assert_eq!(imported.json()["added"], 1);
    let help = ok(&b, &["import", "--help"]);
    assert!(help.contains("--from-other-vault"), "{help}");
}

#[test]
fn passphrase_file_works_and_a_missing_one_is_named() {
    let tmp = TempDir::new().unwrap();
    let a = tmp.path().join("vault");
    let file = tmp.path().join("pass.txt");
    fs::write(&file, format!("{PASSPHRASE}\nignored second line\n")).unwrap();
    let kdf = tiny_kdf();
    let mut args = vec!["init", "--passphrase-file", file.to_str().unwrap()];
    args.extend(kdf.iter().map(String::as_str));
    let created = cmd(&a, &args)
        .env_remove("SELFOS_PASSPHRASE")
        .output()
        .unwrap();
    assert!(created.status.success());
    // Only the first line counts: the environment's passphrase opens it.
    record(&a, "chatgpt", "a worked example");

    let missing = tmp.path().join("nowhere.txt");
    let r = Run::from(
        cmd(
            &a,
            &["list", "--passphrase-file", missing.to_str().unwrap()],
        )
        .env_remove("SELFOS_PASSPHRASE")
        .output()
        .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("passphrase file") && r.stderr.contains("nowhere.txt"),
        "{}",
        r.stderr
    );
}

/// Spawns `selfos sync` on a replica, in the background.
fn spawn_sync(vault: &Path, relay: &str) -> std::process::Child {
    cmd(
        vault,
        &[
            "sync",
            "--relay",
            relay,
            "--peer-wait",
            "10",
            "--timeout",
            "30",
        ],
    )
    .spawn()
    .unwrap()
}

#[test]
fn sync_through_a_relay_converges_two_replicas() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listen = "127.0.0.1:0".parse().unwrap();
    let relay = runtime
        .block_on(selfos_relay::Server::spawn(selfos_relay::RelayConfig::new(
            listen,
        )))
        .unwrap();
    let url = format!("ws://{}", relay.local_addr());

    let (_tmp, a, b) = two_dirs();
    init(&a);
    join(&a, &b);
    let on_a = record(&a, "chatgpt", "written on the laptop");
    let on_b = record(&b, "claude", "written on the phone");
    let (mut sa, mut sb) = (spawn_sync(&a, &url), spawn_sync(&b, &url));
    assert!(sa.wait().unwrap().success());
    assert!(sb.wait().unwrap().success());

    let listed = ok(&a, &["list", "--json"]);
    assert_eq!(listed, ok(&b, &["list", "--json"]));
    assert!(listed.contains(&on_a) && listed.contains(&on_b), "{listed}");
}

/// `sync` alone, with a short wait: it must not need another device.
fn sync_alone(vault: &Path, relay: &str) -> Value {
    let r = run(
        vault,
        &[
            "--json",
            "sync",
            "--relay",
            relay,
            "--peer-wait",
            "30",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// A records three answers, syncs alone and exits; the relay restarts; B, a new replica, syncs
/// with A offline and lists A's answers; B's own answer reaches A the same way.
fn devices_meet_through_the_store(relay: selfos_testkit::RelayProcess) {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    join(&a, &b);
    let url = format!("ws://{}", relay.addr);
    let answers: Vec<String> = (1..=3)
        .map(|n| record(&a, "chatgpt", &format!("answer {n} from the laptop")))
        .collect();
    let started = std::time::Instant::now();
    let first = sync_alone(&a, &url);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "sync waited for a peer"
    );
    assert_eq!(first["store"], "in-sync", "{first}");
    assert_eq!(first["peers"], serde_json::json!([]), "{first}");

    let relay = relay.restart();
    let url = format!("ws://{}", relay.addr);
    let second = sync_alone(&b, &url);
    assert_eq!(second["store"], "in-sync", "{second}");
    // The answers, and the settings that hold A's name.
    assert_eq!(
        second["changed"],
        serde_json::json!(["chatgpt", "settings"]),
        "{second}"
    );
    let listed = ok(&b, &["list", "--json"]);
    for id in &answers {
        assert!(listed.contains(id.as_str()), "{listed}");
    }

    let from_b = record(&b, "claude", "an answer from the phone");
    sync_alone(&b, &url);
    sync_alone(&a, &url);
    let listed = ok(&a, &["list", "--json"]);
    assert!(listed.contains(from_b.as_str()), "{listed}");
    assert_eq!(listed, ok(&b, &["list", "--json"]));
}

#[test]
fn devices_never_online_together_meet_through_the_relays_default_store() {
    let relay = selfos_testkit::RelayProcess::start(
        &selfos_testkit::relay_binary(),
        "127.0.0.1:0".parse().unwrap(),
        &std::env::temp_dir(),
        &[],
    );
    assert!(
        relay.store_dir().is_some(),
        "the relay keeps its default store"
    );
    devices_meet_through_the_store(relay);
}

#[test]
fn devices_never_online_together_meet_through_a_postgresql_store() {
    let postgres = selfos_testkit::Postgres::start();
    let url = postgres.url();
    let relay = selfos_testkit::RelayProcess::start(
        &selfos_testkit::relay_binary(),
        "127.0.0.1:0".parse().unwrap(),
        &std::env::temp_dir(),
        &["--store", &url],
    );
    assert!(
        relay.store_dir().is_none(),
        "the relay keeps PostgreSQL as its store"
    );
    devices_meet_through_the_store(relay);
}

#[test]
fn sync_without_a_relay_exits_7_and_changes_nothing() {
    let tmp = TempDir::new().unwrap();
    let a = tmp.path().join("vault");
    init(&a);
    record(&a, "chatgpt", "stays put");
    let before = all_files(&a);
    // Nothing listens on port 1.
    let r = run(
        &a,
        &["sync", "--relay", "ws://127.0.0.1:1", "--timeout", "2"],
    );
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(r.stderr.contains("relay"), "{}", r.stderr);
    assert_eq!(all_files(&a), before);
}

/// Records a rating on `card` for `agent`.
fn rate(vault: &Path, agent: &str, card: &str, rating: &str) {
    ok(
        vault,
        &[
            "record", "--agent", agent, "--card", card, "--rating", rating,
        ],
    );
}

#[test]
fn next_card_graph_metrics_and_instructions_follow_the_answers() {
    let tmp = TempDir::new().unwrap();
    let a = tmp.path().join("vault");
    init(&a);
    let card = |agent: &str, since: &str| {
        let args = [
            "next-card",
            "--agent",
            agent,
            "--since-secs",
            since,
            "--json",
        ];
        run(&a, &args).json()
    };

    // Right after a prompt is sent, a fresh vault asks what the answer should include.
    let fresh = card("chatgpt", "0");
    assert_eq!(fresh["kind"], "intent", "{fresh}");
    // Ten seconds into the wait, after an answer, a rating of it is asked for: the pick follows
    // the history...
    record(&a, "chatgpt", "rust borrow checker examples");
    let later = card("chatgpt", "10");
    assert_eq!(later["kind"], "rating", "{later}");
    // ... and the agent: claude has no answer to rate yet.
    assert_ne!(card("claude", "10")["kind"], "rating");
    // A wait too short for any card.
    let short = run(
        &a,
        &[
            "next-card",
            "--agent",
            "chatgpt",
            "--wait-secs",
            "1",
            "--json",
        ],
    );
    assert_eq!(short.json()["card"], Value::Null);

    rate(&a, "chatgpt", "rate.last", "5");
    ok(
        &a,
        &[
            "record",
            "--agent",
            "chatgpt",
            "--card",
            "pref.length",
            "--kind",
            "preference",
            "--choice",
            "Short",
        ],
    );
    rate(&a, "claude", "rate.last", "2");

    let graph = run(&a, &["graph", "--json"]).json();
    let ids: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for expected in [
        "agent:chatgpt",
        "agent:claude",
        "card:rate.last",
        "pref:length=Short",
    ] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    assert!(!graph["links"].as_array().unwrap().is_empty());

    let metrics = run(&a, &["metrics", "--json"]).json();
    assert_eq!(metrics["chatgpt"]["rating_mean"], 5.0, "{metrics}");
    assert_eq!(metrics["claude"]["rating_mean"], 2.0, "{metrics}");

    let snippet = run(
        &a,
        &[
            "export",
            "--format",
            "instructions",
            "--agent",
            "chatgpt",
            "--json",
        ],
    )
    .json();
    let fields = snippet["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 2, "ChatGPT has two custom-instruction fields");
    let mut all = String::new();
    for field in fields {
        let text: Vec<&str> = field["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert!(!l["sources"].as_array().unwrap().is_empty(), "{l}");
                l["text"].as_str().unwrap()
            })
            .collect();
        let text = text.join("\n");
        assert!(text.chars().count() <= 1500);
        all.push_str(&text);
    }
    assert!(all.contains("Short"), "{all}");
    let usage = run(&a, &["export", "--format", "instructions"]);
    assert_eq!(usage.code, 2, "instructions need --agent: {}", usage.stderr);
}

#[test]
fn a_guessable_passphrase_is_refused_with_advice_and_nothing_is_created() {
    let (_tmp, a, _) = two_dirs();
    let mut args = vec!["init"];
    let kdf = tiny_kdf();
    args.extend(kdf.iter().map(String::as_str));
    let r = Run::from(
        cmd(&a, &args)
            .env("SELFOS_PASSPHRASE", "qwerty123")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("too easy to guess"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("qwerty123"),
        "never quoted: {}",
        r.stderr
    );
    assert!(!a.exists(), "a refused init created {}", a.display());
}

#[test]
fn a_new_passphrase_replaces_the_old_on_this_device_only() {
    let (_tmp, a, b) = two_dirs();
    init(&a);
    record(&a, "chatgpt", "a worked example");
    join(&a, &b);
    let new = "quartz lagoon ember thimble";
    let mut args = vec!["passphrase"];
    let kdf = tiny_kdf();
    args.extend(kdf.iter().map(String::as_str));
    let r = Run::from(
        cmd(&a, &args)
            .env("SELFOS_NEW_PASSPHRASE", new)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(run(&a, &["list"]).code, 3, "the old passphrase is refused");
    let listed = Run::from(
        cmd(&a, &["list"])
            .env("SELFOS_PASSPHRASE", new)
            .output()
            .unwrap(),
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("a worked example"));
    // The other device keeps its own passphrase.
    ok(&b, &["list"]);
    // A weak new passphrase is refused, and the current one still opens.
    let weak = Run::from(
        cmd(&a, &args)
            .env("SELFOS_PASSPHRASE", new)
            .env("SELFOS_NEW_PASSPHRASE", "letmein1")
            .output()
            .unwrap(),
    );
    assert_eq!(weak.code, 2, "{}", weak.stderr);
    let again = cmd(&a, &["list"])
        .env("SELFOS_PASSPHRASE", new)
        .output()
        .unwrap();
    assert!(again.status.success());
}

/// A vault written by the last format-1 build: every command but export refuses it with what to
/// do; export reads it, and its answers move into a new vault.
#[test]
fn a_format_1_vault_exports_and_its_answers_move_to_a_new_vault() {
    let tmp = TempDir::new().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../selfos-vault/tests/data/v1_vault");
    let old = tmp.path().join("old");
    for (rel, bytes) in all_files(&fixture) {
        let to = old.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::write(to, bytes).unwrap();
    }
    let v1 = |args: &[&str]| {
        Run::from(
            cmd(&old, args)
                .env("SELFOS_PASSPHRASE", "format one passphrase")
                .output()
                .unwrap(),
        )
    };
    let refused = v1(&["list"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("format 1"), "{}", refused.stderr);
    let file = tmp.path().join("answers.json");
    let exported = v1(&["export", "--output", file.to_str().unwrap()]);
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert!(
        exported.stderr.contains("--from-other-vault"),
        "{}",
        exported.stderr
    );

    let new = tmp.path().join("new");
    init(&new);
    ok(
        &new,
        &["import", file.to_str().unwrap(), "--from-other-vault"],
    );
    let list = ok(&new, &["list"]);
    assert!(
        list.contains("format one answer about rust lifetimes"),
        "{list}"
    );
    assert!(list.contains("4/5"), "{list}");
}

#[test]
fn a_generated_passphrase_is_printed_once_and_unlocks() {
    let (_tmp, a, _) = two_dirs();
    let mut args = vec!["--json", "init", "--generate-passphrase"];
    let kdf = tiny_kdf();
    args.extend(kdf.iter().map(String::as_str));
    let out: Value = serde_json::from_str(&ok(&a, &args)).unwrap();
    let words = out["passphrase"].as_str().unwrap().to_owned();
    assert_eq!(words.split(' ').count(), 7, "{words}");
    assert_eq!(
        run(&a, &["list"]).code,
        3,
        "the environment's passphrase was not used"
    );
    let listed = cmd(&a, &["list"])
        .env("SELFOS_PASSPHRASE", &words)
        .output()
        .unwrap();
    assert!(listed.status.success());
    assert!(
        !all_files(&a)
            .iter()
            .any(|(_, b)| b.windows(words.len()).any(|w| w == words.as_bytes()))
    );
}

/// `selfos pair` on `vault` in the background; returns it and the code it printed first.
fn spawn_pair(vault: &Path, relay: &str) -> (std::process::Child, String) {
    let mut child = cmd(vault, &["pair", "--relay", relay, "--expiry", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line.trim().to_owned())
}

/// `selfos join --code CODE` into `vault`, under its own passphrase, waiting `wait` seconds for
/// the offer.
fn join_by_code(vault: &Path, relay: &str, code: &str, wait: &str) -> Run {
    let mut args = vec![
        "join",
        "--code",
        code,
        "--relay",
        relay,
        "--offer-wait",
        wait,
    ];
    let kdf = tiny_kdf();
    args.extend(kdf.iter().map(String::as_str));
    Run::from(
        cmd(vault, &args)
            .env("SELFOS_PASSPHRASE", "quartz lagoon ember thimble")
            .output()
            .unwrap(),
    )
}

#[test]
fn pairing_by_code_through_a_relay_adds_a_device_and_a_wrong_code_adds_none() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let relay = runtime
        .block_on(selfos_relay::Server::spawn(selfos_relay::RelayConfig::new(
            "127.0.0.1:0".parse().unwrap(),
        )))
        .unwrap();
    let url = format!("ws://{}", relay.local_addr());
    let tmp = TempDir::new().unwrap();
    let (a, b, c) = (
        tmp.path().join("laptop"),
        tmp.path().join("phone"),
        tmp.path().join("tablet"),
    );
    init(&a);
    let on_a = record(&a, "chatgpt", "written before the pairing");

    // The right code: B gets the vault, syncs, and lists A's answer.
    let (offer, code) = spawn_pair(&a, &url);
    assert_eq!(code.split('-').count(), 3, "{code}");
    let joined = join_by_code(&b, &url, &code, "10");
    assert_eq!(joined.code, 0, "{}", joined.stderr);
    let offered = offer.wait_with_output().unwrap();
    assert!(
        offered.status.success(),
        "{}",
        String::from_utf8_lossy(&offered.stderr)
    );
    assert!(String::from_utf8_lossy(&offered.stdout).contains("paired"));
    let (mut sa, mut sb) = (spawn_sync(&a, &url), {
        let mut c = cmd(
            &b,
            &[
                "sync",
                "--relay",
                &url,
                "--peer-wait",
                "10",
                "--timeout",
                "30",
            ],
        );
        c.env("SELFOS_PASSPHRASE", "quartz lagoon ember thimble");
        c.spawn().unwrap()
    });
    assert!(sa.wait().unwrap().success());
    assert!(sb.wait().unwrap().success());
    let listed = Run::from(
        cmd(&b, &["list", "--json"])
            .env("SELFOS_PASSPHRASE", "quartz lagoon ember thimble")
            .output()
            .unwrap(),
    );
    assert!(listed.stdout.contains(&on_a), "{}", listed.stdout);

    // A wrong code: both sides fail at once, the message names the code, C holds no vault.
    let (offer, code) = spawn_pair(&a, &url);
    let (number, _) = code.split_once('-').unwrap();
    let wrong = format!("{number}-abandon-ability");
    let refused = join_by_code(&c, &url, &wrong, "10");
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains(&wrong), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("does not match"),
        "{}",
        refused.stderr
    );
    assert!(!c.join("header").exists(), "no vault after a wrong code");
    let offered = offer.wait_with_output().unwrap();
    assert_eq!(
        offered.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&offered.stderr)
    );
    // The code allowed one attempt: now it finds nobody.
    let late = join_by_code(&c, &url, &code, "1");
    assert_eq!(late.code, 6, "{}", late.stderr);
    assert!(
        late.stderr.contains("no device is offering this code"),
        "{}",
        late.stderr
    );
    assert!(!c.join("header").exists());
}
