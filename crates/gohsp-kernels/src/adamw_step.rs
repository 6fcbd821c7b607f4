//! AdamW's update over one whole f32 flex tensor in one pass (moments, bias correction, decoupled decay and the
//! update together), in burn's order of operations so that it is bit-identical to burn's `AdamW`; the parameter and
//! both moments are updated in place where nothing else holds them.

use super::route::{Routed, contiguous, from_plain, owned, route, values};
use burn::backend::flex::FlexTensor;
use burn::tensor::Tensor;
use rayon::prelude::*;

/// Elements per rayon task.
const TASK_ELEMENTS: usize = 16 * 1024;

/// The scalars of one step, rounded to f32 where burn rounds them.
#[derive(Clone, Copy, Debug)]
pub struct AdamWConstants {
    /// β₁.
    pub beta_1: f32,
    /// β₂.
    pub beta_2: f32,
    /// 1 − β₁.
    pub factor_1: f32,
    /// 1 − β₂.
    pub factor_2: f32,
    /// 1 − β₁^t.
    pub correction_1: f32,
    /// 1 − β₂^t.
    pub correction_2: f32,
    /// ε.
    pub epsilon: f32,
    /// 1 − lr · weight decay.
    pub keep: f32,
    /// The learning rate.
    pub lr: f32,
}

/// What [`adamw_step`] did: the updated tensors, or the inputs handed back for burn's own step.
#[allow(clippy::large_enum_variant, reason = "returned once per parameter tensor and step; boxing buys nothing")]
pub enum AdamWStep<const D: usize> {
    /// The fused step ran: the parameter and both moments, updated.
    Fused {
        /// The parameter.
        param: Tensor<D>,
        /// The first moment.
        moment_1: Tensor<D>,
        /// The second moment.
        moment_2: Tensor<D>,
    },
    /// Some tensor is not a plain f32 flex tensor (another backend, autodiff, another dtype): nothing was done.
    Unfused {
        /// The parameter, as given.
        param: Tensor<D>,
        /// The gradient, as given.
        grad: Tensor<D>,
        /// The moments, as given.
        moments: Option<(Tensor<D>, Tensor<D>)>,
    },
}

/// One AdamW step of `param` with `grad` and the moments of the previous steps (`None` on the first step). Takes
/// everything by value, so that unshared tensors are updated in place.
pub fn adamw_step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    moments: Option<(Tensor<D>, Tensor<D>)>,
    constants: AdamWConstants,
) -> AdamWStep<D> {
    let moments = moments.map(|(m, v)| (route(m), route(v)));
    let (w, g, moments) = match (route(param), route(grad), moments) {
        (Routed::Plain(w), Routed::Plain(g), None) => (w, g, None),
        (Routed::Plain(w), Routed::Plain(g), Some((Routed::Plain(m), Routed::Plain(v)))) => (w, g, Some((m, v))),
        (w, g, moments) => {
            let moments = moments.map(|(m, v)| (m.into_tensor(), v.into_tensor()));
            return AdamWStep::Unfused { param: w.into_tensor(), grad: g.into_tensor(), moments };
        }
    };
    let (w, m, v) = fused_step(w, &g, moments, constants);
    AdamWStep::Fused { param: from_plain(w), moment_1: from_plain(m), moment_2: from_plain(v) }
}

/// One step over a whole tensor: returns the parameter and both moments, updated (in place where unshared).
fn fused_step(
    w: FlexTensor,
    g: &FlexTensor,
    moments: Option<(FlexTensor, FlexTensor)>,
    c: AdamWConstants,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let g = contiguous(g);
    let first = moments.is_none();
    let (m, v) = moments.unwrap_or_else(|| (g.clone(), g.clone()));
    let (mut w, mut m, mut v) = (owned(w), owned(m), owned(v));
    let grad = values(&g);
    w.storage_mut::<f32>()
        .par_chunks_mut(TASK_ELEMENTS)
        .zip(m.storage_mut::<f32>().par_chunks_mut(TASK_ELEMENTS))
        .zip(v.storage_mut::<f32>().par_chunks_mut(TASK_ELEMENTS))
        .zip(grad.par_chunks(TASK_ELEMENTS))
        .for_each(|(((w, m), v), g)| update(w, m, v, g, first, c));
    (w, m, v)
}

/// burn's AdamW for each element, in its order of operations: m = m * b1 + g * (1 - b1), v = v * b2 + g^2 * (1 - b2)
/// (on the first step m = g * (1 - b1), v = g^2 * (1 - b2)), delta = (m / c1) / (sqrt(v / c2) + eps),
/// w = w * (1 - lr * decay) - delta * lr.
fn update(w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], first: bool, c: AdamWConstants) {
    for (((w, m), v), &g) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
        let (old_m, old_v) = if first { (0.0, 0.0) } else { (*m * c.beta_1, *v * c.beta_2) };
        let new_m = if first { g * c.factor_1 } else { old_m + g * c.factor_1 };
        let new_v = if first { (g * g) * c.factor_2 } else { old_v + (g * g) * c.factor_2 };
        let delta = (new_m / c.correction_1) / ((new_v / c.correction_2).sqrt() + c.epsilon);
        *w = *w * c.keep - delta * c.lr;
        (*m, *v) = (new_m, new_v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::normal_tensor;
    use crate::with_composed_ops;
    use burn::tensor::Device;

    const STEP: AdamWConstants = AdamWConstants {
        beta_1: 0.9,
        beta_2: 0.999,
        factor_1: 0.1,
        factor_2: 0.001,
        correction_1: 0.1,
        correction_2: 0.001,
        epsilon: 1e-5,
        keep: 0.99995,
        lr: 1e-3,
    };

    /// Where a plain flex tensor's values are (the clone shares them and is dropped at once).
    fn buffer(tensor: &Tensor<2>) -> *const f32 {
        match route(tensor.clone()) {
            Routed::Plain(plain) => values(&plain).as_ptr(),
            _ => panic!("not a plain flex tensor"),
        }
    }

    fn fused(step: AdamWStep<2>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        match step {
            AdamWStep::Fused { param, moment_1, moment_2 } => (param, moment_1, moment_2),
            AdamWStep::Unfused { .. } => panic!("plain flex tensors take the fused step"),
        }
    }

    #[test]
    fn a_fused_step_updates_the_parameter_and_both_moments_in_place() {
        // A step that kept a clone of its inputs would see them shared and write all three into fresh copies.
        let device = Device::flex();
        let grad = |seed| normal_tensor([96, 400], 0.0, 1.0, seed, &device);
        let (w, m, v) = fused(adamw_step(normal_tensor([96, 400], 0.0, 0.1, 3, &device), grad(5), None, STEP));
        let before = [buffer(&w), buffer(&m), buffer(&v)];
        let (w, m, v) = fused(adamw_step(w, grad(6), Some((m, v)), STEP));
        assert_eq!([buffer(&w), buffer(&m), buffer(&v)], before, "the parameter, first and second moment were copied");
    }

    #[test]
    fn tensors_off_the_fused_path_come_back_untouched() {
        let device = Device::flex();
        let (w, g) = (normal_tensor([4, 5], 0.0, 0.1, 1, &device), normal_tensor([4, 5], 0.0, 1.0, 2, &device));
        let (w_data, g_data) = (w.to_data(), g.to_data());
        match with_composed_ops(|| adamw_step(w, g, None, STEP)) {
            AdamWStep::Unfused { param, grad, moments } => {
                assert_eq!((param.to_data(), grad.to_data()), (w_data, g_data));
                assert!(moments.is_none());
            }
            AdamWStep::Fused { .. } => panic!("with composed ops forced, nothing takes the fused step"),
        }
    }
}
