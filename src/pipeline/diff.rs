//! Differences between two JSON param trees, as dotted paths (`distill.alpha`) with old and new values.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// One param that differs: its path, and its value before and after (`None` when absent on that side).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamChange {
    /// Dotted path, with `[i]` for array items: `lr`, `distill.alpha`, `latency_batches[1]`.
    pub path: String,
    /// The old value.
    pub old: Option<Value>,
    /// The new value.
    pub new: Option<Value>,
}

impl fmt::Display for ParamChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |value: &Option<Value>| value.as_ref().map_or("(absent)".to_string(), Value::to_string);
        write!(f, "{}: {} -> {}", self.path, show(&self.old), show(&self.new))
    }
}

/// Every leaf where `old` and `new` differ, in path order.
pub(crate) fn diff_params(old: &Value, new: &Value) -> Vec<ParamChange> {
    let mut changes = Vec::new();
    diff_at("", Some(old), Some(new), &mut changes);
    changes
}

fn diff_at(path: &str, old: Option<&Value>, new: Option<&Value>, changes: &mut Vec<ParamChange>) {
    match (old, new) {
        (Some(a), Some(b)) if a == b => {}
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                diff_at(&join(path, key), a.get(key), b.get(key), changes);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_at(&format!("{path}[{i}]"), Some(x), Some(y), changes);
            }
        }
        _ => changes.push(ParamChange { path: display_path(path), old: old.cloned(), new: new.cloned() }),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn display_path(path: &str) -> String {
    if path.is_empty() { "(params)".to_string() } else { path.to_string() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_nested_paths_with_old_and_new_values() {
        let old = json!({"lr": 0.001, "distill": {"alpha": 0.5, "t": 4.0}, "batches": [1, 64], "gone": true});
        let new = json!({"lr": 0.001, "distill": {"alpha": 0.7, "t": 4.0}, "batches": [1, 32], "added": "x"});
        let lines: Vec<String> = diff_params(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            ["added: (absent) -> \"x\"", "batches[1]: 64 -> 32", "distill.alpha: 0.5 -> 0.7", "gone: true -> (absent)"]
        );
    }

    #[test]
    fn equal_trees_have_no_changes_and_arrays_of_other_length_change_whole() {
        assert!(diff_params(&json!({"a": [1, 2]}), &json!({"a": [1, 2]})).is_empty());
        let changes = diff_params(&json!({"a": [1, 2]}), &json!({"a": [1]}));
        assert_eq!(changes[0].to_string(), "a: [1,2] -> [1]");
        assert_eq!(diff_params(&json!(1), &json!(2))[0].path, "(params)");
    }
}
