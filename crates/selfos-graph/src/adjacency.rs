//! Adjacency rows of an undirected, weighted graph, as the builder keeps them from build to build
//! and as PageRank, label propagation and a built graph's edge list read them.
//!
//! Rows are by node *slot* (the builder's stable number for a node, never reused), so a node
//! that comes or goes renumbers nothing: a build patches the rows of the edges whose answers
//! changed, in `O(degree)` each. Each row sits behind its own `Arc`: a built graph keeps the rows
//! it was built from, and a later patch copies only the rows it touches that a graph still holds.

use std::sync::Arc;

/// One node's neighbours (ascending slots), the weights of the edges to them and the answers
/// behind each edge.
#[derive(Debug, Clone, Default)]
struct Row {
    targets: Vec<u32>,
    weights: Vec<f64>,
    counts: Vec<u32>,
    /// The sum of `weights`, summed again whenever they change (a patch costs `O(degree)`
    /// anyway), so that PageRank need not read every row to find it.
    total: f64,
}

impl Row {
    fn sum(mut self) -> Self {
        self.total = self.weights.iter().sum();
        self
    }
}

/// The rows of all slots. Self-loops are never held, and a weight that is not positive and
/// finite is held as 0, so that PageRank can read the rows without checking them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Adjacency {
    rows: Vec<Arc<Row>>,
}

impl Adjacency {
    /// The rows of `n` slots joined by undirected `edges` `(a, b, weight, count)`, each pair
    /// given once. Self-loops and slots `>= n` are left out.
    pub(crate) fn undirected<I>(n: usize, edges: I) -> Self
    where
        I: Iterator<Item = (u32, u32, f64, u32)> + Clone,
    {
        let valid = move |&(a, b, _, _): &(u32, u32, f64, u32)| {
            a != b && (a as usize) < n && (b as usize) < n
        };
        let mut degree = vec![0_usize; n];
        for (a, b, _, _) in edges.clone().filter(valid) {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let mut rows: Vec<Row> = degree
            .iter()
            .map(|&d| Row {
                targets: Vec::with_capacity(d),
                weights: Vec::with_capacity(d),
                counts: Vec::with_capacity(d),
                total: 0.0,
            })
            .collect();
        for (a, b, w, c) in edges.filter(valid) {
            let w = usable(w);
            for (from, to) in [(a, b), (b, a)] {
                let row = &mut rows[from as usize];
                row.targets.push(to);
                row.weights.push(w);
                row.counts.push(c);
            }
        }
        let rows = rows
            .into_iter()
            .map(|mut row| {
                if !row.targets.is_sorted() {
                    let mut order: Vec<usize> = (0..row.targets.len()).collect();
                    order.sort_unstable_by_key(|&k| row.targets[k]);
                    row = Row {
                        targets: order.iter().map(|&k| row.targets[k]).collect(),
                        weights: order.iter().map(|&k| row.weights[k]).collect(),
                        counts: order.iter().map(|&k| row.counts[k]).collect(),
                        total: 0.0,
                    };
                }
                Arc::new(row.sum())
            })
            .collect();
        Self { rows }
    }

    /// Number of slots.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The neighbours of slot `s` (ascending) and the weights of the edges to them; empty for
    /// a slot past the end.
    pub(crate) fn row(&self, s: usize) -> (&[u32], &[f64]) {
        self.rows
            .get(s)
            .map_or((&[], &[]), |r| (&r.targets, &r.weights))
    }

    /// The sum of the weights of slot `s`'s edges (0 for a slot past the end).
    pub(crate) fn total(&self, s: usize) -> f64 {
        self.rows.get(s).map_or(0.0, |r| r.total)
    }

    /// The neighbours of slot `s`, the weights of the edges to them and their answer counts.
    pub(crate) fn row_with_counts(&self, s: usize) -> (&[u32], &[f64], &[u32]) {
        self.rows
            .get(s)
            .map_or((&[], &[], &[]), |r| (&r.targets, &r.weights, &r.counts))
    }

    /// The weight and count of the edge between slots `a` and `b`, if held.
    pub(crate) fn edge(&self, a: u32, b: u32) -> Option<(f64, u32)> {
        let r = self.rows.get(a as usize)?;
        let at = r.targets.binary_search(&b).ok()?;
        Some((r.weights[at], r.counts[at]))
    }

    /// Makes room for slots up to `n`.
    pub(crate) fn grow(&mut self, n: usize) {
        if self.rows.len() < n {
            self.rows.resize_with(n, Arc::default);
        }
    }

    /// Sets the edge between slots `a` and `b` to `(weight, count)`, or takes it out (`None`).
    pub(crate) fn set(&mut self, a: u32, b: u32, edge: Option<(f64, u32)>) {
        if a == b {
            return;
        }
        self.grow(a.max(b) as usize + 1);
        for (from, to) in [(a, b), (b, a)] {
            let held = self.rows[from as usize].targets.binary_search(&to);
            if held.is_err() && edge.is_none() {
                continue;
            }
            let row = Arc::make_mut(&mut self.rows[from as usize]);
            match (held, edge) {
                (Ok(at), Some((w, c))) => {
                    row.weights[at] = usable(w);
                    row.counts[at] = c;
                }
                (Ok(at), None) => {
                    row.targets.remove(at);
                    row.weights.remove(at);
                    row.counts.remove(at);
                }
                (Err(at), Some((w, c))) => {
                    row.targets.insert(at, to);
                    row.weights.insert(at, usable(w));
                    row.counts.insert(at, c);
                }
                (Err(_), None) => {}
            }
            row.total = row.weights.iter().sum();
        }
    }

    /// Multiplies every weight by `f`.
    pub(crate) fn scale(&mut self, f: f64) {
        for row in &mut self.rows {
            if !row.weights.is_empty() {
                let row = Arc::make_mut(row);
                row.weights.iter_mut().for_each(|w| *w = usable(*w * f));
                row.total = row.weights.iter().sum();
            }
        }
    }
}

/// `w` if it is positive and finite, else 0.
fn usable(w: f64) -> f64 {
    if w.is_finite() && w > 0.0 { w } else { 0.0 }
}

/// The rows restricted to some of the slots, renumbered by their place in a list: the graph one
/// build reads. Edges to slots outside the list, and edges of weight 0, are not seen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Induced<'a> {
    adj: &'a Adjacency,
    /// Index to slot.
    slots: &'a [u32],
    /// Slot to index, `u32::MAX` for a slot outside `slots`.
    index: &'a [u32],
}

impl<'a> Induced<'a> {
    /// The rows of `slots`; `index` maps each slot back to its place (`u32::MAX` when absent).
    pub(crate) fn new(adj: &'a Adjacency, slots: &'a [u32], index: &'a [u32]) -> Self {
        Self { adj, slots, index }
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The neighbours of node `i`, by index, with the weights of the edges to them.
    pub(crate) fn neighbours(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + 'a {
        let index = self.index;
        let (targets, weights) = self
            .slots
            .get(i)
            .map_or((&[][..], &[][..]), |&s| self.adj.row(s as usize));
        targets.iter().zip(weights).filter_map(move |(&s, &w)| {
            let j = *index.get(s as usize)?;
            (j != u32::MAX && w > 0.0).then_some((j as usize, w))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row's `(target, weight, count)` entries and its total.
    type Held = (Vec<(u32, f64, u32)>, f64);

    /// Each row, with its total.
    fn rows(adj: &Adjacency) -> Vec<Held> {
        (0..adj.len())
            .map(|s| {
                let (t, w, c) = adj.row_with_counts(s);
                let row: Vec<_> = (0..t.len()).map(|k| (t[k], w[k], c[k])).collect();
                assert_eq!(adj.total(s), w.iter().sum::<f64>());
                (row, adj.total(s))
            })
            .collect()
    }

    /// Patching edge by edge, in any order, gives the rows built at once from the final edges.
    #[test]
    fn patched_rows_equal_rows_built_at_once() {
        let mut state = 0x9e37_79b9_u64;
        let mut next = move |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        for _ in 0..100 {
            let n = 1 + next(20) as usize;
            let mut adj = Adjacency::default();
            let mut kept = std::collections::BTreeMap::new();
            for _ in 0..next(120) {
                let (a, b) = (next(n as u64) as u32, next(n as u64) as u32);
                let edge = (next(3) > 0).then(|| (next(5) as f64, 1 + next(4) as u32));
                adj.set(a, b, edge);
                if a != b {
                    match edge {
                        Some(e) => kept.insert((a.min(b), a.max(b)), e),
                        None => kept.remove(&(a.min(b), a.max(b))),
                    };
                }
            }
            let edges = kept.iter().map(|(&(a, b), &(w, c))| (a, b, w, c));
            let mut cold = Adjacency::undirected(n, edges);
            cold.grow(adj.len());
            adj.grow(n);
            assert_eq!(rows(&adj), rows(&cold));
            for (&(a, b), &e) in &kept {
                assert_eq!(adj.edge(a, b), Some(e));
                assert_eq!(adj.edge(b, a), Some(e));
            }
        }
    }

    /// A copy taken before a patch keeps its rows.
    #[test]
    fn a_copy_keeps_its_rows_while_the_original_is_patched() {
        let mut adj = Adjacency::undirected(3, [(0, 1, 1.0, 1), (1, 2, 2.0, 1)].into_iter());
        let copy = adj.clone();
        adj.set(0, 1, Some((5.0, 2)));
        adj.set(1, 2, None);
        adj.scale(2.0);
        assert_eq!(copy.edge(0, 1), Some((1.0, 1)));
        assert_eq!(copy.edge(2, 1), Some((2.0, 1)));
        assert_eq!(adj.edge(1, 0), Some((10.0, 2)));
        assert_eq!(adj.edge(1, 2), None);
        assert_eq!((copy.total(1), adj.total(1)), (3.0, 10.0));
    }

    #[test]
    fn induced_rows_skip_outside_slots_and_bad_weights() {
        let edges = [
            (0, 1, 1.0, 1),
            (0, 2, 0.0, 1),
            (0, 3, 2.0, 1),
            (3, 3, 1.0, 1),
        ];
        let adj = Adjacency::undirected(4, edges.into_iter());
        // Slots 3 and 0, in that order; slot 1 is outside.
        let (slots, index) = ([3, 0, 2], [1, u32::MAX, 2, 0]);
        let g = Induced::new(&adj, &slots, &index);
        assert_eq!(g.len(), 3);
        assert_eq!(g.neighbours(1).collect::<Vec<_>>(), [(0, 2.0)]);
        assert_eq!(g.neighbours(0).collect::<Vec<_>>(), [(1, 2.0)]);
        assert_eq!(g.neighbours(2).count(), 0);
    }
}
