//! The head count of a weights file comes from its config.json, else `--heads`, else a known width (logged); any other
//! width is an exit-2 error naming the file with the hint `--heads N`. Never a silent width/64 guess.

mod common;

use common::{fixture, gohsp, results_root};
use gohsp::model::init::init_tensors;
use gohsp::model::io::save_tensors;
use gohsp::model::shape::VitShape;
use std::path::{Path, PathBuf};

/// The timm micro fixture (width 48, 3 heads) copied into a fresh folder, optionally with a config.json.
fn micro_weights(dir: &Path, config: Option<&str>) -> PathBuf {
    let path = dir.join("model.safetensors");
    std::fs::copy(fixture("timm_vit_micro/model.safetensors"), &path).unwrap();
    if let Some(text) = config {
        std::fs::write(dir.join("config.json"), text).unwrap();
    }
    path
}

/// The head counts of the per-block table `gohsp inspect` prints.
fn inspected_heads(stdout: &str) -> Vec<usize> {
    let rows = stdout.lines().skip_while(|l| !l.starts_with("block")).skip(1);
    rows.map_while(|l| {
        let cells: Vec<usize> = l.split_whitespace().map(|c| c.parse().ok()).collect::<Option<_>>()?;
        (cells.len() == 5).then(|| cells[1])
    })
    .collect()
}

fn inspect(results: &Path, weights: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec!["inspect", "--weights", weights.to_str().unwrap()];
    args.extend_from_slice(extra);
    gohsp(results, &args)
}

#[test]
fn an_unknown_width_without_config_or_heads_is_refused_naming_the_file() {
    let (dir, results) = (tempfile::tempdir().unwrap(), results_root());
    let weights = micro_weights(dir.path(), None);
    let out = inspect(results.path(), &weights, &[]);
    out.expect_code(2);
    let line = out.stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(line.contains("model.safetensors") && line.contains("--heads N") && line.contains("48"), "{line}");
    let given = inspect(results.path(), &weights, &["--heads", "3"]);
    given.ok();
    assert_eq!(inspected_heads(&given.stdout), [3, 3]);
}

#[test]
fn config_json_beside_the_weights_gives_the_head_count() {
    let configs = [
        r#"{"num_attention_heads": 3, "image_size": 28, "patch_size": 7, "layer_norm_eps": 1e-6}"#,
        r#"{"architecture": "vit_micro", "model_args": {"num_heads": 3, "img_size": 28}}"#,
    ];
    for config in configs {
        let (dir, results) = (tempfile::tempdir().unwrap(), results_root());
        let weights = micro_weights(dir.path(), Some(config));
        let out = inspect(results.path(), &weights, &[]);
        out.ok();
        assert_eq!(inspected_heads(&out.stdout), [3, 3], "{config}");
    }
}

#[test]
fn a_config_json_that_contradicts_the_tensors_is_an_error_naming_it() {
    let (dir, results) = (tempfile::tempdir().unwrap(), results_root());
    let weights = micro_weights(dir.path(), Some(r#"{"num_attention_heads": 3, "image_size": 32}"#));
    let out = inspect(results.path(), &weights, &[]);
    out.expect_code(2);
    let line = out.stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(line.contains("config.json") && line.contains("image_size"), "{line}");
}

#[test]
fn a_known_width_assumes_heads_of_64_and_says_so() {
    let (dir, results) = (tempfile::tempdir().unwrap(), results_root());
    let shape = VitShape::uniform(28, 7, 1, 10, 192, 3, 3, 1.0);
    let weights = dir.path().join("tiny_width.safetensors");
    save_tensors(&init_tensors(&shape, 1), &[], &weights).unwrap();
    let out = inspect(results.path(), &weights, &[]);
    out.ok();
    assert_eq!(inspected_heads(&out.stdout), [3, 3, 3]);
    assert_eq!(
        out.stderr.matches("assuming heads of 64").count(),
        1,
        "one log line (not one per block) says which convention was assumed:\n{}",
        out.stderr
    );
}
