//! The machine's multiply-add peak, probed for the benchmarks' headers: one thread alone, then `threads` threads at
//! once. On a virtual machine two vCPUs can land on one physical core's two hyperthreads, which halves each thread's
//! share of the FMA units; a GEMM-bound training step then takes up to twice as long with the same code. The probe
//! says which case a benchmark ran in.

use crate::CpuFeatures;
use std::sync::Barrier;
use std::time::Instant;

/// Independent accumulators: enough to cover the FMA latency (4 cycles) times two FMA units with room to spare.
const CHAINS: usize = 12;
/// f32 lanes in one 256-bit vector.
const LANES: usize = 8;
/// Multiplier and addend of the chain `x = x * MUL + ADD`, close to 1 and 0 so that the values stay finite.
const MUL: f32 = 0.999_999;
const ADD: f32 = 1.0e-6;
/// Loop turns per timed run: 12 chains x 8 lanes x 2 flops x 1 000 000 = 192 MFLOP, 2 ms at 96 GFLOPS.
const TURNS: usize = 1_000_000;
/// Timed runs per thread (the threads together start each run at a barrier); the median counts.
const RUNS: usize = 9;

/// What one probe found.
#[derive(Clone, Debug, PartialEq)]
pub struct FmaPeak {
    /// GFLOPS of one thread running alone.
    pub alone: f64,
    /// GFLOPS of each of the threads running at the same time.
    pub together: Vec<f64>,
}

impl FmaPeak {
    /// All threads' GFLOPS added up.
    pub fn together_total(&self) -> f64 {
        self.together.iter().sum()
    }

    /// How many single threads' worth the threads together got: about the thread count when each has a core's FMA
    /// units to itself, about 1 when they share one core's.
    pub fn scaling(&self) -> f64 {
        self.together_total() / self.alone
    }

    /// One `#` comment line for a benchmark's output.
    pub fn line(&self) -> String {
        let each: Vec<String> = self.together.iter().map(|g| format!("{g:.1}")).collect();
        format!(
            "# fma peak (GFLOPS, AVX2 f32): 1 thread {:.1}; {} threads at once {} = {:.1}, {:.2}x one thread{}",
            self.alone,
            self.together.len(),
            each.join(" + "),
            self.together_total(),
            self.scaling(),
            if self.together.len() > 1 && self.scaling() < 1.5 {
                " (the threads share one core's FMA units: GEMM-bound work runs up to half as fast as with a core each)"
            } else {
                ""
            }
        )
    }
}

/// Probes the peak with 1 thread, then `threads` at once. None on a CPU without AVX2 + FMA (or not x86-64).
pub fn probe(threads: usize) -> Option<FmaPeak> {
    if !supported() {
        return None;
    }
    let alone = median_gflops(&Barrier::new(1));
    let threads = threads.max(1);
    let start_together = Barrier::new(threads);
    let together = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(|| median_gflops(&start_together))).collect();
        handles.into_iter().map(|h| h.join().expect("the probe does not panic")).collect()
    });
    Some(FmaPeak { alone, together })
}

/// Whether this CPU runs the vector chains (AVX2 + FMA, as the packed GEMM needs).
fn supported() -> bool {
    CpuFeatures::detect().avx2_fma
}

/// The median GFLOPS of `RUNS` timed runs of `TURNS` turns on the calling thread, each run started when every thread
/// of `start` has reached it.
fn median_gflops(start: &Barrier) -> f64 {
    let flops = (TURNS * CHAINS * LANES * 2) as f64;
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|_| {
            start.wait();
            let began = Instant::now();
            std::hint::black_box(chains(std::hint::black_box(TURNS)));
            flops / began.elapsed().as_secs_f64().max(1e-9) / 1e9
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[RUNS / 2]
}

/// `turns` steps of `x = x * MUL + ADD` on `CHAINS` x `LANES` values starting at chain index + 1, fused; returns the
/// sum of the chains' first lanes (so the work cannot be optimised away, and so that a test can check it).
fn chains(turns: usize) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if supported() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { chains_fma(turns) };
    }
    chains_scalar(turns)
}

/// `chains` with scalar fused multiply-adds (the reference, and the fallback).
fn chains_scalar(turns: usize) -> f32 {
    (0..CHAINS).map(|c| (0..turns).fold((c + 1) as f32, |x, _| x.mul_add(MUL, ADD))).sum()
}

/// `chains` with 256-bit FMAs, one register per chain.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_fma(turns: usize) -> f32 {
    use std::arch::x86_64::*;
    let (mul, add) = (_mm256_set1_ps(MUL), _mm256_set1_ps(ADD));
    let mut acc: [__m256; CHAINS] = std::array::from_fn(|c| _mm256_set1_ps((c + 1) as f32));
    for _ in 0..turns {
        for a in &mut acc {
            *a = _mm256_fmadd_ps(*a, mul, add);
        }
    }
    acc.iter().map(|a| _mm_cvtss_f32(_mm256_castps256_ps128(*a))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_chains_compute_the_same_values_as_scalar_fused_multiply_adds() {
        for turns in [0, 1, 7, 1000] {
            assert_eq!(chains(turns), chains_scalar(turns), "{turns} turns");
        }
        assert_ne!(chains_scalar(1000), chains_scalar(0), "the chains move");
    }

    #[test]
    fn a_probe_reports_one_positive_rate_per_thread_and_their_scaling() {
        let Some(peak) = probe(2) else {
            eprintln!("this CPU has no AVX2 + FMA: nothing to probe");
            return;
        };
        assert_eq!(peak.together.len(), 2);
        assert!(peak.alone > 0.0 && peak.together.iter().all(|g| *g > 0.0), "{peak:?}");
        assert!((peak.scaling() - peak.together_total() / peak.alone).abs() < 1e-12);
        let shared = FmaPeak { alone: 95.0, together: vec![48.0, 47.0] };
        assert!(shared.line().contains("share one core"), "{}", shared.line());
        let apart = FmaPeak { alone: 95.0, together: vec![94.0, 93.0] };
        assert!(!apart.line().contains("share"), "{}", apart.line());
        assert!(apart.line().contains("1.97x one thread"), "{}", apart.line());
    }
}
