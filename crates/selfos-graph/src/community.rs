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
//! Agent nodes do not take part: every answer touches its agent, so agents would pull the whole
//! graph into one community. Each agent gets a community of its own, and edges to agents are
//! ignored.

/// Rounds before label propagation stops even if labels still move.
const MAX_ROUNDS: usize = 20;

/// Labels `n` nodes; `edges` are undirected `(a, b, weight)`; nodes with `skip[i]` set get a
/// community of their own and carry no label across edges.
pub(crate) fn label_propagation(
    n: usize,
    edges: &[(usize, usize, f64)],
    skip: &[bool],
) -> Vec<u32> {
    let skipped = |i: usize| skip.get(i).copied().unwrap_or(false);
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for &(a, b, w) in edges {
        if a < n && b < n && a != b && !skipped(a) && !skipped(b) && w > 0.0 {
            adj[a].push((b, w));
            adj[b].push((a, w));
        }
    }
    let mut label: Vec<usize> = (0..n).collect();
    // Weight per label for the node being visited, and which labels it touched.
    let mut by_label = vec![0.0_f64; n];
    let mut touched: Vec<usize> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for i in 0..n {
            if adj[i].is_empty() {
                continue;
            }
            for &(j, w) in &adj[i] {
                let l = label[j];
                if by_label[l] == 0.0 {
                    touched.push(l);
                }
                by_label[l] += w;
            }
            touched.sort_unstable();
            let mut best = (label[i], 0.0_f64);
            for &l in &touched {
                let total = by_label[l];
                let eps = 1e-9 * total.abs().max(best.1.abs());
                // Ascending labels: a later label wins only when clearly heavier.
                if total > best.1 + eps || (l == label[i] && (total - best.1).abs() <= eps) {
                    best = (l, total);
                }
            }
            for &l in &touched {
                by_label[l] = 0.0;
            }
            touched.clear();
            if best.0 != label[i] {
                label[i] = best.0;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut renumber = vec![u32::MAX; n];
    let mut next = 0_u32;
    label
        .iter()
        .map(|&l| {
            if renumber[l] == u32::MAX {
                renumber[l] = next;
                next += 1;
            }
            renumber[l]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
