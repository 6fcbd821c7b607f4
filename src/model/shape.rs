//! The shape of a ViT as plain data: per-block head counts and MLP widths, shared by the model, the cost model and pruning.

use serde::{Deserialize, Serialize};

/// The shape of one transformer block: its own head count, head size and MLP width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockShape {
    /// Number of attention heads kept in this block (may be 0 after pruning).
    pub heads: usize,
    /// Size of each head (q, k and v share it).
    pub head_dim: usize,
    /// Hidden width of the MLP (fc1 outputs, fc2 inputs).
    pub mlp: usize,
}

impl BlockShape {
    /// Width of the attention's inner projection: heads * head_dim.
    pub fn attn_dim(&self) -> usize {
        self.heads * self.head_dim
    }
}

/// The full architecture of a (possibly heterogeneous) Vision Transformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VitShape {
    /// Input image side in pixels (square images).
    pub image_size: usize,
    /// Patch side in pixels.
    pub patch_size: usize,
    /// Input channels (1 gray, 3 RGB).
    pub in_chans: usize,
    /// Number of output classes.
    pub num_classes: usize,
    /// Embedding width D.
    pub dim: usize,
    /// LayerNorm epsilon (1e-6 for timm, 1e-12 for Hugging Face).
    pub eps: f64,
    /// DeiT's distilled variant: a second token and a second head, averaged at evaluation.
    #[serde(default)]
    pub distilled: bool,
    /// One entry per transformer block.
    pub blocks: Vec<BlockShape>,
}

impl VitShape {
    /// A homogeneous ViT: every block has `heads` heads of size dim/heads and an MLP of dim*mlp_ratio.
    #[allow(clippy::too_many_arguments)]
    pub fn uniform(
        image_size: usize,
        patch_size: usize,
        in_chans: usize,
        num_classes: usize,
        dim: usize,
        depth: usize,
        heads: usize,
        mlp_ratio: f64,
    ) -> Self {
        let block = BlockShape { heads, head_dim: dim / heads, mlp: (dim as f64 * mlp_ratio).round() as usize };
        Self {
            image_size,
            patch_size,
            in_chans,
            num_classes,
            dim,
            eps: 1e-6,
            distilled: false,
            blocks: vec![block; depth],
        }
    }

    /// Number of patches per image.
    pub fn num_patches(&self) -> usize {
        let side = self.image_size / self.patch_size;
        side * side
    }

    /// Number of prefix tokens (class token, plus the distillation token for DeiT-distilled).
    pub fn num_prefix_tokens(&self) -> usize {
        if self.distilled { 2 } else { 1 }
    }

    /// Sequence length T: patches plus prefix tokens.
    pub fn tokens(&self) -> usize {
        self.num_patches() + self.num_prefix_tokens()
    }

    /// Number of transformer blocks.
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }
}
