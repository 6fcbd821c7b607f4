//! The strided GEMMs against a plain f64 triple loop: the packed kernel's edges, depth blocks and strides, its row and
//! column bands, the four start values (a residual also in place), and both linear-layer GEMMs (packed and the
//! `gemm` crate) chosen with `with_linear_gemm`.

use super::*;
use crate::{CpuFeatures, LinearGemm, with_linear_gemm};

/// Runs `f` with the linear layers' products on the `gemm` crate.
fn on_crate<R>(f: impl FnOnce() -> R) -> R {
    with_linear_gemm(LinearGemm::Crate, f)
}

/// Runs `f` with the linear layers' products on the packed GEMM (the crate where the CPU has no AVX2 + FMA).
fn on_packed<R>(f: impl FnOnce() -> R) -> R {
    with_linear_gemm(LinearGemm::Packed, f)
}

/// A test matrix: `rows` x `cols` values in `[-1, 1)`, stored row-major or (when `transposed`) column-major.
struct Matrix {
    values: Vec<f32>,
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl Matrix {
    fn new(rows: usize, cols: usize, seed: usize, transposed: bool) -> Self {
        let values = (0..rows * cols).map(|i| ((i * 7919 + seed * 104_729) % 2000) as f32 / 1000.0 - 1.0).collect();
        Self { values, rows, cols, transposed }
    }

    fn operand(&self) -> Operand {
        if self.transposed {
            Operand::row_major(&self.values, self.rows).transposed()
        } else {
            Operand::row_major(&self.values, self.cols)
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        f64::from(if self.transposed { self.values[j * self.rows + i] } else { self.values[i * self.cols + j] })
    }
}

fn operands(lhs: &Matrix, rhs: &Matrix) -> (Operand, Operand) {
    (lhs.operand(), rhs.operand())
}

/// Each column of `matrix` summed in f32, row after row from zero: the order the column sums must keep.
fn row_order_column_sums(matrix: &Matrix) -> Vec<f32> {
    (0..matrix.cols).map(|j| (0..matrix.rows).fold(0.0f32, |sum, p| sum + matrix.at(p, j) as f32)).collect()
}

/// A start value's (row, column) element, as the reference sees it.
type StartValue<'a> = Box<dyn Fn(usize, usize) -> f64 + 'a>;

/// start + lhs rhs in f64, row-major.
fn reference(lhs: &Matrix, rhs: &Matrix, start: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    let mut out = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            out.push(start(i, j) + (0..k).map(|p| lhs.at(i, p) * rhs.at(p, j)).sum::<f64>());
        }
    }
    out
}

fn assert_close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (idx, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((f64::from(g) - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}: element {idx} is {g}, want {w}");
    }
}

/// Shapes around the kernel's 6 x 16 tile (and its 6 x 8 half for a last panel of 8 columns or fewer), the 96-row and
/// 1024-column blocks and the 384-deep block, with every transpose combination.
const SHAPES: [(usize, usize, usize); 9] = [
    (1, 1, 1),
    (5, 15, 3),
    (6, 16, 384),
    (7, 17, 385),
    (13, 33, 800),
    (97, 40, 20),
    (12, 28, 10),
    (8, 1030, 9),
    (200, 3, 50),
];

#[test]
fn packed_gemm_matches_the_reference_for_edges_blocks_and_transposes() {
    if !CpuFeatures::detect().avx2_fma {
        eprintln!("this CPU has no AVX2 + FMA: the packed GEMM never runs here");
        return;
    }
    for (m, n, k) in SHAPES {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (lhs, rhs) = (Matrix::new(m, k, 1, ta), Matrix::new(k, n, 2, tb));
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.25 - 1.0).collect();
            let old: Vec<f32> = (0..m * n).map(|i| (i % 11) as f32 - 5.0).collect();
            let what = format!("{m}x{n}x{k} transposed ({ta}, {tb})");
            let cases: [(Start, StartValue); 3] = [
                (Start::Zero, Box::new(|_, _| 0.0)),
                (Start::Dst, Box::new(|i, j| f64::from(old[i * n + j]))),
                (Start::Row(bias.as_ptr()), Box::new(|_, j| f64::from(bias[j]))),
            ];
            for (start, start_value) in cases {
                // A destination that is only written starts as NaN: reading it would show.
                let mut dst = if matches!(start, Start::Dst) { old.clone() } else { vec![f32::NAN; m * n] };
                // SAFETY: the operands are m x k and k x n, dst is m x n, the bias n values; nothing aliases.
                unsafe { packed_gemm::packed_gemm(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), start, None) };
                assert_close(&dst, &reference(&lhs, &rhs, start_value), &format!("{what} {start:?}"));
            }
            let want = reference(&lhs, &rhs, |i, j| f64::from(old[i * n + j]) + f64::from(bias[j]));
            for in_place in [false, true] {
                let mut dst = if in_place { old.clone() } else { vec![f32::NAN; m * n] };
                let matrix = if in_place { dst.as_ptr() } else { old.as_ptr() };
                let start = Start::Residual { matrix, row: bias.as_ptr() };
                // SAFETY: as above; the residual matrix is m x n at dst's stride, dst itself when in place.
                unsafe { packed_gemm::packed_gemm(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), start, None) };
                assert_close(&dst, &want, &format!("{what} residual, in place {in_place}"));
            }
        }
    }
}

#[test]
fn a_residual_start_is_added_on_every_path_and_in_place() {
    // Tall (row bands shift the matrix by rows) and wide (column bands shift it by columns), past one depth block.
    for (m, n, k) in [(100, 20, 30), (20, 100, 400), (1088, 96, 48)] {
        let (lhs, rhs) = (Matrix::new(m, k, 11, false), Matrix::new(k, n, 12, false));
        let bias: Vec<f32> = (0..n).map(|j| 0.5 - j as f32 * 0.01).collect();
        let residual: Vec<f32> = (0..m * n).map(|i| (i % 17) as f32 * 0.25 - 2.0).collect();
        let want = reference(&lhs, &rhs, |i, j| f64::from(residual[i * n + j]) + f64::from(bias[j]));
        let run = |bands: Option<usize>, in_place: bool| {
            let mut dst = if in_place { residual.clone() } else { vec![f32::NAN; m * n] };
            let matrix = if in_place { dst.as_ptr() } else { residual.as_ptr() };
            let start = Start::Residual { matrix, row: bias.as_ptr() };
            // SAFETY: the operands are m x k and k x n, dst and the residual m x n, the bias n values; only the
            // residual may be dst.
            unsafe {
                match bands {
                    Some(bands) => banded(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), start, (bands, None)),
                    None => gemm_threaded(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), start, None),
                }
            };
            dst
        };
        for in_place in [false, true] {
            let what = format!("{m}x{n}x{k}, in place {in_place}");
            assert_close(&run(None, in_place), &want, &format!("{what}, threaded entry"));
            assert_close(&on_packed(|| run(None, in_place)), &want, &format!("{what}, packed GEMM"));
            assert_close(&on_crate(|| run(None, in_place)), &want, &format!("{what}, gemm crate"));
            if CpuFeatures::detect().avx2_fma {
                for bands in [2, 3] {
                    assert_close(&run(Some(bands), in_place), &want, &format!("{what}, {bands} bands"));
                }
            }
        }
    }
}

#[test]
fn row_and_column_bands_cover_the_product_exactly_once() {
    if !CpuFeatures::detect().avx2_fma {
        eprintln!("this CPU has no AVX2 + FMA: the packed GEMM never runs here");
        return;
    }
    // Tall products split by rows, wide ones by columns; 2 and 3 bands, and more bands than rows or columns.
    for (m, n, k) in [(100, 20, 30), (20, 100, 30), (7, 5, 4), (1576, 48, 24)] {
        let (lhs, rhs) = (Matrix::new(m, k, 3, false), Matrix::new(k, n, 4, false));
        let bias: Vec<f32> = (0..n).map(|j| j as f32).collect();
        let want = reference(&lhs, &rhs, |_, j| j as f64);
        for bands in [1, 2, 3, 64] {
            let mut dst = vec![f32::NAN; m * n];
            let start = Start::Row(bias.as_ptr());
            // SAFETY: as above.
            unsafe { banded(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), start, (bands, None)) };
            assert_close(&dst, &want, &format!("{m}x{n}x{k} in {bands} bands"));
        }
    }
}

#[test]
fn both_gemm_paths_agree_through_the_threaded_entry() {
    let (m, n, k) = (300, 200, 150);
    let (lhs, rhs) = (Matrix::new(m, k, 5, false), Matrix::new(k, n, 6, true));
    let bias: Vec<f32> = (0..n).map(|j| 0.5 - j as f32 * 0.01).collect();
    let want = reference(&lhs, &rhs, |_, j| f64::from(bias[j]));
    let run = || {
        let mut dst = vec![f32::NAN; m * n];
        // SAFETY: as above.
        unsafe { gemm_threaded(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), Start::Row(bias.as_ptr()), None) };
        dst
    };
    assert_close(&run(), &want, "default path");
    assert_close(&on_packed(run), &want, "packed GEMM path");
    assert_close(&on_crate(run), &want, "gemm crate path");
}

#[test]
fn an_empty_inner_dimension_leaves_the_start_values() {
    if !CpuFeatures::detect().avx2_fma {
        eprintln!("this CPU has no AVX2 + FMA: the packed GEMM never runs here");
        return;
    }
    let (lhs, rhs) = (Matrix::new(3, 0, 7, false), Matrix::new(0, 4, 8, false));
    let bias = [1.0f32, 2.0, 3.0, 4.0];
    let mut dst = vec![f32::NAN; 12];
    let start = Start::Row(bias.as_ptr());
    // SAFETY: the operands are empty, dst is 3 x 4 and the bias 4 values.
    unsafe { packed_gemm::packed_gemm(dst.as_mut_ptr(), 4, (3, 4, 0), operands(&lhs, &rhs), start, None) };
    assert_eq!(dst, [bias, bias, bias].concat());
    let mut dst = vec![f32::NAN; 12];
    let start = Start::Zero;
    // SAFETY: as above.
    unsafe { packed_gemm::packed_gemm(dst.as_mut_ptr(), 4, (3, 4, 0), operands(&lhs, &rhs), start, None) };
    assert_eq!(dst, vec![0.0; 12]);
}

#[test]
fn column_sums_of_the_right_operand_are_bit_identical_to_row_order_sums_on_every_path() {
    // Tall (row bands: only the first sums), wide (column bands), a transposed right operand (the strided packing),
    // depth past one 384-row block, and columns past one 1024-column block.
    // An empty left operand (m = 0) has no product to compute, but its right operand's columns are still summed.
    for (m, n, k, rhs_transposed) in
        [(300, 40, 500, false), (20, 200, 900, false), (50, 37, 400, true), (12, 1030, 7, false), (0, 20, 30, false)]
    {
        let (lhs, rhs) = (Matrix::new(m, k, 9, false), Matrix::new(k, n, 10, rhs_transposed));
        let want_sums = row_order_column_sums(&rhs);
        let want = reference(&lhs, &rhs, |_, _| 0.0);
        let what = format!("{m}x{n}x{k}, rhs transposed {rhs_transposed}");
        let run = |bands: Option<usize>| {
            let (mut dst, mut sums) = (vec![f32::NAN; m * n], vec![0.0f32; n]);
            let sums_at = Some(ColumnSums::new(&mut sums));
            // SAFETY: the operands are m x k and k x n, dst is m x n and the sums n values; nothing aliases.
            unsafe {
                match bands {
                    Some(bands) => {
                        banded(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), Start::Zero, (bands, sums_at))
                    }
                    _ => gemm_threaded(dst.as_mut_ptr(), n, (m, n, k), operands(&lhs, &rhs), Start::Zero, sums_at),
                }
            };
            (dst, sums)
        };
        let mut paths = vec![
            ("threaded entry", run(None)),
            ("packed GEMM", on_packed(|| run(None))),
            ("gemm crate", on_crate(|| run(None))),
        ];
        if CpuFeatures::detect().avx2_fma {
            paths.extend([1, 2, 3].map(|bands| ("bands", run(Some(bands)))));
        }
        for (path, (dst, sums)) in paths {
            assert_close(&dst, &want, &format!("{what}, {path}"));
            assert_eq!(sums, want_sums, "{what}, {path}: column sums");
        }
    }
}
