//! Strided f32 GEMM calls shared by the fused kernels: operands are views with their own row and column strides, so
//! transposes and column slices need no copies. The linear layers' products run on `packed_gemm` where `linear_gemm`
//! chooses it (AVX2 + FMA without AVX-512), split into one row (or column) band per rayon thread; attention's small
//! per-head products, and every product on other CPUs, run on the `gemm` crate.

pub(super) use super::gemm_operands::{ColumnSums, Operand, Start};
#[cfg(target_arch = "x86_64")]
use super::linear_gemm::{LinearGemm, linear_gemm};
#[cfg(target_arch = "x86_64")]
use super::packed_gemm;
#[cfg(target_arch = "x86_64")]
use rayon::prelude::*;

/// Products at least this large (m * n * k) run on rayon's threads with the `gemm` crate; smaller ones on the calling
/// thread (burn-flex's own threshold for its matmul).
const PARALLEL_PRODUCT: usize = 192 * 192 * 192;
/// The same threshold for the packed GEMM, whose row bands cost one rayon task each and no extra packing of the left
/// operand. At 192^3, a pruned block's output projection (1088 x 48 x 96 at batch 64, 5 M multiply-adds) ran on one
/// thread while the other waited; measured on vit_mnist at batch 64 (2 threads), the pruned model's time fell 3% from
/// that threshold to this one, and no further below it.
#[cfg(target_arch = "x86_64")]
const PACKED_PARALLEL_PRODUCT: usize = 64 * 64 * 64;

/// A destination pointer that the bands of one product share; each band writes only its own rows or columns.
#[derive(Clone, Copy)]
struct Destination(*mut f32);
// SAFETY: bands write disjoint element sets, and the caller keeps the buffer alive across the whole call.
unsafe impl Send for Destination {}
unsafe impl Sync for Destination {}

impl Destination {
    /// The element `offset` past the start (a method, so that closures capture the whole wrapper, not its pointer).
    ///
    /// # Safety
    /// The offset must be inside the destination.
    unsafe fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.add(offset) }
    }
}
// SAFETY: operands are only read, and the caller keeps them alive across the whole call.
unsafe impl Send for Operand {}
unsafe impl Sync for Operand {}

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

/// dst[m, n] (row stride `dst_rows`) = start + lhs[m, k] rhs[k, n]; on rayon's threads when the product is large.
/// With `rhs_sums`, rhs's columns are also added to them.
///
/// # Safety
/// Every operand (and a `Start::Row` of n values, a `Start::Residual`'s matrix of m x n at dst's row stride, and the n
/// sums) must be valid for its extent, and `dst` must not alias them, except that the residual matrix may be dst.
pub(super) unsafe fn gemm_threaded(
    dst: *mut f32,
    dst_rows: usize,
    (m, n, k): (usize, usize, usize),
    (lhs, rhs): (Operand, Operand),
    start: Start,
    rhs_sums: Option<ColumnSums>,
) {
    let product = m.saturating_mul(n).saturating_mul(k);
    let large = product >= PARALLEL_PRODUCT;
    #[cfg(target_arch = "x86_64")]
    if linear_gemm() == LinearGemm::Packed {
        let bands = if product >= PACKED_PARALLEL_PRODUCT { rayon::current_num_threads() } else { 1 };
        // SAFETY: forwarded from the caller; `linear_gemm` chooses the packed GEMM only where the CPU has AVX2 and FMA.
        unsafe { banded(dst, dst_rows, (m, n, k), (lhs, rhs), start, (bands, rhs_sums)) };
        return;
    }
    if let Some(sums) = rhs_sums {
        // SAFETY: forwarded from the caller.
        unsafe { sums.add_rows(rhs, (k, n)) };
    }
    let parallelism = if large { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    let accumulate = match start {
        Start::Zero => false,
        Start::Dst => true,
        Start::Row(row) => {
            for i in 0..m {
                // SAFETY: row i of dst and the n values of `row` are valid, and they do not overlap.
                unsafe { std::ptr::copy_nonoverlapping(row, dst.add(i * dst_rows), n) };
            }
            true
        }
        Start::Residual { matrix, row } => {
            for i in 0..m {
                for j in 0..n {
                    // SAFETY: (i, j) is inside dst and the matrix (dst's layout); j is inside the row. The matrix may
                    // be dst.
                    unsafe { *dst.add(i * dst_rows + j) = *matrix.add(i * dst_rows + j) + *row.add(j) };
                }
            }
            true
        }
    };
    // SAFETY: forwarded from the caller.
    unsafe { call(dst, dst_rows, (m, n, k), lhs, rhs, (accumulate, 1.0), parallelism) }
}

/// The product in `bands` independent `packed_gemm` calls on rayon's threads: bands of rows when dst is at least as
/// tall as wide, else bands of columns (each band packs its own copy of the shared operand, a k x n or m x k copy
/// against a band's m x n x k / bands multiply-adds). Column sums are taken by the first row band, or by each column
/// band for its own columns.
///
/// # Safety
/// As `gemm_threaded`, and the CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
unsafe fn banded(
    dst: *mut f32,
    dst_rows: usize,
    (m, n, k): (usize, usize, usize),
    (lhs, rhs): (Operand, Operand),
    start: Start,
    (bands, rhs_sums): (usize, Option<ColumnSums>),
) {
    let by_rows = m >= n;
    let (extent, align) = if by_rows { (m, packed_gemm::MR) } else { (n, packed_gemm::NR) };
    let band = extent.div_ceil(bands.max(1)).next_multiple_of(align).max(align);
    let out = Destination(dst);
    (0..extent).into_par_iter().step_by(band).for_each(|first| {
        let len = band.min(extent - first);
        // SAFETY: the band's rows (or columns) first..first + len are inside every operand and inside dst, and no
        // other band writes them.
        unsafe {
            if by_rows {
                let at = out.at(first * dst_rows);
                let band_start = start.shifted(first, 0, dst_rows);
                let sums = rhs_sums.filter(|_| first == 0);
                packed_gemm::packed_gemm(at, dst_rows, (len, n, k), (lhs.offset(first, 0), rhs), band_start, sums);
            } else {
                let at = out.at(first);
                let band_start = start.shifted(0, first, dst_rows);
                let sums = rhs_sums.map(|s| s.shifted_to_column(first));
                packed_gemm::packed_gemm(at, dst_rows, (m, len, k), (lhs, rhs.offset(0, first)), band_start, sums);
            }
        }
    });
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

#[cfg(all(test, target_arch = "x86_64"))]
#[path = "gemm_tests.rs"]
mod tests;
