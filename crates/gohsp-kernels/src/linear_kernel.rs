//! Kernels of a linear layer on burn's [in, out] weight layout: y = x W + b and its three gradients, each a strided
//! GEMM written straight into a fresh, unfilled buffer (no zero fill, no transposed copies, the bias as the GEMM's start
//! row).

use super::strided_gemm::{ColumnSums, Operand, Start, gemm_threaded};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// The shape of one linear call: x is [rows, inputs], W is [inputs, outputs].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LinearDims {
    /// Rows of x (images times tokens).
    pub rows: usize,
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
}

/// y [rows, outputs] = x W + b, written to every element of `y`.
pub(super) fn linear_forward(x: &[f32], weight: &[f32], bias: &[f32], dims: LinearDims, y: &mut [MaybeUninit<f32>]) {
    check_forward(x, weight, bias, dims, y.len());
    // SAFETY: x, W, the bias and y have the extents checked above.
    unsafe { product_onto(x, weight, dims, y.as_mut_ptr().cast(), Start::Row(bias.as_ptr())) }
}

/// y [rows, outputs] = residual + (x W + b), written to every element of `y` (a residual block's output projection,
/// without a separate pass for the add).
pub(super) fn linear_forward_onto(
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    dims: LinearDims,
    (residual, y): (&[f32], &mut [MaybeUninit<f32>]),
) {
    check_forward(x, weight, bias, dims, y.len());
    assert_eq!(residual.len(), y.len(), "residual length");
    let start = Start::Residual { matrix: residual.as_ptr(), row: bias.as_ptr() };
    // SAFETY: x, W, the bias, the residual and y have the extents checked above.
    unsafe { product_onto(x, weight, dims, y.as_mut_ptr().cast(), start) }
}

/// residual [rows, outputs] += x W + b, in place (the inference path, where nothing else holds the residual).
pub(super) fn linear_forward_into(x: &[f32], weight: &[f32], bias: &[f32], dims: LinearDims, residual: &mut [f32]) {
    check_forward(x, weight, bias, dims, residual.len());
    let dst = residual.as_mut_ptr();
    let start = Start::Residual { matrix: dst, row: bias.as_ptr() };
    // SAFETY: x, W, the bias and the residual have the extents checked above; the start reads each element of the
    // residual before the GEMM writes it.
    unsafe { product_onto(x, weight, dims, dst, start) }
}

/// dst [rows, outputs] = start + x W on rayon's threads.
///
/// # Safety
/// x is [rows, inputs], W [inputs, outputs], dst and the start's values valid for [rows, outputs]; dst does not alias
/// x or W.
unsafe fn product_onto(x: &[f32], weight: &[f32], dims: LinearDims, dst: *mut f32, start: Start) {
    let (lhs, rhs) = (Operand::row_major(x, dims.inputs), Operand::row_major(weight, dims.outputs));
    // SAFETY: forwarded from the caller.
    unsafe { gemm_threaded(dst, dims.outputs, (dims.rows, dims.outputs, dims.inputs), (lhs, rhs), start, None) }
}

/// dL/dx [rows, inputs] = dy W^T, written to every element of `d_x`.
pub(super) fn linear_input_grad(d_y: &[f32], weight: &[f32], dims: LinearDims, d_x: &mut [MaybeUninit<f32>]) {
    assert_eq!(d_y.len(), dims.rows * dims.outputs, "output gradient length");
    assert_eq!(weight.len(), dims.inputs * dims.outputs, "weight length");
    assert_eq!(d_x.len(), dims.rows * dims.inputs, "input gradient length");
    let lhs = Operand::row_major(d_y, dims.outputs);
    let rhs = Operand::row_major(weight, dims.outputs).transposed();
    let dst = d_x.as_mut_ptr().cast();
    // SAFETY: dy is [rows, outputs], W^T is [outputs, inputs] and d_x [rows, inputs]; the GEMM only writes d_x.
    unsafe { gemm_threaded(dst, dims.inputs, (dims.rows, dims.inputs, dims.outputs), (lhs, rhs), Start::Zero, None) }
}

/// dL/dW [inputs, outputs] = x^T dy, written to every element of `d_w`; with `d_b` (zeros), dL/db [outputs] is added to
/// it while the GEMM packs dy (the same values in the same row order as `linear_bias_grad`).
pub(super) fn linear_weight_grad(
    x: &[f32],
    d_y: &[f32],
    dims: LinearDims,
    d_w: &mut [MaybeUninit<f32>],
    d_b: Option<&mut [f32]>,
) {
    assert_eq!(x.len(), dims.rows * dims.inputs, "input length");
    assert_eq!(d_y.len(), dims.rows * dims.outputs, "output gradient length");
    assert_eq!(d_w.len(), dims.inputs * dims.outputs, "weight gradient length");
    let sums = d_b.map(|d_b| {
        assert_eq!(d_b.len(), dims.outputs, "bias gradient length");
        ColumnSums::new(d_b)
    });
    let lhs = Operand::row_major(x, dims.inputs).transposed();
    let rhs = Operand::row_major(d_y, dims.outputs);
    let dst = d_w.as_mut_ptr().cast();
    // SAFETY: x^T is [inputs, rows], dy is [rows, outputs], d_w [inputs, outputs] and d_b [outputs]; the GEMM only
    // writes d_w.
    unsafe { gemm_threaded(dst, dims.outputs, (dims.inputs, dims.outputs, dims.rows), (lhs, rhs), Start::Zero, sums) }
}

/// Columns of dL/db per rayon task.
const BIAS_COLUMNS: usize = 64;

/// dL/db [outputs]: dy summed over rows, in row order (column bands on rayon's threads, each summing its columns in
/// the same order as one thread would, so the result does not depend on the thread count).
pub(super) fn linear_bias_grad(d_y: &[f32], outputs: usize) -> Vec<f32> {
    let mut sums = vec![0.0f32; outputs];
    sums.par_chunks_mut(BIAS_COLUMNS).enumerate().for_each(|(band, sums)| {
        let first = band * BIAS_COLUMNS;
        for row in d_y.chunks_exact(outputs.max(1)) {
            for (sum, &g) in sums.iter_mut().zip(&row[first..]) {
                *sum += g;
            }
        }
    });
    sums
}

fn check_forward(x: &[f32], weight: &[f32], bias: &[f32], dims: LinearDims, output_len: usize) {
    assert_eq!(x.len(), dims.rows * dims.inputs, "input length");
    assert_eq!(weight.len(), dims.inputs * dims.outputs, "weight length");
    assert_eq!(bias.len(), dims.outputs, "bias length");
    assert_eq!(output_len, dims.rows * dims.outputs, "output length");
}

#[cfg(test)]
mod tests {
    use super::linear_bias_grad;

    #[test]
    fn bias_gradient_sums_every_column_over_all_rows_across_bands() {
        // 150 columns: two full bands and a partial one.
        let (rows, outputs) = (5, 150);
        let d_y: Vec<f32> = (0..rows * outputs).map(|i| (i % 13) as f32 - 6.0 + (i / outputs) as f32 * 0.5).collect();
        let want: Vec<f32> = (0..outputs).map(|j| (0..rows).map(|r| d_y[r * outputs + j]).sum()).collect();
        assert_eq!(linear_bias_grad(&d_y, outputs), want);
    }
}
