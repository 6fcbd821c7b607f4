//! Cache keys: the parts that decide a stage's output, and their blake3 hash over canonical (key-sorted) JSON.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::stage::StageKind;

/// Bumped when the layout or meaning of cache entries changes; every key changes with it.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// One input of a node as it enters the key: the input's kind and key.
///
/// The input's label is deliberately not part of the key: renaming a node must not invalidate its dependants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InputKeyPart {
    /// The input node's kind.
    pub kind: StageKind,
    /// The input node's cache key (hex).
    pub key: String,
}

/// Everything that decides a stage's output. Its canonical JSON is hashed into the [`CacheKey`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CacheKeyParts {
    /// The stage kind.
    pub kind: StageKind,
    /// The stage's resolved params, with every object's keys sorted (see [`canonical_json`]).
    pub params: Value,
    /// The inputs' keys, in the order the node lists its inputs.
    pub inputs: Vec<InputKeyPart>,
    /// A fingerprint of the dataset the stage sees.
    pub dataset_fingerprint: String,
    /// [`FORMAT_VERSION`] when the key was made.
    pub format_version: u32,
}

impl CacheKeyParts {
    /// Key parts for the current format version; `params` are canonicalised.
    pub(crate) fn new(kind: StageKind, params: &Value, inputs: Vec<InputKeyPart>, dataset_fingerprint: &str) -> Self {
        Self {
            kind,
            params: canonical_json(params),
            inputs,
            dataset_fingerprint: dataset_fingerprint.to_string(),
            format_version: FORMAT_VERSION,
        }
    }

    /// The blake3 hash of these parts' canonical JSON.
    pub(crate) fn key(&self) -> CacheKey {
        let canonical = Self { params: canonical_json(&self.params), ..self.clone() };
        let bytes = serde_json::to_vec(&canonical).expect("JSON values and plain structs always serialise");
        CacheKey(blake3::hash(&bytes).to_hex().to_string())
    }
}

/// A cache key: 64 lowercase hex digits of blake3.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct CacheKey(pub String);

impl CacheKey {
    /// The hex string.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for logs.
    pub(crate) fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A copy of `value` with every object's keys in sorted order, whatever serde_json's `preserve_order` feature says.
pub(crate) fn canonical_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let sorted: Map<String, Value> = entries.into_iter().map(|(k, v)| (k.clone(), canonical_json(v))).collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parts(params: Value) -> CacheKeyParts {
        CacheKeyParts::new(StageKind::Finetune, &params, vec![], "mnist5k")
    }

    #[test]
    fn key_ignores_the_order_params_were_written_in() {
        let a: Value = serde_json::from_str(r#"{"lr": 0.001, "distill": {"alpha": 0.5, "t": 4.0}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"distill": {"t": 4.0, "alpha": 0.5}, "lr": 0.001}"#).unwrap();
        assert_eq!(parts(a).key(), parts(b).key());
    }

    #[test]
    fn key_is_64_hex_digits_and_changes_with_every_part() {
        let base = parts(json!({"lr": 0.001}));
        let key = base.key();
        assert_eq!(key.as_str().len(), 64);
        assert!(key.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        let mut changed = vec![parts(json!({"lr": 0.002})), base.clone(), base.clone(), base.clone(), base.clone()];
        changed[1].kind = StageKind::Pretrain;
        changed[2].inputs.push(InputKeyPart { kind: StageKind::Prune, key: "ab".into() });
        changed[3].dataset_fingerprint = "cifar10".into();
        changed[4].format_version += 1;
        for other in changed {
            assert_ne!(other.key(), key, "{other:?}");
        }
    }

    #[test]
    fn canonical_json_sorts_nested_keys() {
        let value: Value = serde_json::from_str(r#"{"b": [{"z": 1, "a": 2}], "a": 0}"#).unwrap();
        assert_eq!(serde_json::to_string(&canonical_json(&value)).unwrap(), r#"{"a":0,"b":[{"a":2,"z":1}]}"#);
    }
}
