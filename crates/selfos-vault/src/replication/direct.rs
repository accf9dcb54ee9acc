//! The direct path of a live session (see [`DirectChanges`]): what to send a peer whose heads
//! are known, and how to take what such a peer sent, keeping Automerge's sync state true so that
//! either side can fall back to Automerge's sync messages at any point (after a restart, a lost
//! message, or a peer that needs something).

use automerge::sync::{BloomFilter, Capability, Have, State};

use super::message::{DirectChanges, MAX_HEADS};
use crate::{error::WriteError, namespace::NamespaceDoc};

/// What the direct path has for the peer.
pub(super) enum Outgoing {
    /// It does not apply yet: the peer's heads are unknown, or it lacks or asked for something
    /// only Automerge's sync protocol works out.
    NotYet,
    /// The peer has been told our heads already.
    Nothing,
    /// Our changes it lacks, and our heads.
    Send(DirectChanges),
}

/// What to send the peer behind `state`; updates `state` as Automerge's own sending would.
pub(super) fn outgoing(doc: &mut NamespaceDoc, state: &mut State) -> Outgoing {
    // A peer that asks for a change lacks it, whatever we believe we sent (a lost message):
    // Automerge's protocol, which answers the request, skips what it believes it sent.
    if let Some(need) = &state.their_need {
        for hash in need {
            state.sent_hashes.remove(hash);
        }
    }
    let Some(theirs) = state.their_heads.clone() else {
        return Outgoing::NotYet;
    };
    let asked = state.their_need.as_ref().is_some_and(|n| !n.is_empty());
    if state.needs_reset || asked || !doc.holds_all(&theirs) {
        return Outgoing::NotYet;
    }
    let ours = doc.doc.get_heads();
    if ours.len() > MAX_HEADS {
        return Outgoing::NotYet;
    }
    let changes: Vec<_> = doc
        .doc
        .get_changes(&theirs)
        .into_iter()
        .filter(|c| !state.sent_hashes.contains(&c.hash()))
        .collect();
    if changes.is_empty() && ours == state.last_sent_heads {
        return Outgoing::Nothing;
    }
    state.sent_hashes.extend(changes.iter().map(|c| c.hash()));
    state.last_sent_heads.clone_from(&ours);
    state.have_responded = true;
    Outgoing::Send(DirectChanges {
        heads: ours,
        changes,
    })
}

/// Applies what the peer behind `state` sent directly, and records what it now holds as
/// Automerge's `receive_sync_message` would.
pub(super) fn incoming(
    doc: &mut NamespaceDoc,
    state: &mut State,
    direct: DirectChanges,
) -> Result<(), WriteError> {
    if !direct.changes.is_empty() {
        doc.doc.apply_changes(direct.changes)?;
    }
    state.in_flight = false;
    // A peer that sends direct changes understands Automerge's sync reset (see `restart`).
    state
        .their_capabilities
        .get_or_insert_with(|| vec![Capability::MessageV2, Capability::SyncReset]);
    if doc.holds_all(&direct.heads) {
        state.shared_heads.clone_from(&direct.heads);
        if direct.heads == doc.doc.get_heads() {
            // Everything we sent has arrived.
            state.sent_hashes.clear();
        }
    }
    // If Automerge's protocol takes over, it offers the peer everything since the shared heads.
    state.their_have = Some(vec![Have {
        last_sync: state.shared_heads.clone(),
        bloom: BloomFilter::default(),
    }]);
    state.their_need = Some(Vec::new());
    state.their_heads = Some(direct.heads);
    Ok(())
}
