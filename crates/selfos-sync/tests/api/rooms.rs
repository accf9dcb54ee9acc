//! Only replicas that hold the vault's keys meet: another vault (or the same vault id unlocked
//! with another passphrase) lands in another room, and envelopes that are forged, damaged,
//! redirected or replayed are refused without changing anything.

use std::collections::VecDeque;

use ed25519_dalek::SigningKey;
use selfos_proto::{
    Frame, Nonce, PeerId, PeerList,
    handshake::{Challenge, sign_join, verify_join},
};
use selfos_sync::{EnvelopeError, SyncEngine, SyncEvent, room_of};
use selfos_vault::{FileStore, Listing, MemoryStore, Passphrase, Vault};

use crate::support::{
    Side, audience, content, copy_dir, deliver, events_of, kdf, network, ns, pass, peer_of,
    replicas, settle,
};

/// Bytes before the ciphertext in an envelope.
const ENVELOPE_HEADER_LEN: usize = 4 + 1 + 8 + 2 + 2 + 24;

fn record(vault: &mut Vault<MemoryStore>, agent: &str, text: &str, now: u64) {
    vault
        .record(&ns(agent), content(agent, "intent.include", text, now), now)
        .expect("record");
}

#[test]
fn another_vault_or_another_passphrase_lands_in_another_room() {
    let mut net = network(2, 4);
    let other_vault = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    let wrong_pass = Vault::join(
        MemoryStore::new(),
        &net.devices[0].vault.link(),
        &Passphrase::new("not the passphrase".into()),
    )
    .expect("join with a wrong passphrase");
    assert_eq!(wrong_pass.id(), net.devices[0].vault.id());

    let rooms: Vec<_> = [
        &net.devices[0].vault,
        &net.devices[1].vault,
        &other_vault,
        &wrong_pass,
    ]
    .iter()
    .map(|v| room_of(&v.sync_keys()).expect("room"))
    .collect();
    assert_eq!(rooms[0], rooms[1]);
    assert_ne!(rooms[0], rooms[2]);
    assert_ne!(rooms[0], rooms[3]);
    assert_ne!(rooms[2], rooms[3]);
    let outsiders = [peer_of(&other_vault), peer_of(&wrong_pass)];

    let x = net.add(other_vault);
    let w = net.add(wrong_pass);
    net.connect(x).expect("connect");
    net.connect(w).expect("connect");
    settle(&mut net);
    for i in 0..4 {
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
    // Each outsider was admitted, alone, to its own room, and heard nothing.
    for (i, room) in [(x, rooms[2]), (w, rooms[3])] {
        assert_eq!(
            texts(&net.devices[i].vault.list(None)),
            [format!("from {i}")]
        );
        assert_eq!(
            events_of(&net, i, |_| true),
            [SyncEvent::Joined { room, peers: 0 }],
            "device {i}"
        );
    }
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
    let link = va.link();
    let mut a = Side::new(va, pa, &[pb], now);
    let mut b = Side::new(vb, pb, &[pa, pc], now);
    assert_eq!(a.events().len(), 1);
    assert_eq!(b.events().len(), 1);
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

    // Envelopes sealed under another vault's key, and under this vault's id with another
    // passphrase, by an impostor that claims to be `a`.
    let mut impostor_vault = Vault::create(MemoryStore::new(), &pass(), kdf()).expect("create");
    record(&mut impostor_vault, "chatgpt", "impostor", now);
    let mut wrong_pass =
        Vault::join(MemoryStore::new(), &link, &Passphrase::new("guess".into())).expect("join");
    record(&mut wrong_pass, "chatgpt", "wrong passphrase", now);
    let mut forged = Vec::new();
    for vault in [impostor_vault, wrong_pass] {
        let mut impostor = Side::new(vault, pa, &[pb], now + 10_000);
        forged.extend(impostor.sends().into_iter().map(|(_, env)| env));
    }
    assert!(forged.len() >= 2);
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

/// Counters saved before the engine owned them (the vault's saved peer state version 1) still
/// hold. `selfos-vault/tests/data/v1_peer_state` was written by that code: a replica that synced
/// `chatgpt` with peer f8dd5abd… and saved 42 as the last counter received from it and 7 as the
/// last it sent.
#[test]
fn counters_saved_in_the_first_format_still_refuse_replays() {
    let now = 1_800_000_000_000;
    let dir = tempfile::tempdir().expect("temp folder");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../selfos-vault/tests/data/v1_peer_state");
    copy_dir(&fixture, dir.path());
    let mut vault = Vault::open(FileStore::without_fsync(dir.path()), &pass()).expect("open");
    let phone: PeerId = "f8dd5abdccbc2e4dcce43756a8c0afa1".parse().expect("peer id");
    // A clock at 0 seeds no counter: the next one sent comes from the saved one.
    let mut engine =
        SyncEngine::new(&vault.sync_keys(), peer_of(&vault), audience(), 0).expect("engine");
    let mut handle = |engine: &mut SyncEngine, frame: Vec<u8>| {
        engine
            .handle_frame(&mut vault, &frame, now)
            .expect("engine handles the frame");
        let events: Vec<SyncEvent> = std::iter::from_fn(|| engine.poll_event()).collect();
        let sends: Vec<Vec<u8>> = std::iter::from_fn(|| engine.poll_transmit()).collect();
        (events, sends)
    };
    let joined = Frame::Joined {
        peers: PeerList::try_from(vec![phone]).expect("peer list"),
    };
    let (_, sends) = handle(&mut engine, joined.encode());
    let counters: Vec<u64> = sends
        .iter()
        .map(|frame| match Frame::decode(frame).expect("valid frame") {
            Frame::Send { payload, .. } => {
                let header: [u8; 8] = payload.as_bytes()[5..13].try_into().expect("counter");
                u64::from_be_bytes(header)
            }
            other => panic!("engine sent {other:?}"),
        })
        .collect();
    assert_eq!(counters.first(), Some(&8), "counters sent: {counters:?}");

    // The counter is checked before anything is opened, so an envelope nobody sealed shows it:
    // 42 is a replay, 43 gets as far as authentication.
    let envelope = |counter: u64| {
        let mut e = b"SOSE\x01".to_vec();
        e.extend_from_slice(&counter.to_be_bytes());
        e.extend_from_slice(&[0, 0, 0, 1]);
        e.extend_from_slice(&[0; 24 + 16]);
        e
    };
    let (events, _) = handle(&mut engine, deliver(phone, &envelope(42)));
    assert_eq!(
        events,
        [SyncEvent::Rejected {
            from: phone,
            reason: EnvelopeError::Replayed {
                counter: 42,
                last: 42
            },
        }]
    );
    let (events, _) = handle(&mut engine, deliver(phone, &envelope(43)));
    assert_eq!(
        events,
        [SyncEvent::Rejected {
            from: phone,
            reason: EnvelopeError::Forged,
        }]
    );
}
