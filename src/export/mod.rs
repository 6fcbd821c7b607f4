//! Export of a (dense or pruned) gohsp ViT to other runtimes: ONNX, with its protobuf types generated at build time.

pub mod format;
mod graph;
pub mod normalization;
pub mod onnx;
pub(crate) mod onnx_proto;
pub mod vit_graph;
