//! softmax(scale * x) over the last axis as one op with its own backward (attention's probabilities).

use super::kernels;
use super::route::{NoCheckpointing, Routed, TrackedTensor, from_plain, from_tracked, owned, route, values};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::Tensor;

/// softmax(scale * x) along the last axis.
pub fn softmax_scaled<const D: usize>(x: Tensor<D>, scale: f64) -> Tensor<D> {
    match route(x) {
        Routed::Plain(x) => from_plain(forward(x, scale as f32)),
        Routed::Tracked(x) => from_tracked(tracked(x, scale as f32)),
        Routed::Composed(x) => burn::tensor::activation::softmax(x.mul_scalar(scale), D - 1),
    }
}

fn row_len(x: &FlexTensor) -> usize {
    *x.shape().last().expect("softmax needs at least one axis")
}

/// The probabilities, computed over (a private copy of) the scores: softmax's backward needs its output only.
fn forward(x: FlexTensor, scale: f32) -> FlexTensor {
    let mut y = owned(x);
    let row_len = row_len(&y);
    kernels::softmax_in_place(y.storage_mut::<f32>(), row_len, scale);
    y
}

#[derive(Debug)]
struct SoftmaxBackward {
    scale: f32,
}

impl Backward<Flex, 1> for SoftmaxBackward {
    /// The output probabilities.
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let y = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            let mut grad = owned(grad);
            kernels::softmax_backward_in_place(values(&y), grad.storage_mut::<f32>(), row_len(&y), self.scale);
            grad
        });
    }
}

fn tracked(x: TrackedTensor, scale: f32) -> TrackedTensor {
    let (scores, node) = x.into_parts();
    let output = forward(scores, scale);
    let backward = SoftmaxBackward { scale };
    match backward.prepare::<NoCheckpointing>([node]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(output.clone(), output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}
