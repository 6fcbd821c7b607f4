//! The fused ops against burn's composed ops, side by side: values, and gradients through autodiff.

use super::{
    gelu, layer_norm, linear, linear_residual, patches, prepend_and_position, softmax_scaled, with_composed_ops,
};
use crate::testing::normal_tensor;
use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// Normwise relative difference max|a - b| / max|b| (sums that cancel to almost nothing carry float32 noise of the
/// size of their terms, so an element-wise ratio would measure that noise, not the op).
fn max_relative(a: Tensor<3>, b: Tensor<3>) -> f32 {
    relative(&a.into_data().try_to_vec::<f32>().unwrap(), &b.into_data().try_to_vec::<f32>().unwrap())
}

fn relative(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    diff / b.iter().map(|y| y.abs()).fold(f32::MIN_POSITIVE, f32::max)
}

fn input(shape: [usize; 3], seed: u64, device: &Device) -> Tensor<3> {
    normal_tensor(shape, 0.0, 2.0, seed, device)
}

/// Runs `op` on an autodiff copy of `x` with a fixed random upstream gradient; returns (output, d_x).
fn value_and_grad(x: &Tensor<3>, op: &dyn Fn(Tensor<3>) -> Tensor<3>) -> (Tensor<3>, Tensor<3>) {
    let device = Device::flex().autodiff();
    let x = Tensor::from_data(x.to_data(), &device).require_grad();
    let out = op(x.clone());
    let upstream = Tensor::from_data(input(out.dims(), 99, &Device::flex()).to_data(), &device);
    let grads = (out.clone() * upstream).sum().backward();
    (out.inner(), x.grad(&grads).expect("x takes part in the loss"))
}

fn check_against_composed(op: &dyn Fn(Tensor<3>) -> Tensor<3>, shape: [usize; 3], tolerance: f32) {
    let x = input(shape, 7, &Device::flex());
    let fused_plain = op(x.clone());
    let composed_plain = with_composed_ops(|| op(x.clone()));
    assert!(max_relative(fused_plain, composed_plain) < tolerance, "plain forward differs");
    let (fused_out, fused_grad) = value_and_grad(&x, op);
    let (composed_out, composed_grad) = with_composed_ops(|| value_and_grad(&x, op));
    assert!(max_relative(fused_out, composed_out) < tolerance, "autodiff forward differs");
    let err = max_relative(fused_grad, composed_grad);
    assert!(err < tolerance, "gradient differs by {err}");
}

#[test]
fn gelu_matches_burns_exact_gelu_in_value_and_gradient() {
    check_against_composed(&gelu, [3, 17, 41], 1e-4);
}

#[test]
fn scaled_softmax_matches_softmax_of_scaled_input_in_value_and_gradient() {
    check_against_composed(&|x| softmax_scaled(x, 0.125), [4, 17, 17], 1e-4);
    check_against_composed(&|x| softmax_scaled(x, 1.0), [2, 5, 197], 1e-4);
}

fn norm(width: usize, device: &Device) -> LayerNorm {
    let mut norm = LayerNormConfig::new(width).with_epsilon(1e-6).init(device);
    norm.gamma = Param::from_tensor(normal_tensor([width], 1.0, 0.5, 11, device));
    norm.beta = Some(Param::from_tensor(normal_tensor([width], 0.0, 0.5, 12, device)));
    norm
}

#[test]
fn layer_norm_matches_burns_in_value_and_input_gradient() {
    let plain = norm(48, &Device::flex());
    let on_device_of = |x: &Tensor<3>| plain.clone().to_device(&x.device());
    check_against_composed(&|x| layer_norm(x.clone(), &on_device_of(&x), 1e-6), [2, 9, 48], 1e-4);
}

#[test]
fn layer_norm_gamma_and_beta_gradients_match_burns() {
    let device = Device::flex().autodiff();
    let norm = norm(32, &device);
    let x = Tensor::from_data(input([3, 5, 32], 3, &Device::flex()).to_data(), &device);
    let upstream = Tensor::from_data(input([3, 5, 32], 4, &Device::flex()).to_data(), &device);
    let grads_of = |out: Tensor<3>| {
        let grads = (out * upstream.clone()).sum().backward();
        let gamma = norm.gamma.val().grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        let beta = norm.beta.as_ref().unwrap().val().grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        (gamma, beta)
    };
    let fused = grads_of(layer_norm(x.clone(), &norm, 1e-6));
    let composed = with_composed_ops(|| grads_of(layer_norm(x.clone(), &norm, 1e-6)));
    assert!(relative(&fused.0, &composed.0) < 1e-4, "gamma gradients differ");
    assert!(relative(&fused.1, &composed.1) < 1e-4, "beta gradients differ");
}

#[test]
fn strided_inputs_are_read_in_logical_order() {
    let x = input([2, 6, 10], 5, &Device::flex());
    let transposed = x.swap_dims(1, 2);
    let fused = softmax_scaled(transposed.clone(), 0.5);
    let composed = with_composed_ops(|| softmax_scaled(transposed, 0.5));
    assert!(max_relative(fused, composed) < 1e-5);
}

#[test]
fn flex_tensors_take_the_fused_path_unless_switched_off() {
    use super::route::{Routed, route};
    let plain = input([1, 2, 3], 1, &Device::flex());
    let tracked: Tensor<3> = Tensor::from_data(plain.to_data(), &Device::flex().autodiff()).require_grad();
    assert!(matches!(route(plain.clone()), Routed::Plain(_)));
    assert!(matches!(route(tracked), Routed::Tracked(_)));
    assert!(with_composed_ops(|| matches!(route(plain.clone()), Routed::Composed(_))));
    let composed = with_composed_ops(|| gelu(plain.clone()));
    let exact = burn::tensor::activation::gelu(plain);
    assert_eq!(composed.into_data(), exact.into_data(), "switched off, gelu is burn's own, bit for bit");
}

/// Burn's composed attention from a qkv matrix, as the model's traced path computes it.
fn composed_attention(qkv: Tensor<2>, dims: super::AttentionDims) -> Tensor<2> {
    let (b, t, h, qk, dh) = (dims.batch, dims.tokens, dims.heads, dims.qk, dims.dh);
    let part =
        |start: usize, size: usize| qkv.clone().narrow(1, h * start, h * size).reshape([b, t, h, size]).swap_dims(1, 2);
    let (q, k, v) = (part(0, qk), part(qk, qk), part(2 * qk, dh));
    let probs = burn::tensor::activation::softmax(q.matmul(k.swap_dims(2, 3)).mul_scalar(dims.scale), 3);
    probs.matmul(v).swap_dims(1, 2).reshape([b * t, h * dh])
}

#[test]
fn attention_matches_burns_composed_attention_in_value_and_gradient() {
    // The 17-token case has vit_mnist's tokens and head size.
    for (tokens, heads, qk, dh) in [(7, 3, 8, 8), (7, 2, 3, 5), (17, 2, 24, 30)] {
        let dims = super::AttentionDims { batch: 2, tokens, heads, qk, dh, scale: 0.35 };
        let (rows, width) = (2 * tokens, heads * (2 * qk + dh));
        let as_3d = |x: Tensor<2>| x.reshape([1, rows, heads * dh]);
        let op = |x: Tensor<3>| {
            let qkv = x.reshape([rows, width]);
            as_3d(super::attention(qkv, dims, |_| unreachable!("flex takes the fused path")))
        };
        let composed = |x: Tensor<3>| as_3d(composed_attention(x.reshape([rows, width]), dims));
        let x = input([1, rows, width], 17, &Device::flex());
        assert!(max_relative(op(x.clone()), composed(x.clone())) < 1e-5, "plain forward differs");
        let (fused_out, fused_grad) = value_and_grad(&x, &op);
        let (composed_out, composed_grad) = value_and_grad(&x, &composed);
        assert!(max_relative(fused_out, composed_out) < 1e-5, "autodiff forward differs");
        let err = max_relative(fused_grad, composed_grad);
        assert!(err < 1e-4, "qkv gradient differs by {err} (tokens {tokens}, heads {heads}, qk {qk}, dh {dh})");
    }
}

#[test]
fn layer_norm_parameter_gradients_are_bit_identical_from_run_to_run() {
    // Many rows, so that the backward splits into many rayon tasks whose sharing between threads varies.
    let device = Device::flex().autodiff();
    let norm = norm(64, &device);
    let x: Tensor<3> = Tensor::from_data(input([64, 40, 64], 8, &Device::flex()).to_data(), &device);
    let grads_once = || {
        let grads = layer_norm(x.clone(), &norm, 1e-6).sum().backward();
        norm.gamma.val().grad(&grads).unwrap().into_data()
    };
    let first = grads_once();
    for _ in 0..5 {
        assert_eq!(grads_once(), first, "the summation order changed between runs");
    }
}

fn dense_layer(inputs: usize, outputs: usize, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(inputs, outputs).init(device);
    layer.weight = Param::from_tensor(normal_tensor([inputs, outputs], 0.0, 0.1, 21, device));
    layer.bias = Some(Param::from_tensor(normal_tensor([outputs], 0.0, 1.0, 22, device)));
    layer
}

#[test]
fn linear_matches_burns_linear_in_value_and_input_gradient() {
    // The second shape is large enough (m * n * k above 192^3) for the GEMMs to run on rayon's threads.
    for (shape, inputs, outputs) in [([2, 9, 24], 24, 13), ([4, 200, 192], 192, 576)] {
        let plain = dense_layer(inputs, outputs, &Device::flex());
        let on_device_of = |x: &Tensor<3>| plain.clone().to_device(&x.device());
        check_against_composed(&|x| linear(&on_device_of(&x), x.clone()), shape, 1e-5);
    }
}

#[test]
fn linear_weight_and_bias_gradients_match_burns() {
    let device = Device::flex().autodiff();
    let layer = dense_layer(40, 24, &device);
    let x = Tensor::from_data(input([3, 50, 40], 3, &Device::flex()).to_data(), &device);
    let upstream = Tensor::from_data(input([3, 50, 24], 4, &Device::flex()).to_data(), &device);
    let grads_of = |out: Tensor<3>| {
        let grads = (out * upstream.clone()).sum().backward();
        let weight = layer.weight.val().grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        let bias = layer.bias.as_ref().unwrap().val().grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        (weight, bias)
    };
    let fused = grads_of(linear(&layer, x.clone()));
    let composed = with_composed_ops(|| grads_of(layer.forward(x.clone())));
    assert!(relative(&fused.0, &composed.0) < 1e-5, "weight gradients differ");
    assert!(relative(&fused.1, &composed.1) < 1e-5, "bias gradients differ");
}

#[test]
fn linear_bias_gradient_matches_burns_with_the_weight_frozen() {
    // Without a weight gradient there is no GEMM to sum dy while it packs it: the bias takes its own pass.
    let device = Device::flex().autodiff();
    let mut layer = dense_layer(40, 24, &device);
    layer.weight = layer.weight.clone().set_require_grad(false);
    let x = Tensor::from_data(input([3, 50, 40], 5, &Device::flex()).to_data(), &device);
    let upstream = Tensor::from_data(input([3, 50, 24], 6, &Device::flex()).to_data(), &device);
    let grads_of = |out: Tensor<3>| {
        let grads = (out * upstream.clone()).sum().backward();
        assert!(layer.weight.val().grad(&grads).is_none(), "a frozen weight gets no gradient");
        layer.bias.as_ref().unwrap().val().grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap()
    };
    let fused = grads_of(linear(&layer, x.clone()));
    let composed = with_composed_ops(|| grads_of(layer.forward(x.clone())));
    assert!(relative(&fused, &composed) < 1e-5, "bias gradients differ");
}

#[test]
fn linear_gradients_are_bit_identical_from_run_to_run() {
    let device = Device::flex().autodiff();
    let layer = dense_layer(192, 384, &device);
    let x: Tensor<3> = Tensor::from_data(input([8, 100, 192], 8, &Device::flex()).to_data(), &device);
    let grads_once = || {
        let grads = linear(&layer, x.clone()).sum().backward();
        (
            layer.weight.val().grad(&grads).unwrap().into_data(),
            layer.bias.as_ref().unwrap().val().grad(&grads).unwrap().into_data(),
        )
    };
    let first = grads_once();
    for _ in 0..3 {
        assert_eq!(grads_once(), first, "a threaded GEMM changed its summation order between runs");
    }
}

/// Gradients of `sum(out * upstream)` with respect to the residual, the input, the weight and the bias.
fn residual_linear_grads(
    out: Tensor<3>,
    leaves: (&Tensor<3>, &Tensor<2>, &Linear),
    upstream: &Tensor<3>,
) -> [Vec<f32>; 4] {
    let (residual, x, layer) = leaves;
    let grads = (out * upstream.clone()).sum().backward();
    let values = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
    [
        values(residual.grad(&grads).unwrap()),
        values(x.grad(&grads).unwrap().unsqueeze()),
        values(layer.weight.val().grad(&grads).unwrap().unsqueeze()),
        values(layer.bias.as_ref().unwrap().val().grad(&grads).unwrap().unsqueeze()),
    ]
}

#[test]
fn linear_onto_a_residual_matches_the_residual_plus_burns_linear_in_value_and_every_gradient() {
    // The second shape is large enough for the GEMM to run in row bands on rayon's threads.
    for ([b, t], inputs, outputs) in [([2, 9], 16, 24), ([4, 200], 192, 192)] {
        let plain = dense_layer(inputs, outputs, &Device::flex());
        let x: Tensor<2> = normal_tensor([b * t, inputs], 0.0, 2.0, 31, &Device::flex());
        let residual = input([b, t, outputs], 32, &Device::flex());
        let want = residual.clone() + plain.forward(x.clone()).reshape([b, t, outputs]);
        // The residual is still held here, so the op must not write over it (flex copies a shared buffer first).
        let fused = linear_residual(&plain, x.clone(), residual.clone());
        assert!(max_relative(fused, want.clone()) < 1e-5, "plain forward differs");
        assert_eq!(residual.to_data(), input([b, t, outputs], 32, &Device::flex()).to_data(), "residual overwritten");
        // Nothing else holds this one: it is updated in place.
        let fused_in_place = linear_residual(&plain, x.clone(), input([b, t, outputs], 32, &Device::flex()));
        assert!(max_relative(fused_in_place, want) < 1e-5, "in-place forward differs");

        let device = Device::flex().autodiff();
        let layer = dense_layer(inputs, outputs, &device);
        let x = Tensor::from_data(x.to_data(), &device).require_grad();
        let residual = Tensor::from_data(residual.to_data(), &device).require_grad();
        let upstream = Tensor::from_data(input([b, t, outputs], 33, &Device::flex()).to_data(), &device);
        let leaves = (&residual, &x, &layer);
        let fused = residual_linear_grads(linear_residual(&layer, x.clone(), residual.clone()), leaves, &upstream);
        let composed = with_composed_ops(|| {
            residual_linear_grads(linear_residual(&layer, x.clone(), residual.clone()), leaves, &upstream)
        });
        for (name, (f, c)) in ["residual", "input", "weight", "bias"].iter().zip(fused.iter().zip(&composed)) {
            assert!(relative(f, c) < 1e-5, "{name} gradient differs by {}", relative(f, c));
        }
    }
}

#[test]
fn patch_rows_and_the_input_sequence_are_burns_bit_for_bit() {
    let device = Device::flex();
    // vit_mnist's 28 px gray images in 7 px patches; 3 channels on a grid that is not square; one patch per image.
    for ([b, c, h, w], p) in [([3, 1, 28, 28], 7), ([2, 3, 16, 24], 8), ([2, 2, 4, 4], 4)] {
        let images: Tensor<4> = normal_tensor([b, c, h, w], 0.0, 1.0, 41, &device);
        let fused = patches(images.clone(), p);
        let composed = with_composed_ops(|| patches(images.clone(), p));
        assert_eq!(fused.dims(), [b * (h / p) * (w / p), c * p * p]);
        assert_eq!(fused.into_data(), composed.into_data(), "patch rows of {b}x{c}x{h}x{w} in {p} px patches");
    }
    // One prefix token (ViT) and two (DeiT's class and distillation tokens).
    for prefix_len in [1, 2] {
        let (b, n, d) = (3, 5, 8);
        let prefix: Vec<Tensor<3>> =
            (0..prefix_len).map(|i| normal_tensor([1, 1, d], 0.0, 1.0, 50 + i as u64, &device)).collect();
        let tokens = input([b, n, d], 42, &device);
        let positions = input([1, prefix_len + n, d], 43, &device);
        let run = || prepend_and_position(prefix.clone(), tokens.clone(), positions.clone());
        let fused = run();
        assert_eq!(fused.dims(), [b, prefix_len + n, d]);
        assert_eq!(fused.into_data(), with_composed_ops(run).into_data(), "{prefix_len} prefix token(s)");
    }
}

#[test]
#[should_panic(expected = "do not divide into 7 px patches")]
fn images_that_do_not_divide_into_patches_are_refused_at_inference_too() {
    let images: Tensor<4> = normal_tensor([1, 1, 30, 30], 0.0, 1.0, 44, &Device::flex());
    let _ = patches(images, 7);
}
