//! The dense architecture a spec asks for: a preset adjusted by explicit overrides and the dataset's channels and classes.

use crate::data::dataset::DatasetInfo;
use crate::error::Result;
use crate::experiment::types::ModelSpec;
use crate::model::presets::preset;
use crate::model::shape::{BlockShape, VitShape};

/// The dense model's shape for `model` on a dataset described by `info`.
pub(crate) fn resolve_shape(model: &ModelSpec, info: &DatasetInfo) -> Result<VitShape> {
    let mut shape = preset(&model.preset, model.num_classes.unwrap_or(info.classes))?;
    shape.in_chans = model.in_chans.unwrap_or(info.channels);
    shape.image_size = model.image_size.unwrap_or(shape.image_size);
    shape.patch_size = model.patch_size.unwrap_or(shape.patch_size);
    shape.dim = model.dim.unwrap_or(shape.dim);
    let depth = model.depth.unwrap_or(shape.blocks.len());
    let heads = model.heads.unwrap_or(shape.blocks[0].heads);
    let ratio = model.mlp_ratio.unwrap_or(shape.blocks[0].mlp as f64 / shape.blocks[0].attn_dim().max(1) as f64);
    let block = BlockShape::new(heads, shape.dim / heads.max(1), (shape.dim as f64 * ratio).round() as usize);
    shape.blocks = vec![block; depth];
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mnist() -> DatasetInfo {
        DatasetInfo {
            name: "mnist5k".into(),
            channels: 1,
            image_size: 28,
            classes: 10,
            mean: vec![0.1],
            std: vec![0.3],
        }
    }

    #[test]
    fn overrides_replace_preset_fields_and_keep_the_rest() {
        let spec = ModelSpec {
            preset: "vit_mnist".into(),
            dim: Some(48),
            depth: Some(2),
            heads: Some(3),
            mlp_ratio: Some(2.0),
            ..Default::default()
        };
        let shape = resolve_shape(&spec, &mnist()).unwrap();
        assert_eq!((shape.dim, shape.blocks.len(), shape.num_classes, shape.in_chans), (48, 2, 10, 1));
        assert_eq!(shape.blocks[0], BlockShape::new(3, 16, 96));
        let plain = resolve_shape(&ModelSpec { preset: "vit_mnist".into(), ..Default::default() }, &mnist()).unwrap();
        assert_eq!(plain.blocks[0], BlockShape::new(4, 24, 384));
    }
}
