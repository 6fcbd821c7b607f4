//! The record the ADMM stage logs after each round (admm_log.json); the report plots read it.

use serde::{Deserialize, Serialize};

/// What the ADMM stage logs after each round.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AdmmRound {
    /// Round number, from 1.
    pub round: usize,
    /// ||W - Z|| / ||W|| after the round.
    pub primal_residual: f64,
    /// rho * ||Z - Z_previous|| / ||W|| after the round.
    pub dual_residual: f64,
    /// The penalty weight used in this round.
    pub rho: f64,
    /// Top-1 (%) of the model if it were hard-pruned to the current mask now.
    pub hard_pruned_top1: f64,
    /// Mean training loss (task loss plus penalty) of the round's W-step.
    pub loss: f64,
}
