//! Fused CPU ops of the ViT's hot path (linear layers, attention, GELU, scaled softmax, LayerNorm): one flex kernel
//! each, forward and backward, instead of the many small ops burn's autodiff composes them from; AdamW's step in one
//! pass; and the FMA-peak probe the benchmarks print. Other backends get burn's composed ops. This crate holds all of
//! gohsp's `unsafe` SIMD code (each block with its SAFETY note), so that the main crate can forbid it.

pub mod adamw_step;
mod attention;
mod attention_kernel;
mod embed;
pub mod fma_peak;
mod gelu;
mod gemm_operands;
mod kernels;
mod layer_norm;
mod linear;
mod linear_gemm;
mod linear_kernel;
#[cfg(target_arch = "x86_64")]
mod packed_gemm;
mod route;
mod simd_math;
mod softmax;
mod strided_gemm;
#[doc(hidden)]
pub mod testing;

pub use adamw_step::{AdamWConstants, AdamWStep, adamw_step};
pub use attention::attention;
pub use attention_kernel::AttentionDims;
pub use embed::{patches, prepend_and_position};
pub use gelu::gelu;
pub use layer_norm::layer_norm;
pub use linear::{linear, linear_residual};
pub use linear_gemm::{CpuFeatures, LinearGemm, default_linear_gemm, with_linear_gemm};
pub use route::with_composed_ops;
pub use softmax::softmax_scaled;

#[cfg(test)]
mod tests;
