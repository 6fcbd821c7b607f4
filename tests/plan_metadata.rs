//! Planning reads metadata, not data: once a dataset's fingerprint and a weights file's digest are cached, a data or
//! weights file damaged with its size and time kept still plans with the same keys (so nothing was read), and a run
//! stops with an error naming the file before anything is cached under a key that no longer describes it.

mod common;

use common::{cache_entries, gohsp, results_root};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Puts the file's modification time at one fixed moment in 2023 (settled, and repeatable after a rewrite).
fn set_old_time(path: &Path) {
    let old = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::open(path).unwrap().set_modified(old).unwrap();
}

/// Overwrites `path` with zeros of the same length, then puts its old time back: only a read can tell.
fn zero_in_place(path: &Path, from: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[from..].fill(0);
    std::fs::write(path, bytes).unwrap();
    set_old_time(path);
}

/// Idx files of an MNIST-like dataset (`count` train images, 20 test images), with old times.
fn idx_dataset(dir: &Path, count: u32) {
    for (prefix, n) in [("train", count), ("t10k", 20)] {
        let mut images: Vec<u8> = [0x0803u32, n, 28, 28].iter().flat_map(|w| w.to_be_bytes()).collect();
        images.extend((0..n as usize * 784).map(|i| ((i / 784) * 13 + i % 784) as u8));
        let mut labels: Vec<u8> = [0x0801u32, n].iter().flat_map(|w| w.to_be_bytes()).collect();
        labels.extend((0..n).map(|i| (i % 10) as u8));
        for (name, bytes) in
            [(format!("{prefix}-images-idx3-ubyte"), images), (format!("{prefix}-labels-idx1-ubyte"), labels)]
        {
            std::fs::write(dir.join(&name), bytes).unwrap();
            set_old_time(&dir.join(name));
        }
    }
}

fn write_spec(dir: &Path, model: &str, dataset: &str) -> PathBuf {
    let spec = dir.join("spec.yaml");
    let text = format!(
        "name: meta\nseed: 0\nmodel: {model}\ndataset: {dataset}\nmethod: magnitude\nsparsity: 0.3\n\
         pretrain: {{ epochs: 1, batch: 32 }}\nfinetune: {{ epochs: 1, batch: 32 }}\n\
         evaluate: {{ latency_batches: [1], latency_runs: 1, warmup: 1, batch: 64 }}\nreport: {{ formats: [md], plots: [] }}\n"
    );
    std::fs::write(&spec, text).unwrap();
    spec
}

/// The "KEY label" of every node `gohsp plan` prints.
fn plan_keys(results: &Path, spec: &Path) -> Vec<String> {
    let out = gohsp(results, &["plan", spec.to_str().unwrap()]);
    out.ok();
    let keys: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("miss ") || l.starts_with("hit "))
        .map(|l| l.split_whitespace().skip(1).take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(keys.len() >= 5, "too few nodes planned:\n{}", out.stdout);
    keys
}

#[test]
fn a_cached_dataset_fingerprint_plans_without_reading_and_a_run_stops_on_the_changed_file() {
    let (data, results) = (tempfile::tempdir().unwrap(), results_root());
    idx_dataset(data.path(), 60);
    let dataset = format!("{{ name: mnist, root: {} }}", data.path().display());
    let spec = write_spec(data.path(), "{ preset: vit_mnist, dim: 32, depth: 1, heads: 2, mlp_ratio: 2.0 }", &dataset);
    let before = plan_keys(results.path(), &spec);
    assert!(results.path().join("cache/fingerprints.json").is_file());
    // Zeroed images (their magic number too) with size and time kept: a read would fail, planning does not read.
    let images = data.path().join("train-images-idx3-ubyte");
    zero_in_place(&images, 0);
    assert_eq!(plan_keys(results.path(), &spec), before);
    let run = gohsp(results.path(), &["run", spec.to_str().unwrap()]);
    assert_ne!(run.code, 0, "a run on changed data must stop:\n{}", run.stderr);
    let error = run.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default().to_string();
    assert!(run.stderr.contains(images.to_str().unwrap()), "the failure does not name the data file:\n{}", run.stderr);
    assert!(cache_entries(results.path()).is_empty(), "an entry was cached from changed data: {error}");
}

#[test]
fn a_cached_weights_digest_plans_without_hashing_and_a_run_stops_on_the_changed_file() {
    let (dir, results) = (tempfile::tempdir().unwrap(), results_root());
    let weights = dir.path().join("micro.safetensors");
    std::fs::copy(common::fixture("timm_vit_micro/model.safetensors"), &weights).unwrap();
    set_old_time(&weights);
    let model = format!("{{ preset: vit_mnist, weights: {}, heads: 3 }}", weights.display());
    let spec = write_spec(dir.path(), &model, "{ name: mnist5k, limit: 128, test_limit: 64 }");
    let before = plan_keys(results.path(), &spec);
    // Zeroed tensor data behind an intact header, size and time kept: planning reads the header only.
    let len = std::fs::metadata(&weights).unwrap().len() as usize;
    zero_in_place(&weights, len - 4096);
    assert_eq!(plan_keys(results.path(), &spec), before);
    let run = gohsp(results.path(), &["run", spec.to_str().unwrap()]);
    assert_ne!(run.code, 0, "a run on changed weights must stop:\n{}", run.stderr);
    assert!(run.stderr.contains("changed after it was planned"), "{}", run.stderr);
    let dense_entries = cache_entries(results.path()).into_iter().filter(|(kind, _)| kind == "pretrain").count();
    assert_eq!(dense_entries, 0, "a dense entry was cached from changed weights");
    // The stale digest was dropped: the next plan hashes the file again and its keys change.
    assert_ne!(plan_keys(results.path(), &spec), before);
}
