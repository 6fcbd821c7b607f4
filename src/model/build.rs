//! Turning named host tensors (timm layout) into a burn `Vit` and back, checking every tensor's presence and shape.

use super::host::{HostTensor, NamedTensors};
use super::layout::expected_tensors;
use super::shape::VitShape;
use super::vit::{Attention, Block, Mlp, Vit};
use crate::error::{GohspError, Result};
use burn::module::{Param, ParamId};
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Device, Tensor};
use std::path::Path;

/// Check that `tensors` holds exactly what `shape` needs, with the right shapes; `source` names the file in errors.
pub fn check_tensors(shape: &VitShape, tensors: &NamedTensors, source: &Path) -> Result<()> {
    for (name, expected) in expected_tensors(shape) {
        let found = tensors.get(&name).ok_or_else(|| {
            GohspError::tensor(
                source,
                &name,
                "missing",
                "the checkpoint must hold every tensor of a timm-layout ViT (or Hugging Face names)",
            )
        })?;
        if found.shape != expected {
            return Err(GohspError::tensor(
                source,
                &name,
                format!("expected shape {expected:?}, found {:?}", found.shape),
                "the file does not match the model's shape; check model.preset / heads, or the manifest",
            ));
        }
    }
    Ok(())
}

/// Build a model of `shape` from checked tensors on `device`.
pub fn build_vit(shape: &VitShape, tensors: &NamedTensors, device: &Device, source: &Path) -> Result<Vit> {
    check_tensors(shape, tensors, source)?;
    let get = |name: &str| &tensors[name];
    let linear =
        |prefix: &str| linear_from(prefix, get(&format!("{prefix}.weight")), get(&format!("{prefix}.bias")), device);
    let norm = |prefix: &str| {
        norm_from(prefix, get(&format!("{prefix}.weight")), get(&format!("{prefix}.bias")), shape.eps, device)
    };
    let patch_weight = get("patch_embed.proj.weight");
    let flat = HostTensor::new(vec![shape.dim, patch_weight.numel() / shape.dim], patch_weight.data.clone());
    let blocks = shape
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| Block {
            norm1: norm(&format!("blocks.{i}.norm1")),
            attn: Attention {
                qkv: linear(&format!("blocks.{i}.attn.qkv")),
                proj: linear(&format!("blocks.{i}.attn.proj")),
                heads: b.heads,
                head_dim: b.head_dim,
                qk_dim: b.qk_dim,
            },
            norm2: norm(&format!("blocks.{i}.norm2")),
            mlp: Mlp { fc1: linear(&format!("blocks.{i}.mlp.fc1")), fc2: linear(&format!("blocks.{i}.mlp.fc2")) },
        })
        .collect();
    Ok(Vit {
        patch_embed: linear_from("patch_embed.proj", &flat, get("patch_embed.proj.bias"), device),
        cls_token: named_param("cls_token", get("cls_token"), device),
        dist_token: shape.distilled.then(|| named_param("dist_token", get("dist_token"), device)),
        pos_embed: named_param("pos_embed", get("pos_embed"), device),
        blocks,
        norm: norm("norm"),
        head: linear("head"),
        head_dist: shape.distilled.then(|| linear("head_dist")),
        image_size: shape.image_size,
        patch_size: shape.patch_size,
        in_chans: shape.in_chans,
        eps: shape.eps,
    })
}

/// A parameter whose id derives from its timm name, so optimizer state saved by one run (keyed by id) fits the
/// same model rebuilt by another: that is what makes resuming a training run exact.
pub fn named_param<const D: usize>(name: &str, value: &HostTensor, device: &Device) -> Param<Tensor<D>> {
    let digest = blake3::hash(name.as_bytes());
    let id = u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes"));
    let mut param = Param::from_tensor(value.to_tensor(device));
    param.id = ParamId::from(id);
    param
}

fn linear_from(prefix: &str, weight_out_in: &HostTensor, bias: &HostTensor, device: &Device) -> Linear {
    Linear {
        weight: named_param(&format!("{prefix}.weight"), &weight_out_in.transposed(), device),
        bias: Some(named_param(&format!("{prefix}.bias"), bias, device)),
    }
}

fn norm_from(prefix: &str, weight: &HostTensor, bias: &HostTensor, eps: f64, device: &Device) -> LayerNorm {
    let mut norm = LayerNormConfig::new(weight.shape[0]).with_epsilon(eps).init(device);
    norm.gamma = named_param(&format!("{prefix}.weight"), weight, device);
    norm.beta = Some(named_param(&format!("{prefix}.bias"), bias, device));
    norm
}

/// All of a model's tensors on the host, by timm name and in timm's layout.
pub fn vit_tensors(model: &Vit) -> NamedTensors {
    let shape = model.shape();
    let mut out = NamedTensors::new();
    let put_linear = |out: &mut NamedTensors, prefix: &str, l: &Linear| {
        out.insert(format!("{prefix}.weight"), HostTensor::from_tensor(l.weight.val()).transposed());
        let bias = l.bias.as_ref().expect("gohsp linears have biases").val();
        out.insert(format!("{prefix}.bias"), HostTensor::from_tensor(bias));
    };
    let put_norm = |out: &mut NamedTensors, prefix: &str, n: &LayerNorm| {
        out.insert(format!("{prefix}.weight"), HostTensor::from_tensor(n.gamma.val()));
        let beta = n.beta.as_ref().expect("gohsp norms have biases").val();
        out.insert(format!("{prefix}.bias"), HostTensor::from_tensor(beta));
    };
    put_linear(&mut out, "patch_embed.proj", &model.patch_embed);
    let (d, c, p) = (shape.dim, shape.in_chans, shape.patch_size);
    let conv = out.get_mut("patch_embed.proj.weight").expect("just inserted");
    conv.shape = vec![d, c, p, p];
    out.insert("cls_token".into(), HostTensor::from_tensor(model.cls_token.val()));
    if let Some(dist) = &model.dist_token {
        out.insert("dist_token".into(), HostTensor::from_tensor(dist.val()));
    }
    out.insert("pos_embed".into(), HostTensor::from_tensor(model.pos_embed.val()));
    for (i, block) in model.blocks.iter().enumerate() {
        put_norm(&mut out, &format!("blocks.{i}.norm1"), &block.norm1);
        put_linear(&mut out, &format!("blocks.{i}.attn.qkv"), &block.attn.qkv);
        put_linear(&mut out, &format!("blocks.{i}.attn.proj"), &block.attn.proj);
        put_norm(&mut out, &format!("blocks.{i}.norm2"), &block.norm2);
        put_linear(&mut out, &format!("blocks.{i}.mlp.fc1"), &block.mlp.fc1);
        put_linear(&mut out, &format!("blocks.{i}.mlp.fc2"), &block.mlp.fc2);
    }
    put_norm(&mut out, "norm", &model.norm);
    put_linear(&mut out, "head", &model.head);
    if let Some(head_dist) = &model.head_dist {
        put_linear(&mut out, "head_dist", head_dist);
    }
    out
}
