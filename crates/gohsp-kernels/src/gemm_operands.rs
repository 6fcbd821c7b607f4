//! The operands of gohsp's GEMMs, shared by the strided entry points and the packed AVX2 GEMM: strided matrix views,
//! what a product starts from (nothing, the destination, a bias row, a residual plus a bias), and the column sums a
//! product can take on the way (a bias gradient).

/// A strided matrix operand: pointer, row stride and column stride in elements.
#[derive(Clone, Copy)]
pub(super) struct Operand {
    pub(super) ptr: *const f32,
    pub(super) rows: isize,
    pub(super) cols: isize,
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

    /// The view whose element (0, 0) is this one's (i, j).
    ///
    /// # Safety
    /// (i, j) must be inside the matrix.
    pub(super) unsafe fn offset(self, i: usize, j: usize) -> Self {
        // SAFETY: forwarded from the caller.
        Self { ptr: unsafe { self.ptr.offset(i as isize * self.rows + j as isize * self.cols) }, ..self }
    }

    /// Pointer, row stride and column stride.
    pub(super) fn raw(self) -> (*const f32, isize, isize) {
        (self.ptr, self.rows, self.cols)
    }
}

/// What a product is added to in its destination.
#[derive(Clone, Copy, Debug)]
pub(super) enum Start {
    /// Nothing: dst is only written, so it may be uninitialised.
    Zero,
    /// dst's old values.
    Dst,
    /// One value per column of dst, the same for every row (a linear layer's bias).
    Row(*const f32),
    /// A matrix laid out as dst (same row stride) plus a row, `matrix[i, j] + (row[j] + product)`: a residual stream
    /// plus a linear layer's bias. The matrix may be dst itself (the residual updated in place): each element is read
    /// before its own tile writes it, and nothing else reads it.
    Residual { matrix: *const f32, row: *const f32 },
}

// SAFETY: the row and matrix are only read (a matrix that is dst is read at an element before that element is
// written, by the same thread), and the caller keeps them alive across the whole call.
unsafe impl Send for Start {}
unsafe impl Sync for Start {}

impl Start {
    /// The start of dst's part from row `row` and column `col` on, dst's row stride being `ld` (for the packed GEMM's
    /// bands, blocks and tiles).
    ///
    /// # Safety
    /// (`row`, `col`) must be inside the destination.
    #[cfg(target_arch = "x86_64")]
    pub(super) unsafe fn shifted(self, row: usize, col: usize, ld: usize) -> Self {
        // SAFETY: forwarded from the caller.
        unsafe {
            match self {
                Start::Row(values) => Start::Row(values.add(col)),
                Start::Residual { matrix, row: values } => {
                    Start::Residual { matrix: matrix.add(row * ld + col), row: values.add(col) }
                }
                other => other,
            }
        }
    }
}

/// Where a product also adds up its right operand's columns, in row order (`sums[j] += rhs[p][j]` for p = 0, 1, ...):
/// a linear layer's bias gradient, taken while the weight gradient's GEMM packs the output gradient instead of in a
/// pass of its own over it (which read the whole output gradient from memory again: 3% of a vit_mnist step).
#[derive(Clone, Copy)]
pub(super) struct ColumnSums(*mut f32);

// SAFETY: each band adds to its own columns only, and the caller keeps the sums alive across the whole call.
unsafe impl Send for ColumnSums {}
unsafe impl Sync for ColumnSums {}

impl ColumnSums {
    /// Sums to add to, one per column of the right operand.
    pub(super) fn new(sums: &mut [f32]) -> Self {
        Self(sums.as_mut_ptr())
    }

    /// The sums of the columns from `col` on.
    ///
    /// # Safety
    /// `col` must be inside the right operand.
    #[cfg(target_arch = "x86_64")]
    pub(super) unsafe fn shifted_to_column(self, col: usize) -> Self {
        // SAFETY: forwarded from the caller.
        Self(unsafe { self.0.add(col) })
    }

    /// Column j's running sum.
    pub(super) fn at(self, j: usize) -> *mut f32 {
        self.0.wrapping_add(j)
    }

    /// Adds rows 0..k of `rhs` (n columns), in row order.
    ///
    /// # Safety
    /// rhs must be valid for k x n, and the sums for n columns.
    pub(super) unsafe fn add_rows(self, rhs: Operand, (k, n): (usize, usize)) {
        for p in 0..k {
            for j in 0..n {
                // SAFETY: (p, j) is inside rhs and j inside the sums.
                unsafe { *self.at(j) += *rhs.ptr.offset(p as isize * rhs.rows + j as isize * rhs.cols) };
            }
        }
    }
}
