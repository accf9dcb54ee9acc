//! What one build keeps for the next, and the notes `add` and `remove` leave it on which nodes
//! and edges their answers changed.

use crate::adjacency::Adjacency;

/// What one build leaves to the next, so that the next costs what changed in between.
#[derive(Debug, Clone, Default)]
pub(super) struct Previous {
    /// Whether a build ran. Until one has, nothing is recorded for it: the first build starts
    /// from scratch, and fills the alignment log and the sources in one pass.
    pub(super) built: bool,
    /// Live node slots in canonical order.
    pub(super) live: Vec<u32>,
    /// Edge slots whose answers changed since.
    pub(super) dirty: Touched,
    /// Every edge some answer supports (whether or not its ends are in the graph), by node
    /// slot, with its running sum and count: kept current by each build for the edges in
    /// `dirty`, and by the anchor's moves.
    pub(super) adjacency: Adjacency,
    /// Per node slot: its PageRank, 0 when it was not in the graph.
    pub(super) rank: Vec<f64>,
    /// Per node slot: its community label, as the slot of the node the label started from;
    /// `u32::MAX` when it was not in the graph.
    pub(super) label: Vec<u32>,
    /// Node slots label propagation still had queued when its rounds ran out.
    pub(super) unsettled: Vec<u32>,
    /// Node slots whose answers changed since.
    pub(super) changed: Touched,
}

/// Slots noted since the last build, each once: in the order noted, with a flag per slot.
#[derive(Debug, Clone, Default)]
pub(super) struct Touched {
    slots: Vec<u32>,
    flags: Vec<bool>,
}

impl Touched {
    /// Notes a slot, unless it is noted already.
    pub(super) fn insert(&mut self, slot: u32) {
        let i = slot as usize;
        if self.flags.len() <= i {
            self.flags.resize(i + 1, false);
        }
        if !self.flags[i] {
            self.flags[i] = true;
            self.slots.push(slot);
        }
    }

    /// The slots noted, in the order noted.
    pub(super) fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// Forgets every slot noted.
    pub(super) fn clear(&mut self) {
        for s in self.slots.drain(..) {
            self.flags[s as usize] = false;
        }
    }
}
