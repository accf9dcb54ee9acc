//! Every byte that crossed the wire between the devices and the relay, recorded by a TCP proxy
//! in between: no answer, card id, record id, record key or namespace name is in it, and nothing
//! derived from a passphrase.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use selfos_proto::Frame;
use selfos_relay::{RelayConfig, Server};
use selfos_testkit::{PASSPHRASE, contains};
use selfos_vault::{MemoryStore, Vault, forensics::chunk_plaintexts};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use crate::common::{address, answer, kdf, now_ms, ns, options, pass, passphrase_material};

/// The bytes of one TCP connection, each direction apart.
#[derive(Debug, Default, Clone)]
pub(crate) struct Recorded {
    /// Client to relay.
    pub(crate) up: Vec<u8>,
    /// Relay to client.
    pub(crate) down: Vec<u8>,
}

/// A TCP proxy in front of a relay that records every byte in both directions.
pub(crate) struct Tap {
    pub(crate) addr: SocketAddr,
    pub(crate) connections: Arc<Mutex<Vec<Arc<Mutex<Recorded>>>>>,
    accept: JoinHandle<()>,
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    rec: Arc<Mutex<Recorded>>,
    up: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        {
            let mut r = rec.lock().unwrap();
            let side = if up { &mut r.up } else { &mut r.down };
            side.extend_from_slice(&buf[..n]);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Tap {
    /// Listens on a free loopback port; [`Tap::forward_to`] starts the forwarding.
    pub(crate) async fn bind() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    pub(crate) fn forward_to(listener: TcpListener, relay: SocketAddr) -> Self {
        let addr = listener.local_addr().unwrap();
        let connections: Arc<Mutex<Vec<Arc<Mutex<Recorded>>>>> = Arc::default();
        let all = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(relay).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                let rec = Arc::new(Mutex::new(Recorded::default()));
                all.lock().unwrap().push(rec.clone());
                let (cr, cw) = client.into_split();
                let (ur, uw) = upstream.into_split();
                tokio::spawn(pump(cr, uw, rec.clone(), true));
                tokio::spawn(pump(ur, cw, rec, false));
            }
        });
        Self {
            addr,
            connections,
            accept,
        }
    }

    /// A copy of everything recorded so far.
    pub(crate) fn recorded(&self) -> Vec<Recorded> {
        let all = self.connections.lock().unwrap();
        all.iter().map(|r| r.lock().unwrap().clone()).collect()
    }
}

/// The payloads of the WebSocket frames in one direction of a recorded connection (after the
/// HTTP upgrade), unmasked. Stops at an incomplete frame.
pub(crate) fn ws_payloads(stream: &[u8]) -> Vec<Vec<u8>> {
    let Some(end) = stream.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut rest = &stream[end + 4..];
    let mut out = Vec::new();
    while rest.len() >= 2 {
        let masked = rest[1] & 0x80 != 0;
        let (len, mut at) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 if rest.len() >= 10 => (
                usize::try_from(u64::from_be_bytes(rest[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            126 | 127 => break,
            n => (usize::from(n), 2),
        };
        let mask = if masked {
            let Some(m) = rest.get(at..at + 4) else { break };
            at += 4;
            Some([m[0], m[1], m[2], m[3]])
        } else {
            None
        };
        let Some(payload) = rest.get(at..at + len) else {
            break;
        };
        let mut payload = payload.to_vec();
        if let Some(m) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= m[i % 4];
            }
        }
        out.push(payload);
        rest = &rest[at + len..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_and_the_wire_see_no_plaintext() {
    let (listener, tap_addr) = Tap::bind().await;
    let mut cfg = RelayConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    // Clients name the proxy; the relay must put that origin in its challenges.
    cfg.public_url = Some(address(tap_addr).audience().clone());
    let server = Server::spawn(cfg).await.unwrap();
    let tap = Tap::forward_to(listener, server.local_addr());

    let mut a = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    let mut b = Vault::restore(MemoryStore::new(), &a.secret(), &pass(), kdf()).unwrap();
    let namespace = ns("agent-ocelot");
    let mut texts = Vec::new();
    let mut cards = Vec::new();
    let mut records = Vec::new();
    for (side, vault) in [("a", &mut a), ("b", &mut b)] {
        for i in 0..4 {
            let text = format!("zebra quokka marmalade {side}{i}: the secret is tangerine");
            let card = format!("card.periwinkle-{side}{i}");
            let id = vault
                .record(&namespace, answer(&card, &text), now_ms())
                .unwrap();
            texts.push(text);
            cards.push(card);
            records.push(id.record);
        }
    }

    let opts = options(tap.addr);
    let (ta, tb) = {
        let (oa, ob) = (opts.clone(), opts.clone());
        (
            tokio::spawn(async move {
                selfos_net::sync(&mut a, &oa, |_| {}).await.unwrap();
                a
            }),
            tokio::spawn(async move {
                selfos_net::sync(&mut b, &ob, |_| {}).await.unwrap();
                b
            }),
        )
    };
    let (a, b) = (ta.await.unwrap(), tb.await.unwrap());
    assert_eq!(a.list(None).responses.len(), 8);
    assert_eq!(b.list(None).responses.len(), 8);

    // Everything secret: answers, card ids, record ids, every record key both stores hold, the
    // namespace name and the passphrase.
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    secrets.extend(
        texts
            .iter()
            .map(|t| (format!("answer {t:?}"), t.as_bytes().to_vec())),
    );
    // A shorter fragment too, in case an answer were split across frames.
    secrets.push(("answer fragment".into(), b"tangerine".to_vec()));
    secrets.extend(
        cards
            .iter()
            .map(|c| (format!("card {c:?}"), c.as_bytes().to_vec())),
    );
    for r in &records {
        secrets.push((format!("record id {r}"), r.to_string().into_bytes()));
        secrets.push((format!("record id {r} (raw)"), r.as_bytes().to_vec()));
    }
    let mut keys = 0;
    for store in [a.store(), b.store()] {
        let (_, chunks) = chunk_plaintexts(store, &pass()).unwrap();
        for chunk in chunks {
            for (record, key) in chunk.keys {
                keys += 1;
                secrets.push((format!("key of record {record}"), key.to_vec()));
            }
        }
    }
    assert!(keys >= 8, "expected the key of every record, found {keys}");
    secrets.push(("namespace".into(), namespace.to_string().into_bytes()));
    secrets.push(("passphrase".into(), PASSPHRASE.as_bytes().to_vec()));
    // What the passphrase yields on each device: its Argon2id output (the device key, the last
    // 32 bytes of a session key), and the header it unwraps, whose salt and wrapped secret are
    // what a guess is tested against. None of it may leave the device.
    secrets.extend(passphrase_material("a", &a));
    secrets.extend(passphrase_material("b", &b));

    drop(server);
    let recorded = tap.recorded();
    assert_eq!(recorded.len(), 2, "one connection per device");
    let mut streams: Vec<Vec<u8>> = Vec::new();
    let (mut sends, mut delivers, mut frame_bytes) = (0, 0, 0);
    for conn in &recorded {
        for (raw, up) in [(&conn.up, true), (&conn.down, false)] {
            for payload in ws_payloads(raw) {
                frame_bytes += payload.len();
                // Every WebSocket payload is a protocol frame (pings aside): the parser works.
                match Frame::decode(&payload) {
                    Ok(Frame::Send { .. }) => {
                        assert!(up);
                        sends += 1;
                    }
                    Ok(Frame::Deliver { .. }) => {
                        assert!(!up);
                        delivers += 1;
                    }
                    _ => {}
                }
                streams.push(payload);
            }
            streams.push(raw.clone());
        }
    }
    // The recording is real: sync messages crossed, and public ids are found in it.
    assert!(
        sends >= 2 && delivers >= 2,
        "sends {sends}, delivers {delivers}"
    );
    assert!(
        frame_bytes > texts.iter().map(String::len).sum::<usize>(),
        "{frame_bytes} bytes"
    );
    let room = selfos_sync::room_of(&a.sync_keys()).unwrap();
    assert!(
        streams.iter().any(|s| contains(s, room.as_bytes())),
        "room id not seen"
    );
    assert!(
        streams.iter().any(|s| contains(s, a.replica().as_bytes())),
        "peer id not seen"
    );
    for (what, bytes) in &secrets {
        for s in &streams {
            assert!(!contains(s, bytes), "{what} crossed the wire in clear");
        }
    }
}
