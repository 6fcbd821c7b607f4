//! Data-loading throughput of the ImageNet-folder path at 224 px (decode, random-resized crop + flip, or resize +
//! centre crop, normalise, batch) next to DeiT-Tiny's training step in the same process: does data keep up?
//!
//! `cargo bench --bench loader`. Knobs: GOHSP_BENCH_STEPS (timed training steps, default 10), GOHSP_BENCH_THREADS
//! (rayon threads, default 2), GOHSP_BENCH_EPOCHS (timed loader epochs, default 3), GOHSP_BENCH_FILES (images per
//! split, default 200).

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use gohsp::data::dataset::{Dataset, Splits};
use gohsp::data::folder::load_folder_splits;
use gohsp::data::loader::{Batch, Loader};
use gohsp::data::recipe::{eval_transform, train_transform};
use gohsp::model::build::build_vit;
use gohsp::model::init::init_tensors;
use gohsp::model::presets::preset;
use gohsp::train::batch::{batch_tensors, count_correct};
use gohsp::train::objective::{CrossEntropy, Objective};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The model's input side.
const SIDE: usize = 224;
/// DeiT-Tiny's benchmark batch.
const TRAIN_BATCH: usize = 8;
/// Loader batch for the loader-only measurements.
const LOADER_BATCH: usize = 64;
/// Class folders of the generated tree.
const CLASSES: usize = 4;
/// Untimed warm-up epochs or steps.
const WARMUP: usize = 1;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The machine's 1-minute load average, as text.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or("?".into(), |l| l.split_whitespace().next().unwrap_or("?").into())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `root/{train,val}/class_k/` holding `files` copies (per split) of the fixture JPEGs (512x512), spread over the
/// class folders.
fn make_tree(root: &Path, files: usize) -> usize {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images");
    let mut jpegs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("tests/fixtures/images")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    jpegs.sort();
    assert!(!jpegs.is_empty(), "no JPEG in {}", fixtures.display());
    for split in ["train", "val"] {
        for i in 0..files {
            let dir = root.join(split).join(format!("class_{}", i % CLASSES));
            std::fs::create_dir_all(&dir).expect("create class folder");
            std::fs::copy(&jpegs[i % jpegs.len()], dir.join(format!("img_{i:05}.jpg"))).expect("copy fixture");
        }
    }
    jpegs.len()
}

/// Median images/s over `epochs` full epochs of `loader` (after one untimed epoch).
fn loader_rate(loader: &Loader, epochs: usize) -> f64 {
    let mut times = Vec::new();
    for epoch in 0..WARMUP + epochs {
        let start = Instant::now();
        let mut images = 0;
        for batch in loader.epoch(epoch) {
            let batch = batch.expect("batch decodes");
            assert_eq!(&batch.shape[1..], &[3, SIDE, SIDE]);
            images += batch.labels.len();
        }
        assert_eq!(images, loader.len());
        if epoch >= WARMUP {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    loader.len() as f64 / median(times)
}

/// Median images/s of decoding alone (JPEG to RGB f32 at native size), in parallel over every file.
fn decode_rate(dataset: &Arc<dyn Dataset>, epochs: usize) -> f64 {
    let mut times = Vec::new();
    for round in 0..WARMUP + epochs {
        let start = Instant::now();
        let pixels: usize =
            (0..dataset.len()).into_par_iter().map(|i| dataset.get(i).expect("decodes").0.pixels.len()).sum();
        assert!(pixels > 0);
        if round >= WARMUP {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    dataset.len() as f64 / median(times)
}

/// Median images/s of DeiT-Tiny training steps (as `Trainer::run_epoch` runs them) on `batches`; the first `WARMUP`
/// are untimed. When `batches` come from a loader's epoch, decoding competes with training for the cores as in a
/// real run.
fn training_rate(batches: impl Iterator<Item = Batch>, steps: usize) -> f64 {
    let shape = preset("deit_tiny", CLASSES).expect("deit_tiny");
    let device = Device::flex().autodiff();
    let tensors = init_tensors(&shape, 0);
    let mut model = build_vit(&shape, &tensors, &device, Path::new("<random init>")).expect("random init fits");
    let objective = CrossEntropy::new(0.1, &device);
    let mut optim =
        AdamWConfig::new().with_weight_decay(0.05).with_grad_clipping(Some(GradientClippingConfig::Norm(1.0))).init();
    let mut times = Vec::new();
    let mut start = Instant::now();
    for (step, batch) in batches.take(WARMUP + steps).enumerate() {
        let (images, labels, host_labels) = batch_tensors(batch, &device);
        let (loss, logits) = objective.loss(&model, images, labels);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-4, model, grads);
        assert!(loss.into_scalar::<f32>().is_finite());
        let _ = count_correct(logits.inner(), &host_labels, 1);
        // Each step's time includes waiting for its batch: the clock restarts only after a step ends.
        if step >= WARMUP {
            times.push(start.elapsed().as_secs_f64() / host_labels.len() as f64);
        }
        start = Instant::now();
    }
    assert!(!times.is_empty(), "no training step ran");
    1.0 / median(times)
}

fn main() {
    let steps = env_usize("GOHSP_BENCH_STEPS", 10).max(1);
    let threads = env_usize("GOHSP_BENCH_THREADS", 2).max(1);
    let epochs = env_usize("GOHSP_BENCH_EPOCHS", 3).max(1);
    let files = env_usize("GOHSP_BENCH_FILES", 200).max(CLASSES);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("the first pool built here");
    let root = tempfile::tempdir().expect("temp dir");
    let sources = make_tree(root.path(), files);
    let Splits { train, test } = load_folder_splits(root.path(), SIDE).expect("generated tree loads");
    println!(
        "# gohsp loader: ImageNet folder, {files} files per split ({sources} distinct 512x512 JPEGs, {CLASSES} \
         classes), {SIDE} px, {threads} rayon threads, loader batch {LOADER_BATCH}, median of {epochs} epochs; load \
         average {}",
        load_average()
    );
    let info = train.info().clone();
    let train_loader = Loader::new(train.clone(), train_transform(&info, SIDE, true), LOADER_BATCH, true, 0);
    let eval_loader = Loader::new(test.clone(), eval_transform(test.info(), SIDE), LOADER_BATCH, false, 0);
    let decode = decode_rate(&train, epochs);
    let train_load = loader_rate(&train_loader, epochs);
    let eval_load = loader_rate(&eval_loader, epochs);
    println!("loader=decode_only images_per_s={decode:.1}");
    println!("loader=train_transform transform=random_resized_crop+flip images_per_s={train_load:.1}");
    println!("loader=eval_transform transform=resize+center_crop images_per_s={eval_load:.1}");
    let measure_training = || {
        let host = train_loader.make_batch(&(0..TRAIN_BATCH).collect::<Vec<_>>(), 0).expect("one batch");
        let synthetic = training_rate(std::iter::repeat(host), steps);
        let fed_loader = Loader::new(train.clone(), train_transform(&info, SIDE, true), TRAIN_BATCH, true, 0);
        let batches = (0..).flat_map(|epoch| fed_loader.epoch(epoch).into_iter().map(|b| b.expect("batch decodes")));
        (synthetic, training_rate(batches, steps))
    };
    // Training runs inside rayon's pool (as throughput.rs does), except on a one-thread pool: there the pool's only
    // thread would block waiting for a batch whose decoding is queued on that same pool, a deadlock.
    let (synthetic, fed) = if threads > 1 { rayon::scope(|_| measure_training()) } else { measure_training() };
    println!("train=deit_tiny batch={TRAIN_BATCH} source=one_batch_reused train_images_per_s={synthetic:.2}");
    println!("train=deit_tiny batch={TRAIN_BATCH} source=loader train_images_per_s={fed:.2}");
    println!(
        "ratio loader/training={:.1} (train_transform loader vs DeiT-Tiny training step); fed/synthetic training={:.3}",
        train_load / synthetic,
        fed / synthetic
    );
}
