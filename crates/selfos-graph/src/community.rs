//! Communities by weighted label propagation with deterministic tie-breaks.
//!
//! Every participating node starts with its own label. Rounds visit the nodes in index order
//! (the graph's canonical order) and give each node the label with the largest total edge weight
//! among its neighbours; totals within a relative `1e-9` of each other count as a tie, so float
//! rounding from different batchings cannot flip a choice in practice. A tie goes to the node's
//! current label when that is among the heaviest, else to the smallest label. Rounds stop when
//! nothing changes, or after 20 rounds. Labels are then renumbered `0, 1, …` in order of first
//! appearance.
//!
//! A visit can only move a node whose neighbours' labels or edges changed since its previous
//! visit (with nothing new around it, the rule keeps the label it chose), so the propagation
//! visits only those: a round takes its nodes in index order, and a node that moves queues its
//! neighbours, later ones for this round and earlier ones for the next. From one label per node
//! with every node queued this is exactly the rounds above. The graph builder also runs it from
//! the previous build's labels with only the nodes around a change queued (see the
//! [`builder`](crate::builder) module docs).
//!
//! Agent nodes do not take part: every answer touches its agent, so agents would pull the whole
//! graph into one community. Each agent gets a community of its own, and edges to agents are
//! ignored.

use std::{cmp::Reverse, collections::BinaryHeap};

use crate::adjacency::Induced;

/// Rounds before label propagation stops even if labels still move.
const MAX_ROUNDS: usize = 20;

/// Runs label propagation over `adj` from `label` (one per node, updated in place), visiting the
/// `queued` nodes first; nodes with `skip[i]` set keep their label and carry none across edges.
/// Returns the nodes still queued when the rounds ran out (empty when the labels settled).
pub(crate) fn propagate(
    adj: &Induced<'_>,
    skip: &[bool],
    label: &mut [u32],
    queued: impl IntoIterator<Item = usize>,
) -> Vec<usize> {
    let n = adj.len().min(label.len());
    let skipped = |i: usize| skip.get(i).copied().unwrap_or(false);
    let mut in_queue = vec![false; n];
    let mut this_round: BinaryHeap<Reverse<usize>> = BinaryHeap::new();
    for i in queued {
        if i < n && !skipped(i) && !in_queue[i] {
            in_queue[i] = true;
            this_round.push(Reverse(i));
        }
    }
    let mut next_round: Vec<usize> = Vec::new();
    let mut visit = Visit::new(n);
    for _ in 0..MAX_ROUNDS {
        if this_round.is_empty() {
            break;
        }
        while let Some(Reverse(i)) = this_round.pop() {
            in_queue[i] = false;
            let best = visit.choose(adj, &skipped, label, i);
            if best == label[i] {
                continue;
            }
            label[i] = best;
            for (j, _) in adj.neighbours(i) {
                if skipped(j) || in_queue[j] {
                    continue;
                }
                in_queue[j] = true;
                if j > i {
                    this_round.push(Reverse(j));
                } else {
                    next_round.push(j);
                }
            }
        }
        this_round.extend(next_round.drain(..).map(Reverse));
    }
    this_round.into_iter().map(|Reverse(i)| i).collect()
}

/// Scratch space for one visit: weight per label, and which labels the node's neighbours carry.
struct Visit {
    by_label: Vec<f64>,
    touched: Vec<u32>,
}

impl Visit {
    fn new(n: usize) -> Self {
        Self {
            by_label: vec![0.0; n],
            touched: Vec::new(),
        }
    }

    /// The label the rule gives node `i`.
    fn choose(
        &mut self,
        adj: &Induced<'_>,
        skipped: &impl Fn(usize) -> bool,
        label: &[u32],
        i: usize,
    ) -> u32 {
        for (j, w) in adj.neighbours(i) {
            if skipped(j) {
                continue;
            }
            let l = label[j];
            if self.by_label[l as usize] == 0.0 {
                self.touched.push(l);
            }
            self.by_label[l as usize] += w;
        }
        self.touched.sort_unstable();
        let mut best = (label[i], 0.0_f64);
        for &l in &self.touched {
            let total = self.by_label[l as usize];
            let eps = 1e-9 * total.abs().max(best.1.abs());
            // Ascending labels: a later label wins only when clearly heavier.
            if total > best.1 + eps || (l == label[i] && (total - best.1).abs() <= eps) {
                best = (l, total);
            }
        }
        for &l in &self.touched {
            self.by_label[l as usize] = 0.0;
        }
        self.touched.clear();
        best.0
    }
}

/// Labels renumbered `0, 1, …` in order of first appearance. Labels must be `< label.len()`.
pub(crate) fn renumber(label: &[u32]) -> Vec<u32> {
    let mut renumber = vec![u32::MAX; label.len()];
    let mut next = 0_u32;
    label
        .iter()
        .map(|&l| {
            let r = &mut renumber[l as usize];
            if *r == u32::MAX {
                *r = next;
                next += 1;
            }
            *r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adjacency::Adjacency;

    /// The rows of `n` nodes joined by `edges`.
    fn rows(n: usize, edges: &[(u32, u32, f64)]) -> Adjacency {
        Adjacency::undirected(n, edges.iter().map(|&(a, b, w)| (a, b, w, 1)))
    }

    /// Every node queued with its own label, then renumbered: a cold run.
    fn label_propagation(n: usize, edges: &[(u32, u32, f64)], skip: &[bool]) -> Vec<u32> {
        let ids: Vec<u32> = (0..n as u32).collect();
        let (rows, mut label) = (rows(n, edges), ids.clone());
        let adj = Induced::new(&rows, &ids, &ids);
        assert!(propagate(&adj, skip, &mut label, 0..n).is_empty());
        renumber(&label)
    }

    /// The rounds of the module docs, visiting every node each round.
    fn full_rounds(adj: &Induced<'_>, skip: &[bool]) -> Vec<u32> {
        let n = adj.len();
        let mut label: Vec<u32> = (0..n as u32).collect();
        let mut visit = Visit::new(n);
        let skipped = |i: usize| skip[i];
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            for i in (0..n).filter(|&i| !skip[i]) {
                let best = visit.choose(adj, &skipped, &label, i);
                changed |= best != label[i];
                label[i] = best;
            }
            if !changed {
                break;
            }
        }
        label
    }

    #[test]
    fn visiting_only_nodes_around_a_move_equals_full_rounds() {
        // Pseudo-random graphs with ties (small integer weights) and skipped nodes.
        let mut state = 0x1234_5678_u64;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        for _ in 0..200 {
            let n = 2 + next(30) as usize;
            let edges: Vec<(u32, u32, f64)> = (0..next(80))
                .map(|_| {
                    (
                        next(n as u64) as u32,
                        next(n as u64) as u32,
                        1.0 + next(3) as f64,
                    )
                })
                .filter(|(a, b, _)| a < b)
                .collect();
            let skip: Vec<bool> = (0..n).map(|_| next(8) == 0).collect();
            let ids: Vec<u32> = (0..n as u32).collect();
            let (rows, mut label) = (rows(n, &edges), ids.clone());
            let adj = Induced::new(&rows, &ids, &ids);
            propagate(&adj, &skip, &mut label, 0..n);
            assert_eq!(label, full_rounds(&adj, &skip), "{n} {edges:?} {skip:?}");
        }
    }

    #[test]
    fn a_settled_labelling_stays_and_a_change_spreads_from_the_queued_node() {
        let path = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)];
        let ids = [0, 1, 2, 3];
        let path = rows(4, &path);
        let adj = Induced::new(&path, &ids, &ids);
        let mut label = vec![0, 0, 0, 0];
        assert!(propagate(&adj, &[false; 4], &mut label, 0..4).is_empty());
        assert_eq!(label, [0, 0, 0, 0]);
        // Node 3 now hangs off a heavy edge to a new label: only what is queued moves.
        let heavier = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 5.0)];
        let heavier = rows(4, &heavier);
        let adj = Induced::new(&heavier, &ids, &ids);
        let mut label = vec![0, 0, 3, 3];
        assert!(propagate(&adj, &[false; 4], &mut label, []).is_empty());
        assert_eq!(label, [0, 0, 3, 3], "nothing queued, nothing visited");
        propagate(&adj, &[false; 4], &mut label, [2, 3]);
        assert_eq!(label, [0, 0, 3, 3], "2 and 3 agree on the heavy edge");
    }

    #[test]
    fn two_triangles_joined_by_a_weak_edge() {
        let edges = [
            (0, 1, 3.0),
            (1, 2, 3.0),
            (0, 2, 3.0),
            (3, 4, 3.0),
            (4, 5, 3.0),
            (3, 5, 3.0),
            (2, 3, 0.5),
        ];
        let c = label_propagation(6, &edges, &[false; 6]);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_eq!(c[3], c[4]);
        assert_eq!(c[4], c[5]);
        assert_ne!(c[0], c[3]);
    }

    #[test]
    fn skipped_nodes_are_alone_and_do_not_bridge() {
        let edges = [(0, 1, 1.0), (1, 2, 1.0)];
        let c = label_propagation(3, &edges, &[false, true, false]);
        assert_eq!(c, vec![0, 1, 2]);
    }

    #[test]
    fn deterministic() {
        let edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)];
        let a = label_propagation(4, &edges, &[false; 4]);
        assert_eq!(a, label_propagation(4, &edges, &[false; 4]));
        assert!(a.iter().all(|&x| x == a[0]));
    }
}
