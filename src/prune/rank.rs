//! Graph-based head importance (DESIGN.md section 4, Rank): calibration similarities, the head graph, stationary scores.

use super::calibrate::head_similarities;
use super::head_graph::{GraphEdge, HeadGraph, normalize_per_block};
use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::model::vit::Vit;
use crate::spec::types::{Normalize, RankSpec};
use serde::{Deserialize, Serialize};

/// What the rank stage produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadRanking {
    /// Scores used for ranking (after normalisation), L x H.
    pub scores: Vec<Vec<f64>>,
    /// Raw stationary distribution, L x H.
    pub raw_scores: Vec<Vec<f64>>,
    /// The graph's edges (for plots and debugging).
    pub edges: Vec<GraphEdge>,
}

/// Rank the heads of `model` (plain device) with calibration batches from `loader`.
pub fn rank_heads(model: &Vit, loader: &Loader, spec: &RankSpec) -> Result<HeadRanking> {
    let sims = head_similarities(model, loader, spec.calib_samples, spec.signal, spec.similarity)?;
    let heads: Vec<usize> = model.shape().blocks.iter().map(|b| b.heads).collect();
    let graph = HeadGraph::from_similarities(&heads, &sims, spec.direction)?;
    let raw_scores = graph
        .scores(spec.damping, spec.tol, spec.max_iter)
        .map_err(|e| GohspError::stage("rank", format!("{e} (hint: raise rank.max_iter or rank.tol)")))?;
    let scores = match spec.normalize {
        Normalize::None => raw_scores.clone(),
        Normalize::PerBlock => normalize_per_block(&raw_scores),
    };
    Ok(HeadRanking { scores, raw_scores, edges: graph.edges() })
}
