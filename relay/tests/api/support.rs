//! Helpers shared by every test module: a WebSocket client that speaks the relay protocol, the
//! relay in this process, and plain HTTP.

use std::{
    net::{IpAddr, SocketAddr},
    path::Path,
    time::Duration,
};

use ed25519_dalek::SigningKey;
use futures_util::{SinkExt, StreamExt};
use selfos_proto::{
    BlobId, BlobIds, BlobPart, ErrorCode, Frame, ListEntry, Listing, PeerId, StoreFrame,
    handshake::{Audience, Challenge, Join, sign_join},
};
use selfos_relay::{RelayConfig, Server};
use selfos_testkit::RelayProcess;
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::timeout,
};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};

/// How long a client waits for a frame or for the end of its connection.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(crate) struct Client {
    pub(crate) ws: WebSocketStream<Box<dyn Io>>,
    audience: Audience,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq)]
pub(crate) struct Closed {
    pub(crate) error: Option<ErrorCode>,
    pub(crate) code: Option<u16>,
}

impl Client {
    pub(crate) async fn connect(addr: SocketAddr, audience: &Audience) -> Self {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Self::over(Box::new(tcp), addr, "ws", audience).await
    }

    /// [`Client::connect`] from the source address `from` (any of 127.0.0.0/8 on Linux).
    pub(crate) async fn connect_from(from: IpAddr, addr: SocketAddr, audience: &Audience) -> Self {
        let tcp = tcp_from(from, addr).await;
        Self::over(Box::new(tcp), addr, "ws", audience).await
    }

    pub(crate) async fn over(
        io: Box<dyn Io>,
        addr: SocketAddr,
        scheme: &str,
        audience: &Audience,
    ) -> Self {
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

    pub(crate) async fn challenge(&mut self) -> Challenge {
        match self.recv().await {
            Frame::Challenge(c) => c,
            other => panic!("expected a challenge, got {other:?}"),
        }
    }

    /// Joins the room of `key` as `peer`; returns the peers already there.
    pub(crate) async fn join(&mut self, key: &SigningKey, peer: PeerId) -> Vec<PeerId> {
        let challenge = self.challenge().await;
        let join = sign_join(&challenge, &self.audience, key, peer).unwrap();
        self.send(&Frame::Join(join)).await;
        match self.recv().await {
            Frame::Joined { peers } => peers.into_vec(),
            other => panic!("expected Joined, got {other:?}"),
        }
    }

    pub(crate) async fn send(&mut self, frame: &Frame) {
        self.ws.send(Message::binary(frame.encode())).await.unwrap();
    }

    pub(crate) async fn send_to(&mut self, to: PeerId, payload: &[u8]) {
        let payload = payload.to_vec().try_into().unwrap();
        self.send(&Frame::Send { to, payload }).await;
    }

    /// The next protocol frame (skipping WebSocket pings).
    pub(crate) async fn recv(&mut self) -> Frame {
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

    pub(crate) async fn expect_deliver(&mut self, from: PeerId, payload: &[u8]) {
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

    /// Lists the room's store from `since`: the page, or the error of the `StoreDone` answer.
    pub(crate) async fn list(&mut self, request: u32, since: u64) -> Result<Listing, ErrorCode> {
        self.send(&Frame::Store(StoreFrame::List { request, since }))
            .await;
        match self.recv().await {
            Frame::Store(StoreFrame::Listed(listing)) => {
                assert_eq!(listing.request, request);
                Ok(listing)
            }
            Frame::Store(StoreFrame::Done {
                request: r,
                error: Some(code),
            }) if r == request => Err(code),
            other => panic!("expected StoreListed, got {other:?}"),
        }
    }

    /// Every entry of the room's store, page by page from 0.
    pub(crate) async fn list_all(&mut self) -> Vec<ListEntry> {
        let (mut since, mut entries) = (0, Vec::new());
        loop {
            let page = self.list(1, since).await.unwrap();
            entries.extend_from_slice(page.entries.as_slice());
            since = page.head;
            if !page.more {
                return entries;
            }
        }
    }

    /// Sends `blob`'s parts as request `request` (under `id`, its hash unless a test forges it).
    pub(crate) async fn send_parts(&mut self, request: u32, id: BlobId, blob: &[u8]) {
        for part in BlobPart::split(request, id, blob).unwrap() {
            self.send(&Frame::Store(StoreFrame::Put(part))).await;
        }
    }

    /// Uploads `blob`; returns the `StoreDone` answer's error, if any.
    pub(crate) async fn put(&mut self, request: u32, blob: &[u8]) -> Option<ErrorCode> {
        self.send_parts(request, blob_id(blob), blob).await;
        self.done(request).await
    }

    /// Fetches blob `id`: its bytes, reassembled, or the `StoreDone` answer's error.
    pub(crate) async fn fetch(&mut self, request: u32, id: BlobId) -> Result<Vec<u8>, ErrorCode> {
        self.send(&Frame::Store(StoreFrame::Fetch { request, id }))
            .await;
        self.fetched(request, id).await
    }

    /// Reads the answer to the fetch `request` of blob `id`, sent before.
    pub(crate) async fn fetched(&mut self, request: u32, id: BlobId) -> Result<Vec<u8>, ErrorCode> {
        let mut blob = Vec::new();
        loop {
            match self.recv().await {
                Frame::Store(StoreFrame::Blob(part)) => {
                    assert_eq!((part.request, part.id), (request, id));
                    assert_eq!(part.offset() as usize, blob.len(), "parts in order");
                    let last = part.is_last();
                    blob.extend_from_slice(part.bytes());
                    if last {
                        return Ok(blob);
                    }
                }
                Frame::Store(StoreFrame::Done {
                    request: r,
                    error: Some(code),
                }) if r == request => return Err(code),
                other => panic!("expected StoreBlob, got {other:?}"),
            }
        }
    }

    /// Deletes `ids`; returns the `StoreDone` answer's error, if any.
    pub(crate) async fn delete(&mut self, request: u32, ids: &[BlobId]) -> Option<ErrorCode> {
        let ids = BlobIds::try_from(ids.to_vec()).unwrap();
        self.send(&Frame::Store(StoreFrame::Delete { request, ids }))
            .await;
        self.done(request).await
    }

    /// Reads the `StoreDone` answer of `request`: its error, if any.
    pub(crate) async fn done(&mut self, request: u32) -> Option<ErrorCode> {
        match self.recv().await {
            Frame::Store(StoreFrame::Done { request: r, error }) if r == request => error,
            other => panic!("expected StoreDone for {request}, got {other:?}"),
        }
    }

    /// Sends a `Ping` and reads its `Pong`: every frame sent before has been read by the relay.
    pub(crate) async fn round_trip(&mut self, value: u64) {
        self.send(&Frame::Ping(value)).await;
        assert_eq!(self.recv().await, Frame::Pong(value));
    }

    /// Reads until the connection ends: the last `Error` frame and the close code.
    pub(crate) async fn closed(mut self) -> Closed {
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

pub(crate) fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub(crate) fn peer(n: u8) -> PeerId {
    PeerId::from_bytes([n; 16])
}

/// A blob's id: the SHA-256 of its bytes.
pub(crate) fn blob_id(blob: &[u8]) -> BlobId {
    BlobId::from_bytes(Sha256::digest(blob).into())
}

/// `len` bytes that differ from blob to blob (`seed`) and along the blob.
pub(crate) fn blob(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed ^ (i >> 8) as u8)
        .collect()
}

/// The relay binary started in `dir` with `args`, on a free loopback port (with a store of its
/// own unless `args` names one).
pub(crate) fn relay_process(dir: &Path, args: &[&str]) -> RelayProcess {
    let bin = Path::new(env!("CARGO_BIN_EXE_selfos-relay"));
    RelayProcess::start(bin, SocketAddr::from(([127, 0, 0, 1], 0)), dir, args)
}

/// The audience a relay process on `addr` names (it has no public URL set).
pub(crate) fn audience(addr: SocketAddr) -> Audience {
    format!("ws://{addr}").parse().unwrap()
}

/// The relay's defaults, on a free loopback port.
pub(crate) fn config() -> RelayConfig {
    RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// A relay in this process with the defaults, on a free loopback port; returns it with its
/// address and the audience clients sign for.
pub(crate) async fn relay() -> (Server, SocketAddr, Audience) {
    relay_with(|_| {}).await
}

/// [`relay`] with the defaults changed by `tweak`.
pub(crate) async fn relay_with(
    tweak: impl FnOnce(&mut RelayConfig),
) -> (Server, SocketAddr, Audience) {
    let mut cfg = config();
    tweak(&mut cfg);
    let server = Server::spawn(cfg).await.unwrap();
    let (addr, audience) = (server.local_addr(), server.audience().clone());
    (server, addr, audience)
}

/// Peers 1 and 2 in the room of `room`, with the news of the join read: 1 found the room
/// empty, 2 found 1 there, and 1 heard 2 come in.
pub(crate) async fn pair(addr: SocketAddr, aud: &Audience, room: &SigningKey) -> (Client, Client) {
    let mut a = Client::connect(addr, aud).await;
    let mut b = Client::connect(addr, aud).await;
    assert_eq!(a.join(room, peer(1)).await, []);
    assert_eq!(b.join(room, peer(2)).await, [peer(1)]);
    assert_eq!(a.recv().await, Frame::PeerJoined(peer(2)));
    (a, b)
}

/// Sends `join` on `c` and reads until the relay ends the connection.
pub(crate) async fn refused(mut c: Client, join: Join) -> Closed {
    c.send(&Frame::Join(join)).await;
    c.closed().await
}

pub(crate) fn closed(error: Option<ErrorCode>, code: u16) -> Closed {
    Closed {
        error,
        code: Some(code),
    }
}

/// A TCP connection to `addr` from the source address `from`.
pub(crate) async fn tcp_from(from: IpAddr, addr: SocketAddr) -> TcpStream {
    let socket = match from {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(addr).await.unwrap()
}

pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> String {
    http_get_from(IpAddr::from([127, 0, 0, 1]), addr, path).await
}

/// [`http_get`] from the source address `from`.
pub(crate) async fn http_get_from(from: IpAddr, addr: SocketAddr, path: &str) -> String {
    let mut tcp = tcp_from(from, addr).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    timeout(WAIT, tcp.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    response
}

/// The value of the Prometheus metric `name` in a `/metrics` response.
pub(crate) fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name}"))
}
