//! Document-level replication: what replicas of one vault exchange to converge one namespace,
//! after Automerge's sync protocol (`automerge::sync`), plus deltas of the key table.
//!
//! For each (peer, namespace) a [`ReplicationState`] holds Automerge's sync state and what is
//! known of the peer's key-table version vector. A [`ReplicationMessage`] carries:
//! - an Automerge sync message, when Automerge has one;
//! - the sender's key-table vector;
//! - the key entries the receiver lacks, computed from the receiver's last advertised vector
//!   (`base`), and that base, so the receiver can tell a complete delta from a partial one.
//!
//! A peer is another replica of the same vault, named by its [`ReplicaId`]. This module knows
//! documents and key tables, nothing about transport: the sync engine (`selfos-sync`) moves the
//! messages, encrypts, orders and counts them, and saves its own state beside the replication
//! state as bytes the vault seals but never reads ([`Vault::save_peer_state`]).

mod bundle;
mod direct;
pub(crate) mod message;
pub(crate) mod state;

use automerge::sync::SyncDoc;
pub use bundle::{BundleReport, StoreBundle, StoreCover, StoreMark};
pub use message::{ReplicationMessage, ReplicationMessageError};
pub use state::{PeerStateError, ReplicationState, SavedPeerState};

use crate::{
    chunk::{open_at_rest, seal_at_rest},
    error::WriteError,
    ids::{Namespace, ReplicaId},
    keytable::Vector,
    storage::ChunkStore,
    vault::Vault,
};

/// The magic of a sealed saved peer state.
const STATE_MAGIC: &[u8; 8] = b"SELFOSPS";

/// The magic of a sealed saved store state.
const STORE_STATE_MAGIC: &[u8; 8] = b"SELFOSSS";

/// The name of the saved state about the store of the relay at `relay` (its audience): a
/// cursor of one relay means nothing at another.
fn store_state_name(relay: &str) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(relay.as_bytes());
    format!("store.{}", hex::encode(&digest[..8]))
}

/// The name of the saved state about `peer` and `ns` in the store.
fn peer_state_name(peer: &ReplicaId, ns: &Namespace) -> String {
    format!("{peer}.{ns}")
}

/// What one received message changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicationReport {
    /// Whether the document or the key table changed.
    pub changed: bool,
    /// Tombstones that arrived (deletions).
    pub deletions: usize,
    /// Whether it destroyed keys (a delete, or an overwrite): a relay's store may still hold
    /// them (see `Vault::store_bundle`).
    pub erased: bool,
}

impl<S: ChunkStore> Vault<S> {
    /// Saves what outlives a connection to `peer` about `ns`: where replication stood, and the
    /// sync engine's own bytes (`engine`), which the vault seals with it and never reads. Sealed
    /// like chunks.
    pub fn save_peer_state(
        &mut self,
        peer: &ReplicaId,
        ns: &Namespace,
        replication: &ReplicationState,
        engine: &[u8],
    ) -> Result<(), WriteError> {
        let (key, aad) = self.peer_state_binding(peer.as_bytes(), ns);
        let plain = SavedPeerState::encode(replication, engine)?;
        let sealed = seal_at_rest(STATE_MAGIC, &key, &aad, &plain)?;
        self.store_mut()
            .write_peer_state(&peer_state_name(peer, ns), &sealed)?;
        Ok(())
    }

    /// The state saved about `peer` and `ns`, or `None` if none was saved. Reads the saved form
    /// of every version (FORMAT.md).
    pub fn load_peer_state(
        &self,
        peer: &ReplicaId,
        ns: &Namespace,
    ) -> Result<Option<SavedPeerState>, PeerStateError> {
        let Some(sealed) = self.store().read_peer_state(&peer_state_name(peer, ns))? else {
            return Ok(None);
        };
        let (key, aad) = self.peer_state_binding(peer.as_bytes(), ns);
        let plain = open_at_rest(STATE_MAGIC, &key, &aad, &sealed)?;
        SavedPeerState::decode(&plain).map(Some)
    }

    /// Saves the sync engine's state about the store of the relay named `relay` (bytes the vault
    /// seals and never reads), replacing what was saved before.
    pub fn save_store_state(&mut self, relay: &str, engine: &[u8]) -> Result<(), WriteError> {
        let (key, aad) = self.store_state_binding(relay);
        let sealed = seal_at_rest(STORE_STATE_MAGIC, &key, &aad, engine)?;
        self.store_mut()
            .write_peer_state(&store_state_name(relay), &sealed)?;
        Ok(())
    }

    /// The state [`Vault::save_store_state`] saved for `relay`, if any.
    pub fn load_store_state(
        &self,
        relay: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, PeerStateError> {
        let Some(sealed) = self.store().read_peer_state(&store_state_name(relay))? else {
            return Ok(None);
        };
        let (key, aad) = self.store_state_binding(relay);
        Ok(Some(open_at_rest(STORE_STATE_MAGIC, &key, &aad, &sealed)?))
    }

    /// Whether the peer behind `state` is known to hold every change of `ns` that this replica
    /// has stored: each of our heads is one the peer announced or one we both have.
    pub fn peer_holds_all(&self, ns: &Namespace, state: &ReplicationState) -> bool {
        let theirs = state.doc.their_heads.as_deref().unwrap_or_default();
        self.stored_heads(ns)
            .iter()
            .all(|h| state.doc.shared_heads.contains(h) || theirs.contains(h))
    }

    /// Whether replication with the peer behind `state` has nothing left to do for `ns`: each
    /// side is known to hold the other's changes and key entries. While it is not, and no
    /// message comes, a message was lost: see [`ReplicationState::restart`].
    pub fn replication_settled(&self, ns: &Namespace, state: &ReplicationState) -> bool {
        let Some(doc) = self.namespace(ns) else {
            return state.doc.their_heads.as_ref().is_none_or(Vec::is_empty);
        };
        let theirs_held = doc.holds_all(state.doc.their_heads.as_deref().unwrap_or_default());
        let their_keys_held = state
            .peer_vector
            .as_ref()
            .is_none_or(|pv| pv.le(doc.keys.vector()));
        theirs_held && their_keys_held && self.peer_holds_all(ns, state)
    }

    /// Every namespace to replicate, `settings` included.
    pub fn replicated_namespaces(&self) -> Vec<Namespace> {
        self.loaded_namespaces()
    }

    /// The next message for the peer behind `state` about `ns`, or `None` when there is
    /// nothing to say.
    pub fn generate_replication_message(
        &mut self,
        ns: &Namespace,
        state: &mut ReplicationState,
    ) -> Result<Option<ReplicationMessage>, WriteError> {
        let doc = self.namespace_mut(ns)?;
        let (automerge, changes) = match direct::outgoing(doc, &mut state.doc) {
            direct::Outgoing::Send(changes) => (None, Some(changes)),
            direct::Outgoing::Nothing => (None, None),
            direct::Outgoing::NotYet => {
                (doc.doc.sync().generate_sync_message(&mut state.doc), None)
            }
        };
        let vector = doc.keys.vector().clone();
        let entries = state
            .peer_vector
            .as_ref()
            .map(|pv| doc.keys.entries_above(pv))
            .unwrap_or_default();
        if automerge.is_none()
            && changes.is_none()
            && entries.is_empty()
            && state.sent_vector.as_ref() == Some(&vector)
        {
            return Ok(None);
        }
        let base = state.peer_vector.clone();
        // Once this delta arrives the peer holds everything we hold.
        if let Some(pv) = &mut state.peer_vector {
            pv.join(&vector);
        }
        state.sent_vector = Some(vector.clone());
        Ok(Some(ReplicationMessage {
            doc: automerge,
            changes,
            vector,
            base,
            entries,
        }))
    }

    /// Applies a message from the peer behind `state` about `ns` and stores what it brought.
    /// On failure the namespace is as before and `state` starts over (the next exchange
    /// repeats what was lost). A message with a key-table count over [`MAX_KEY_COUNT`] is
    /// refused whole ([`KeyCountError::FromPeer`]) before anything is applied.
    ///
    /// [`MAX_KEY_COUNT`]: crate::MAX_KEY_COUNT
    /// [`KeyCountError::FromPeer`]: crate::KeyCountError::FromPeer
    pub fn receive_replication_message(
        &mut self,
        ns: &Namespace,
        state: &mut ReplicationState,
        message: ReplicationMessage,
        now_ms: u64,
    ) -> Result<ReplicationReport, WriteError> {
        if let Err(e) = message.check_counts() {
            *state = ReplicationState::new();
            return Err(e.into());
        }
        let outcome = self.write_namespace(ns, now_ms, |doc, _, _| {
            let heads = doc.doc.get_heads();
            if let Some(m) = message.doc {
                doc.doc.sync().receive_sync_message(&mut state.doc, m)?;
            }
            if let Some(changes) = message.changes {
                direct::incoming(doc, &mut state.doc, changes)?;
            }
            let mut changed = Vec::new();
            for (id, entry) in message.entries {
                if doc.keys.merge_entry(id, entry.clone()) {
                    changed.push((id, entry));
                }
            }
            // A delta computed from a vector we had reached is complete up to the sender's.
            let complete = message
                .base
                .as_ref()
                .is_some_and(|b| b.le(doc.keys.vector()));
            if complete {
                doc.keys.advance_from_peer(&message.vector, doc.writer);
            }
            // Without a base the sender is starting over and its vector is all it holds: what we
            // assumed our earlier deltas gave it may have been lost on the way.
            let mut known = match message.base {
                Some(_) => state.peer_vector.take().unwrap_or_default(),
                None => Vector::default(),
            };
            known.join(&message.vector);
            // A base we never reached means a delta to us was lost: our next message goes
            // without a base, so the sender learns the vector we really hold and sends again
            // what it lacks (we learn the sender's again from its answer).
            let lost_delta = message.base.is_some() && !complete;
            state.peer_vector = (!lost_delta).then_some(known);
            if lost_delta {
                state.sent_vector = None;
            }
            let report = ReplicationReport {
                changed: !changed.is_empty() || doc.doc.get_heads() != heads,
                deletions: changed.iter().filter(|(_, e)| e.is_shredded()).count(),
                erased: changed.iter().any(|(_, e)| e.erases()),
            };
            Ok((report, changed))
        });
        let (report, compaction) = match outcome {
            Ok(ok) => ok,
            Err(e) => {
                *state = ReplicationState::new();
                return Err(e);
            }
        };
        if report.erased {
            self.compact_after_erasure(ns, compaction);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        KeyCountError, MemoryStore, RecordError,
        chunk::ChunkError,
        keytable::{Dot, KeyEntry, KeyState},
        unit_kit::{NOW, answer, pair},
    };

    fn chatgpt() -> Namespace {
        Namespace::new("chatgpt").unwrap()
    }

    /// Sends `from`'s message to `to` through its bytes; whether there was one.
    fn send(
        from: &mut Vault<MemoryStore>,
        from_state: &mut ReplicationState,
        to: &mut Vault<MemoryStore>,
        to_state: &mut ReplicationState,
    ) -> bool {
        let ns = chatgpt();
        let Some(message) = from.generate_replication_message(&ns, from_state).unwrap() else {
            return false;
        };
        let mut bytes = Vec::new();
        message.encode_into(&mut bytes);
        let message = ReplicationMessage::decode(&bytes).unwrap();
        to.receive_replication_message(&ns, to_state, message, NOW)
            .unwrap();
        true
    }

    /// Exchanges until neither side has anything to say.
    fn exchange(
        a: &mut Vault<MemoryStore>,
        sa: &mut ReplicationState,
        b: &mut Vault<MemoryStore>,
        sb: &mut ReplicationState,
    ) {
        for _ in 0..10 {
            let ab = send(a, sa, b, sb);
            let ba = send(b, sb, a, sa);
            if !ab && !ba {
                return;
            }
        }
        panic!("the exchange does not end");
    }

    /// A value whose key has not arrived is pending, not damaged; once the peer that holds the
    /// key hears, from a restart, what this replica really holds, the key comes.
    #[test]
    fn a_value_without_its_key_is_pending_until_it_arrives() {
        let (mut a, mut b) = pair();
        let id = a
            .record(&chatgpt(), answer("a worked example"), NOW)
            .unwrap();
        let (mut sa, mut sb) = (ReplicationState::new(), ReplicationState::new());
        // The Automerge parts arrive; the key entries and what the vector says of them do not.
        for _ in 0..4 {
            if let Some(mut message) = a.generate_replication_message(&chatgpt(), &mut sa).unwrap()
            {
                message.entries.clear();
                message.base = None;
                message.vector = Vector::default();
                b.receive_replication_message(&chatgpt(), &mut sb, message, NOW)
                    .unwrap();
            }
            send(&mut b, &mut sb, &mut a, &mut sa);
        }
        assert_eq!(
            a.heads(&chatgpt()),
            b.heads(&chatgpt()),
            "the values arrived"
        );
        let listing = b.list(None);
        assert_eq!(
            listing.unreadable,
            vec![(id.clone(), RecordError::KeyPending)]
        );
        assert_eq!(listing.unreadable[0].1.kind(), crate::ErrorKind::Pending);
        assert!(
            RecordError::KeyPending
                .to_string()
                .contains("not arrived yet"),
            "worded as pending, not as damage"
        );

        // A restart tells a the vector b really holds, and the key follows; the change feed,
        // which saw the value arrive unreadable, names the record again.
        let before = b.changed_since(&crate::Cursor::default());
        assert_eq!(before.gone, vec![id.clone()]);
        sb.restart();
        exchange(&mut b, &mut sb, &mut a, &mut sa);
        assert!(b.list(None).unreadable.is_empty());
        assert!(b.get(&id).unwrap().is_some());
        let after = b.changed_since(&before.cursor);
        assert_eq!(
            after.responses.iter().map(|r| &r.id).collect::<Vec<_>>(),
            vec![&id]
        );
    }

    /// What a test can see of `v`'s `chatgpt`: heads, responses and the key table's vector.
    fn seen(v: &Vault<MemoryStore>) -> (Vec<String>, String, Vector) {
        let doc = v.namespace(&chatgpt()).unwrap();
        (
            v.heads(&chatgpt()).to_hex(),
            format!("{:?}", v.list(None).responses),
            doc.keys.vector().clone(),
        )
    }

    /// A peer that holds the vault's keys sends counts at `u64::MAX` (in its vector, the base,
    /// an entry; for this replica's own writer or another): each message is refused whole with a
    /// clear error, nothing of it is applied, no count wraps, and honest exchanges go on.
    #[test]
    fn a_message_counted_at_u64_max_is_refused_and_changes_nothing() {
        let (mut a, mut b) = pair();
        a.record(&chatgpt(), answer("before"), NOW).unwrap();
        b.record(&chatgpt(), answer("mine"), NOW).unwrap();
        let (mut sa, mut sb) = (ReplicationState::new(), ReplicationState::new());
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        let writer_of = |v: &Vault<MemoryStore>| v.namespace(&chatgpt()).unwrap().writer;
        let (ours, theirs) = (writer_of(&b), writer_of(&a));
        let lies: [&dyn Fn(&mut ReplicationMessage); 4] = [
            &|m| {
                m.vector.0.insert(ours, u64::MAX);
            },
            &|m| {
                m.vector.0.insert(theirs, u64::MAX);
            },
            &|m| m.base = Some(Vector([(theirs, u64::MAX)].into())),
            &|m| {
                let (id, _) = m.entries[0];
                let dot = Dot {
                    origin: theirs,
                    seq: u64::MAX,
                };
                m.entries.push((
                    id,
                    KeyEntry {
                        state: KeyState::Shredded,
                        dot,
                    },
                ));
            },
        ];
        for (i, lie) in lies.iter().enumerate() {
            let id = a
                .record(&chatgpt(), answer(&format!("lie {i}")), NOW)
                .unwrap();
            let mut message = a
                .generate_replication_message(&chatgpt(), &mut sa)
                .unwrap()
                .unwrap();
            lie(&mut message);
            // It travels as bytes, and decodes: the bound is the vault's, not the format's.
            let mut bytes = Vec::new();
            message.encode_into(&mut bytes);
            let message = ReplicationMessage::decode(&bytes).unwrap();
            let before = seen(&b);
            let err = b
                .receive_replication_message(&chatgpt(), &mut sb, message, NOW)
                .unwrap_err();
            assert!(
                matches!(err, WriteError::KeyCount(KeyCountError::FromPeer(u64::MAX))),
                "lie {i}: {err}"
            );
            assert!(err.to_string().contains("over the limit"), "{err}");
            assert_eq!(seen(&b), before, "lie {i} changed the replica");
            assert_eq!(b.get(&id).unwrap(), None);

            // The next honest exchange brings the change, and b's own writes go on.
            sa.restart();
            exchange(&mut a, &mut sa, &mut b, &mut sb);
            assert!(b.get(&id).unwrap().is_some(), "lie {i}");
            let next = b.record(&chatgpt(), answer("after"), NOW).unwrap();
            exchange(&mut a, &mut sa, &mut b, &mut sb);
            assert!(a.get(&next).unwrap().is_some());
        }
        assert_eq!(seen(&a), seen(&b));
        assert!(seen(&b).2.0.values().all(|seq| *seq < 100));
    }

    /// A lost message leaves the exchange unsettled on the side that waits; a restart settles it.
    #[test]
    fn a_lost_message_leaves_the_exchange_unsettled_until_a_restart() {
        let (mut a, mut b) = pair();
        b.record(&chatgpt(), answer("from b"), NOW).unwrap();
        let (mut sa, mut sb) = (ReplicationState::new(), ReplicationState::new());
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        assert!(a.replication_settled(&chatgpt(), &sa) && b.replication_settled(&chatgpt(), &sb));

        let id = a.record(&chatgpt(), answer("from a"), NOW + 1).unwrap();
        let lost = a.generate_replication_message(&chatgpt(), &mut sa).unwrap();
        assert!(lost.is_some(), "a had news, and it was lost");
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        assert_eq!(b.get(&id).unwrap(), None, "nothing resends it by itself");
        assert!(
            !a.replication_settled(&chatgpt(), &sa),
            "a knows b lacks its change"
        );

        sa.restart();
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        assert!(b.get(&id).unwrap().is_some());
        assert!(a.replication_settled(&chatgpt(), &sa) && b.replication_settled(&chatgpt(), &sb));
    }

    /// In a live session changes go directly; when one is lost, the next shows the peer a head
    /// it cannot reach, it asks for what it lacks, and gets it: no restart needed.
    #[test]
    fn a_lost_direct_change_is_asked_for_and_sent_again() {
        let (mut a, mut b) = pair();
        let (mut sa, mut sb) = (ReplicationState::new(), ReplicationState::new());
        a.record(&chatgpt(), answer("first"), NOW).unwrap();
        exchange(&mut a, &mut sa, &mut b, &mut sb);

        let lost = a.record(&chatgpt(), answer("lost"), NOW + 1).unwrap();
        let message = a.generate_replication_message(&chatgpt(), &mut sa).unwrap();
        assert!(
            message.is_some_and(|m| m.doc.is_none() && m.changes.is_some()),
            "a live session sends the change directly"
        );
        let next = a.record(&chatgpt(), answer("next"), NOW + 2).unwrap();
        exchange(&mut a, &mut sa, &mut b, &mut sb);
        assert!(b.get(&lost).unwrap().is_some() && b.get(&next).unwrap().is_some());
        assert_eq!(a.heads(&chatgpt()), b.heads(&chatgpt()));
        assert!(a.replication_settled(&chatgpt(), &sa) && b.replication_settled(&chatgpt(), &sb));
    }

    #[test]
    fn replicas_converge_and_the_saved_state_comes_back() {
        let (mut a, mut b) = pair();
        b.record(&chatgpt(), answer("a worked example"), NOW)
            .unwrap();
        let (mut sa, mut sb) = (ReplicationState::new(), ReplicationState::new());
        assert!(!b.peer_holds_all(&chatgpt(), &sb));
        for _ in 0..10 {
            let ab = send(&mut a, &mut sa, &mut b, &mut sb);
            let ba = send(&mut b, &mut sb, &mut a, &mut sa);
            if !ab && !ba {
                break;
            }
        }
        assert_eq!(a.heads(&chatgpt()), b.heads(&chatgpt()));
        assert_eq!(a.list(None).responses.len(), 1);
        // Stored heads answer `peer_holds_all` and `heads` without `&mut`: they are the
        // document's heads.
        let live = a.namespace_mut(&chatgpt()).unwrap().doc.get_heads();
        assert_eq!(a.stored_heads(&chatgpt()), live.as_slice());
        assert!(a.peer_holds_all(&chatgpt(), &sa) && b.peer_holds_all(&chatgpt(), &sb));

        let peer = b.replica();
        assert!(a.load_peer_state(&peer, &chatgpt()).unwrap().is_none());
        a.save_peer_state(&peer, &chatgpt(), &sa, b"engine bytes")
            .unwrap();
        let saved = a.load_peer_state(&peer, &chatgpt()).unwrap().unwrap();
        assert_eq!(saved.engine, b"engine bytes");
        assert_eq!(saved.replication.doc.shared_heads, live);
        assert!(a.peer_holds_all(&chatgpt(), &saved.replication));

        // Sealed to its peer and namespace: moved elsewhere, it does not open.
        let other = ReplicaId::from([0xee; 16]);
        let sealed = a
            .store()
            .read_peer_state(&peer_state_name(&peer, &chatgpt()))
            .unwrap()
            .unwrap();
        a.store_mut()
            .write_peer_state(&peer_state_name(&other, &chatgpt()), &sealed)
            .unwrap();
        assert!(matches!(
            a.load_peer_state(&other, &chatgpt()),
            Err(PeerStateError::Sealed(ChunkError::Tampered))
        ));
    }
}
