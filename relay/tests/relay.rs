//! End-to-end tests of `selfos-relay`: real sockets, tokio-tungstenite clients, ed25519 room keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use ed25519_dalek::SigningKey;
use futures_util::{SinkExt, StreamExt};
use selfos_proto::{
    ErrorCode, Frame, PeerId, RoomId,
    handshake::{Audience, Challenge, sign_join},
};
use selfos_relay::{RelayConfig, Server};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::timeout,
};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};

const WAIT: Duration = Duration::from_secs(10);

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Client {
    ws: WebSocketStream<Box<dyn Io>>,
    audience: Audience,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq)]
struct Closed {
    error: Option<ErrorCode>,
    code: Option<u16>,
}

impl Client {
    async fn connect(addr: SocketAddr, audience: &Audience) -> Self {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Self::over(Box::new(tcp), addr, "ws", audience).await
    }

    async fn over(io: Box<dyn Io>, addr: SocketAddr, scheme: &str, audience: &Audience) -> Self {
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let url = format!("{scheme}://{addr}/v1/ws");
        let (ws, _) = client_async_with_config(url, io, Some(config))
            .await
            .unwrap();
        Self {
            ws,
            audience: audience.clone(),
        }
    }

    async fn challenge(&mut self) -> Challenge {
        match self.recv().await {
            Frame::Challenge(c) => c,
            other => panic!("expected a challenge, got {other:?}"),
        }
    }

    /// Joins the room of `key` as `peer`; returns the peers already there.
    async fn join(&mut self, key: &SigningKey, peer: PeerId) -> Vec<PeerId> {
        let challenge = self.challenge().await;
        let join = sign_join(&challenge, &self.audience, key, peer).unwrap();
        self.send(&Frame::Join(join)).await;
        match self.recv().await {
            Frame::Joined { peers } => peers.into_vec(),
            other => panic!("expected Joined, got {other:?}"),
        }
    }

    async fn send(&mut self, frame: &Frame) {
        self.ws.send(Message::binary(frame.encode())).await.unwrap();
    }

    async fn send_to(&mut self, to: PeerId, payload: &[u8]) {
        let payload = payload.to_vec().try_into().unwrap();
        self.send(&Frame::Send { to, payload }).await;
    }

    /// The next protocol frame (skipping WebSocket pings).
    async fn recv(&mut self) -> Frame {
        loop {
            let msg = timeout(WAIT, self.ws.next())
                .await
                .expect("no frame in time");
            match msg {
                Some(Ok(Message::Binary(bytes))) => return Frame::decode(&bytes).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    async fn expect_deliver(&mut self, from: PeerId, payload: &[u8]) {
        match self.recv().await {
            Frame::Deliver {
                from: f,
                payload: p,
            } => {
                assert_eq!(f, from);
                assert_eq!(p.as_bytes(), payload);
            }
            other => panic!("expected Deliver, got {other:?}"),
        }
    }

    /// Reads until the connection ends: the last `Error` frame and the close code.
    async fn closed(mut self) -> Closed {
        let mut out = Closed {
            error: None,
            code: None,
        };
        loop {
            match timeout(WAIT, self.ws.next())
                .await
                .expect("not closed in time")
            {
                Some(Ok(Message::Binary(bytes))) => {
                    if let Ok(Frame::Error { code, .. }) = Frame::decode(&bytes) {
                        out.error = Some(code);
                    }
                }
                Some(Ok(Message::Close(frame))) => out.code = frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return out,
            }
        }
    }
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn peer(n: u8) -> PeerId {
    PeerId::from_bytes([n; 16])
}

fn config() -> RelayConfig {
    RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
}

async fn relay(cfg: RelayConfig) -> (Server, SocketAddr, Audience) {
    let server = Server::spawn(cfg).await.unwrap();
    let (addr, audience) = (server.local_addr(), server.audience().clone());
    (server, addr, audience)
}

fn closed(error: Option<ErrorCode>, code: u16) -> Closed {
    Closed {
        error,
        code: Some(code),
    }
}

async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    timeout(WAIT, tcp.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    response
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name}"))
}

#[tokio::test]
async fn two_and_three_clients_forward_and_see_membership() {
    let (_server, addr, aud) = relay(config()).await;
    let room = key(1);
    let mut a = Client::connect(addr, &aud).await;
    let mut b = Client::connect(addr, &aud).await;
    assert_eq!(a.join(&room, peer(1)).await, []);
    assert_eq!(b.join(&room, peer(2)).await, [peer(1)]);
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));

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
    let mut cfg = config();
    cfg.max_room_peers = 2;
    let (_server, addr, aud) = relay(cfg).await;
    let room = key(1);
    let mut a = Client::connect(addr, &aud).await;
    let mut b = Client::connect(addr, &aud).await;
    a.join(&room, peer(1)).await;
    b.join(&room, peer(2)).await;
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));

    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    let join = sign_join(&challenge, &aud, &room, peer(3)).unwrap();
    c.send(&Frame::Join(join)).await;
    assert_eq!(c.closed().await, closed(Some(ErrorCode::RoomFull), 4005));

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

#[tokio::test]
async fn bad_joins_are_refused_and_inject_nothing() {
    let mut cfg = config();
    cfg.max_clock_skew = Duration::from_millis(300);
    let (_server, addr, aud) = relay(cfg).await;
    let room = key(1);
    let room_id = RoomId::try_from(room.verifying_key()).unwrap();
    let mut member = Client::connect(addr, &aud).await;
    member.join(&room, peer(1)).await;

    // Signed with another key but claiming the room.
    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    let mut join = sign_join(&challenge, &aud, &key(2), peer(2)).unwrap();
    join.room = room_id;
    c.send(&Frame::Join(join)).await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::Unauthenticated), 4003)
    );

    // Signed by the room key for another room id.
    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    let mut join = sign_join(&challenge, &aud, &room, peer(2)).unwrap();
    join.room = RoomId::try_from(key(3).verifying_key()).unwrap();
    c.send(&Frame::Join(join)).await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::Unauthenticated), 4003)
    );

    // Signed for another audience (a malicious relay replaying our challenge elsewhere).
    let mut c = Client::connect(addr, &aud).await;
    let mut challenge = c.challenge().await;
    let evil: Audience = "wss://evil.example".parse().unwrap();
    challenge.audience = evil.clone();
    let join = sign_join(&challenge, &evil, &room, peer(2)).unwrap();
    c.send(&Frame::Join(join)).await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::Unauthenticated), 4003)
    );

    // Signed for another connection's challenge.
    let mut other = Client::connect(addr, &aud).await;
    let foreign = other.challenge().await;
    let mut c = Client::connect(addr, &aud).await;
    c.challenge().await;
    let join = sign_join(&foreign, &aud, &room, peer(2)).unwrap();
    c.send(&Frame::Join(join)).await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::Unauthenticated), 4003)
    );

    // A valid signature on a stale challenge.
    let mut c = Client::connect(addr, &aud).await;
    let challenge = c.challenge().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let join = sign_join(&challenge, &aud, &room, peer(2)).unwrap();
    c.send(&Frame::Join(join)).await;
    assert_eq!(
        c.closed().await,
        closed(Some(ErrorCode::Unauthenticated), 4003)
    );

    // The member saw none of them: the next frame it gets is from a real peer.
    let mut b = Client::connect(addr, &aud).await;
    b.join(&room, peer(3)).await;
    assert_eq!(member.recv().await, Frame::PeerJoined(peer(3)));
    b.send_to(peer(1), b"real").await;
    member.expect_deliver(peer(3), b"real").await;
}

#[tokio::test]
async fn protocol_errors_close_only_the_offender() {
    let mut cfg = config();
    cfg.handshake_timeout = Duration::from_millis(300);
    let (_server, addr, aud) = relay(cfg).await;
    let room = key(1);
    let mut a = Client::connect(addr, &aud).await;
    let mut b = Client::connect(addr, &aud).await;
    a.join(&room, peer(1)).await;
    b.join(&room, peer(2)).await;
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));

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
    let mut cfg = config();
    cfg.queue_len = 8;
    let (server, addr, aud) = relay(cfg).await;
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

#[tokio::test]
async fn a_thousand_connections_at_once() {
    const PAIRS: usize = 500;
    let mut cfg = config();
    cfg.read_buffer_len = 4096;
    let (server, addr, aud) = relay(cfg).await;
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
            let mut c = Client::connect(addr, &aud).await;
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

#[tokio::test]
async fn healthz_and_metrics() {
    let (_server, addr, aud) = relay(config()).await;
    let health = http_get(addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\nok"), "{health}");
    let before = http_get(addr, "/metrics").await;
    assert!(before.starts_with("HTTP/1.1 200"));
    assert!(before.contains("text/plain; version=0.0.4"));
    assert_eq!(metric(&before, "selfos_relay_frames_forwarded_total"), 0);

    let mut a = Client::connect(addr, &aud).await;
    let mut b = Client::connect(addr, &aud).await;
    a.join(&key(1), peer(1)).await;
    b.join(&key(1), peer(2)).await;
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

mod tls {
    use rustls::{
        ClientConfig, RootCertStore,
        crypto::ring,
        pki_types::ServerName,
        version::{TLS12, TLS13},
    };
    use tokio_rustls::TlsConnector;

    use super::*;

    fn connector(
        roots: &RootCertStore,
        version: &'static rustls::SupportedProtocolVersion,
    ) -> TlsConnector {
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }

    #[tokio::test]
    async fn wss_with_tls13_only() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        let mut cfg = config();
        cfg.tls_cert = Some(cert_path);
        cfg.tls_key = Some(key_path);
        let (_server, addr, aud) = relay(cfg).await;
        assert_eq!(aud.as_str(), format!("wss://{addr}"));

        let mut roots = RootCertStore::empty();
        roots.add(cert.cert.der().clone()).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut clients = Vec::new();
        for n in 1..=2 {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let tls = connector(&roots, &TLS13)
                .connect(name.clone(), tcp)
                .await
                .unwrap();
            assert_eq!(
                tls.get_ref().1.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_3)
            );
            let mut c = Client::over(Box::new(tls), addr, "wss", &aud).await;
            c.join(&key(1), peer(n)).await;
            clients.push(c);
        }
        let [a, b] = &mut clients[..] else {
            unreachable!()
        };
        a.send_to(peer(2), b"over tls").await;
        b.expect_deliver(peer(1), b"over tls").await;

        // A client that speaks at most TLS 1.2 gets no connection.
        let tcp = TcpStream::connect(addr).await.unwrap();
        let refused = connector(&roots, &TLS12).connect(name.clone(), tcp).await;
        assert!(refused.is_err());
        // Nor does plain WebSocket on the TLS port.
        let tcp = TcpStream::connect(addr).await.unwrap();
        let plain = client_async_with_config(format!("ws://{addr}/v1/ws"), tcp, None).await;
        assert!(plain.is_err());
    }
}

/// Starts the relay binary in `dir` with `args`; returns it and the address it listens on.
fn spawn_binary(dir: &std::path::Path, args: &[&str]) -> (std::process::Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_selfos-relay"))
        .current_dir(dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("SELFOS_RELAY_WEB_ROOT")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

#[tokio::test]
async fn binary_serves_the_built_dashboard_of_its_working_folder_by_default() {
    let checkout = tempfile::tempdir().unwrap();
    let dist = checkout.path().join("clients/webapp/dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "built dashboard").unwrap();
    let (mut child, addr) = spawn_binary(checkout.path(), &[]);
    assert!(http_get(addr, "/").await.ends_with("built dashboard"));
    child.kill().unwrap();
    child.wait().unwrap();
    // Elsewhere, nothing is served unless a folder is named.
    let elsewhere = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn_binary(elsewhere.path(), &[]);
    assert!(http_get(addr, "/").await.starts_with("HTTP/1.1 404"));
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut child, addr) = spawn_binary(elsewhere.path(), &["--web-root", dist.to_str().unwrap()]);
    assert!(http_get(addr, "/").await.ends_with("built dashboard"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn binary_drains_on_sigterm() {
    let (mut child, addr) = spawn_binary(&std::env::temp_dir(), &["--drain-timeout", "3s"]);
    let aud: Audience = format!("ws://{addr}").parse().unwrap();
    let mut a = Client::connect(addr, &aud).await;
    let mut b = Client::connect(addr, &aud).await;
    a.join(&key(1), peer(1)).await;
    b.join(&key(1), peer(2)).await;
    a.send_to(peer(2), b"before").await;
    b.expect_deliver(peer(1), b"before").await;
    let mut pending = Client::connect(addr, &aud).await;
    pending.challenge().await;

    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let going_away = closed(Some(ErrorCode::ShuttingDown), 4000);
    assert_eq!(b.closed().await, going_away);
    assert_eq!(pending.closed().await, going_away);
    // `a` has PeerLeft or nothing queued before its close, depending on timing.
    assert_eq!(a.closed().await, going_away);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(3) + Duration::from_millis(1500));
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn serves_the_dashboard_folder_beside_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html>dashboard").unwrap();
    std::fs::write(dir.path().join("assets/app-9f.js"), "export {}").unwrap();
    std::fs::write(dir.path().join("assets/selfos-1c.wasm"), b"\0asm").unwrap();
    let mut cfg = config();
    cfg.web_root = Some(dir.path().to_owned());
    let (_server, addr, aud) = relay(cfg).await;

    let index = http_get(addr, "/").await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("content-type: text/html"), "{index}");
    assert!(
        index.contains("content-security-policy: default-src 'self'"),
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
    let (_server, addr, _) = relay(config()).await;
    assert!(http_get(addr, "/").await.starts_with("HTTP/1.1 404"));

    let empty = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.web_root = Some(empty.path().to_owned());
    let err = Server::spawn(cfg).await.unwrap_err().to_string();
    assert!(err.contains("web_root"), "{err}");
}
