//! The structure masks of the baseline methods: magnitude, uniform, random and Taylor, under the same budget as GOHSP.

use super::budget::Budget;
use super::mask::StructureMask;
use super::method::Method;
use super::norms::{head_norms, neuron_norms};
use super::select::{keep_top_global, keep_top_per_block, random_scores};
use crate::model::host::NamedTensors;
use crate::model::shape::VitShape;

/// Per-group importance scores (higher = keep), heads and neurons.
pub struct GroupScores {
    /// Per block, per head.
    pub heads: Vec<Vec<f64>>,
    /// Per block, per neuron.
    pub neurons: Vec<Vec<f64>>,
}

/// Minimum groups kept per block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Minimums {
    /// Heads.
    pub heads: usize,
    /// Neurons.
    pub neurons: usize,
}

/// Scores of `method` that need only the weights (magnitude, uniform: L2 norms; random: seeded noise).
pub(crate) fn weight_scores(method: Method, shape: &VitShape, tensors: &NamedTensors, seed: u64) -> GroupScores {
    match method {
        Method::Random => {
            let heads: Vec<usize> = shape.blocks.iter().map(|b| b.heads).collect();
            let neurons: Vec<usize> = shape.blocks.iter().map(|b| b.mlp).collect();
            GroupScores { heads: random_scores(&heads, seed), neurons: random_scores(&neurons, seed.wrapping_add(1)) }
        }
        _ => GroupScores { heads: head_norms(shape, tensors), neurons: neuron_norms(shape, tensors) },
    }
}

/// The mask that removes the budget's groups by `scores`: per block for `uniform`, globally otherwise.
pub(crate) fn baseline_mask(method: Method, scores: &GroupScores, budget: &Budget, min: Minimums) -> StructureMask {
    let select = if method == Method::Uniform { keep_top_per_block } else { keep_top_global };
    StructureMask {
        heads: select(&scores.heads, budget.heads_removed, min.heads),
        neurons: select(&scores.neurons, budget.neurons_removed, min.neurons),
        qk_pairs: None,
    }
}
