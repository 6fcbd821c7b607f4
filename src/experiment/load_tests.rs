//! Tests of spec loading in load.rs: layering, sweeps and the errors users see (fixtures in tests/fixtures/specs).

use super::*;
use crate::error::GohspError;
use crate::experiment::types::Method;
use std::io::Write;

/// A temporary spec file holding `text`.
fn spec_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().prefix("spec").suffix(".yaml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

/// A fixture under tests/fixtures/specs.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs").join(name)
}

fn sets(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The error of loading `path`, as (file, key, message, hint).
fn spec_error(path: &Path, set: &[&str], vars: &[(&str, &str)]) -> (String, String, String, String) {
    match load_spec_with_env(path, &sets(set), &env(vars)).unwrap_err() {
        GohspError::Spec { file, key, message, hint } => (file, key, message, hint),
        other => panic!("expected a spec error, got {other}"),
    }
}

#[test]
fn an_empty_file_gives_the_defaults_named_after_the_file() {
    let file = spec_file("");
    let loaded = load_spec_with_env(file.path(), &[], &[]).unwrap();
    let stem = file.path().file_stem().unwrap().to_str().unwrap().to_string();
    assert_eq!(loaded.points.len(), 1);
    assert_eq!(loaded.points[0].name, "default");
    assert_eq!(loaded.points[0].spec, Spec { name: stem.clone(), ..Spec::default() });
    assert_eq!(loaded.name, stem);
}

#[test]
fn file_values_override_defaults() {
    let loaded = load_spec_with_env(&fixture("good_quickstart.yaml"), &[], &[]).unwrap();
    let spec = &loaded.points[0].spec;
    assert_eq!((loaded.name.as_str(), spec.pretrain.epochs, spec.pretrain.lr), ("quickstart", 10, 1e-3));
    assert_eq!(spec.pretrain.weight_decay, 0.05);
    assert_eq!(loaded.points[0].name, "default");
}

#[test]
fn env_beats_file_and_set_beats_env() {
    let file = spec_file("finetune: { lr: 1.0e-3 }\nseed: 1\n");
    let vars = [("GOHSP_FINETUNE__LR", "1e-4"), ("GOHSP_SEED", "7"), ("GOHSP_LOG", "debug")];
    let loaded = load_spec_with_env(file.path(), &[], &env(&vars)).unwrap();
    assert_eq!((loaded.points[0].spec.finetune.recipe.lr, loaded.points[0].spec.seed), (1e-4, 7));
    let loaded = load_spec_with_env(file.path(), &sets(&["finetune.lr=2e-4"]), &env(&vars)).unwrap();
    assert_eq!(loaded.points[0].spec.finetune.recipe.lr, 2e-4);
}

#[test]
fn set_values_are_yaml_and_may_clear_options() {
    let file = spec_file("rank: { head_share: 0.5 }\n");
    let overrides = sets(&["finetune.distill=null", "rank.head_share=auto", "dataset.augment=false"]);
    let spec = load_spec_with_env(file.path(), &overrides, &[]).unwrap().points.remove(0).spec;
    assert_eq!(spec.finetune.distill, None);
    assert_eq!(spec.rank.head_share, crate::experiment::types::HeadShare::Auto);
    assert!(!spec.dataset.augment);
}

#[test]
fn a_sparsity_list_from_set_makes_two_points() {
    let loaded = load_spec_with_env(&fixture("good_quickstart.yaml"), &sets(&["sparsity=[0.3,0.5]"]), &[]).unwrap();
    let names: Vec<&str> = loaded.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["sparsity=0.3", "sparsity=0.5"]);
    assert_eq!(loaded.points[1].spec.sparsity, 0.5);
    assert_eq!(loaded.points[1].spec.name, "quickstart");
    assert_eq!(loaded.resolved["sparsity"], serde_json::json!([0.3, 0.5]));
}

#[test]
fn methods_sparsities_and_grid_axes_cross() {
    let loaded = load_spec_with_env(&fixture("good_sweep.yaml"), &[], &[]).unwrap();
    assert_eq!(loaded.points.len(), 8);
    assert_eq!(loaded.points[0].name, "method=gohsp,sparsity=0.3,finetune.lr=0.0001");
    let last = &loaded.points[7];
    assert_eq!(last.name, "method=magnitude,sparsity=0.5,finetune.lr=0.0005");
    assert_eq!((last.spec.method, last.spec.sparsity, last.spec.finetune.recipe.lr), (Method::Magnitude, 0.5, 5e-4));
    assert_eq!(last.spec.finetune.distill, None);
    let file = spec_file("method: [gohsp, random]\nsparsity: [0.3, 0.5]\n");
    assert_eq!(load_spec_with_env(file.path(), &[], &[]).unwrap().points.len(), 4);
}

#[test]
fn unknown_keys_name_the_key_and_file_and_hint_the_closest() {
    let path = fixture("bad_unknown_key.yaml");
    let (file, key, message, hint) = spec_error(&path, &[], &[]);
    assert_eq!((file, key, message), (path.display().to_string(), "model.prest".into(), "unknown key".into()));
    assert_eq!(hint, "did you mean `preset`?");
}

#[test]
fn wrong_types_and_negative_numbers_name_the_key() {
    let (_, key, message, _) = spec_error(&fixture("bad_wrong_type.yaml"), &[], &[]);
    assert_eq!((key.as_str(), message.as_str()), ("pretrain.epochs", "expected a whole number >= 0, found `ten`"));
    let (file, key, message, _) = spec_error(&fixture("bad_negative_epochs.yaml"), &[], &[]);
    assert_eq!(key, "pretrain.epochs");
    assert!(message.contains("-1") && file.ends_with("bad_negative_epochs.yaml"), "{message}");
}

#[test]
fn out_of_range_values_name_the_key_and_file() {
    let path = fixture("bad_sparsity.yaml");
    let (file, key, message, _) = spec_error(&path, &[], &[]);
    assert_eq!(
        (file, key, message),
        (path.display().to_string(), "sparsity".into(), "must be in [0, 0.95), got 1.2".into())
    );
    let (_, key, message, _) = spec_error(&fixture("bad_missing_root.yaml"), &[], &[]);
    assert_eq!(key, "dataset.root");
    assert!(message.contains("missing dataset root") && message.contains("/nonexistent/gohsp/cifar10"));
}

#[test]
fn values_from_env_or_set_are_blamed_on_them() {
    let file = spec_file("name: blame\n");
    let (label, key, _, _) = spec_error(file.path(), &[], &[("GOHSP_ADMM__LR", "0")]);
    assert_eq!(key, "admm.lr");
    assert!(label.ends_with("(env GOHSP_ADMM__LR)"), "{label}");
    let (label, key, message, _) = spec_error(file.path(), &["sparsity=[0.3, 0.99]"], &[]);
    assert_eq!(key, "sparsity");
    assert!(label.ends_with("(--set sparsity=[0.3, 0.99])") && message.contains("(grid point sparsity=0.99)"));
}

#[test]
fn empty_grid_lists_and_unknown_set_keys_are_errors() {
    let (_, key, message, _) = spec_error(&fixture("bad_empty_grid.yaml"), &[], &[]);
    assert_eq!(key, "grid.finetune.lr");
    assert!(message.contains("empty list"));
    let (label, key, message, hint) = spec_error(&fixture("good_quickstart.yaml"), &["nosuch.key=1"], &[]);
    assert_eq!((key.as_str(), message.as_str()), ("nosuch", "unknown key"));
    assert!(label.contains("--set nosuch.key=1") && hint.contains("finetune"), "{label} / {hint}");
    let (_, key, _, hint) = spec_error(&fixture("good_quickstart.yaml"), &["finetune.lrr=1"], &[]);
    assert_eq!((key.as_str(), hint.as_str()), ("finetune.lrr", "did you mean `lr`?"));
}

#[test]
fn optional_keys_that_default_to_none_are_settable() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("dataset.root={}", dir.path().display());
    let loaded = load_spec_with_env(&fixture("good_quickstart.yaml"), &sets(&[&root, "model.depth=2"]), &[]).unwrap();
    assert_eq!(loaded.points[0].spec.dataset.root.as_deref(), Some(dir.path()));
    assert_eq!(loaded.points[0].spec.model.depth, Some(2));
}

#[test]
fn missing_files_and_syntax_errors_name_the_file() {
    let missing = Path::new("/nonexistent/gohsp/spec.yaml");
    let (file, _, message, _) = spec_error(missing, &[], &[]);
    assert_eq!((file.as_str(), message.as_str()), ("/nonexistent/gohsp/spec.yaml", "spec file not found"));
    let path = fixture("bad_syntax.yaml");
    let (file, _, message, _) = spec_error(&path, &[], &[]);
    assert_eq!(file, path.display().to_string());
    assert!(message.contains("line 4"), "{message}");
}

#[test]
fn a_partial_finetune_section_keeps_the_fine_tune_defaults_and_serialises_flat() {
    let file = spec_file("finetune: { lr: 1.0e-3 }\n");
    let spec = load_spec_with_env(file.path(), &[], &[]).unwrap().points.remove(0).spec;
    let defaults = crate::experiment::types::FinetuneSpec::default();
    assert_eq!(spec.finetune.recipe.lr, 1e-3);
    assert_eq!(spec.finetune.recipe.epochs, defaults.recipe.epochs);
    assert_ne!(spec.finetune.recipe.epochs, spec.pretrain.epochs, "fine-tuning must not inherit pre-training's epochs");
    assert_eq!(spec.finetune.recipe.warmup_frac, defaults.recipe.warmup_frac);
    let json = serde_json::to_value(&spec.finetune).unwrap();
    assert_eq!((json["lr"].as_f64(), json.get("recipe")), (Some(1e-3), None));
}

#[test]
fn a_badly_typed_fine_tune_recipe_value_names_its_key() {
    let file = spec_file("finetune: { epochs: three }\n");
    let (_, key, message, _) = spec_error(file.path(), &[], &[]);
    assert_eq!((key.as_str(), message.as_str()), ("finetune.epochs", "expected a whole number >= 0, found `three`"));
    let file = spec_file("finetune: { distill: { alpha: high } }\n");
    let (_, key, message, _) = spec_error(file.path(), &[], &[]);
    assert_eq!((key.as_str(), message.as_str()), ("finetune.distill.alpha", "expected a number, found `high`"));
}
