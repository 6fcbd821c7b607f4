//! The typed experiment spec (docs/design.md section 5): one grid point's fully resolved settings, every knob with its default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use crate::prune::admm_spec::AdmmSpec;
pub use crate::prune::head_share::HeadShare;
pub use crate::prune::method::Method;
pub use crate::prune::rank_spec::{Direction, Normalize, RankSpec, Signal, Similarity, Sink, Teleport};
pub use crate::train::distill_spec::DistillSpec;

/// One grid point of an experiment: every list axis already expanded to a single value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Spec {
    /// Experiment name; results go under results/runs/NAME.
    pub name: String,
    /// Seed for initialisation, shuffling, calibration and random baselines.
    pub seed: u64,
    /// Compute device: `cpu` (burn flex) or `cuda` (needs the `cuda` cargo feature).
    pub device: DeviceKind,
    /// The dense model.
    pub model: ModelSpec,
    /// The data.
    pub dataset: DatasetSpec,
    /// Training of the dense model when `model.weights` is absent.
    pub pretrain: TrainSpec,
    /// Pruning method.
    pub method: Method,
    /// Fraction of the dense model's parameters to remove.
    pub sparsity: f64,
    /// Graph-based head ranking.
    pub rank: RankSpec,
    /// ADMM sparsification.
    pub admm: AdmmSpec,
    /// Fine-tuning of the pruned model.
    pub finetune: FinetuneSpec,
    /// Evaluation settings (not part of training keys).
    pub evaluate: EvaluateSpec,
    /// Report settings (not part of training keys).
    pub report: ReportSpec,
    /// Models written in other runtimes' formats beside the report (the dense one and every pruned one).
    pub export: ExportSpec,
    /// Where the nodes run: this process or Slurm jobs (not part of any key).
    pub executor: super::executor::ExecutorSpec,
}

/// Which burn backend runs the tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn's flex CPU backend.
    #[default]
    Cpu,
    /// burn's CUDA backend (cargo feature `cuda`).
    Cuda,
}

impl DeviceKind {
    /// The name as specs and `--device` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        }
    }
}

/// The dense model: a preset, optional explicit overrides, optional pretrained weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSpec {
    /// `vit_mnist`, `deit_tiny`, `deit_small`, `vit_small`, `deit_base`.
    pub preset: String,
    /// A safetensors checkpoint (timm, Hugging Face or gohsp names); shapes come from the file.
    pub weights: Option<PathBuf>,
    /// Override: input side in pixels.
    pub image_size: Option<usize>,
    /// Override: patch side.
    pub patch_size: Option<usize>,
    /// Override: input channels.
    pub in_chans: Option<usize>,
    /// Override: classes (defaults to the dataset's).
    pub num_classes: Option<usize>,
    /// Override: embedding width.
    pub dim: Option<usize>,
    /// Override: number of blocks.
    pub depth: Option<usize>,
    /// Override: heads per block.
    pub heads: Option<usize>,
    /// Override: MLP width as a multiple of dim.
    pub mlp_ratio: Option<f64>,
}

/// Which data, where, and how much of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatasetSpec {
    /// `mnist5k` (embedded), `mnist`, `fashion_mnist`, `cifar10`, `cifar100`, `imagefolder`.
    pub name: String,
    /// Folder holding the files (required for cifar and imagefolder; searched for mnist and fashion_mnist).
    pub root: Option<PathBuf>,
    /// Use only the first N training samples.
    pub limit: Option<usize>,
    /// Use only the first N test samples.
    pub test_limit: Option<usize>,
    /// Random augmentation during training (shifts for MNIST-like, crop+flip for RGB).
    pub augment: bool,
    /// Fraction of the training set held out (seeded) and evaluated on instead of the test split, for choosing
    /// hyperparameters without looking at the test split; 0 = train on all of it and evaluate on the test split.
    pub holdout: f64,
}

/// An optimisation recipe: AdamW with warm-up and cosine decay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSpec {
    /// Number of epochs (at least 1).
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Batch size.
    pub batch: usize,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Fraction of the steps spent warming up linearly from lr/25 (one-cycle style).
    pub warmup_frac: f64,
    /// Final learning rate of the cosine decay.
    pub min_lr: f64,
    /// Label smoothing of the cross-entropy.
    pub label_smoothing: f64,
    /// Per-tensor gradient-norm clip (none when absent): each parameter's gradient is scaled down to this L2 norm on
    /// its own (burn's `GradientClipping::Norm`), not one global norm over all parameters as PyTorch's
    /// `clip_grad_norm_` does.
    pub grad_clip: Option<f64>,
}

/// Fine-tuning of the pruned model: the same recipe as pre-training, optionally distilled from the dense one.
///
/// The recipe's keys sit directly under `finetune` (`finetune.lr`, not `finetune.recipe.lr`), so the section reads
/// like `pretrain` and serialises (cache keys included) exactly as when it was a separate struct. Unknown keys are
/// caught before this type is built, against the schema tree of the defaults (`spec::keys`), with a suggestion; serde
/// cannot deny them here because the recipe is flattened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FinetuneSpec {
    /// Epochs, learning rate, batch and the rest of the optimisation recipe.
    #[serde(flatten)]
    pub recipe: TrainSpec,
    /// Knowledge distillation from the dense model; absent = plain cross-entropy.
    pub distill: Option<DistillSpec>,
}

/// Evaluation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluateSpec {
    /// Batch sizes at which latency is measured.
    pub latency_batches: Vec<usize>,
    /// Timed forward passes per batch size at least (the median is reported).
    pub latency_runs: usize,
    /// Seconds the timed passes of each model add up to at least, with more passes than `latency_runs` where they are
    /// quick (batch 1): ten passes of a millisecond are too short a window on a shared machine. 0 times exactly
    /// `latency_runs` passes; at most 600.
    pub latency_seconds: f64,
    /// Untimed warm-up passes.
    pub warmup: usize,
    /// Batch size of the accuracy pass.
    pub batch: usize,
}

/// Export settings: which formats every model of the run is written in, beside the report.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportSpec {
    /// Formats: `onnx`. Empty (the default) exports nothing.
    pub formats: Vec<String>,
}

/// Report settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSpec {
    /// Table formats: `md`, `csv`, `tex`.
    pub formats: Vec<String>,
    /// Plot formats: `svg`, `png`.
    pub plots: Vec<String>,
    /// Judge every head criterion (the spec's graph variants, weight norm, Taylor, random) against the oracle of
    /// masking one head at a time in each dense model, on the held-out split: a rank-quality table, plot and CSVs.
    pub rank_quality: bool,
    /// Where the report is published (default: `RESULTS/NAME`, beside the cache). The committed reference reports
    /// set `docs/results/NAME`. Not part of any key.
    pub dir: Option<PathBuf>,
}
