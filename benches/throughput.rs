//! Training and inference throughput (images/s) of DeiT-Tiny and vit_mnist, dense and GOHSP-pruned at 40% sparsity
//! (whole heads, and with `admm.head_dims: 0.5` half of the attention budget as q/k pairs), measured in one process so
//! that the pruned/dense ratios compare like with like. See benches/README.md.
//!
//! Also in the same process: the dense model with the linear layers' products on the GEMM that this CPU does not use
//! by default (`dense-crate-gemm` where the packed GEMM is the default, `dense-packed-gemm` on AVX-512 CPUs), with
//! burn's composed ops instead of gohsp's fused kernels (`dense-composed`), and
//! inference at batch 64 of dense vs GOHSP-pruned against their MAC ratio (interleaved pairs, at least 15 and 8 s).
//!
//! `cargo bench --bench throughput`. Knobs: GOHSP_BENCH_STEPS (timed training steps per model, default 10; inference
//! runs twice as many passes), GOHSP_BENCH_THREADS (rayon threads, default 2), GOHSP_BENCH_POOL=0 (run on the
//! calling thread instead of inside rayon's pool), GOHSP_BENCH_MODELS (comma list, default `deit_tiny,vit_mnist`),
//! GOHSP_BENCH_DENSE_ONLY=1 (the dense variant alone: no pruned, baseline-kernel or batch-64 lines),
//! GOHSP_BENCH_SERVE=<preset> (a lockstep server for `compare.py`: one step per stdin command, see `serve`).

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use gohsp::data::loader::Batch;
use gohsp::model::build::build_vit;
use gohsp::model::cost::{macs_per_image, param_count};
use gohsp::model::fused::{CpuFeatures, LinearGemm, default_linear_gemm, with_composed_ops, with_linear_gemm};
use gohsp::model::host::NamedTensors;
use gohsp::model::init::init_tensors;
use gohsp::model::presets::preset;
use gohsp::model::shape::VitShape;
use gohsp::model::vit::Vit;
use gohsp::train::batch::{batch_tensors, count_correct};
use gohsp::train::objective::{CrossEntropy, Objective};
use gohsp::train::trainer::{TrainConfig, optimizer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Instant;

#[path = "common/gohsp40.rs"]
mod gohsp40;
use gohsp40::prune;

/// Untimed training steps and inference passes before timing.
const WARMUP: usize = 2;

/// One benchmarked model: preset name, classes and batch size.
struct Case {
    preset: &'static str,
    classes: usize,
    batch: usize,
}

const CASES: [Case; 2] =
    [Case { preset: "deit_tiny", classes: 1000, batch: 8 }, Case { preset: "vit_mnist", classes: 10, batch: 128 }];

/// Wall and CPU time (all threads) of one measured repeat, in seconds.
#[derive(Clone, Copy, Debug)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// Medians of a variant's training steps and inference passes.
#[derive(Clone, Copy, Debug, Default)]
struct Rates {
    train_step_s: f64,
    train_cpu_s: f64,
    infer_batch_s: f64,
    infer_cpu_s: f64,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The median, NaN when there is no value.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// CPU seconds (user + system, all threads) this process has used, from /proc/self/stat; NaN where unreadable.
fn cpu_seconds() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|stat| {
        // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
    });
    // The kernel reports USER_HZ ticks, 100 per second on Linux.
    ticks.map_or(f64::NAN, |t| t / 100.0)
}

/// The machine's 1-minute load average, as text.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or("?".into(), |l| l.split_whitespace().next().unwrap_or("?").into())
}

fn timed(f: impl FnOnce()) -> Sample {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    f();
    Sample { wall: wall.elapsed().as_secs_f64(), cpu: cpu_seconds() - cpu }
}

/// A random host batch of `batch` images shaped for `shape`, with random labels below `classes`.
fn random_batch(shape: &VitShape, batch: usize, seed: u64) -> Batch {
    let mut rng = StdRng::seed_from_u64(seed);
    let dims = [batch, shape.in_chans, shape.image_size, shape.image_size];
    let images = (0..dims.iter().product::<usize>()).map(|_| rng.r#gen::<f32>() * 2.0 - 1.0).collect();
    let labels = (0..batch).map(|_| rng.gen_range(0..shape.num_classes as i64)).collect();
    Batch { images, labels, shape: dims }
}

/// One model under measurement: its training copy with optimizer, and its inference copy with a fixed input.
struct Variant {
    name: &'static str,
    shape: VitShape,
    batch: Batch,
    train_device: Device,
    model: Option<Vit>,
    optim: ModuleOptimizer,
    objective: CrossEntropy,
    infer_model: Vit,
    infer_input: Tensor<4>,
    /// Which kernels run.
    path: KernelPath,
    train: Vec<Sample>,
    infer: Vec<Sample>,
}

impl Variant {
    fn new(name: &'static str, shape: VitShape, tensors: &NamedTensors, batch: usize, path: KernelPath) -> Self {
        let composed = path == KernelPath::Composed;
        let source = Path::new("<random init>");
        let train_device = Device::flex().autodiff();
        let model = build_vit(&shape, tensors, &train_device, source).expect("random init fits its shape");
        let infer_model = build_vit(&shape, tensors, &Device::flex(), source).expect("random init fits its shape");
        let host = random_batch(&shape, batch, 1);
        let infer_input = batch_tensors(host.clone(), &Device::flex()).0;
        // The pretrain defaults of src/experiment/defaults.rs: weight decay 0.05, per-tensor gradient-norm clip 1.0; the
        // trainer's fused AdamW, or burn's own AdamW for the all-composed variant.
        let optim = if composed {
            AdamWConfig::new()
                .with_weight_decay(0.05)
                .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
                .init()
        } else {
            let recipe = TrainConfig {
                epochs: 1,
                lr: 1e-4,
                min_lr: 1e-4,
                warmup_frac: 0.0,
                weight_decay: 0.05,
                grad_clip: Some(1.0),
            };
            optimizer(&recipe)
        };
        let objective = CrossEntropy::new(0.1, &train_device);
        Self {
            name,
            shape,
            batch: host,
            train_device,
            model: Some(model),
            optim,
            objective,
            infer_model,
            infer_input,
            path,
            train: Vec::new(),
            infer: Vec::new(),
        }
    }

    /// One training step as `Trainer::run_epoch` runs it: batch to device, forward, label-smoothed cross-entropy,
    /// backward, AdamW step, loss read back, top-1 counted.
    fn train_step(&mut self, record: bool) {
        let path = self.path;
        let sample = timed(|| {
            path.run(|| {
                let model = self.model.take().expect("model present between steps");
                // The host batch is reused every step, so it is cloned here as a fresh batch would be moved in.
                let (images, labels, _) = batch_tensors(self.batch.clone(), &self.train_device);
                let (loss, logits) = self.objective.loss(&model, images, labels);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                self.model = Some(self.optim.step(1e-4, model, grads));
                let loss = loss.into_scalar::<f32>();
                let _ = count_correct(logits.inner(), &self.batch.labels, 1);
                assert!(loss.is_finite(), "training diverged: loss {loss}");
            })
        });
        if record {
            self.train.push(sample);
        }
    }

    /// One inference forward pass, read back to the host (as `gohsp::eval::latency` times it).
    fn infer_pass(&mut self, record: bool) {
        let sample = timed(|| {
            self.path.run(|| self.infer_model.forward(self.infer_input.clone()).into_data());
        });
        if record {
            self.infer.push(sample);
        }
    }

    fn rates(&self) -> Rates {
        let med = |samples: &[Sample], f: fn(&Sample) -> f64| median(samples.iter().map(f).collect());
        Rates {
            train_step_s: med(&self.train, |s| s.wall),
            train_cpu_s: med(&self.train, |s| s.cpu),
            infer_batch_s: med(&self.infer, |s| s.wall),
            infer_cpu_s: med(&self.infer, |s| s.cpu),
        }
    }

    fn print(&self, model: &str) -> Rates {
        let r = self.rates();
        let b = self.batch.labels.len() as f64;
        println!(
            "model={model} variant={} batch={b} params={} train_step_ms={:.1} train_images_per_s={:.2} \
             train_cpu_ms={:.0} infer_batch_ms={:.1} infer_images_per_s={:.2} infer_cpu_ms={:.0}",
            self.name,
            param_count(&self.shape),
            r.train_step_s * 1e3,
            b / r.train_step_s,
            r.train_cpu_s * 1e3,
            r.infer_batch_s * 1e3,
            b / r.infer_batch_s,
            r.infer_cpu_s * 1e3,
        );
        r
    }
}

/// The kernels a variant runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KernelPath {
    /// gohsp's fused ops with this CPU's default GEMM for the linear layers.
    Fused,
    /// The fused ops with the linear layers' products on this GEMM (`dense-crate-gemm`, `dense-packed-gemm`).
    Gemm(LinearGemm),
    /// Burn's composed ops and burn's AdamW (`dense-composed`).
    Composed,
}

impl KernelPath {
    fn run<R>(self, f: impl FnOnce() -> R) -> R {
        match self {
            KernelPath::Fused => f(),
            KernelPath::Gemm(gemm) => with_linear_gemm(gemm, f),
            KernelPath::Composed => with_composed_ops(f),
        }
    }
}

/// Dense and pruned variants of one preset, their steps and passes interleaved (dense, pruned, dense, ...) so that
/// a change in the machine's load hits both alike.
fn run_case(case: &Case, steps: usize, dense_only: bool) {
    let shape = preset(case.preset, case.classes).expect("known preset");
    let tensors = init_tensors(&shape, 0);
    if dense_only {
        run_dense(case, &shape, &tensors, steps);
        return;
    }
    let (pruned_shape, pruned_tensors) = prune(&shape, &tensors, 0.0);
    let (qk_shape, qk_tensors) = prune(&shape, &tensors, 0.5);
    let other_gemm = default_linear_gemm().other();
    let (other_gemm_variant, gemm_ratio) = match other_gemm {
        LinearGemm::Crate => ("dense-crate-gemm", "packed/crate-gemm"),
        LinearGemm::Packed => ("dense-packed-gemm", "crate/packed-gemm"),
    };
    let mut variants = [
        Variant::new("dense", shape.clone(), &tensors, case.batch, KernelPath::Fused),
        Variant::new("gohsp40", pruned_shape.clone(), &pruned_tensors, case.batch, KernelPath::Fused),
        Variant::new("gohsp40-qk", qk_shape.clone(), &qk_tensors, case.batch, KernelPath::Fused),
        Variant::new(other_gemm_variant, shape.clone(), &tensors, case.batch, KernelPath::Gemm(other_gemm)),
        Variant::new("dense-composed", shape.clone(), &tensors, case.batch, KernelPath::Composed),
    ];
    for step in 0..WARMUP + steps {
        variants.iter_mut().for_each(|v| v.train_step(step >= WARMUP));
    }
    for pass in 0..WARMUP + 2 * steps {
        variants.iter_mut().for_each(|v| v.infer_pass(pass >= WARMUP));
    }
    let dense = variants[0].print(case.preset);
    for (variant, pruned_shape) in variants[1..3].iter().zip([&pruned_shape, &qk_shape]) {
        print_speedup(case.preset, variant.name, &shape, pruned_shape, &dense, &variant.print(case.preset));
    }
    for (variant, label) in variants[3..].iter().zip([gemm_ratio, "fused/composed"]) {
        let baseline = variant.print(case.preset);
        println!(
            "model={} {label} train_speedup={:.2} infer_speedup={:.2} (cpu time: train {:.2}, infer {:.2})",
            case.preset,
            baseline.train_step_s / dense.train_step_s,
            baseline.infer_batch_s / dense.infer_batch_s,
            baseline.train_cpu_s / dense.train_cpu_s,
            baseline.infer_cpu_s / dense.infer_cpu_s,
        );
    }
    print_mac_scaling(case.preset, [(&shape, &tensors), (&pruned_shape, &pruned_tensors)]);
}

/// The dense variant alone (`GOHSP_BENCH_DENSE_ONLY=1`, for `compare.py`'s short interleaved rounds).
fn run_dense(case: &Case, shape: &VitShape, tensors: &NamedTensors, steps: usize) {
    let mut dense = Variant::new("dense", shape.clone(), tensors, case.batch, KernelPath::Fused);
    (0..WARMUP + steps).for_each(|step| dense.train_step(step >= WARMUP));
    (0..WARMUP + 2 * steps).for_each(|pass| dense.infer_pass(pass >= WARMUP));
    dense.print(case.preset);
}

/// Batch size of the inference comparison against the MAC reduction.
const MAC_BATCH: usize = 64;
/// Timed batch-64 pass pairs per model, at least: with 5, the pruned/dense ratio moved by about 0.1 between runs on a
/// 2-core VM.
const MAC_MIN_PASSES: usize = 15;
/// Pairs go on until this much time has passed (or `MAC_MAX_PASSES`): vit_mnist's 15 pairs took half a second, less
/// than the machine's own swings last.
const MAC_SECONDS: f64 = 8.0;
/// At most this many timed pairs.
const MAC_MAX_PASSES: usize = 200;

/// Inference at batch 64 of the dense and the pruned model, interleaved (1 warm-up pair, then at least
/// `MAC_MIN_PASSES` timed pairs and `MAC_SECONDS`), and the pruned speedup as a fraction of the MAC reduction (1.0 =
/// the model runs as much faster as it has fewer MACs). The speedup is the median of the pairs' dense/pruned ratios,
/// so that a change in the machine's speed between pairs cancels.
fn print_mac_scaling(preset: &str, models: [(&VitShape, &NamedTensors); 2]) {
    let mut variants =
        models.map(|(shape, tensors)| Variant::new("b64", shape.clone(), tensors, MAC_BATCH, KernelPath::Fused));
    variants.iter_mut().for_each(|v| v.infer_pass(false));
    let start = Instant::now();
    let mut pairs = 0;
    while pairs < MAC_MAX_PASSES && (pairs < MAC_MIN_PASSES || start.elapsed().as_secs_f64() < MAC_SECONDS) {
        variants.iter_mut().for_each(|v| v.infer_pass(true));
        pairs += 1;
    }
    let [dense, pruned] = &variants;
    let speedup = median(dense.infer.iter().zip(&pruned.infer).map(|(d, p)| d.wall / p.wall).collect());
    let mac_ratio = macs_per_image(&dense.shape) as f64 / macs_per_image(&pruned.shape) as f64;
    println!(
        "model={preset} batch={MAC_BATCH} gohsp40/dense mac_reduction={mac_ratio:.2} infer_speedup={speedup:.2} \
         speedup/mac_reduction={:.2} ({pairs} pairs; median dense {:.1} ms, pruned {:.1} ms)",
        speedup / mac_ratio,
        dense.rates().infer_batch_s * 1e3,
        pruned.rates().infer_batch_s * 1e3,
    );
}

/// One pruned variant's structure and its ratios against the dense variant.
fn print_speedup(preset: &str, name: &str, dense_shape: &VitShape, shape: &VitShape, dense: &Rates, pruned: &Rates) {
    let heads: Vec<usize> = shape.blocks.iter().map(|b| b.heads).collect();
    let qk: Vec<usize> = shape.blocks.iter().map(|b| b.qk_dim).collect();
    let achieved = 1.0 - param_count(shape) as f64 / param_count(dense_shape) as f64;
    println!(
        "model={preset} {name}/dense sparsity={achieved:.3} heads_per_block={heads:?} qk_dims={qk:?} \
         train_speedup={:.2} infer_speedup={:.2} (cpu time: train {:.2}, infer {:.2})",
        dense.train_step_s / pruned.train_step_s,
        dense.infer_batch_s / pruned.infer_batch_s,
        dense.train_cpu_s / pruned.train_cpu_s,
        dense.infer_cpu_s / pruned.infer_cpu_s,
    );
}

/// The CPU's model name, from /proc/cpuinfo.
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let name = info.lines().find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')));
    name.map_or("unknown CPU".into(), |(_, n)| n.trim().to_string())
}

fn main() {
    gohsp::malloc_tuning::tune_malloc();
    let steps = env_usize("GOHSP_BENCH_STEPS", 10).max(1);
    let threads = env_usize("GOHSP_BENCH_THREADS", 2).max(1);
    let in_pool = std::env::var("GOHSP_BENCH_POOL").map_or(true, |v| v != "0");
    let wanted = std::env::var("GOHSP_BENCH_MODELS").unwrap_or_else(|_| "deit_tiny,vit_mnist".to_string());
    let dense_only = std::env::var("GOHSP_BENCH_DENSE_ONLY").is_ok_and(|v| v == "1");
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("the first pool built here");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("# cpu: {} ({cores} cores), threads={threads}, load average {}", cpu_model(), load_average());
    print_fma_peak(threads);
    let features = CpuFeatures::detect();
    println!(
        "# linear layers' GEMM: {} (avx2+fma: {}, avx512f: {})",
        default_linear_gemm(),
        features.avx2_fma,
        features.avx512f
    );
    println!(
        "# gohsp throughput: burn flex backend, {threads} rayon threads, {} pool, {steps} timed training steps \
         (median) after {WARMUP} warm-up, {} inference passes (median), dense and pruned interleaved; load average {}",
        if in_pool { "inside the" } else { "outside the" },
        2 * steps,
        load_average()
    );
    if load_average().parse::<f64>().is_ok_and(|load| load > cores as f64) {
        println!(
            "# warning: load average above the {cores} cores: wall times are inflated, compare the cpu_ms columns"
        );
    }
    if let Ok(preset) = std::env::var("GOHSP_BENCH_SERVE") {
        let Some(case) = CASES.iter().find(|c| c.preset == preset) else {
            eprintln!("GOHSP_BENCH_SERVE={preset}: no such model; use one of deit_tiny, vit_mnist");
            std::process::exit(2);
        };
        if in_pool {
            rayon::scope(|_| serve(case))
        } else {
            serve(case)
        }
        return;
    }
    let start = Instant::now();
    for case in CASES.iter().filter(|c| wanted.split(',').any(|w| w.trim() == c.preset)) {
        if in_pool {
            // burn-flex runs its kernels on rayon's pool: driving it from a pool thread keeps 2 threads on 2 cores
            // instead of the caller plus 2 workers.
            rayon::scope(|_| run_case(case, steps, dense_only));
        } else {
            run_case(case, steps, dense_only);
        }
    }
    println!("# total {:.1} s, load average {}", start.elapsed().as_secs_f64(), load_average());
    print_fma_peak(threads);
}

/// `GOHSP_BENCH_SERVE=<preset>`: the dense model as a lockstep server for `compare.py`, which alternates single steps
/// of this process and PyTorch's. Prints `ready`, then answers each stdin line `train` or `infer` with one training
/// step or inference pass and a line `train <wall ms> <cpu ms>` (or `infer ...`); `quit` or end of input stops it.
fn serve(case: &Case) {
    use std::io::{BufRead, Write};
    let shape = preset(case.preset, case.classes).expect("known preset");
    let tensors = init_tensors(&shape, 0);
    let mut dense = Variant::new("dense", shape, &tensors, case.batch, KernelPath::Fused);
    let mut out = std::io::stdout();
    writeln!(out, "ready").and_then(|()| out.flush()).expect("stdout is open");
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is readable");
        let sample = match line.trim() {
            "train" => {
                dense.train_step(true);
                dense.train.last()
            }
            "infer" => {
                dense.infer_pass(true);
                dense.infer.last()
            }
            "quit" => break,
            other => {
                eprintln!("lockstep server: unknown command `{other}` (train, infer or quit)");
                std::process::exit(2);
            }
        };
        let sample = sample.expect("a step was just recorded");
        writeln!(out, "{} {:.3} {:.1}", line.trim(), sample.wall * 1e3, sample.cpu * 1e3)
            .and_then(|()| out.flush())
            .expect("stdout is open");
    }
}

/// The machine's FMA peak with 1 thread and with `threads` at once (whether the threads share a core's FMA units).
fn print_fma_peak(threads: usize) {
    match gohsp_kernels::fma_peak::probe(threads) {
        Some(peak) => println!("{}", peak.line()),
        None => println!("# fma peak: not probed (no AVX2 + FMA)"),
    }
}
