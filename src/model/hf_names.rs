//! Hugging Face ViT/DeiT tensor names translated to timm's (separate query/key/value fused into qkv).

use super::host::{HostTensor, NamedTensors};
use std::collections::BTreeMap;

/// Whether `tensors` use Hugging Face names (`vit.` or `deit.` prefixes).
pub(crate) fn is_hugging_face(tensors: &BTreeMap<String, HostTensor>) -> bool {
    tensors.keys().any(|k| k.starts_with("vit.embeddings") || k.starts_with("deit.embeddings"))
}

/// The same tensors under timm's names; query, key and value are stacked into qkv.
pub(crate) fn to_timm_names(hf: NamedTensors) -> NamedTensors {
    let mut out = NamedTensors::new();
    let mut qkv: BTreeMap<(usize, String), [Option<HostTensor>; 3]> = BTreeMap::new();
    for (name, tensor) in hf {
        let bare = name.strip_prefix("vit.").or_else(|| name.strip_prefix("deit.")).unwrap_or(&name);
        if let Some((layer, part, suffix)) = split_qkv(bare) {
            qkv.entry((layer, suffix)).or_default()[part] = Some(tensor);
        } else if let Some(timm) = rename(bare) {
            out.insert(timm, tensor);
        }
    }
    for ((layer, suffix), parts) in qkv {
        if let [Some(q), Some(k), Some(v)] = &parts {
            out.insert(format!("blocks.{layer}.attn.qkv.{suffix}"), HostTensor::concat_rows(&[q, k, v]));
        }
    }
    out
}

/// `encoder.layer.N.attention.attention.{query,key,value}.{weight,bias}` (transformers 4) or
/// `layers.N.attention.{q,k,v}_proj.{weight,bias}` (transformers 5) -> (N, 0|1|2, weight|bias).
fn split_qkv(name: &str) -> Option<(usize, usize, String)> {
    let (layer, rest) = split_layer(name)?;
    let (which, suffix) = match rest.strip_prefix("attention.attention.") {
        Some(v4) => v4.split_once('.')?,
        None => rest.strip_prefix("attention.")?.split_once('.')?,
    };
    let part = ["query", "key", "value"]
        .iter()
        .position(|w| *w == which)
        .or_else(|| ["q_proj", "k_proj", "v_proj"].iter().position(|w| *w == which))?;
    Some((layer, part, suffix.to_string()))
}

/// `encoder.layer.N.rest` or `layers.N.rest` -> (N, rest).
fn split_layer(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("encoder.layer.").or_else(|| name.strip_prefix("layers."))?;
    let (layer, rest) = rest.split_once('.')?;
    Some((layer.parse().ok()?, rest))
}

fn rename(name: &str) -> Option<String> {
    let fixed = match name {
        "embeddings.cls_token" => "cls_token",
        "embeddings.distillation_token" => "dist_token",
        "embeddings.position_embeddings" => "pos_embed",
        "embeddings.patch_embeddings.projection.weight" => "patch_embed.proj.weight",
        "embeddings.patch_embeddings.projection.bias" => "patch_embed.proj.bias",
        "layernorm.weight" => "norm.weight",
        "layernorm.bias" => "norm.bias",
        "classifier.weight" | "cls_classifier.weight" => "head.weight",
        "classifier.bias" | "cls_classifier.bias" => "head.bias",
        "distillation_classifier.weight" => "head_dist.weight",
        "distillation_classifier.bias" => "head_dist.bias",
        _ => return rename_layer(name),
    };
    Some(fixed.to_string())
}

fn rename_layer(name: &str) -> Option<String> {
    let (layer, rest) = split_layer(name)?;
    let timm = [
        ("layernorm_before.", "norm1."),
        ("attention.output.dense.", "attn.proj."),
        ("attention.o_proj.", "attn.proj."),
        ("layernorm_after.", "norm2."),
        ("intermediate.dense.", "mlp.fc1."),
        ("output.dense.", "mlp.fc2."),
        ("mlp.fc1.", "mlp.fc1."),
        ("mlp.fc2.", "mlp.fc2."),
    ]
    .iter()
    .find_map(|(hf, timm)| rest.strip_prefix(hf).map(|suffix| format!("{timm}{suffix}")))?;
    Some(format!("blocks.{layer}.{timm}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: f32) -> HostTensor {
        HostTensor::new(vec![1, 2], vec![v, v])
    }

    #[test]
    fn query_key_value_stack_in_that_order_and_names_map() {
        let mut hf = NamedTensors::new();
        hf.insert("vit.encoder.layer.3.attention.attention.value.weight".into(), t(3.0));
        hf.insert("vit.encoder.layer.3.attention.attention.query.weight".into(), t(1.0));
        hf.insert("vit.encoder.layer.3.attention.attention.key.weight".into(), t(2.0));
        hf.insert("vit.encoder.layer.3.output.dense.bias".into(), t(4.0));
        hf.insert("vit.embeddings.cls_token".into(), t(5.0));
        assert!(is_hugging_face(&hf));
        let timm = to_timm_names(hf);
        assert_eq!(timm["blocks.3.attn.qkv.weight"].data, vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
        assert_eq!(timm["blocks.3.mlp.fc2.bias"].data, vec![4.0, 4.0]);
        assert!(timm.contains_key("cls_token"));
    }
}
