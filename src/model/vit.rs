//! A Vision Transformer whose blocks each have their own head count and MLP width (timm's layout: pre-norm, exact GELU, class token).

use super::fused::{
    AttentionDims, attention, gelu, layer_norm, linear, linear_residual, patches, prepend_and_position, softmax_scaled,
};
use super::shape::{BlockShape, VitShape};
use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Device, Tensor};

/// Multi-head self-attention with a fused qkv projection; weights are [in, out] (burn's layout).
#[derive(Module, Debug)]
pub struct Attention {
    /// Fused q, k, v projection: [D, heads * (2 * qk_dim + head_dim)], columns ordered (q|k|v, head, dim) as timm's rows.
    pub qkv: Linear,
    /// Output projection: [heads * head_dim, D].
    pub proj: Linear,
    /// Number of heads.
    pub heads: usize,
    /// Size of each head's values; the scale of q k^T is head_dim^-0.5 whatever qk_dim is, so pruning q/k pairs
    /// leaves the kept pairs' contributions unchanged.
    pub head_dim: usize,
    /// Size of each head's queries and keys (head_dim unless q/k pairs were pruned).
    pub qk_dim: usize,
}

/// What a traced forward pass keeps of one block, for the ranking stage.
pub struct BlockTrace {
    /// softmax(q k^T * scale): [B, H, T, T].
    pub attention: Tensor<4>,
    /// Each head's output A V: [B, H, T, head_dim].
    pub head_output: Tensor<4>,
}

impl Attention {
    /// `residual` plus attention over tokens x [B, T, D], the add done by the output projection as it stores its
    /// output; also returns the maps and per-head outputs when `trace` is set.
    pub fn forward_onto(&self, x: Tensor<3>, residual: Tensor<3>, trace: bool) -> (Tensor<3>, Option<BlockTrace>) {
        let (merged, trace) = self.merged_heads(x, trace);
        (linear_residual(&self.proj, merged, residual), trace)
    }

    /// The heads' outputs side by side [B * T, H * head_dim], before the output projection.
    fn merged_heads(&self, x: Tensor<3>, trace: bool) -> (Tensor<2>, Option<BlockTrace>) {
        let [b, t, d] = x.dims();
        let qkv = linear(&self.qkv, x.reshape([b * t, d]));
        if trace {
            let (merged, block_trace) = self.attend_traced(qkv, b, t);
            (merged, Some(block_trace))
        } else {
            let dims = self.dims(b, t);
            (attention(qkv, dims, |qkv| self.attend_traced(qkv, b, t).0), None)
        }
    }

    fn dims(&self, batch: usize, tokens: usize) -> AttentionDims {
        let scale = (self.head_dim as f64).powf(-0.5) as f32;
        AttentionDims { batch, tokens, heads: self.heads, qk: self.qk_dim, dh: self.head_dim, scale }
    }

    /// The merged heads' output [B * T, H * head_dim] with burn's ops, and the maps and per-head outputs.
    fn attend_traced(&self, qkv: Tensor<2>, b: usize, t: usize) -> (Tensor<2>, BlockTrace) {
        let (h, dh) = (self.heads, self.head_dim);
        let (q, k, v) = self.split_heads(qkv, b, t);
        let scale = (dh as f64).powf(-0.5);
        let attention = softmax_scaled(q.matmul(k.swap_dims(2, 3)), scale);
        let heads_out = attention.clone().matmul(v);
        let merged = heads_out.clone().swap_dims(1, 2).reshape([b * t, h * dh]);
        (merged, BlockTrace { attention, head_output: heads_out })
    }

    /// Queries, keys and values [B, H, T, size] from the fused projection [B * T, H * (2 * qk_dim + head_dim)].
    fn split_heads(&self, qkv: Tensor<2>, b: usize, t: usize) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
        let (h, dh, qk) = (self.heads, self.head_dim, self.qk_dim);
        if qk == dh {
            let qkv = qkv.reshape([b, t, 3 * h, dh]).swap_dims(1, 2);
            return (qkv.clone().narrow(1, 0, h), qkv.clone().narrow(1, h, h), qkv.narrow(1, 2 * h, h));
        }
        let part = |start: usize, size: usize| qkv.clone().narrow(1, h * start, h * size).reshape([b, t, h, size]);
        let (q, k, v) = (part(0, qk), part(qk, qk), part(2 * qk, dh));
        (q.swap_dims(1, 2), k.swap_dims(1, 2), v.swap_dims(1, 2))
    }
}

/// The two-layer MLP of a block.
#[derive(Module, Debug)]
pub struct Mlp {
    /// [D, M].
    pub fc1: Linear,
    /// [M, D].
    pub fc2: Linear,
}

impl Mlp {
    /// `residual + fc2(gelu(fc1(x)))` over flattened tokens x [N, D], the add done by fc2 as it stores its output.
    pub fn forward_onto<const D: usize>(&self, x: Tensor<2>, residual: Tensor<D>) -> Tensor<D> {
        linear_residual(&self.fc2, gelu(linear(&self.fc1, x)), residual)
    }
}

/// A pre-norm transformer block.
#[derive(Module, Debug)]
pub struct Block {
    /// Norm before attention.
    pub norm1: LayerNorm,
    /// Attention.
    pub attn: Attention,
    /// Norm before the MLP.
    pub norm2: LayerNorm,
    /// MLP.
    pub mlp: Mlp,
}

impl Block {
    /// x + attn(norm1(x)), then + mlp(norm2(x)); `eps` is the norms' epsilon.
    pub fn forward(&self, x: Tensor<3>, eps: f64, trace: bool) -> (Tensor<3>, Option<BlockTrace>) {
        let (x, block_trace) = self.attn.forward_onto(layer_norm(x.clone(), &self.norm1, eps), x, trace);
        let [b, t, d] = x.dims();
        let mlp_in = layer_norm(x.clone(), &self.norm2, eps).reshape([b * t, d]);
        (self.mlp.forward_onto(mlp_in, x), block_trace)
    }

    /// This block's shape.
    pub fn shape(&self) -> BlockShape {
        let [_, mlp] = self.mlp.fc1.weight.dims();
        BlockShape { heads: self.attn.heads, head_dim: self.attn.head_dim, qk_dim: self.attn.qk_dim, mlp }
    }
}

/// The Vision Transformer.
#[derive(Module, Debug)]
pub struct Vit {
    /// Patch embedding as a linear map over flattened patches: [C * P * P, D] (timm's conv, reshaped).
    pub patch_embed: Linear,
    /// Class token [1, 1, D].
    pub cls_token: Param<Tensor<3>>,
    /// DeiT's distillation token [1, 1, D], when distilled.
    pub dist_token: Option<Param<Tensor<3>>>,
    /// Learned position embedding [1, T, D].
    pub pos_embed: Param<Tensor<3>>,
    /// The blocks, each with its own shape.
    pub blocks: Vec<Block>,
    /// Final norm.
    pub norm: LayerNorm,
    /// Classifier on the class token.
    pub head: Linear,
    /// DeiT's distillation classifier, when distilled.
    pub head_dist: Option<Linear>,
    /// Input side in pixels.
    pub image_size: usize,
    /// Patch side.
    pub patch_size: usize,
    /// Input channels.
    pub in_chans: usize,
    /// LayerNorm epsilon (kept for the shape and for saving).
    pub eps: f64,
}

impl Vit {
    /// Logits [B, K] for images [B, C, H, W] (for a distilled model, the mean of both heads, as DeiT evaluates).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_traced(images, false).0
    }

    /// Logits plus, when `trace` is set, each block's attention maps and per-head outputs.
    pub fn forward_traced(&self, images: Tensor<4>, trace: bool) -> (Tensor<2>, Vec<BlockTrace>) {
        let mut x = self.embed(images);
        let mut traces = Vec::new();
        for block in &self.blocks {
            let (next, block_trace) = block.forward(x, self.eps, trace);
            x = next;
            traces.extend(block_trace);
        }
        (self.classify(x), traces)
    }

    fn embed(&self, images: Tensor<4>) -> Tensor<3> {
        let [b, _, height, width] = images.dims();
        let p = self.patch_size;
        let (gh, gw) = (height / p, width / p);
        let tokens = linear(&self.patch_embed, patches(images, p));
        let d = tokens.dims()[1];
        let tokens = tokens.reshape([b, gh * gw, d]);
        let mut prefix = vec![self.cls_token.val()];
        if let Some(dist) = &self.dist_token {
            prefix.push(dist.val());
        }
        prepend_and_position(prefix, tokens, self.pos_embed.val())
    }

    /// The classifier(s) on the final norm of the class (and distillation) token; the norm works token by token, so
    /// the other tokens are left out of it.
    fn classify(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, _, d] = x.dims();
        let prefix = if self.head_dist.is_some() { 2 } else { 1 };
        let tokens = layer_norm(x.narrow(1, 0, prefix), &self.norm, self.eps);
        let logits = linear(&self.head, tokens.clone().narrow(1, 0, 1).reshape([b, d]));
        match &self.head_dist {
            Some(head_dist) => {
                let dist = tokens.narrow(1, 1, 1).reshape([b, d]);
                (logits + linear(head_dist, dist)).div_scalar(2.0)
            }
            None => logits,
        }
    }

    /// The architecture of this model, read from its tensors.
    pub fn shape(&self) -> VitShape {
        let [_, dim] = self.patch_embed.weight.dims();
        let [_, num_classes] = self.head.weight.dims();
        VitShape {
            image_size: self.image_size,
            patch_size: self.patch_size,
            in_chans: self.in_chans,
            num_classes,
            dim,
            eps: self.eps,
            distilled: self.dist_token.is_some(),
            blocks: self.blocks.iter().map(Block::shape).collect(),
        }
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.cls_token.val().device()
    }
}
