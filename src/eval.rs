//! Evaluation: top-1/top-5 accuracy over a loader, and forward-pass latency and throughput.

use crate::data::loader::Loader;
use crate::error::Result;
use crate::model::vit::Vit;
use crate::train::batch::{batch_tensors, count_correct};
use crate::train::pool::on_compute_pool;
use burn::tensor::{Device, Tensor};
use std::time::Instant;

/// Accuracy of a model on a test set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// Top-1 in percent.
    pub top1: f64,
    /// Top-5 in percent.
    pub top5: f64,
    /// Images evaluated.
    pub images: usize,
}

/// Top-1 and top-5 of `model` (plain device) on every batch of `loader`, on rayon's pool.
pub fn accuracy(model: &Vit, loader: &Loader) -> Result<Accuracy> {
    on_compute_pool(|| accuracy_here(model, loader))
}

fn accuracy_here(model: &Vit, loader: &Loader) -> Result<Accuracy> {
    let device = model.device();
    let (mut top1, mut top5, mut images) = (0, 0, 0);
    for batch in loader.epoch(0) {
        let batch = batch?;
        let (x, _, labels) = batch_tensors(batch, &device);
        let (c1, c5) = count_correct(model.forward(x), &labels, 5);
        top1 += c1;
        top5 += c5;
        images += labels.len();
    }
    let pct = |c: usize| 100.0 * c as f64 / images.max(1) as f64;
    Ok(Accuracy { top1: pct(top1), top5: pct(top5), images })
}

/// Latency of the forward pass at one batch size.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    /// Batch size.
    pub batch: usize,
    /// Median wall time of one forward pass, in milliseconds.
    pub median_ms: f64,
    /// Images per second at that median.
    pub images_per_s: f64,
}

/// Median forward latency of `model` on random inputs of `batch` images, after `warmup` untimed passes, timed on
/// rayon's pool as training and evaluation run.
pub fn latency(model: &Vit, batch: usize, warmup: usize, runs: usize) -> Latency {
    on_compute_pool(|| latency_here(model, batch, warmup, runs))
}

fn latency_here(model: &Vit, batch: usize, warmup: usize, runs: usize) -> Latency {
    let device: Device = model.device();
    let shape = model.shape();
    let input = Tensor::<4>::random(
        [batch, shape.in_chans, shape.image_size, shape.image_size],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let run_once = || {
        let start = Instant::now();
        let out = model.forward(input.clone());
        let _ = out.into_data();
        start.elapsed().as_secs_f64()
    };
    let median = median_seconds(warmup, runs, run_once);
    Latency { batch, median_ms: median * 1e3, images_per_s: batch as f64 / median }
}

/// Calls `time_once` `warmup` times without keeping the result, then `runs` times (at least once), and returns the
/// median of the kept seconds (the upper one of an even count).
pub fn median_seconds(warmup: usize, runs: usize, mut time_once: impl FnMut() -> f64) -> f64 {
    (0..warmup).for_each(|_| {
        time_once();
    });
    let mut times: Vec<f64> = (0..runs.max(1)).map(|_| time_once()).collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
