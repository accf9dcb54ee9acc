//! Rooms are apart: another vault on the same relay gets nothing and changes nothing, and a
//! member of the room that forges envelopes gets them refused and changes nothing either.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use selfos_proto::{Frame, Payload, PeerId};
use selfos_sync::SyncEngine;
use selfos_vault::{MemoryStore, Passphrase, Vault};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::common::{answer, kdf, now_ms, ns, options, pass, relay, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_vault_on_the_same_relay_gets_nothing_and_changes_nothing() {
    let server = relay().await;
    let mut opts = options(server.local_addr());
    opts.peer_wait = Duration::from_millis(1500);

    let mut a = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    let mut b = Vault::restore(MemoryStore::new(), &a.secret(), &pass(), kdf()).unwrap();
    let other_pass = || Passphrase::new("a different passphrase entirely".into());
    let mut other = Vault::create(MemoryStore::new(), &other_pass(), kdf()).unwrap();
    a.record(&ns("chatgpt"), answer("intent.include", "from a"), now_ms())
        .unwrap();
    b.record(&ns("chatgpt"), answer("intent.include", "from b"), now_ms())
        .unwrap();
    other
        .record(
            &ns("chatgpt"),
            answer("intent.include", "from the other vault"),
            now_ms(),
        )
        .unwrap();
    let other_before = snapshot(&mut other);
    let other_peer = PeerId::from_bytes(*other.replica().as_bytes());

    let run = |mut vault: Vault<MemoryStore>| {
        let opts = opts.clone();
        tokio::spawn(async move {
            let summary = selfos_net::sync(&mut vault, &opts, |_| {}).await.unwrap();
            (vault, summary)
        })
    };
    // The other vault is in the relay first and stays for the whole sync of a and b.
    let t_other = run(other);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (ta, tb) = (run(a), run(b));
    let (mut a, sa) = ta.await.unwrap();
    let (mut b, sb) = tb.await.unwrap();
    let (mut other, so) = t_other.await.unwrap();

    // Nothing reached the other vault: no peer, no change, same state.
    assert!(so.peers.is_empty(), "{:?}", so.peers);
    assert!(so.changed.is_empty() && so.rejected.is_empty());
    assert_eq!(snapshot(&mut other), other_before);
    // a and b met only each other and hold exactly their two answers.
    let snap = snapshot(&mut a);
    assert_eq!(snap, snapshot(&mut b));
    let texts: Vec<_> = snap
        .responses
        .iter()
        .map(|r| format!("{:?}", r.content.answer))
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(
        texts.iter().all(|t| !t.contains("other vault")),
        "{texts:?}"
    );
    for s in [&sa, &sb] {
        assert_eq!(s.peers.len(), 1);
        assert!(!s.peers.contains(&other_peer));
        assert!(s.rejected.is_empty(), "{:?}", s.rejected);
    }
}

/// A member of the room (it holds the room key) whose every `Send` has one payload byte
/// flipped. Returns how many it forged.
async fn forger(
    mut vault: Vault<MemoryStore>,
    opts: selfos_net::SyncOptions,
    stop: CancellationToken,
) -> usize {
    let (ws, _) = tokio_tungstenite::connect_async(opts.relay.endpoint())
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let me = PeerId::from_bytes(*vault.replica().as_bytes());
    let mut engine = SyncEngine::new(
        &vault.sync_keys(),
        me,
        opts.relay.audience().clone(),
        now_ms(),
    )
    .unwrap();
    let mut forged = 0;
    loop {
        while let Some(frame) = engine.poll_transmit() {
            let frame = match Frame::decode(&frame).unwrap() {
                Frame::Send { to, payload } => {
                    let mut bytes = payload.as_bytes().to_vec();
                    let at = bytes.len() / 2 + forged % 7;
                    bytes[at] ^= 0x20;
                    forged += 1;
                    Frame::Send {
                        to,
                        payload: Payload::try_from(bytes).unwrap(),
                    }
                    .encode()
                }
                _ => frame,
            };
            sink.send(Message::Binary(frame.into())).await.unwrap();
        }
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    engine.handle_frame(&mut vault, &bytes, now_ms()).unwrap();
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            () = stop.cancelled() => break,
        }
    }
    forged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_envelopes_are_rejected_and_change_nothing() {
    let server = relay().await;
    let opts = options(server.local_addr());
    let mut victim = Vault::create(MemoryStore::new(), &pass(), kdf()).unwrap();
    let mut forger_vault =
        Vault::restore(MemoryStore::new(), &victim.secret(), &pass(), kdf()).unwrap();
    victim
        .record(
            &ns("chatgpt"),
            answer("intent.include", "the victim's answer"),
            now_ms(),
        )
        .unwrap();
    forger_vault
        .record(
            &ns("chatgpt"),
            answer("intent.include", "smuggled in"),
            now_ms(),
        )
        .unwrap();
    forger_vault
        .record(
            &ns("claude"),
            answer("intent.include", "smuggled in too"),
            now_ms(),
        )
        .unwrap();
    let before = snapshot(&mut victim);

    let stop = CancellationToken::new();
    let f = tokio::spawn(forger(forger_vault, opts.clone(), stop.clone()));
    let summary = selfos_net::sync(&mut victim, &opts, |_| {}).await.unwrap();
    stop.cancel();
    let forged = f.await.unwrap();

    assert!(forged > 0, "the forger sent nothing");
    assert_eq!(summary.peers.len(), 1, "the forger was in the room");
    assert!(!summary.rejected.is_empty(), "nothing was rejected");
    assert!(summary.rejected.len() <= forged);
    assert!(summary.changed.is_empty(), "{:?}", summary.changed);
    assert_eq!(
        snapshot(&mut victim),
        before,
        "a forged envelope changed the vault"
    );
}
