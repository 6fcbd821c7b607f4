//! The structure a head-ranking method projects onto: the budget's heads removed as their scores say (the lowest
//! globally, or random heads within the ranked per-block counts), and its neurons and q/k pairs left to the
//! projection. An exact tie that decides the heads is an error (exit 2).

use super::admm_state::Constraint;
use super::baselines::Minimums;
use super::budget::Budget;
use super::head_choice::{HeadChoice, choose_heads};
use crate::error::Result;

/// How heads are drawn from their scores, and the words a tie error uses for the criterion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct HeadDraw {
    /// Lowest scores, or the ranked per-block counts with random heads inside each block.
    pub(crate) choice: HeadChoice,
    /// Seed of the random draw.
    pub(crate) seed: u64,
    /// What scored the heads, and the hint of a tie error.
    pub(crate) tie_words: (&'static str, &'static str),
}

/// The constraint for head `scores` [block][head]: `budget.heads_removed` heads drawn as `draw` says (at least
/// `min.heads` kept per block), the budget's neurons and q/k pairs removed by the projection (at least `min.neurons`
/// neurons per block and `min_head_dims` pairs per kept head).
pub(crate) fn ranked_constraint(
    scores: &[Vec<f64>],
    budget: &Budget,
    min: Minimums,
    min_head_dims: usize,
    draw: HeadDraw,
) -> Result<Constraint> {
    let heads = choose_heads(scores, budget.heads_removed, min.heads, draw.choice, draw.seed, draw.tie_words)?;
    Ok(Constraint {
        heads,
        neurons_removed: budget.neurons_removed,
        min_neurons: min.neurons,
        pairs_removed: budget.pairs_removed,
        min_head_dims,
    })
}
