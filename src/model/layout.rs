//! The tensors a ViT of a given shape holds, by timm name and timm shape: the contract every loader and saver checks against.

use super::shape::VitShape;

/// Every tensor (timm name, timm shape) a model of `shape` holds, in a stable order.
pub fn expected_tensors(shape: &VitShape) -> Vec<(String, Vec<usize>)> {
    let (d, c, p) = (shape.dim, shape.in_chans, shape.patch_size);
    let mut out = vec![
        ("patch_embed.proj.weight".to_string(), vec![d, c, p, p]),
        ("patch_embed.proj.bias".to_string(), vec![d]),
        ("cls_token".to_string(), vec![1, 1, d]),
    ];
    if shape.distilled {
        out.push(("dist_token".to_string(), vec![1, 1, d]));
    }
    out.push(("pos_embed".to_string(), vec![1, shape.tokens(), d]));
    for (i, block) in shape.blocks.iter().enumerate() {
        let (a, qkv, m) = (block.attn_dim(), block.qkv_rows(), block.mlp);
        let name = |rest: &str| format!("blocks.{i}.{rest}");
        out.extend([
            (name("norm1.weight"), vec![d]),
            (name("norm1.bias"), vec![d]),
            (name("attn.qkv.weight"), vec![qkv, d]),
            (name("attn.qkv.bias"), vec![qkv]),
            (name("attn.proj.weight"), vec![d, a]),
            (name("attn.proj.bias"), vec![d]),
            (name("norm2.weight"), vec![d]),
            (name("norm2.bias"), vec![d]),
            (name("mlp.fc1.weight"), vec![m, d]),
            (name("mlp.fc1.bias"), vec![m]),
            (name("mlp.fc2.weight"), vec![d, m]),
            (name("mlp.fc2.bias"), vec![d]),
        ]);
    }
    out.push(("norm.weight".to_string(), vec![d]));
    out.push(("norm.bias".to_string(), vec![d]));
    out.push(("head.weight".to_string(), vec![shape.num_classes, d]));
    out.push(("head.bias".to_string(), vec![shape.num_classes]));
    if shape.distilled {
        out.push(("head_dist.weight".to_string(), vec![shape.num_classes, d]));
        out.push(("head_dist.bias".to_string(), vec![shape.num_classes]));
    }
    out
}
