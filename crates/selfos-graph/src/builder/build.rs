//! A build: the previous build's node order, edge list, PageRank and communities, patched
//! where answers changed (see "Incremental updates" in the builder's docs).

use crate::{
    adjacency::Adjacency,
    community,
    graph::{Edge, KnowledgeGraph, Node, NodeKind},
    metrics::Alignment,
    pagerank,
};

use super::{
    GraphBuilder,
    previous::Listed,
    sums::{Acc, EdgeAcc, EdgeEntry, decayed},
};

impl GraphBuilder {
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
        prev.changed.clear();
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
        let mut moved = Vec::new();
        let mut kept = std::mem::take(&mut prev.edges);
        kept.retain_mut(|l| {
            if prev.dirty.contains(l.slot) {
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
            Box::new(prev.dirty.slots().iter().map(|&e| Listed {
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
        prev.dirty.clear();
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
                        queued.extend(adj.row(i).0.iter().map(|&j| j as usize));
                    }
                }
            }
        }
        let unsettled = community::propagate(adj, &skip, &mut labels, queued);
        (labels, unsettled)
    }
}
