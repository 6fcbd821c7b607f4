//! The binary on bad input (exit code 2, one `error:` line naming the key, file or tensor, with a hint, no cache entry
//! written) and on the single-file tools (inspect, predict, rank-graph) against the reference fixtures.

mod common;

use common::{MICRO, cache_entries, crate_dir, fixture, gohsp, read_tensors, results_root};
use gohsp::model::host::HostTensor;
use gohsp::model::io::{read_checkpoint, save_tensors};
use std::path::{Path, PathBuf};

/// Asserts the user-error contract: exit code 2, exactly one `error:` line on stderr that holds every one of `needles`
/// and the word `hint`, and no cache entry under `results`. Returns the error line and the whole of stderr.
fn assert_user_error(results: &Path, args: &[&str], needles: &[&str]) -> (String, String) {
    let out = gohsp(results, args);
    out.expect_code(2);
    let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "want one `error:` line for {args:?}, stderr:\n{}", out.stderr);
    let line = errors[0];
    for needle in needles.iter().chain(&["hint"]) {
        assert!(line.contains(needle), "the error for {args:?} does not mention `{needle}`: {line}");
    }
    let entries = cache_entries(results);
    assert!(entries.is_empty(), "{args:?} wrote cache entries: {entries:?}");
    (line.to_string(), out.stderr)
}

/// The micro spec with `from` replaced by `to`, written as `name` into `dir`.
fn micro_variant(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(crate_dir().join(MICRO)).unwrap();
    assert!(text.contains(from), "micro.yaml no longer contains `{from}`");
    let path = dir.join(name);
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

/// Runs `gohsp run` on a micro variant and checks the user-error contract, with the file's name among the needles.
fn bad_spec(name: &str, from: &str, to: &str, needles: &[&str]) -> String {
    let results = results_root();
    let spec = micro_variant(results.path(), name, from, to);
    let mut all = vec![name];
    all.extend_from_slice(needles);
    assert_user_error(results.path(), &["run", spec.to_str().unwrap()], &all).0
}

#[test]
fn unknown_key_is_named_with_a_suggestion() {
    let line = bad_spec("unknown_key.yaml", "preset: vit_mnist", "prest: vit_mnist", &["model.prest"]);
    assert!(line.contains("preset"), "the hint should suggest `preset`: {line}");
}

#[test]
fn wrong_type_is_named() {
    bad_spec("wrong_type.yaml", "epochs: 4,", "epochs: ten,", &["pretrain.epochs", "ten"]);
}

#[test]
fn negative_epoch_count_is_refused() {
    bad_spec("negative_epochs.yaml", "epochs: 4,", "epochs: -1,", &["pretrain.epochs", "-1"]);
}

#[test]
fn sparsity_above_one_is_refused() {
    bad_spec("sparsity_high.yaml", "sparsity: 0.3", "sparsity: 1.2", &["sparsity", "1.2"]);
}

#[test]
fn empty_grid_list_is_refused() {
    bad_spec("empty_grid.yaml", "sparsity: 0.3", "sparsity: []", &["sparsity"]);
}

#[test]
fn missing_dataset_root_is_named() {
    bad_spec(
        "missing_root.yaml",
        "dataset: { name: mnist5k,",
        "dataset: { name: cifar10, root: /nonexistent,",
        &["dataset.root", "/nonexistent"],
    );
}

#[test]
fn unknown_set_key_is_named() {
    let results = results_root();
    assert_user_error(results.path(), &["run", MICRO, "--set", "nosuch.key=1"], &["nosuch", "--set", "micro.yaml"]);
}

#[test]
fn missing_weights_file_is_named() {
    let results = results_root();
    assert_user_error(
        results.path(),
        &["run", MICRO, "--set", "model.weights=/nonexistent.safetensors"],
        &["model.weights", "/nonexistent.safetensors"],
    );
}

/// The timm micro checkpoint with `blocks.0.attn.proj.weight` cut from [48, 48] to [48, 47], saved in `dir`.
fn wrong_shape_checkpoint(dir: &Path) -> PathBuf {
    let mut ckpt = read_checkpoint(&fixture("timm_vit_micro/model.safetensors")).unwrap();
    let proj = ckpt.tensors.get_mut("blocks.0.attn.proj.weight").expect("fixture has the tensor");
    assert_eq!(proj.shape, vec![48, 48]);
    let rows: Vec<f32> = proj.data.chunks(48).flat_map(|row| row[..47].to_vec()).collect();
    *proj = HostTensor::new(vec![48, 47], rows);
    let path = dir.join("bad_shape.safetensors");
    save_tensors(&ckpt.tensors, &[], &path).unwrap();
    path
}

#[test]
fn wrong_shaped_tensor_is_named_by_inspect() {
    let results = results_root();
    let bad = wrong_shape_checkpoint(results.path());
    assert_user_error(
        results.path(),
        &["inspect", "--weights", bad.to_str().unwrap(), "--heads", "3"],
        &["blocks.0.attn.proj.weight", "[48, 48]", "[48, 47]"],
    );
}

#[test]
fn wrong_shaped_tensor_is_named_by_run() {
    let results = results_root();
    let bad = wrong_shape_checkpoint(results.path());
    let set = format!("model.weights={}", bad.display());
    assert_user_error(
        results.path(),
        &["run", MICRO, "--set", &set, "--set", "model.heads=3"],
        &["blocks.0.attn.proj.weight", "[48, 48]", "[48, 47]"],
    );
}

#[test]
fn unreachable_sparsity_names_the_largest_reachable_one_before_any_stage() {
    let results = results_root();
    let (line, stderr) = assert_user_error(
        results.path(),
        &["run", MICRO, "--set", "sparsity=0.94", "--set", "rank.min_heads=1"],
        &["sparsity", "0.94", "largest reachable"],
    );
    let after = &line[line.find("largest reachable").unwrap()..];
    let reachable: f64 = after
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(|w| w.parse().ok().filter(|v: &f64| *v > 0.0 && *v < 1.0))
        .unwrap_or_else(|| panic!("no sparsity value after `largest reachable`: {line}"));
    assert!(reachable < 0.94, "the largest reachable sparsity {reachable} should be below the asked 0.94");
    assert!(!stderr.contains(" INFO run "), "a stage started before the budget was refused:\n{stderr}");
}

#[test]
fn cuda_device_on_a_cpu_build_names_the_feature() {
    let results = results_root();
    assert_user_error(results.path(), &["run", MICRO, "--device", "cuda"], &["cuda", "--features cuda"]);
}

#[test]
fn inspect_json_matches_the_timm_reference_counts() {
    let results = results_root();
    let weights = fixture("timm_vit_micro/model.safetensors");
    let out = gohsp(results.path(), &["inspect", "--weights", weights.to_str().unwrap(), "--heads", "3", "--json"]);
    out.ok();
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("timm_vit_micro/info.json")).unwrap()).unwrap();
    let got: serde_json::Value = serde_json::from_str(&out.stdout).expect("inspect --json prints JSON");
    assert_eq!(got["params"], info["params"]);
    assert_eq!(got["macs"], info["macs_per_image"]);
    assert_eq!(got["params"], 41770);
    assert_eq!(got["macs"], 720288);
}

#[test]
fn predict_reproduces_the_timm_logits() {
    let results = results_root();
    let expected = read_tensors(&fixture("timm_vit_micro/expected.safetensors"));
    let mut input = gohsp::model::host::NamedTensors::new();
    input.insert("input".into(), expected["input"].clone());
    let input_path = results.path().join("input.safetensors");
    save_tensors(&input, &[], &input_path).unwrap();
    let out_path = results.path().join("logits.safetensors");
    let weights = fixture("timm_vit_micro/model.safetensors");
    gohsp(
        results.path(),
        &[
            "predict",
            "--weights",
            weights.to_str().unwrap(),
            "--heads",
            "3",
            "--input",
            input_path.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ],
    )
    .ok();
    let got = &read_tensors(&out_path)["logits"];
    let want = &expected["logits"];
    assert_eq!(got.shape, want.shape);
    for (i, (g, w)) in got.data.iter().zip(&want.data).enumerate() {
        assert!((g - w).abs() < 1e-4, "logit {i}: {g} vs {w}");
    }
}

#[test]
fn rank_graph_matches_networkx() {
    let results = results_root();
    let graph = fixture("pagerank/layered_4x3_alpha0.85.json");
    let out = gohsp(results.path(), &["rank-graph", graph.to_str().unwrap()]);
    out.ok();
    let got: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&out.stdout).expect("rank-graph prints a JSON object");
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&graph).unwrap()).unwrap();
    let want = file["pagerank"].as_object().unwrap();
    assert_eq!(got.len(), want.len());
    for (node, w) in want {
        let g = got[node].as_f64().unwrap_or_else(|| panic!("no score for node {node}"));
        assert!((g - w.as_f64().unwrap()).abs() < 1e-6, "node {node}: {g} vs {w}");
    }
}
