//! The kinds of value check a spec needs (at least N, within an interval, one of a list, an existing path), each
//! recording a key problem when it fails.

use super::interval::Interval;
use super::keys::closest;
use super::origin::KeyProblem;
use std::path::Path;

/// The problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    /// Every failed check, in the order checked.
    pub problems: Vec<KeyProblem>,
}

impl Checks {
    /// Record a problem with `key`.
    pub(crate) fn fail(&mut self, key: &str, message: String, hint: &str) {
        self.problems.push(KeyProblem::new(key, message, hint));
    }

    /// `value` must be at least `min`.
    pub(crate) fn at_least(&mut self, key: &str, value: usize, min: usize, hint: &str) {
        if value < min {
            self.fail(key, format!("must be at least {min}, got {value}"), hint);
        }
    }

    /// `value` must lie in `interval`.
    pub(crate) fn within(&mut self, key: &str, value: f64, interval: Interval, hint: &str) {
        if !interval.contains(value) {
            self.fail(key, format!("must be {interval}, got {value}"), hint);
        }
    }

    /// `value` must be one of `valid`; the hint names the closest or lists them all.
    pub(crate) fn one_of(&mut self, key: &str, value: &str, valid: &[&str], what: &str) {
        if !valid.contains(&value) {
            let listed = format!("valid {what}s: {}", valid.join(", "));
            let hint = match closest(value, valid) {
                Some(near) => format!("did you mean `{near}`? {listed}"),
                None => listed,
            };
            self.fail(key, format!("unknown {what} `{value}`"), &hint);
        }
    }

    /// `path`, when given, must be an existing directory (`directory`) or file.
    pub(crate) fn existing(&mut self, key: &str, path: Option<&Path>, directory: bool, what: &str, hint: &str) {
        let Some(path) = path else { return };
        let exists = if directory { path.is_dir() } else { path.is_file() };
        if !exists {
            let kind = if directory { "directory" } else { "file" };
            let message = format!("missing {what}: `{}` is not an existing {kind}", path.display());
            self.fail(key, message, &format!("{hint} (relative paths are read from the current directory)"));
        }
    }
}

/// The first number under `dict` (keys below `prefix`, lists included) that is NaN or infinite: YAML's `.nan` and
/// `.inf` parse as floats but no spec value may take them (they would turn into `null`, i.e. the default, later).
pub(crate) fn first_non_finite(dict: &figment::value::Dict, prefix: &str) -> Option<KeyProblem> {
    dict.iter().find_map(|(key, value)| {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        non_finite_in(value, &path)
    })
}

fn non_finite_in(value: &figment::value::Value, path: &str) -> Option<KeyProblem> {
    use figment::value::Value;
    match value {
        Value::Num(_, num) => num.to_f64().filter(|v| !v.is_finite()).map(|v| {
            KeyProblem::new(path, format!("must be a finite number, got {v}"), "write a plain number, e.g. 0.5")
        }),
        Value::Dict(_, inner) => first_non_finite(inner, path),
        Value::Array(_, items) => items.iter().find_map(|item| non_finite_in(item, path)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_checks_describe_the_bound_and_the_value() {
        let mut checks = Checks::default();
        checks.within("sparsity", 1.2, Interval::below(0.0, 0.95), "h");
        checks.within("finetune.lr", 0.0, Interval::POSITIVE, "h");
        checks.at_least("pretrain.epochs", 0, 1, "h");
        checks.one_of("model.preset", "deit_tiy", &["deit_tiny", "vit_mnist"], "preset");
        let messages: Vec<&str> = checks.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "must be in [0, 0.95), got 1.2",
                "must be > 0, got 0",
                "must be at least 1, got 0",
                "unknown preset `deit_tiy`"
            ]
        );
        assert_eq!(checks.problems[3].hint, "did you mean `deit_tiny`? valid presets: deit_tiny, vit_mnist");
    }

    #[test]
    fn nan_and_infinities_anywhere_in_a_spec_are_found_with_their_key() {
        for (text, key) in [
            ("model: { mlp_ratio: .nan }", "model.mlp_ratio"),
            ("admm: { rho: .inf }", "admm.rho"),
            ("grid: { sparsity: [0.2, -.inf] }", "grid.sparsity"),
        ] {
            let dict = crate::experiment::document::parse_document(text).unwrap();
            let problem = first_non_finite(&dict, "").unwrap_or_else(|| panic!("{text}: not found"));
            assert_eq!(problem.key, key);
            assert!(problem.message.starts_with("must be a finite number"), "{}", problem.message);
        }
        let fine = crate::experiment::document::parse_document("model: { mlp_ratio: 4.0 }\nseed: 3").unwrap();
        assert!(first_non_finite(&fine, "").is_none());
    }

    #[test]
    fn paths_must_exist_with_the_right_kind() {
        let dir = tempfile::tempdir().unwrap();
        let mut checks = Checks::default();
        checks.existing("dataset.root", Some(dir.path()), true, "dataset root", "h");
        checks.existing("model.weights", Some(dir.path()), false, "weights file", "h");
        checks.existing("model.weights", None, false, "weights file", "h");
        assert_eq!(checks.problems.len(), 1);
        assert!(checks.problems[0].message.starts_with("missing weights file"));
    }
}
