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
    on_compute_pool(|| {
        let mut pass = timed_pass(model, batch);
        latency_of(batch, median_seconds(warmup, runs, &mut pass))
    })
}

/// Median forward latencies of `model` and `reference` (a pruned model and its dense one), their passes interleaved
/// (`paired_median_seconds`) so that both are timed over the same stretch of time: timed one after the other, a burst
/// of load on a shared machine could land on one model only and turn a speedup into a slowdown.
pub fn paired_latency(model: &Vit, reference: &Vit, batch: usize, warmup: usize, runs: usize) -> (Latency, Latency) {
    on_compute_pool(|| {
        let (mut pass, mut reference_pass) = (timed_pass(model, batch), timed_pass(reference, batch));
        let (own, other) = paired_median_seconds(warmup, runs, &mut pass, &mut reference_pass);
        (latency_of(batch, own), latency_of(batch, other))
    })
}

/// One timed forward pass of `model` on a fixed random batch, read back to the host; returns its seconds.
fn timed_pass(model: &Vit, batch: usize) -> impl FnMut() -> f64 + '_ {
    let device: Device = model.device();
    let shape = model.shape();
    let input = Tensor::<4>::random(
        [batch, shape.in_chans, shape.image_size, shape.image_size],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    move || {
        let start = Instant::now();
        let out = model.forward(input.clone());
        let _ = out.into_data();
        start.elapsed().as_secs_f64()
    }
}

/// The latency record of a median pass of `median` seconds over `batch` images.
fn latency_of(batch: usize, median: f64) -> Latency {
    Latency { batch, median_ms: median * 1e3, images_per_s: batch as f64 / median }
}

/// `median_seconds` for two timings at once, their calls interleaved A B B A A B B A ... (the order alternates, so
/// neither always runs first, right after the other has warmed or cooled the caches); the warm-up passes are
/// interleaved likewise. Returns the median seconds of `a` and of `b`.
pub fn paired_median_seconds(
    warmup: usize,
    runs: usize,
    mut a: impl FnMut() -> f64,
    mut b: impl FnMut() -> f64,
) -> (f64, f64) {
    let mut pair = |round: usize| {
        if round.is_multiple_of(2) {
            (a(), b())
        } else {
            let (time_b, time_a) = (b(), a());
            (time_a, time_b)
        }
    };
    (0..warmup).for_each(|round| {
        pair(round);
    });
    let (times_a, times_b): (Vec<f64>, Vec<f64>) = (0..runs.max(1)).map(|round| pair(warmup + round)).unzip();
    (upper_median(times_a), upper_median(times_b))
}

/// Calls `time_once` `warmup` times without keeping the result, then `runs` times (at least once), and returns the
/// median of the kept seconds (the upper one of an even count).
pub fn median_seconds(warmup: usize, runs: usize, mut time_once: impl FnMut() -> f64) -> f64 {
    (0..warmup).for_each(|_| {
        time_once();
    });
    upper_median((0..runs.max(1)).map(|_| time_once()).collect())
}

/// The median of `times` (the upper one of an even count); `times` must not be empty.
fn upper_median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
