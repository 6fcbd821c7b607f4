//! `gohsp export`: a checkpoint written as ONNX; and what `gohsp inspect` prints of an ONNX file.

use super::stdout::outln;
use crate::error::Result;
use crate::export::format::ExportFormat;
use crate::export::normalization::Normalization;
use crate::export::onnx::{export_onnx, read_onnx};
use std::path::Path;

/// Export `weights` to `out` in `format`; `stats` is the (mean, std) given on the command line.
pub(crate) fn export(
    weights: &Path,
    format: ExportFormat,
    out: &Path,
    heads: Option<usize>,
    stats: Option<(Vec<f32>, Vec<f32>)>,
) -> Result<i32> {
    let normalization = stats.map(|(mean, std)| Normalization { mean, std });
    match format {
        ExportFormat::Onnx => {
            let done = export_onnx(weights, heads, normalization, out)?;
            let heads: Vec<usize> = done.shape.blocks.iter().map(|b| b.heads).collect();
            let mlp: Vec<usize> = done.shape.blocks.iter().map(|b| b.mlp).collect();
            outln!(
                "{}: ONNX opset {}, {} nodes, {} bytes; heads per block {heads:?}, MLP widths {mlp:?}",
                done.path.display(),
                crate::export::onnx::OPSET,
                done.nodes,
                done.bytes
            );
            if done.normalization.is_none() {
                tracing::warn!(
                    "no input normalisation recorded (none given, none beside the weights): pass --mean and --std"
                );
            }
        }
    }
    Ok(0)
}

/// Print an ONNX file's interface and metadata (as JSON with `json`).
pub(crate) fn inspect_onnx(path: &Path, json: bool) -> Result<i32> {
    let info = read_onnx(path)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&info).expect("serialises"));
        return Ok(0);
    }
    let opset = info.opset.map_or("?".to_string(), |o| o.to_string());
    outln!("{}: ONNX from {}, opset {opset}, {} nodes", path.display(), info.producer, info.nodes);
    for (name, dims) in &info.inputs {
        outln!("input   {name} [{}]", dims.join(", "));
    }
    for (name, dims) in &info.outputs {
        outln!("output  {name} [{}]", dims.join(", "));
    }
    for (key, value) in &info.metadata {
        outln!("{key}: {value}");
    }
    Ok(0)
}
