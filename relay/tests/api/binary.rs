//! The relay binary as a process: what its working folder and flags make it serve, and how it
//! drains on SIGTERM.

use std::time::{Duration, Instant};

use selfos_proto::ErrorCode;
use tokio::net::TcpStream;

use crate::support::{Client, audience, closed, http_get, key, pair, peer, relay_process};

#[tokio::test]
async fn binary_serves_the_built_dashboard_of_its_working_folder_by_default() {
    let checkout = tempfile::tempdir().unwrap();
    let dist = checkout.path().join("clients/webapp/dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "built dashboard").unwrap();
    let relay = relay_process(checkout.path(), &[]);
    assert!(http_get(relay.addr, "/").await.ends_with("built dashboard"));
    relay.kill();
    // Elsewhere, nothing is served unless a folder is named.
    let elsewhere = tempfile::tempdir().unwrap();
    let relay = relay_process(elsewhere.path(), &[]);
    assert!(http_get(relay.addr, "/").await.starts_with("HTTP/1.1 404"));
    relay.kill();
    let relay = relay_process(elsewhere.path(), &["--web-root", dist.to_str().unwrap()]);
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
