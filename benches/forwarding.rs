//! Relay forwarding throughput, side by side with a minimal raw TCP forwarder in the same run.
//!
//! Several sender/receiver pairs run at once on loopback. Each pair's sender keeps at most
//! `WINDOW` frames in flight (credits returned by its receiver), the same for both forwarders,
//! so neither is measured on how much it can buffer. The relay path: tokio-tungstenite client ->
//! relay (WebSocket decode, `Send` -> `Deliver` rewrite in place, room routing, bounded queue,
//! WebSocket encode) -> client. The raw path: length-prefixed frames -> one tokio task per pair
//! that reads each frame and writes it on -> client.
//!
//! `cargo bench -p selfos-benches --bench forwarding` prints criterion's figures and then a summary
//! with msg/s, MB/s and the ratio relay/raw; `cargo test --benches` runs everything once, quickly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::large_enum_variant,
    missing_docs
)]

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput};
use ed25519_dalek::SigningKey;
use futures_util::{SinkExt, StreamExt};
use selfos::proto::{Frame, PeerId, handshake::sign_join};
use selfos_relay::{RelayConfig, Server};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter},
    net::{TcpListener, TcpStream, tcp::OwnedReadHalf, tcp::OwnedWriteHalf},
    sync::Semaphore,
};
use tokio_tungstenite::{WebSocketStream, client_async, tungstenite::Message};

const PAIRS: usize = 4;
const WINDOW: usize = 64;
const SIZES: [usize; 2] = [1024, 16 * 1024];

type Ws = WebSocketStream<TcpStream>;

/// One sender and one receiver, either through the relay or through the raw forwarder.
enum Pair {
    Relay {
        tx: Ws,
        rx: Ws,
        frame: Message,
    },
    Raw {
        tx: BufWriter<OwnedWriteHalf>,
        rx: BufReader<OwnedReadHalf>,
        frame: Vec<u8>,
        // The halves that are not used, kept so the sockets stay open.
        _keep: (OwnedReadHalf, OwnedWriteHalf),
    },
}

impl Pair {
    /// Sends `n` frames and waits until all arrived.
    async fn run(self, n: usize) -> Self {
        let credits = Arc::new(Semaphore::new(WINDOW));
        let back = credits.clone();
        match self {
            Self::Relay {
                mut tx,
                mut rx,
                frame,
            } => {
                let len = frame.len();
                let sender = tokio::spawn(async move {
                    for _ in 0..n {
                        take_credit(&credits, || async { tx.flush().await.unwrap() }).await;
                        tx.feed(frame.clone()).await.unwrap();
                    }
                    tx.flush().await.unwrap();
                    (tx, frame)
                });
                for _ in 0..n {
                    match rx.next().await {
                        Some(Ok(Message::Binary(b))) => assert_eq!(b.len(), len),
                        other => panic!("relay: {other:?}"),
                    }
                    back.add_permits(1);
                }
                let (tx, frame) = sender.await.unwrap();
                Self::Relay { tx, rx, frame }
            }
            Self::Raw {
                mut tx,
                mut rx,
                frame,
                _keep,
            } => {
                let sender = tokio::spawn(async move {
                    for _ in 0..n {
                        take_credit(&credits, || async { tx.flush().await.unwrap() }).await;
                        tx.write_all(&frame).await.unwrap();
                    }
                    tx.flush().await.unwrap();
                    (tx, frame)
                });
                let mut buf = vec![0; frame_len_hint()];
                for _ in 0..n {
                    let len = rx.read_u32().await.unwrap() as usize;
                    buf.resize(len, 0);
                    rx.read_exact(&mut buf).await.unwrap();
                    back.add_permits(1);
                }
                let (tx, frame) = sender.await.unwrap();
                Self::Raw {
                    tx,
                    rx,
                    frame,
                    _keep,
                }
            }
        }
    }
}

fn frame_len_hint() -> usize {
    64 * 1024
}

/// Takes one credit; before waiting for one, flushes what is buffered (else both sides wait).
async fn take_credit<F, Fut>(credits: &Semaphore, flush: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match credits.try_acquire() {
        Ok(permit) => permit.forget(),
        Err(_) => {
            flush().await;
            credits.acquire().await.unwrap().forget();
        }
    }
}

async fn ws_client(addr: SocketAddr) -> Ws {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    client_async(format!("ws://{addr}/v1/ws"), tcp)
        .await
        .unwrap()
        .0
}

async fn recv_frame(ws: &mut Ws) -> Frame {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => return Frame::decode(&b).unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    }
}

async fn join(ws: &mut Ws, server: &Server, key: &SigningKey, peer: PeerId) {
    let Frame::Challenge(challenge) = recv_frame(ws).await else {
        panic!("no challenge")
    };
    let join = sign_join(&challenge, server.audience(), key, peer).unwrap();
    ws.send(Message::binary(Frame::Join(join).encode()))
        .await
        .unwrap();
    assert!(matches!(recv_frame(ws).await, Frame::Joined { .. }));
}

async fn relay_pairs(server: &Server, size: usize) -> Vec<Pair> {
    let mut pairs = Vec::new();
    for i in 0..PAIRS {
        let key = SigningKey::from_bytes(&[i as u8 + 1; 32]);
        let (from, to) = (PeerId::from_bytes([1; 16]), PeerId::from_bytes([2; 16]));
        let mut tx = ws_client(server.local_addr()).await;
        let mut rx = ws_client(server.local_addr()).await;
        join(&mut tx, server, &key, from).await;
        join(&mut rx, server, &key, to).await;
        assert_eq!(recv_frame(&mut tx).await, Frame::PeerJoined(to));
        let payload = vec![0xab; size - selfos::proto::PAYLOAD_FRAME_OVERHEAD];
        let send = Frame::Send {
            to,
            payload: payload.try_into().unwrap(),
        };
        pairs.push(Pair::Relay {
            tx,
            rx,
            frame: Message::binary(send.encode()),
        });
    }
    pairs
}

/// The raw forwarder: one task per pair copies length-prefixed frames from one socket to the other.
async fn raw_pairs(size: usize) -> Vec<Pair> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut pairs = Vec::new();
    for _ in 0..PAIRS {
        let sender = TcpStream::connect(addr).await.unwrap();
        let (from, _) = listener.accept().await.unwrap();
        let receiver = TcpStream::connect(addr).await.unwrap();
        let (to, _) = listener.accept().await.unwrap();
        for s in [&sender, &receiver, &from, &to] {
            s.set_nodelay(true).unwrap();
        }
        tokio::spawn(forward(from, to));
        let (rx, rx_unused) = receiver.into_split();
        let (tx_unused, tx) = sender.into_split();
        let body = size - 4;
        let mut frame = (body as u32).to_be_bytes().to_vec();
        frame.resize(size, 0xab);
        pairs.push(Pair::Raw {
            tx: BufWriter::with_capacity(128 * 1024, tx),
            rx: BufReader::with_capacity(64 * 1024, rx),
            frame,
            _keep: (tx_unused, rx_unused),
        });
    }
    pairs
}

async fn forward(from: TcpStream, to: TcpStream) {
    let mut r = BufReader::with_capacity(64 * 1024, from);
    let mut w = BufWriter::with_capacity(128 * 1024, to);
    let mut buf = Vec::new();
    loop {
        let Ok(len) = r.read_u32().await else { return };
        buf.resize(len as usize, 0);
        if r.read_exact(&mut buf).await.is_err() {
            return;
        }
        if w.write_all(&len.to_be_bytes()).await.is_err() || w.write_all(&buf).await.is_err() {
            return;
        }
        // Flush once the input that already arrived is forwarded.
        if r.buffer().is_empty() && w.flush().await.is_err() {
            return;
        }
    }
}

/// Runs `n` frames through every pair at once; returns the elapsed time.
async fn round(pairs: &mut Vec<Pair>, n: usize) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = pairs.drain(..).map(|p| tokio::spawn(p.run(n))).collect();
    for task in tasks {
        pairs.push(task.await.unwrap());
    }
    started.elapsed()
}

fn config() -> RelayConfig {
    let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.read_buffer_len = 64 * 1024;
    cfg
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Server::spawn(config())).unwrap();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut summary = Vec::new();
    for size in SIZES {
        let mut relay = rt.block_on(relay_pairs(&server, size));
        let mut raw = rt.block_on(raw_pairs(size));
        let mut group = c.benchmark_group(format!("forwarding/{}KiB", size / 1024));
        group.throughput(Throughput::Bytes((size * PAIRS) as u64));
        group.bench_function("relay", |b| {
            b.iter_custom(|iters| rt.block_on(round(&mut relay, iters as usize)))
        });
        group.bench_function("raw_tcp", |b| {
            b.iter_custom(|iters| rt.block_on(round(&mut raw, iters as usize)))
        });
        group.finish();
        // The side-by-side figure: the same number of frames through both, best of three.
        let n = if full {
            2_000_000 / size.max(256) * 16
        } else {
            100
        };
        let best =
            |pairs: &mut Vec<Pair>| (0..3).map(|_| rt.block_on(round(pairs, n))).min().unwrap();
        let (t_relay, t_raw) = (best(&mut relay), best(&mut raw));
        summary.push((size, n, t_relay, t_raw));
    }
    c.final_summary();
    println!("\nforwarding summary: {PAIRS} pairs, window {WINDOW}, 2 worker threads, loopback");
    println!(
        "{:>6} {:>9} {:>14} {:>10} {:>14} {:>10} {:>12}",
        "frame", "frames", "relay msg/s", "relay MB/s", "raw msg/s", "raw MB/s", "relay/raw"
    );
    for (size, n, t_relay, t_raw) in summary {
        let msgs = (n * PAIRS) as f64;
        let rate = |t: Duration| msgs / t.as_secs_f64();
        let mb = |t: Duration| rate(t) * size as f64 / 1e6;
        println!(
            "{:>5}K {:>9} {:>14.0} {:>10.1} {:>14.0} {:>10.1} {:>11.2}x",
            size / 1024,
            n * PAIRS,
            rate(t_relay),
            mb(t_relay),
            rate(t_raw),
            mb(t_raw),
            rate(t_relay) / rate(t_raw)
        );
    }
    drop(server);
}
