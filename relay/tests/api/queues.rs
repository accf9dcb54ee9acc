//! Peers that do not read: their queue stays within its bytes, and they are dropped within the
//! idle timeout even while the relay's write to them is blocked and they keep sending pongs.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures_util::SinkExt;
use selfos_proto::Frame;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use crate::support::{Client, http_get, key, metric, pair, peer, relay_with};

/// A frame's payload: large, so that kernel buffers fill after a few dozen.
const PAYLOAD: usize = 200_000;

/// Reads `a` until `PeerLeft(2)`: the relay dropped the peer that does not read.
async fn peer_left(a: &mut Client) {
    loop {
        match a.recv().await {
            Frame::PeerLeft(p) if p == peer(2) => return,
            Frame::Error { .. } => panic!("the sender was refused"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_peer_that_never_reads_is_dropped_within_the_idle_timeout_though_it_pongs() {
    let idle = Duration::from_secs(2);
    let (_server, addr, aud) = relay_with(|cfg| {
        cfg.idle_timeout = idle;
        cfg.ping_interval = Duration::from_millis(500);
        // Room for everything sent: only the blocked write can drop the reader.
        cfg.queue_bytes = 64 << 20;
        cfg.queue_budget = 64 << 20;
    })
    .await;
    let (mut a, mut b) = pair(addr, &aud, &key(1)).await;
    // `b` never reads, but sends a pong every 200 ms: not a sign that it reads.
    let ponger = tokio::spawn(async move {
        loop {
            if b.ws.send(Message::Pong(Bytes::new())).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let payload = vec![3; PAYLOAD];
    for _ in 0..150 {
        a.send_to(peer(2), &payload).await;
    }
    let sent = Instant::now();
    peer_left(&mut a).await;
    assert!(
        sent.elapsed() < idle + Duration::from_millis(1500),
        "{:?}",
        sent.elapsed()
    );
    dropped_once_and_nothing_queued(addr).await;
    ponger.abort();
}

#[tokio::test]
async fn queued_bytes_stay_within_their_bound() {
    const BOUND: u64 = 1 << 20;
    let (_server, addr, aud) = relay_with(|cfg| {
        cfg.queue_bytes = BOUND;
        cfg.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let (mut a, b) = pair(addr, &aud, &key(1)).await;
    let payload = vec![5; PAYLOAD];
    let mut most = 0;
    for i in 0..300 {
        a.send_to(peer(2), &payload).await;
        if i % 10 == 0 {
            let queued = metric(
                &http_get(addr, "/metrics").await,
                "selfos_relay_queued_bytes",
            );
            most = most.max(queued);
        }
    }
    // Dropped as a slow reader long before the idle timeout, its queue never past the bound.
    peer_left(&mut a).await;
    assert!(most <= BOUND, "{most} bytes queued");
    dropped_once_and_nothing_queued(addr).await;
    drop(b);
}

/// The relay dropped one slow reader, and holds no queued bytes any more.
async fn dropped_once_and_nothing_queued(addr: SocketAddr) {
    let metrics = http_get(addr, "/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "selfos_relay_rejections_total{reason=\"slow_reader\"}"
        ),
        1
    );
    assert_eq!(metric(&metrics, "selfos_relay_queued_bytes"), 0);
}
