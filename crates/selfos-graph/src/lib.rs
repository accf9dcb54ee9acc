//! The SelfOS knowledge graph: what a user's micro-training answers say about them, as a graph
//! of topics, preferences, agents and cards, with alignment metrics per AI agent and exports
//! they can hand to any AI.
//!
//! Pure Rust, no IO and no clock: the caller passes `now_ms`.
//!
//! - [`builder`]: [`GraphBuilder`] takes batches of [`Response`](selfos_vault::Response)s and
//!   keeps running sums, so adding 100 answers to 100,000 costs 100 answers, and each build
//!   starts from what the previous one found; node strength decays with a half-life (formula
//!   in the module docs).
//! - [`topics`]: local, deterministic topic extraction from opt-in context.
//! - [`pagerank`]: an edge-list PageRank (petgraph's own is quadratic), warm-startable.
//! - [`community`]: weighted label propagation with deterministic tie-breaks.
//! - [`metrics`]: alignment per agent: ratings, trend, intent agreement, preference adherence,
//!   consistency; in total, and per day or week ([`GraphBuilder::alignment_series`]).
//! - [`export`]: instruction snippets (ChatGPT, Claude, generic) whose every line names its
//!   sources, 16-dimensional node embeddings; [`KnowledgeGraph::to_json`] writes the D3 view.
//!
//! ```
//! use selfos_graph::{GraphBuilder, GraphConfig, NodeKind, Target};
//! use selfos_vault::{Answer, CardKind, Content, Context, Hlc, Namespace, RecordId, Response, ResponseId, Status};
//!
//! let answer = |n: u8, card: &str, kind, answer, topics: &[&str]| Response {
//!     id: ResponseId { namespace: Namespace::new("chatgpt").unwrap(), record: RecordId::from([n; 16]) },
//!     updated: Hlc::default(),
//!     content: Content {
//!         card_id: card.into(),
//!         card_kind: kind,
//!         answer: Some(answer),
//!         agent: "chatgpt".into(),
//!         origin: "https://chatgpt.com".into(),
//!         created_ms: 1_700_000_000_000 + u64::from(n),
//!         wait_ms: 8_000,
//!         status: Status::Answered,
//!         context: Context { prompt_excerpt: None, topics: topics.iter().map(|t| t.to_string()).collect() },
//!     },
//!     conflicted: false,
//! };
//! let mut builder = GraphBuilder::new(GraphConfig::new())?;
//! builder.add(&[
//!     answer(1, "pref.length", CardKind::Preference, Answer::Choice("concise".into()), &[]),
//!     answer(2, "rating.overall", CardKind::Rating, Answer::Rating(5), &["rust", "async"]),
//! ]);
//! let graph = builder.build(1_700_000_000_000);
//! assert!(graph.node(NodeKind::Topic, "rust").is_some());
//! assert!(graph.node(NodeKind::Preference, "length=concise").is_some());
//! assert_eq!(graph.metrics()["chatgpt"].rating_mean, Some(5.0));
//! let instructions = graph.snippet(Target::ChatGpt);
//! assert_eq!(instructions.fields[1].render(), "Preferred length: concise.");
//! let json = graph.to_json()?;
//! assert!(json.contains("\"links\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod adjacency;
pub mod builder;
pub mod community;
pub mod error;
pub mod export;
pub mod graph;
mod hash;
pub mod metrics;
pub mod pagerank;
pub mod topics;

pub use builder::{DEFAULT_HALF_LIFE_MS, GraphBuilder, GraphConfig};
pub use error::{ConfigError, ExportError};
pub use export::{EMBEDDING_DIM, Snippet, SnippetField, SnippetLine, Target};
pub use graph::{
    Canonical, Edge, GraphJson, JsonLink, JsonNode, KnowledgeGraph, Node, NodeKey, NodeKind,
};
pub use metrics::{Metrics, Period, SeriesPoint};
