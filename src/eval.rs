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

/// How a latency is timed: `warmup` untimed passes, then at least `runs` timed ones, and more until the timed passes
/// add up to `min_seconds` (at most `MAX_RUNS_PER_RUN` times `runs` in all). A batch-1 pass of a small model takes
/// about a millisecond, so ten of them are over in 10 ms, too short a window on a shared machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Passes {
    /// Untimed passes first.
    pub warmup: usize,
    /// Timed passes at least (one at least).
    pub runs: usize,
    /// Seconds the timed passes add up to at least.
    pub min_seconds: f64,
}

/// The most timed passes `Passes` takes, per pass of `runs`.
pub const MAX_RUNS_PER_RUN: usize = 100;

impl Passes {
    /// Whether the timing stops after `done` timed passes that took `seconds` in all.
    fn enough(&self, done: usize, seconds: f64) -> bool {
        let runs = self.runs.max(1);
        done >= runs && (seconds >= self.min_seconds || done >= runs * MAX_RUNS_PER_RUN)
    }
}

/// Median forward latency of `model` on random inputs of `batch` images over `passes`, timed on rayon's pool as
/// training and evaluation run.
pub fn latency(model: &Vit, batch: usize, passes: Passes) -> Latency {
    on_compute_pool(|| {
        let mut pass = timed_pass(model, batch);
        latency_of(batch, median_seconds(passes, &mut pass))
    })
}

/// Median forward latencies of `model` and `reference` (a pruned model and its dense one), their passes interleaved
/// (`paired_median_seconds`) so that both are timed over the same stretch of time: timed one after the other, a burst
/// of load on a shared machine could land on one model only and turn a speedup into a slowdown.
pub fn paired_latency(model: &Vit, reference: &Vit, batch: usize, passes: Passes) -> (Latency, Latency) {
    on_compute_pool(|| {
        let (mut pass, mut reference_pass) = (timed_pass(model, batch), timed_pass(reference, batch));
        let (own, other) = paired_median_seconds(passes, &mut pass, &mut reference_pass);
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
/// interleaved likewise, and the timing goes on until both have had enough (`Passes`). Returns the median seconds of
/// `a` and of `b`.
pub fn paired_median_seconds(passes: Passes, mut a: impl FnMut() -> f64, mut b: impl FnMut() -> f64) -> (f64, f64) {
    let mut pair = |round: usize| {
        if round.is_multiple_of(2) {
            (a(), b())
        } else {
            let (time_b, time_a) = (b(), a());
            (time_a, time_b)
        }
    };
    (0..passes.warmup).for_each(|round| {
        pair(round);
    });
    let (mut times_a, mut times_b) = (Vec::new(), Vec::new());
    let (mut total_a, mut total_b) = (0.0, 0.0);
    while !(passes.enough(times_a.len(), total_a) && passes.enough(times_b.len(), total_b)) {
        let (time_a, time_b) = pair(passes.warmup + times_a.len());
        (total_a, total_b) = (total_a + time_a, total_b + time_b);
        times_a.push(time_a);
        times_b.push(time_b);
    }
    (upper_median(times_a), upper_median(times_b))
}

/// Calls `time_once` for the warm-up without keeping the result, then for the timed passes (`Passes`), and returns
/// the median of the kept seconds (the upper one of an even count).
pub fn median_seconds(passes: Passes, mut time_once: impl FnMut() -> f64) -> f64 {
    (0..passes.warmup).for_each(|_| {
        time_once();
    });
    let (mut times, mut total) = (Vec::new(), 0.0);
    while !passes.enough(times.len(), total) {
        let time = time_once();
        total += time;
        times.push(time);
    }
    upper_median(times)
}

/// The median of `times` (the upper one of an even count); `times` must not be empty.
fn upper_median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
