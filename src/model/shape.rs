//! The shape of a ViT as plain data: per-block head counts and MLP widths, shared by the model, the cost model and pruning.

use serde::{Deserialize, Serialize};

/// The shape of one transformer block: its own head count, head sizes and MLP width.
///
/// `qk_dim` is the size of each head's queries and keys; it equals `head_dim` (the size of its values and of its
/// slice of proj) unless `admm.head_dims` pruned q/k dimension pairs inside the kept heads. Serialized, `qk_dim` is
/// omitted when it equals `head_dim`, so manifests and cache keys of models without q/k pruning read as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BlockShapeRepr", into = "BlockShapeRepr")]
pub struct BlockShape {
    /// Number of attention heads kept in this block (may be 0 after pruning).
    pub heads: usize,
    /// Size of each head's values (and of its columns of proj); the attention scale is head_dim^-0.5.
    pub head_dim: usize,
    /// Size of each head's queries and keys (head_dim in a dense model, smaller after q/k pruning).
    pub qk_dim: usize,
    /// Hidden width of the MLP (fc1 outputs, fc2 inputs).
    pub mlp: usize,
}

impl BlockShape {
    /// A block whose queries, keys and values all have size `head_dim`.
    pub fn new(heads: usize, head_dim: usize, mlp: usize) -> Self {
        Self { heads, head_dim, qk_dim: head_dim, mlp }
    }

    /// Width of the attention's value and proj side: heads * head_dim.
    pub fn attn_dim(&self) -> usize {
        self.heads * self.head_dim
    }

    /// Width of the queries (and of the keys): heads * qk_dim.
    pub fn qk_width(&self) -> usize {
        self.heads * self.qk_dim
    }

    /// Rows of the fused qkv projection (timm layout): queries, keys, then values.
    pub fn qkv_rows(&self) -> usize {
        2 * self.qk_width() + self.attn_dim()
    }

    /// Row of qkv holding query dimension `j` of head `h`.
    pub fn q_row(&self, h: usize, j: usize) -> usize {
        h * self.qk_dim + j
    }

    /// Row of qkv holding key dimension `j` of head `h`.
    pub fn k_row(&self, h: usize, j: usize) -> usize {
        self.qk_width() + h * self.qk_dim + j
    }

    /// Row of qkv holding value dimension `j` of head `h`.
    pub fn v_row(&self, h: usize, j: usize) -> usize {
        2 * self.qk_width() + h * self.head_dim + j
    }

    /// Every qkv row of head `h`: its query, key and value rows, in that order.
    pub fn head_rows(&self, h: usize) -> Vec<usize> {
        let q = (0..self.qk_dim).map(|j| self.q_row(h, j));
        let k = (0..self.qk_dim).map(|j| self.k_row(h, j));
        let v = (0..self.head_dim).map(|j| self.v_row(h, j));
        q.chain(k).chain(v).collect()
    }
}

/// The serialized form of [`BlockShape`]: `qk_dim` only when it differs from `head_dim`.
#[derive(Serialize, Deserialize)]
struct BlockShapeRepr {
    heads: usize,
    head_dim: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qk_dim: Option<usize>,
    mlp: usize,
}

impl From<BlockShapeRepr> for BlockShape {
    fn from(r: BlockShapeRepr) -> Self {
        Self { heads: r.heads, head_dim: r.head_dim, qk_dim: r.qk_dim.unwrap_or(r.head_dim), mlp: r.mlp }
    }
}

impl From<BlockShape> for BlockShapeRepr {
    fn from(b: BlockShape) -> Self {
        let qk_dim = (b.qk_dim != b.head_dim).then_some(b.qk_dim);
        Self { heads: b.heads, head_dim: b.head_dim, qk_dim, mlp: b.mlp }
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
        let block = BlockShape::new(heads, dim / heads, (dim as f64 * mlp_ratio).round() as usize);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qkv_rows_are_queries_then_keys_then_values() {
        let block = BlockShape { heads: 3, head_dim: 4, qk_dim: 2, mlp: 8 };
        assert_eq!((block.qk_width(), block.attn_dim(), block.qkv_rows()), (6, 12, 24));
        assert_eq!(block.head_rows(1), vec![2, 3, 8, 9, 16, 17, 18, 19]);
        let dense = BlockShape::new(2, 3, 5);
        let all: Vec<usize> = (0..2).flat_map(|h| dense.head_rows(h)).collect();
        assert_eq!(all, vec![0, 1, 2, 6, 7, 8, 12, 13, 14, 3, 4, 5, 9, 10, 11, 15, 16, 17]);
    }

    #[test]
    fn qk_dim_is_serialized_only_when_it_differs() {
        let dense = BlockShape::new(2, 3, 5);
        assert_eq!(serde_json::to_string(&dense).unwrap(), r#"{"heads":2,"head_dim":3,"mlp":5}"#);
        let old: BlockShape = serde_json::from_str(r#"{"heads":2,"head_dim":3,"mlp":5}"#).unwrap();
        assert_eq!(old, dense);
        let pruned = BlockShape { qk_dim: 1, ..dense };
        let text = serde_json::to_string(&pruned).unwrap();
        assert_eq!(text, r#"{"heads":2,"head_dim":3,"qk_dim":1,"mlp":5}"#);
        assert_eq!(serde_json::from_str::<BlockShape>(&text).unwrap(), pruned);
    }
}
