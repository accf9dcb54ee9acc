//! A peer holds the vault's keys, not the other devices' resources: a message too large to
//! reassemble, or one the vault refuses, costs that peer's message only, and sync with honest
//! peers goes on in the same session.

use std::collections::VecDeque;

use selfos_proto::PeerId;
use selfos_sync::{
    EnvelopeError, MAX_BUFFERED_LEN, MAX_FRAGMENT_LEN, MAX_MESSAGE_LEN, MAX_MESSAGE_PARTS,
    SyncEvent,
    testing::{Hostile, message_about, vector_message},
};
use selfos_vault::{ErrorKind, MAX_NAMESPACES, MemoryStore, ReplicationState, Vault};

use crate::support::{Side, content, deliver, ns, peer_of, replicas};

const NOW: u64 = 1_800_000_000_000;

/// Honest `a`, and `b`, which also hears from two hostile replicas of the same vault
/// (`mallory`, and `trudy` for what takes two).
struct Room {
    a: Side,
    b: Side,
    /// Each hostile peer, its id and its last envelope counter.
    hostiles: [(Hostile, PeerId, u64); 2],
    pm: PeerId,
}

impl Room {
    fn new() -> Self {
        let mut vaults = replicas(4).into_iter();
        let (va, vb, vm, vt) = (
            vaults.next().expect("a"),
            vaults.next().expect("b"),
            vaults.next().expect("mallory"),
            vaults.next().expect("trudy"),
        );
        let (pa, pb, pm, pt) = (peer_of(&va), peer_of(&vb), peer_of(&vm), peer_of(&vt));
        let hostile = |v: &Vault<MemoryStore>, p| Hostile::new(&v.sync_keys(), p).expect("hostile");
        let mut room = Self {
            a: Side::new(va, pa, &[pb], NOW),
            b: Side::new(vb, pb, &[pa, pm, pt], NOW),
            hostiles: [(hostile(&vm, pm), pm, 0), (hostile(&vt, pt), pt, 0)],
            pm,
        };
        // Each side reports joining the room, and that the relay keeps no store.
        assert_eq!(room.a.events().len(), 2);
        assert_eq!(room.b.events().len(), 2);
        room.exchange();
        room
    }

    /// Moves envelopes between `a` and `b` until neither has anything to say; fails on any
    /// event of `b` about `a` other than a change.
    fn exchange(&mut self) {
        let (pa, pb) = (peer_of(&self.a.vault), peer_of(&self.b.vault));
        let mut queue: VecDeque<(PeerId, PeerId, Vec<u8>)> = VecDeque::new();
        queue.extend(self.a.sends().into_iter().map(|(to, e)| (pa, to, e)));
        queue.extend(self.b.sends().into_iter().map(|(to, e)| (pb, to, e)));
        while let Some((from, to, envelope)) = queue.pop_front() {
            let (side, me) = if to == pb {
                (&mut self.b, pb)
            } else if to == pa {
                (&mut self.a, pa)
            } else {
                continue;
            };
            side.handle(&deliver(from, &envelope), NOW);
            for event in side.events() {
                assert!(matches!(event, SyncEvent::Changed { .. }), "{event:?}");
            }
            queue.extend(side.sends().into_iter().map(|(to, e)| (me, to, e)));
        }
    }

    /// `a` records `text` and tells `b`; `b` must then hold it.
    fn honest_write(&mut self, text: &str) {
        let answer = content("chatgpt", "intent.include", text, NOW);
        let id = self
            .a
            .vault
            .record(&ns("chatgpt"), answer, NOW)
            .expect("record");
        self.a
            .engine
            .local_change(&mut self.a.vault)
            .expect("local change");
        self.exchange();
        assert!(self.b.vault.get(&id).expect("readable").is_some(), "{text}");
    }

    /// Mallory's fragment `part` of `parts` reaches `b`; returns what `b` reported. A refused
    /// envelope gets no answer.
    fn hostile(&mut self, part: u16, parts: u16, fragment: &[u8]) -> Vec<SyncEvent> {
        self.hostile_from(0, part, parts, fragment)
    }

    /// The same from hostile peer `which` (0: mallory, 1: trudy).
    fn hostile_from(
        &mut self,
        which: usize,
        part: u16,
        parts: u16,
        fragment: &[u8],
    ) -> Vec<SyncEvent> {
        let pb = peer_of(&self.b.vault);
        let (sealer, from, counter) = &mut self.hostiles[which];
        *counter += 1;
        let envelope = sealer
            .envelope(&pb, *counter, part, parts, fragment)
            .expect("sealed");
        let from = *from;
        self.b.handle(&deliver(from, &envelope), NOW);
        let answered = !self.b.sends().is_empty();
        let events = self.b.events();
        assert!(
            events.is_empty() || !answered,
            "b answered a refused envelope"
        );
        events
    }

    fn rejected(&self, reason: EnvelopeError) -> Vec<SyncEvent> {
        vec![SyncEvent::Rejected {
            from: self.pm,
            reason,
        }]
    }
}

/// What a test can see of a replica.
fn snapshot(vault: &Vault<MemoryStore>) -> String {
    format!(
        "{:?} {:?}",
        vault.heads(&ns("chatgpt")).to_hex(),
        vault.list(None).responses
    )
}

#[test]
fn a_message_in_too_many_parts_is_refused_at_its_first_fragment() {
    let mut room = Room::new();
    let over = MAX_MESSAGE_PARTS + 1;
    assert_eq!(
        room.hostile(0, over, &[0; 64]),
        room.rejected(EnvelopeError::TooManyParts(over))
    );
    assert_eq!(
        room.hostile(0, u16::MAX, &[0; 64]),
        room.rejected(EnvelopeError::TooManyParts(u16::MAX))
    );
    // Nothing was buffered: the next fragment of that message is out of order.
    assert_eq!(
        room.hostile(1, u16::MAX, &[0; 64]),
        room.rejected(EnvelopeError::TooManyParts(u16::MAX))
    );
    room.honest_write("after too many parts");
}

#[test]
fn a_message_over_the_byte_limit_is_dropped_as_it_grows_while_honest_sync_goes_on() {
    let mut room = Room::new();
    let before = snapshot(&room.b.vault);
    let full = vec![0x5a; MAX_FRAGMENT_LEN];
    let fits = MAX_MESSAGE_LEN / MAX_FRAGMENT_LEN;
    assert!(fits < usize::from(MAX_MESSAGE_PARTS));
    for part in 0..fits {
        let part = u16::try_from(part).expect("part");
        assert_eq!(room.hostile(part, MAX_MESSAGE_PARTS, &full), []);
        if part % 128 == 0 {
            room.honest_write(&format!("while mallory sends fragment {part}"));
        }
    }
    let over = u16::try_from(fits).expect("part");
    assert_eq!(
        room.hostile(over, MAX_MESSAGE_PARTS, &full),
        room.rejected(EnvelopeError::MessageTooLong)
    );
    // What was buffered is gone: the message cannot go on.
    assert_eq!(
        room.hostile(over + 1, MAX_MESSAGE_PARTS, &full),
        room.rejected(EnvelopeError::Fragments)
    );
    room.honest_write("after the oversized message");
    assert_ne!(snapshot(&room.b.vault), before);
    assert_eq!(snapshot(&room.a.vault), snapshot(&room.b.vault));
}

/// Two peers each within the bound of one message, together past what a device buffers for a
/// room: the fragment that crosses it drops its own message, the other goes on, and so does
/// honest sync.
#[test]
fn messages_in_progress_are_bounded_across_the_room() {
    let mut room = Room::new();
    let full = vec![0x5a; MAX_FRAGMENT_LEN];
    // Mallory stops one fragment short of its own bound.
    let mallory_sent = MAX_MESSAGE_LEN / MAX_FRAGMENT_LEN - 1;
    let parts = MAX_MESSAGE_PARTS;
    for part in 0..mallory_sent {
        let part = u16::try_from(part).expect("part");
        assert_eq!(room.hostile_from(0, part, parts, &full), []);
    }
    let room_left = MAX_BUFFERED_LEN - mallory_sent * MAX_FRAGMENT_LEN;
    let trudy_fits = room_left / MAX_FRAGMENT_LEN;
    for part in 0..trudy_fits {
        let part = u16::try_from(part).expect("part");
        assert_eq!(room.hostile_from(1, part, parts, &full), []);
    }
    let pt = room.hostiles[1].1;
    let over = u16::try_from(trudy_fits).expect("part");
    assert_eq!(
        room.hostile_from(1, over, parts, &full),
        [SyncEvent::Rejected {
            from: pt,
            reason: EnvelopeError::RoomBufferFull
        }]
    );
    room.honest_write("while the room's buffer is full");
    // Trudy's message is gone, which frees its share: mallory's message goes on, and trudy can
    // start another.
    let next = u16::try_from(mallory_sent).expect("part");
    assert_eq!(room.hostile_from(0, next, parts, &full), []);
    assert_eq!(room.hostile_from(1, 0, parts, &full), []);
}

#[test]
fn a_message_the_vault_refuses_costs_that_message_only() {
    let mut room = Room::new();
    let before = snapshot(&room.b.vault);
    let b_replica = *room.b.vault.replica().as_bytes();
    // Counts at u64::MAX: for b's own replica id and for another writer.
    for writer in [b_replica, [0xAB; 16]] {
        assert_eq!(
            room.hostile(0, 1, &vector_message("chatgpt", writer, u64::MAX)),
            room.rejected(EnvelopeError::Refused(ErrorKind::Damaged))
        );
    }
    // A message that is no replication message at all, and one for a namespace that is none.
    let garbage = message_about("chatgpt", &[0xff; 40]);
    assert_eq!(
        room.hostile(0, 1, &garbage),
        room.rejected(EnvelopeError::Malformed)
    );
    assert_eq!(
        room.hostile(0, 1, &[200, 1, 2]),
        room.rejected(EnvelopeError::Malformed)
    );
    assert_eq!(snapshot(&room.b.vault), before);

    // The engine of `b` goes on with `a`, and with mallory once it behaves.
    room.honest_write("after the refused messages");
    assert_eq!(
        room.hostile(0, 1, &vector_message("chatgpt", [0xAB; 16], 3)),
        []
    );
    room.honest_write("and after an acceptable one");
}

/// A vault at its bound on namespaces refuses a peer's message about one more, stores nothing for
/// it, and goes on syncing, ticks included.
#[test]
fn a_namespace_past_the_bound_costs_that_message_only() {
    let mut room = Room::new();
    // `chatgpt`, where the honest writes go, is one of them.
    let mut i = 0;
    while room.b.vault.namespaces().len() < MAX_NAMESPACES {
        let name = if i == 0 {
            "chatgpt".to_owned()
        } else {
            format!("agent-{i}")
        };
        room.b
            .vault
            .record(
                &ns(&name),
                content(&name, "intent.include", "one", NOW),
                NOW,
            )
            .expect("record");
        i += 1;
    }
    room.b
        .engine
        .local_change(&mut room.b.vault)
        .expect("local change");
    room.exchange();

    // A well-formed message about a namespace `b` does not hold (from any vault: the bound is
    // checked before anything in it is read).
    let extra = ns("one-too-many");
    let mut elsewhere = replicas(1).pop().expect("a vault");
    elsewhere
        .record(&extra, content("x", "intent.include", "more", NOW), NOW)
        .expect("record");
    let message = elsewhere
        .generate_replication_message(&extra, &mut ReplicationState::new())
        .expect("message")
        .expect("something to say");
    let mut encoded = Vec::new();
    message.encode_into(&mut encoded);
    let plain = message_about(extra.as_str(), &encoded);
    assert_eq!(
        room.hostile(0, 1, &plain),
        room.rejected(EnvelopeError::Refused(ErrorKind::Invalid))
    );
    assert!(!room.b.vault.namespaces().contains(&extra));
    // `b` does not follow the refused namespace with mallory: telling its peers about a write,
    // which goes through every namespace it follows with each, still works.
    room.b
        .engine
        .local_change(&mut room.b.vault)
        .expect("local change");
    room.b
        .engine
        .tick(&mut room.b.vault, NOW + 60_000)
        .expect("tick");
    room.honest_write("after the namespace past the bound");
}
