//! Deterministic random test tensors: drawn from a seeded generator of their own, not from burn's device-wide one,
//! which tests running in parallel reseed and draw from concurrently. Shared with gohsp's own tests.

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `len` normal values with mean `mean` and standard deviation `std` (Box-Muller), the same for the same seed.
pub fn normal_values(len: usize, mean: f32, std: f32, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len)
        .map(|_| {
            let (u, v) = (1.0 - rng.r#gen::<f64>(), rng.r#gen::<f64>());
            let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            mean + std * z as f32
        })
        .collect()
}

/// A tensor of `shape` filled with `normal_values`.
pub fn normal_tensor<const D: usize>(shape: [usize; D], mean: f32, std: f32, seed: u64, device: &Device) -> Tensor<D> {
    let values = normal_values(shape.iter().product(), mean, std, seed);
    Tensor::from_data(TensorData::new(values, shape), device)
}
