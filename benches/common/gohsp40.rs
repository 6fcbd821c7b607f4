//! The benchmarks' pruned variant: GOHSP's hard pruning of random weights at 40% sparsity (the quickstart's), shared
//! by the throughput bench and the ONNX models bench so that both time the same shapes.

use gohsp::experiment::types::HeadShare;
use gohsp::model::host::NamedTensors;
use gohsp::model::shape::VitShape;
use gohsp::prune::admm_state::{Constraint, project};
use gohsp::prune::budget::{BudgetRequest, solve_budget};
use gohsp::prune::hard::slice_tensors;
use gohsp::prune::norms::head_norms;
use gohsp::prune::select::keep_top_global;

/// The pruned variant's target sparsity (the quickstart's).
pub(crate) const SPARSITY: f64 = 0.4;

/// GOHSP's hard pruning of `tensors` at `SPARSITY`: the budget solved with `auto` head share, a share `head_dims` of
/// the attention part as q/k pairs, and one head, neuron and pair kept per block or head; heads chosen by global L2
/// norm, neurons and pairs by ADMM's projection, the tensors sliced. Returns the smaller shape and tensors.
pub(crate) fn prune(shape: &VitShape, tensors: &NamedTensors, head_dims: f64) -> (VitShape, NamedTensors) {
    let request = BudgetRequest { head_dims, ..BudgetRequest::heads_and_neurons(SPARSITY, HeadShare::Auto, 1, 1) };
    let budget = solve_budget(shape, &request).expect("40% is reachable for both presets");
    let constraint = Constraint {
        heads: keep_top_global(&head_norms(shape, tensors), budget.heads_removed, 1),
        neurons_removed: budget.neurons_removed,
        min_neurons: 1,
        pairs_removed: budget.pairs_removed,
        min_head_dims: 1,
    };
    let (_, mask) = project(shape, tensors, &constraint);
    let (sliced, manifest) = slice_tensors(shape, tensors, &mask);
    (manifest.shape, sliced)
}
