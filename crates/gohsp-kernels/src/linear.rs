//! A linear layer (y = x W + b) as one op with its own backward: strided GEMMs into fresh buffers instead of burn's
//! matmul (which zero-fills and then copies every output to realign it) plus a separate bias add and bias reduction.

use super::linear_kernel::{
    LinearDims, linear_bias_grad, linear_forward, linear_forward_into, linear_forward_onto, linear_input_grad,
    linear_weight_grad,
};
use super::route::{
    NoCheckpointing, Routed, TrackedTensor, contiguous, from_plain, from_tracked, new_tensor, owned, route, values,
};
use burn::backend::Flex;
use burn::backend::Shape;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::nn::Linear;
use burn::tensor::{Tensor, TensorData};
use std::mem::MaybeUninit;

/// `layer` applied to the last axis of `x`, as `Linear::forward` does.
pub fn linear<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    let Some(bias) = layer.bias.as_ref().map(|b| b.val()) else { return layer.forward(x) };
    let mut out_shape = x.dims();
    let [inputs, outputs] = layer.weight.dims();
    let rows = out_shape[..D - 1].iter().product();
    out_shape[D - 1] = outputs;
    let dims = LinearDims { rows, inputs, outputs };
    let flat = x.clone().reshape([rows, inputs]);
    let y: Tensor<2> = match (route(flat), route(layer.weight.val()), route(bias)) {
        (Routed::Plain(x), Routed::Plain(w), Routed::Plain(b)) => from_plain(forward(&x, &w, &b, dims)),
        (Routed::Tracked(x), Routed::Tracked(w), Routed::Tracked(b)) => from_tracked(tracked(x, w, b, dims)),
        _ => return layer.forward(x),
    };
    y.reshape(out_shape)
}

/// `residual + layer(x)` for x [rows, in] and a residual of rows * out values (any shape): a residual block's
/// projection, the add done by the GEMM as it stores each output (in place in the residual's buffer when nothing else
/// holds it) instead of as a pass of its own.
pub fn linear_residual<const D: usize>(layer: &Linear, x: Tensor<2>, residual: Tensor<D>) -> Tensor<D> {
    let shape = residual.dims();
    let Some(bias) = layer.bias.as_ref().map(|b| b.val()) else { return residual + layer.forward(x).reshape(shape) };
    let [rows, inputs] = x.dims();
    let [_, outputs] = layer.weight.dims();
    let dims = LinearDims { rows, inputs, outputs };
    let flat = residual.reshape([rows, outputs]);
    let y: Tensor<2> = match (route(flat), route(x), route(layer.weight.val()), route(bias)) {
        (Routed::Plain(r), Routed::Plain(x), Routed::Plain(w), Routed::Plain(b)) => {
            from_plain(forward_into(r, &x, &w, &b, dims))
        }
        (Routed::Tracked(r), Routed::Tracked(x), Routed::Tracked(w), Routed::Tracked(b)) => {
            from_tracked(tracked_residual(r, x, w, b, dims))
        }
        (r, x, _, _) => r.into_tensor() + layer.forward(x.into_tensor()),
    };
    y.reshape(shape)
}

/// residual + (x W + b) written over the residual's values (copied first only when something else holds them).
fn forward_into(residual: FlexTensor, x: &FlexTensor, w: &FlexTensor, b: &FlexTensor, dims: LinearDims) -> FlexTensor {
    let (x, w, b) = (contiguous(x), contiguous(w), contiguous(b));
    let mut out = owned(residual);
    linear_forward_into(values(&x), values(&w), values(&b), dims, out.storage_mut::<f32>());
    out
}

fn forward(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor, dims: LinearDims) -> FlexTensor {
    let (x, w, b) = (contiguous(x), contiguous(w), contiguous(b));
    // SAFETY: the kernel writes every element of y.
    unsafe { matrix(dims.rows, dims.outputs, |y| linear_forward(values(&x), values(&w), values(&b), dims, y)) }
}

/// A new [rows, cols] matrix that `fill` writes.
///
/// # Safety
/// As `new_tensor`: `fill` must write every element.
unsafe fn matrix(rows: usize, cols: usize, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> FlexTensor {
    // SAFETY: forwarded from the caller.
    unsafe { new_tensor(Shape::from(vec![rows, cols]), fill) }
}

/// What the backward pass keeps: the contiguous input and weight.
#[derive(Clone, Debug)]
struct LinearState {
    x: FlexTensor,
    w: FlexTensor,
    dims: LinearDims,
}

#[derive(Debug)]
struct LinearBackward;

impl Backward<Flex, 3> for LinearBackward {
    type State = LinearState;

    fn backward(self, ops: Ops<LinearState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let d_y = contiguous(&grads.consume::<Flex>(&ops.node));
        register_linear_grads(ops.state, values(&d_y), ops.parents.map(|node| node.map(|n| n.id)), grads);
    }
}

/// The backward of `residual + linear(x)`: the residual's gradient is dy itself, the rest as a linear layer's.
#[derive(Debug)]
struct ResidualLinearBackward;

impl Backward<Flex, 4> for ResidualLinearBackward {
    type State = LinearState;

    fn backward(self, ops: Ops<LinearState, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let d_y = contiguous(&grads.consume::<Flex>(&ops.node));
        let [residual_node, x_node, w_node, b_node] = ops.parents.map(|node| node.map(|n| n.id));
        register_linear_grads(ops.state, values(&d_y), [x_node, w_node, b_node], grads);
        if let Some(node) = residual_node {
            // Shared, not copied: whoever writes to it later copies it first (flex's storage is copy-on-write).
            grads.register::<Flex>(node, d_y);
        }
    }
}

/// Registers the gradients of a linear layer's input, weight and bias (those whose nodes are given) from dy.
fn register_linear_grads(state: LinearState, d_y: &[f32], nodes: [Option<NodeId>; 3], grads: &mut Gradients) {
    let LinearState { x, w, dims } = state;
    let [x_node, w_node, b_node] = nodes;
    if let Some(node) = x_node {
        // SAFETY: the kernel writes every element of d_x.
        let d_x = unsafe { matrix(dims.rows, dims.inputs, |d_x| linear_input_grad(d_y, values(&w), dims, d_x)) };
        grads.register::<Flex>(node, d_x);
    }
    // The weight gradient's GEMM sums the bias gradient as it packs dy; without it, a pass of its own does.
    let mut d_b = b_node.as_ref().map(|_| vec![0.0f32; dims.outputs]);
    if let Some(node) = w_node {
        // SAFETY: the kernel writes every element of d_w.
        let d_w = unsafe {
            matrix(dims.inputs, dims.outputs, |d_w| linear_weight_grad(values(&x), d_y, dims, d_w, d_b.as_deref_mut()))
        };
        grads.register::<Flex>(node, d_w);
    } else if let Some(d_b) = d_b.as_mut() {
        *d_b = linear_bias_grad(d_y, dims.outputs);
    }
    if let (Some(node), Some(d_b)) = (b_node, d_b) {
        grads.register::<Flex>(node, FlexTensor::from_data(TensorData::new(d_b, [dims.outputs])));
    }
}

fn tracked(x: TrackedTensor, w: TrackedTensor, b: TrackedTensor, dims: LinearDims) -> TrackedTensor {
    let (input, weight) = (contiguous(x.primitive()), contiguous(w.primitive()));
    let output = forward(&input, &weight, b.primitive(), dims);
    match LinearBackward.prepare::<NoCheckpointing>([x.node(), w.node(), b.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(LinearState { x: input, w: weight, dims }, output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}

/// `residual + (x W + b)` tracked: a fresh output (the residual's buffer is also held by the op that made it).
fn tracked_residual(
    r: TrackedTensor,
    x: TrackedTensor,
    w: TrackedTensor,
    b: TrackedTensor,
    dims: LinearDims,
) -> TrackedTensor {
    let (input, weight) = (contiguous(x.primitive()), contiguous(w.primitive()));
    let (residual, bias) = (contiguous(r.primitive()), contiguous(b.primitive()));
    // SAFETY: the kernel writes every element of the output.
    let output = unsafe {
        matrix(dims.rows, dims.outputs, |y| {
            linear_forward_onto(values(&input), values(&weight), values(&bias), dims, (values(&residual), y))
        })
    };
    let parents = [r.node(), x.node(), w.node(), b.node()];
    match ResidualLinearBackward.prepare::<NoCheckpointing>(parents).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(LinearState { x: input, w: weight, dims }, output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}
