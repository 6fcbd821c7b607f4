//! One row group of the report: which of the report stage's inputs hold a grid point's evaluation and plot artifacts.

use serde::{Deserialize, Serialize};

/// One row group of the report: which evaluation input belongs to which grid point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReportEntry {
    /// The grid point's name (`dense` for a dense model).
    pub point: String,
    /// Method name (`dense` for the dense model).
    pub method: String,
    /// Target sparsity.
    pub target_sparsity: f64,
    /// Seed.
    pub seed: u64,
    /// Index of this entry's evaluation among the stage's inputs.
    pub eval_input: usize,
    /// Index of the matching dense evaluation among the stage's inputs.
    pub dense_input: usize,
    /// Indices of the inputs whose artifacts feed the plots (rank, admm, prune, finetune), if any.
    pub plot_inputs: Vec<usize>,
}
