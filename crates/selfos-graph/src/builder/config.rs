//! How the graph is built: [`GraphConfig`] and its defaults.

use crate::error::ConfigError;

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
