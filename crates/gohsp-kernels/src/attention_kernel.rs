//! Multi-head attention straight from the fused qkv rows: per (image, head) two GEMMs and a softmax forward, four
//! GEMMs and a softmax backward, with strided views into qkv instead of split, transposed and merged copies.
//!
//! Layout: qkv is [B * T, W] with W = H * (2 * qk + dh), columns (q | k | v, head, dim) as timm's rows; the context
//! is [B * T, H * dh]. Each (image, head) pair is one rayon task calling single-threaded GEMMs.

use super::kernels::{softmax_backward_rows, softmax_rows};
use super::strided_gemm::{Operand, gemm};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// The shape of one attention call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttentionDims {
    /// Images.
    pub batch: usize,
    /// Tokens per image.
    pub tokens: usize,
    /// Heads.
    pub heads: usize,
    /// Query/key size per head.
    pub qk: usize,
    /// Value size per head.
    pub dh: usize,
    /// Multiplies q k^T before the softmax.
    pub scale: f32,
}

impl AttentionDims {
    /// Columns of a qkv row.
    pub fn qkv_width(&self) -> usize {
        self.heads * (2 * self.qk + self.dh)
    }

    /// Columns of a context row.
    pub fn context_width(&self) -> usize {
        self.heads * self.dh
    }

    /// Elements of one (image, head) probability matrix.
    pub fn probs_len(&self) -> usize {
        self.tokens * self.tokens
    }

    /// Offsets into qkv of head `h`'s queries, keys and values in the first row of image `b`.
    fn qkv_offsets(&self, b: usize, h: usize) -> (usize, usize, usize) {
        let row = b * self.tokens * self.qkv_width();
        let (q, k) = (row + h * self.qk, row + (self.heads + h) * self.qk);
        (q, k, row + 2 * self.heads * self.qk + h * self.dh)
    }

    /// Offset into the context of head `h`'s first element in image `b`.
    fn context_offset(&self, b: usize, h: usize) -> usize {
        b * self.tokens * self.context_width() + h * self.dh
    }
}

/// A pointer that rayon tasks share; each task touches only its own (image, head) elements.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: tasks write disjoint element sets (their own head's columns of their own image's rows).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

/// Context [B * T, H * dh] from qkv; the probabilities go into `probs` ([B, H, T, T]) when given. Every element of
/// both is written.
pub(super) fn attention_forward(
    qkv: &[f32],
    dims: AttentionDims,
    context: &mut [MaybeUninit<f32>],
    probs: Option<&mut [MaybeUninit<f32>]>,
) {
    assert_eq!(qkv.len(), dims.batch * dims.tokens * dims.qkv_width());
    assert_eq!(context.len(), dims.batch * dims.tokens * dims.context_width());
    let out = Shared(context.as_mut_ptr().cast());
    let keep = probs.map(|p| {
        assert_eq!(p.len(), dims.batch * dims.heads * dims.probs_len());
        Shared(p.as_mut_ptr().cast())
    });
    (0..dims.batch * dims.heads).into_par_iter().for_each_init(Vec::new, |scratch, pair| {
        let probs = match keep {
            // SAFETY: pair's probability matrix is its own, in bounds by the assert above.
            Some(p) => unsafe { p.0.add(pair * dims.probs_len()) },
            None => {
                scratch.resize(dims.probs_len(), 0.0);
                scratch.as_mut_ptr()
            }
        };
        // SAFETY: qkv, context and probs hold the extents asserted above; each pair writes its own head's columns.
        unsafe { head_forward(qkv.as_ptr(), dims, pair, out, probs) };
    });
}

/// # Safety
/// `qkv` and `out` must hold the extents `dims` describes, and `probs` one head's T x T values.
unsafe fn head_forward(qkv: *const f32, dims: AttentionDims, pair: usize, out: Shared, probs: *mut f32) {
    let (b, h) = (pair / dims.heads, pair % dims.heads);
    let (t, w) = (dims.tokens, dims.qkv_width());
    let (q, k, v) = dims.qkv_offsets(b, h);
    // SAFETY: offsets stay inside image b's rows of qkv and context; the GEMM writes all of probs before it is read.
    unsafe {
        let q = Operand::new(qkv.add(q), w, 1);
        let k_t = Operand::new(qkv.add(k), w, 1).transposed();
        gemm(probs, t, (t, t, dims.qk), q, k_t, dims.scale);
        let probs = std::slice::from_raw_parts_mut(probs, dims.probs_len());
        softmax_rows(probs, t, 1.0);
        let p = Operand::new(probs.as_ptr(), t, 1);
        let v = Operand::new(qkv.add(v), w, 1);
        gemm(out.0.add(dims.context_offset(b, h)), dims.context_width(), (t, dims.dh, t), p, v, 1.0);
    }
}

/// d_qkv [B * T, W] from the context's gradient, qkv and the saved probabilities; every element is written.
pub(super) fn attention_backward(
    qkv: &[f32],
    probs: &[f32],
    d_context: &[f32],
    dims: AttentionDims,
    d_qkv: &mut [MaybeUninit<f32>],
) {
    assert_eq!(qkv.len(), d_qkv.len());
    assert_eq!(probs.len(), dims.batch * dims.heads * dims.probs_len());
    assert_eq!(d_context.len(), dims.batch * dims.tokens * dims.context_width());
    let out = Shared(d_qkv.as_mut_ptr().cast());
    (0..dims.batch * dims.heads).into_par_iter().for_each_init(Vec::new, |scratch, pair| {
        scratch.resize(dims.probs_len(), 0.0);
        let p = &probs[pair * dims.probs_len()..(pair + 1) * dims.probs_len()];
        // SAFETY: extents asserted above; each pair writes its own head's q, k and v columns of d_qkv.
        unsafe { head_backward(qkv.as_ptr(), p, d_context.as_ptr(), dims, pair, out, scratch) };
    });
}

/// # Safety
/// `qkv`, `d_context` and `out` must hold the extents `dims` describes.
unsafe fn head_backward(
    qkv: *const f32,
    probs: &[f32],
    d_context: *const f32,
    dims: AttentionDims,
    pair: usize,
    out: Shared,
    d_scores: &mut [f32],
) {
    let (b, h) = (pair / dims.heads, pair % dims.heads);
    let (t, w, cw) = (dims.tokens, dims.qkv_width(), dims.context_width());
    let (q_at, k_at, v_at) = dims.qkv_offsets(b, h);
    // SAFETY: offsets stay inside image b's rows of qkv, d_context and d_qkv.
    unsafe {
        let d_out = Operand::new(d_context.add(dims.context_offset(b, h)), cw, 1);
        let p = Operand::new(probs.as_ptr(), t, 1);
        let v = Operand::new(qkv.add(v_at), w, 1);
        gemm(out.0.add(v_at), w, (t, dims.dh, t), p.transposed(), d_out, 1.0);
        gemm(d_scores.as_mut_ptr(), t, (t, t, dims.dh), d_out, v.transposed(), 1.0);
        softmax_backward_rows(probs, d_scores, t, dims.scale);
        let d_s = Operand::new(d_scores.as_ptr(), t, 1);
        let (q, k) = (Operand::new(qkv.add(q_at), w, 1), Operand::new(qkv.add(k_at), w, 1));
        gemm(out.0.add(q_at), w, (t, dims.qk, t), d_s, k, 1.0);
        gemm(out.0.add(k_at), w, (t, dims.qk, t), d_s.transposed(), q, 1.0);
    }
}
