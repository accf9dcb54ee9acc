//! A build: the previous build's node order, adjacency rows, PageRank and communities, patched
//! where answers changed (see "Incremental updates" in the builder's docs).

use crate::{
    adjacency::{Adjacency, Induced},
    community,
    graph::{KnowledgeGraph, Node, NodeKind, SharedEdges},
    metrics::Alignment,
    pagerank,
};

use super::{
    GraphBuilder,
    sums::{EdgeEntry, decayed},
};

impl GraphBuilder {
    /// Builds the graph as of `now_ms`: strengths, edge weights, PageRank, communities,
    /// metrics and the sources of the nodes that snippets use. Takes `&mut self` because the
    /// builder keeps what this build found for the next one (see the module docs).
    pub fn build(&mut self, now_ms: u64) -> KnowledgeGraph {
        if !self.previous.built {
            self.alignment = Alignment::from_answers(self.answers());
        }
        let factor = match self.anchor_ms {
            Some(a) => ((a as f64 - now_ms as f64) / self.config.half_life_ms as f64).exp2(),
            None => 1.0,
        };
        let live = self.live_nodes();
        let n = live.len();
        let mut index = vec![u32::MAX; self.nodes.len()];
        for (i, &s) in live.iter().enumerate() {
            index[s as usize] = u32::try_from(i).unwrap_or(u32::MAX);
        }
        let moved = self.patch_edges(&index);
        self.previous.built = true;

        // Weights are running sums, which decay would scale by one factor, and strengths scale
        // by one factor per build: neither moves PageRank's fixed point. Start from the previous
        // ranks (new nodes from 1/n) and let the tolerance stop it.
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
            &prev.adjacency,
            &live,
            start,
            cfg.damping,
            cfg.pagerank_iterations,
            cfg.pagerank_tolerance,
        );
        let (labels, unsettled) = self.communities(&live, &index, &moved);
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
        prev.changed.clear();
        let edges = SharedEdges {
            rows: prev.adjacency.clone(),
            slots: live.clone(),
            index,
            factor,
        };
        prev.live = live;
        KnowledgeGraph::new(nodes, edges, metrics, sources, now_ms)
    }

    /// Live node slots in canonical (key) order: the previous build's, less those that left,
    /// plus those that came.
    fn live_nodes(&self) -> Vec<u32> {
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
        live.extend(
            (0..self.nodes.len())
                .filter_map(|s| u32::try_from(s).ok())
                .filter(|&s| !was[s as usize] && alive(s)),
        );
        // A stable sort finds the kept slots as one sorted run: merging in the new ones is
        // linear.
        live.sort_by(|&a, &b| self.keys[a as usize].cmp(&self.keys[b as usize]));
        live
    }

    /// Brings the adjacency rows up to date with the edges' running sums: every edge on the
    /// first build, on later ones only those whose answers changed (`O(degree)` each). Returns
    /// the live node slots whose edges in the graph changed although their answers did not:
    /// the neighbours of nodes that left the graph.
    fn patch_edges(&mut self, index: &[u32]) -> Vec<u32> {
        let live = |s: u32| index.get(s as usize).is_some_and(|&i| i != u32::MAX);
        let prev = &mut self.previous;
        let mut moved = Vec::new();
        for &s in prev.live.iter().filter(|&&s| !live(s)) {
            let around = prev.adjacency.row(s as usize).0;
            moved.extend(around.iter().copied().filter(|&t| live(t)));
        }
        let supported = |e: &EdgeEntry| (e.count > 0).then_some((e.scaled, e.count));
        if prev.built {
            prev.adjacency.grow(self.nodes.len());
            for &e in prev.dirty.slots() {
                if let Some(&(a, b)) = self.edge_ends.get(e as usize) {
                    let edge = self.edges.get(&(a, b)).and_then(supported);
                    prev.adjacency.set(a, b, edge);
                }
            }
        } else {
            let edges = self.edges.iter();
            let all = edges.filter_map(|(&(a, b), e)| supported(e).map(|(w, c)| (a, b, w, c)));
            prev.adjacency = Adjacency::undirected(self.nodes.len(), all);
        }
        prev.dirty.clear();
        moved
    }

    /// Community labels (as node indices) by label propagation from the previous build's
    /// labels, queueing the nodes around a change; and the nodes still queued at the end.
    fn communities(&self, live: &[u32], index: &[u32], moved: &[u32]) -> (Vec<u32>, Vec<usize>) {
        let prev = &self.previous;
        let adj = Induced::new(&prev.adjacency, live, index);
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
            .slots()
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
                        queued.extend(adj.neighbours(i).map(|(j, _)| j));
                    }
                }
            }
        }
        let unsettled = community::propagate(&adj, &skip, &mut labels, queued);
        (labels, unsettled)
    }
}
