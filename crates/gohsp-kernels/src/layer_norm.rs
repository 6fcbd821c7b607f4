//! LayerNorm over the last axis as one op with its own backward (input, gamma and beta gradients in one pass).

use super::kernels::{self, NormParams, RowStats};
use super::route::{
    NoCheckpointing, Routed, TrackedTensor, contiguous, from_plain, from_tracked, new_tensor, owned, route, values,
};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::nn::LayerNorm;
use burn::tensor::Tensor;

/// `norm` applied to `x` with epsilon `eps` (burn's `LayerNorm` keeps its epsilon private, so the caller passes it).
pub fn layer_norm<const D: usize>(x: Tensor<D>, norm: &LayerNorm, eps: f64) -> Tensor<D> {
    let gamma = norm.gamma.val();
    let Some(beta) = norm.beta.as_ref().map(|b| b.val()) else { return norm.forward(x) };
    match (route(x), route(gamma), route(beta)) {
        (Routed::Plain(x), Routed::Plain(g), Routed::Plain(b)) => {
            from_plain(forward(&contiguous(&x), &contiguous(&g), &contiguous(&b), eps as f32).0)
        }
        (Routed::Tracked(x), Routed::Tracked(g), Routed::Tracked(b)) => from_tracked(tracked(x, g, b, eps as f32)),
        (x, g, b) => burn::tensor::module::layer_norm(x.into_tensor(), g.into_tensor(), Some(b.into_tensor()), eps),
    }
}

fn forward(x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor, eps: f32) -> (FlexTensor, RowStats) {
    let mut stats = None;
    // SAFETY: the kernel writes every output element.
    let out = unsafe {
        new_tensor(x.shape(), |out| {
            let norm = NormParams { gamma: values(gamma), beta: values(beta), eps };
            stats = Some(kernels::layer_norm(values(x), norm, out));
        })
    };
    (out, stats.expect("the kernel ran"))
}

/// What the backward pass keeps: the contiguous input, gamma and the per-row statistics.
#[derive(Clone, Debug)]
struct LayerNormState {
    x: FlexTensor,
    gamma: FlexTensor,
    stats: RowStats,
}

#[derive(Debug)]
struct LayerNormBackward;

impl Backward<Flex, 3> for LayerNormBackward {
    type State = LayerNormState;

    fn backward(self, ops: Ops<LayerNormState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let state = ops.state;
        let mut d_input = owned(grads.consume::<Flex>(&ops.node));
        let (d_gamma, d_beta) = kernels::layer_norm_backward_in_place(
            values(&state.x),
            values(&state.gamma),
            &state.stats,
            d_input.storage_mut::<f32>(),
        );
        let [x, gamma, beta] = ops.parents;
        let width = state.gamma.shape();
        let vector = |v: Vec<f32>| FlexTensor::from_data(burn::tensor::TensorData::new(v, width.clone()));
        if let Some(node) = x {
            grads.register::<Flex>(node.id, d_input);
        }
        if let Some(node) = gamma {
            grads.register::<Flex>(node.id, vector(d_gamma));
        }
        if let Some(node) = beta {
            grads.register::<Flex>(node.id, vector(d_beta));
        }
    }
}

fn tracked(x: TrackedTensor, gamma: TrackedTensor, beta: TrackedTensor, eps: f32) -> TrackedTensor {
    let (input, g) = (contiguous(x.primitive()), contiguous(gamma.primitive()));
    let (output, stats) = forward(&input, &g, &contiguous(beta.primitive()), eps);
    match LayerNormBackward.prepare::<NoCheckpointing>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(LayerNormState { x: input, gamma: g, stats }, output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}
