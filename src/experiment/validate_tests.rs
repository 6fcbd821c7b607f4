//! Tests of the value rules in validate.rs.

use super::*;
use crate::experiment::types::DistillSpec;

fn named() -> Spec {
    Spec { name: "quickstart".into(), ..Spec::default() }
}

fn keys(spec: &Spec) -> Vec<String> {
    problems(spec).into_iter().map(|p| p.key).collect()
}

#[test]
fn the_named_default_spec_is_valid() {
    assert_eq!(problems(&named()), vec![]);
}

#[test]
fn sparsity_must_lie_in_zero_to_095() {
    let mut spec = named();
    spec.sparsity = 1.2;
    let found = problems(&spec);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].key.as_str(), found[0].message.as_str()), ("sparsity", "must be in [0, 0.95), got 1.2"));
    spec.sparsity = 0.0;
    assert!(problems(&spec).is_empty());
}

#[test]
fn zero_epochs_are_refused_but_zero_admm_rounds_are_fine() {
    let mut spec = named();
    spec.pretrain.epochs = 0;
    spec.finetune.recipe.epochs = 0;
    spec.admm.rounds = 0;
    spec.admm.epochs_per_round = 0;
    assert_eq!(keys(&spec), ["pretrain.epochs", "finetune.epochs"]);
    spec.admm.rounds = 2;
    assert!(keys(&spec).contains(&"admm.epochs_per_round".to_string()));
}

#[test]
fn rates_batches_and_fractions_are_checked() {
    let mut spec = named();
    spec.finetune.recipe.lr = 0.0;
    spec.admm.batch = 0;
    spec.rank.damping = 1.0;
    spec.rank.head_share = HeadShare::Fraction(1.5);
    spec.rank.min_heads = 0;
    spec.pretrain.label_smoothing = 1.0;
    spec.rank.calib_samples = 0;
    spec.finetune.distill = Some(DistillSpec { alpha: 2.0, temperature: 0.0 });
    let expected = [
        "pretrain.label_smoothing",
        "rank.calib_samples",
        "rank.damping",
        "rank.min_heads",
        "rank.head_share",
        "admm.batch",
        "finetune.lr",
        "finetune.distill.alpha",
        "finetune.distill.temperature",
    ];
    assert_eq!(keys(&spec), expected);
}

#[test]
fn names_must_be_known() {
    let mut spec = named();
    spec.model.preset = "deit_huge".into();
    spec.dataset.name = "imagenet".into();
    spec.report.formats.push("pdf".into());
    spec.report.plots = vec!["jpg".into()];
    let found = problems(&spec);
    assert_eq!(
        found.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        ["dataset.name", "model.preset", "report.formats", "report.plots"]
    );
    assert!(found[1].hint.contains("deit_tiny") && found[1].hint.contains("deit_base"), "{}", found[1].hint);
}

#[test]
fn latency_batches_must_be_positive_and_present() {
    let mut spec = named();
    spec.evaluate.latency_batches = vec![];
    assert_eq!(keys(&spec), ["evaluate.latency_batches"]);
    spec.evaluate.latency_batches = vec![1, 0];
    assert_eq!(keys(&spec), ["evaluate.latency_batches"]);
}

#[test]
fn the_latency_time_floor_must_be_between_zero_and_ten_minutes() {
    let mut spec = named();
    for bad in [-0.1, f64::NAN, f64::INFINITY, 601.0] {
        spec.evaluate.latency_seconds = bad;
        assert_eq!(keys(&spec), ["evaluate.latency_seconds"], "{bad}");
    }
    for good in [0.0, 0.2, 600.0] {
        spec.evaluate.latency_seconds = good;
        assert!(keys(&spec).is_empty(), "{good}");
    }
}

#[test]
fn paths_must_exist() {
    let mut spec = named();
    spec.dataset.root = Some("/nonexistent/cifar10".into());
    spec.model.weights = Some("/nonexistent/deit.safetensors".into());
    let found = problems(&spec);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].key, "dataset.root", "data problems are reported first: they are the likelier mistake");
    assert!(found[0].message.contains("missing dataset root") && found[0].message.contains("/nonexistent/cifar10"));
}

#[test]
fn names_that_are_not_folder_names_are_refused() {
    let mut spec = named();
    spec.name = "a/b".into();
    assert_eq!(keys(&spec), ["name"]);
}

#[test]
fn heads_must_divide_the_width_and_the_message_names_both_keys() {
    let mut spec = named();
    spec.model.preset = "vit_mnist".into();
    spec.model.dim = Some(32);
    spec.model.heads = Some(3);
    let found = problems(&spec);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "model.heads");
    assert!(found[0].message.contains("model.dim 32") && found[0].message.contains("model.heads 3"), "{found:?}");
    spec.model.heads = Some(4);
    assert!(problems(&spec).is_empty());
    spec.model.dim = None;
    spec.model.heads = Some(5);
    assert_eq!(keys(&spec), ["model.heads"], "the preset's width 96 is not a multiple of 5");
}

#[test]
fn the_holdout_fraction_is_checked() {
    let mut spec = named();
    spec.dataset.holdout = 0.6;
    assert_eq!(keys(&spec), ["dataset.holdout"]);
    spec.dataset.holdout = 0.1;
    assert!(keys(&spec).is_empty());
}

#[test]
fn a_graph_that_leaves_the_last_block_without_incoming_edges_is_refused_for_graph_methods() {
    use crate::experiment::types::{Direction, Method, Sink, Teleport};
    let mut spec = named();
    spec.rank.sink = Sink::None;
    assert_eq!(keys(&spec), ["rank.sink"], "backward edges, no classifier, uniform teleport: the last block ties");
    assert!(problems(&spec)[0].hint.contains("rank.teleport: contribution"));
    spec.method = Method::Magnitude;
    assert!(keys(&spec).is_empty(), "the baselines never read the graph");
    spec.method = Method::GohspOneShot;
    spec.rank.teleport = Teleport::Contribution;
    assert!(keys(&spec).is_empty());
    spec.rank.teleport = Teleport::Uniform;
    spec.rank.direction = Direction::Both;
    assert!(keys(&spec).is_empty());
}

#[test]
fn the_w_steps_own_lr_and_distillation_are_checked_when_set() {
    let mut spec = named();
    spec.admm.lr = Some(0.0);
    spec.admm.distill = Some(DistillSpec { alpha: 1.5, temperature: 4.0 });
    assert_eq!(keys(&spec), ["admm.lr", "admm.distill.alpha"]);
}
