//! Spec layers from the command line and the environment: `--set a.b=VALUE` and `GOHSP_A__B=VALUE`, values read as YAML.

use super::document::yaml_error_text;
use super::keys::{GRID_KEY, first_unknown_key};
use super::layers::Layer;
use super::origin::Source;
use crate::error::{GohspError, Result};
use figment::value::{Dict, Value as FigValue};
use serde_json::Value;
use std::path::Path;

/// Prefix of the environment variables that override spec keys.
pub(crate) const ENV_PREFIX: &str = "GOHSP_";

/// Separator of nesting levels in a variable name (`GOHSP_FINETUNE__LR`).
const ENV_SEPARATOR: &str = "__";

/// One layer per `GOHSP_*` variable whose first segment is a top-level spec key or `grid` (others, such as `GOHSP_LOG`,
/// are not spec keys and are skipped), sorted by variable name.
pub(crate) fn env_layers(file: &Path, env: &[(String, String)], schema: &Value) -> Result<Vec<Layer>> {
    let mut vars: Vec<&(String, String)> = env.iter().filter(|(name, _)| name.starts_with(ENV_PREFIX)).collect();
    vars.sort();
    let mut layers = Vec::new();
    for (name, text) in vars {
        let segments: Vec<String> = name[ENV_PREFIX.len()..].split(ENV_SEPARATOR).map(str::to_lowercase).collect();
        if schema.get(&segments[0]).is_none() {
            continue;
        }
        let source = Source::Env(name.clone());
        layers.push(override_layer(file, source, &segments, text, schema)?);
    }
    Ok(layers)
}

/// The layer of one `--set KEY=VALUE` override; a malformed text or an unknown key is an error naming it.
pub(crate) fn set_layer(file: &Path, text: &str, schema: &Value) -> Result<Layer> {
    let source = Source::Set(text.to_string());
    let Some((key, value)) = text.split_once('=').filter(|(key, _)| !key.trim().is_empty()) else {
        let message = format!("`--set {text}` is not KEY=VALUE");
        return Err(GohspError::spec(label(file, &source), text, message, "e.g. --set finetune.lr=1e-4"));
    };
    let segments: Vec<String> = key.trim().split('.').map(str::to_string).collect();
    override_layer(file, source, &segments, value, schema)
}

/// A layer holding the YAML `text` at the key path `segments` (`grid` + the rest as one dotted axis key).
fn override_layer(file: &Path, source: Source, segments: &[String], text: &str, schema: &Value) -> Result<Layer> {
    let path = match segments.split_first() {
        Some((first, rest)) if first == GRID_KEY && !rest.is_empty() => {
            vec![first.clone(), rest.join(".")]
        }
        _ => segments.to_vec(),
    };
    let key = path.join(".");
    let value: FigValue = serde_yaml::from_str(text).map_err(|e| {
        GohspError::spec(
            label(file, &source),
            &key,
            yaml_error_text(&e),
            "the value is read as YAML, e.g. 0.3, [0.3, 0.5], null",
        )
    })?;
    let dict = nested(&path, value);
    let tree = serde_json::to_value(&dict).map_err(|e| GohspError::Internal(format!("override {key}: {e}")))?;
    if let Some(problem) = first_unknown_key(&tree, schema) {
        return Err(GohspError::spec(label(file, &source), problem.key, problem.message, problem.hint));
    }
    Ok(Layer { source, dict })
}

/// `value` placed at `path` in otherwise empty nested dicts.
fn nested(path: &[String], value: FigValue) -> Dict {
    let (last, parents) = path.split_last().expect("an override key has at least one segment");
    let mut dict = Dict::new();
    dict.insert(last.clone(), value);
    for parent in parents.iter().rev() {
        let mut outer = Dict::new();
        outer.insert(parent.clone(), FigValue::from(dict));
        dict = outer;
    }
    dict
}

/// The `file` field of an error about an override: the spec file and the override.
fn label(file: &Path, source: &Source) -> String {
    format!("{} ({source})", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::keys::schema_tree;

    fn json(layer: &Layer) -> Value {
        serde_json::to_value(&layer.dict).unwrap()
    }

    #[test]
    fn set_values_are_yaml() {
        let schema = schema_tree();
        let file = Path::new("q.yaml");
        assert_eq!(
            json(&set_layer(file, "sparsity=[0.3,0.5]", &schema).unwrap()),
            serde_json::json!({"sparsity": [0.3, 0.5]})
        );
        assert_eq!(
            json(&set_layer(file, "finetune.distill=null", &schema).unwrap())["finetune"]["distill"],
            Value::Null
        );
        assert_eq!(json(&set_layer(file, "rank.head_share=auto", &schema).unwrap())["rank"]["head_share"], "auto");
        assert_eq!(json(&set_layer(file, "finetune.lr=1e-4", &schema).unwrap())["finetune"]["lr"], 1e-4);
        let grid = json(&set_layer(file, "grid.finetune.lr=[1e-4]", &schema).unwrap());
        assert_eq!(grid["grid"]["finetune.lr"], serde_json::json!([1e-4]));
    }

    #[test]
    fn bad_set_texts_are_errors_naming_the_key() {
        let schema = schema_tree();
        let file = Path::new("q.yaml");
        let error = set_layer(file, "nosuch.key=1", &schema).unwrap_err().to_string();
        assert!(error.contains("key `nosuch`") && error.contains("--set nosuch.key=1"), "{error}");
        assert!(set_layer(file, "sparsity", &schema).unwrap_err().to_string().contains("KEY=VALUE"));
        assert!(set_layer(file, "sparsity=[0.3", &schema).unwrap_err().to_string().contains("key `sparsity`"));
    }

    #[test]
    fn env_takes_only_spec_keys_and_splits_on_double_underscores() {
        let env = [
            ("GOHSP_FINETUNE__WEIGHT_DECAY".to_string(), "0.1".to_string()),
            ("GOHSP_LOG".to_string(), "debug".to_string()),
            ("GOHSP_CACHE".to_string(), "/tmp".to_string()),
            ("HOME".to_string(), "/root".to_string()),
            ("GOHSP_GRID__FINETUNE__LR".to_string(), "[1e-4, 5e-4]".to_string()),
        ];
        let layers = env_layers(Path::new("q.yaml"), &env, &schema_tree()).unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(json(&layers[0])["finetune"]["weight_decay"], 0.1);
        assert_eq!(layers[0].source, Source::Env("GOHSP_FINETUNE__WEIGHT_DECAY".into()));
        assert_eq!(json(&layers[1])["grid"]["finetune.lr"], serde_json::json!([1e-4, 5e-4]));
    }
}
