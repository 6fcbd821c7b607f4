//! Deserialization errors (figment's, wrapping serde's) turned into key problems: the dotted key path, a plain message,
//! and a hint (the closest valid key or value, or the key's default).

use super::keys::suggest;
use super::origin::KeyProblem;
use super::types::TrainSpec;
use super::yaml_text::yaml_text;
use figment::Figment;
use figment::error::{Actual, Kind};
use figment::providers::Serialized;
use serde_json::Value;

/// Sections whose recipe is a flattened struct, with the keys of theirs that the recipe does not hold.
const FLATTENED: &[(&str, &[&str])] = &[("finetune", &["distill"])];

/// `error` with its key path completed when serde lost it inside a flattened recipe (`finetune.epochs: three` fails
/// at `finetune`): the section's recipe keys are deserialized again on their own, which names the failing key.
pub(crate) fn located(error: figment::Error, tree: &Value) -> figment::Error {
    let Some((section, own_keys)) = FLATTENED.iter().find(|(section, _)| error.path == [*section]) else {
        return error;
    };
    let Some(Value::Object(fields)) = tree.get(section) else {
        return error;
    };
    let recipe: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(key, _)| !own_keys.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match Figment::from(Serialized::defaults(recipe)).extract::<TrainSpec>() {
        Err(mut inner) => {
            inner.path.insert(0, section.to_string());
            inner
        }
        Ok(_) => error,
    }
}

/// What keys with an untagged type expect, for errors whose serde message does not say.
const EXPECTED: &[(&str, &str)] = &[("rank.head_share", "`auto` or a number in [0, 1]")];

/// The problem `error` describes, at its dotted key; `defaults` (the default spec as JSON) supplies example values.
pub(crate) fn problem_from(error: &figment::Error, defaults: &Value) -> KeyProblem {
    let mut path = error.path.clone();
    if let Kind::UnknownField(field, _) = &error.kind
        && path.last() != Some(field)
    {
        path.push(field.clone());
    }
    let key = path.join(".");
    let (message, hint) = match &error.kind {
        Kind::UnknownField(field, valid) => ("unknown key".to_string(), suggest(field, valid, "keys here")),
        Kind::UnknownVariant(found, valid) => (format!("unknown value `{found}`"), suggest(found, valid, "values")),
        Kind::InvalidType(found, expected) | Kind::InvalidValue(found, expected) => {
            (format!("expected {}, found {}", expected_text(expected), found_text(found)), default_hint(&key, defaults))
        }
        Kind::Message(_) if let Some((_, expected)) = EXPECTED.iter().find(|(k, _)| *k == key) => {
            (format!("expected {expected}"), default_hint(&key, defaults))
        }
        other => (other.to_string(), default_hint(&key, defaults)),
    };
    KeyProblem::new(key, message, hint)
}

/// A plain description of what serde expected.
fn expected_text(expected: &str) -> String {
    match expected {
        "usize" | "u64" | "u32" | "u16" | "u8" => "a whole number >= 0".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        other => other.to_string(),
    }
}

/// A plain description of the value found.
fn found_text(found: &Actual) -> String {
    match found {
        Actual::Signed(n) => n.to_string(),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Float(x) => x.to_string(),
        Actual::Str(text) => format!("`{text}`"),
        Actual::Unit | Actual::Option => "null".to_string(),
        Actual::Seq => "a list".to_string(),
        Actual::Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}

/// The default value of `key` as an example.
fn default_hint(key: &str, defaults: &Value) -> String {
    let default = key.split('.').try_fold(defaults, |level, segment| level.get(segment));
    match default {
        Some(value) if !value.is_null() => format!("e.g. `{}` (the default)", yaml_text(value)),
        _ => "see the Experiments section of README.md and the specs under experiments/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::types::Spec;

    fn problem(tree: Value) -> KeyProblem {
        let error = Figment::from(Serialized::defaults(tree)).extract::<Spec>().unwrap_err();
        problem_from(&error, &serde_json::to_value(Spec::default()).unwrap())
    }

    #[test]
    fn wrong_types_name_the_key_and_the_default() {
        let found = problem(serde_json::json!({"pretrain": {"epochs": "ten"}}));
        assert_eq!(found.key, "pretrain.epochs");
        assert_eq!(found.message, "expected a whole number >= 0, found `ten`");
        assert_eq!(found.hint, "e.g. `20` (the default)");
    }

    #[test]
    fn negative_unsigned_values_name_the_key() {
        let found = problem(serde_json::json!({"pretrain": {"epochs": -1}}));
        assert_eq!(found.key, "pretrain.epochs");
        assert!(found.message.contains("-1"), "{}", found.message);
    }

    #[test]
    fn unknown_fields_and_variants_get_suggestions() {
        let found = problem(serde_json::json!({"model": {"prest": "x"}}));
        assert_eq!((found.key.as_str(), found.hint.as_str()), ("model.prest", "did you mean `preset`?"));
        let found = problem(serde_json::json!({"method": "gohps"}));
        assert_eq!((found.key.as_str(), found.hint.as_str()), ("method", "did you mean `gohsp`?"));
        let found = problem(serde_json::json!({"rank": {"head_share": "half"}}));
        assert_eq!(found.key, "rank.head_share");
        assert_eq!(found.message, "expected `auto` or a number in [0, 1]");
        assert_eq!(found.hint, "e.g. `auto` (the default)");
    }
}
