//! The relay binary as a process: what its working folder and flags make it serve, and how it
//! drains on SIGTERM.

use std::time::{Duration, Instant};

use selfos_proto::ErrorCode;
use tokio::net::TcpStream;

use crate::support::{Client, audience, closed, http_get, key, pair, peer, relay_process};

#[tokio::test]
async fn binary_serves_the_dashboard_only_when_asked() {
    // Even from a checkout that holds a built dashboard, nothing is served unless a folder is
    // named: whoever runs a relay serves the code that receives its users' passphrases.
    let checkout = tempfile::tempdir().unwrap();
    let dist = checkout.path().join("clients/webapp/dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "built dashboard").unwrap();
    let relay = relay_process(checkout.path(), &[]);
    assert!(http_get(relay.addr, "/").await.starts_with("HTTP/1.1 404"));
    relay.kill();
    let relay = relay_process(checkout.path(), &["--web-root", dist.to_str().unwrap()]);
    assert!(http_get(relay.addr, "/").await.ends_with("built dashboard"));
    relay.kill();
}

#[tokio::test]
async fn binary_drains_on_sigterm() {
    let relay = relay_process(&std::env::temp_dir(), &["--drain-timeout", "3s"]);
    let addr = relay.addr;
    let aud = audience(addr);
    let (mut a, mut b) = pair(addr, &aud, &key(1)).await;
    a.send_to(peer(2), b"before").await;
    b.expect_deliver(peer(1), b"before").await;
    let mut pending = Client::connect(addr, &aud).await;
    pending.challenge().await;

    let started = Instant::now();
    relay.terminate();
    let going_away = closed(Some(ErrorCode::ShuttingDown), 4000);
    assert_eq!(b.closed().await, going_away);
    assert_eq!(pending.closed().await, going_away);
    // `a` has PeerLeft or nothing queued before its close, depending on timing.
    assert_eq!(a.closed().await, going_away);
    let status = tokio::task::spawn_blocking(move || relay.wait())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(3) + Duration::from_millis(1500));
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn binary_keeps_its_store_under_the_working_folder_by_default() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    // Started by hand: the test kit always names a store.
    let mut child = Command::new(env!("CARGO_BIN_EXE_selfos-relay"))
        .current_dir(dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .env_remove("SELFOS_RELAY_STORE")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.starts_with("listening on "), "{line:?}");
    let folder = dir.path().join("selfos-relay-data");
    assert!(folder.join("store.db").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[tokio::test]
async fn binary_refuses_to_start_on_a_store_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    // The store's folder would have to be inside a plain file.
    let file = dir.path().join("plain");
    std::fs::write(&file, "not a folder").unwrap();
    let store = format!("sqlite:{}", file.join("store.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_selfos-relay"))
        .current_dir(dir.path())
        .args(["--listen", "127.0.0.1:0", "--store", &store])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the store"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
}
