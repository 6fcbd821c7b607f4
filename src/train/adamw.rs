//! AdamW as one pass per parameter tensor on flex (moments, bias correction, decoupled decay and the update together),
//! computing exactly what burn's `AdamW` computes, op for op and bit for bit, with the same state record; tensors on
//! other backends take burn's `AdamW` itself.

use burn::optim::{AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};
use gohsp_kernels::{AdamWConstants, AdamWStep, adamw_step};

/// burn's `AdamWConfig` defaults, which the trainer has always used.
const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

/// AdamW (no AMSGrad, no cautious decay) with burn's default betas and epsilon.
#[derive(Clone)]
pub struct FusedAdamW {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: f32,
    /// burn's own AdamW, for tensors that are not f32 on flex.
    reference: AdamW,
    /// Tensor steps that took the fused path (tests check that they do).
    #[cfg(test)]
    fused_steps: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FusedAdamW {
    /// AdamW with decoupled weight decay `weight_decay`.
    pub fn new(weight_decay: f32) -> Self {
        let config = AdamWConfig::new()
            .with_beta_1(BETA_1)
            .with_beta_2(BETA_2)
            .with_epsilon(EPSILON)
            .with_weight_decay(weight_decay);
        Self {
            beta_1: BETA_1,
            beta_2: BETA_2,
            epsilon: EPSILON,
            weight_decay,
            reference: config.build(),
            #[cfg(test)]
            fused_steps: Default::default(),
        }
    }

    fn constants(&self, lr: LearningRate, time: usize) -> AdamWConstants {
        let time = time as i32;
        let decay_rate = lr * f64::from(self.weight_decay);
        AdamWConstants {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            factor_1: 1.0 - self.beta_1,
            factor_2: 1.0 - self.beta_2,
            correction_1: 1.0 - self.beta_1.powi(time),
            correction_2: 1.0 - self.beta_2.powi(time),
            epsilon: self.epsilon,
            keep: (1.0 - decay_rate) as f32,
            lr: lr as f32,
        }
    }
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamWState<D>>,
    ) -> (Tensor<D>, Option<AdamWState<D>>) {
        if state.as_ref().is_some_and(|s| s.momentum.max_moment_2.is_some()) {
            // AMSGrad's state (which neither optimizer here writes): burn's step keeps it.
            return self.reference.step(lr, tensor, grad, state);
        }
        // Everything is handed over by value, so that the parameter and its moments reach the fused step unshared and
        // are updated in place. Clones kept alive for burn's fallback made flex copy all three every step.
        let (time, moments) = match state {
            Some(s) => (s.momentum.time, Some((s.momentum.moment_1, s.momentum.moment_2))),
            None => (0, None),
        };
        match adamw_step(tensor, grad, moments, self.constants(lr, time + 1)) {
            AdamWStep::Fused { param, moment_1, moment_2 } => {
                #[cfg(test)]
                self.fused_steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (param, Some(AdamWState::new(AdaptiveMomentumState::new(time + 1, moment_1, moment_2))))
            }
            AdamWStep::Unfused { param, grad, moments } => {
                let state = moments.map(|(m, v)| AdamWState::new(AdaptiveMomentumState::new(time, m, v)));
                self.reference.step(lr, param, grad, state)
            }
        }
    }

    fn to_device<const D: usize>(mut state: AdamWState<D>, device: &Device) -> AdamWState<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::FusedAdamW;
    use crate::model::fused::with_composed_ops;
    use crate::test_support::normal_tensor;
    use burn::grad_clipping::GradientClippingConfig;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
    use burn::tensor::{Device, Tensor, TensorData};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn layer(device: &Device) -> Linear {
        // More elements than one rayon task, so that the chunks split between threads.
        let mut layer = LinearConfig::new(96, 400).init(device);
        layer.weight = Param::from_tensor(normal_tensor([96, 400], 0.0, 0.1, 3, device));
        layer.bias = Some(Param::from_tensor(normal_tensor([400], 0.0, 1.0, 4, device)));
        layer
    }

    fn weights(layer: &Linear) -> (TensorData, TensorData) {
        (layer.weight.val().into_data(), layer.bias.as_ref().unwrap().val().into_data())
    }

    /// `steps` steps of `optim` on a fixed regression loss, with a learning rate that changes every step.
    fn train(mut optim: ModuleOptimizer, steps: usize) -> (Linear, ModuleOptimizer) {
        let device = Device::flex().autodiff();
        let mut model = layer(&device);
        for step in 0..steps {
            let x: Tensor<2> = normal_tensor([16, 96], 0.0, 1.0, 100 + step as u64, &device);
            let loss = model.forward(x).powf_scalar(2.0).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3 / (1.0 + step as f64), model, grads);
        }
        (model, optim)
    }

    fn burns(clip: bool) -> ModuleOptimizer {
        let config = AdamWConfig::new().with_weight_decay(0.05);
        let config = if clip { config.with_grad_clipping(Some(GradientClippingConfig::Norm(0.1))) } else { config };
        config.init()
    }

    /// The fused optimizer, and its count of tensor steps that took the fused path.
    fn ours(clip: bool) -> (ModuleOptimizer, Arc<AtomicUsize>) {
        let fused = FusedAdamW::new(0.05);
        let steps = fused.fused_steps.clone();
        let optim = ModuleOptimizer::from(fused);
        (if clip { optim.with_grad_clipping(GradientClippingConfig::Norm(0.1).init()) } else { optim }, steps)
    }

    #[test]
    fn fused_adamw_is_bit_identical_to_burns_adamw() {
        for clip in [false, true] {
            let (reference, _) = train(burns(clip), 4);
            let (optim, fused_steps) = ours(clip);
            let (fused, _) = train(optim, 4);
            assert_eq!(fused_steps.load(Ordering::Relaxed), 2 * 4, "weight and bias take the fused path every step");
            assert_eq!(weights(&fused), weights(&reference), "parameters differ after 4 steps (clip {clip})");
            // Where the fused path is off (another backend), burn's AdamW takes every step, with the state rebuilt.
            let (optim, fused_steps) = ours(clip);
            let (fallback, _) = with_composed_ops(|| train(optim, 4));
            assert_eq!(fused_steps.load(Ordering::Relaxed), 0, "no step takes the fused path");
            assert_eq!(weights(&fallback), weights(&reference), "burn's path differs after 4 steps (clip {clip})");
        }
    }

    #[test]
    fn fused_adamw_state_round_trips_through_burns_record_format() {
        // Two steps with burn's AdamW, saved; loaded into the fused optimizer, two more steps: the same parameters
        // as four steps of burn's AdamW, so checkpoints written before the fused step resume with it.
        let (_, burn_state) = train(burns(false), 2);
        let bytes = burn_state.into_bytes().unwrap();
        let (fresh, fused_steps) = ours(false);
        let continued = continue_training(fresh.from_bytes(bytes).unwrap());
        assert_eq!(fused_steps.load(Ordering::Relaxed), 2 * 2, "the resumed steps take the fused path");
        let (_, four_burn) = train(burns(false), 2);
        let reference = continue_training(four_burn);
        assert_eq!(continued, reference);
    }

    /// Two more steps from the parameters after two steps of burn's AdamW, with `optim`'s state.
    fn continue_training(optim: ModuleOptimizer) -> (TensorData, TensorData) {
        let (mut model, _) = train(burns(false), 2);
        let device = Device::flex().autodiff();
        // Fresh leaves with the same parameter ids (the optimizer state is keyed by them).
        model.weight = model.weight.map(|t| Tensor::from_inner(t.inner()).require_grad());
        model.bias = model.bias.map(|b| b.map(|t| Tensor::from_inner(t.inner()).require_grad()));
        let mut optim = optim;
        for step in 2..4 {
            let x: Tensor<2> = normal_tensor([16, 96], 0.0, 1.0, 100 + step as u64, &device);
            let grads = GradientsParams::from_grads(model.forward(x).powf_scalar(2.0).mean().backward(), &model);
            model = optim.step(1e-3 / (1.0 + step as f64), model, grads);
        }
        weights(&model)
    }
}
