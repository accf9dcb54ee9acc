//! PageRank over an edge list, linear in the number of edges per iteration.
//!
//! petgraph 0.8's `page_rank` scans every pair of nodes each iteration (10k nodes took 46 s
//! here), so the graph uses this one instead.
//!
//! The model is the textbook one, with weights: a walker at node `u` follows an out-edge
//! `u -> v` with probability `d * w(u,v) / W(u)` (where `W(u)` is the sum of `u`'s out-edge
//! weights) and jumps to a uniformly random node with probability `1 - d`. A dangling node (no
//! out-edge, or only zero-weight ones) jumps uniformly with probability 1. So
//!
//! ```text
//! r'(v) = (1 - d) / n + d * (Σ_{u -> v} r(u) * w(u,v) / W(u) + Σ_{u dangling} r(u) / n)
//! ```
//!
//! [`page_rank`] starts from uniform ranks; the graph builder starts an undirected graph from the
//! previous build's ranks instead (`page_rank_undirected`, by Gauss-Seidel sweeps): the fixed
//! point is the same, only the path to it is shorter. Ranks stay a probability distribution (they
//! sum to 1). Iteration stops after `max_iterations` or when the L1 change falls below `tolerance`.
//!
//! Power iteration's update is a contraction by `d` in L1 (the walk matrix is stochastic), so
//! when an iteration changes the ranks by `c`, they are within `c * d / (1 - d)` of the fixed
//! point (5.7e-9 for the default tolerance 1e-9 and `d = 0.85`): two runs that both stop by the
//! tolerance, from any starts, agree to about twice that. The builder's Gauss-Seidel sweeps
//! converge to the same point (the system `(I - d P) r = b` is strictly diagonally dominant by
//! columns); the tests hold them to power iteration's ranks.

use crate::adjacency::Adjacency;

/// Computes PageRank for `n` nodes over directed, weighted `edges` `(from, to, weight)`.
///
/// Edges that name a node `>= n` or carry a weight that is not a positive finite number are
/// ignored. For an undirected graph, pass each edge in both directions. Returns one rank per
/// node; an empty `Vec` for `n == 0`.
pub fn page_rank(
    n: usize,
    edges: &[(u32, u32, f64)],
    damping: f64,
    max_iterations: usize,
    tolerance: f64,
) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let valid = |&&(u, v, w): &&(u32, u32, f64)| {
        (u as usize) < n && (v as usize) < n && w.is_finite() && w > 0.0
    };
    let mut out_weight = vec![0.0_f64; n];
    for &(u, _, w) in edges.iter().filter(valid) {
        out_weight[u as usize] += w;
    }
    // Pre-scale each edge by its source's total so an iteration is one pass over the list.
    let scaled: Vec<(usize, usize, f64)> = edges
        .iter()
        .filter(valid)
        .map(|&(u, v, w)| (u as usize, v as usize, w / out_weight[u as usize]))
        .collect();
    let flow = |rank: &[f64], next: &mut [f64]| {
        next.fill(0.0);
        for &(u, v, p) in &scaled {
            next[v] += rank[u] * p;
        }
    };
    let rank = vec![1.0 / n as f64; n];
    iterate(rank, &out_weight, damping, max_iterations, tolerance, flow)
}

/// PageRank over the undirected graph of `adj` restricted to the slots `nodes` (each edge walked
/// both ways; edges to other slots left out),
/// starting from `start` (one value per node, rescaled to sum to 1; uniform when it does not hold
/// a positive finite total). Returns one rank per node of `nodes`, in that order.
///
/// Gauss-Seidel sweeps instead of power iteration: each node pulls from its neighbours' ranks as
/// already updated in the sweep, in the order of `nodes`. The fixed point is the same; a sweep
/// costs what an iteration does, and from a warm start about half as many reach the tolerance. A
/// sweep stops the run when it changes the ranks (renormalised) by less than `tolerance` in L1.
/// Multiplying every weight by one factor leaves the ranks as they are.
pub(crate) fn page_rank_undirected(
    adj: &Adjacency,
    nodes: &[u32],
    start: Vec<f64>,
    damping: f64,
    max_iterations: usize,
    tolerance: f64,
) -> Vec<f64> {
    let n = nodes.len();
    if n == 0 {
        return Vec::new();
    }
    let slots = adj
        .len()
        .max(nodes.iter().map(|&s| s as usize + 1).max().unwrap_or(0));
    let mut member = vec![false; slots];
    nodes.iter().for_each(|&s| member[s as usize] = true);
    // Only edges to slots in `nodes` leave a node (a weight of 0, which the rows hold instead of
    // a bad one, carries nothing): a row's total serves unless the row reaches outside them.
    let mut reaches_out = vec![false; slots];
    for x in (0..adj.len()).filter(|&x| !member[x]) {
        adj.row(x)
            .0
            .iter()
            .for_each(|&u| reaches_out[u as usize] = true);
    }
    let inverse: Vec<f64> = nodes
        .iter()
        .map(|&s| {
            let w = if reaches_out[s as usize] {
                let (targets, weights) = adj.row(s as usize);
                let inside = targets
                    .iter()
                    .zip(weights)
                    .filter(|&(&u, _)| member[u as usize]);
                inside.map(|(_, &w)| w).sum()
            } else {
                adj.total(s as usize)
            };
            if w > 0.0 { 1.0 / w } else { 0.0 }
        })
        .collect();
    let dangling: Vec<usize> = (0..n).filter(|&k| inverse[k] == 0.0).collect();
    let total: f64 = start.iter().sum();
    let mut rank = if start.len() == n && total.is_finite() && total > 0.0 {
        start.into_iter().map(|x| x / total).collect()
    } else {
        vec![1.0 / n as f64; n]
    };
    // What one unit of edge weight carries from each slot: `r(u) / W(u)`, kept current as the
    // sweep updates `rank` (0 for slots outside `nodes`).
    let mut share = vec![0.0_f64; slots];
    for (k, &s) in nodes.iter().enumerate() {
        share[s as usize] = rank[k] * inverse[k];
    }
    let mut before = vec![0.0_f64; n];
    for _ in 0..max_iterations {
        before.copy_from_slice(&rank);
        let base = teleport(&rank, &dangling, damping);
        for (k, &s) in nodes.iter().enumerate() {
            // Slots outside `nodes` have a share of 0: no need to check them here.
            let (targets, weights) = adj.row(s as usize);
            let pulled: f64 = targets
                .iter()
                .zip(weights)
                .map(|(&u, &w)| w * share[u as usize])
                .sum();
            rank[k] = base + damping * pulled;
            share[s as usize] = rank[k] * inverse[k];
        }
        // Renormalise: a sweep mixes old and new ranks, so it does not keep the total exactly.
        let total: f64 = rank.iter().sum();
        if total > 0.0 {
            rank.iter_mut().for_each(|x| *x /= total);
            nodes.iter().for_each(|&s| share[s as usize] /= total);
        }
        let change: f64 = rank.iter().zip(&before).map(|(a, b)| (a - b).abs()).sum();
        if change < tolerance {
            break;
        }
    }
    rank
}

/// What every node receives whatever the edges: the random jump, `(1 - d) / n`, plus the mass of
/// the dangling nodes spread evenly, `d * Σ_{u dangling} r(u) / n`.
fn teleport(rank: &[f64], dangling: &[usize], damping: f64) -> f64 {
    let nf = rank.len() as f64;
    let dangling_mass: f64 = dangling.iter().map(|&u| rank[u]).sum();
    (1.0 - damping) / nf + damping * dangling_mass / nf
}

/// Power iteration from `rank`: `flow(rank, next)` writes into `next` what each node receives
/// along edges, `Σ_{u -> v} r(u) * w(u,v) / W(u)`; nodes whose `out_weight` is 0 are dangling.
fn iterate(
    mut rank: Vec<f64>,
    out_weight: &[f64],
    damping: f64,
    max_iterations: usize,
    tolerance: f64,
    mut flow: impl FnMut(&[f64], &mut [f64]),
) -> Vec<f64> {
    let n = rank.len();
    let dangling: Vec<usize> = (0..n).filter(|&u| out_weight[u] <= 0.0).collect();
    let mut next = vec![0.0_f64; n];
    for _ in 0..max_iterations {
        let base = teleport(&rank, &dangling, damping);
        flow(&rank, &mut next);
        next.iter_mut().for_each(|x| *x = base + damping * *x);
        // Renormalise against rounding drift; the model itself preserves the total.
        let total: f64 = next.iter().sum();
        if total > 0.0 {
            next.iter_mut().for_each(|x| *x /= total);
        }
        let change: f64 = rank.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if change < tolerance {
            break;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dense power iteration of the same model, for comparison.
    fn dense(n: usize, edges: &[(u32, u32, f64)], d: f64, iters: usize) -> Vec<f64> {
        let mut m = vec![vec![0.0; n]; n];
        let mut out = vec![0.0; n];
        for &(u, v, w) in edges {
            m[u as usize][v as usize] += w;
            out[u as usize] += w;
        }
        let mut r = vec![1.0 / n as f64; n];
        for _ in 0..iters {
            let mut next = vec![0.0; n];
            for u in 0..n {
                for v in 0..n {
                    let p = if out[u] > 0.0 {
                        m[u][v] / out[u]
                    } else {
                        1.0 / n as f64
                    };
                    next[v] += r[u] * (d * p + (1.0 - d) / n as f64);
                }
            }
            r = next;
        }
        r
    }

    #[test]
    fn empty_graph_has_no_ranks() {
        assert!(page_rank(0, &[], 0.85, 10, 0.0).is_empty());
    }

    #[test]
    fn sums_to_one_with_dangling_nodes() {
        let edges = [(0, 1, 1.0), (1, 2, 2.0), (0, 2, 1.0)];
        let r = page_rank(4, &edges, 0.85, 100, 1e-12);
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(r[2] > r[1] && r[1] > r[0]);
        assert!(
            (r[0] - r[3]).abs() < 1e-12,
            "nodes nobody links to rank alike"
        );
    }

    #[test]
    fn matches_dense_power_iteration() {
        let edges = [
            (0, 1, 1.0),
            (1, 0, 1.0),
            (1, 2, 3.0),
            (2, 0, 0.5),
            (3, 2, 1.0),
            (4, 4, 1.0),
            (2, 5, 1.0),
        ];
        let a = page_rank(6, &edges, 0.85, 60, 0.0);
        let b = dense(6, &edges, 0.85, 60);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn ignores_invalid_edges() {
        let r = page_rank(
            2,
            &[(0, 5, 1.0), (0, 1, f64::NAN), (1, 0, -1.0)],
            0.85,
            10,
            0.0,
        );
        assert!((r[0] - 0.5).abs() < 1e-12 && (r[1] - 0.5).abs() < 1e-12);
    }

    /// The sweeps reach power iteration's ranks, from a uniform start and from a skewed one, with
    /// an isolated (dangling) node.
    #[test]
    fn sweeps_reach_power_iterations_ranks() {
        let undirected = [
            (0, 1, 1.0),
            (1, 2, 3.0),
            (0, 2, 0.5),
            (2, 3, 1.0),
            (3, 4, 2.0),
        ];
        let both: Vec<(u32, u32, f64)> = undirected
            .iter()
            .flat_map(|&(a, b, w)| [(a, b, w), (b, a, w)])
            .collect();
        let expected = page_rank(6, &both, 0.85, 500, 0.0);
        let adj = Adjacency::undirected(6, undirected.iter().map(|&(a, b, w)| (a, b, w, 1)));
        let nodes: Vec<u32> = (0..6).collect();
        for start in [vec![], vec![10.0, 0.0, 0.0, 0.0, 0.0, 1.0]] {
            let got = page_rank_undirected(&adj, &nodes, start, 0.85, 500, 1e-14);
            let l1: f64 = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).sum();
            assert!(l1 < 1e-12, "{got:?} vs {expected:?}");
        }
    }

    /// Slots left out of `nodes` take no part: the ranks are those of the graph without them,
    /// in the order `nodes` gives, and a common factor on the weights changes nothing.
    #[test]
    fn sweeps_over_some_slots_rank_the_graph_of_those_slots() {
        let undirected = [
            (0, 1, 1.0),
            (1, 2, 3.0),
            (0, 2, 0.5),
            (2, 3, 1.0),
            (3, 4, 2.0),
            (1, 5, 7.0),
        ];
        // Slot 5 is left out; the rest in the order 4, 2, 0, 3, 1.
        let nodes = [4, 2, 0, 3, 1];
        let at = |s: u32| nodes.iter().position(|&x| x == s).unwrap() as u32;
        let both: Vec<(u32, u32, f64)> = undirected
            .iter()
            .filter(|e| e.1 != 5)
            .flat_map(|&(a, b, w)| [(at(a), at(b), w), (at(b), at(a), w)])
            .collect();
        let expected = page_rank(5, &both, 0.85, 500, 0.0);
        for scale in [1.0, 1e-30, 3.0e20] {
            let adj =
                Adjacency::undirected(6, undirected.iter().map(|&(a, b, w)| (a, b, w * scale, 1)));
            let got = page_rank_undirected(&adj, &nodes, vec![], 0.85, 500, 1e-14);
            let l1: f64 = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).sum();
            assert!(l1 < 1e-12, "{scale}: {got:?} vs {expected:?}");
        }
    }
}
