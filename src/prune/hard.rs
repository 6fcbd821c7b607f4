//! Hard pruning: slice a dense model's tensors to the kept heads and neurons, giving a physically smaller model.

use super::mask::StructureMask;
use crate::model::host::NamedTensors;
use crate::model::manifest::PrunedManifest;
use crate::model::shape::VitShape;

/// The sliced tensors and the manifest of the smaller model.
pub fn slice_tensors(shape: &VitShape, tensors: &NamedTensors, mask: &StructureMask) -> (NamedTensors, PrunedManifest) {
    let mut out = tensors.clone();
    let (kept_heads, kept_neurons) = (mask.kept_heads(), mask.kept_neurons());
    for (l, block) in shape.blocks.iter().enumerate() {
        let dh = block.head_dim;
        let heads = &kept_heads[l];
        let qk = |h: usize| mask.kept_qk(l, h, block.qk_dim);
        let q_rows = heads.iter().flat_map(|&h| qk(h).into_iter().map(move |j| block.q_row(h, j)));
        let k_rows = heads.iter().flat_map(|&h| qk(h).into_iter().map(move |j| block.k_row(h, j)));
        let v_rows = heads.iter().flat_map(|&h| (0..dh).map(move |j| block.v_row(h, j)));
        let qkv_rows: Vec<usize> = q_rows.chain(k_rows).chain(v_rows).collect();
        let head_cols: Vec<usize> = heads.iter().flat_map(|&h| h * dh..(h + 1) * dh).collect();
        let neurons = &kept_neurons[l];
        let name = |rest: &str| format!("blocks.{l}.{rest}");
        out.insert(name("attn.qkv.weight"), tensors[&name("attn.qkv.weight")].select_rows(&qkv_rows));
        out.insert(name("attn.qkv.bias"), tensors[&name("attn.qkv.bias")].select_rows(&qkv_rows));
        out.insert(name("attn.proj.weight"), tensors[&name("attn.proj.weight")].select_cols(&head_cols));
        out.insert(name("mlp.fc1.weight"), tensors[&name("mlp.fc1.weight")].select_rows(neurons));
        out.insert(name("mlp.fc1.bias"), tensors[&name("mlp.fc1.bias")].select_rows(neurons));
        out.insert(name("mlp.fc2.weight"), tensors[&name("mlp.fc2.weight")].select_cols(neurons));
    }
    let manifest = PrunedManifest {
        format: PrunedManifest::FORMAT.to_string(),
        shape: mask.pruned_shape(shape),
        kept_heads: Some(mask.kept_heads()),
        kept_neurons: Some(mask.kept_neurons()),
        kept_qk_dims: mask.kept_qk_dims(shape),
    };
    (out, manifest)
}
