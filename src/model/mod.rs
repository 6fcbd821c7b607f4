//! The Vision Transformer: shape, burn module, presets, checkpoints and cost.

pub mod build;
pub mod cost;
/// The fused CPU kernels, in their own crate.
pub use gohsp_kernels as fused;
pub(crate) mod header;
pub(crate) mod hf_names;
pub mod host;
pub(crate) mod hub_config;
pub mod init;
pub mod io;
pub mod layout;
pub mod manifest;
pub mod presets;
pub mod shape;
pub mod stream_save;
pub mod vit;
