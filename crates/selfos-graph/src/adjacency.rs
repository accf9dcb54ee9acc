//! Adjacency rows of an undirected, weighted graph, as PageRank and label propagation read it.

/// Each node's neighbours with the edge weights, in one flat array per field (compressed rows:
/// a node's neighbours are `targets[offsets[i]..offsets[i + 1]]`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
}

impl Adjacency {
    /// Makes these the rows of `n` nodes joined by undirected `edges` `(a, b, weight)`, reusing
    /// the memory of the rows it held. Self-loops, nodes `>= n` and weights that are not
    /// positive and finite are left out. When `edges` come sorted by `(a, b)` with `a < b`,
    /// every row is sorted by neighbour.
    pub(crate) fn set_undirected<I>(&mut self, n: usize, edges: I)
    where
        I: Iterator<Item = (u32, u32, f64)> + Clone,
    {
        let valid = move |&(a, b, w): &(u32, u32, f64)| {
            a != b && (a as usize) < n && (b as usize) < n && w.is_finite() && w > 0.0
        };
        let offsets = &mut self.offsets;
        offsets.clear();
        offsets.resize(n + 1, 0);
        for (a, b, _) in edges.clone().filter(valid) {
            offsets[a as usize + 1] += 1;
            offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        self.targets.resize(offsets[n], 0);
        self.weights.resize(offsets[n], 0.0);
        // Each row's next free place, starting at its offset.
        let mut fill = offsets.clone();
        for (a, b, w) in edges.filter(valid) {
            for (from, to) in [(a, b), (b, a)] {
                let at = &mut fill[from as usize];
                self.targets[*at] = to;
                self.weights[*at] = w;
                *at += 1;
            }
        }
    }

    /// The rows of `n` nodes joined by undirected `edges` (see [`Self::set_undirected`]).
    #[cfg(test)]
    pub(crate) fn undirected<I>(n: usize, edges: I) -> Self
    where
        I: Iterator<Item = (u32, u32, f64)> + Clone,
    {
        let mut adj = Self::default();
        adj.set_undirected(n, edges);
        adj
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The neighbours of node `i` and the weights of the edges to them.
    pub(crate) fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (from, to) = (self.offsets[i], self.offsets[i + 1]);
        (&self.targets[from..to], &self.weights[from..to])
    }
}
