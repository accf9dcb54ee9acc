//! The answers behind the nodes that snippets cite.

use std::{collections::BTreeMap, sync::Arc};

use selfos_vault::ResponseId;

use super::GraphBuilder;
use crate::graph::{Cited, Node, NodeKind};

/// The answers behind one preference or topic node, which snippets cite.
#[derive(Debug, Default)]
pub(super) struct Sources {
    /// Whether `ids` holds every answer behind the node. A node created before the first build
    /// is gathered when a build first cites it, in one pass over the answers for all such nodes
    /// (most are never cited); from then on `ids` follows the answers that come and go.
    pub(super) gathered: bool,
    /// Sorted, so that a build hands them out without sorting; shared with the graphs that
    /// cite them (a change copies them only while such a graph is kept).
    pub(super) ids: Arc<Vec<Arc<ResponseId>>>,
    /// `ids`, as handed to the last build that cited them; `None` once they change.
    pub(super) cited: Option<Arc<Cited>>,
}

/// A builder's clone takes its own lists rather than sharing them: a clone lives on beside the
/// original, and a shared list is copied by whichever of the two next changes it, inside its
/// next `add`. (Graphs share them: a graph is usually dropped or replaced by the next build.)
impl Clone for Sources {
    fn clone(&self) -> Self {
        Self {
            gathered: self.gathered,
            ids: Arc::new(Vec::clone(&self.ids)),
            cited: None,
        }
    }
}

impl Sources {
    /// Notes an answer that came, if `ids` is followed.
    pub(super) fn add(&mut self, id: &Arc<ResponseId>) {
        if self.gathered
            && let Err(at) = self.ids.binary_search_by(|x| (**x).cmp(id))
        {
            // Let go of the last build's list first: if no graph holds it, `ids` is not copied.
            self.cited = None;
            Arc::make_mut(&mut self.ids).insert(at, Arc::clone(id));
        }
    }

    /// Notes an answer that left, if `ids` is followed.
    pub(super) fn remove(&mut self, id: &Arc<ResponseId>) {
        if self.gathered
            && let Ok(at) = self.ids.binary_search_by(|x| (**x).cmp(id))
        {
            self.cited = None;
            Arc::make_mut(&mut self.ids).remove(at);
        }
    }
}

impl GraphBuilder {
    /// The sources of the preferences and the strongest topics, by node index: sorted once per
    /// change, shared from then on.
    pub(super) fn cited(&mut self, live: &[u32], nodes: &[Node]) -> BTreeMap<usize, Arc<Cited>> {
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
                        let ids = &mut self.sources[n as usize].ids;
                        Arc::make_mut(ids).push(Arc::clone(id));
                    }
                }
            }
            for (src, _) in self.sources.iter_mut().zip(&gather).filter(|(_, g)| **g) {
                src.cited = None;
                Arc::make_mut(&mut src.ids).sort();
            }
        }
        wanted
            .into_iter()
            .filter_map(|i| {
                let src = self.sources.get_mut(live[i] as usize)?;
                let ids = &src.ids;
                let cited = src
                    .cited
                    .get_or_insert_with(|| Arc::new(Cited::new(Arc::clone(ids))));
                Some((i, Arc::clone(cited)))
            })
            .collect()
    }
}
