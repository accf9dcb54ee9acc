//! What one build keeps for the next, and the notes `add` and `remove` leave it on which nodes
//! and edges their answers changed.

use super::sums::EdgeAcc;
use crate::adjacency::Adjacency;

/// An edge the last build listed: its slot, and a copy of its ends and running sum, kept
/// rescaled with the original, so a build reads the list in order instead of jumping around the
/// edge slots; the copies of edges answers changed are refreshed by the next build.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listed {
    pub(super) slot: u32,
    pub(super) edge: EdgeAcc,
}

/// What one build leaves to the next, so that the next costs what changed in between.
#[derive(Debug, Clone, Default)]
pub(super) struct Previous {
    /// Whether a build ran. Until one has, nothing is recorded for it: the first build starts
    /// from scratch, and fills the alignment log and the sources in one pass.
    pub(super) built: bool,
    /// Live node slots in canonical order.
    pub(super) live: Vec<u32>,
    /// Visible edges in canonical order.
    pub(super) edges: Vec<Listed>,
    /// Per edge slot: whether it is in `edges`.
    pub(super) listed: Vec<bool>,
    /// Edge slots whose answers changed since, each once (`is_dirty` per slot).
    pub(super) dirty: Vec<u32>,
    pub(super) is_dirty: Vec<bool>,
    /// The adjacency rows built last, kept for their memory.
    pub(super) adjacency: Adjacency,
    /// Per node slot: its PageRank, 0 when it was not in the graph.
    pub(super) rank: Vec<f64>,
    /// Per node slot: its community label, as the slot of the node the label started from;
    /// `u32::MAX` when it was not in the graph.
    pub(super) label: Vec<u32>,
    /// Node slots label propagation still had queued when its rounds ran out.
    pub(super) unsettled: Vec<u32>,
    /// Node slots whose answers changed since, each once (`is_changed` per slot).
    pub(super) changed: Vec<u32>,
    pub(super) is_changed: Vec<bool>,
}

impl Previous {
    /// Notes that a node's answers changed, for the next build.
    pub(super) fn touch_node(&mut self, slot: u32) {
        if let Some(flag) = self.is_changed.get_mut(slot as usize)
            && !*flag
        {
            *flag = true;
            self.changed.push(slot);
        }
    }

    /// Notes that an edge's answers changed, for the next build.
    pub(super) fn touch_edge(&mut self, slot: u32) {
        if self.is_dirty.len() <= slot as usize {
            self.is_dirty.resize(slot as usize + 1, false);
        }
        if !self.is_dirty[slot as usize] {
            self.is_dirty[slot as usize] = true;
            self.dirty.push(slot);
        }
    }
}
