//! The spec's key schema (every dotted key a spec may set, plus `grid`) and the "did you mean" hint for a key that is
//! not in it.

use super::origin::KeyProblem;
use super::types::{DatasetSpec, ModelSpec, Spec};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// The top-level block of grid axes (dotted key -> list of values); not a field of `Spec`.
pub(crate) const GRID_KEY: &str = "grid";

/// The key tree of a spec: the default spec serialized with every optional field present, plus an empty `grid`.
pub(crate) fn schema_tree() -> Value {
    let mut tree = serde_json::to_value(spec_with_every_option()).expect("the default spec serializes to JSON");
    if let Value::Object(top) = &mut tree {
        top.insert(GRID_KEY.to_string(), Value::Object(Map::new()));
    }
    tree
}

/// The default spec with every `Option` field `Some`, so that its serialization names every settable key.
fn spec_with_every_option() -> Spec {
    let some = Some(1);
    let model = ModelSpec {
        weights: Some(PathBuf::from("model.safetensors")),
        image_size: some,
        patch_size: some,
        in_chans: some,
        num_classes: some,
        dim: some,
        depth: some,
        heads: some,
        mlp_ratio: Some(4.0),
        ..ModelSpec::default()
    };
    let dataset =
        DatasetSpec { root: Some(PathBuf::from("data")), limit: some, test_limit: some, ..DatasetSpec::default() };
    let mut spec = Spec { model, dataset, ..Spec::default() };
    spec.pretrain.grad_clip = Some(1.0);
    spec.finetune.recipe.grad_clip = Some(1.0);
    spec.finetune.distill = Some(Default::default());
    spec.admm.lr = Some(5e-4);
    spec.admm.distill = Some(Default::default());
    spec.report.dir = Some(PathBuf::from("docs/results"));
    spec.executor.slurm = super::executor::SlurmSpec::with_every_option();
    spec
}

/// The first key of `tree` (depth first, sorted) that the schema does not know, as a problem with a hint.
/// Keys of the `grid` block are dotted paths into the schema; a value below a schema leaf is left to serde to judge.
pub(crate) fn first_unknown_key(tree: &Value, schema: &Value) -> Option<KeyProblem> {
    let Value::Object(entries) = tree else {
        return None;
    };
    for (key, value) in entries {
        if key == GRID_KEY {
            if let Some(problem) = first_unknown_grid_key(value, schema) {
                return Some(problem);
            }
            continue;
        }
        let segments = [key.as_str()];
        if let Err(problem) = check_path(schema, &segments) {
            return Some(problem);
        }
        if let Some(mut problem) = first_unknown_key(value, &schema[key.as_str()]) {
            problem.key = format!("{key}.{}", problem.key);
            return Some(problem);
        }
    }
    None
}

/// The first axis of a `grid` block whose dotted key is not in the schema.
fn first_unknown_grid_key(grid: &Value, schema: &Value) -> Option<KeyProblem> {
    let Value::Object(axes) = grid else {
        return None;
    };
    axes.keys().find_map(|axis| {
        let segments: Vec<&str> = axis.split('.').collect();
        check_path(schema, &segments).err().map(|mut problem| {
            problem.key = format!("{GRID_KEY}.{}", problem.key);
            problem
        })
    })
}

/// Check that the dotted path `segments` exists in `schema` (or runs below one of its leaves).
pub(crate) fn check_path(schema: &Value, segments: &[&str]) -> Result<(), KeyProblem> {
    let mut level = schema;
    for (depth, segment) in segments.iter().enumerate() {
        let Value::Object(keys) = level else {
            return Ok(());
        };
        match keys.get(*segment) {
            Some(child) => level = child,
            None => {
                let names: Vec<&str> = keys.keys().map(String::as_str).collect();
                let key = segments[..=depth].join(".");
                return Err(KeyProblem::new(key, "unknown key", suggest(segment, &names, "keys here")));
            }
        }
    }
    Ok(())
}

/// "did you mean `x`?" when one of `candidates` is close to `word`, else "valid NOUN: a, b, c".
pub(crate) fn suggest(word: &str, candidates: &[&str], noun: &str) -> String {
    match closest(word, candidates) {
        Some(candidate) => format!("did you mean `{candidate}`?"),
        None => format!("valid {noun}: {}", candidates.join(", ")),
    }
}

/// The candidate nearest to `word`, when it is within a third of the word's length (at least one edit). Distances are
/// edits of characters with a swap of neighbours counting as one (optimal string alignment).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let (distance, candidate) = candidates.iter().map(|c| (strsim::osa_distance(word, c), *c)).min()?;
    (distance <= limit).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schema_names_optional_keys_and_grid() {
        let schema = schema_tree();
        assert!(check_path(&schema, &["model", "weights"]).is_ok());
        assert!(check_path(&schema, &["dataset", "root"]).is_ok());
        assert!(check_path(&schema, &["finetune", "distill", "temperature"]).is_ok());
        assert!(schema[GRID_KEY].is_object());
    }

    #[test]
    fn every_option_that_defaults_to_none_is_in_the_schema() {
        fn nulls(value: &Value, path: String, out: &mut Vec<String>) {
            match value {
                Value::Null => out.push(path),
                Value::Object(map) => map.iter().for_each(|(k, v)| nulls(v, format!("{path}.{k}"), out)),
                _ => {}
            }
        }
        let mut missing = Vec::new();
        nulls(&schema_tree(), String::new(), &mut missing);
        assert!(missing.is_empty(), "optional keys without a schema value: {missing:?}");
        let roundtrip: Result<Spec, _> = serde_json::from_value({
            let mut tree = schema_tree();
            tree.as_object_mut().unwrap().remove(GRID_KEY);
            tree
        });
        assert!(roundtrip.is_ok());
    }

    #[test]
    fn unknown_keys_are_found_with_a_hint() {
        let schema = schema_tree();
        let problem = first_unknown_key(&json!({"model": {"prest": "x"}}), &schema).unwrap();
        assert_eq!(problem.key, "model.prest");
        assert_eq!(problem.hint, "did you mean `preset`?");
        let problem = first_unknown_key(&json!({"grid": {"finetune.lrr": [1]}}), &schema).unwrap();
        assert_eq!(problem.key, "grid.finetune.lrr");
        assert!(first_unknown_key(&json!({"grid": {"finetune.lr": [1]}, "sparsity": [0.3]}), &schema).is_none());
    }

    #[test]
    fn far_off_keys_list_the_valid_ones() {
        let hint = suggest("zzzzzz", &["preset", "weights"], "keys here");
        assert_eq!(hint, "valid keys here: preset, weights");
        // 5 characters allow one edit: the swap is one (two for plain Levenshtein); kitten is 3 edits from sitting.
        assert_eq!(closest("gohps", &["gohsp", "magnitude"]), Some("gohsp"), "a swap of neighbours is one edit");
        assert_eq!(closest("sitting", &["kitten"]), None, "three edits are more than a third of 7 characters");
        assert_eq!(closest("prest", &["preset", "weights"]), Some("preset"));
    }
}
