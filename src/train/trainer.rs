//! The training loop: AdamW with warm-up + cosine schedule and gradient clipping, epoch checkpoints and resume.

use super::adamw::FusedAdamW;
use super::batch::{batch_tensors, count_correct};
use super::checkpoint::{CheckpointDir, Extras, Progress};
use super::log::EpochLog;
use super::objective::Objective;
use super::pool::on_compute_pool;
use super::progress::EpochBar;
use super::schedule::Schedule;
use crate::data::loader::Loader;
use crate::error::Result;
use crate::model::vit::Vit;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use std::path::Path;
use std::time::Instant;

/// The optimisation recipe of one training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Epochs.
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Final learning rate.
    pub min_lr: f64,
    /// Fraction of steps warming up.
    pub warmup_frac: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Per-tensor gradient-norm clip (burn's `GradientClipping::Norm`).
    pub grad_clip: Option<f64>,
}

/// A training run in progress: the optimizer and schedule shared across epochs.
pub struct Trainer {
    optim: ModuleOptimizer,
    schedule: Schedule,
    steps_per_epoch: usize,
    label: String,
}

/// AdamW with the config's weight decay and per-tensor gradient clipping (what burn's `AdamWConfig::init` builds, with
/// the fused step of `train::adamw`).
pub fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let optim = ModuleOptimizer::from(FusedAdamW::new(config.weight_decay as f32));
    match config.grad_clip {
        Some(clip) => optim.with_grad_clipping(GradientClippingConfig::Norm(clip as f32).init()),
        None => optim,
    }
}

impl Trainer {
    /// A trainer for `epochs` of `loader`'s batches; `label` names the run in logs.
    pub fn new(config: &TrainConfig, loader: &Loader, label: &str) -> Self {
        let steps_per_epoch = loader.batches_per_epoch();
        let schedule = Schedule::new(config.lr, config.min_lr, config.warmup_frac, config.epochs * steps_per_epoch);
        Self { optim: optimizer(config), schedule, steps_per_epoch, label: label.to_string() }
    }

    /// Run epoch `epoch` (0-based) of `loader` on `model` (autodiff device), minimising `objective`; the steps run
    /// on rayon's pool (see `train::pool`).
    pub fn run_epoch(
        &mut self,
        model: Vit,
        objective: &dyn Objective,
        loader: &Loader,
        epoch: usize,
    ) -> Result<(Vit, EpochLog)> {
        on_compute_pool(|| self.epoch_steps(model, objective, loader, epoch))
    }

    fn epoch_steps(
        &mut self,
        mut model: Vit,
        objective: &dyn Objective,
        loader: &Loader,
        epoch: usize,
    ) -> Result<(Vit, EpochLog)> {
        let device = model.device();
        let start = Instant::now();
        let bar = EpochBar::new(&self.label, epoch + 1, loader.batches_per_epoch());
        let (mut loss_sum, mut correct, mut seen, mut lr) = (0.0, 0, 0, 0.0);
        for (step, batch) in loader.epoch(epoch).into_iter().enumerate() {
            let batch = batch?;
            let (images, labels, host_labels) = batch_tensors(batch, &device);
            let (loss, logits) = objective.loss(&model, images, labels);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            lr = self.schedule.lr(epoch * self.steps_per_epoch + step);
            model = self.optim.step(lr, model, grads);
            let batch_loss = loss.into_scalar::<f32>() as f64;
            loss_sum += batch_loss * host_labels.len() as f64;
            correct += count_correct(logits.inner(), &host_labels, 1).0;
            seen += host_labels.len();
            bar.step(batch_loss);
        }
        bar.finish();
        let seconds = start.elapsed().as_secs_f64();
        let log = EpochLog {
            epoch: epoch + 1,
            loss: loss_sum / seen.max(1) as f64,
            train_top1: 100.0 * correct as f64 / seen.max(1) as f64,
            lr,
            seconds,
            images_per_s: seen as f64 / seconds,
        };
        Ok((model, log))
    }

    /// Save model, optimizer state, progress and `extras` into `checkpoints` as one atomic checkpoint.
    pub fn save_checkpoint(
        &self,
        checkpoints: &CheckpointDir,
        model: &Vit,
        progress: &Progress,
        extras: &Extras,
    ) -> Result<()> {
        checkpoints.save(model, &self.optim, progress, extras)
    }

    /// Restore the newest complete checkpoint a previous run left in `checkpoints` (model on `device`), if any, with
    /// the extra files saved beside it.
    pub fn resume(&mut self, checkpoints: &CheckpointDir, device: &Device) -> Result<Option<(Vit, Progress, Extras)>> {
        let Some(restored) = checkpoints.load(device, self.optim.clone())? else { return Ok(None) };
        let (saved, optim, progress) = (restored.model, restored.optim, restored.progress);
        tracing::info!(run = %self.label, epoch = progress.epochs_done, "resuming from the checkpoint of epoch {}", progress.epochs_done);
        self.optim = optim;
        Ok(Some((saved.train(), progress, restored.extras)))
    }

    /// Train for all epochs, checkpointing each into `work_dir` and resuming from it when a previous run stopped.
    pub fn fit(
        mut self,
        model: Vit,
        objective: &dyn Objective,
        loader: &Loader,
        epochs: usize,
        work_dir: &Path,
    ) -> Result<(Vit, Vec<EpochLog>)> {
        let checkpoints = CheckpointDir::new(work_dir);
        let (mut model, mut progress) = match self.resume(&checkpoints, &model.device())? {
            Some((saved, progress, _)) => (saved, progress),
            None => (model, Progress::default()),
        };
        for epoch in progress.epochs_done..epochs {
            let (next, log) = self.run_epoch(model, objective, loader, epoch)?;
            model = next;
            progress.logs.push(log.clone());
            progress.epochs_done = epoch + 1;
            self.save_checkpoint(&checkpoints, &model, &progress, &Extras::new())?;
            log_epoch(&self.label, &log);
            super::interrupt::stop_if_requested(&self.label, progress.epochs_done)?;
        }
        Ok((model, progress.logs))
    }
}

/// One log line per finished epoch.
pub fn log_epoch(label: &str, log: &EpochLog) {
    tracing::info!(run = %label, epoch = log.epoch, loss = format!("{:.4}", log.loss), train_top1 = format!("{:.2}", log.train_top1), images_per_s = format!("{:.0}", log.images_per_s), "epoch done");
}
