//! What the relay refuses: joins that do not prove the room key for this connection, frames
//! that break the protocol, a reader too slow for its queue. Each closes only the offender.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use selfos_proto::{
    ErrorCode, Frame, RoomId,
    handshake::{Audience, sign_join},
};
use tokio::{net::TcpSocket, time::timeout};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Client, Closed, closed, http_get, key, pair, peer, refused, relay_with};

#[tokio::test]
async fn bad_joins_are_refused_and_inject_nothing() {
    let (_server, addr, aud) =
        relay_with(|cfg| cfg.max_clock_skew = Duration::from_millis(300)).await;
    let room = key(1);
    let room_id = RoomId::try_from(room.verifying_key()).unwrap();
    let mut member = Client::connect(addr, &aud).await;
    member.join(&room, peer(1)).await;
    let unauthenticated = closed(Some(ErrorCode::Unauthenticated), 4003);

    // Signed with another key but claiming the room.
    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    let mut join = sign_join(&challenge, &aud, &key(2), peer(2)).unwrap();
    join.room = room_id;
    assert_eq!(refused(c, join).await, unauthenticated);

    // Signed by the room key for another room id.
    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    let mut join = sign_join(&challenge, &aud, &room, peer(2)).unwrap();
    join.room = RoomId::try_from(key(3).verifying_key()).unwrap();
    assert_eq!(refused(c, join).await, unauthenticated);

    // Signed for another audience (a malicious relay replaying our challenge elsewhere).
    let mut c = Client::connect(addr, &aud).await;
    let mut challenge = c.challenge().await;
    let evil: Audience = "wss://evil.example".parse().unwrap();
    challenge.audience = evil.clone();
    let join = sign_join(&challenge, &evil, &room, peer(2)).unwrap();
    assert_eq!(refused(c, join).await, unauthenticated);

    // Signed for another connection's challenge.
    let mut other = Client::connect(addr, &aud).await;
    let foreign = other.challenge().await;
    let mut c = Client::connect(addr, &aud).await;
    c.challenge().await;
    let join = sign_join(&foreign, &aud, &room, peer(2)).unwrap();
    assert_eq!(refused(c, join).await, unauthenticated);

    // A valid signature on a stale challenge.
    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let join = sign_join(&challenge, &aud, &room, peer(2)).unwrap();
    assert_eq!(refused(c, join).await, unauthenticated);

    // The member saw none of them: the next frame it gets is from a real peer.
    let mut b = Client::connect(addr, &aud).await;
    b.join(&room, peer(3)).await;
    assert_eq!(member.recv().await, Frame::PeerJoined(peer(3)));
    b.send_to(peer(1), b"real").await;
    member.expect_deliver(peer(3), b"real").await;
}

#[tokio::test]
async fn protocol_errors_close_only_the_offender() {
    let (_server, addr, aud) =
        relay_with(|cfg| cfg.handshake_timeout = Duration::from_millis(300)).await;
    let room = key(1);
    let (mut a, mut b) = pair(addr, &aud, &room).await;

    // A Send before the Join.
    let mut c = Client::connect(addr, &aud).await;
    c.challenge().await;
    c.send_to(peer(1), b"sneaky").await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::UnexpectedFrame), 4001)
    );

    // No Join at all.
    let mut c = Client::connect(addr, &aud).await;
    c.challenge().await;
    assert_eq!(c.closed().await, closed(None, 4004));

    let cases: [(Message, Closed); 5] = [
        (
            Message::binary(b"not a frame".to_vec()),
            closed(Some(ErrorCode::MalformedFrame), 4001),
        ),
        (
            Message::binary(vec![0x53, 0x4f, 0x53, 0x46, 2, 6]),
            closed(Some(ErrorCode::UnsupportedVersion), 4002),
        ),
        (
            Message::binary(vec![0; 300 * 1024]),
            closed(Some(ErrorCode::FrameTooLarge), 4001),
        ),
        (
            Message::text("hello"),
            closed(Some(ErrorCode::MalformedFrame), 4001),
        ),
        (
            Message::binary(Frame::PeerLeft(peer(1)).encode()),
            closed(Some(ErrorCode::UnexpectedFrame), 4001),
        ),
    ];
    for (n, (msg, expected)) in cases.into_iter().enumerate() {
        let id = peer(10 + n as u8);
        let mut c = Client::connect(addr, &aud).await;
        c.join(&room, id).await;
        assert_eq!(a.recv().await, Frame::PeerJoined(id));
        assert_eq!(b.recv().await, Frame::PeerJoined(id));
        c.ws.send(msg).await.unwrap();
        assert_eq!(c.closed().await, expected, "case {n}");
        assert_eq!(a.recv().await, Frame::PeerLeft(id));
        assert_eq!(b.recv().await, Frame::PeerLeft(id));
        // The room goes on.
        a.send_to(peer(2), &[n as u8; 10]).await;
        b.expect_deliver(peer(1), &[n as u8; 10]).await;
    }
}

#[tokio::test]
async fn slow_reader_is_disconnected_and_the_sender_never_waits() {
    let (server, addr, aud) = relay_with(|cfg| cfg.queue_len = 8).await;
    let room = key(1);
    let mut a = Client::connect(addr, &aud).await;
    a.join(&room, peer(1)).await;
    // The slow reader's socket buffers are small, so its queue fills soon.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let mut slow = Client::over(Box::new(tcp), addr, "ws", &aud).await;
    slow.join(&room, peer(2)).await;
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));

    let payload = vec![7; 64 * 1024];
    let started = Instant::now();
    let mut sent = 0;
    let mut evicted = false;
    while !evicted {
        assert!(sent < 5000, "the slow reader was never disconnected");
        a.send_to(peer(2), &payload).await;
        sent += 1;
        // The sender keeps being served: its own frames come back promptly.
        while let Ok(Some(Ok(Message::Binary(bytes)))) =
            timeout(Duration::from_millis(1), a.ws.next()).await
        {
            match Frame::decode(&bytes).unwrap() {
                Frame::PeerLeft(p) if p == peer(2) => evicted = true,
                // Frames sent after the eviction find no recipient.
                Frame::Error {
                    code: ErrorCode::UnknownPeer,
                    ..
                } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    // The slow reader finds its stream cut (after the frames that fit in its buffers).
    let end = slow.closed().await;
    assert!(end.code.is_none() || end.code == Some(4007), "{end:?}");
    let text = http_get(server.local_addr(), "/metrics").await;
    assert!(text.contains("selfos_relay_rejections_total{reason=\"slow_reader\"} 1"));
}
