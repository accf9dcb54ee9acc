//! The built graph: nodes, edges, metrics, and the views the dashboard and exports read.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, OnceLock},
};

use petgraph::graph::{NodeIndex, UnGraph};
use selfos_vault::ResponseId;
use serde::{Deserialize, Serialize};

use crate::{adjacency::Adjacency, builder::decayed, error::ExportError, metrics::Metrics};

/// What a node stands for. The order is the canonical order of node kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// An AI agent (`chatgpt`, `claude`, ...).
    Agent,
    /// A micro-training card.
    Card,
    /// A stated preference, `dimension=value`.
    Preference,
    /// A topic from opt-in context or text answers.
    Topic,
}

impl NodeKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Card => "card",
            Self::Preference => "pref",
            Self::Topic => "topic",
        }
    }
}

/// A node's identity: its kind and label. Its string form, `kind:label` (`topic:rust`,
/// `pref:length=concise`), is the node id in JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeKey {
    /// The kind.
    pub kind: NodeKind,
    /// The label.
    pub label: String,
}

impl NodeKey {
    /// A key.
    pub fn new(kind: NodeKind, label: &str) -> Self {
        Self {
            kind,
            label: label.to_owned(),
        }
    }
}

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.prefix(), self.label)
    }
}

/// One node of a built graph.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Node {
    /// Kind and label.
    pub key: NodeKey,
    /// Decayed reinforcement (see the [`builder`](crate::builder) module docs).
    pub strength: f64,
    /// How many answers support it.
    pub support: u32,
    /// PageRank over the weighted graph; all nodes sum to 1.
    pub pagerank: f64,
    /// Community id (see [`community`](crate::community)).
    pub community: u32,
}

/// One undirected edge of a built graph; `source < target`, as node indices.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Edge {
    /// The smaller node index.
    pub source: usize,
    /// The larger node index.
    pub target: usize,
    /// Decayed co-occurrence weight.
    pub weight: f64,
    /// How many answers support it.
    pub support: u32,
}

/// A graph flattened for comparison: nodes by id with strengths, edges by ids with weights,
/// both sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    /// `(node id, strength)`.
    pub nodes: Vec<(String, f64)>,
    /// `(source id, target id, weight)` with `source < target` in node order.
    pub edges: Vec<(String, String, f64)>,
}

impl Canonical {
    /// Whether both hold the same nodes and edges with values within `tol` (absolute, or
    /// relative for values above 1).
    pub fn approx_eq(&self, other: &Self, tol: f64) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0);
        self.nodes.len() == other.nodes.len()
            && self.edges.len() == other.edges.len()
            && self
                .nodes
                .iter()
                .zip(&other.nodes)
                .all(|(a, b)| a.0 == b.0 && close(a.1, b.1))
            && self
                .edges
                .iter()
                .zip(&other.edges)
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1 && close(a.2, b.2))
    }
}

/// The graph as the dashboard's D3 view reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphJson {
    /// Nodes in canonical order.
    pub nodes: Vec<JsonNode>,
    /// Undirected links by node id.
    pub links: Vec<JsonLink>,
    /// Alignment metrics by agent.
    pub metrics: BTreeMap<String, Metrics>,
}

/// A node in [`GraphJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonNode {
    /// `kind:label`.
    pub id: String,
    /// The kind.
    pub kind: NodeKind,
    /// The label.
    pub label: String,
    /// Decayed reinforcement.
    pub strength: f64,
    /// PageRank.
    pub pagerank: f64,
    /// Community id.
    pub community: u32,
}

/// A link in [`GraphJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonLink {
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// Decayed co-occurrence weight.
    pub weight: f64,
}

/// The edges of a built graph as the builder's rows held them at that build (rows it patches
/// later are copies): listed, and their weights decayed, only when first read.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedEdges {
    /// Edge weights (undecayed) and counts, by node slot.
    pub(crate) rows: Adjacency,
    /// Node index to slot.
    pub(crate) slots: Vec<u32>,
    /// Node slot to index, `u32::MAX` for a slot not in the graph.
    pub(crate) index: Vec<u32>,
    /// What brings a weight in `rows` to the graph's `now_ms`.
    pub(crate) factor: f64,
}

impl SharedEdges {
    /// The edges between nodes of the graph, sorted by `(source, target)`.
    fn list(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        let mut row = Vec::new();
        for (source, &s) in self.slots.iter().enumerate() {
            let (targets, weights, counts) = self.rows.row_with_counts(s as usize);
            row.clear();
            row.extend((0..targets.len()).filter_map(|k| {
                let target = *self.index.get(targets[k] as usize)? as usize;
                (target != u32::MAX as usize && target > source).then_some((target, k))
            }));
            // Rows are sorted by slot, edges by index: the orders differ.
            row.sort_unstable();
            edges.extend(row.iter().map(|&(target, k)| Edge {
                source,
                target,
                weight: decayed(weights[k], self.factor),
                support: counts[k],
            }));
        }
        edges
    }

    /// The decayed weight of the edge between the nodes at indices `a` and `b`, if any.
    fn weight(&self, a: usize, b: usize) -> Option<f64> {
        let (sa, sb) = (*self.slots.get(a)?, *self.slots.get(b)?);
        let (w, _) = self.rows.edge(sa, sb)?;
        Some(decayed(w, self.factor))
    }
}

/// The answers behind one node that snippets cite, as of a build: listed as [`ResponseId`]s when
/// first read, once for all the graphs that share them (the builder hands the same list to every
/// build until the node's answers change).
#[derive(Debug)]
pub(crate) struct Cited {
    /// Sorted; shared with the builder until the node's answers change.
    ids: Arc<Vec<Arc<ResponseId>>>,
    listed: OnceLock<Box<[ResponseId]>>,
}

impl Cited {
    /// The answers `ids` (sorted).
    pub(crate) fn new(ids: Arc<Vec<Arc<ResponseId>>>) -> Self {
        Self {
            ids,
            listed: OnceLock::new(),
        }
    }

    fn ids(&self) -> &[ResponseId] {
        self.listed
            .get_or_init(|| self.ids.iter().map(|id| ResponseId::clone(id)).collect())
    }
}

/// A knowledge graph built by [`GraphBuilder::build`](crate::GraphBuilder::build). Node
/// indices are positions in canonical order (by kind, then label), stable for equal input.
///
/// A build writes out only the nodes: the edge list and the petgraph graph are made when first
/// read ([`edges`](Self::edges), [`petgraph`](Self::petgraph), and the views built on them), from
/// adjacency rows shared with the builder, and so are the lists of [`sources`](Self::sources).
#[derive(Debug, Clone)]
pub struct KnowledgeGraph {
    /// In canonical order, so sorted by key.
    nodes: Vec<Node>,
    shared: SharedEdges,
    edges: OnceLock<Vec<Edge>>,
    graph: OnceLock<UnGraph<Node, f64>>,
    metrics: BTreeMap<String, Metrics>,
    sources: BTreeMap<usize, Arc<Cited>>,
    now_ms: u64,
}

impl KnowledgeGraph {
    /// A graph of `nodes` in canonical order, whose edges are those of `shared`.
    pub(crate) fn new(
        nodes: Vec<Node>,
        shared: SharedEdges,
        metrics: BTreeMap<String, Metrics>,
        sources: BTreeMap<usize, Arc<Cited>>,
        now_ms: u64,
    ) -> Self {
        Self {
            nodes,
            shared,
            edges: OnceLock::new(),
            graph: OnceLock::new(),
            metrics,
            sources,
            now_ms,
        }
    }

    /// The petgraph graph (node weights are [`Node`]s, edge weights decayed co-occurrence).
    pub fn petgraph(&self) -> &UnGraph<Node, f64> {
        self.graph.get_or_init(|| {
            let edges = self.edges();
            let mut graph = UnGraph::with_capacity(self.nodes.len(), edges.len());
            for n in &self.nodes {
                graph.add_node(n.clone());
            }
            for e in edges {
                graph.add_edge(NodeIndex::new(e.source), NodeIndex::new(e.target), e.weight);
            }
            graph
        })
    }

    /// The time the graph was built for.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Nodes in canonical order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Node> {
        self.nodes.iter()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Edges sorted by `(source, target)`; listed on the first call.
    pub fn edges(&self) -> &[Edge] {
        self.edges.get_or_init(|| self.shared.list())
    }

    /// The node at `index`.
    pub fn node_at(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    /// The index of a node.
    pub fn index_of(&self, kind: NodeKind, label: &str) -> Option<usize> {
        self.nodes
            .binary_search_by(|n| (n.key.kind, n.key.label.as_str()).cmp(&(kind, label)))
            .ok()
    }

    /// A node by kind and label.
    pub fn node(&self, kind: NodeKind, label: &str) -> Option<&Node> {
        self.index_of(kind, label).and_then(|i| self.node_at(i))
    }

    /// The weight of the edge between two nodes, if any.
    pub fn edge_weight(&self, a: usize, b: usize) -> Option<f64> {
        self.shared.weight(a, b)
    }

    /// Topic labels, weakest first (ties by name, so the order is stable): what the trainer's
    /// recall and weak-topic cards work from.
    pub fn weak_topics(&self) -> Vec<String> {
        let mut topics: Vec<(&str, f64)> = self
            .nodes()
            .filter(|n| n.key.kind == NodeKind::Topic)
            .map(|n| (n.key.label.as_str(), n.strength))
            .collect();
        topics.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        topics.into_iter().map(|(t, _)| t.to_owned()).collect()
    }

    /// Alignment metrics by agent.
    pub fn metrics(&self) -> &BTreeMap<String, Metrics> {
        &self.metrics
    }

    /// The answers behind a node; collected for preferences and the strongest topics only
    /// (`GraphConfig::snippet_topics`), empty for other nodes.
    pub fn sources(&self, index: usize) -> &[ResponseId] {
        self.sources.get(&index).map_or(&[], |s| s.ids())
    }

    /// The canonical form used to compare graphs.
    pub fn canonical(&self) -> Canonical {
        let ids: Vec<String> = self.nodes().map(|n| n.key.to_string()).collect();
        Canonical {
            nodes: self
                .nodes()
                .zip(&ids)
                .map(|(n, id)| (id.clone(), n.strength))
                .collect(),
            edges: self
                .edges()
                .iter()
                .map(|e| (ids[e.source].clone(), ids[e.target].clone(), e.weight))
                .collect(),
        }
    }

    /// The D3 view's document.
    pub fn to_json_doc(&self) -> GraphJson {
        let ids: Vec<String> = self.nodes().map(|n| n.key.to_string()).collect();
        GraphJson {
            nodes: self
                .nodes()
                .zip(&ids)
                .map(|(n, id)| JsonNode {
                    id: id.clone(),
                    kind: n.key.kind,
                    label: n.key.label.clone(),
                    strength: n.strength,
                    pagerank: n.pagerank,
                    community: n.community,
                })
                .collect(),
            links: self
                .edges()
                .iter()
                .map(|e| JsonLink {
                    source: ids[e.source].clone(),
                    target: ids[e.target].clone(),
                    weight: e.weight,
                })
                .collect(),
            metrics: self.metrics.clone(),
        }
    }

    /// The D3 view's document as JSON text.
    pub fn to_json(&self) -> Result<String, ExportError> {
        Ok(serde_json::to_string(&self.to_json_doc())?)
    }

    /// Reads a document written by [`to_json`](Self::to_json).
    pub fn parse_json(text: &str) -> Result<GraphJson, ExportError> {
        Ok(serde_json::from_str(text)?)
    }
}
