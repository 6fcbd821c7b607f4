//! Row-wise f32 kernels of the fused ops (GELU, scaled softmax, LayerNorm; forward and backward), on rayon's pool.
//!
//! Each kernel is a generic `*_rows::<FMA>` body plus a dispatcher (`fma_dispatch!`) that runs it compiled for
//! AVX2 + FMA when the CPU has them. Outputs may alias nothing; the `_in_place` forms overwrite their gradient input.

use super::simd_math::{dot8, exp, fma_dispatch, madd, max8, min8, normal_cdf, squared_deviations8, sum8};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Elements per rayon task, about: big enough to amortise the task, small enough to balance 2-16 threads.
const TASK_ELEMENTS: usize = 16 * 1024;
/// The task count of a split op is rounded up to a multiple of this, so that 2 or 4 threads get equal shares (7 tasks
/// on 2 threads left one idle for a seventh of LayerNorm's time).
const TASK_MULTIPLE: usize = 4;
/// Element-wise ops split their values in multiples of this many (whole vectors, no scalar tail inside a task).
const LANE_GROUP: usize = 64;
/// 1 / sqrt(2 pi).
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// Elements per task over `len` values in rows of `row_len`: a whole number of rows, about `TASK_ELEMENTS` each, the
/// rows shared out over a task count rounded up to a multiple of `TASK_MULTIPLE` (so 1088 rows make 8 tasks of 136, not
/// 6 of 170 and one of 68; when the rows do not divide evenly the last task is shorter). It depends on the shape
/// alone, never on the thread count, so a reduction summed per task adds in the same order on every machine.
fn task_len(len: usize, row_len: usize) -> usize {
    let row_len = row_len.max(1);
    let rows = len / row_len;
    let tasks = len.div_ceil(TASK_ELEMENTS);
    let tasks = if tasks > 1 { tasks.next_multiple_of(TASK_MULTIPLE) } else { 1 };
    rows.div_ceil(tasks).max(1) * row_len
}

/// Exact GELU, x * Phi(x), written to every element of `out`.
pub(super) fn gelu(x: &[f32], out: &mut [MaybeUninit<f32>]) {
    let task = task_len(x.len(), LANE_GROUP);
    out.par_chunks_mut(task).zip(x.par_chunks(task)).for_each(|(o, x)| gelu_chunk(x, o));
}

#[inline(always)]
fn gelu_body<const FMA: bool>(x: &[f32], out: &mut [MaybeUninit<f32>]) {
    for (o, &v) in out.iter_mut().zip(x) {
        o.write(v * normal_cdf::<FMA>(v));
    }
}

fma_dispatch!(fn gelu_chunk(x: &[f32], out: &mut [MaybeUninit<f32>]) => gelu_body);

/// Exact GELU written over its input (the inference path, where nothing else holds the pre-activation).
pub(super) fn gelu_in_place(values: &mut [f32]) {
    values.par_chunks_mut(task_len(values.len(), LANE_GROUP)).for_each(gelu_chunk_in_place);
}

#[inline(always)]
fn gelu_in_place_body<const FMA: bool>(values: &mut [f32]) {
    for v in values.iter_mut() {
        *v *= normal_cdf::<FMA>(*v);
    }
}

fma_dispatch!(fn gelu_chunk_in_place(values: &mut [f32]) => gelu_in_place_body);

/// Gradient of GELU, grad * (Phi(x) + x * phi(x)), written over `grad`.
pub(super) fn gelu_backward_in_place(x: &[f32], grad: &mut [f32]) {
    let task = task_len(x.len(), LANE_GROUP);
    grad.par_chunks_mut(task).zip(x.par_chunks(task)).for_each(|(g, x)| gelu_backward_chunk(x, g));
}

#[inline(always)]
fn gelu_backward_body<const FMA: bool>(x: &[f32], grad: &mut [f32]) {
    for (g, &v) in grad.iter_mut().zip(x) {
        let pdf = FRAC_1_SQRT_2PI * exp::<FMA>(-0.5 * v * v);
        *g *= madd::<FMA>(v, pdf, normal_cdf::<FMA>(v));
    }
}

fma_dispatch!(fn gelu_backward_chunk(x: &[f32], grad: &mut [f32]) => gelu_backward_body);

/// softmax(scale * x) over rows of `row_len`, in place.
pub(super) fn softmax_in_place(x: &mut [f32], row_len: usize, scale: f32) {
    x.par_chunks_mut(task_len(x.len(), row_len)).for_each(|rows| softmax_rows(rows, row_len, scale));
}

#[inline(always)]
fn softmax_body<const FMA: bool>(rows: &mut [f32], row_len: usize, scale: f32) {
    for row in rows.chunks_exact_mut(row_len) {
        // The row's largest scale * x, subtracted before exp so that nothing overflows.
        let shift = if scale >= 0.0 { max8(row) } else { min8(row) } * scale;
        for v in row.iter_mut() {
            *v = exp::<FMA>(madd::<FMA>(*v, scale, -shift));
        }
        let inv = 1.0 / sum8(row);
        row.iter_mut().for_each(|v| *v *= inv);
    }
}

fma_dispatch!(
    /// softmax(scale * x) over the rows of `rows`, on the calling thread.
    pub(super) fn softmax_rows(rows: &mut [f32], row_len: usize, scale: f32) => softmax_body
);

/// Gradient of softmax(scale * x) from its output y, scale * y * (g - sum(g * y)), written over `grad`.
pub(super) fn softmax_backward_in_place(y: &[f32], grad: &mut [f32], row_len: usize, scale: f32) {
    let task = task_len(y.len(), row_len);
    grad.par_chunks_mut(task).zip(y.par_chunks(task)).for_each(|(g, y)| softmax_backward_rows(y, g, row_len, scale));
}

#[inline(always)]
fn softmax_backward_body<const FMA: bool>(y: &[f32], grad: &mut [f32], row_len: usize, scale: f32) {
    for (g, y) in grad.chunks_exact_mut(row_len).zip(y.chunks_exact(row_len)) {
        let dot = dot8::<FMA>(g, y);
        for (g, &y) in g.iter_mut().zip(y) {
            *g = scale * y * (*g - dot);
        }
    }
}

fma_dispatch!(
    /// softmax's backward over the rows of `grad`, on the calling thread.
    pub(super) fn softmax_backward_rows(y: &[f32], grad: &mut [f32], row_len: usize, scale: f32) => softmax_backward_body
);

/// Per-row statistics LayerNorm's backward needs: mean and 1 / sqrt(var + eps).
#[derive(Clone, Debug)]
pub(super) struct RowStats {
    /// Mean of each row.
    pub mean: Vec<f32>,
    /// Reciprocal standard deviation of each row.
    pub rstd: Vec<f32>,
}

/// A LayerNorm's affine parameters and epsilon.
#[derive(Clone, Copy)]
pub(super) struct NormParams<'a> {
    /// Scale, one per feature.
    pub gamma: &'a [f32],
    /// Shift, one per feature.
    pub beta: &'a [f32],
    /// Added to the variance.
    pub eps: f32,
}

/// LayerNorm over rows of `gamma.len()`: (x - mean) * rstd * gamma + beta, written to every element of `out`; returns
/// the row statistics.
pub(super) fn layer_norm(x: &[f32], norm: NormParams<'_>, out: &mut [MaybeUninit<f32>]) -> RowStats {
    let d = norm.gamma.len();
    let rows = x.len() / d;
    let (mut mean, mut rstd) = (vec![0.0; rows], vec![0.0; rows]);
    let task = task_len(x.len(), d);
    out.par_chunks_mut(task)
        .zip(x.par_chunks(task))
        .zip(mean.par_chunks_mut(task / d).zip(rstd.par_chunks_mut(task / d)))
        .for_each(|((o, x), (m, r))| layer_norm_rows(x, norm, o, m, r));
    RowStats { mean, rstd }
}

#[inline(always)]
fn layer_norm_body<const FMA: bool>(
    x: &[f32],
    norm: NormParams<'_>,
    out: &mut [MaybeUninit<f32>],
    mean: &mut [f32],
    rstd: &mut [f32],
) {
    let d = norm.gamma.len();
    let rows = out.chunks_exact_mut(d).zip(x.chunks_exact(d));
    for ((o, x), (m, r)) in rows.zip(mean.iter_mut().zip(rstd.iter_mut())) {
        let mu = sum8(x) / d as f32;
        let inv = 1.0 / (squared_deviations8::<FMA>(x, mu) / d as f32 + norm.eps).sqrt();
        for (((o, &v), &g), &b) in o.iter_mut().zip(x).zip(norm.gamma).zip(norm.beta) {
            o.write(madd::<FMA>((v - mu) * inv, g, b));
        }
        (*m, *r) = (mu, inv);
    }
}

fma_dispatch!(fn layer_norm_rows(x: &[f32], norm: NormParams<'_>, out: &mut [MaybeUninit<f32>], mean: &mut [f32], rstd: &mut [f32]) => layer_norm_body);

/// LayerNorm's gradients: d_input written over `grad`, and (d_gamma, d_beta) returned. The parameter gradients are
/// summed per fixed task and then in task order, so the result does not depend on how rayon shared the tasks out
/// (a `fold`/`reduce` would add in a different order from run to run, and a resumed run would drift).
pub(super) fn layer_norm_backward_in_place(
    x: &[f32],
    gamma: &[f32],
    stats: &RowStats,
    grad: &mut [f32],
) -> (Vec<f32>, Vec<f32>) {
    let d = gamma.len();
    let task = task_len(x.len(), d);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = grad
        .par_chunks_mut(task)
        .zip(x.par_chunks(task))
        .zip(stats.mean.par_chunks(task / d).zip(stats.rstd.par_chunks(task / d)))
        .map(|((g, x), (m, r))| {
            let (mut dg, mut db) = (vec![0.0; d], vec![0.0; d]);
            layer_norm_backward_rows(LayerNormRows { x, gamma, mean: m, rstd: r }, g, &mut dg, &mut db);
            (dg, db)
        })
        .collect();
    let (mut d_gamma, mut d_beta) = (vec![0.0; d], vec![0.0; d]);
    for (dg, db) in &partials {
        d_gamma.iter_mut().zip(dg).for_each(|(a, b)| *a += b);
        d_beta.iter_mut().zip(db).for_each(|(a, b)| *a += b);
    }
    (d_gamma, d_beta)
}

/// A run of LayerNorm rows with their forward statistics, for the backward pass.
struct LayerNormRows<'a> {
    x: &'a [f32],
    gamma: &'a [f32],
    mean: &'a [f32],
    rstd: &'a [f32],
}

#[inline(always)]
fn layer_norm_backward_body<const FMA: bool>(
    rows: LayerNormRows<'_>,
    grad: &mut [f32],
    d_gamma: &mut [f32],
    d_beta: &mut [f32],
) {
    let d = rows.gamma.len();
    let each = grad.chunks_exact_mut(d).zip(rows.x.chunks_exact(d)).zip(rows.mean.iter().zip(rows.rstd));
    for ((g, x), (&mu, &inv)) in each {
        // With xhat = (x - mu) * inv and h = g * gamma: dx = inv * (h - mean(h) - xhat * mean(h * xhat)).
        let (mut sum_h, mut sum_hx) = ([0.0f32; 8], [0.0f32; 8]);
        for (i, ((&gi, &xi), &gm)) in g.iter().zip(x).zip(rows.gamma).enumerate() {
            let xhat = (xi - mu) * inv;
            let h = gi * gm;
            sum_h[i % 8] += h;
            sum_hx[i % 8] = madd::<FMA>(h, xhat, sum_hx[i % 8]);
            d_gamma[i] = madd::<FMA>(gi, xhat, d_gamma[i]);
            d_beta[i] += gi;
        }
        let a = sum_h.iter().sum::<f32>() / d as f32;
        let b = sum_hx.iter().sum::<f32>() / d as f32;
        for ((gi, &xi), &gm) in g.iter_mut().zip(x).zip(rows.gamma) {
            let xhat = (xi - mu) * inv;
            *gi = inv * (*gi * gm - a - xhat * b);
        }
    }
}

fma_dispatch!(fn layer_norm_backward_rows(rows: LayerNormRows<'_>, grad: &mut [f32], d_gamma: &mut [f32], d_beta: &mut [f32]) => layer_norm_backward_body);
