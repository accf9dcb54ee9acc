//! Rooms: frames forwarded between members in order, membership news, one connection per peer,
//! a size limit.

use selfos_proto::{ErrorCode, Frame, handshake::sign_join};

use crate::support::{Client, closed, key, pair, peer, refused, relay, relay_with};

#[tokio::test]
async fn two_and_three_clients_forward_and_see_membership() {
    let (_server, addr, aud) = relay().await;
    let room = key(1);
    let (mut a, mut b) = pair(addr, &aud, &room).await;

    a.send_to(peer(2), b"hello b").await;
    b.expect_deliver(peer(1), b"hello b").await;
    b.send_to(peer(1), &[0xff; 4000]).await;
    a.expect_deliver(peer(2), &[0xff; 4000]).await;
    // An empty payload is a payload too.
    a.send_to(peer(2), b"").await;
    b.expect_deliver(peer(1), b"").await;

    let mut c = Client::connect(addr, &aud).await;
    let mut others = c.join(&room, peer(3)).await;
    others.sort();
    assert_eq!(others, [peer(1), peer(2)]);
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(3)));
    assert_eq!(b.recv().await, Frame::PeerJoined(peer(3)));
    for i in 0..20u8 {
        c.send_to(peer(1), &[i; 100]).await;
        c.send_to(peer(2), &[i; 200]).await;
    }
    // Frames from one sender to one recipient arrive in order.
    for i in 0..20u8 {
        a.expect_deliver(peer(3), &[i; 100]).await;
        b.expect_deliver(peer(3), &[i; 200]).await;
    }
    a.send_to(peer(3), b"to c").await;
    c.expect_deliver(peer(1), b"to c").await;

    // Sending to a peer not in the room (or to oneself) is refused without closing.
    c.send_to(peer(9), b"nobody").await;
    assert!(matches!(
        c.recv().await,
        Frame::Error {
            code: ErrorCode::UnknownPeer,
            ..
        }
    ));
    c.send_to(peer(3), b"myself").await;
    assert!(matches!(
        c.recv().await,
        Frame::Error {
            code: ErrorCode::UnknownPeer,
            ..
        }
    ));
    c.send(&Frame::Ping(77)).await;
    assert_eq!(c.recv().await, Frame::Pong(77));

    // A room with another key is another room.
    let mut d = Client::connect(addr, &aud).await;
    assert_eq!(d.join(&key(2), peer(1)).await, []);
    d.send_to(peer(2), b"other room").await;
    assert!(matches!(
        d.recv().await,
        Frame::Error {
            code: ErrorCode::UnknownPeer,
            ..
        }
    ));

    drop(c);
    assert_eq!(a.recv().await, Frame::PeerLeft(peer(3)));
    assert_eq!(b.recv().await, Frame::PeerLeft(peer(3)));
    b.ws.close(None).await.unwrap();
    assert_eq!(a.recv().await, Frame::PeerLeft(peer(2)));
}

#[tokio::test]
async fn duplicate_peer_replaces_the_old_connection_and_full_rooms_refuse() {
    let (_server, addr, aud) = relay_with(|cfg| cfg.max_room_peers = 2).await;
    let room = key(1);
    let (mut a, b) = pair(addr, &aud, &room).await;

    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    let join = sign_join(&challenge, &aud, &room, peer(3)).unwrap();
    assert_eq!(
        refused(c, join).await,
        closed(Some(ErrorCode::RoomFull), 4005)
    );

    let mut b2 = Client::connect(addr, &aud).await;
    assert_eq!(b2.join(&room, peer(2)).await, [peer(1)]);
    assert_eq!(
        b.closed().await,
        closed(Some(ErrorCode::DuplicatePeer), 4006)
    );
    assert_eq!(a.recv().await, Frame::PeerLeft(peer(2)));
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));
    a.send_to(peer(2), b"new b").await;
    b2.expect_deliver(peer(1), b"new b").await;
}
