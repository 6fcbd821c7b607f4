//! Named model presets: the DeiT/ViT family at 224 px and `vit_mnist`, a small CPU model for 28x28 gray images.

use super::shape::VitShape;
use crate::error::{GohspError, Result};

/// Names accepted by `model.preset`.
pub const PRESETS: &[&str] = &["vit_mnist", "deit_tiny", "deit_small", "vit_small", "deit_base"];

/// The shape of preset `name`, with `num_classes` outputs.
pub fn preset(name: &str, num_classes: usize) -> Result<VitShape> {
    let shape = match name {
        // The quickstart model: patch 7 on 28x28 (16 patches), width 96, depth 6, 4 heads, MLP x4.
        "vit_mnist" => VitShape::uniform(28, 7, 1, num_classes, 96, 6, 4, 4.0),
        "deit_tiny" => VitShape::uniform(224, 16, 3, num_classes, 192, 12, 3, 4.0),
        "deit_small" | "vit_small" => VitShape::uniform(224, 16, 3, num_classes, 384, 12, 6, 4.0),
        "deit_base" => VitShape::uniform(224, 16, 3, num_classes, 768, 12, 12, 4.0),
        other => {
            return Err(GohspError::spec(
                "<spec>",
                "model.preset",
                format!("unknown preset `{other}`"),
                format!("use one of {}", PRESETS.join(", ")),
            ));
        }
    };
    Ok(shape)
}

/// The head count a preset uses, as a hint for loading checkpoints whose files do not say it.
pub fn preset_heads(name: &str) -> Option<usize> {
    preset(name, 10).ok().map(|s| s.blocks[0].heads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_published_widths() {
        let tiny = preset("deit_tiny", 1000).unwrap();
        assert_eq!((tiny.dim, tiny.blocks.len(), tiny.blocks[0].heads, tiny.blocks[0].mlp), (192, 12, 3, 768));
        let small = preset("deit_small", 1000).unwrap();
        assert_eq!((small.dim, small.blocks[0].head_dim, small.blocks[0].mlp), (384, 64, 1536));
        assert_eq!(preset("vit_mnist", 10).unwrap().tokens(), 17);
    }

    #[test]
    fn unknown_preset_is_a_spec_error_listing_the_valid_ones() {
        let err = preset("deit_huge", 10).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("deit_tiny"));
    }
}
