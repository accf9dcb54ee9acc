//! Many connections at once.

use std::{net::IpAddr, sync::Arc, time::Duration};

use ed25519_dalek::SigningKey;
use selfos_proto::Frame;
use tokio::time::timeout;

use crate::support::{Client, http_get, metric, peer, relay_with};

#[tokio::test]
async fn a_thousand_connections_at_once() {
    const PAIRS: usize = 500;
    let (server, addr, aud) = relay_with(|cfg| cfg.read_buffer_len = 4096).await;
    let mut tasks = tokio::task::JoinSet::new();
    let (ready_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let joined = Arc::new(tokio::sync::Barrier::new(2 * PAIRS + 1));
    for i in 0..2 * PAIRS {
        let (aud, joined, mut go) = (aud.clone(), joined.clone(), ready_tx.subscribe());
        tasks.spawn(async move {
            let pair = i / 2;
            let mut seed = [0; 32];
            seed[..8].copy_from_slice(&(pair as u64 + 1).to_be_bytes());
            let (me, other) = if i % 2 == 0 {
                (peer(1), peer(2))
            } else {
                (peer(2), peer(1))
            };
            // From 100 addresses, as many clients would: one address alone is capped.
            let from = IpAddr::from([127, 0, 0, 10 + (i % 100) as u8]);
            let mut c = Client::connect_from(from, addr, &aud).await;
            let peers = c.join(&SigningKey::from_bytes(&seed), me).await;
            if peers.is_empty() {
                assert_eq!(c.recv().await, Frame::PeerJoined(other));
            }
            joined.wait().await;
            go.recv().await.unwrap();
            c.send_to(other, format!("from {i}").as_bytes()).await;
            let partner = if i % 2 == 0 { i + 1 } else { i - 1 };
            c.expect_deliver(other, format!("from {partner}").as_bytes())
                .await;
            c
        });
    }
    timeout(Duration::from_secs(40), joined.wait())
        .await
        .unwrap();
    let text = http_get(addr, "/metrics").await;
    assert_eq!(metric(&text, "selfos_relay_peers"), 2 * PAIRS as u64);
    assert_eq!(metric(&text, "selfos_relay_rooms"), PAIRS as u64);
    ready_tx.send(()).unwrap();
    let mut clients = Vec::new();
    while let Some(client) = tasks.join_next().await {
        clients.push(client.unwrap());
    }
    assert_eq!(clients.len(), 2 * PAIRS);
    let text = http_get(server.local_addr(), "/metrics").await;
    assert!(metric(&text, "selfos_relay_frames_forwarded_total") >= 2 * PAIRS as u64);
}
