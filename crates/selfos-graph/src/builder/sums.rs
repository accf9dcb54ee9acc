//! Running sums per node and per edge, scaled to an anchor time near the latest `created_ms`
//! seen, so that strengths at any `now_ms` are one factor away.

use super::GraphBuilder;

/// Running sum for one node or edge.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Acc {
    /// Answers supporting it.
    pub(super) count: u32,
    /// Answers supporting it through an explicit topic (nodes only).
    pub(super) pinned: u32,
    /// `Σ w * 2^((created_ms - anchor) / half_life)`.
    pub(super) scaled: f64,
}

impl Acc {
    pub(super) fn add(&mut self, v: f64) {
        (self.count, self.scaled) = added(self.count, self.scaled, v);
    }

    pub(super) fn sub(&mut self, v: f64) {
        (self.count, self.scaled) = taken(self.count, self.scaled, v);
    }
}

/// A running sum with one more answer of unit `v`.
pub(super) fn added(count: u32, scaled: f64, v: f64) -> (u32, f64) {
    (count + 1, scaled + v)
}

/// A running sum with one answer of unit `v` taken out; the sum is reset once no answer is
/// left, so that removals leave no rounding residue behind.
pub(super) fn taken(count: u32, scaled: f64, v: f64) -> (u32, f64) {
    let count = count.saturating_sub(1);
    (count, if count == 0 { 0.0 } else { scaled - v })
}

/// An edge's entry in the map by its ends: its slot, and its running sum kept beside the key so
/// that adding an answer reaches each of its edges in one cache miss. The sum is spelled out
/// rather than an [`Acc`] (whose `pinned` edges do not use) to keep an entry, key included, at
/// 24 bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct EdgeEntry {
    pub(super) slot: u32,
    pub(super) count: u32,
    pub(super) scaled: f64,
}

/// A running sum brought to `now`: never negative (removals leave rounding residue), never
/// infinite (a `now_ms` thousands of half-lives before the answers would overflow).
pub(crate) fn decayed(scaled: f64, factor: f64) -> f64 {
    if scaled > 0.0 {
        (scaled * factor).min(f64::MAX)
    } else {
        0.0
    }
}

/// Half-lives an answer may lie past the anchor before the anchor moves to it. Moving it rescales
/// every running sum (a pass over all edges), so answers that arrive in time order move it only
/// once in this many half-lives (over five years at the default), not with every batch; an answer's
/// unit stays below `2^64`, and a sum of `u32::MAX` of them far from overflow.
const ANCHOR_SLACK: f64 = 64.0;

impl GraphBuilder {
    /// `2^((t - anchor) / half_life)`.
    pub(super) fn unit(&self, t: u64) -> f64 {
        let anchor = self.anchor_ms.unwrap_or(t);
        let diff = t as f64 - anchor as f64;
        (diff / self.config.half_life_ms as f64).exp2()
    }

    /// Makes `t` at most [`ANCHOR_SLACK`] half-lives past the anchor, moving the anchor to `t`
    /// (and rescaling every sum) when it is further.
    pub(super) fn move_anchor(&mut self, t: u64) {
        let half_life = self.config.half_life_ms as f64;
        match self.anchor_ms {
            Some(a) if t as f64 - a as f64 <= ANCHOR_SLACK * half_life => {}
            Some(a) => {
                let f = ((a as f64 - t as f64) / half_life).exp2();
                self.nodes.iter_mut().for_each(|x| x.scaled *= f);
                self.edges.values_mut().for_each(|x| x.scaled *= f);
                // The same product as the original's, so an unchanged row stays equal to it.
                self.previous.adjacency.scale(f);
                self.anchor_ms = Some(t);
            }
            None => self.anchor_ms = Some(t),
        }
    }
}
