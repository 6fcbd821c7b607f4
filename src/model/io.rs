//! Safetensors checkpoints: load timm, Hugging Face or gohsp files (shapes inferred from the tensors), save in timm's names with a manifest.

use super::build::{build_vit, vit_tensors};
use super::hf_names::{is_hugging_face, to_timm_names};
use super::host::{HostTensor, NamedTensors};
use super::hub_config::{HubConfig, config_beside};
use super::manifest::{MANIFEST_KEY, PrunedManifest};
use super::shape::{BlockShape, VitShape};
use super::vit::Vit;
use crate::error::{GohspError, IoContext, Result};
use burn::tensor::Device;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::Path;

/// A checkpoint read from disk: tensors in timm's names and layout, plus its manifest when gohsp wrote it.
pub struct Checkpoint {
    /// The tensors.
    pub tensors: NamedTensors,
    /// The manifest from the metadata, if any.
    pub manifest: Option<PrunedManifest>,
    /// Whether the file used Hugging Face names (LayerNorm eps 1e-12).
    pub hugging_face: bool,
}

/// An input error naming `path` unless it is an existing file (gohsp never downloads weights).
pub fn require_weights_file(path: &Path) -> Result<()> {
    match path.is_file() {
        true => Ok(()),
        false => Err(GohspError::input(
            path,
            "weights file not found",
            "check model.weights / --weights; gohsp never downloads weights",
        )),
    }
}

/// Read every tensor of a safetensors file (f32, f64, f16, bf16) and its gohsp manifest.
pub fn read_checkpoint(path: &Path) -> Result<Checkpoint> {
    require_weights_file(path)?;
    let bytes = std::fs::read(path).at_path(path)?;
    let (_, metadata) = SafeTensors::read_metadata(&bytes).map_err(|e| not_safetensors(path, e))?;
    let manifest = manifest_from(metadata.metadata(), path)?;
    let mut tensors = tensors_from_bytes(&bytes, path)?;
    let hugging_face = is_hugging_face(&tensors);
    if hugging_face {
        tensors = to_timm_names(tensors);
    }
    Ok(Checkpoint { tensors, manifest, hugging_face })
}

fn not_safetensors(path: &Path, e: safetensors::SafeTensorError) -> GohspError {
    GohspError::input(
        path,
        format!("not a safetensors file: {e}"),
        "pass a .safetensors checkpoint (timm, Hugging Face or gohsp)",
    )
}

/// Every tensor of safetensors `bytes` as f32, in the file's own names; `path` names the file in errors.
pub fn tensors_from_bytes(bytes: &[u8], path: &Path) -> Result<NamedTensors> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| not_safetensors(path, e))?;
    let mut tensors = NamedTensors::new();
    for (name, view) in file.tensors() {
        let data = to_f32(view.dtype(), view.data()).ok_or_else(|| {
            GohspError::tensor(
                path,
                &name,
                format!("unsupported dtype {:?}", view.dtype()),
                "convert the checkpoint to f32, f16 or bf16",
            )
        })?;
        tensors.insert(name, HostTensor::new(view.shape().to_vec(), data));
    }
    Ok(tensors)
}

fn manifest_from(metadata: &Option<HashMap<String, String>>, path: &Path) -> Result<Option<PrunedManifest>> {
    let Some(text) = metadata.as_ref().and_then(|m| m.get(MANIFEST_KEY)) else { return Ok(None) };
    serde_json::from_str(text).map(Some).map_err(|e| {
        GohspError::input(
            path,
            format!("unreadable gohsp manifest: {e}"),
            "the file was altered; re-create it with gohsp",
        )
    })
}

fn to_f32(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    let values = match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
        Dtype::F64 => bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
        Dtype::F16 => bytes.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        Dtype::BF16 => bytes.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        _ => return None,
    };
    Some(values)
}

/// The shape of the model a checkpoint holds: from its manifest, else inferred from tensor shapes.
/// `heads_hint` gives the head count of files that do not say it (default: heads of size 64).
pub fn checkpoint_shape(ckpt: &Checkpoint, heads_hint: Option<usize>, path: &Path) -> Result<VitShape> {
    if let Some(manifest) = &ckpt.manifest {
        return Ok(manifest.shape.clone());
    }
    let dims = |name: &str| -> Result<&Vec<usize>> {
        ckpt.tensors.get(name).map(|t| &t.shape).ok_or_else(|| {
            GohspError::tensor(path, name, "missing", "not a ViT checkpoint in timm or Hugging Face names")
        })
    };
    let config = config_beside(path)?;
    let conv = dims("patch_embed.proj.weight")?.clone();
    let (dim, in_chans, patch_size) = (conv[0], conv[1], conv[2]);
    let distilled = ckpt.tensors.contains_key("dist_token");
    let tokens = dims("pos_embed")?[1];
    let side = ((tokens - 1 - distilled as usize) as f64).sqrt().round() as usize;
    let num_classes = dims("head.weight")?[0];
    let mut blocks = Vec::new();
    let mut assumed = None;
    while ckpt.tensors.contains_key(&format!("blocks.{}.attn.qkv.weight", blocks.len())) {
        let i = blocks.len();
        let attn_dim = dims(&format!("blocks.{i}.attn.qkv.weight"))?[0] / 3;
        let mlp = dims(&format!("blocks.{i}.mlp.fc1.weight"))?[0];
        let (heads, convention) = head_count(config.as_ref(), heads_hint, attn_dim, path)?;
        if convention {
            assumed.get_or_insert((attn_dim, heads));
        }
        if attn_dim % heads != 0 {
            return Err(GohspError::tensor(
                path,
                format!("blocks.{i}.attn.qkv.weight"),
                format!("attention width {attn_dim} does not split into {heads} heads"),
                "give the head count with `--heads N` (or model.heads)",
            ));
        }
        blocks.push(BlockShape::new(heads, attn_dim / heads, mlp));
    }
    if let Some((attn_dim, heads)) = assumed {
        tracing::info!(file = %path.display(), "no config.json and no --heads: assuming heads of 64 (the DeiT/ViT convention for width {attn_dim}), i.e. {heads} heads");
    }
    if blocks.is_empty() {
        return Err(GohspError::tensor(
            path,
            "blocks.0.attn.qkv.weight",
            "missing: the file holds no transformer block",
            "expected timm names (blocks.N.attn.qkv) or Hugging Face names (vit.encoder.layer.N / vit.layers.N)",
        ));
    }
    let config = config.unwrap_or_default();
    let eps = config.eps.unwrap_or(if ckpt.hugging_face { 1e-12 } else { 1e-6 });
    let image_size = side * patch_size;
    for (key, said, found) in
        [("image_size", config.image_size, image_size), ("patch_size", config.patch_size, patch_size)]
    {
        if said.is_some_and(|said| said != found) {
            let message = format!("`{key}` is {} but the tensors of {} say {found}", said.unwrap(), path.display());
            return Err(GohspError::input(&config.path, message, "use the config.json that belongs to these weights"));
        }
    }
    Ok(VitShape { image_size, patch_size, in_chans, num_classes, dim, eps, distilled, blocks })
}

/// Widths whose usual head count is width / 64 (DeiT/ViT tiny, small, base, large).
const KNOWN_WIDTHS: [usize; 4] = [192, 384, 768, 1024];

/// The head count of a block of attention width `attn_dim`, and whether it was assumed by convention: the
/// config.json beside the file, else the caller's hint (`--heads` / `model.heads`), else heads of 64 for a known width;
/// anything else is an input error.
fn head_count(config: Option<&HubConfig>, hint: Option<usize>, attn_dim: usize, path: &Path) -> Result<(usize, bool)> {
    if let Some(heads) = config.and_then(|c| c.heads) {
        return Ok((heads, false));
    }
    if let Some(heads) = hint {
        return Ok((heads, false));
    }
    if KNOWN_WIDTHS.contains(&attn_dim) {
        return Ok((attn_dim / 64, true));
    }
    Err(GohspError::input(
        path,
        format!("cannot tell the head count of attention width {attn_dim}: no config.json beside the file"),
        "pass the head count with `--heads N` (or model.heads in the spec)",
    ))
}

/// Load a model from a checkpoint file onto `device`; returns it with the file's manifest (if any).
pub fn load_vit(path: &Path, heads_hint: Option<usize>, device: &Device) -> Result<(Vit, Option<PrunedManifest>)> {
    let ckpt = read_checkpoint(path)?;
    let shape = checkpoint_shape(&ckpt, heads_hint, path)?;
    let model = build_vit(&shape, &ckpt.tensors, device, path)?;
    Ok((model, ckpt.manifest))
}

/// Save `model` in timm's names with `manifest` (or a dense one) in the metadata; written to a temp file then renamed.
pub fn save_vit(model: &Vit, manifest: Option<&PrunedManifest>, path: &Path) -> Result<()> {
    let manifest = manifest.cloned().unwrap_or_else(|| PrunedManifest::dense(model.shape()));
    save_tensors(
        &vit_tensors(model),
        &[(MANIFEST_KEY, serde_json::to_string(&manifest).expect("manifest serialises"))],
        path,
    )
}

/// Write named f32 tensors (and string metadata) to a safetensors file atomically, streamed tensor by tensor.
pub fn save_tensors(tensors: &NamedTensors, metadata: &[(&str, String)], path: &Path) -> Result<()> {
    crate::atomic_write::replace_file(path, |tmp| super::stream_save::write_safetensors(tensors, metadata, tmp))
}

/// Named f32 tensors (and string metadata) as the bytes of a safetensors file.
pub fn tensors_to_bytes(
    tensors: &NamedTensors,
    metadata: &[(&str, String)],
) -> std::result::Result<Vec<u8>, safetensors::SafeTensorError> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| (name.clone(), t.data.iter().flat_map(|v| v.to_le_bytes()).collect(), t.shape.clone()))
        .collect();
    let views = bytes.iter().map(|(name, data, shape)| {
        (name.clone(), safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), data).expect("valid view"))
    });
    let meta: HashMap<String, String> = metadata.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    safetensors::serialize(views, Some(meta))
}
