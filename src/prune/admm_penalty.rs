//! ADMM's augmented loss: the task loss plus rho/2 * sum ||W - (Z - U)||^2 over the prunable tensors (squared Frobenius).

use crate::model::host::NamedTensors;
use crate::model::shape::VitShape;
use crate::model::vit::Vit;
use crate::train::objective::Objective;
use burn::tensor::{Device, Int, Tensor};

/// Names (timm) of the tensors ADMM constrains in block `l`: the members of its head and neuron groups.
pub(crate) fn prunable_names(l: usize) -> [String; 6] {
    ["attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight"]
        .map(|t| format!("blocks.{l}.{t}"))
}

/// The penalty's targets Z - U for every block, uploaded (without autodiff history) in burn's [in, out] layout.
pub(crate) struct PenaltyTargets {
    /// Per block: qkv, proj, fc1, fc2 weight targets.
    weights: Vec<[Tensor<2>; 4]>,
    /// Per block: qkv and fc1 bias targets.
    biases: Vec<[Tensor<1>; 2]>,
}

impl PenaltyTargets {
    /// Upload `targets` (timm layout, names from [`prunable_names`]) to `device`; rebuilt every round, so no tensor
    /// outlives the autodiff graph it was used in.
    pub(crate) fn upload(shape: &VitShape, targets: &NamedTensors, device: &Device) -> Self {
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
    pub(crate) fn squared_distance(&self, model: &Vit) -> Tensor<1> {
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
pub(crate) struct AdmmObjective<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::build::{build_vit, vit_tensors};
    use crate::model::init::init_tensors;
    use crate::prune::admm_state::prunable;
    use crate::train::objective::CrossEntropy;
    use burn::tensor::{Distribution, TensorData};
    use std::path::Path;

    #[test]
    fn the_penalty_is_rho_half_the_squared_distance_to_the_targets() {
        let shape = VitShape::uniform(28, 7, 1, 10, 8, 2, 2, 2.0);
        let device = Device::flex();
        let model = build_vit(&shape, &init_tensors(&shape, 3), &device, Path::new("<init>")).unwrap();
        let mut targets = prunable(&shape, &vit_tensors(&model));
        assert_eq!(
            PenaltyTargets::upload(&shape, &targets, &device).squared_distance(&model).into_scalar::<f32>(),
            0.0
        );
        // One qkv weight off by 0.5 (row 3, column 2: layout matters), one fc1 bias by -2, one fc2 weight by 1.
        targets.get_mut("blocks.0.attn.qkv.weight").unwrap().data[3 * 8 + 2] += 0.5;
        targets.get_mut("blocks.1.mlp.fc1.bias").unwrap().data[7] -= 2.0;
        targets.get_mut("blocks.1.mlp.fc2.weight").unwrap().data[5] += 1.0;
        let uploaded = PenaltyTargets::upload(&shape, &targets, &device);
        let distance = uploaded.squared_distance(&model).into_scalar::<f32>();
        assert!((distance - 5.25).abs() < 1e-5, "squared distance {distance}");

        let task = CrossEntropy::new(0.0, &device);
        let objective = AdmmObjective { task: &task, targets: uploaded, rho: 0.4 };
        let images = Tensor::<4>::random([3, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 4, 9], vec![3]), &device);
        let plain = task.loss(&model, images.clone(), labels.clone()).0.into_scalar::<f32>();
        let augmented = objective.loss(&model, images, labels).0.into_scalar::<f32>();
        assert!((augmented - plain - 0.2 * 5.25).abs() < 1e-4, "{augmented} - {plain} should be rho/2 * 5.25");
    }
}
