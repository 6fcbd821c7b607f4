//! Per-epoch training records, kept in checkpoints and written beside stage artifacts for the loss-curve plots.

use serde::{Deserialize, Serialize};

/// What one epoch of training measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Training top-1 (%) on augmented batches.
    pub train_top1: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// Wall time of the epoch in seconds.
    pub seconds: f64,
    /// Training images per second.
    pub images_per_s: f64,
}
