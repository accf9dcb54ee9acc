//! Admission and rate limits against the relay binary: `/healthz` while the WebSocket side is
//! full, a cap per address (and on its handshakes in flight) that leaves other addresses their
//! way in, `/metrics` on a listener of its own, and a flood of messages cut off with
//! `RateLimited` while other clients sync.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use selfos_proto::{ErrorCode, Frame};
use tokio::{io::AsyncWriteExt, net::TcpListener};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{
    Client, audience, blob, blob_id, closed, http_get, http_get_from, key, metric, pair, peer,
    relay_process, relay_with, tcp_from,
};

const FLOODER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

#[tokio::test]
async fn healthz_answers_while_the_websocket_side_is_full() {
    let relay = relay_process(&std::env::temp_dir(), &["--max-connections", "3"]);
    let (addr, aud) = (relay.addr, audience(relay.addr));
    let mut held = Vec::new();
    for n in 1..=3 {
        let mut c = Client::connect(addr, &aud).await;
        c.join(&key(n), peer(n)).await;
        held.push(c);
    }
    let health = http_get(addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\nok"), "{health}");
    // Anything else is told the relay is full, and when to try again.
    let refused = http_get(addr, "/v1/ws").await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_lowercase().contains("retry-after: 30"),
        "{refused}"
    );
    // A slot freed is a slot for a WebSocket again.
    held.pop();
    let mut again = None;
    for _ in 0..50 {
        let metrics = http_get(addr, "/metrics").await;
        if metrics.starts_with("HTTP/1.1 200") {
            again = Some(Client::connect(addr, &aud).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    again
        .expect("a slot came free")
        .join(&key(9), peer(9))
        .await;
}

#[tokio::test]
async fn a_flooding_address_fills_only_its_own_cap() {
    let relay = relay_process(
        &std::env::temp_dir(),
        &[
            "--max-connections-per-address",
            "4",
            "--max-handshakes-per-address",
            "2",
        ],
    );
    let (addr, aud) = (relay.addr, audience(relay.addr));
    // Two handshakes that never finish: the flooder's third connection is refused at once.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut tcp = tcp_from(FLOODER, addr).await;
        tcp.write_all(b"GET /v1/ws HTTP/1.1\r\n").await.unwrap();
        stalled.push(tcp);
    }
    // The accept loop counts them in order; wait until it has seen both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = http_get_from(FLOODER, addr, "/v1/ws").await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Rooms made up on the spot fill the flooder's connections, and no more.
    let mut rooms = Vec::new();
    for n in 10..14 {
        let mut c = Client::connect_from(FLOODER, addr, &aud).await;
        c.join(&key(n), peer(n)).await;
        rooms.push(c);
    }
    let refused = http_get_from(FLOODER, addr, "/v1/ws").await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    let health = http_get_from(FLOODER, addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Another address still joins and syncs, live and through the store.
    let (mut a, mut b) = pair(addr, &aud, &key(1)).await;
    a.send_to(peer(2), b"still here").await;
    b.expect_deliver(peer(1), b"still here").await;
    let sealed = blob(7, 100_000);
    assert_eq!(a.put(1, &sealed).await, None);
    assert_eq!(b.fetch(2, blob_id(&sealed)).await, Ok(sealed));
    // Two refused upgrades and the health check, each counted when it was refused.
    let metrics = http_get(addr, "/metrics").await;
    let refused = metric(
        &metrics,
        "selfos_relay_rejections_total{reason=\"address_limit\"}",
    );
    assert_eq!(refused, 3);
}

#[tokio::test]
async fn metrics_move_to_their_own_listener() {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap().port()
    };
    let metrics_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let relay = relay_process(
        &std::env::temp_dir(),
        &["--metrics-listen", &metrics_addr.to_string()],
    );
    let public = http_get(relay.addr, "/metrics").await;
    assert!(public.starts_with("HTTP/1.1 404"), "{public}");
    let private = http_get(metrics_addr, "/metrics").await;
    assert!(private.starts_with("HTTP/1.1 200"), "{private}");
    assert!(private.contains("selfos_relay_connections "), "{private}");
    let health = http_get(relay.addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

/// Sends `Ping`s in batches of 100, reading their `Pong`s, until something else comes: returns
/// how many were answered and what came instead (`None`: the connection ended).
async fn ping_flood(c: &mut Client, most: u64) -> (u64, Option<Frame>) {
    let mut answered = 0;
    for batch in 0..most / 100 {
        for i in 0..100 {
            let value = batch * 100 + i;
            let ping = Message::binary(Frame::Ping(value).encode());
            if c.ws.send(ping).await.is_err() {
                return (answered, None);
            }
        }
        for _ in 0..100 {
            match c.ws.next().await {
                Some(Ok(Message::Binary(bytes))) => match Frame::decode(&bytes).unwrap() {
                    Frame::Pong(_) => answered += 1,
                    other => return (answered, Some(other)),
                },
                Some(Ok(Message::Ping(_))) => {}
                _ => return (answered, None),
            }
        }
    }
    (answered, None)
}

#[tokio::test]
async fn a_ping_flood_is_rate_limited_while_another_address_syncs() {
    // The defaults: 200 messages a second after a burst of 5000.
    let relay = relay_process(&std::env::temp_dir(), &[]);
    let (addr, aud) = (relay.addr, audience(relay.addr));
    let mut flooder = Client::connect_from(FLOODER, addr, &aud).await;
    flooder.join(&key(20), peer(20)).await;
    let (mut a, mut b) = pair(addr, &aud, &key(1)).await;

    let (answered, instead) = ping_flood(&mut flooder, 20_000).await;
    // The burst and what refilled while it lasted, not the whole flood.
    assert!((5000..10_000).contains(&answered), "{answered} pongs");
    assert!(
        matches!(
            instead,
            Some(Frame::Error {
                code: ErrorCode::RateLimited,
                ..
            })
        ),
        "{instead:?}"
    );
    assert_eq!(flooder.closed().await, closed(None, 4009));

    a.send_to(peer(2), b"unhurried").await;
    b.expect_deliver(peer(1), b"unhurried").await;
    let sealed = blob(9, 300_000);
    assert_eq!(a.put(1, &sealed).await, None);
    assert_eq!(b.fetch(2, blob_id(&sealed)).await, Ok(sealed));
    let metrics = http_get(addr, "/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "selfos_relay_rejections_total{reason=\"rate_limited\"}"
        ),
        1
    );
}

#[tokio::test]
async fn bytes_are_rate_limited_apart_from_messages() {
    let (_server, addr, aud) = relay_with(|cfg| {
        cfg.rate_bytes = 1000;
        cfg.rate_bytes_burst = 300_000;
    })
    .await;
    let (mut a, mut b) = pair(addr, &aud, &key(1)).await;
    let big = vec![7; 200_000];
    a.send_to(peer(2), &big).await;
    b.expect_deliver(peer(1), &big).await;
    // The second 200 kB finds the byte bucket near empty: refused, though only 3 messages came.
    a.send_to(peer(2), &big).await;
    assert_eq!(a.closed().await, closed(Some(ErrorCode::RateLimited), 4009));
}
