//! What the relay binary logs at info level about a whole session of two devices (join, live
//! frames, the store, a refused join): nothing that follows a device, neither its address nor
//! its peer or room id, in any form.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::Path,
};

use ed25519_dalek::SigningKey;
use selfos_proto::{ErrorCode, Frame, PeerId, RoomId, handshake::sign_join};
use selfos_testkit::{RelayProcess, id_forms};

use crate::support::{Client, audience, blob, blob_id, closed, refused, tcp_from};

/// Clients connect from an address the relay does not listen on, so any trace of theirs stands
/// out from the relay's own address.
const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

#[tokio::test]
async fn info_logs_hold_no_address_and_no_id() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("relay.log");
    let bin = Path::new(env!("CARGO_BIN_EXE_selfos-relay"));
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let relay = RelayProcess::start_logged(bin, listen, dir.path(), &[], &log_path);
    let addr = relay.addr;
    let aud = audience(addr);

    // Ids that look like nothing else in a log.
    let room = SigningKey::from_bytes(&[0xa7; 32]);
    let (p1, p2) = (
        PeerId::from_bytes(*b"\x5e\x11\x0c\x93\x27\xd4\x8b\x60\x1f\xe2\x44\x9a\x3c\x71\xb8\x05"),
        PeerId::from_bytes(*b"\xc4\x2b\x97\x18\x6e\xf0\x53\xa9\x0d\x84\x3f\xe7\x21\x9c\x5a\x66"),
    );
    let mut client_ports = Vec::new();
    let mut connect = async || {
        let tcp = tcp_from(CLIENT, addr).await;
        client_ports.push(tcp.local_addr().unwrap().port());
        Client::over(Box::new(tcp), addr, "ws", &aud).await
    };
    let mut a = connect().await;
    let mut b = connect().await;
    let mut c = connect().await;
    assert!(a.join(&room, p1).await.is_empty());
    assert_eq!(b.join(&room, p2).await, [p1]);
    assert_eq!(a.recv().await, Frame::PeerJoined(p2));
    a.send_to(p2, b"live").await;
    b.expect_deliver(p1, b"live").await;
    let sealed = blob(3, 70_000);
    assert_eq!(a.put(1, &sealed).await, None);
    assert_eq!(b.list_all().await.len(), 1);
    assert_eq!(b.fetch(2, blob_id(&sealed)).await, Ok(sealed.clone()));
    assert_eq!(a.delete(3, &[blob_id(&sealed)]).await, None);
    // A join signed for another room is refused (and logged).
    let challenge = c.challenge().await;
    let mut join = sign_join(&challenge, &aud, &room, p1).unwrap();
    let other_room = RoomId::try_from(SigningKey::from_bytes(&[0x3b; 32]).verifying_key()).unwrap();
    join.room = other_room;
    assert_eq!(
        refused(c, join).await,
        closed(Some(ErrorCode::Unauthenticated), 4003)
    );
    drop((a, b));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    relay.kill();

    let log = std::fs::read_to_string(&log_path).unwrap();
    // The session was logged at info level: the test looks at a log that says something.
    for event in ["joined", "left", "join refused"] {
        assert!(log.contains(event), "no {event:?} in\n{log}");
    }
    let mut secrets = vec![CLIENT.to_string()];
    secrets.extend(client_ports.iter().map(|p| format!(":{p}")));
    for id in [p1.as_bytes().as_slice(), p2.as_bytes().as_slice()] {
        secrets.extend(id_forms(id));
    }
    secrets.extend(id_forms(&room.verifying_key().to_bytes()));
    secrets.extend(id_forms(other_room.as_bytes()));
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret:?} in\n{log}");
    }
    // No address at all, but the relay's own where it says where it listens.
    for line in log.lines().filter(|l| !l.contains("relay listening")) {
        assert!(!line.contains("127.0.0."), "an address in {line:?}");
    }
}
