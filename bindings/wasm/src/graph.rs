//! `KnowledgeGraph`: the graph, metrics and exports built from a vault's readable answers.

use selfos::{
    graph::{self as core, GraphBuilder, GraphConfig, Period, Target},
    vault::Cursor,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{
    convert::{from_js, ms, to_js},
    error::Error,
    vault::Vault,
};

/// A knowledge graph as of one moment. [`KnowledgeGraph::refresh`] brings it up to date when
/// the vault changes, reading only what changed.
#[wasm_bindgen]
#[derive(Debug)]
pub struct KnowledgeGraph {
    pub(crate) inner: core::KnowledgeGraph,
    /// The builder the graph came from: it keeps the answers that alignment series read.
    builder: GraphBuilder,
    /// How far the builder has read the vault.
    cursor: Cursor,
}

/// One node's embedding.
#[derive(Serialize)]
struct EmbeddingView<'a> {
    id: String,
    kind: core::NodeKind,
    label: &'a str,
    vector: [f64; core::export::EMBEDDING_DIM],
}

#[wasm_bindgen]
impl KnowledgeGraph {
    /// The graph of every readable answer in `vault`, node strengths decayed to `now_ms`.
    pub fn build(vault: &mut Vault, now_ms: f64) -> Result<KnowledgeGraph, Error> {
        let now = ms(now_ms)?;
        let mut builder = GraphBuilder::new(GraphConfig::new())
            .map_err(|e| Error::new("internal", e.to_string()))?;
        let changes = vault.inner.changed_since(&Cursor::default());
        builder.apply(&changes);
        Ok(Self {
            inner: builder.build(now),
            builder,
            cursor: changes.cursor,
        })
    }

    /// The graph of `vault` as it is now, node strengths decayed to `now_ms`, from the answers
    /// read before and only those that changed since.
    pub fn refresh(&mut self, vault: &mut Vault, now_ms: f64) -> Result<(), Error> {
        let now = ms(now_ms)?;
        let changes = vault.inner.changed_since(&self.cursor);
        self.builder.apply(&changes);
        self.cursor = changes.cursor;
        self.inner = self.builder.build(now);
        Ok(())
    }

    /// Number of nodes.
    #[wasm_bindgen(getter, js_name = nodeCount)]
    pub fn node_count(&self) -> usize {
        self.inner.node_count()
    }

    /// The D3 view: nodes (strength, PageRank, community), links and metrics.
    #[wasm_bindgen(js_name = toJson, unchecked_return_type = "GraphJson")]
    pub fn to_json(&self) -> Result<JsValue, Error> {
        to_js(&self.inner.to_json_doc())
    }

    /// Alignment metrics by agent.
    #[wasm_bindgen(unchecked_return_type = "Record<string, AgentMetrics>")]
    pub fn metrics(&self) -> Result<JsValue, Error> {
        to_js(self.inner.metrics())
    }

    /// Alignment metrics by agent per `period` (`day` or `week`): one point per period that
    /// holds an answer of the agent, oldest first (see the graph crate's `metrics` module).
    #[wasm_bindgen(
        js_name = alignmentSeries,
        unchecked_return_type = "Record<string, SeriesPoint[]>"
    )]
    pub fn alignment_series(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SeriesPeriod")] period: JsValue,
    ) -> Result<JsValue, Error> {
        let period: Period = from_js(period, "series period")?;
        to_js(&self.builder.alignment_series(period))
    }

    /// Instruction snippets for `target` (`chat-gpt`, `claude` or `generic`), each line naming
    /// the answers behind it.
    #[wasm_bindgen(unchecked_return_type = "Snippet")]
    pub fn snippet(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SnippetTarget")] target: JsValue,
    ) -> Result<JsValue, Error> {
        let target: Target = from_js(target, "snippet target")?;
        to_js(&self.inner.snippet(target))
    }

    /// 16-dimensional node embeddings (reproducible; see the graph crate's docs).
    #[wasm_bindgen(unchecked_return_type = "NodeEmbedding[]")]
    pub fn embeddings(&self) -> Result<JsValue, Error> {
        let views: Vec<EmbeddingView<'_>> = self
            .inner
            .nodes()
            .zip(self.inner.embeddings())
            .map(|(node, vector)| EmbeddingView {
                id: node.key.to_string(),
                kind: node.key.kind,
                label: &node.key.label,
                vector,
            })
            .collect();
        to_js(&views)
    }

    /// Topic labels, weakest first.
    #[wasm_bindgen(js_name = weakTopics)]
    pub fn weak_topics(&self) -> Vec<String> {
        self.inner.weak_topics()
    }
}
