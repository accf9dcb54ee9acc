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
//! per edge of `w * 2 ^ ((created_ms - anchor) / half_life)`, with `anchor` the latest
//! `created_ms` seen (sums are rescaled when it moves), so strengths at any `now_ms` are one
//! factor away. Adding a response whose id is already known replaces the old contribution when
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
//! changed in between, plus a few linear passes to write the graph out:
//!
//! - **Nodes and edges.** The canonical node order and edge list are patched: nodes and edges
//!   that came are merged in, those that left are dropped, and the edges whose answers changed
//!   are read again. Node and edge values are those of a full rebuild.
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

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use selfos_vault::{Answer, CardKind, Hlc, Response, ResponseId, Status};

use crate::{
    adjacency::Adjacency,
    community,
    error::ConfigError,
    graph::{Edge, KnowledgeGraph, Node, NodeKey, NodeKind},
    hash::FxMap,
    metrics::{Alignment, Event, Period, SeriesPoint},
    pagerank, topics,
};

/// Thirty days, the default half-life of a node's strength.
pub const DEFAULT_HALF_LIFE_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// How the graph is built.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GraphConfig {
    /// Half-life of an answer's weight, in ms (default 30 days).
    pub half_life_ms: u64,
    /// Answers that must name an extracted topic before it becomes a node (default 2).
    pub min_topic_support: u32,
    /// Terms extracted from one response's text (default 4).
    pub max_terms_per_response: usize,
    /// Topics kept per response, explicit ones first (default 12).
    pub max_topics_per_response: usize,
    /// PageRank damping factor (default 0.85).
    pub damping: f64,
    /// PageRank iteration cap (default 40).
    pub pagerank_iterations: usize,
    /// PageRank stops when the L1 change of an iteration is below this (default 1e-9).
    pub pagerank_tolerance: f64,
    /// Topics, strongest first, whose sources are collected for snippets (default 16).
    pub snippet_topics: usize,
}

impl GraphConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self {
            half_life_ms: DEFAULT_HALF_LIFE_MS,
            min_topic_support: 2,
            max_terms_per_response: 4,
            max_topics_per_response: 12,
            damping: 0.85,
            pagerank_iterations: 40,
            pagerank_tolerance: 1e-9,
            snippet_topics: 16,
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.half_life_ms == 0 {
            return Err(ConfigError::HalfLife);
        }
        if !(0.0..1.0).contains(&self.damping) {
            return Err(ConfigError::Damping(self.damping));
        }
        if self.pagerank_iterations == 0
            || !self.pagerank_tolerance.is_finite()
            || self.pagerank_tolerance < 0.0
        {
            return Err(ConfigError::PageRank);
        }
        Ok(())
    }
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Running sum for one node or edge.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    /// Answers supporting it.
    count: u32,
    /// Answers supporting it through an explicit topic (nodes only).
    pinned: u32,
    /// `Σ w * 2^((created_ms - anchor) / half_life)`.
    scaled: f64,
}

impl Acc {
    fn add(&mut self, v: f64) {
        (self.count, self.scaled) = added(self.count, self.scaled, v);
    }

    fn sub(&mut self, v: f64) {
        (self.count, self.scaled) = taken(self.count, self.scaled, v);
    }
}

/// A running sum with one more answer of unit `v`.
fn added(count: u32, scaled: f64, v: f64) -> (u32, f64) {
    (count + 1, scaled + v)
}

/// A running sum with one answer of unit `v` taken out; the sum is reset once no answer is
/// left, so that removals leave no rounding residue behind.
fn taken(count: u32, scaled: f64, v: f64) -> (u32, f64) {
    let count = count.saturating_sub(1);
    (count, if count == 0 { 0.0 } else { scaled - v })
}

/// One edge: its node slots (smaller first) and its running sum; absent from the graph while
/// `count == 0`.
#[derive(Debug, Clone, Copy)]
struct EdgeAcc {
    ends: (u32, u32),
    acc: Acc,
}

/// An edge's entry in the map by its ends: its slot, and its running sum kept beside the key so
/// that adding an answer reaches each of its edges in one cache miss. The sum is spelled out
/// rather than an [`Acc`] (whose `pinned` edges do not use) to keep an entry, key included, at
/// 24 bytes.
#[derive(Debug, Clone, Copy)]
struct EdgeEntry {
    slot: u32,
    count: u32,
    scaled: f64,
}

impl EdgeEntry {
    fn acc(&self) -> Acc {
        Acc {
            count: self.count,
            pinned: 0,
            scaled: self.scaled,
        }
    }
}

/// What one response added, so it can be taken out again.
#[derive(Debug, Clone)]
struct Contribution {
    updated: Hlc,
    created_ms: u64,
    /// Supported node slots; the first `pinned` are explicit topics.
    nodes: Vec<u32>,
    pinned: usize,
    /// Supported edges, by their node slots (smaller first).
    edges: Vec<(u32, u32)>,
    event: Event,
}

/// The answers behind one preference or topic node, which snippets cite.
#[derive(Debug, Clone, Default)]
struct Sources {
    /// Whether `ids` holds every answer behind the node. A node created before the first build
    /// is gathered when a build first cites it, in one pass over the answers for all such nodes
    /// (most are never cited); from then on `ids` follows the answers that come and go.
    gathered: bool,
    ids: Vec<Arc<ResponseId>>,
    /// `ids` sorted, as handed to the last build that cited them; `None` once they change.
    cited: Option<Arc<[ResponseId]>>,
}

/// An edge the last build listed: its slot, and a copy of its ends and running sum, kept
/// rescaled with the original, so a build reads the list in order instead of jumping around the
/// edge slots; the copies of edges answers changed are refreshed by the next build.
#[derive(Debug, Clone, Copy)]
struct Listed {
    slot: u32,
    edge: EdgeAcc,
}

/// What one build leaves to the next, so that the next costs what changed in between.
#[derive(Debug, Clone, Default)]
struct Previous {
    /// Whether a build ran. Until one has, nothing is recorded for it: the first build starts
    /// from scratch, and fills the alignment log and the sources in one pass.
    built: bool,
    /// Live node slots in canonical order.
    live: Vec<u32>,
    /// Visible edges in canonical order.
    edges: Vec<Listed>,
    /// Per edge slot: whether it is in `edges`.
    listed: Vec<bool>,
    /// Edge slots whose answers changed since, each once (`is_dirty` per slot).
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
    /// The adjacency rows built last, kept for their memory.
    adjacency: Adjacency,
    /// Per node slot: its PageRank, 0 when it was not in the graph.
    rank: Vec<f64>,
    /// Per node slot: its community label, as the slot of the node the label started from;
    /// `u32::MAX` when it was not in the graph.
    label: Vec<u32>,
    /// Node slots label propagation still had queued when its rounds ran out.
    unsettled: Vec<u32>,
    /// Node slots whose answers changed since, each once (`is_changed` per slot).
    changed: Vec<u32>,
    is_changed: Vec<bool>,
}

/// Builds [`KnowledgeGraph`]s from batches of responses.
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
        Ok(Self {
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
        })
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
                self.touch(n);
            }
            if let Some(src) = self.sources.get_mut(n as usize)
                && src.gathered
                && let Some(at) = src.ids.iter().position(|x| Arc::ptr_eq(x, &id))
            {
                src.ids.remove(at);
                src.cited = None;
            }
        }
        for ends in &c.edges {
            if let Some(edge) = self.edges.get_mut(ends) {
                (edge.count, edge.scaled) = taken(edge.count, edge.scaled, v);
                if built {
                    touch_edge(&mut self.previous, edge.slot);
                }
            }
        }
        if built {
            self.alignment.remove(c.created_ms, &id, &c.event);
        }
        true
    }

    /// `2^((t - anchor) / half_life)`.
    fn unit(&self, t: u64) -> f64 {
        let anchor = self.anchor_ms.unwrap_or(t);
        let diff = t as f64 - anchor as f64;
        (diff / self.config.half_life_ms as f64).exp2()
    }

    fn move_anchor(&mut self, t: u64) {
        match self.anchor_ms {
            Some(a) if a >= t => {}
            Some(a) => {
                let f = ((a as f64 - t as f64) / self.config.half_life_ms as f64).exp2();
                self.nodes.iter_mut().for_each(|x| x.scaled *= f);
                self.edges.values_mut().for_each(|x| x.scaled *= f);
                // The same product as the original's, so an unchanged copy stays equal to it.
                let listed = self.previous.edges.iter_mut();
                listed.for_each(|x| x.edge.acc.scaled *= f);
                self.anchor_ms = Some(t);
            }
            None => self.anchor_ms = Some(t),
        }
    }

    fn slot(&mut self, kind: NodeKind, label: &str) -> u32 {
        let map = &mut self.slots[kind_index(kind)];
        if let Some(&s) = map.get(label) {
            return s;
        }
        let s = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(NodeKey::new(kind, label));
        self.nodes.push(Acc::default());
        self.sources.push(Sources {
            gathered: self.previous.built,
            ..Sources::default()
        });
        self.previous.is_changed.push(false);
        map.insert(label.to_owned(), s);
        s
    }

    /// The alignment log's input: each answer's time, id and event.
    fn answers(&self) -> impl Iterator<Item = (u64, &Arc<ResponseId>, Event)> + '_ {
        let answers = self.contributions.iter();
        answers.map(|(id, c)| (c.created_ms, id, c.event))
    }

    /// Notes that a node's answers changed, for the next build.
    fn touch(&mut self, slot: u32) {
        let p = &mut self.previous;
        if let Some(flag) = p.is_changed.get_mut(slot as usize)
            && !*flag
        {
            *flag = true;
            p.changed.push(slot);
        }
    }

    fn insert<'a>(&mut self, r: &'a Response, explicit: &mut Vec<Cow<'a, str>>) {
        let c = &r.content;
        if c.status != Status::Answered || c.answer.is_none() {
            return;
        }
        let agent = (!c.agent.is_empty()).then(|| self.slot(NodeKind::Agent, label(&c.agent)));
        let card = self.slot(NodeKind::Card, label(&c.card_id));
        let pref = match (&c.card_kind, &c.answer) {
            (CardKind::Preference, Some(Answer::Choice(v))) => {
                let dim = c.card_id.strip_prefix("pref.").unwrap_or(&c.card_id);
                Some(self.slot(NodeKind::Preference, label(&format!("{dim}={v}"))))
            }
            _ => None,
        };
        // Topics: explicit first, then extracted.
        let max = self.config.max_topics_per_response;
        explicit.clear();
        explicit.extend(c.context.topics.iter().filter_map(|t| topics::normalize(t)));
        explicit.sort();
        explicit.dedup();
        explicit.truncate(max);
        let text_answer = match &c.answer {
            Some(Answer::Text(t)) => Some(t.as_str()),
            _ => None,
        };
        let texts = c
            .context
            .prompt_excerpt
            .as_deref()
            .into_iter()
            .chain(text_answer);
        let mut extracted: Vec<String> = topics::extract(texts, self.config.max_terms_per_response)
            .into_iter()
            .map(|(t, _)| t)
            .filter(|t| {
                explicit
                    .binary_search_by(|e| e.as_ref().cmp(t.as_str()))
                    .is_err()
            })
            .collect();
        extracted.truncate(max.saturating_sub(explicit.len()));
        let pinned = explicit.len();
        let mut nodes = Vec::with_capacity(pinned + extracted.len() + 3);
        nodes.extend(explicit.iter().map(|t| self.slot(NodeKind::Topic, t)));
        nodes.extend(extracted.iter().map(|t| self.slot(NodeKind::Topic, t)));
        let n_topics = nodes.len();
        // Sized exactly: kept in the contribution, and never grown while filled.
        let mut pairs =
            Vec::with_capacity(n_topics * n_topics.saturating_sub(1) / 2 + n_topics + 2);
        for i in 0..n_topics {
            for j in i + 1..n_topics {
                pairs.push(pair(nodes[i], nodes[j]));
            }
        }
        if let Some(ag) = agent {
            pairs.push(pair(card, ag));
            if let Some(p) = pref {
                pairs.push(pair(p, ag));
            }
            pairs.extend(nodes[..n_topics].iter().map(|&t| pair(t, ag)));
        }
        nodes.push(card);
        nodes.extend(pref);
        nodes.extend(agent);
        let v = self.unit(c.created_ms);
        let id = Arc::new(r.id.clone());
        let built = self.previous.built;
        for (i, &n) in nodes.iter().enumerate() {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.add(v);
                if i < pinned {
                    acc.pinned += 1;
                }
            }
            if built {
                self.touch(n);
            }
            if let Some(src) = self.sources.get_mut(n as usize)
                && src.gathered
            {
                src.ids.push(Arc::clone(&id));
                src.cited = None;
            }
        }
        for &ends in &pairs {
            let list = &mut self.edge_ends;
            let edge = self.edges.entry(ends).or_insert_with(|| {
                list.push(ends);
                EdgeEntry {
                    slot: u32::try_from(list.len() - 1).unwrap_or(u32::MAX),
                    count: 0,
                    scaled: 0.0,
                }
            });
            (edge.count, edge.scaled) = added(edge.count, edge.scaled, v);
            if built {
                touch_edge(&mut self.previous, edge.slot);
            }
        }
        let event = Event {
            agent,
            kind: c.card_kind,
            card,
            rating: match c.answer {
                Some(Answer::Rating(x)) if c.card_kind == CardKind::Rating => Some(x),
                _ => None,
            },
        };
        if built {
            self.alignment.insert(c.created_ms, &id, event);
        }
        self.contributions.insert(
            id,
            Contribution {
                updated: r.updated,
                created_ms: c.created_ms,
                nodes,
                pinned,
                edges: pairs,
                event,
            },
        );
    }

    /// Builds the graph as of `now_ms`: strengths, edge weights, PageRank, communities,
    /// metrics and the sources of the nodes that snippets use. Takes `&mut self` because the
    /// builder keeps what this build found for the next one (see the module docs).
    pub fn build(&mut self, now_ms: u64) -> KnowledgeGraph {
        if !self.previous.built {
            self.alignment = Alignment::from_answers(self.answers());
            self.previous.built = true;
        }
        let factor = match self.anchor_ms {
            Some(a) => ((a as f64 - now_ms as f64) / self.config.half_life_ms as f64).exp2(),
            None => 1.0,
        };
        let (live, arrived) = self.live_nodes();
        let n = live.len();
        let mut index = vec![u32::MAX; self.nodes.len()];
        for (i, &s) in live.iter().enumerate() {
            index[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
        }
        let (order, moved) = self.visible_edges(&index, arrived);
        let edges: Vec<Edge> = order
            .iter()
            .map(|l| {
                let EdgeAcc { ends: (a, b), acc } = l.edge;
                let (ia, ib) = (index[a as usize] as usize, index[b as usize] as usize);
                Edge {
                    source: ia.min(ib),
                    target: ia.max(ib),
                    weight: decayed(acc.scaled, factor),
                    support: acc.count,
                }
            })
            .collect();
        let mut adj = std::mem::take(&mut self.previous.adjacency);
        adj.set_undirected(
            n,
            edges.iter().map(|e| {
                let end = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
                (end(e.source), end(e.target), e.weight)
            }),
        );

        // Strengths scale by one factor per build, which leaves PageRank's fixed point where it
        // was: start from the previous ranks (new nodes from 1/n) and let the tolerance stop it.
        let prev = &self.previous;
        let start = live
            .iter()
            .map(|&s| {
                prev.rank
                    .get(s as usize)
                    .copied()
                    .filter(|&r| r > 0.0)
                    .unwrap_or(1.0 / n as f64)
            })
            .collect();
        let cfg = &self.config;
        let rank = pagerank::page_rank_undirected(
            &adj,
            start,
            cfg.damping,
            cfg.pagerank_iterations,
            cfg.pagerank_tolerance,
        );
        let (labels, unsettled) = self.communities(&live, &index, &adj, &moved);
        let communities = community::renumber(&labels);

        let nodes: Vec<Node> = live
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let acc = self.nodes[s as usize];
                Node {
                    key: self.keys[s as usize].clone(),
                    strength: decayed(acc.scaled, factor),
                    support: acc.count,
                    pagerank: rank[i],
                    community: communities[i],
                }
            })
            .collect();
        let sources = self.cited(&live, &nodes);
        let keys = &self.keys;
        let metrics = self
            .alignment
            .metrics(|s| keys.get(s as usize).map(|k| k.label.as_str()));

        let prev = &mut self.previous;
        prev.rank = vec![0.0; self.nodes.len()];
        prev.label = vec![u32::MAX; self.nodes.len()];
        for (i, &s) in live.iter().enumerate() {
            prev.rank[s as usize] = rank[i];
            prev.label[s as usize] = live[labels[i] as usize];
        }
        prev.unsettled = unsettled.into_iter().map(|i| live[i]).collect();
        for s in prev.changed.drain(..) {
            prev.is_changed[s as usize] = false;
        }
        prev.live = live;
        prev.edges = order;
        prev.adjacency = adj;
        KnowledgeGraph::new(nodes, edges, metrics, sources, now_ms)
    }

    /// Live node slots in canonical (key) order: the previous build's, less those that left,
    /// plus those that came; and whether any came.
    fn live_nodes(&self) -> (Vec<u32>, bool) {
        let min_support = self.config.min_topic_support;
        let alive = |s: u32| {
            let acc = self.nodes[s as usize];
            acc.count > 0
                && (self.keys[s as usize].kind != NodeKind::Topic
                    || acc.pinned > 0
                    || acc.count >= min_support)
        };
        let prev = &self.previous.live;
        let mut was = vec![false; self.nodes.len()];
        prev.iter().for_each(|&s| was[s as usize] = true);
        let mut live: Vec<u32> = prev.iter().copied().filter(|&s| alive(s)).collect();
        let kept = live.len();
        live.extend(
            (0..self.nodes.len())
                .filter_map(|s| u32::try_from(s).ok())
                .filter(|&s| !was[s as usize] && alive(s)),
        );
        let arrived = live.len() > kept;
        // A stable sort finds the kept slots as one sorted run: merging in the new ones is
        // linear.
        live.sort_by(|&a, &b| self.keys[a as usize].cmp(&self.keys[b as usize]));
        (live, arrived)
    }

    /// Visible edges (supported, both ends live) in canonical order: the previous build's list,
    /// refreshed where answers changed, less those that left, merged with those that came; and
    /// the node slots at the ends of the edges that came or left. Only when a node `arrived`
    /// can an edge no answer changed come, and only then are all edge slots scanned.
    fn visible_edges(&mut self, index: &[u32], arrived: bool) -> (Vec<Listed>, Vec<u32>) {
        let (edges, ends) = (&self.edges, &self.edge_ends);
        let prev = &mut self.previous;
        let edge = |ends: (u32, u32)| EdgeAcc {
            ends,
            acc: edges.get(&ends).map_or_else(Acc::default, EdgeEntry::acc),
        };
        let visible = |e: &EdgeAcc| {
            let (a, b) = e.ends;
            e.acc.count > 0 && index[a as usize] != u32::MAX && index[b as usize] != u32::MAX
        };
        // Node indices keep their relative order from build to build, so the kept edges stay
        // sorted by this key.
        let key = |l: &Listed| {
            let (a, b) = l.edge.ends;
            let (ia, ib) = (index[a as usize], index[b as usize]);
            (u64::from(ia.min(ib)) << 32) | u64::from(ia.max(ib))
        };
        prev.listed.resize(ends.len(), false);
        prev.is_dirty.resize(ends.len(), false);
        let mut moved = Vec::new();
        let mut kept = std::mem::take(&mut prev.edges);
        kept.retain_mut(|l| {
            if prev.is_dirty[l.slot as usize] {
                l.edge = edge(l.edge.ends);
            }
            let keep = visible(&l.edge);
            if !keep {
                prev.listed[l.slot as usize] = false;
                moved.extend([l.edge.ends.0, l.edge.ends.1]);
            }
            keep
        });
        let candidates: Box<dyn Iterator<Item = Listed>> = if arrived {
            Box::new(edges.iter().map(|(&ends, e)| Listed {
                slot: e.slot,
                edge: EdgeAcc { ends, acc: e.acc() },
            }))
        } else {
            Box::new(prev.dirty.iter().map(|&e| Listed {
                slot: e,
                edge: edge(ends[e as usize]),
            }))
        };
        let mut came: Vec<Listed> = candidates
            .filter(|l| !prev.listed[l.slot as usize] && visible(&l.edge))
            .collect();
        for l in &came {
            prev.listed[l.slot as usize] = true;
            moved.extend([l.edge.ends.0, l.edge.ends.1]);
        }
        for e in prev.dirty.drain(..) {
            prev.is_dirty[e as usize] = false;
        }
        came.sort_unstable_by_key(key);
        let mut order = Vec::with_capacity(kept.len() + came.len());
        let mut came = came.into_iter().peekable();
        for l in kept {
            let k = key(&l);
            order.extend(std::iter::from_fn(|| came.next_if(|c| key(c) < k)));
            order.push(l);
        }
        order.extend(came);
        (order, moved)
    }

    /// Community labels (as node indices) by label propagation from the previous build's
    /// labels, queueing the nodes around a change; and the nodes still queued at the end.
    fn communities(
        &self,
        live: &[u32],
        index: &[u32],
        adj: &Adjacency,
        moved: &[u32],
    ) -> (Vec<u32>, Vec<usize>) {
        let prev = &self.previous;
        let at = |s: u32| {
            index
                .get(s as usize)
                .copied()
                .filter(|&i| i != u32::MAX)
                .map(|i| i as usize)
        };
        let skip: Vec<bool> = live
            .iter()
            .map(|&s| self.keys[s as usize].kind == NodeKind::Agent)
            .collect();
        let mut queued: Vec<usize> = prev
            .changed
            .iter()
            .chain(moved)
            .chain(&prev.unsettled)
            .filter_map(|&s| at(s))
            .collect();
        let mut labels = Vec::with_capacity(live.len());
        for (i, &s) in live.iter().enumerate() {
            let kept = prev.label.get(s as usize).and_then(|&l| at(l));
            match kept {
                Some(l) if !skip[i] => labels.push(u32::try_from(l).unwrap_or(u32::MAX)),
                _ => {
                    // New, an agent, or its label's first node left: its own label, which
                    // its neighbours have not seen yet.
                    labels.push(u32::try_from(i).unwrap_or(u32::MAX));
                    if !skip[i] {
                        queued.push(i);
                        queued.extend(adj.row(i).0.iter().map(|&j| j as usize));
                    }
                }
            }
        }
        let unsettled = community::propagate(adj, &skip, &mut labels, queued);
        (labels, unsettled)
    }

    /// The sources of the preferences and the strongest topics, by node index: sorted once per
    /// change, shared from then on.
    fn cited(&mut self, live: &[u32], nodes: &[Node]) -> BTreeMap<usize, Arc<[ResponseId]>> {
        let mut topics: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i].key.kind == NodeKind::Topic)
            .collect();
        topics.sort_by(|&a, &b| {
            nodes[b]
                .strength
                .total_cmp(&nodes[a].strength)
                .then(a.cmp(&b))
        });
        topics.truncate(self.config.snippet_topics);
        let preferences = (0..nodes.len()).filter(|&i| nodes[i].key.kind == NodeKind::Preference);
        let wanted: Vec<usize> = topics.into_iter().chain(preferences).collect();
        let mut gather = vec![false; self.sources.len()];
        for &i in &wanted {
            if let Some(src) = self.sources.get_mut(live[i] as usize)
                && !src.gathered
            {
                src.gathered = true;
                gather[live[i] as usize] = true;
            }
        }
        if gather.contains(&true) {
            for (id, c) in &self.contributions {
                for &n in &c.nodes {
                    if gather[n as usize] {
                        let src = &mut self.sources[n as usize];
                        src.ids.push(Arc::clone(id));
                        src.cited = None;
                    }
                }
            }
        }
        wanted
            .into_iter()
            .filter_map(|i| {
                let src = self.sources.get_mut(live[i] as usize)?;
                let ids = src.cited.get_or_insert_with(|| {
                    src.ids.sort();
                    src.ids.iter().map(|id| ResponseId::clone(id)).collect()
                });
                Some((i, Arc::clone(ids)))
            })
            .collect()
    }

    /// Alignment metrics per agent and per `period` (UTC days, or weeks from Monday): for each
    /// agent, one point per period that holds at least one of its answers, oldest first. The
    /// definitions are those of [`KnowledgeGraph::metrics`], applied to the answers given in
    /// the period; "the previous answer" of an agent and "the first preference answer" look
    /// across periods, so the counts of an agent's points add up to its totals (see
    /// [`crate::metrics`]).
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

/// A running sum brought to `now`: never negative (removals leave rounding residue), never
/// infinite (a `now_ms` thousands of half-lives before the answers would overflow).
fn decayed(scaled: f64, factor: f64) -> f64 {
    if scaled > 0.0 {
        (scaled * factor).min(f64::MAX)
    } else {
        0.0
    }
}

/// Notes that an edge's answers changed, for the next build.
fn touch_edge(p: &mut Previous, slot: u32) {
    if p.is_dirty.len() <= slot as usize {
        p.is_dirty.resize(slot as usize + 1, false);
    }
    if !p.is_dirty[slot as usize] {
        p.is_dirty[slot as usize] = true;
        p.dirty.push(slot);
    }
}

fn pair(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// `s` cut to `2 * MAX_LABEL_CHARS` characters.
fn label(s: &str) -> &str {
    match s.char_indices().nth(topics::MAX_LABEL_CHARS * 2) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn kind_index(kind: NodeKind) -> usize {
    match kind {
        NodeKind::Agent => 0,
        NodeKind::Card => 1,
        NodeKind::Preference => 2,
        NodeKind::Topic => 3,
    }
}
