//! Errors, one enum per operation.

/// A [`GraphConfig`](crate::GraphConfig) that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The half-life must be at least one millisecond.
    #[error("the strength half-life must be at least 1 ms")]
    HalfLife,
    /// The PageRank damping factor must lie in `[0, 1)`.
    #[error("the PageRank damping factor {0} is outside [0, 1)")]
    Damping(f64),
    /// PageRank needs at least one iteration and a tolerance that is a non-negative number.
    #[error("PageRank needs at least one iteration and a finite, non-negative tolerance")]
    PageRank,
}

/// An export that could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// JSON encoding or decoding failed.
    #[error("graph JSON: {0}")]
    Json(#[from] serde_json::Error),
}
