//! Random initialisation of a ViT as timm does it: truncated-normal(0.02) weights, zero biases, unit norms.

use super::host::{HostTensor, NamedTensors};
use super::layout::expected_tensors;
use super::shape::VitShape;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Freshly initialised tensors for `shape` (timm names and layout), reproducible from `seed`.
pub fn init_tensors(shape: &VitShape, seed: u64) -> NamedTensors {
    let mut rng = StdRng::seed_from_u64(seed);
    expected_tensors(shape)
        .into_iter()
        .map(|(name, dims)| {
            let n = dims.iter().product();
            let data = if name.ends_with(".bias") {
                vec![0.0; n]
            } else if is_norm_weight(&name) {
                vec![1.0; n]
            } else {
                (0..n).map(|_| trunc_normal(&mut rng, 0.02)).collect()
            };
            (name, HostTensor::new(dims, data))
        })
        .collect()
}

fn is_norm_weight(name: &str) -> bool {
    name.ends_with("norm1.weight") || name.ends_with("norm2.weight") || name == "norm.weight"
}

/// A normal(0, std) sample truncated to +-2 std (timm's trunc_normal_).
fn trunc_normal(rng: &mut StdRng, std: f32) -> f32 {
    loop {
        // Box-Muller from two uniforms.
        let (u1, u2): (f32, f32) = (rng.r#gen::<f32>().max(f32::MIN_POSITIVE), rng.r#gen());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos();
        if z.abs() <= 2.0 {
            return z * std;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_seeded_and_shaped_like_timm() {
        let shape = VitShape::uniform(28, 7, 1, 10, 48, 2, 3, 2.0);
        let a = init_tensors(&shape, 7);
        assert_eq!(a, init_tensors(&shape, 7));
        assert_ne!(a["blocks.0.attn.qkv.weight"], init_tensors(&shape, 8)["blocks.0.attn.qkv.weight"]);
        assert!(a["blocks.1.norm2.weight"].data.iter().all(|&v| v == 1.0));
        assert!(a["head.bias"].data.iter().all(|&v| v == 0.0));
        let w = &a["blocks.0.mlp.fc1.weight"].data;
        let std = (w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32).sqrt();
        assert!((0.012..0.02).contains(&std), "std {std}");
        assert!(w.iter().all(|v| v.abs() <= 0.04 + 1e-6));
    }
}
