//! Which GEMM runs the linear layers' products: gohsp's packed 256-bit kernel (`packed_gemm`) or the `gemm` crate,
//! chosen from the CPU's features, with a per-thread override for tests and benchmarks that compare both.

use super::route::with_thread_value;
use std::cell::Cell;
use std::fmt;

/// The GEMM behind the linear layers' products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearGemm {
    /// `packed_gemm`: operands packed into panels, a 6x16 AVX2 + FMA register tile.
    Packed,
    /// The `gemm` crate, which picks its own kernel at run time (AVX-512F, AVX2 + FMA or scalar).
    Crate,
}

impl LinearGemm {
    /// The default for a CPU with these features.
    ///
    /// - AVX-512F: the `gemm` crate. Its AVX-512 microkernels (compiled in by burn's and our `x86-v4` feature) are
    ///   twice as wide as the packed GEMM's AVX2 tile. The packed GEMM was measured only on an AVX2 CPU, where it beat
    ///   the crate's AVX2 kernels by 6-13% per training step, not against 512-bit kernels.
    /// - AVX2 + FMA without AVX-512F: the packed GEMM.
    /// - Anything else (other architectures, older x86): the `gemm` crate, the only one that runs there.
    pub fn for_cpu(features: CpuFeatures) -> Self {
        if features.avx2_fma && !features.avx512f { LinearGemm::Packed } else { LinearGemm::Crate }
    }

    /// The name benchmarks print: `packed` or `crate`.
    pub fn name(self) -> &'static str {
        match self {
            LinearGemm::Packed => "packed",
            LinearGemm::Crate => "crate",
        }
    }

    /// The other GEMM (what a benchmark compares the default against).
    pub fn other(self) -> Self {
        match self {
            LinearGemm::Packed => LinearGemm::Crate,
            LinearGemm::Crate => LinearGemm::Packed,
        }
    }
}

impl fmt::Display for LinearGemm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The CPU features the choice depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuFeatures {
    /// AVX2 and FMA (what `packed_gemm` needs).
    pub avx2_fma: bool,
    /// AVX-512 Foundation (what the `gemm` crate's 512-bit kernels need).
    pub avx512f: bool,
}

impl CpuFeatures {
    /// This CPU's features.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            Self {
                avx2_fma: is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
                avx512f: is_x86_feature_detected!("avx512f"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Self { avx2_fma: false, avx512f: false }
        }
    }
}

thread_local! {
    static OVERRIDE: Cell<Option<LinearGemm>> = const { Cell::new(None) };
}

/// The GEMM that this CPU runs the linear layers on by default.
pub fn default_linear_gemm() -> LinearGemm {
    LinearGemm::for_cpu(CpuFeatures::detect())
}

/// Runs `f` with the linear layers' products on `gemm` on this thread, then restores the previous choice (for tests and
/// benchmarks that compare both in one process). The packed GEMM asked for on a CPU without AVX2 and FMA runs on the
/// crate. The choice is read on the calling thread only.
pub fn with_linear_gemm<R>(gemm: LinearGemm, f: impl FnOnce() -> R) -> R {
    with_thread_value(&OVERRIDE, Some(gemm), f)
}

/// The GEMM for a linear layer's product on this thread: the override if one is set and this CPU runs it, else the
/// default.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) fn linear_gemm() -> LinearGemm {
    let features = CpuFeatures::detect();
    match OVERRIDE.with(Cell::get) {
        Some(LinearGemm::Packed) if !features.avx2_fma => LinearGemm::Crate,
        Some(chosen) => chosen,
        None => LinearGemm::for_cpu(features),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avx512_cpus_run_the_crates_wider_kernels_and_avx2_cpus_the_packed_gemm() {
        let cpu = |avx2_fma, avx512f| LinearGemm::for_cpu(CpuFeatures { avx2_fma, avx512f });
        assert_eq!(cpu(true, false), LinearGemm::Packed, "AVX2 + FMA only");
        assert_eq!(cpu(true, true), LinearGemm::Crate, "AVX-512F");
        assert_eq!(cpu(false, false), LinearGemm::Crate, "neither");
    }

    #[test]
    fn the_override_holds_inside_and_is_restored_after_even_when_nested() {
        let default = linear_gemm();
        let runnable = |gemm: LinearGemm| if CpuFeatures::detect().avx2_fma { gemm } else { LinearGemm::Crate };
        with_linear_gemm(default.other(), || {
            assert_eq!(linear_gemm(), runnable(default.other()));
            with_linear_gemm(default, || assert_eq!(linear_gemm(), default));
            assert_eq!(linear_gemm(), runnable(default.other()));
        });
        assert_eq!(linear_gemm(), default);
        assert_eq!(default, default_linear_gemm());
    }
}
