//! The paper-scale spec on real JPEGs: without ImageNet it fails clearly; with a tiny ImageNet-style folder and a
//! DeiT-Tiny-shaped timm checkpoint, the whole GOHSP pipeline runs end to end on a micro budget.

mod common;

use gohsp::model::init::init_tensors;
use gohsp::model::io::save_tensors;
use gohsp::model::presets::preset;
use std::path::Path;
use std::process::Command;

fn gohsp(results: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gohsp"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--results")
        .arg(results)
        .args(args)
        .output()
        .expect("gohsp runs")
}

#[test]
fn without_imagenet_the_paper_spec_exits_2_naming_the_path_and_what_to_do() {
    let results = tempfile::tempdir().unwrap();
    let out = gohsp(results.path(), &["run", "experiments/deit_tiny_30.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("data/imagenet") && stderr.contains("image-net.org"), "{stderr}");
    assert!(!results.path().join("cache/pretrain").exists());
}

#[test]
fn deit_tiny_pipeline_runs_end_to_end_on_real_jpegs_with_a_timm_checkpoint() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("imagenet");
    common::tiny_imagenet(&root);
    let weights = work.path().join("deit_tiny.safetensors");
    save_tensors(&init_tensors(&preset("deit_tiny", 1000).unwrap(), 1), &[], &weights).unwrap();
    let sets = common::deit_tiny_micro_sets(&root, &weights, &["report.plots=[svg]"]);
    let mut args = vec!["run", "experiments/deit_tiny_30.yaml", "--device", "cpu"];
    sets.iter().for_each(|s| args.extend(["--set", s.as_str()]));
    let results = work.path().join("results");
    let out = gohsp(&results, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let metrics = std::fs::read_to_string(results.join("deit_tiny_30/metrics.csv")).unwrap();
    let gohsp_row = metrics.lines().find(|l| l.contains(",gohsp,")).expect("a gohsp row");
    let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
    let field = |name: &str| {
        gohsp_row.split(',').nth(header.iter().position(|h| *h == name).unwrap()).unwrap().parse::<f64>().unwrap()
    };
    assert!((field("achieved_sparsity") - 0.3).abs() < 0.005, "{gohsp_row}");
    assert_eq!(field("dense_params"), 5_717_416.0);
    assert!(field("params") < 0.71 * 5_717_416.0);
}
