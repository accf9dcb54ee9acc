//! Only replicas that hold the vault's keys meet: another vault lands in another room (a
//! device's own passphrase changes nothing there), and envelopes that are forged, damaged,
//! redirected or replayed are refused without changing anything.

use std::collections::VecDeque;

use ed25519_dalek::SigningKey;
use selfos_proto::{
    Frame, Nonce, PeerId,
    handshake::{Challenge, sign_join, verify_join},
};
use selfos_sync::{EnvelopeError, StoreStatus, SyncEvent, room_of};
use selfos_vault::{Listing, MemoryStore, Passphrase, Vault};

use crate::support::{
    Side, audience, content, deliver, events_of, kdf, network, ns, pass, peer_of, replicas, settle,
};

/// Bytes before the ciphertext in an envelope.
const ENVELOPE_HEADER_LEN: usize = 4 + 1 + 8 + 2 + 2 + 24;

fn record(vault: &mut Vault<MemoryStore>, agent: &str, text: &str, now: u64) {
    vault
        .record(&ns(agent), content(agent, "intent.include", text, now), now)
        .expect("record");
}

#[test]
fn another_vault_lands_in_another_room_and_a_device_passphrase_does_not() {
    let mut net = network(2, 4);
    let other_vault = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let own_pass = Vault::restore(
        MemoryStore::new(),
        &net.devices[0].vault.secret(),
        &Passphrase::new("a passphrase of its own".into()),
        kdf(),
    )
    .expect("restore under another passphrase");
    assert_eq!(own_pass.id(), net.devices[0].vault.id());

    let rooms: Vec<_> = [
        &net.devices[0].vault,
        &net.devices[1].vault,
        &other_vault,
        &own_pass,
    ]
    .iter()
    .map(|v| room_of(&v.sync_keys()).expect("room"))
    .collect();
    assert_eq!(rooms[0], rooms[1]);
    assert_ne!(rooms[0], rooms[2]);
    // The room derives from the vault secret alone: nothing about a passphrase reaches a relay.
    assert_eq!(rooms[0], rooms[3]);
    let outsiders = [peer_of(&other_vault)];

    let x = net.add(other_vault);
    net.connect(x).expect("connect");
    settle(&mut net);
    for i in 0..3 {
        let now = net.now_ms;
        record(
            &mut net.devices[i].vault,
            "chatgpt",
            &format!("from {i}"),
            now,
        );
        net.local_change(i).expect("local change");
    }
    settle(&mut net);

    // The two insiders converge on their two records.
    for i in 0..2 {
        let texts = texts(&net.devices[i].vault.list(None));
        assert_eq!(texts, ["from 0", "from 1"], "device {i}");
    }
    // The outsider was admitted, alone, to its own room, and heard nothing.
    assert_eq!(
        texts(&net.devices[x].vault.list(None)),
        [format!("from {x}")]
    );
    assert_eq!(
        events_of(&net, x, |_| true),
        [
            SyncEvent::Joined {
                room: rooms[2],
                peers: 0
            },
            SyncEvent::Store(StoreStatus::Disabled)
        ],
    );
    // The insiders never heard of the outsiders, and no frame came from them.
    for i in 0..2 {
        let heard = events_of(&net, i, |e| match e {
            SyncEvent::PeerJoined(p) | SyncEvent::PeerLeft(p) => outsiders.contains(p),
            SyncEvent::Changed { from, .. } | SyncEvent::Rejected { from, .. } => {
                outsiders.contains(from)
            }
            _ => false,
        });
        assert!(heard.is_empty(), "device {i}: {heard:?}");
    }
    for frame in &net.forwarded {
        let Ok(Frame::Deliver { from, .. }) = Frame::decode(frame) else {
            panic!("the relay forwards Deliver frames only");
        };
        assert!(!outsiders.contains(&from));
    }

    // Nor can an outsider claim the insiders' room: its key does not sign for it.
    let challenge = Challenge::new(audience(), net.now_ms, Nonce::from_bytes([5; 32]));
    let outsider_key = SigningKey::from_bytes(net.devices[x].vault.sync_keys().room_seed());
    let mut join = sign_join(&challenge, &audience(), &outsider_key, outsiders[0]).expect("sign");
    assert_eq!(join.room, rooms[2]);
    join.room = rooms[0];
    assert!(verify_join(&challenge, &join, &audience(), net.now_ms, 30_000).is_err());
}

fn texts(listing: &Listing) -> Vec<String> {
    let mut out: Vec<String> = listing
        .responses
        .iter()
        .filter_map(|r| match &r.content.answer {
            Some(selfos_vault::Answer::Text(t)) => Some(t.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

#[test]
fn forged_damaged_redirected_and_replayed_envelopes_are_rejected_and_change_nothing() {
    let now = 1_800_000_000_000;
    let mut vaults = replicas(2).into_iter();
    let (mut va, vb) = (vaults.next().expect("a"), vaults.next().expect("b"));
    for n in 0..20 {
        record(&mut va, "chatgpt", &format!("answer {n}"), now + n);
    }
    record(&mut va, "claude", "another agent", now);
    let (pa, pb) = (peer_of(&va), peer_of(&vb));
    let pc = PeerId::from_bytes([0xC0; 16]);
    let mut a = Side::new(va, pa, &[pb], now);
    let mut b = Side::new(vb, pb, &[pa, pc], now);
    // Joined, and no store on this relay.
    assert_eq!(a.events().len(), 2);
    assert_eq!(b.events().len(), 2);
    // What `b` has to say to `a` waits; what it says to `c` is dropped (`c` is a bystander).
    let b_first: Vec<_> = b.sends().into_iter().filter(|(to, _)| *to == pa).collect();

    let rejected = |side: &mut Side| -> Vec<EnvelopeError> {
        side.events()
            .into_iter()
            .map(|e| match e {
                SyncEvent::Rejected { from, reason } => {
                    assert_eq!(from, pa);
                    reason
                }
                other => panic!("expected only rejections, got {other:?}"),
            })
            .collect()
    };

    // Envelopes sealed under another vault's key by an impostor that claims to be `a`.
    let mut impostor_vault = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    record(&mut impostor_vault, "chatgpt", "impostor", now);
    let mut impostor = Side::new(impostor_vault, pa, &[pb], now + 10_000);
    let forged: Vec<Vec<u8>> = impostor.sends().into_iter().map(|(_, env)| env).collect();
    assert!(!forged.is_empty());
    let before = b.snapshot();
    for env in &forged {
        b.handle(&deliver(pa, env), now);
        assert_eq!(rejected(&mut b), [EnvelopeError::Forged]);
        assert!(b.sends().is_empty());
    }
    // Garbage, and an envelope from a peer the relay never announced.
    b.handle(&deliver(pa, &[0x42; 200]), now);
    assert_eq!(rejected(&mut b), [EnvelopeError::Malformed]);
    let stranger = PeerId::from_bytes([0xEE; 16]);
    b.handle(&deliver(stranger, &forged[0]), now);
    assert_eq!(
        b.events(),
        [SyncEvent::Rejected {
            from: stranger,
            reason: EnvelopeError::Malformed
        }]
    );
    assert_eq!(b.snapshot(), before);

    // The real exchange, with a damaged copy of every envelope for `b` arriving first, and a
    // copy redirected as if it came from `c`.
    let mut queue: VecDeque<(PeerId, PeerId, Vec<u8>)> = VecDeque::new();
    queue.extend(a.sends().into_iter().map(|(to, env)| (pa, to, env)));
    queue.extend(b_first.into_iter().map(|(to, env)| (pb, to, env)));
    let mut flips = 0usize;
    let mut accepted_by_b = Vec::new();
    let mut changed = 0;
    while let Some((from, to, env)) = queue.pop_front() {
        if to == pb {
            let before = b.snapshot();
            let mut damaged = env.clone();
            // Walk the flipped bit over header and ciphertext.
            let at = (flips * 7919) % damaged.len();
            damaged[at] ^= 1 << (flips % 8);
            flips += 1;
            b.handle(&deliver(from, &damaged), now);
            let reasons = rejected(&mut b);
            assert_eq!(reasons.len(), 1, "flip at {at} not rejected");
            if at >= ENVELOPE_HEADER_LEN {
                assert_eq!(reasons, [EnvelopeError::Forged], "flip at {at}");
            }
            assert!(b.sends().is_empty());
            assert_eq!(b.snapshot(), before);

            // `c` is in the room, but the envelope was sealed for `a` to `b`.
            let redirected = deliver(pc, &env);
            b.handle(&redirected, now);
            let events = b.events();
            assert_eq!(
                events,
                [SyncEvent::Rejected {
                    from: pc,
                    reason: EnvelopeError::Forged
                }]
            );
            assert_eq!(b.snapshot(), before);

            let frame = deliver(from, &env);
            b.handle(&frame, now);
            for e in b.events() {
                match e {
                    SyncEvent::Changed { from, .. } => {
                        assert_eq!(from, pa);
                        changed += 1;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            accepted_by_b.push(frame);
            for (to, env) in b.sends() {
                if to == pa {
                    queue.push_back((pb, to, env));
                }
            }
        } else {
            a.handle(&deliver(from, &env), now);
            assert!(
                a.events()
                    .iter()
                    .all(|e| matches!(e, SyncEvent::Changed { .. }))
            );
            queue.extend(a.sends().into_iter().map(|(to, env)| (pa, to, env)));
        }
    }
    assert!(flips >= 3, "only {flips} envelopes reached b");
    assert!(changed >= 2, "b changed {changed} times");
    assert_eq!(b.vault.list(None).responses.len(), 21);
    assert_eq!(a.vault.list(None).responses, b.vault.list(None).responses);
    for n in a.vault.replicated_namespaces() {
        assert_eq!(a.vault.heads(&n), b.vault.heads(&n));
    }

    // Every real envelope, delivered again, is a replay.
    let before = b.snapshot();
    for frame in &accepted_by_b {
        b.handle(frame, now);
        let reasons = rejected(&mut b);
        assert!(
            matches!(reasons.as_slice(), [EnvelopeError::Replayed { .. }]),
            "{reasons:?}"
        );
        assert!(b.sends().is_empty());
    }
    assert_eq!(b.snapshot(), before);
}

/// `b` accepts one envelope from `a`; returns `b`, who sent it, and the `Deliver` frame to replay.
fn one_delivery(now: u64) -> (Side, PeerId, Vec<u8>) {
    let mut vaults = replicas(2).into_iter();
    let (mut va, vb) = (vaults.next().expect("a"), vaults.next().expect("b"));
    record(&mut va, "chatgpt", "a replayed answer", now);
    let (pa, pb) = (peer_of(&va), peer_of(&vb));
    let mut a = Side::new(va, pa, &[pb], now);
    let mut b = Side::new(vb, pb, &[pa], now);
    let (_, env) = a.sends().into_iter().next().expect("a speaks first");
    let old = deliver(pa, &env);
    b.handle(&old, now);
    let _ = b.events();
    let _ = b.sends();
    (b, pa, old)
}

/// Replays `old` to `b` and insists it is refused as a replay, and nothing else happens.
fn assert_replay_refused(b: &mut Side, old: &[u8], now: u64) {
    let _ = b.events();
    let _ = b.sends();
    b.handle(old, now);
    let events = b.events();
    assert!(
        matches!(
            events.as_slice(),
            [SyncEvent::Rejected {
                reason: EnvelopeError::Replayed { .. },
                ..
            }]
        ),
        "replay accepted: {events:?}"
    );
}

/// The receiver remembers a peer's last counter across that peer's sessions, so the relay cannot
/// replay an envelope of an earlier session.
#[test]
fn an_envelope_from_an_earlier_session_is_a_replay() {
    let now = 1_800_000_000_000;
    let (mut b, pa, old) = one_delivery(now);
    // `a` leaves and comes back within the same engine of `b`; then the relay replays.
    b.handle(&Frame::PeerLeft(pa).encode(), now + 1);
    b.handle(&Frame::PeerJoined(pa).encode(), now + 2);
    assert_replay_refused(&mut b, &old, now + 3);
}

/// A receiver that restarts (a new engine over the same vault) still refuses an envelope it
/// accepted before: the last counter is saved with the sync state.
#[test]
fn an_envelope_from_before_a_restart_is_a_replay() {
    let now = 1_800_000_000_000;
    let (mut b, pa, old) = one_delivery(now);
    // `b` goes offline (its engine saves the sync state) and a new engine starts.
    b.engine.disconnected(&mut b.vault);
    let pb = peer_of(&b.vault);
    let mut b = Side::new(b.vault, pb, &[pa], now + 10);
    assert_replay_refused(&mut b, &old, now + 11);
}
