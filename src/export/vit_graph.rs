//! A gohsp ViT as an ONNX graph (opset 20): every block written with its own head count, q/k size and MLP width,
//! the batch dimension dynamic, the same arithmetic as `Vit::forward` (exact GELU, pre-norm, class-token head; a
//! distilled DeiT returns the mean of its two heads, as at evaluation).

use super::graph::{Dim, GraphBuilder, float_attr, float_value, int_attr, ints_attr, string_attr};
use super::onnx_proto::GraphProto;
use crate::model::host::NamedTensors;
use crate::model::shape::{BlockShape, VitShape};

/// The graph input's name: images [batch, C, H, W], float32, already normalised.
pub const INPUT_NAME: &str = "images";
/// The graph output's name: logits [batch, classes].
pub const OUTPUT_NAME: &str = "logits";

/// The graph of a model of `shape` with the weights `tensors` (timm names and layouts, as `vit_tensors` gives).
pub(crate) fn vit_graph(shape: &VitShape, tensors: &NamedTensors) -> GraphProto {
    let mut writer = VitWriter { g: GraphBuilder::default(), shape, tensors };
    let images = writer.g.input_name(INPUT_NAME);
    // The residual stream is kept flat, [batch * T, D], so that every linear layer is one Gemm with its bias.
    let embedded = writer.embed(&images);
    let mut x = writer.reshape(&embedded, &[-1, shape.dim as i64], "stream");
    for (i, block) in shape.blocks.iter().enumerate() {
        x = writer.block(&x, i, block);
    }
    let logits = writer.classify(&x);
    debug_assert_eq!(logits, OUTPUT_NAME);
    let (c, s, k) = (shape.in_chans, shape.image_size, shape.num_classes);
    let input = float_value(INPUT_NAME, &[Dim::Named("batch"), Dim::Fixed(c), Dim::Fixed(s), Dim::Fixed(s)]);
    let output = float_value(OUTPUT_NAME, &[Dim::Named("batch"), Dim::Fixed(k)]);
    writer.g.finish("gohsp_vit", input, output)
}

struct VitWriter<'a> {
    g: GraphBuilder,
    shape: &'a VitShape,
    tensors: &'a NamedTensors,
}

impl VitWriter<'_> {
    /// A named weight as it is stored (read straight from the model's tensors, not copied first).
    fn weight(&mut self, name: &str) -> String {
        let tensors: &NamedTensors = self.tensors;
        let tensor = tensors.get(name).unwrap_or_else(|| panic!("checked model lacks `{name}`"));
        self.g.weight(name, tensor)
    }

    /// `x W^T + b` for the linear layer `prefix` over rows x [N, in]: one Gemm on timm's [out, in] weight.
    fn linear(&mut self, x: &str, prefix: &str, hint: &str) -> String {
        let (w, b) = (self.weight(&format!("{prefix}.weight")), self.weight(&format!("{prefix}.bias")));
        self.g.op("Gemm", &[x, &w, &b], vec![int_attr("transB", 1)], hint)
    }

    fn layer_norm(&mut self, x: &str, prefix: &str) -> String {
        let (gamma, beta) = (self.weight(&format!("{prefix}.weight")), self.weight(&format!("{prefix}.bias")));
        let attrs = vec![int_attr("axis", -1), float_attr("epsilon", self.shape.eps as f32)];
        self.g.op("LayerNormalization", &[x, &gamma, &beta], attrs, prefix)
    }

    fn reshape(&mut self, x: &str, dims: &[i64], hint: &str) -> String {
        let target = self.g.int64s(&format!("{hint}_shape"), dims);
        self.g.op("Reshape", &[x, &target], vec![], hint)
    }

    fn transpose(&mut self, x: &str, perm: &[i64], hint: &str) -> String {
        self.g.op("Transpose", &[x], vec![ints_attr("perm", perm)], hint)
    }

    /// Patch embedding (a strided convolution), prefix tokens, positions: [batch, T, D].
    fn embed(&mut self, images: &str) -> String {
        let (d, p) = (self.shape.dim as i64, self.shape.patch_size as i64);
        let (w, b) = (self.weight("patch_embed.proj.weight"), self.weight("patch_embed.proj.bias"));
        let attrs = vec![ints_attr("kernel_shape", &[p, p]), ints_attr("strides", &[p, p])];
        let grid = self.g.op("Conv", &[images, &w, &b], attrs, "patch_embed");
        let flat = self.reshape(&grid, &[0, d, -1], "patch_embed_flat");
        let tokens = self.transpose(&flat, &[0, 2, 1], "patch_tokens");
        let batch = self.g.op("Shape", &[images], vec![int_attr("start", 0), int_attr("end", 1)], "batch");
        let rest = self.g.int64s("prefix_token_dims", &[1, d]);
        let prefix_shape = self.g.op("Concat", &[&batch, &rest], vec![int_attr("axis", 0)], "prefix_token_shape");
        let mut parts = vec![];
        let prefix_names: &[&str] = if self.shape.distilled { &["cls_token", "dist_token"] } else { &["cls_token"] };
        for name in prefix_names {
            let token = self.weight(name);
            parts.push(self.g.op("Expand", &[&token, &prefix_shape], vec![], &format!("{name}_batch")));
        }
        parts.push(tokens);
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let sequence = self.g.op("Concat", &refs, vec![int_attr("axis", 1)], "tokens");
        let positions = self.weight("pos_embed");
        self.g.op("Add", &[&sequence, &positions], vec![], "embedded")
    }

    /// x + attn(norm1(x)), then + mlp(norm2(x)); a block with no heads (or no neurons) adds its output bias alone.
    fn block(&mut self, x: &str, i: usize, block: &BlockShape) -> String {
        let name = |rest: &str| format!("blocks.{i}.{rest}");
        let normed = self.layer_norm(x, &name("norm1"));
        let attended = if block.heads == 0 {
            self.weight(&name("attn.proj.bias"))
        } else {
            let merged = self.attention(&normed, i, block);
            self.linear(&merged, &name("attn.proj"), &name("attn_out"))
        };
        let x = self.g.op("Add", &[x, &attended], vec![], &name("attn_residual"));
        let normed = self.layer_norm(&x, &name("norm2"));
        let mlp = if block.mlp == 0 {
            self.weight(&name("mlp.fc2.bias"))
        } else {
            let hidden = self.linear(&normed, &name("mlp.fc1"), &name("fc1"));
            let activated = self.g.op("Gelu", &[&hidden], vec![string_attr("approximate", "none")], &name("gelu"));
            self.linear(&activated, &name("mlp.fc2"), &name("fc2"))
        };
        self.g.op("Add", &[&x, &mlp], vec![], &name("out"))
    }

    /// The heads' outputs side by side [batch * T, heads * head_dim], before the output projection.
    fn attention(&mut self, normed: &str, i: usize, block: &BlockShape) -> String {
        let name = |rest: &str| format!("blocks.{i}.{rest}");
        let (h, qk, dh) = (block.heads as i64, block.qk_dim as i64, block.head_dim as i64);
        let t = self.shape.tokens() as i64;
        let qkv = self.linear(normed, &name("attn.qkv"), &name("qkv"));
        let sizes = self.g.int64s(&name("qkv_split"), &[h * qk, h * qk, h * dh]);
        let hints = [name("q"), name("k"), name("v")];
        let hint_refs: Vec<&str> = hints.iter().map(String::as_str).collect();
        let parts = self.g.op_n("Split", &[&qkv, &sizes], vec![int_attr("axis", -1)], &hint_refs);
        let v = self.reshape(&parts[2], &[-1, t, h, dh], &name("v_heads"));
        let v = self.transpose(&v, &[0, 2, 1, 3], &name("v_bhtd"));
        let heads_out = if qk == 0 {
            // No q/k pairs left: every score is 0, so each query averages the values.
            let axis = self.g.int64s(&name("tokens_axis"), &[2]);
            let mean = self.g.op("ReduceMean", &[&v, &axis], vec![], &name("v_mean"));
            let v_shape = self.g.op("Shape", &[&v], vec![], &name("v_shape"));
            self.g.op("Expand", &[&mean, &v_shape], vec![], &name("heads_out"))
        } else {
            let q = self.reshape(&parts[0], &[-1, t, h, qk], &name("q_heads"));
            let q = self.transpose(&q, &[0, 2, 1, 3], &name("q_bhtd"));
            let k = self.reshape(&parts[1], &[-1, t, h, qk], &name("k_heads"));
            let k = self.transpose(&k, &[0, 2, 3, 1], &name("k_bhdt"));
            let scores = self.g.op("MatMul", &[&q, &k], vec![], &name("scores"));
            let scale = self.g.scalar(&name("scale"), (block.head_dim as f64).powf(-0.5) as f32);
            let scaled = self.g.op("Mul", &[&scores, &scale], vec![], &name("scores_scaled"));
            let attn = self.g.op("Softmax", &[&scaled], vec![int_attr("axis", -1)], &name("attn"));
            self.g.op("MatMul", &[&attn, &v], vec![], &name("heads_out"))
        };
        let merged = self.transpose(&heads_out, &[0, 2, 1, 3], &name("heads_bthd"));
        self.reshape(&merged, &[-1, h * dh], &name("heads_merged"))
    }

    /// The final norm of the prefix tokens and the classifier(s) on them; x is the flat stream [batch * T, D].
    fn classify(&mut self, x: &str) -> String {
        let prefix = self.shape.num_prefix_tokens() as i64;
        let (t, d) = (self.shape.tokens() as i64, self.shape.dim as i64);
        let x = &self.reshape(x, &[-1, t, d], "sequence");
        let (starts, ends, axes) = (
            self.g.int64s("prefix_start", &[0]),
            self.g.int64s("prefix_end", &[prefix]),
            self.g.int64s("token_axis", &[1]),
        );
        let tokens = self.g.op("Slice", &[x, &starts, &ends, &axes], vec![], "prefix_tokens");
        let normed = self.layer_norm(&tokens, "norm");
        let pick = |w: &mut Self, index: i64, hint: &str| {
            let at = w.g.int64_scalar(&format!("{hint}_index"), index);
            w.g.op("Gather", &[&normed, &at], vec![int_attr("axis", 1)], hint)
        };
        let cls = pick(self, 0, "cls_out");
        if !self.shape.distilled {
            return self.linear(&cls, "head", OUTPUT_NAME);
        }
        let cls_logits = self.linear(&cls, "head", "cls_logits");
        let dist = pick(self, 1, "dist_out");
        let dist_logits = self.linear(&dist, "head_dist", "dist_logits");
        let both = self.g.op("Add", &[&cls_logits, &dist_logits], vec![], "both_logits");
        let half = self.g.scalar("half", 0.5);
        self.g.op("Mul", &[&both, &half], vec![], OUTPUT_NAME)
    }
}
