//! One-line YAML text of a spec value (`0.0005`, `auto`, `[1, 64]`, `{alpha: 0.5}`), as `gohsp config`, grid point
//! names and error hints show it.

use serde_json::Value;

/// The value as YAML flow text that parses back to the same value.
pub(crate) fn yaml_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string_text(text),
        Value::Array(items) => format!("[{}]", items.iter().map(yaml_text).collect::<Vec<_>>().join(", ")),
        Value::Object(entries) => {
            let fields: Vec<String> =
                entries.iter().map(|(k, v)| format!("{}: {}", string_text(k), yaml_text(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

/// A string plain when YAML reads it back as the same string in flow context, quoted otherwise.
fn string_text(text: &str) -> String {
    let flow_safe = !text.contains([',', '[', ']', '{', '}', '#', ':', '"', '\'']) && text.trim() == text;
    let reparsed: Option<serde_yaml::Value> = serde_yaml::from_str(text).ok();
    if flow_safe && reparsed.as_ref().and_then(serde_yaml::Value::as_str) == Some(text) {
        text.to_string()
    } else {
        Value::String(text.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_are_plain() {
        assert_eq!(yaml_text(&json!(0.0005)), "0.0005");
        assert_eq!(yaml_text(&json!(128)), "128");
        assert_eq!(yaml_text(&json!("auto")), "auto");
        assert_eq!(yaml_text(&json!(null)), "null");
        assert_eq!(yaml_text(&json!(true)), "true");
    }

    #[test]
    fn strings_that_would_read_back_differently_are_quoted() {
        assert_eq!(yaml_text(&json!("1")), "\"1\"");
        assert_eq!(yaml_text(&json!("null")), "\"null\"");
        assert_eq!(yaml_text(&json!("")), "\"\"");
        assert_eq!(yaml_text(&json!("a, b")), "\"a, b\"");
    }

    #[test]
    fn lists_and_maps_are_flow_style_and_parse_back() {
        let value = json!({"alpha": 0.5, "list": [1, "x"], "nested": {"t": 4.0}});
        let text = yaml_text(&value);
        assert_eq!(text, "{alpha: 0.5, list: [1, x], nested: {t: 4.0}}");
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
