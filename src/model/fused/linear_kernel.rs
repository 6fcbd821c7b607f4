//! Kernels of a linear layer on burn's [in, out] weight layout: y = x W + b and its three gradients, each a strided
//! GEMM written straight into a fresh buffer (no zero fill, no transposed copies, the bias as the GEMM's start row).

use super::strided_gemm::{Operand, Start, gemm_threaded};
use rayon::prelude::*;

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

/// y [rows, outputs] = x W + b.
pub(super) fn linear_forward(x: &[f32], weight: &[f32], bias: &[f32], dims: LinearDims) -> Vec<f32> {
    check(x, weight, dims);
    assert_eq!(bias.len(), dims.outputs, "bias length");
    let (lhs, rhs) = (Operand::row_major(x, dims.inputs), Operand::row_major(weight, dims.outputs));
    let start = Start::Row(bias.as_ptr());
    product(dims.rows * dims.outputs, |dst| {
        // SAFETY: x, W and the bias have the extents checked above; dst [rows, outputs] is fresh.
        unsafe { gemm_threaded(dst, dims.outputs, (dims.rows, dims.outputs, dims.inputs), lhs, rhs, start) }
    })
}

/// dL/dx [rows, inputs] = dy W^T.
pub(super) fn linear_input_grad(d_y: &[f32], weight: &[f32], dims: LinearDims) -> Vec<f32> {
    assert_eq!(d_y.len(), dims.rows * dims.outputs, "output gradient length");
    assert_eq!(weight.len(), dims.inputs * dims.outputs, "weight length");
    let lhs = Operand::row_major(d_y, dims.outputs);
    let rhs = Operand::row_major(weight, dims.outputs).transposed();
    product(dims.rows * dims.inputs, |dst| {
        // SAFETY: dy is [rows, outputs], W^T is [outputs, inputs] and dst [rows, inputs] is fresh.
        unsafe { gemm_threaded(dst, dims.inputs, (dims.rows, dims.inputs, dims.outputs), lhs, rhs, Start::Zero) }
    })
}

/// dL/dW [inputs, outputs] = x^T dy.
pub(super) fn linear_weight_grad(x: &[f32], d_y: &[f32], dims: LinearDims) -> Vec<f32> {
    assert_eq!(x.len(), dims.rows * dims.inputs, "input length");
    assert_eq!(d_y.len(), dims.rows * dims.outputs, "output gradient length");
    let lhs = Operand::row_major(x, dims.inputs).transposed();
    let rhs = Operand::row_major(d_y, dims.outputs);
    product(dims.inputs * dims.outputs, |dst| {
        // SAFETY: x^T is [inputs, rows], dy is [rows, outputs] and dst [inputs, outputs] is fresh.
        unsafe { gemm_threaded(dst, dims.outputs, (dims.inputs, dims.outputs, dims.rows), lhs, rhs, Start::Zero) }
    })
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

fn check(x: &[f32], weight: &[f32], dims: LinearDims) {
    assert_eq!(x.len(), dims.rows * dims.inputs, "input length");
    assert_eq!(weight.len(), dims.inputs * dims.outputs, "weight length");
}

/// A buffer of `len` values that `write` fills completely (an empty sum, when the inner size is 0, is its start).
fn product(len: usize, write: impl FnOnce(*mut f32)) -> Vec<f32> {
    let mut values = Vec::with_capacity(len);
    write(values.as_mut_ptr());
    // SAFETY: `write` ran a GEMM that does not read its destination and writes every one of its `len` elements.
    unsafe { values.set_len(len) };
    values
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
