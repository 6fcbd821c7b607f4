//! The settings of the graph-based head ranking and their choices; the spec's `rank` section reuses them.

use super::head_share::HeadShare;
use serde::{Deserialize, Serialize};

/// Settings of the graph-based head ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RankSpec {
    /// Training images used for the calibration pass.
    pub calib_samples: usize,
    /// Per-head signal: `attention` maps or head `output`s.
    pub signal: Signal,
    /// Similarity of two heads' signals.
    pub similarity: Similarity,
    /// Direction of the graph's edges.
    pub direction: Direction,
    /// Damping of the random walk.
    pub damping: f64,
    /// Convergence tolerance of the power iteration.
    pub tol: f64,
    /// Iteration limit of the power iteration.
    pub max_iter: usize,
    /// Score normalisation.
    pub normalize: Normalize,
    /// A classifier node joined to the last block's heads by their writes into the class token.
    pub sink: Sink,
    /// Where the random walk teleports: uniformly, or to each head by its contribution.
    pub teleport: Teleport,
    /// Heads kept at least in every block.
    pub min_heads: usize,
    /// Fraction of the removed parameters taken from heads; `auto` = same fraction of attention and MLP.
    pub head_share: HeadShare,
}

/// The per-head signal the graph compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// softmax(q k^T * scale), T x T.
    #[default]
    Attention,
    /// The head's output A V, T x d_h.
    Output,
}

/// Similarity between two heads' signals (negatives clipped to 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Similarity {
    /// Cosine similarity.
    #[default]
    Cosine,
    /// Pearson correlation.
    Pearson,
}

/// Which way edges run between adjacent blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From block l+1 to block l (importance flows back from the output).
    #[default]
    Backward,
    /// From block l to block l+1.
    Forward,
    /// Both ways.
    Both,
}

/// Whether the head graph has a classifier node (`rank.sink`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sink {
    /// Heads only: with backward edges the last block has no incoming edge and its heads tie.
    None,
    /// The classifier as a node, joined to each last-block head by the mean norm of its write into the class token.
    #[default]
    Classifier,
}

/// The teleport distribution of the random walk (`rank.teleport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Teleport {
    /// Uniform over the nodes (plain PageRank).
    #[default]
    Uniform,
    /// Personalised: to each head in proportion to the mean norm of its write into the residual stream.
    Contribution,
}

/// How raw stationary scores are normalised before ranking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    /// Raw stationary distribution (the default: best over three seeds on MNIST 5k; see the README).
    #[default]
    None,
    /// Each score divided by its block's mean: removes the depth bias of the layered graph (won the single-seed
    /// ranking ablation on Fashion-MNIST, which therefore pins it).
    PerBlock,
}
