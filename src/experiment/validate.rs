//! The value rules of a typed spec (docs/design.md section 5): ranges, known names and existing paths, each broken rule a
//! problem naming its dotted key.

use super::checks::Checks;
use super::interval::Interval;
use super::origin::KeyProblem;
use super::types::{
    AdmmSpec, DatasetSpec, Direction, EvaluateSpec, FinetuneSpec, HeadShare, Method, ModelSpec, RankSpec, ReportSpec,
    Sink, Spec, Teleport, TrainSpec,
};

use crate::data::open::DATASETS;
use crate::model::presets::PRESETS;

/// Formats a model can be exported to.
const EXPORT_FORMATS: &[&str] = &["onnx"];
/// Table formats of the report.
pub(crate) const TABLE_FORMATS: &[&str] = &["md", "csv", "tex"];
/// Plot formats of the report.
pub(crate) const PLOT_FORMATS: &[&str] = &["svg", "png"];

/// Every rule `spec` breaks, in spec order; empty when the spec is valid.
pub(crate) fn problems(spec: &Spec) -> Vec<KeyProblem> {
    let mut checks = Checks::default();
    check_name(&mut checks, &spec.name);
    checks.within(
        "sparsity",
        spec.sparsity,
        Interval::below(0.0, 0.95),
        "the fraction of parameters removed, e.g. 0.4",
    );
    check_dataset(&mut checks, &spec.dataset);
    check_model(&mut checks, &spec.model);
    check_train(&mut checks, "pretrain", &spec.pretrain);
    check_rank(&mut checks, &spec.rank);
    check_graph_reaches_every_head(&mut checks, spec);
    check_admm(&mut checks, &spec.admm);
    check_finetune(&mut checks, &spec.finetune);
    check_evaluate(&mut checks, &spec.evaluate);
    check_report(&mut checks, &spec.report);
    for format in &spec.export.formats {
        checks.one_of("export.formats", format, EXPORT_FORMATS, "export format");
    }
    checks.problems
}

/// The experiment name becomes a folder name: not empty, no path separators.
fn check_name(checks: &mut Checks, name: &str) {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
        checks.fail("name", format!("`{name}` cannot name a results folder"), "use letters, digits, `_`, `-` and `.`");
    }
}

/// The preset, the weights file and the explicit shape overrides.
fn check_model(checks: &mut Checks, model: &ModelSpec) {
    checks.one_of("model.preset", &model.preset, PRESETS, "preset");
    checks.existing("model.weights", model.weights.as_deref(), false, "weights file", WEIGHTS_HINT);
    let sizes = [
        ("image_size", model.image_size),
        ("patch_size", model.patch_size),
        ("in_chans", model.in_chans),
        ("num_classes", model.num_classes),
        ("dim", model.dim),
        ("depth", model.depth),
        ("heads", model.heads),
    ];
    for (field, value) in sizes {
        if let Some(value) = value {
            checks.at_least(&format!("model.{field}"), value, 1, "leave it out to use the preset's value");
        }
    }
    check_heads_divide_dim(checks, model);
    if let Some(ratio) = model.mlp_ratio {
        checks.within("model.mlp_ratio", ratio, Interval::POSITIVE, "e.g. 4.0");
    }
}

/// Without a weights file the width is split into equal heads: `model.dim` (or the preset's) must be a multiple of
/// `model.heads` (or the preset's).
fn check_heads_divide_dim(checks: &mut Checks, model: &ModelSpec) {
    let Ok(base) = crate::model::presets::preset(&model.preset, 10) else { return };
    if model.weights.is_some() {
        return;
    }
    let dim = model.dim.unwrap_or(base.dim);
    let heads = model.heads.unwrap_or(base.blocks[0].heads);
    if heads > 0 && !dim.is_multiple_of(heads) {
        let message = format!("model.dim {dim} is not divisible by model.heads {heads}");
        let divisors: Vec<String> =
            (1..=dim.min(16)).filter(|h| dim.is_multiple_of(*h)).map(|h| h.to_string()).collect();
        checks.fail(
            "model.heads",
            message,
            &format!("pick model.heads dividing model.dim, e.g. one of {}", divisors.join(", ")),
        );
    }
}

/// What to do about a missing `model.weights` file.
const WEIGHTS_HINT: &str = "gohsp never downloads weights: get the safetensors checkpoint (timm or Hugging Face names; the spec's comments and the README say where) and point model.weights at it";

/// What to do about a missing `dataset.root` folder of dataset `name`.
fn root_hint(name: &str) -> &'static str {
    match name {
        "imagefolder" => {
            "ImageNet cannot be downloaded automatically: get ILSVRC2012 from image-net.org and arrange train/ and val/ in one folder per class"
        }
        "cifar10" => "run `gohsp data fetch cifar10`, or leave dataset.root out to search the usual places",
        "cifar100" => "run `gohsp data fetch cifar100`, or leave dataset.root out to search the usual places",
        "mnist" => "run `gohsp data fetch mnist`, or leave dataset.root out to search the usual places",
        "fashion_mnist" => {
            "run `gohsp data fetch fashion_mnist` or `apt-get install dataset-fashion-mnist`, or leave dataset.root out"
        }
        _ => "point dataset.root at an existing folder",
    }
}

/// The dataset name, its root folder and the sample limits.
fn check_dataset(checks: &mut Checks, dataset: &DatasetSpec) {
    checks.one_of("dataset.name", &dataset.name, DATASETS, "dataset");
    checks.existing("dataset.root", dataset.root.as_deref(), true, "dataset root", root_hint(&dataset.name));
    for (key, limit) in [("dataset.limit", dataset.limit), ("dataset.test_limit", dataset.test_limit)] {
        if let Some(limit) = limit {
            checks.at_least(key, limit, 1, "leave it out to use every sample");
        }
    }
    checks.within(
        "dataset.holdout",
        dataset.holdout,
        Interval::closed(0.0, 0.5),
        "e.g. 0.1 while choosing hyperparameters, else 0",
    );
}

/// The optimisation recipe at `prefix` (`pretrain` or `finetune`).
fn check_train(checks: &mut Checks, prefix: &str, train: &TrainSpec) {
    let key = |field: &str| format!("{prefix}.{field}");
    checks.at_least(&key("epochs"), train.epochs, 1, "train for at least one epoch");
    checks.within(&key("lr"), train.lr, Interval::POSITIVE, "e.g. 1.0e-3");
    checks.at_least(&key("batch"), train.batch, 1, "e.g. 128");
    checks.within(&key("weight_decay"), train.weight_decay, Interval::NON_NEGATIVE, "e.g. 0.05");
    checks.within(&key("warmup_frac"), train.warmup_frac, Interval::FRACTION, "a fraction of the steps, e.g. 0.1");
    checks.within(&key("min_lr"), train.min_lr, Interval::NON_NEGATIVE, "e.g. 1.0e-6");
    checks.within(&key("label_smoothing"), train.label_smoothing, Interval::below(0.0, 1.0), "e.g. 0.1");
    if let Some(clip) = train.grad_clip {
        checks.within(&key("grad_clip"), clip, Interval::POSITIVE, "use null for no clipping");
    }
}

/// The head-ranking settings.
fn check_rank(checks: &mut Checks, rank: &RankSpec) {
    checks.at_least("rank.calib_samples", rank.calib_samples, 1, "e.g. 512");
    checks.within("rank.damping", rank.damping, Interval::open(0.0, 1.0), "PageRank's usual value is 0.85");
    checks.within("rank.tol", rank.tol, Interval::POSITIVE, "e.g. 1.0e-10");
    checks.at_least("rank.max_iter", rank.max_iter, 1, "e.g. 1000");
    checks.at_least("rank.min_heads", rank.min_heads, 1, "every block keeps at least one head");
    if let HeadShare::Fraction(share) = rank.head_share {
        checks.within("rank.head_share", share, Interval::FRACTION, "`auto` or a number in [0, 1]");
    }
}

/// A graph-ranked method needs a graph that gives every head data-dependent incoming mass: with backward edges, no
/// classifier node and a uniform teleport, the last block's heads have no incoming edge and tie by construction.
fn check_graph_reaches_every_head(checks: &mut Checks, spec: &Spec) {
    let graph_ranked = matches!(spec.method, Method::Gohsp | Method::GohspOneShot | Method::GohspRandomHeads);
    let rank = &spec.rank;
    if graph_ranked
        && rank.direction == Direction::Backward
        && rank.sink == Sink::None
        && rank.teleport == Teleport::Uniform
    {
        checks.fail(
            "rank.sink",
            "`none` with rank.direction: backward and rank.teleport: uniform gives the last block's heads no incoming \
             edge: their scores tie by construction and the budget would pick among them by index"
                .into(),
            "set rank.sink: classifier (the default), rank.teleport: contribution, or rank.direction: forward or both",
        );
    }
}

/// The ADMM schedule and penalty.
fn check_admm(checks: &mut Checks, admm: &AdmmSpec) {
    if admm.rounds > 0 {
        checks.at_least("admm.epochs_per_round", admm.epochs_per_round, 1, "or set admm.rounds: 0 to skip ADMM");
    }
    checks.within("admm.rho", admm.rho, Interval::POSITIVE, "e.g. 1.0e-2");
    checks.within("admm.rho_growth", admm.rho_growth, Interval::POSITIVE, "e.g. 3.0");
    checks.within("admm.rho_max", admm.rho_max, Interval::POSITIVE, "e.g. 1.0");
    if let Some(lr) = admm.lr {
        checks.within("admm.lr", lr, Interval::POSITIVE, "e.g. 5.0e-4, or leave it out to use finetune.lr");
    }
    if let Some(distill) = &admm.distill {
        checks.within(
            "admm.distill.alpha",
            distill.alpha,
            Interval::FRACTION,
            "0 trains the W-step on plain cross-entropy",
        );
        checks.within("admm.distill.temperature", distill.temperature, Interval::POSITIVE, "e.g. 4.0");
    }
    checks.at_least("admm.batch", admm.batch, 1, "e.g. 128");
    checks.within("admm.head_dims", admm.head_dims, Interval::FRACTION, "0 prunes whole heads only; e.g. 0.5");
    checks.at_least("admm.min_head_dims", admm.min_head_dims, 1, "every kept head keeps at least one q/k pair");
}

/// The fine-tuning recipe and its distillation.
fn check_finetune(checks: &mut Checks, finetune: &FinetuneSpec) {
    check_train(checks, "finetune", &finetune.recipe);
    if let Some(distill) = &finetune.distill {
        checks.within(
            "finetune.distill.alpha",
            distill.alpha,
            Interval::FRACTION,
            "the weight of the distillation term",
        );
        checks.within("finetune.distill.temperature", distill.temperature, Interval::POSITIVE, "e.g. 4.0");
    }
}

/// The evaluation batch sizes and repetitions.
fn check_evaluate(checks: &mut Checks, evaluate: &EvaluateSpec) {
    if evaluate.latency_batches.is_empty() {
        checks.fail("evaluate.latency_batches", "must list at least one batch size".into(), "e.g. [1, 64]");
    }
    for &batch in &evaluate.latency_batches {
        checks.at_least("evaluate.latency_batches", batch, 1, "e.g. [1, 64]");
    }
    checks.at_least("evaluate.latency_runs", evaluate.latency_runs, 1, "e.g. 10");
    checks.within(
        "evaluate.latency_seconds",
        evaluate.latency_seconds,
        Interval::closed(0.0, 600.0),
        "seconds per model and batch size, e.g. 0.2; 0 times exactly `latency_runs` passes",
    );
    checks.at_least("evaluate.batch", evaluate.batch, 1, "e.g. 256");
}

/// The report's table and plot formats.
fn check_report(checks: &mut Checks, report: &ReportSpec) {
    for format in &report.formats {
        checks.one_of("report.formats", format, TABLE_FORMATS, "table format");
    }
    for plot in &report.plots {
        checks.one_of("report.plots", plot, PLOT_FORMATS, "plot format");
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
