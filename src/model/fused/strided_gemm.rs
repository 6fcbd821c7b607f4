//! Strided f32 GEMM calls (the `gemm` crate) shared by the fused kernels: operands are views with their own row and
//! column strides, so transposes and column slices need no copies.

/// Products at least this large (m * n * k) run on rayon's threads; smaller ones on the calling thread (burn-flex's
/// own threshold for its matmul).
const PARALLEL_PRODUCT: usize = 192 * 192 * 192;

/// A strided matrix operand: pointer, row stride and column stride in elements.
#[derive(Clone, Copy)]
pub(super) struct Operand {
    ptr: *const f32,
    rows: isize,
    cols: isize,
}

impl Operand {
    /// The matrix at `ptr` whose element (i, j) is at `ptr + i * rows + j * cols`.
    pub(super) fn new(ptr: *const f32, rows: usize, cols: usize) -> Self {
        Self { ptr, rows: rows as isize, cols: cols as isize }
    }

    /// A row-major matrix with `width` columns.
    pub(super) fn row_major(values: &[f32], width: usize) -> Self {
        Self::new(values.as_ptr(), width, 1)
    }

    /// The same elements read as the transposed matrix.
    pub(super) fn transposed(self) -> Self {
        Self { ptr: self.ptr, rows: self.cols, cols: self.rows }
    }
}

/// dst[m, n] (row stride `dst_rows`) = beta * lhs[m, k] rhs[k, n], on the calling thread.
///
/// # Safety
/// Every operand must be valid for its extent, and `dst` must not alias the operands.
pub(super) unsafe fn gemm(
    dst: *mut f32,
    dst_rows: usize,
    mnk: (usize, usize, usize),
    lhs: Operand,
    rhs: Operand,
    beta: f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe { call(dst, dst_rows, mnk, lhs, rhs, (false, beta), gemm::Parallelism::None) }
}

/// dst[m, n] (row stride `dst_rows`) = lhs[m, k] rhs[k, n], plus dst's old values when `accumulate`; on rayon's
/// threads when the product is large. With `accumulate` false dst is only written, so it may be uninitialised.
///
/// # Safety
/// Every operand must be valid for its extent, and `dst` must not alias the operands.
pub(super) unsafe fn gemm_threaded(
    dst: *mut f32,
    dst_rows: usize,
    (m, n, k): (usize, usize, usize),
    lhs: Operand,
    rhs: Operand,
    accumulate: bool,
) {
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_PRODUCT {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from the caller.
    unsafe { call(dst, dst_rows, (m, n, k), lhs, rhs, (accumulate, 1.0), parallelism) }
}

/// # Safety
/// As `gemm`.
unsafe fn call(
    dst: *mut f32,
    dst_rows: usize,
    (m, n, k): (usize, usize, usize),
    lhs: Operand,
    rhs: Operand,
    (read_dst, beta): (bool, f32),
    parallelism: gemm::Parallelism,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_rows as isize,
            read_dst,
            lhs.ptr,
            lhs.cols,
            lhs.rows,
            rhs.ptr,
            rhs.cols,
            rhs.rows,
            if read_dst { 1.0 } else { 0.0 },
            beta,
            false,
            false,
            false,
            parallelism,
        );
    }
}
