//! `gohsp inspect`, `gohsp predict` and `gohsp rank-graph`: tools that work on single files.

use super::stdout::outln;
use crate::error::{GohspError, Result};
use crate::model::cost::cost;
use crate::model::host::HostTensor;
use crate::model::host::NamedTensors;
use crate::model::io::{load_vit, read_checkpoint, save_tensors};
use crate::prune::pagerank::rank_graph_file;
use burn::tensor::Device;
use serde_json::json;
use std::path::Path;

/// Print a checkpoint's per-block structure, parameter count and MACs.
pub(crate) fn inspect(weights: &Path, heads: Option<usize>, as_json: bool) -> Result<i32> {
    if weights.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx")) {
        return super::export::inspect_onnx(weights, as_json);
    }
    let (model, manifest) = load_vit(weights, heads, &Device::flex())?;
    let shape = model.shape();
    let report = cost(&shape);
    if as_json {
        let kept_heads = manifest.as_ref().and_then(|m| m.kept_heads.clone());
        let kept_qk_dims = manifest.as_ref().and_then(|m| m.kept_qk_dims.clone());
        let value = json!({ "params": report.params, "macs": report.macs, "shape": shape, "kept_heads": kept_heads, "kept_qk_dims": kept_qk_dims });
        outln!("{}", serde_json::to_string_pretty(&value).expect("serialises"));
        return Ok(0);
    }
    outln!(
        "{}: {} px, patch {}, {} channels, width {}, {} classes",
        weights.display(),
        shape.image_size,
        shape.patch_size,
        shape.in_chans,
        shape.dim,
        shape.num_classes
    );
    outln!("block  heads  head_dim  qk_dim  mlp");
    for (i, b) in shape.blocks.iter().enumerate() {
        outln!("{i:>5}  {:>5}  {:>8}  {:>6}  {:>4}", b.heads, b.head_dim, b.qk_dim, b.mlp);
    }
    outln!("params {}  MACs/image {}", report.params, report.macs);
    Ok(0)
}

/// Run a checkpoint on the tensor `input` of `input_path`; write `logits` to `out`.
pub(crate) fn predict(weights: &Path, input_path: &Path, out: &Path, heads: Option<usize>) -> Result<i32> {
    let device = Device::flex();
    let (model, _) = load_vit(weights, heads, &device)?;
    let tensors = read_checkpoint(input_path)?.tensors;
    let input = tensors.get("input").ok_or_else(|| {
        GohspError::tensor(input_path, "input", "missing", "the file must hold a tensor named `input` [B, C, H, W]")
    })?;
    let shape = model.shape();
    let want = [shape.in_chans, shape.image_size, shape.image_size];
    if input.shape.len() != 4 || input.shape[1..] != want {
        return Err(GohspError::tensor(
            input_path,
            "input",
            format!("expected shape [B, {}, {}, {}], found {:?}", want[0], want[1], want[2], input.shape),
            "normalise and resize the images to the model's input",
        ));
    }
    let logits = model.forward(input.to_tensor::<4>(&device));
    let mut outputs = NamedTensors::new();
    outputs.insert("logits".into(), HostTensor::from_tensor::<2>(logits));
    save_tensors(&outputs, &[], out)?;
    Ok(0)
}

/// Rank a JSON graph and print the scores as JSON.
pub(crate) fn rank_graph(graph: &Path) -> Result<i32> {
    let scores = rank_graph_file(graph)?;
    outln!("{}", serde_json::to_string_pretty(&scores).expect("serialises"));
    Ok(0)
}
