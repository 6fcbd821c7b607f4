//! Exact GELU as one op: a vectorised, multi-threaded flex kernel with its own backward; burn's `gelu` elsewhere.

use super::kernels;
use super::route::{
    NoCheckpointing, Routed, TrackedTensor, contiguous, from_plain, from_tracked, new_tensor, owned, route, values,
};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::Tensor;

/// x * Phi(x), element-wise (Phi within 2.5e-7 of the exact erf form, as PyTorch's and burn's exact GELU).
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    match route(x) {
        Routed::Plain(x) => from_plain(in_place(owned(x))),
        Routed::Tracked(x) => from_tracked(tracked(x)),
        Routed::Composed(x) => burn::tensor::activation::gelu(x),
    }
}

/// GELU over a uniquely owned buffer (no allocation: a freshly computed input, such as fc1's output, is reused).
fn in_place(mut x: FlexTensor) -> FlexTensor {
    kernels::gelu_in_place(x.storage_mut::<f32>());
    x
}

fn forward(x: &FlexTensor) -> FlexTensor {
    // SAFETY: the kernel writes every output element.
    unsafe { new_tensor(x.shape(), |out| kernels::gelu(values(x), out)) }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<Flex, 1> for GeluBackward {
    /// The contiguous input.
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let x = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            let mut grad = owned(grad);
            kernels::gelu_backward_in_place(values(&x), grad.storage_mut::<f32>());
            grad
        });
    }
}

fn tracked(x: TrackedTensor) -> TrackedTensor {
    let input = contiguous(x.primitive());
    let output = forward(&input);
    match GeluBackward.prepare::<NoCheckpointing>([x.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(input, output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}
