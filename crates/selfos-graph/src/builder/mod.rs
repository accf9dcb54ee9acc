//! Incremental, batched construction of the knowledge graph.
//!
//! # What one answer contributes
//!
//! Only answered responses (`Status::Answered`) contribute. One answer supports these nodes,
//! each with weight `w = 1`:
//!
//! - its **agent** (`agent:chatgpt`), unless the agent is empty;
//! - its **card** (`card:intent.include`);
//! - a **preference** `dimension=value` when it is a preference card with a choice answer: the
//!   dimension is the card id without its `pref.` prefix (`pref.length` + `concise` ->
//!   `pref:length=concise`);
//! - its **topics** (see [`crate::topics`]), at most `max_topics_per_response`.
//!
//! and these undirected edges, each with weight `w = 1`: every pair of its topics, each topic
//! with the agent, the preference with the agent, the card with the agent. Answering again
//! reinforces the same nodes and edges.
//!
//! # Strength and decay
//!
//! ```text
//! strength(x) = Σ over the answers supporting x of  w * 0.5 ^ ((now_ms - created_ms) / half_life_ms)
//! ```
//!
//! with `half_life_ms` from [`GraphConfig`] (default 30 days). An edge's weight is the same sum
//! over the answers that support the edge. An answer from after `now_ms` counts more than 1
//! (strengths are capped at `f64::MAX`).
//!
//! # Incremental updates
//!
//! The builder keeps each response's contribution keyed by its id, and running sums per node and
//! per edge of `w * 2 ^ ((created_ms - anchor) / half_life)`, with `anchor` a `created_ms`
//! seen, moved (and the sums rescaled) only when an answer comes more than 64 half-lives after
//! it, so strengths at any `now_ms` are one factor away. Adding a response whose id is already known replaces the old contribution when
//! its `updated` clock is not older (an edit); [`GraphBuilder::remove`] takes one out (a delete).
//! Alignment metrics are kept per agent the same way (see [`crate::metrics`]), and so are the
//! answers behind each preference and topic a build has cited.
//!
//! Until its first build, a builder keeps only the running sums: that build starts from scratch
//! anyway, so nothing is recorded for it, and it fills the alignment log in one sort per agent
//! and gathers the sources of the nodes it cites in one pass over the answers. A fresh builder
//! fed a whole history thus costs about what a builder that rebuilds every time would.
//!
//! [`GraphBuilder::build`] keeps what it found for the next build, which then costs about what
//! changed in between, plus passes over the nodes and PageRank's sweeps over the edges:
//!
//! - **Nodes and edges.** The canonical node order is patched: nodes that came are merged in,
//!   those that left are dropped. Edges live in adjacency rows by node slot, which the build
//!   patches for the edges whose answers changed only; their weights are the running sums,
//!   undecayed (decay is one factor common to all of them, which neither PageRank nor label
//!   propagation sees). The built graph shares the rows (a row the builder patches later is
//!   copied first if a graph still holds it), and lists its edges with decayed weights, and
//!   makes its petgraph graph, when first asked. Node and edge values are those of a full
//!   rebuild.
//! - **PageRank** starts from the previous ranks (new nodes from `1 / n`) and runs until its
//!   tolerance stops it. Decay multiplies every weight by one factor, which leaves the fixed
//!   point where it was, so only the answers in between move it; the result is within the
//!   tolerance's bound of a cold build's (see [`crate::pagerank`]).
//! - **Communities** start from the previous labels and visit only the nodes around a change:
//!   those whose answers changed, the ends of edges that came or left, nodes that arrived or
//!   whose label's first node left (these take their own label), and nodes a capped previous
//!   run left queued. Label propagation has more than one stable outcome, so what is kept is
//!   this: a build with no earlier build (a fresh builder, or a clone of one) gives exactly the
//!   labels of [`crate::community`]'s rounds from one label per node, determined by the set of
//!   answers; a later build gives, unless the 20 rounds run out, labels where every node's
//!   label is one the rule keeps (as heavy as any among its neighbours, within the tie
//!   margin), which can differ from a cold build's and depend on the builds before; the same
//!   calls in the same order always give the same labels.
//! - **Metrics** are recomputed for the agents whose answers changed only (all of them when
//!   the user's first preference answer moves); they equal a full rebuild's exactly.
//! - **Snippet sources** are sorted again only for the cited nodes whose answers changed; a node
//!   cited for the first time has its sources gathered in one pass over the answers.
//!
//! Adding answers in any batches, with or without builds in between, gives the same graph as
//! one full rebuild, up to float rounding, PageRank's tolerance and the community labels above.
//!
//! Extracted (not explicit) topics become nodes once `min_topic_support` answers name them; this
//! is decided in `build`, so it stays batch-independent.

mod build;
mod config;
mod contribution;
mod previous;
mod sources;
mod sums;

use std::{collections::BTreeMap, sync::Arc};

use selfos_vault::{Changes, Response, ResponseId};

pub use config::{DEFAULT_HALF_LIFE_MS, GraphConfig};
pub(crate) use sums::decayed;

use crate::{
    error::ConfigError,
    graph::NodeKey,
    hash::FxMap,
    metrics::{Alignment, Event, Period, SeriesPoint},
};
use contribution::Contribution;
use previous::Previous;
use sources::Sources;
use sums::{Acc, EdgeEntry, taken};

/// Builds [`KnowledgeGraph`](crate::KnowledgeGraph)s from batches of responses.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    config: GraphConfig,
    /// Node slots by label, one map per kind (indexed by `kind_index`).
    slots: [FxMap<String, u32>; 4],
    keys: Vec<NodeKey>,
    nodes: Vec<Acc>,
    /// Per node slot (empty but for preferences and topics).
    sources: Vec<Sources>,
    /// Edges by their node slots, smaller first.
    edges: FxMap<(u32, u32), EdgeEntry>,
    /// Per edge slot: its node slots, the key of its entry in `edges`.
    edge_ends: Vec<(u32, u32)>,
    anchor_ms: Option<u64>,
    /// Keyed by the response's id, shared with the alignment log and the sources lists (one
    /// copy per answer rather than one per place that names it).
    contributions: FxMap<Arc<ResponseId>, Contribution>,
    alignment: Alignment,
    previous: Previous,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new(config: GraphConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::empty(config))
    }

    /// An empty builder with a configuration already checked.
    fn empty(config: GraphConfig) -> Self {
        Self {
            config,
            slots: Default::default(),
            keys: Vec::new(),
            nodes: Vec::new(),
            sources: Vec::new(),
            edges: FxMap::default(),
            edge_ends: Vec::new(),
            anchor_ms: None,
            contributions: FxMap::default(),
            alignment: Alignment::default(),
            previous: Previous::default(),
        }
    }

    /// Takes in what the vault's change feed reports (see `Vault::changed_since`): a report of
    /// everything starts the builder afresh.
    pub fn apply(&mut self, changes: &Changes) {
        if changes.everything {
            *self = Self::empty(self.config.clone());
        }
        for id in &changes.gone {
            self.remove(id);
        }
        self.add(&changes.responses);
    }

    /// The configuration.
    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// Responses currently contributing.
    pub fn len(&self) -> usize {
        self.contributions.len()
    }

    /// Whether no response contributes.
    pub fn is_empty(&self) -> bool {
        self.contributions.is_empty()
    }

    /// Adds a batch. A response whose id is already known replaces the earlier one unless its
    /// `updated` clock is older; one that is not answered only removes what its id held.
    pub fn add(&mut self, batch: &[Response]) {
        if let Some(max) = batch.iter().map(|r| r.content.created_ms).max() {
            self.move_anchor(max);
        }
        self.contributions.reserve(batch.len());
        // One scratch list of explicit topics for the whole batch rather than one per answer.
        let mut explicit = Vec::new();
        for r in batch {
            if let Some(old) = self.contributions.get(&r.id) {
                if r.updated < old.updated {
                    continue;
                }
                self.remove(&r.id);
            }
            self.insert(r, &mut explicit);
        }
    }

    /// Takes one response's contribution out (a deleted answer). Returns whether it was there.
    pub fn remove(&mut self, id: &ResponseId) -> bool {
        let Some((id, c)) = self.contributions.remove_entry(id) else {
            return false;
        };
        let v = self.unit(c.created_ms);
        let built = self.previous.built;
        for (i, &n) in c.nodes.iter().enumerate() {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.sub(v);
                if i < c.pinned {
                    acc.pinned = acc.pinned.saturating_sub(1);
                }
            }
            if built {
                self.previous.changed.insert(n);
            }
            if let Some(src) = self.sources.get_mut(n as usize) {
                src.remove(&id);
            }
        }
        for ends in &c.edges {
            if let Some(edge) = self.edges.get_mut(ends) {
                (edge.count, edge.scaled) = taken(edge.count, edge.scaled, v);
                if built {
                    self.previous.dirty.insert(edge.slot);
                }
            }
        }
        if built {
            self.alignment.remove(c.created_ms, &id, &c.event);
        }
        true
    }

    /// The alignment log's input: each answer's time, id and event.
    fn answers(&self) -> impl Iterator<Item = (u64, &Arc<ResponseId>, Event)> + '_ {
        let answers = self.contributions.iter();
        answers.map(|(id, c)| (c.created_ms, id, c.event))
    }

    /// Alignment metrics per agent and per `period` (UTC days, or weeks from Monday): for each
    /// agent, one point per period that holds at least one of its answers, oldest first. The
    /// definitions are those of [`KnowledgeGraph::metrics`](crate::KnowledgeGraph::metrics),
    /// applied to the answers given in the period; "the previous answer" of an agent and "the
    /// first preference answer" look across periods, so the counts of an agent's points add up
    /// to its totals (see [`crate::metrics`]).
    pub fn alignment_series(&self, period: Period) -> BTreeMap<String, Vec<SeriesPoint>> {
        let keys = &self.keys;
        let name = |s: u32| keys.get(s as usize).map(|k| k.label.as_str());
        if self.previous.built {
            self.alignment.series(period, name)
        } else {
            Alignment::from_answers(self.answers()).series(period, name)
        }
    }
}
