//! Pairing through the relay binary: the payload arrives for the right code, a wrong code fails
//! on both sides, a missing offer is reported, a relay that dies ends the wait, and neither a
//! pairing nor the sync after it carries anything a passphrase yields.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use selfos_net::{
    NetError, RelayAddress,
    pairing::{PairingNetError, PairingOptions, accept, offer},
};
use selfos_proto::{Frame, PeerId, handshake::sign_join};
use selfos_sync::pairing::{PairingCode, PairingError};
use selfos_testkit::contains;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};
use zeroize::Zeroizing;

use selfos_vault::{ChunkStore, DeviceGrant, MemoryStore, Passphrase, Vault};

use crate::{
    common::{address, answer, kdf, now_ms, ns, pass, start},
    wire::{Tap, ws_payloads},
};

const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);
const SECRET: &[u8] = b"the vault secret, 32 bytes long!";

fn code(text: &str) -> PairingCode {
    text.parse().unwrap()
}

fn options() -> PairingOptions {
    let mut opts = PairingOptions::new();
    opts.expiry = Duration::from_secs(20);
    opts.offer_wait = Duration::from_secs(10);
    opts
}

/// Runs both sides at once: `offered` on one device, `typed` on the other.
async fn pair(
    relay: SocketAddr,
    offered: &str,
    typed: &str,
) -> (
    Result<(), PairingNetError>,
    Result<Zeroizing<Vec<u8>>, PairingNetError>,
) {
    let relay = address(relay);
    let offered = code(offered);
    let offering = {
        let relay = relay.clone();
        tokio::spawn(async move {
            offer(
                &relay,
                &offered,
                Zeroizing::new(SECRET.to_vec()),
                &options(),
            )
            .await
        })
    };
    let accepted = accept(&relay, &code(typed), &options()).await;
    (offering.await.unwrap(), accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_code_hands_over_the_payload_and_nothing_readable_crosses_the_wire() {
    // The relay names itself by the tap's address, which is what the devices dial.
    let (listener, tap_addr) = Tap::bind().await;
    let public_url = address(tap_addr).audience().to_string();
    let relay = start(LOOPBACK, &["--public-url", &public_url]).await;
    let tap = Tap::forward_to(listener, relay.addr);

    let (offered, accepted) = pair(tap.addr, "4711-guitar-reveal", " 4711-Guitar-Reveal").await;
    offered.unwrap();
    assert_eq!(&**accepted.unwrap(), SECRET);

    let recorded = tap.recorded();
    assert_eq!(recorded.len(), 2, "one connection a side");
    for connection in &recorded {
        let frames: Vec<Vec<u8>> = ws_payloads(&connection.up)
            .into_iter()
            .chain(ws_payloads(&connection.down))
            .collect();
        // Challenge, join, joined and at least two pairing messages each way.
        assert!(frames.len() >= 7, "{} frames", frames.len());
        for frame in frames {
            for secret in [&b"guitar"[..], b"reveal", b"4711", SECRET, &SECRET[..8]] {
                assert!(!contains(&frame, secret), "{secret:?} crossed the wire");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_fails_on_both_sides() {
    let relay = start(LOOPBACK, &[]).await;
    let (offered, accepted) = pair(relay.addr, "4711-guitar-reveal", "4711-guitar-review").await;
    assert!(
        matches!(
            offered,
            Err(PairingNetError::Pairing(PairingError::WrongCode))
        ),
        "{offered:?}"
    );
    assert!(
        matches!(
            accepted,
            Err(PairingNetError::Pairing(PairingError::WrongCode))
        ),
        "{:?}",
        accepted.map(|_| "a payload")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_nobody_offers_is_reported_quickly() {
    let relay = start(LOOPBACK, &[]).await;
    let mut opts = options();
    opts.offer_wait = Duration::from_millis(500);
    let began = Instant::now();
    let err = accept(&address(relay.addr), &code("4711-guitar-reveal"), &opts)
        .await
        .map(|_| "a payload")
        .unwrap_err();
    assert!(matches!(err, PairingNetError::NoOffer), "{err:?}");
    assert_eq!(
        err.to_string(),
        "no device is offering this code; check the number"
    );
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_in_the_room_costs_the_attempt_and_never_the_payload() {
    let relay = start(LOOPBACK, &[]).await;
    let at = address(relay.addr);
    let offering = {
        let at = at.clone();
        tokio::spawn(async move {
            let payload = Zeroizing::new(SECRET.to_vec());
            offer(&at, &code("4711-guitar-reveal"), payload, &options()).await
        })
    };
    // Someone who knows the number guesses the words, and is told it is wrong.
    let guessed = accept(&at, &code("4711-zoo-zoo"), &options()).await;
    assert!(
        matches!(
            guessed,
            Err(PairingNetError::Pairing(PairingError::WrongCode))
        ),
        "{:?}",
        guessed.map(|_| "a payload")
    );
    let offered = offering.await.unwrap();
    assert!(
        matches!(
            offered,
            Err(PairingNetError::Pairing(PairingError::WrongCode))
        ),
        "{offered:?}"
    );
    // The offer is gone: the right code now finds nobody.
    let mut opts = options();
    opts.offer_wait = Duration::from_millis(500);
    let late = accept(&at, &code("4711-guitar-reveal"), &opts).await;
    assert!(
        matches!(late, Err(PairingNetError::NoOffer)),
        "{:?}",
        late.map(|_| ())
    );
}

/// Someone who knows the number sits in the room and says nothing: joined with the room key,
/// reading nothing.
async fn silent_stranger(
    relay: &RelayAddress,
    code: &PairingCode,
) -> WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>> {
    let (mut ws, _) = connect_async(relay.endpoint()).await.unwrap();
    let next = async |ws: &mut WebSocketStream<_>| match ws.next().await {
        Some(Ok(Message::Binary(bytes))) => Frame::decode(&bytes).unwrap(),
        other => panic!("{other:?}"),
    };
    let Frame::Challenge(challenge) = next(&mut ws).await else {
        panic!("no challenge")
    };
    let me = PeerId::from_bytes([0x5e; 16]);
    let join = sign_join(&challenge, relay.audience(), &code.rendezvous_key(), me).unwrap();
    ws.send(Message::Binary(Frame::Join(join).encode().into()))
        .await
        .unwrap();
    assert!(matches!(next(&mut ws).await, Frame::Joined { .. }));
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stranger_in_the_room_costs_nothing() {
    let relay = start(LOOPBACK, &[]).await;
    let at = address(relay.addr);
    let _stranger = silent_stranger(&at, &code("4711-abandon-zoo")).await;
    // The accepting device comes first and finds only the stranger; the offer arrives later.
    let accepting = {
        let at = at.clone();
        tokio::spawn(async move { accept(&at, &code("4711-guitar-reveal"), &options()).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let payload = Zeroizing::new(SECRET.to_vec());
    offer(&at, &code("4711-guitar-reveal"), payload, &options())
        .await
        .unwrap();
    assert_eq!(&**accepting.await.unwrap().unwrap(), SECRET);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_ends_when_the_relay_dies() {
    let relay = start(LOOPBACK, &[]).await;
    let at = address(relay.addr);
    let offering = tokio::spawn(async move {
        let payload = Zeroizing::new(SECRET.to_vec());
        offer(&at, &code("4711-guitar-reveal"), payload, &options()).await
    });
    // Let the offer join, then kill the relay without a close frame.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = Instant::now();
    tokio::task::spawn_blocking(move || relay.kill())
        .await
        .unwrap();
    let offered = tokio::time::timeout(Duration::from_secs(5), offering)
        .await
        .expect("the offer noticed the relay is gone")
        .unwrap();
    assert!(
        matches!(
            offered,
            Err(PairingNetError::Net(
                NetError::Connection(_) | NetError::Closed { .. }
            ))
        ),
        "{offered:?}"
    );
    assert!(began.elapsed() < Duration::from_secs(5));
}

/// A device added by pairing, then a sync of the two, all through the recording proxy: no value
/// a passphrase yields (either device's Argon2id output, salt or wrapped secret), nor the vault
/// secret, crosses the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_a_pairing_nor_a_sync_carries_anything_a_passphrase_yields() {
    let (listener, tap_addr) = Tap::bind().await;
    let public_url = address(tap_addr).audience().to_string();
    let relay = start(LOOPBACK, &["--public-url", &public_url]).await;
    let tap = Tap::forward_to(listener, relay.addr);
    let at = address(tap.addr);

    let mut laptop = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    laptop
        .record(&ns("chatgpt"), answer("intent.include", "paired"), now_ms())
        .unwrap();
    let grant = DeviceGrant {
        secret: laptop.secret(),
        relay: Some(at.to_string()),
    };
    let payload = grant.to_bytes().unwrap();
    let shown = PairingCode::generate().unwrap();
    let typed = code(&shown.to_string());
    let offering = {
        let at = at.clone();
        tokio::spawn(async move { offer(&at, &shown, payload, &options()).await })
    };
    let received = accept(&at, &typed, &options()).await.unwrap();
    offering.await.unwrap().unwrap();
    let received = DeviceGrant::from_bytes(&received).unwrap();
    assert_eq!(received.relay.as_deref(), Some(at.to_string().as_str()));
    let own = Passphrase::new("the phone's own passphrase".into());
    let mut phone = Vault::restore(MemoryStore::new(), &received.secret, &own, kdf()).unwrap();

    let opts = crate::common::options(tap.addr);
    let (oa, ob) = (opts.clone(), opts);
    let (ta, tb) = (
        tokio::spawn(async move {
            selfos_net::sync(&mut laptop, &oa, |_| {}).await.unwrap();
            laptop
        }),
        tokio::spawn(async move {
            selfos_net::sync(&mut phone, &ob, |_| {}).await.unwrap();
            phone
        }),
    );
    let (laptop, phone) = (ta.await.unwrap(), tb.await.unwrap());
    assert_eq!(phone.list(None).responses.len(), 1, "the phone synced");

    let mut secrets: Vec<(String, Vec<u8>)> =
        vec![("vault secret".into(), laptop.secret().to_bytes().to_vec())];
    for (name, vault) in [("laptop", &laptop), ("phone", &phone)] {
        let session = vault.session_key().to_bytes();
        secrets.push((format!("device key of {name}"), session[21..].to_vec()));
        let header = vault.store().read_header().unwrap().unwrap();
        secrets.push((format!("salt of {name}"), header[54..70].to_vec()));
        let wrapped = header[94..142].to_vec();
        secrets.push((format!("wrapped secret of {name}"), wrapped));
    }
    let recorded = tap.recorded();
    assert_eq!(recorded.len(), 4, "two pairing and two sync connections");
    for connection in &recorded {
        for raw in [&connection.up, &connection.down] {
            for (what, bytes) in &secrets {
                assert!(!contains(raw, bytes), "{what} crossed the wire");
            }
        }
    }
}
