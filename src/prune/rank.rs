//! Graph-based head importance (docs/design.md section 4, Rank): calibration similarities, the head graph, stationary scores.

use super::calibrate::calibrate;
use super::head_graph::{GraphEdge, HeadGraph, normalize_per_block};
use super::rank_spec::{Normalize, RankSpec, Sink, Teleport};
use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::model::vit::Vit;
use serde::{Deserialize, Serialize};

/// What the rank stage produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadRanking {
    /// Scores used for ranking (after normalisation), L x H.
    pub scores: Vec<Vec<f64>>,
    /// Raw stationary distribution, L x H.
    pub raw_scores: Vec<Vec<f64>>,
    /// The graph's edges (for plots and debugging); the classifier node, when there is one, is (L, 0), the patch
    /// embedding node (L + 1, 0).
    pub edges: Vec<GraphEdge>,
}

/// Rank the heads of `model` (plain device) with calibration batches from `loader`.
pub fn rank_heads(model: &Vit, loader: &Loader, spec: &RankSpec) -> Result<HeadRanking> {
    let calibration = calibrate(model, loader, spec.calib_samples, spec.signal, spec.similarity)?;
    let heads: Vec<usize> = model.shape().blocks.iter().map(|b| b.heads).collect();
    let mut graph = HeadGraph::from_similarities(&heads, &calibration.sims, spec.direction)?;
    if spec.sink == Sink::Classifier {
        let last = calibration.class_token.last().map(Vec::as_slice).unwrap_or(&[]);
        graph.add_classifier(last, spec.direction)?;
    }
    graph.add_source(calibration.reads.first().map(Vec::as_slice).unwrap_or(&[]), spec.direction)?;
    if spec.teleport == Teleport::Contribution {
        graph.personalize(&calibration.residual)?;
    }
    let raw_scores = graph
        .scores(spec.damping, spec.tol, spec.max_iter)
        .map_err(|e| GohspError::stage("rank", format!("{e} (hint: raise rank.max_iter or rank.tol)")))?;
    let scores = match spec.normalize {
        Normalize::None => raw_scores.clone(),
        Normalize::PerBlock => normalize_per_block(&raw_scores),
    };
    let tied = tied_blocks(&scores);
    if !tied.is_empty() {
        tracing::warn!(blocks = ?tied, "heads of these blocks tie: a selection that must choose among them stops");
    }
    Ok(HeadRanking { scores, raw_scores, edges: graph.edges() })
}

/// Blocks in which two heads have exactly the same score.
pub fn tied_blocks(scores: &[Vec<f64>]) -> Vec<usize> {
    let tied = |block: &Vec<f64>| block.iter().enumerate().any(|(i, a)| block[i + 1..].contains(a));
    scores.iter().enumerate().filter(|(_, b)| tied(b)).map(|(l, _)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_are_found_per_block() {
        assert_eq!(tied_blocks(&[vec![0.1, 0.2], vec![0.3, 0.5, 0.3], vec![], vec![1.0]]), vec![1]);
    }
}
