//! Multi-head attention as one op from the fused qkv projection to the merged context, with its own backward.

use super::attention_kernel::{AttentionDims, attention_backward, attention_forward};
use super::route::{
    NoCheckpointing, Routed, TrackedTensor, contiguous, from_plain, from_tracked, new_tensor, route, values,
};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, Shape, TensorMetadata};
use burn::tensor::Tensor;
use std::mem::MaybeUninit;

/// softmax(q k^T * scale) v for every image and head, from qkv [B * T, W] to the context [B * T, H * dh];
/// `composed` computes the same with burn's ops and runs on backends other than flex.
pub fn attention(qkv: Tensor<2>, dims: AttentionDims, composed: impl FnOnce(Tensor<2>) -> Tensor<2>) -> Tensor<2> {
    match route(qkv) {
        Routed::Plain(qkv) => from_plain(forward(&contiguous(&qkv), dims, None)),
        Routed::Tracked(qkv) => from_tracked(tracked(qkv, dims)),
        Routed::Composed(qkv) => composed(qkv),
    }
}

fn context_shape(dims: AttentionDims) -> Shape {
    Shape::from(vec![dims.batch * dims.tokens, dims.context_width()])
}

fn forward(qkv: &FlexTensor, dims: AttentionDims, probs: Option<&mut [MaybeUninit<f32>]>) -> FlexTensor {
    // SAFETY: the kernel writes every element of the context.
    unsafe { new_tensor(context_shape(dims), |context| attention_forward(values(qkv), dims, context, probs)) }
}

/// What the backward pass keeps: qkv and the probabilities.
#[derive(Clone, Debug)]
struct AttentionState {
    qkv: FlexTensor,
    probs: FlexTensor,
    dims: AttentionDims,
}

#[derive(Debug)]
struct AttentionBackward;

impl Backward<Flex, 1> for AttentionBackward {
    type State = AttentionState;

    fn backward(self, ops: Ops<AttentionState, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let state = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            let grad = contiguous(&grad);
            // SAFETY: the kernel writes every element of d_qkv (each head's q, k and v columns).
            unsafe {
                new_tensor(state.qkv.shape(), |d_qkv| {
                    attention_backward(values(&state.qkv), values(&state.probs), values(&grad), state.dims, d_qkv)
                })
            }
        });
    }
}

fn tracked(qkv: TrackedTensor, dims: AttentionDims) -> TrackedTensor {
    let input = contiguous(qkv.primitive());
    let probs_shape = Shape::from(vec![dims.batch * dims.heads * dims.probs_len()]);
    let mut context = None;
    // SAFETY: the kernel writes every probability.
    let probs = unsafe { new_tensor(probs_shape, |probs| context = Some(forward(&input, dims, Some(probs)))) };
    let context = context.expect("the kernel ran");
    match AttentionBackward.prepare::<NoCheckpointing>([qkv.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(AttentionState { qkv: input, probs, dims }, context),
        OpsKind::UnTracked(prep) => prep.finish(context),
    }
}
