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
//! `created_ms` seen (sums are rescaled when it moves), so [`GraphBuilder::build`] multiplies by
//! one factor per node and never revisits answers for the graph itself (metrics and snippet
//! sources take one pass over the stored contributions). Adding a response whose
//! id is already known replaces the old contribution when its `updated` clock is not older (an
//! edit); [`GraphBuilder::remove`] takes one out (a delete). Adding answers in any batches gives
//! the same graph as one full rebuild, up to float rounding.
//!
//! Extracted (not explicit) topics become nodes once `min_topic_support` answers name them; this
//! is decided in `build`, so it stays batch-independent.

use std::{borrow::Cow, collections::BTreeMap};

use selfos_vault::{Answer, CardKind, Hlc, Response, ResponseId, Status};

use crate::{
    community,
    error::ConfigError,
    graph::{Edge, KnowledgeGraph, Node, NodeKey, NodeKind},
    hash::FxMap,
    metrics::{self, Event, Period, SeriesPoint},
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

/// What one response added, so it can be taken out again.
#[derive(Debug, Clone)]
struct Contribution {
    updated: Hlc,
    created_ms: u64,
    /// Supported node slots; the first `pinned` are explicit topics.
    nodes: Vec<u32>,
    pinned: usize,
    edges: Vec<(u32, u32)>,
    event: Event,
}

/// Builds [`KnowledgeGraph`]s from batches of responses.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    config: GraphConfig,
    /// Node slots by label, one map per kind (indexed by `kind_index`).
    slots: [FxMap<String, u32>; 4],
    keys: Vec<NodeKey>,
    nodes: Vec<Acc>,
    edges: FxMap<(u32, u32), Acc>,
    anchor_ms: Option<u64>,
    contributions: FxMap<ResponseId, Contribution>,
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
            edges: FxMap::default(),
            anchor_ms: None,
            contributions: FxMap::default(),
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
        for r in batch {
            if let Some(old) = self.contributions.get(&r.id) {
                if r.updated < old.updated {
                    continue;
                }
                self.remove(&r.id);
            }
            self.insert(r);
        }
    }

    /// Takes one response's contribution out (a deleted answer). Returns whether it was there.
    pub fn remove(&mut self, id: &ResponseId) -> bool {
        let Some(c) = self.contributions.remove(id) else {
            return false;
        };
        let v = self.unit(c.created_ms);
        for &n in &c.nodes {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.count = acc.count.saturating_sub(1);
                acc.scaled -= v;
            }
        }
        for &n in c.nodes.get(..c.pinned).unwrap_or_default() {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.pinned = acc.pinned.saturating_sub(1);
            }
        }
        for e in &c.edges {
            if let Some(acc) = self.edges.get_mut(e) {
                acc.count = acc.count.saturating_sub(1);
                acc.scaled -= v;
                if acc.count == 0 {
                    self.edges.remove(e);
                }
            }
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
        map.insert(label.to_owned(), s);
        s
    }

    fn insert(&mut self, r: &Response) {
        let c = &r.content;
        if c.status != Status::Answered || c.answer.is_none() {
            return;
        }
        let agent = (!c.agent.is_empty()).then(|| self.slot(NodeKind::Agent, label(&c.agent)));
        let card = self.slot(NodeKind::Card, label(&c.card_id));
        let mut edges = Vec::with_capacity(16);
        let pref = match (&c.card_kind, &c.answer) {
            (CardKind::Preference, Some(Answer::Choice(v))) => {
                let dim = c.card_id.strip_prefix("pref.").unwrap_or(&c.card_id);
                Some(self.slot(NodeKind::Preference, label(&format!("{dim}={v}"))))
            }
            _ => None,
        };
        // Topics: explicit first, then extracted.
        let max = self.config.max_topics_per_response;
        let mut explicit: Vec<Cow<'_, str>> = c
            .context
            .topics
            .iter()
            .filter_map(|t| topics::normalize(t))
            .collect();
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
        for i in 0..n_topics {
            for j in i + 1..n_topics {
                edges.push(pair(nodes[i], nodes[j]));
            }
        }
        if let Some(ag) = agent {
            edges.push(pair(card, ag));
            if let Some(p) = pref {
                edges.push(pair(p, ag));
            }
            edges.extend(nodes[..n_topics].iter().map(|&t| pair(t, ag)));
        }
        nodes.push(card);
        nodes.extend(pref);
        nodes.extend(agent);
        let v = self.unit(c.created_ms);
        for &n in &nodes {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.count += 1;
                acc.scaled += v;
            }
        }
        for &n in &nodes[..pinned] {
            if let Some(acc) = self.nodes.get_mut(n as usize) {
                acc.pinned += 1;
            }
        }
        for e in &edges {
            let acc = self.edges.entry(*e).or_default();
            acc.count += 1;
            acc.scaled += v;
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
        self.contributions.insert(
            r.id.clone(),
            Contribution {
                updated: r.updated,
                created_ms: c.created_ms,
                nodes,
                pinned,
                edges,
                event,
            },
        );
    }

    /// Builds the graph as of `now_ms`: strengths, edge weights, PageRank, communities,
    /// metrics and the sources of the nodes that snippets use.
    pub fn build(&self, now_ms: u64) -> KnowledgeGraph {
        let cfg = &self.config;
        let factor = match self.anchor_ms {
            Some(a) => ((a as f64 - now_ms as f64) / cfg.half_life_ms as f64).exp2(),
            None => 1.0,
        };
        // Live nodes in canonical (key) order.
        let mut live: Vec<u32> = (0..self.nodes.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter(|&s| {
                let acc = self.nodes[s as usize];
                let key = &self.keys[s as usize];
                acc.count > 0
                    && (key.kind != NodeKind::Topic
                        || acc.pinned > 0
                        || acc.count >= cfg.min_topic_support)
            })
            .collect();
        live.sort_by(|&a, &b| self.keys[a as usize].cmp(&self.keys[b as usize]));
        let mut index = vec![u32::MAX; self.nodes.len()];
        for (i, &s) in live.iter().enumerate() {
            index[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
        }
        let mut edges: Vec<(u32, u32, f64, u32)> = self
            .edges
            .iter()
            .filter_map(|(&(a, b), acc)| {
                let (ia, ib) = (*index.get(a as usize)?, *index.get(b as usize)?);
                (ia != u32::MAX && ib != u32::MAX && acc.count > 0).then(|| {
                    (
                        ia.min(ib),
                        ia.max(ib),
                        decayed(acc.scaled, factor),
                        acc.count,
                    )
                })
            })
            .collect();
        edges.sort_unstable_by_key(|x| (x.0, x.1));

        let n = live.len();
        let directed: Vec<(u32, u32, f64)> = edges
            .iter()
            .flat_map(|&(a, b, w, _)| [(a, b, w), (b, a, w)])
            .collect();
        let rank = pagerank::page_rank(
            n,
            &directed,
            cfg.damping,
            cfg.pagerank_iterations,
            cfg.pagerank_tolerance,
        );
        let skip: Vec<bool> = live
            .iter()
            .map(|&s| self.keys[s as usize].kind == NodeKind::Agent)
            .collect();
        let undirected: Vec<(usize, usize, f64)> = edges
            .iter()
            .map(|&(a, b, w, _)| (a as usize, b as usize, w))
            .collect();
        let communities = community::label_propagation(n, &undirected, &skip);

        let nodes: Vec<Node> = live
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let acc = self.nodes[s as usize];
                Node {
                    key: self.keys[s as usize].clone(),
                    strength: decayed(acc.scaled, factor),
                    support: acc.count,
                    pagerank: rank.get(i).copied().unwrap_or(0.0),
                    community: communities.get(i).copied().unwrap_or(0),
                }
            })
            .collect();
        let edges: Vec<Edge> = edges
            .into_iter()
            .map(|(a, b, weight, support)| Edge {
                source: a as usize,
                target: b as usize,
                weight,
                support,
            })
            .collect();

        // Sources for preferences and the strongest topics.
        let mut topics: Vec<usize> = (0..n)
            .filter(|&i| nodes[i].key.kind == NodeKind::Topic)
            .collect();
        topics.sort_by(|&a, &b| {
            nodes[b]
                .strength
                .total_cmp(&nodes[a].strength)
                .then(a.cmp(&b))
        });
        topics.truncate(cfg.snippet_topics);
        let mut wanted = vec![false; n];
        topics.iter().for_each(|&i| wanted[i] = true);
        (0..n)
            .filter(|&i| nodes[i].key.kind == NodeKind::Preference)
            .for_each(|i| wanted[i] = true);
        let mut sources: BTreeMap<usize, Vec<ResponseId>> = BTreeMap::new();
        for (id, c) in &self.contributions {
            for &s in &c.nodes {
                let i = index.get(s as usize).copied().unwrap_or(u32::MAX) as usize;
                if wanted.get(i).copied().unwrap_or(false) {
                    sources.entry(i).or_default().push(id.clone());
                }
            }
        }
        sources.values_mut().for_each(|v| v.sort());

        let events = self.events();
        let metrics = metrics::compute(events.iter().copied(), |s| self.name(s));
        KnowledgeGraph::new(nodes, edges, metrics, sources, now_ms)
    }

    /// Alignment metrics per agent and per `period` (UTC days, or weeks from Monday): for each
    /// agent, one point per period that holds at least one of its answers, oldest first. The
    /// definitions are those of [`KnowledgeGraph::metrics`], applied to the answers given in
    /// the period; "the previous answer" of an agent and "the first preference answer" look
    /// across periods, so the counts of an agent's points add up to its totals (see
    /// [`crate::metrics`]).
    pub fn alignment_series(&self, period: Period) -> BTreeMap<String, Vec<SeriesPoint>> {
        let events = self.events();
        metrics::series(events.iter().copied(), period, |s| self.name(s))
    }

    /// What the metrics read, in `(created_ms, id)` order.
    fn events(&self) -> Vec<(u64, &Event)> {
        let mut events: Vec<(u64, &ResponseId, &Event)> = self
            .contributions
            .iter()
            .map(|(id, c)| (c.created_ms, id, &c.event))
            .collect();
        events.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        events.into_iter().map(|(t, _, e)| (t, e)).collect()
    }

    /// The label of a node slot (an agent's name).
    fn name(&self, slot: u32) -> Option<&str> {
        self.keys.get(slot as usize).map(|k| k.label.as_str())
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
