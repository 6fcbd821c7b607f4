//! The head graph of docs/design.md section 4 (rank, steps 3-4): heads as nodes, similarity-weighted edges between adjacent
//! blocks, optionally a classifier node tied to the last block by each head's write into the class token, a patch
//! embedding node feeding block 0 by what each of its heads reads (where edges run forward), and head
//! scores as the stationary distribution of its random walk (PageRank, optionally personalised by a per-head signal).

use super::rank_spec::Direction;
use crate::error::{GohspError, Result};
use crate::prune::pagerank::{NotConverged, personalized_pagerank};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

/// One edge of the head graph, heads named (block, head), for graph.json and its plot.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Source head (block, head).
    pub from: (usize, usize),
    /// Target head (block, head).
    pub to: (usize, usize),
    /// Clipped similarity of the two heads.
    pub weight: f64,
}

/// The weighted digraph of the heads of every block.
#[derive(Clone, Debug)]
pub(crate) struct HeadGraph {
    heads_per_block: Vec<usize>,
    /// Nodes are (block, head); after the heads come the classifier node (L, 0) and the embedding node (L + 1, 0),
    /// when there are.
    graph: DiGraph<(usize, usize), f64>,
    /// Teleport weight of every node (heads, then the classifier); uniform when `None`.
    teleport: Option<Vec<f64>>,
}

/// Checks that `sims` has one H_l x H_{l+1} matrix per pair of adjacent blocks.
fn check_similarity_shapes(heads_per_block: &[usize], sims: &[Vec<Vec<f64>>]) -> Result<()> {
    let pairs = heads_per_block.len().saturating_sub(1);
    if sims.len() != pairs {
        return Err(GohspError::Internal(format!(
            "head graph: {} similarity matrices for {pairs} block pairs",
            sims.len()
        )));
    }
    for (l, matrix) in sims.iter().enumerate() {
        let (rows, cols) = (heads_per_block[l], heads_per_block[l + 1]);
        if matrix.len() != rows || matrix.iter().any(|row| row.len() != cols) {
            return Err(GohspError::Internal(format!("head graph: similarity matrix {l} is not {rows} x {cols}")));
        }
    }
    Ok(())
}

impl HeadGraph {
    /// Build the graph from `sims[l][i][j]`, the similarity of head i of block l and head j of block l+1.
    /// Negative (and NaN) similarities are clipped to 0 and zero-weight edges left out. `Backward` edges run from
    /// block l+1 to block l, `Forward` from l to l+1, `Both` both ways. Mismatched matrix shapes are an internal error.
    pub(crate) fn from_similarities(
        heads_per_block: &[usize],
        sims: &[Vec<Vec<f64>>],
        direction: Direction,
    ) -> Result<Self> {
        check_similarity_shapes(heads_per_block, sims)?;
        let mut graph = DiGraph::new();
        let nodes: Vec<Vec<NodeIndex>> = heads_per_block
            .iter()
            .enumerate()
            .map(|(l, &h)| (0..h).map(|i| graph.add_node((l, i))).collect())
            .collect();
        for (l, matrix) in sims.iter().enumerate() {
            for (i, row) in matrix.iter().enumerate() {
                for (j, &sim) in row.iter().enumerate() {
                    if sim.is_nan() || sim <= 0.0 {
                        continue;
                    }
                    let (early, late) = (nodes[l][i], nodes[l + 1][j]);
                    if matches!(direction, Direction::Backward | Direction::Both) {
                        graph.add_edge(late, early, sim);
                    }
                    if matches!(direction, Direction::Forward | Direction::Both) {
                        graph.add_edge(early, late, sim);
                    }
                }
            }
        }
        Ok(Self { heads_per_block: heads_per_block.to_vec(), graph, teleport: None })
    }

    /// Add the classifier as node (L, 0), joined to each head h of the last block by `weights[h]` (its write into
    /// the class token): classifier -> head for `Backward`, head -> classifier for `Forward`, both for `Both`.
    /// Zero or NaN weights give no edge. Call before [`HeadGraph::personalize`].
    pub(crate) fn add_classifier(&mut self, weights: &[f64], direction: Direction) -> Result<()> {
        let blocks = self.heads_per_block.len();
        let last = blocks.checked_sub(1).map(|l| self.heads_per_block[l]).unwrap_or(0);
        if weights.len() != last || self.teleport.is_some() {
            let message = format!("head graph: {} classifier weights for {last} last-block heads", weights.len());
            return Err(GohspError::Internal(message));
        }
        let first_of_last = self.graph.node_count() - last;
        let classifier = self.graph.add_node((blocks, 0));
        for (h, &w) in weights.iter().enumerate().filter(|(_, w)| **w > 0.0) {
            let head = NodeIndex::new(first_of_last + h);
            if matches!(direction, Direction::Backward | Direction::Both) {
                self.graph.add_edge(classifier, head, w);
            }
            if matches!(direction, Direction::Forward | Direction::Both) {
                self.graph.add_edge(head, classifier, w);
            }
        }
        Ok(())
    }

    /// Add the patch embedding as node (L + 1, 0), joined to each head h of block 0 by `reads[h]` (what it reads from
    /// the embedding): embedding -> head for `Forward`, both ways for `Both`; `Backward` adds nothing, since block 0
    /// then receives from block 1. Without it, forward edges leave block 0 with no incoming edge and its heads tie.
    /// Zero or NaN weights give no edge. Call after [`HeadGraph::add_classifier`], before [`HeadGraph::personalize`].
    pub(crate) fn add_source(&mut self, reads: &[f64], direction: Direction) -> Result<()> {
        let blocks = self.heads_per_block.len();
        let first = self.heads_per_block.first().copied().unwrap_or(0);
        if reads.len() != first || self.teleport.is_some() {
            let message = format!("head graph: {} embedding weights for {first} block-0 heads", reads.len());
            return Err(GohspError::Internal(message));
        }
        if direction == Direction::Backward {
            return Ok(());
        }
        let source = self.graph.add_node((blocks + 1, 0));
        for (h, &w) in reads.iter().enumerate().filter(|(_, w)| **w > 0.0) {
            let head = NodeIndex::new(h);
            self.graph.add_edge(source, head, w);
            if direction == Direction::Both {
                self.graph.add_edge(head, source, w);
            }
        }
        Ok(())
    }

    /// Teleport to each head in proportion to `weights` (L x H_l, non-negative); a classifier node gets the mean
    /// head weight, as if it were one more head, and so does an embedding node.
    pub(crate) fn personalize(&mut self, weights: &[Vec<f64>]) -> Result<()> {
        let mut flat: Vec<f64> =
            weights.iter().flatten().map(|w| if w.is_finite() { w.max(0.0) } else { 0.0 }).collect();
        if weights.iter().map(Vec::len).ne(self.heads_per_block.iter().copied()) {
            return Err(GohspError::Internal("head graph: teleport weights do not match the heads".into()));
        }
        let mean = flat.iter().sum::<f64>() / flat.len().max(1) as f64;
        flat.resize(self.graph.node_count().max(flat.len()), mean);
        self.teleport = Some(flat);
        Ok(())
    }

    /// Raw scores, one Vec per block (L x H_l): the PageRank of each head, summing to 1 over all nodes (the heads,
    /// and the classifier when there is one, whose own score is left out).
    pub(crate) fn scores(&self, damping: f64, tol: f64, max_iter: usize) -> Result<Vec<Vec<f64>>, NotConverged> {
        let flat = personalized_pagerank(&self.graph, damping, tol, max_iter, self.teleport.as_deref())?;
        let mut rest = flat.as_slice();
        let per_block = self.heads_per_block.iter().map(|&h| {
            let (block, tail) = rest.split_at(h);
            rest = tail;
            block.to_vec()
        });
        Ok(per_block.collect())
    }

    /// Every edge, in insertion order.
    pub(crate) fn edges(&self) -> Vec<GraphEdge> {
        let edge = |e: petgraph::graph::EdgeReference<f64>| GraphEdge {
            from: self.graph[e.source()],
            to: self.graph[e.target()],
            weight: *e.weight(),
        };
        self.graph.edge_references().map(edge).collect()
    }
}

/// Each block's scores divided by the block's mean (`rank.normalize: per_block`); an all-zero block stays zero.
pub(crate) fn normalize_per_block(scores: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let normalize = |block: &Vec<f64>| {
        let mean = block.iter().sum::<f64>() / block.len().max(1) as f64;
        block.iter().map(|s| if mean == 0.0 { 0.0 } else { s / mean }).collect()
    };
    scores.iter().map(normalize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 blocks of 2 heads, every adjacent pair equally similar except one weaker head in the last block.
    fn layered(direction: Direction) -> HeadGraph {
        let sims = vec![vec![vec![0.9, 0.9], vec![0.9, 0.9]], vec![vec![0.9, 0.2], vec![0.9, -0.4]]];
        HeadGraph::from_similarities(&[2, 2, 2], &sims, direction).unwrap()
    }

    fn block_means(scores: &[Vec<f64>]) -> Vec<f64> {
        scores.iter().map(|b| b.iter().sum::<f64>() / b.len() as f64).collect()
    }

    #[test]
    fn backward_edges_favour_early_blocks() {
        // Depth bias: with edges pointing towards the input, mass piles up in block 0 whatever the similarities say.
        let scores = layered(Direction::Backward).scores(0.85, 1e-10, 1000).unwrap();
        let means = block_means(&scores);
        assert!(means[0] > means[1] && means[1] > means[2], "{means:?}");
        let forward = block_means(&layered(Direction::Forward).scores(0.85, 1e-10, 1000).unwrap());
        assert!(forward[2] > forward[0], "{forward:?}");
    }

    #[test]
    fn negatives_are_clipped_and_zero_edges_left_out() {
        let graph = layered(Direction::Backward);
        let edges = graph.edges();
        assert_eq!(edges.len(), 7);
        assert!(edges.iter().all(|e| e.weight > 0.0 && e.from.0 == e.to.0 + 1));
        assert!(!edges.iter().any(|e| e.from == (2, 1) && e.to == (1, 1)));
        assert_eq!(layered(Direction::Both).edges().len(), 14);
    }

    #[test]
    fn both_differs_from_backward() {
        let backward = layered(Direction::Backward).scores(0.85, 1e-10, 1000).unwrap();
        let both = layered(Direction::Both).scores(0.85, 1e-10, 1000).unwrap();
        let gap: f64 = backward.iter().flatten().zip(both.iter().flatten()).map(|(a, b)| (a - b).abs()).sum();
        assert!(gap > 1e-3, "{backward:?} vs {both:?}");
        assert!((both.iter().flatten().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn per_block_normalisation_gives_every_block_mean_one() {
        let scores = layered(Direction::Backward).scores(0.85, 1e-10, 1000).unwrap();
        let normalised = normalize_per_block(&scores);
        assert!(block_means(&normalised).iter().all(|m| (m - 1.0).abs() < 1e-12));
        assert_eq!(normalize_per_block(&[vec![0.0, 0.0], vec![]]), vec![vec![0.0, 0.0], vec![]]);
    }

    #[test]
    fn backward_edges_alone_tie_the_last_block() {
        let scores = layered(Direction::Backward).scores(0.85, 1e-10, 1000).unwrap();
        assert_eq!(scores[2][0], scores[2][1], "the degenerate end this module's options exist for");
    }

    #[test]
    fn a_classifier_sink_orders_the_last_block_by_its_weights() {
        let mut graph = layered(Direction::Backward);
        graph.add_classifier(&[0.2, 0.7], Direction::Backward).unwrap();
        let scores = graph.scores(0.85, 1e-10, 1000).unwrap();
        assert_eq!(
            scores.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![2, 2, 2],
            "the classifier's score is left out"
        );
        assert!(scores[2][1] > scores[2][0], "{scores:?}");
        let edges = graph.edges();
        assert!(edges.contains(&GraphEdge { from: (3, 0), to: (2, 1), weight: 0.7 }));
        let mut forward = layered(Direction::Forward);
        forward.add_classifier(&[0.2, 0.0], Direction::Forward).unwrap();
        let last: Vec<GraphEdge> = forward.edges().into_iter().filter(|e| e.to == (3, 0)).collect();
        assert_eq!(last, vec![GraphEdge { from: (2, 0), to: (3, 0), weight: 0.2 }], "zero weights give no edge");
        assert!(layered(Direction::Both).add_classifier(&[1.0], Direction::Both).is_err());
    }

    #[test]
    fn an_embedding_source_orders_block_0_under_forward_edges() {
        let tied = layered(Direction::Forward).scores(0.85, 1e-10, 1000).unwrap();
        assert_eq!(tied[0][0], tied[0][1], "forward edges alone leave block 0 without incoming edges");
        let mut graph = layered(Direction::Forward);
        graph.add_source(&[0.3, 0.9], Direction::Forward).unwrap();
        let scores = graph.scores(0.85, 1e-10, 1000).unwrap();
        assert!(scores[0][1] > scores[0][0], "{scores:?}");
        assert!(graph.edges().contains(&GraphEdge { from: (4, 0), to: (0, 1), weight: 0.9 }));
        let mut both = layered(Direction::Both);
        both.add_source(&[0.3, 0.9], Direction::Both).unwrap();
        assert_eq!(both.edges().iter().filter(|e| e.from == (4, 0) || e.to == (4, 0)).count(), 4);
        let mut backward = layered(Direction::Backward);
        backward.add_source(&[0.3, 0.9], Direction::Backward).unwrap();
        assert_eq!(backward.edges(), layered(Direction::Backward).edges(), "backward edges need no source");
        assert!(layered(Direction::Forward).add_source(&[1.0], Direction::Forward).is_err());
        let mut sink_and_source = layered(Direction::Forward);
        sink_and_source.add_classifier(&[0.2, 0.7], Direction::Forward).unwrap();
        sink_and_source.add_source(&[0.3, 0.9], Direction::Forward).unwrap();
        sink_and_source.personalize(&[vec![1.0, 1.0], vec![1.0, 1.0], vec![1.0, 1.0]]).unwrap();
        let sums: f64 = sink_and_source.scores(0.85, 1e-10, 1000).unwrap().iter().flatten().sum();
        assert!(sums < 1.0 && sums > 0.5, "the two extra nodes hold the rest of the mass: {sums}");
    }

    #[test]
    fn personalisation_separates_heads_the_graph_cannot() {
        // Block 2 under backward edges ties; teleporting by a per-head signal orders it (and every block) by the signal.
        let mut graph = layered(Direction::Backward);
        graph.personalize(&[vec![1.0, 3.0], vec![1.0, 1.0], vec![5.0, 1.0]]).unwrap();
        let scores = graph.scores(0.85, 1e-10, 1000).unwrap();
        assert!(scores[2][0] > scores[2][1] && scores[0][1] > scores[0][0], "{scores:?}");
        assert!((scores.iter().flatten().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(graph.personalize(&[vec![1.0]]).is_err());
        let mut with_sink = layered(Direction::Backward);
        with_sink.add_classifier(&[1.0, 1.0], Direction::Backward).unwrap();
        with_sink.personalize(&[vec![1.0, 1.0], vec![1.0, 1.0], vec![1.0, 1.0]]).unwrap();
        let plain = {
            let mut g = layered(Direction::Backward);
            g.add_classifier(&[1.0, 1.0], Direction::Backward).unwrap();
            g.scores(0.85, 1e-10, 1000).unwrap()
        };
        let equal = with_sink.scores(0.85, 1e-10, 1000).unwrap();
        let gap: f64 = plain.iter().flatten().zip(equal.iter().flatten()).map(|(a, b)| (a - b).abs()).sum();
        assert!(gap < 1e-9, "equal weights (the classifier one of them) are the uniform teleport");
    }

    #[test]
    fn mismatched_similarities_are_an_error() {
        let sims = vec![vec![vec![0.5, 0.5]]];
        assert!(HeadGraph::from_similarities(&[2, 2], &sims, Direction::Backward).is_err());
        let empty_block =
            HeadGraph::from_similarities(&[2, 0, 1], &[vec![vec![], vec![]], vec![]], Direction::Both).unwrap();
        let scores = empty_block.scores(0.85, 1e-10, 100).unwrap();
        assert_eq!(scores.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 0, 1]);
        assert!(scores.iter().flatten().all(|s| (s - 1.0 / 3.0).abs() < 1e-12), "{scores:?}");
    }
}
