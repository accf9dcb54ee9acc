//! What the relay answers over plain HTTP: health, metrics, and the dashboard's files.

use futures_util::SinkExt;
use selfos_relay::Server;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Client, config, http_get, key, metric, pair, peer, relay, relay_with};

#[tokio::test]
async fn healthz_and_metrics() {
    let (_server, addr, aud) = relay().await;
    let health = http_get(addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\nok"), "{health}");
    let before = http_get(addr, "/metrics").await;
    assert!(before.starts_with("HTTP/1.1 200"));
    assert!(before.contains("text/plain; version=0.0.4"));
    assert_eq!(metric(&before, "selfos_relay_frames_forwarded_total"), 0);

    let (mut a, mut b) = pair(addr, &aud, &key(1)).await;
    a.send_to(peer(2), &[1; 1000]).await;
    b.expect_deliver(peer(1), &[1; 1000]).await;
    let mut c = Client::connect(addr, &aud).await;
    c.challenge().await;
    c.ws.send(Message::text("hi")).await.unwrap();
    c.closed().await;

    let after = http_get(addr, "/metrics").await;
    assert_eq!(metric(&after, "selfos_relay_frames_forwarded_total"), 1);
    assert_eq!(metric(&after, "selfos_relay_bytes_forwarded_total"), 1026);
    assert_eq!(metric(&after, "selfos_relay_rooms"), 1);
    assert_eq!(metric(&after, "selfos_relay_peers"), 2);
    assert_eq!(metric(&after, "selfos_relay_connections"), 2);
    assert_eq!(metric(&after, "selfos_relay_connections_total"), 3);
    assert!(after.contains("selfos_relay_rejections_total{reason=\"malformed_frame\"} 1"));
}

#[tokio::test]
async fn serves_the_dashboard_folder_beside_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html>dashboard").unwrap();
    std::fs::write(dir.path().join("assets/app-9f.js"), "export {}").unwrap();
    std::fs::write(dir.path().join("assets/selfos-1c.wasm"), b"\0asm").unwrap();
    let (_server, addr, aud) = relay_with(|cfg| cfg.web_root = Some(dir.path().to_owned())).await;

    let index = http_get(addr, "/").await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("content-type: text/html"), "{index}");
    assert!(
        index.contains("content-security-policy: default-src 'self'"),
        "{index}"
    );
    // Sockets go to this relay only: no other relay, no scheme-wide `ws:` or `wss:`.
    assert!(
        index.contains(&format!("connect-src 'self' {aud};")),
        "{index}"
    );
    assert!(
        !index.contains(" ws: ") && !index.contains(" wss:"),
        "{index}"
    );
    assert!(index.ends_with("dashboard"), "{index}");
    let wasm = http_get(addr, "/assets/selfos-1c.wasm").await;
    assert!(wasm.contains("content-type: application/wasm"), "{wasm}");
    assert!(wasm.contains("immutable"), "{wasm}");
    assert!(
        http_get(addr, "/assets/app-9f.js")
            .await
            .contains("text/javascript")
    );
    // The app's own routes load the app; missing files and escapes are 404.
    assert!(http_get(addr, "/answers").await.ends_with("dashboard"));
    assert!(
        http_get(addr, "/assets/gone.js")
            .await
            .starts_with("HTTP/1.1 404")
    );
    assert!(
        http_get(addr, "/../Cargo.toml")
            .await
            .starts_with("HTTP/1.1 404")
    );
    // The relay's own routes still answer.
    assert!(http_get(addr, "/healthz").await.ends_with("ok"));
    let mut a = Client::connect(addr, &aud).await;
    assert_eq!(a.join(&key(1), peer(1)).await, []);
}

#[tokio::test]
async fn without_a_web_root_nothing_is_served_and_a_bad_one_is_refused() {
    let (_server, addr, _) = relay().await;
    assert!(http_get(addr, "/").await.starts_with("HTTP/1.1 404"));

    let empty = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.web_root = Some(empty.path().to_owned());
    let err = Server::spawn(cfg).await.unwrap_err().to_string();
    assert!(err.contains("web_root"), "{err}");
}
