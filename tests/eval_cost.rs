//! Library-level cost and evaluation tests: MACs of pruned models against a count from their tensors, the latency
//! loop on a fake clock (warm-up excluded, median taken; a pair's passes interleaved, a time floor), and exact
//! accuracy of a classifier biased to fixed classes.

use burn::tensor::Device;
use gohsp::data::loader::Loader;
use gohsp::data::mnist5k::load_mnist5k;
use gohsp::data::recipe::eval_transform;
use gohsp::eval::{MAX_RUNS_PER_RUN, Passes, accuracy, latency, median_seconds, paired_latency, paired_median_seconds};
use gohsp::model::build::build_vit;
use gohsp::model::cost::{cost, macs_per_image, param_count};
use gohsp::model::host::NamedTensors;
use gohsp::model::init::init_tensors;
use gohsp::model::shape::VitShape;
use gohsp::prune::hard::slice_tensors;
use gohsp::prune::mask::StructureMask;
use gohsp::prune::select::{keep_top_global, random_scores};
use std::cell::RefCell;
use std::path::Path;

/// MACs of one image counted from the tensors alone: every linear's out*in per token it sees, q k^T and attn v
/// (T*T*A each), the patch projection per patch and the classifier(s) on their one token.
fn macs_from_tensors(tensors: &NamedTensors) -> u64 {
    let dims = |name: &str| tensors[name].shape.iter().map(|&d| d as u64).collect::<Vec<u64>>();
    let pos = dims("pos_embed");
    let tokens = pos[1];
    let prefix = 1 + tensors.contains_key("dist_token") as u64;
    let patch = dims("patch_embed.proj.weight").iter().product::<u64>() * (tokens - prefix);
    let mut total = patch;
    let mut l = 0;
    while tensors.contains_key(&format!("blocks.{l}.attn.qkv.weight")) {
        for linear in ["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"] {
            let w = dims(&format!("blocks.{l}.{linear}.weight"));
            total += tokens * w[0] * w[1];
        }
        let attn_dim = dims(&format!("blocks.{l}.attn.qkv.weight"))[0] / 3;
        total += 2 * tokens * tokens * attn_dim;
        l += 1;
    }
    for head in ["head", "head_dist"] {
        if tensors.contains_key(&format!("{head}.weight")) {
            total += dims(&format!("{head}.weight")).iter().product::<u64>();
        }
    }
    total
}

fn pruned(shape: &VitShape, heads_removed: usize, neurons_removed: usize, seed: u64) -> (NamedTensors, VitShape) {
    let heads: Vec<usize> = shape.blocks.iter().map(|b| b.heads).collect();
    let neurons: Vec<usize> = shape.blocks.iter().map(|b| b.mlp).collect();
    let mask = StructureMask {
        heads: keep_top_global(&random_scores(&heads, seed), heads_removed, 0),
        neurons: keep_top_global(&random_scores(&neurons, seed + 1), neurons_removed, 1),
        qk_pairs: None,
    };
    let (tensors, manifest) = slice_tensors(shape, &init_tensors(shape, seed), &mask);
    (tensors, manifest.shape)
}

#[test]
fn macs_of_pruned_models_match_a_count_from_their_tensors() {
    let micro = VitShape::uniform(28, 7, 1, 10, 48, 4, 4, 2.0);
    let distilled = VitShape { distilled: true, ..VitShape::uniform(32, 8, 3, 7, 24, 3, 3, 3.0) };
    for (shape, heads_removed, neurons_removed) in [(micro, 7, 150), (distilled, 4, 100)] {
        let dense_macs = macs_per_image(&shape);
        assert_eq!(dense_macs, macs_from_tensors(&init_tensors(&shape, 0)), "dense {shape:?}");
        for seed in [1, 2, 3] {
            let (tensors, pruned_shape) = pruned(&shape, heads_removed, neurons_removed, seed);
            let macs = macs_per_image(&pruned_shape);
            assert_eq!(macs, macs_from_tensors(&tensors), "seed {seed}: {pruned_shape:?}");
            assert!(macs < dense_macs);
            let held: u64 = tensors.values().map(|t| t.numel() as u64).sum();
            assert_eq!(cost(&pruned_shape).params, held);
            assert_eq!(param_count(&pruned_shape), held);
        }
    }
}

fn micro_model(tensors: &NamedTensors, shape: &VitShape) -> gohsp::model::vit::Vit {
    build_vit(shape, tensors, &Device::flex(), Path::new("<micro>")).unwrap()
}

/// `warmup` untimed passes, then `runs` timed ones, with no time floor.
fn exactly(warmup: usize, runs: usize) -> Passes {
    Passes { warmup, runs, min_seconds: 0.0 }
}

#[test]
fn latency_times_the_requested_batch_after_the_warm_up_and_takes_the_median() {
    // A fake clock: two slow warm-up passes, then five timed ones; the warm-up must not count.
    let mut clock = [9.0, 9.0, 0.5, 0.1, 0.4, 0.2, 0.3].into_iter();
    let mut calls = 0;
    let median = median_seconds(exactly(2, 5), || {
        calls += 1;
        clock.next().unwrap()
    });
    assert_eq!((median, calls), (0.3, 7), "median of the five timed passes only");
    let mut even = [0.2, 0.1].into_iter();
    assert_eq!(median_seconds(exactly(0, 2), || even.next().unwrap()), 0.2, "the upper median of an even count");
    assert_eq!(median_seconds(exactly(0, 0), || 0.7), 0.7, "at least one pass is timed");
    // The real model: the reported batch is the one asked for, and the forward pass ran on it.
    let shape = VitShape::uniform(28, 7, 1, 10, 32, 2, 4, 2.0);
    let model = micro_model(&init_tensors(&shape, 4), &shape);
    for batch in [1, 8] {
        let result = latency(&model, batch, exactly(1, 3));
        assert_eq!(result.batch, batch);
        assert!(result.median_ms.is_finite() && result.median_ms > 0.0, "{result:?}");
    }
}

#[test]
fn paired_latency_interleaves_the_two_models_passes_in_alternating_order() {
    // A fake clock that logs which model ran: the passes must go A B, B A, A B, ... from the first warm-up pass on,
    // so that a burst of load cannot land on one model's passes only.
    let log = RefCell::new(String::new());
    let times_a = RefCell::new([9.0, 9.0, 0.5, 0.1, 0.4, 0.2, 0.3].into_iter());
    let times_b = RefCell::new([8.0, 8.0, 1.5, 1.1, 1.4, 1.2, 1.3].into_iter());
    let a = || {
        log.borrow_mut().push('A');
        times_a.borrow_mut().next().unwrap()
    };
    let b = || {
        log.borrow_mut().push('B');
        times_b.borrow_mut().next().unwrap()
    };
    let (median_a, median_b) = paired_median_seconds(exactly(2, 5), a, b);
    assert_eq!(log.borrow().as_str(), "ABBAABBAABBAAB", "2 warm-up and 5 timed rounds, the order alternating");
    assert_eq!((median_a, median_b), (0.3, 1.3), "each model's median over its own timed passes only");
    assert_eq!(paired_median_seconds(exactly(0, 0), || 0.7, || 0.9), (0.7, 0.9), "at least one round is timed");
    // The real models: a pruned one and its dense one, each timed at the batch asked for.
    let shape = VitShape::uniform(28, 7, 1, 10, 32, 2, 4, 2.0);
    let dense = micro_model(&init_tensors(&shape, 4), &shape);
    let (tensors, pruned_shape) = pruned(&shape, 3, 40, 4);
    let small = micro_model(&tensors, &pruned_shape);
    for batch in [1, 8] {
        let (own, reference) = paired_latency(&small, &dense, batch, exactly(1, 3));
        assert_eq!((own.batch, reference.batch), (batch, batch));
        for result in [own, reference] {
            assert!(result.median_ms.is_finite() && result.median_ms > 0.0, "{result:?}");
            assert!((result.images_per_s - batch as f64 * 1e3 / result.median_ms).abs() < 1e-6, "{result:?}");
        }
    }
}

#[test]
fn quick_passes_are_timed_until_they_add_up_to_the_floor_and_no_further_than_the_cap() {
    // 0.3 s passes against a 1 s floor: 2 runs asked for, 4 timed (1.2 s), the warm-up not counted.
    let mut calls = 0;
    let floor = Passes { warmup: 1, runs: 2, min_seconds: 1.0 };
    let mut clock = [5.0, 0.3, 0.3, 0.3, 0.3].into_iter();
    median_seconds(floor, || {
        calls += 1;
        clock.next().unwrap()
    });
    assert_eq!(calls, 5, "1 warm-up pass and 4 timed ones");
    // Slow passes: the runs asked for are enough.
    let mut calls = 0;
    median_seconds(floor, || {
        calls += 1;
        2.0
    });
    assert_eq!(calls, 3);
    // Passes that take no time stop at the cap instead of never.
    let mut calls = 0;
    median_seconds(Passes { warmup: 0, runs: 3, min_seconds: 1.0 }, || {
        calls += 1;
        0.0
    });
    assert_eq!(calls, 3 * MAX_RUNS_PER_RUN);
    // A pair runs until both have reached the floor: b's 0.25 s passes need 4 rounds, a's 0.5 s ones 2.
    let (mut calls_a, mut calls_b) = (0, 0);
    let a = || {
        calls_a += 1;
        0.5
    };
    let b = || {
        calls_b += 1;
        0.25
    };
    paired_median_seconds(Passes { warmup: 0, runs: 1, min_seconds: 1.0 }, a, b);
    assert_eq!((calls_a, calls_b), (4, 4), "paired passes stay in step");
}

#[test]
fn a_classifier_biased_to_fixed_classes_scores_their_share_of_the_test_set() {
    let shape = VitShape::uniform(28, 7, 1, 10, 32, 2, 4, 2.0);
    let mut tensors = init_tensors(&shape, 9);
    // Class 3 always wins; classes 1, 5, 7 and 9 always fill the rest of the top five.
    let bias = tensors.get_mut("head.bias").unwrap();
    for (class, value) in [(3, 1e4), (1, 9e3), (5, 8e3), (7, 7e3), (9, 6e3)] {
        bias.data[class] = value;
    }
    let splits = load_mnist5k().unwrap();
    let info = splits.test.info().clone();
    let test = Loader::new(splits.test, eval_transform(&info, 28), 300, false, 0);
    let acc = accuracy(&micro_model(&tensors, &shape), &test).unwrap();
    assert_eq!(acc.images, 1000);
    assert_eq!(acc.top1, 10.0, "{acc:?}");
    assert_eq!(acc.top5, 50.0, "{acc:?}");
}
