//! ADMM's augmented loss: the task loss plus rho/2 * sum ||W - (Z - U)||^2 over the prunable tensors (squared Frobenius).

use crate::model::host::NamedTensors;
use crate::model::shape::VitShape;
use crate::model::vit::Vit;
use crate::train::objective::Objective;
use burn::tensor::{Device, Int, Tensor};

/// Names (timm) of the tensors ADMM constrains in block `l`: the members of its head and neuron groups.
pub fn prunable_names(l: usize) -> [String; 6] {
    ["attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight"]
        .map(|t| format!("blocks.{l}.{t}"))
}

/// The penalty's targets Z - U for every block, uploaded (without autodiff history) in burn's [in, out] layout.
pub struct PenaltyTargets {
    /// Per block: qkv, proj, fc1, fc2 weight targets.
    weights: Vec<[Tensor<2>; 4]>,
    /// Per block: qkv and fc1 bias targets.
    biases: Vec<[Tensor<1>; 2]>,
}

impl PenaltyTargets {
    /// Upload `targets` (timm layout, names from [`prunable_names`]) to `device`; rebuilt every round, so no tensor
    /// outlives the autodiff graph it was used in.
    pub fn upload(shape: &VitShape, targets: &NamedTensors, device: &Device) -> Self {
        let weight = |name: String| targets[&name].transposed().to_tensor::<2>(device);
        let bias = |name: String| targets[&name].to_tensor::<1>(device);
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for l in 0..shape.blocks.len() {
            let [qkv_w, qkv_b, proj_w, fc1_w, fc1_b, fc2_w] = prunable_names(l);
            weights.push([weight(qkv_w), weight(proj_w), weight(fc1_w), weight(fc2_w)]);
            biases.push([bias(qkv_b), bias(fc1_b)]);
        }
        Self { weights, biases }
    }

    /// sum ||W - target||^2 over every constrained tensor of `model`.
    pub fn squared_distance(&self, model: &Vit) -> Tensor<1> {
        let mut total: Option<Tensor<1>> = None;
        let mut add = |t: Tensor<1>| {
            total = Some(match total.take() {
                Some(acc) => acc + t,
                None => t,
            })
        };
        for (block, (w, b)) in model.blocks.iter().zip(self.weights.iter().zip(&self.biases)) {
            let params =
                [&block.attn.qkv.weight, &block.attn.proj.weight, &block.mlp.fc1.weight, &block.mlp.fc2.weight];
            for (param, target) in params.into_iter().zip(w) {
                add((param.val() - target.clone()).square().sum().reshape([1]));
            }
            let bias_params = [&block.attn.qkv.bias, &block.mlp.fc1.bias];
            for (param, target) in bias_params.into_iter().zip(b) {
                let value = param.as_ref().expect("gohsp linears have biases").val();
                add((value - target.clone()).square().sum().reshape([1]));
            }
        }
        total.expect("at least one block")
    }
}

/// The W-step objective: `task` loss + rho/2 * ||W - Z + U||^2.
pub struct AdmmObjective<'a> {
    /// The task loss (cross-entropy).
    pub task: &'a dyn Objective,
    /// Z - U of this round.
    pub targets: PenaltyTargets,
    /// Penalty weight of this round.
    pub rho: f64,
}

impl Objective for AdmmObjective<'_> {
    fn loss(&self, model: &Vit, images: Tensor<4>, labels: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>) {
        let (task, logits) = self.task.loss(model, images, labels);
        (task + self.targets.squared_distance(model).mul_scalar(self.rho / 2.0), logits)
    }
}
