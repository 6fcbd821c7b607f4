//! The pruning methods: GOHSP, its ablation and the baselines; the spec's `method` key reuses this enum.

use serde::{Deserialize, Serialize};

/// Pruning methods: GOHSP, its ablation and the baselines (docs/design.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Graph-ranked heads, ADMM, hard prune, fine-tune.
    #[default]
    Gohsp,
    /// GOHSP with heads chosen by weight norm instead of the graph.
    GohspMagnitudeHeads,
    /// GOHSP with seeded random heads inside each block: the graph's per-block head counts, the heads within a block
    /// drawn at random, same ADMM (ablation: what the graph's choice within a block buys).
    GohspRandomHeads,
    /// GOHSP with seeded random head scores ranked globally, so the per-block counts are random too, same ADMM (the
    /// `gohsp-random-heads` of before the within-block draw).
    GohspRandomHeadsGlobal,
    /// GOHSP's graph-ranked heads and ADMM's projection applied once to the dense weights, with no ADMM training;
    /// fine-tuning gets ADMM's epochs (ablation: what ADMM buys).
    GohspOneShot,
    /// One-shot global group L2 norm.
    Magnitude,
    /// Same ratio in every block, L2 within a block.
    Uniform,
    /// Seeded random groups under the same budget.
    Random,
    /// First-order |g * w| per group on calibration batches.
    Taylor,
}
