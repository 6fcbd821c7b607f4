//! First-order Taylor importance of heads and neurons: the sum over a group of |g * w|, with g the loss gradient
//! averaged over calibration images (each product counted by its magnitude, so opposite signs inside a group never cancel).

use super::baselines::GroupScores;
use super::norms::{head_abs_sums, neuron_abs_sums};
use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::model::build::vit_tensors;
use crate::model::host::{HostTensor, NamedTensors};
use crate::model::vit::Vit;
use crate::train::batch::batch_tensors;
use crate::train::objective::{CrossEntropy, Objective};
use burn::tensor::{Gradients, Tensor};

/// Per-group Taylor scores (heads, neurons) of `model` (autodiff device) over the first `samples` images of `loader`.
pub fn taylor_scores(model: &Vit, loader: &Loader, samples: usize) -> Result<GroupScores> {
    let shape = model.shape();
    let product = taylor_products(model, loader, samples)?;
    Ok(GroupScores { heads: head_abs_sums(&shape, &product), neurons: neuron_abs_sums(&shape, &product) })
}

/// g * w for every prunable tensor (timm names and layout), g the mean cross-entropy gradient over the first
/// `samples` images of `loader`. No image (an empty loader, or `samples` 0) is an error.
pub fn taylor_products(model: &Vit, loader: &Loader, samples: usize) -> Result<NamedTensors> {
    let grads = mean_gradients(model, loader, samples)?;
    Ok(elementwise_product(&vit_tensors(model), &grads))
}

/// The cross-entropy gradient of the prunable tensors averaged over the first `samples` images of `loader`.
fn mean_gradients(model: &Vit, loader: &Loader, samples: usize) -> Result<NamedTensors> {
    let device = model.device();
    let loss_fn = CrossEntropy::new(0.0, &device);
    let mut grads_sum: Option<NamedTensors> = None;
    let mut seen = 0;
    for batch in loader.first_samples(samples) {
        let (batch, take) = batch?;
        let (images, labels, _) = batch_tensors(batch, &device);
        let (loss, _) = loss_fn.loss(model, images.narrow(0, 0, take), labels.narrow(0, 0, take));
        // The batch loss is a mean over `take` images: weighted by `take`, the batches add up to a sum over images.
        let step = prunable_gradients(model, &loss.mul_scalar(take as f64).backward());
        grads_sum = Some(match grads_sum {
            None => step,
            Some(acc) => super::admm_state::combine(&acc, &step, 1.0),
        });
        seen += take;
    }
    let hint = "the Taylor criterion needs calibration images: check the training set and calib_samples";
    let mut grads =
        grads_sum.ok_or_else(|| GohspError::stage("prune", format!("taylor: no calibration image ({hint})")))?;
    grads.values_mut().for_each(|g| g.data.iter_mut().for_each(|v| *v /= seen as f32));
    Ok(grads)
}

/// The gradients of every block's prunable tensors, in timm's names and [out, in] layout.
fn prunable_gradients(model: &Vit, grads: &Gradients) -> NamedTensors {
    let weight_grad = |t: Tensor<2>| HostTensor::from_tensor(t.grad(grads).expect("weight gradient")).transposed();
    let bias_grad = |t: Tensor<1>| HostTensor::from_tensor(t.grad(grads).expect("bias gradient"));
    let mut step = NamedTensors::new();
    for (l, block) in model.blocks.iter().enumerate() {
        let name = |t: &str| format!("blocks.{l}.{t}");
        step.insert(name("attn.qkv.weight"), weight_grad(block.attn.qkv.weight.val()));
        step.insert(name("attn.qkv.bias"), bias_grad(block.attn.qkv.bias.as_ref().expect("bias").val()));
        step.insert(name("attn.proj.weight"), weight_grad(block.attn.proj.weight.val()));
        step.insert(name("mlp.fc1.weight"), weight_grad(block.mlp.fc1.weight.val()));
        step.insert(name("mlp.fc1.bias"), bias_grad(block.mlp.fc1.bias.as_ref().expect("bias").val()));
        step.insert(name("mlp.fc2.weight"), weight_grad(block.mlp.fc2.weight.val()));
    }
    step
}

fn elementwise_product(weights: &NamedTensors, grads: &NamedTensors) -> NamedTensors {
    grads
        .iter()
        .map(|(name, g)| {
            let w = &weights[name];
            (name.clone(), HostTensor::new(g.shape.clone(), g.data.iter().zip(&w.data).map(|(a, b)| a * b).collect()))
        })
        .collect()
}
