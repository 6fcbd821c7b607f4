//! Training and inference throughput (images/s) of DeiT-Tiny and vit_mnist, dense and GOHSP-pruned at 40% sparsity,
//! measured in one process so that the pruned/dense ratios compare like with like. See benches/README.md.
//!
//! `cargo bench --bench throughput`. Knobs: GOHSP_BENCH_STEPS (timed training steps per model, default 10; inference
//! runs twice as many passes), GOHSP_BENCH_THREADS (rayon threads, default 2), GOHSP_BENCH_POOL=0 (run on the
//! calling thread instead of inside rayon's pool), GOHSP_BENCH_MODELS (comma list, default `deit_tiny,vit_mnist`).

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use gohsp::data::loader::Batch;
use gohsp::eval::latency;
use gohsp::model::build::build_vit;
use gohsp::model::cost::param_count;
use gohsp::model::host::NamedTensors;
use gohsp::model::init::init_tensors;
use gohsp::model::presets::preset;
use gohsp::model::shape::VitShape;
use gohsp::prune::budget::{BudgetRequest, solve_budget};
use gohsp::prune::hard::slice_tensors;
use gohsp::prune::mask::StructureMask;
use gohsp::prune::norms::{head_norms, neuron_norms};
use gohsp::prune::select::keep_top_global;
use gohsp::spec::types::HeadShare;
use gohsp::train::batch::{batch_tensors, count_correct};
use gohsp::train::objective::{CrossEntropy, Objective};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Instant;

/// The pruned variant's target sparsity (the quickstart's).
const SPARSITY: f64 = 0.4;
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

/// Training and inference rates of one model.
#[derive(Clone, Copy, Debug)]
struct Rates {
    train_step_s: f64,
    train_images_per_s: f64,
    infer_batch_s: f64,
    infer_images_per_s: f64,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A random host batch of `batch` images shaped for `shape`, with random labels below `classes`.
fn random_batch(shape: &VitShape, batch: usize, seed: u64) -> Batch {
    let mut rng = StdRng::seed_from_u64(seed);
    let dims = [batch, shape.in_chans, shape.image_size, shape.image_size];
    let images = (0..dims.iter().product::<usize>()).map(|_| rng.r#gen::<f32>() * 2.0 - 1.0).collect();
    let labels = (0..batch).map(|_| rng.gen_range(0..shape.num_classes as i64)).collect();
    Batch { images, labels, shape: dims }
}

/// Median seconds of one training step, as `Trainer::run_epoch` runs it: batch to device, forward, label-smoothed
/// cross-entropy, backward, AdamW (the pretrain defaults: weight decay 0.05, per-tensor clip 1.0), loss read back and
/// top-1 counted.
fn train_step_seconds(shape: &VitShape, tensors: &NamedTensors, batch: &Batch, steps: usize) -> f64 {
    let device = Device::flex().autodiff();
    let mut model = build_vit(shape, tensors, &device, Path::new("<random init>")).expect("random init fits its shape");
    let objective = CrossEntropy::new(0.1, &device);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(0.05)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut times = Vec::with_capacity(steps);
    for step in 0..WARMUP + steps {
        let start = Instant::now();
        let (images, labels) = batch_tensors(batch, &device);
        let (loss, logits) = objective.loss(&model, images, labels);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-4, model, grads);
        let loss = loss.into_scalar::<f32>();
        let _ = count_correct(logits.inner(), &batch.labels, 1);
        assert!(loss.is_finite(), "training diverged: loss {loss}");
        if step >= WARMUP {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    median(times)
}

/// Training and inference rates of the model `shape` with weights `tensors`.
fn measure(shape: &VitShape, tensors: &NamedTensors, batch: usize, steps: usize) -> Rates {
    let host_batch = random_batch(shape, batch, 1);
    let train_step_s = train_step_seconds(shape, tensors, &host_batch, steps);
    let model = build_vit(shape, tensors, &Device::flex(), Path::new("<random init>")).expect("random init fits");
    let infer = latency(&model, batch, WARMUP, 2 * steps);
    let infer_batch_s = infer.median_ms / 1e3;
    Rates {
        train_step_s,
        train_images_per_s: batch as f64 / train_step_s,
        infer_batch_s,
        infer_images_per_s: infer.images_per_s,
    }
}

/// GOHSP's hard pruning of `tensors` at `SPARSITY`: the budget solved with `auto` head share and one head and one
/// neuron kept per block, groups chosen by global L2 norm, the tensors sliced. Returns the smaller shape and tensors.
fn prune(shape: &VitShape, tensors: &NamedTensors) -> (VitShape, NamedTensors) {
    let request = BudgetRequest { sparsity: SPARSITY, head_share: HeadShare::Auto, min_heads: 1, min_neurons: 1 };
    let budget = solve_budget(shape, &request).expect("40% is reachable for both presets");
    let mask = StructureMask {
        heads: keep_top_global(&head_norms(shape, tensors), budget.heads_removed, 1),
        neurons: keep_top_global(&neuron_norms(shape, tensors), budget.neurons_removed, 1),
    };
    let (sliced, manifest) = slice_tensors(shape, tensors, &mask);
    (manifest.shape, sliced)
}

fn print_rates(model: &str, variant: &str, batch: usize, params: u64, rates: &Rates) {
    println!(
        "model={model} variant={variant} batch={batch} params={params} train_step_ms={:.1} \
         train_images_per_s={:.2} infer_batch_ms={:.1} infer_images_per_s={:.2}",
        rates.train_step_s * 1e3,
        rates.train_images_per_s,
        rates.infer_batch_s * 1e3,
        rates.infer_images_per_s
    );
}

fn run_case(case: &Case, steps: usize) {
    let shape = preset(case.preset, case.classes).expect("known preset");
    let tensors = init_tensors(&shape, 0);
    let dense = measure(&shape, &tensors, case.batch, steps);
    print_rates(case.preset, "dense", case.batch, param_count(&shape), &dense);
    let (pruned_shape, pruned_tensors) = prune(&shape, &tensors);
    let pruned = measure(&pruned_shape, &pruned_tensors, case.batch, steps);
    print_rates(case.preset, "gohsp40", case.batch, param_count(&pruned_shape), &pruned);
    let heads: Vec<usize> = pruned_shape.blocks.iter().map(|b| b.heads).collect();
    let achieved = 1.0 - param_count(&pruned_shape) as f64 / param_count(&shape) as f64;
    println!(
        "model={} pruned/dense sparsity={achieved:.3} heads_per_block={heads:?} train_speedup={:.2} infer_speedup={:.2}",
        case.preset,
        pruned.train_images_per_s / dense.train_images_per_s,
        pruned.infer_images_per_s / dense.infer_images_per_s
    );
}

fn main() {
    let steps = env_usize("GOHSP_BENCH_STEPS", 10).max(1);
    let threads = env_usize("GOHSP_BENCH_THREADS", 2).max(1);
    let in_pool = std::env::var("GOHSP_BENCH_POOL").map_or(true, |v| v != "0");
    let wanted = std::env::var("GOHSP_BENCH_MODELS").unwrap_or_else(|_| "deit_tiny,vit_mnist".to_string());
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("the first pool built here");
    println!(
        "# gohsp throughput: burn flex backend, {threads} rayon threads, {} pool, {steps} timed training steps \
         (median) after {WARMUP} warm-up, {} inference passes (median)",
        if in_pool { "inside the" } else { "outside the" },
        2 * steps
    );
    let start = Instant::now();
    for case in CASES.iter().filter(|c| wanted.split(',').any(|w| w.trim() == c.preset)) {
        if in_pool {
            // burn-flex runs its kernels on rayon's pool: driving it from a pool thread keeps 2 threads on 2 cores
            // instead of the caller plus 2 workers.
            rayon::scope(|_| run_case(case, steps));
        } else {
            run_case(case, steps);
        }
    }
    println!("# total {:.1} s", start.elapsed().as_secs_f64());
}
