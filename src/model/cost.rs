//! Exact parameter count and multiply-accumulates (MACs) per image of any `VitShape` (docs/design.md section 3).

use crate::model::shape::{BlockShape, VitShape};
use serde::{Deserialize, Serialize};

/// The size and compute of one model: parameters and MACs per image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostReport {
    /// Total parameters, embeddings, norms and classifier included.
    pub params: u64,
    /// Multiply-accumulates of one image's forward pass.
    pub macs: u64,
}

/// Parameters and MACs per image of `shape`.
pub fn cost(shape: &VitShape) -> CostReport {
    CostReport { params: param_count(shape), macs: macs_per_image(shape) }
}

/// Number of classifier heads: two for DeiT's distilled variant, else one.
fn classifier_heads(shape: &VitShape) -> u64 {
    if shape.distilled { 2 } else { 1 }
}

/// Parameters of one transformer block of width `dim`: two norms, qkv, proj, fc1 and fc2 (weights and biases).
pub fn block_params(dim: usize, block: &BlockShape) -> u64 {
    let (d, a, m) = (dim as u64, block.attn_dim() as u64, block.mlp as u64);
    let qkv_rows = block.qkv_rows() as u64;
    let norms = 2 * (2 * d);
    let qkv = d * qkv_rows + qkv_rows;
    let proj = a * d + d;
    let fc1 = d * m + m;
    let fc2 = m * d + d;
    norms + qkv + proj + fc1 + fc2
}

/// Parameters outside the blocks: patch embedding, prefix tokens, position embedding, final norm and classifier(s).
pub fn non_block_params(shape: &VitShape) -> u64 {
    let (c, p, d) = (shape.in_chans as u64, shape.patch_size as u64, shape.dim as u64);
    let patch_embed = c * p * p * d + d;
    let prefix_tokens = shape.num_prefix_tokens() as u64 * d;
    let pos_embed = shape.tokens() as u64 * d;
    let final_norm = 2 * d;
    let classifier = classifier_heads(shape) * (d * shape.num_classes as u64 + shape.num_classes as u64);
    patch_embed + prefix_tokens + pos_embed + final_norm + classifier
}

/// Total number of parameters of `shape`.
pub fn param_count(shape: &VitShape) -> u64 {
    let blocks: u64 = shape.blocks.iter().map(|b| block_params(shape.dim, b)).sum();
    non_block_params(shape) + blocks
}

/// MACs of one block over `tokens` tokens: qkv, q k^T, attn v, proj, fc1 and fc2.
pub fn block_macs(dim: usize, tokens: usize, block: &BlockShape) -> u64 {
    let (d, t) = (dim as u64, tokens as u64);
    let (a, m) = (block.attn_dim() as u64, block.mlp as u64);
    let qkv = t * d * block.qkv_rows() as u64;
    let scores = t * t * block.qk_width() as u64;
    let mix = t * t * a;
    let proj = t * a * d;
    let mlp = t * d * m + t * m * d;
    qkv + scores + mix + proj + mlp
}

/// MACs of one image's forward pass: patch projection, every block, and the classifier(s) on the prefix tokens.
pub fn macs_per_image(shape: &VitShape) -> u64 {
    let (c, p, d) = (shape.in_chans as u64, shape.patch_size as u64, shape.dim as u64);
    let patch = shape.num_patches() as u64 * c * p * p * d;
    let tokens = shape.tokens();
    let blocks: u64 = shape.blocks.iter().map(|b| block_macs(shape.dim, tokens, b)).sum();
    let classifier = classifier_heads(shape) * d * shape.num_classes as u64;
    patch + blocks + classifier
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deit(dim: usize, heads: usize) -> VitShape {
        VitShape::uniform(224, 16, 3, 1000, dim, 12, heads, 4.0)
    }

    #[test]
    fn deit_tiny_matches_timm() {
        assert_eq!(cost(&deit(192, 3)), CostReport { params: 5_717_416, macs: 1_253_683_200 });
    }

    #[test]
    fn deit_small_matches_timm() {
        assert_eq!(cost(&deit(384, 6)), CostReport { params: 22_050_664, macs: 4_598_882_304 });
    }

    #[test]
    fn timm_micro_matches_timm() {
        let micro = VitShape::uniform(28, 7, 1, 10, 48, 2, 3, 2.0);
        assert_eq!(cost(&micro), CostReport { params: 41_770, macs: 720_288 });
    }

    #[test]
    fn distilled_adds_a_token_and_a_head() {
        let plain = deit(192, 3);
        let distilled = VitShape { distilled: true, ..plain.clone() };
        // dist token D, one more position D, second head D*K + K.
        let extra_params = 192 + 192 + 192 * 1000 + 1000;
        assert_eq!(param_count(&distilled) - param_count(&plain), extra_params);
        assert!(macs_per_image(&distilled) > macs_per_image(&plain));
    }

    #[test]
    fn heterogeneous_shape_matches_a_hand_count() {
        // 8 px, patch 4 -> N = 4 patches, T = 5 tokens; 2 channels, 3 classes, D = 6.
        let blocks = vec![BlockShape::new(2, 3, 5), BlockShape::new(0, 3, 2), BlockShape::new(1, 3, 0)];
        let shape = VitShape {
            image_size: 8,
            patch_size: 4,
            in_chans: 2,
            num_classes: 3,
            dim: 6,
            eps: 1e-6,
            distilled: false,
            blocks,
        };
        // patch 2*4*4*6 + 6 = 198; cls 6; pos 5*6 = 30; final norm 12; head 6*3 + 3 = 21 -> 267.
        // block 0 (A=6, M=5): norms 24 + qkv 6*18+18=126 + proj 36+6=42 + fc1 30+5=35 + fc2 30+6=36 = 263.
        // block 1 (A=0, M=2): norms 24 + qkv 0 + proj 6 + fc1 12+2=14 + fc2 12+6=18 = 62.
        // block 2 (A=3, M=0): norms 24 + qkv 6*9+9=63 + proj 18+6=24 + fc1 0 + fc2 6 = 117.
        assert_eq!(param_count(&shape), 267 + 263 + 62 + 117);
        // patch 4*2*16*6 = 768; classifier 6*3 = 18.
        // block 0: qkv 5*6*18=540, qk 25*6=150, av 150, proj 5*6*6=180, fc1 5*6*5=150, fc2 150 -> 1320.
        // block 1: fc1 5*6*2=60, fc2 60 -> 120.  block 2: qkv 5*6*9=270, qk 75, av 75, proj 90 -> 510.
        assert_eq!(macs_per_image(&shape), 768 + 18 + 1320 + 120 + 510);
    }

    #[test]
    fn pruned_query_key_pairs_shrink_qkv_and_the_scores_only() {
        // D = 6, T = 5; 2 heads with values of 3 and queries/keys of 1: qkv has 2*(1+1+3) = 10 rows.
        let dense = BlockShape::new(2, 3, 4);
        let pruned = BlockShape { qk_dim: 1, ..dense };
        // Each removed pair is a query row and a key row (weights and biases): 2 * (6 + 1) = 14 params; 4 pairs go.
        assert_eq!(block_params(6, &dense) - block_params(6, &pruned), 4 * 14);
        // qkv loses 4 rows of 6 MACs per token (5 * 6 * 8 = 240); q k^T loses 4 of its 6 MACs per token pair (100).
        assert_eq!(block_macs(6, 5, &dense) - block_macs(6, 5, &pruned), 240 + 100);
    }
}
