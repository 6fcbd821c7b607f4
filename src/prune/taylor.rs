//! First-order Taylor importance of heads and neurons: |sum over a group of g * w| with g the loss gradient on calibration batches.

use super::baselines::GroupScores;
use crate::data::loader::Loader;
use crate::error::Result;
use crate::model::build::vit_tensors;
use crate::model::host::{HostTensor, NamedTensors};
use crate::model::vit::Vit;
use crate::train::batch::batch_tensors;
use crate::train::objective::{CrossEntropy, Objective};
use burn::tensor::Tensor;

/// Per-group Taylor scores (heads, neurons) of `model` (autodiff device) over the first `samples` images of `loader`.
pub fn taylor_scores(model: &Vit, loader: &Loader, samples: usize) -> Result<GroupScores> {
    let shape = model.shape();
    let device = model.device();
    let loss_fn = CrossEntropy::new(0.0, &device);
    let mut grads_sum: Option<NamedTensors> = None;
    let mut seen = 0;
    for batch in loader.epoch(0) {
        if seen >= samples {
            break;
        }
        let batch = batch?;
        let take = (samples - seen).min(batch.labels.len());
        let (images, labels, _) = batch_tensors(batch, &device);
        let (loss, _) = loss_fn.loss(model, images.narrow(0, 0, take), labels.narrow(0, 0, take));
        let grads = loss.backward();
        let mut step = NamedTensors::new();
        for (l, block) in model.blocks.iter().enumerate() {
            let weight_grad =
                |t: Tensor<2>| HostTensor::from_tensor(t.grad(&grads).expect("weight gradient")).transposed();
            let bias_grad = |t: Tensor<1>| HostTensor::from_tensor(t.grad(&grads).expect("bias gradient"));
            step.insert(format!("blocks.{l}.attn.qkv.weight"), weight_grad(block.attn.qkv.weight.val()));
            step.insert(
                format!("blocks.{l}.attn.qkv.bias"),
                bias_grad(block.attn.qkv.bias.as_ref().expect("bias").val()),
            );
            step.insert(format!("blocks.{l}.attn.proj.weight"), weight_grad(block.attn.proj.weight.val()));
            step.insert(format!("blocks.{l}.mlp.fc1.weight"), weight_grad(block.mlp.fc1.weight.val()));
            step.insert(
                format!("blocks.{l}.mlp.fc1.bias"),
                bias_grad(block.mlp.fc1.bias.as_ref().expect("bias").val()),
            );
            step.insert(format!("blocks.{l}.mlp.fc2.weight"), weight_grad(block.mlp.fc2.weight.val()));
        }
        grads_sum = Some(match grads_sum {
            None => step,
            Some(acc) => super::admm_state::combine(&acc, &step, 1.0),
        });
        seen += take;
    }
    let grads = grads_sum.unwrap_or_default();
    let product = elementwise_product(&vit_tensors(model), &grads);
    Ok(GroupScores {
        heads: super::norms::head_sums(&shape, &product),
        neurons: super::norms::neuron_sums(&shape, &product),
    })
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
