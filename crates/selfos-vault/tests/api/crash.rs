//! A writer killed at any moment (mid-write, mid-compaction, mid-delete) never loses an
//! acknowledged answer and never leaves a half-written chunk visible.
//!
//! The test binary re-executes itself as the writer: `crash_writer_child` runs only when
//! `SELFOS_CRASH_DIR` is set.

use std::{
    collections::BTreeSet,
    env,
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use selfos_vault::{FileStore, ResponseId, Vault};

use crate::support::{T0, XorShift, content, kdf, ns, pass, snapshot_dir, text_of};

const DIR_VAR: &str = "SELFOS_CRASH_DIR";
const CHILD: &str = "crash::crash_writer_child";
const ITERATIONS: usize = 200;

/// The writer: records answers forever, printing `ACK <id>` once each is durable. Every fifth
/// answer it deletes the previous one, printing `DELETING <id>` before and `DEL <id>` after.
#[test]
#[ignore = "run by crash::killed_writer_never_loses_acknowledged_answers"]
fn crash_writer_child() {
    let Some(dir) = env::var_os(DIR_VAR) else {
        return;
    };
    let store = FileStore::new(Path::new(&dir));
    let mut vault = if Path::new(&dir).join("header").exists() {
        Vault::open(store, &pass()).expect("open")
    } else {
        Vault::create(store, &pass(), kdf()).expect("create")
    };
    let namespaces = [ns("chatgpt"), ns("claude")];
    let mut out = std::io::stdout().lock();
    // The test harness has printed `test crash::crash_writer_child ... ` without a newline.
    writeln!(out, "\nREADY").expect("stdout");
    out.flush().expect("flush");
    let base = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(T0, |d| d.as_millis() as u64);
    let mut previous: Option<ResponseId> = None;
    for i in 0u64.. {
        let t = base + i * 1_000;
        let n = &namespaces[(i % 2) as usize];
        let text = format!("crash answer {i} at {t}");
        let id = vault
            .record(n, content(n.as_str(), &text, t), t)
            .expect("record");
        writeln!(out, "ACK {id}").expect("stdout");
        out.flush().expect("flush");
        if i % 5 == 4
            && let Some(old) = previous.take()
        {
            writeln!(out, "DELETING {old}").expect("stdout");
            out.flush().expect("flush");
            vault.delete(&old, t + 1).expect("delete");
            writeln!(out, "DEL {old}").expect("stdout");
            out.flush().expect("flush");
        }
        previous = Some(id);
    }
}

#[derive(Default)]
struct Log {
    acked: BTreeSet<ResponseId>,
    deleting: BTreeSet<ResponseId>,
    deleted: BTreeSet<ResponseId>,
}

impl Log {
    fn read(&mut self, line: &str) {
        let parse = |s: &str| s.trim().parse::<ResponseId>().ok();
        // A line cut short by the kill does not parse, and is ignored.
        if let Some(id) = line.strip_prefix("ACK ").and_then(parse) {
            self.acked.insert(id);
        } else if let Some(id) = line.strip_prefix("DELETING ").and_then(parse) {
            self.deleting.insert(id);
        } else if let Some(id) = line.strip_prefix("DEL ").and_then(parse) {
            self.deleted.insert(id);
        }
    }
}

#[test]
fn killed_writer_never_loses_acknowledged_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("vault");
    let exe = env::current_exe().expect("test binary");
    let mut rng = XorShift::new(0x5e1f_05c4_a5b0_0001);
    let mut log = Log::default();
    let started = Instant::now();
    let mut kills_with_output = 0;
    let mut kills_since_full = 0;
    for iteration in 0..ITERATIONS {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                CHILD,
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, &root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        // Most kills land while the writer writes; one in eight lands while it starts up
        // (creating or opening the vault).
        if iteration % 8 != 7 {
            let deadline = Instant::now() + Duration::from_secs(20);
            while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                let ready = line == "READY";
                lines.push(line);
                if ready {
                    break;
                }
            }
            assert_eq!(
                lines.last().map(String::as_str),
                Some("READY"),
                "the writer did not start"
            );
        }
        thread::sleep(Duration::from_millis(rng.range(5, 80)));
        child.kill().expect("kill writer");
        let status = child.wait().expect("wait for writer");
        assert!(
            !status.success(),
            "iteration {iteration}: the writer exited by itself"
        );
        reader.join().expect("reader thread");
        lines.extend(rx.try_iter());
        if lines.iter().any(|l| l.starts_with("ACK ")) {
            kills_with_output += 1;
        }
        let acked_before = log.acked.clone();
        for line in &lines {
            log.read(line);
        }
        kills_since_full += 1;

        if !root.join("header").exists() {
            // Killed before the vault was created: nothing was acknowledged either.
            assert!(log.acked.is_empty(), "iteration {iteration}");
            continue;
        }
        let before = snapshot_dir(&root);
        let vault = Vault::open(FileStore::new(&root), &pass()).expect("open after a kill");
        assert_eq!(snapshot_dir(&root), before, "open changed the folder");
        assert!(
            vault.damaged().is_empty(),
            "iteration {iteration}: a crash left damage: {:?}",
            vault.damaged()
        );
        // What this writer acknowledged is there and readable; what it deleted is gone.
        for id in log.acked.difference(&acked_before) {
            let found = vault.get(id).expect("readable");
            if log.deleted.contains(id) {
                assert_eq!(found, None, "iteration {iteration}: {id} came back");
            } else if !log.deleting.contains(id) {
                let r = found.unwrap_or_else(|| panic!("iteration {iteration}: {id} was lost"));
                assert!(text_of(&r).is_some_and(|t| t.starts_with("crash answer")));
            }
        }
        for id in &log.deleted {
            assert_eq!(vault.get(id).expect("get"), None, "{id} came back");
        }
        // Decrypting every answer costs more than the rest of an iteration: every eighth kill
        // and after the last one, check every answer ever acknowledged. A loss is permanent,
        // so none goes unseen.
        if iteration % 8 != 0 && iteration != ITERATIONS - 1 {
            continue;
        }
        let listing = vault.list(None);
        assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
        let present: BTreeSet<ResponseId> = listing
            .responses
            .iter()
            .inspect(|r| {
                let text = text_of(r).unwrap_or_default();
                assert!(text.starts_with("crash answer"), "{text:?}");
            })
            .map(|r| r.id.clone())
            .collect();
        for id in &log.acked {
            if log.deleted.contains(id) {
                assert!(
                    !present.contains(id),
                    "iteration {iteration}: {id} came back"
                );
            } else if !log.deleting.contains(id) {
                assert!(present.contains(id), "iteration {iteration}: {id} was lost");
            }
        }
        // Nothing appears that was never acknowledged, except at most one write per kill that
        // was stored before its `ACK` could be printed.
        let unacked = present.difference(&log.acked).count();
        assert!(
            unacked <= kills_since_full,
            "iteration {iteration}: {unacked} unacknowledged answers after {kills_since_full} kills"
        );
        // Those are acknowledged by their presence from now on.
        log.acked.extend(present);
        kills_since_full = 0;
    }
    let elapsed = started.elapsed();
    assert!(
        kills_with_output >= ITERATIONS / 2,
        "only {kills_with_output} of {ITERATIONS} writers got to write before the kill"
    );
    let snapshots = snapshot_dir(&root.join("chunks"))
        .keys()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap-"))
        })
        .count();
    assert!(snapshots >= 1, "no compaction ever ran");
    assert!(
        log.deleted.len() >= 10,
        "only {} deletes completed",
        log.deleted.len()
    );
    eprintln!(
        "crash test: {ITERATIONS} kills, {} answers acknowledged, {} deleted, {elapsed:?}",
        log.acked.len(),
        log.deleted.len()
    );
}
