//! The settings of GOHSP's ADMM stage, in one type: the round and rho schedule that `run_admm` follows, the W-step's
//! overrides of the fine-tune recipe, and the minimums of the projection. Specs name them under `admm:`.

use crate::train::distill_spec::DistillSpec;
use serde::{Deserialize, Serialize};

/// Settings of the ADMM sparsification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdmmSpec {
    /// Number of W/Z/U rounds.
    pub rounds: usize,
    /// Epochs of the W-step per round.
    pub epochs_per_round: usize,
    /// Initial penalty rho.
    pub rho: f64,
    /// Factor applied to rho after each round.
    pub rho_growth: f64,
    /// Upper bound of rho.
    pub rho_max: f64,
    /// Peak learning rate of the W-step; absent (the default) = `finetune.lr`. The W-step always follows the fine-tune
    /// recipe's schedule (warm-up share, cosine decay to `finetune.min_lr`, weight decay, clip, label smoothing) over
    /// all rounds' epochs, so that ADMM spends its epochs on the recipe the baselines spend the same epochs on.
    pub lr: Option<f64>,
    /// Distillation of the W-step from the dense model; absent (the default) = `finetune.distill`. `{ alpha: 0 }`
    /// trains the W-step on plain cross-entropy.
    pub distill: Option<DistillSpec>,
    /// Batch size of the W-step.
    pub batch: usize,
    /// MLP neurons kept at least in every block.
    pub min_neurons: usize,
    /// Share of the attention part of the budget that ADMM takes as q/k dimension pairs inside the kept heads instead
    /// of whole heads, in [0, 1]; 0 (the default) prunes whole heads only. Used by the ADMM methods only.
    pub head_dims: f64,
    /// q/k dimension pairs every kept head keeps at least (with head_dims > 0).
    pub min_head_dims: usize,
}
