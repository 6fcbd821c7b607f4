//! A cache-blocked f32 GEMM for x86-64 with AVX2 + FMA, for the linear layers: operands packed into panels (BLIS's
//! loop order) and a 6x16 register-tile microkernel that prefetches its output tile. The `gemm` crate runs them on
//! other CPUs, AVX-512 ones included (see `linear_gemm`), and runs attention's per-head products (see `strided_gemm`).

use super::gemm_operands::{ColumnSums, Operand, Start};
use std::arch::x86_64::*;
use std::cell::RefCell;

/// Rows of the register tile (one broadcast each).
pub(super) const MR: usize = 6;
/// Lanes of one AVX2 vector.
const LANES: usize = 8;
/// Columns of the register tile (two 8-lane vectors).
pub(super) const NR: usize = 2 * LANES;
/// Depth of one packed block: a 16-column panel of it (24 KiB) stays in L1.
const KC: usize = 384;
/// Rows of one packed block of the left operand (144 KiB, in L2).
const MC: usize = 96;
/// Columns of one packed block of the right operand.
const NC: usize = 1024;

/// dst's new value at (`i`, `j`) from the product there: `start` plus the product.
///
/// # Safety
/// `at` is dst's element at (`i`, `j`) of a part that `start` describes, with row stride `ldc`.
#[inline(always)]
unsafe fn apply(start: Start, at: *mut f32, (i, j): (usize, usize), ldc: usize, product: f32) -> f32 {
    // SAFETY: forwarded from the caller.
    unsafe {
        match start {
            Start::Zero => product,
            Start::Dst => *at + product,
            Start::Row(row) => *row.add(j) + product,
            Start::Residual { matrix, row } => *matrix.add(i * ldc + j) + (*row.add(j) + product),
        }
    }
}

thread_local! {
    /// This thread's packing buffers (left block, right block, one left edge panel), reused across calls.
    static PACKS: RefCell<[Vec<f32>; 3]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Where the microkernel reads its 6 x kc left panel: element (i, p) at `ptr + i * rows + p * depth`.
#[derive(Clone, Copy)]
struct LeftPanel {
    ptr: *const f32,
    rows: usize,
    depth: usize,
}

/// The left operand of one block: packed into 6-row panels, or read in place when its rows are contiguous (the
/// linear layers' activations), which saves the packing pass; a partial last panel is packed either way.
#[derive(Clone, Copy)]
enum Left<'a> {
    Packed(&'a [f32]),
    InPlace(Operand),
}

/// dst[m, n] (row stride `ldc`, column stride 1) = start + lhs[m, k] rhs[k, n], on the calling thread.
///
/// # Safety
/// The CPU must support AVX2 and FMA (`CpuFeatures::avx2_fma`), every operand and the start's values must be valid for their
/// extents, and `dst` must not alias the operands (a `Start::Residual`'s matrix may be dst).
pub(super) unsafe fn packed_gemm(
    dst: *mut f32,
    ldc: usize,
    (m, n, k): (usize, usize, usize),
    (lhs, rhs): (Operand, Operand),
    start: Start,
    rhs_sums: Option<ColumnSums>,
) {
    if m == 0 || n == 0 {
        if let Some(sums) = rhs_sums {
            // No product, so no packing, but the right operand's columns are still to be summed.
            // SAFETY: forwarded from the caller.
            unsafe { sums.add_rows(rhs, (k, n)) };
        }
        return;
    }
    if k == 0 {
        // SAFETY: forwarded from the caller.
        unsafe { fill_empty_product(dst, ldc, (m, n), start) };
        return;
    }
    let (_, lhs_rows, lhs_cols) = lhs.raw();
    // Row-major (the activations of a forward pass, an input gradient's output gradient). A column-major lhs (the
    // transposed activations of a weight gradient) read in place measured no faster than packed, so it is packed.
    let in_place = lhs_cols == 1 && lhs_rows > 0;
    PACKS.with_borrow_mut(|[a_pack, b_pack, edge]| {
        // Sized once per thread and never shrunk: a resize back up would zero-fill the buffer again on every call
        // that packs after one that did not.
        let sizes = [MC.next_multiple_of(MR) * KC, KC * NC.next_multiple_of(NR), MR * KC];
        for (buffer, len) in [&mut *a_pack, &mut *b_pack, &mut *edge].into_iter().zip(sizes) {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        }
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                // Later depth blocks add to what the first one wrote.
                let block_start = if pc == 0 { start } else { Start::Dst };
                // SAFETY: the block lies inside rhs's extent; b_pack holds KC * NC (rounded up to NR) values; the sums
                // hold n columns. Depth blocks run in order, so each column is summed in row order.
                unsafe {
                    let sums = rhs_sums.map(|s| s.shifted_to_column(jc));
                    pack_rhs(b_pack, rhs.offset(pc, jc), (kc, nc), sums)
                };
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    // SAFETY: the block at (ic, pc) is inside lhs; a_pack holds MC (rounded up to MR) x KC values.
                    let left = unsafe {
                        if in_place {
                            Left::InPlace(lhs.offset(ic, pc))
                        } else {
                            pack_lhs(a_pack, lhs.offset(ic, pc), mc, kc);
                            Left::Packed(a_pack)
                        }
                    };
                    // SAFETY: dst's block at (ic, jc) is inside its extent.
                    let at = unsafe { dst.add(ic * ldc + jc) };
                    // SAFETY: the packs hold the block; dst's block is inside its extent.
                    unsafe { block(left, b_pack, edge, (mc, nc, kc), at, ldc, block_start.shifted(ic, jc, ldc)) };
                }
            }
        }
    });
}

/// dst = start: the start values (an empty sum).
///
/// # Safety
/// dst must be valid for m rows of n values at row stride `ldc`.
unsafe fn fill_empty_product(dst: *mut f32, ldc: usize, (m, n): (usize, usize), start: Start) {
    for i in 0..m {
        for j in 0..n {
            // SAFETY: (i, j) is inside dst.
            unsafe {
                let at = dst.add(i * ldc + j);
                *at = apply(start, at, (i, j), ldc, 0.0);
            }
        }
    }
}

/// Packs rhs[kc, nc] into 16-column panels, each kc rows of 16 contiguous values, zero-padded past nc; adds each
/// column's values to its sum, in row order, when given sums.
///
/// # Safety
/// rhs must be valid for kc x nc; `pack` must hold kc * nc rounded up to NR; the sums hold nc columns.
unsafe fn pack_rhs(pack: &mut [f32], rhs: Operand, (kc, nc): (usize, usize), sums: Option<ColumnSums>) {
    for (panel, j0) in (0..nc).step_by(NR).enumerate() {
        // SAFETY: the panel's columns j0.. and rows 0..kc are inside rhs; its pack slot is kc * NR values.
        unsafe {
            pack_panel::<NR>(
                &mut pack[panel * kc * NR..(panel + 1) * kc * NR],
                rhs.offset(0, j0).transposed(),
                (NR.min(nc - j0), kc),
                sums.map(|s| s.shifted_to_column(j0)),
            )
        };
    }
}

/// Packs lhs[mc, kc] into 6-row panels, each kc columns of 6 contiguous values, zero-padded past mc.
///
/// # Safety
/// lhs must be valid for mc x kc; `pack` must hold mc rounded up to MR, times kc.
unsafe fn pack_lhs(pack: &mut [f32], lhs: Operand, mc: usize, kc: usize) {
    for (panel, i0) in (0..mc).step_by(MR).enumerate() {
        // SAFETY: the panel's rows i0.. and columns 0..kc are inside lhs; its pack slot is kc * MR values.
        unsafe {
            pack_panel::<MR>(
                &mut pack[panel * kc * MR..(panel + 1) * kc * MR],
                lhs.offset(i0, 0),
                (MR.min(mc - i0), kc),
                None,
            )
        };
    }
}

/// out[p * LANES + i] = src(i, p) for i < count, p < depth, zeros for count <= i < LANES: `count` lines of a panel,
/// interleaved. Reads along whichever of src's strides is 1. With sums, sums[i] += src(i, p) in the order of p.
///
/// # Safety
/// src must be valid for count x depth; out holds depth * LANES values; count <= LANES; the sums hold count lines.
#[inline(always)]
unsafe fn pack_panel<const LANES: usize>(
    out: &mut [f32],
    src: Operand,
    (count, depth): (usize, usize),
    sums: Option<ColumnSums>,
) {
    let (ptr, line_stride, depth_stride) = src.raw();
    if count < LANES {
        out.fill(0.0);
    }
    let out = out.as_mut_ptr();
    // SAFETY: every read is (i, p) with i < count, p < depth; every write is below depth * LANES or a line's sum.
    unsafe {
        if line_stride == 1 && count == LANES {
            // Each depth step's LANES values are contiguous: a fixed-size copy the compiler turns into vector moves.
            // The sums run in a local array (registers), not through memory at every depth step.
            let mut totals = [0.0f32; LANES];
            if let Some(sums) = sums {
                totals.iter_mut().enumerate().for_each(|(i, total)| *total = *sums.at(i));
            }
            for p in 0..depth {
                let from = ptr.offset(p as isize * depth_stride);
                std::ptr::copy_nonoverlapping(from, out.add(p * LANES), LANES);
                if sums.is_some() {
                    totals.iter_mut().enumerate().for_each(|(i, total)| *total += *from.add(i));
                }
            }
            if let Some(sums) = sums {
                totals.iter().enumerate().for_each(|(i, &total)| *sums.at(i) = total);
            }
        } else {
            // Each line is read along its own stride (contiguous when depth_stride is 1).
            for i in 0..count {
                let line = ptr.offset(i as isize * line_stride);
                let mut sum = sums.map_or(0.0, |s| *s.at(i));
                for p in 0..depth {
                    let value = *line.offset(p as isize * depth_stride);
                    *out.add(p * LANES + i) = value;
                    sum += value;
                }
                if let Some(sums) = sums {
                    *sums.at(i) = sum;
                }
            }
        }
    }
}

/// One block: every (16-column panel, 6-row panel) pair through the microkernel; partial tiles at the edges go
/// through a local tile first.
///
/// # Safety
/// dst must be valid for mc x nc at row stride `ldc`; the packs (or the in-place lhs) hold the block; `edge` holds
/// MR * kc values.
unsafe fn block(
    left: Left,
    b_pack: &[f32],
    edge: &mut [f32],
    (mc, nc, kc): (usize, usize, usize),
    dst: *mut f32,
    ldc: usize,
    start: Start,
) {
    for (jp, j0) in (0..nc).step_by(NR).enumerate() {
        let b = b_pack[jp * kc * NR..].as_ptr();
        for (ip, i0) in (0..mc).step_by(MR).enumerate() {
            let (rows, cols) = (MR.min(mc - i0), NR.min(nc - j0));
            // SAFETY: the tile at (i0, j0) is inside dst and its left panel inside the block.
            unsafe {
                let a = left_panel(left, edge, ip, i0, rows, kc);
                let c = dst.add(i0 * ldc + j0);
                let tile_start = start.shifted(i0, j0, ldc);
                if rows == MR && cols == NR {
                    kernel::<2>(kc, a, b, c, ldc, tile_start);
                } else if rows == MR && cols == LANES {
                    kernel::<1>(kc, a, b, c, ldc, tile_start);
                } else {
                    edge_tile(kc, a, b, c, ldc, (rows, cols), tile_start);
                }
            }
        }
    }
}

/// The left panel of rows i0..i0 + rows (panel number `ip`): its packed slot, the operand itself when read in
/// place, or, for a partial panel read in place, a zero-padded copy in `edge`.
///
/// # Safety
/// The panel must be inside the block `left` describes; `edge` holds MR * kc values.
unsafe fn left_panel(left: Left, edge: &mut [f32], ip: usize, i0: usize, rows: usize, kc: usize) -> LeftPanel {
    match left {
        Left::Packed(pack) => LeftPanel { ptr: pack[ip * kc * MR..].as_ptr(), rows: 1, depth: MR },
        Left::InPlace(lhs) if rows == MR => {
            // SAFETY: row i0 is inside the block.
            let (ptr, row_stride, _) = unsafe { lhs.offset(i0, 0) }.raw();
            LeftPanel { ptr, rows: row_stride as usize, depth: 1 }
        }
        Left::InPlace(lhs) => {
            // SAFETY: rows i0..i0 + rows are inside the block; edge holds MR * kc values.
            unsafe { pack_panel::<MR>(&mut edge[..MR * kc], lhs.offset(i0, 0), (rows, kc), None) };
            LeftPanel { ptr: edge.as_ptr(), rows: 1, depth: MR }
        }
    }
}

/// A partial tile: the full 6x16 product into a local tile, then its rows x cols corner merged into dst.
///
/// # Safety
/// As `kernel`, for a rows x cols tile of dst.
unsafe fn edge_tile(
    kc: usize,
    a: LeftPanel,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    (rows, cols): (usize, usize),
    start: Start,
) {
    let mut tile = [0.0f32; MR * NR];
    // SAFETY: the local tile is MR x NR at row stride NR. A tile of at most 8 columns computes only its left half: the
    // right one would be the zero padding of a partial panel (a pruned MLP's 245 columns end in a 5-column panel).
    unsafe {
        if cols <= LANES {
            kernel::<1>(kc, a, b, tile.as_mut_ptr(), NR, Start::Zero)
        } else {
            kernel::<2>(kc, a, b, tile.as_mut_ptr(), NR, Start::Zero)
        }
    };
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: (i, j) is inside the caller's tile.
            unsafe {
                let out = c.add(i * ldc + j);
                *out = apply(start, out, (i, j), ldc, tile[i * NR + j]);
            }
        }
    }
}

/// The 6 x (8 `VECTORS`) register tile: c = start + a_panel b_panel over kc steps, 6 `VECTORS` accumulators of 8
/// lanes; `VECTORS` is 2 (the full 6x16 tile) or 1 (its left half, for the last panel of an output 8 columns past a
/// multiple of 16).
///
/// # Safety
/// AVX2 + FMA; a is a 6 x kc panel, b holds kc * 16 values, and c is valid for 6 rows of 8 `VECTORS` at row stride
/// `ldc`.
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel<const VECTORS: usize>(kc: usize, a: LeftPanel, b: *const f32, c: *mut f32, ldc: usize, start: Start) {
    // SAFETY: all pointers are in bounds by the contract above.
    unsafe {
        for i in 0..MR {
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc) as *const i8);
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc + LANES * VECTORS - 1) as *const i8);
        }
        let mut acc = [_mm256_setzero_ps(); 2 * MR];
        for p in 0..kc {
            let mut b_p = [_mm256_setzero_ps(); 2];
            for (v, lanes) in b_p.iter_mut().enumerate().take(VECTORS) {
                *lanes = _mm256_loadu_ps(b.add(p * NR + LANES * v));
            }
            for i in 0..MR {
                let a_i = _mm256_broadcast_ss(&*a.ptr.add(i * a.rows + p * a.depth));
                for v in 0..VECTORS {
                    acc[2 * i + v] = _mm256_fmadd_ps(a_i, b_p[v], acc[2 * i + v]);
                }
            }
        }
        for i in 0..MR {
            let row = c.add(i * ldc);
            for v in 0..VECTORS {
                let at = row.add(LANES * v);
                let product = acc[2 * i + v];
                let value = match start {
                    Start::Zero => product,
                    Start::Dst => _mm256_add_ps(_mm256_loadu_ps(at), product),
                    Start::Row(row) => _mm256_add_ps(_mm256_loadu_ps(row.add(LANES * v)), product),
                    Start::Residual { matrix, row: bias } => {
                        let with_bias = _mm256_add_ps(_mm256_loadu_ps(bias.add(LANES * v)), product);
                        _mm256_add_ps(_mm256_loadu_ps(matrix.add(i * ldc + LANES * v)), with_bias)
                    }
                };
                _mm256_storeu_ps(at, value);
            }
        }
    }
}
