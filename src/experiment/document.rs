//! Reading the spec file: its YAML document as the file layer, with errors that name the file and the line.

use super::layers::Layer;
use super::origin::Source;
use crate::error::{GohspError, Result};
use figment::value::Dict;
use std::path::Path;

/// The spec file as a layer; a missing file or a YAML syntax error names the file (and the line).
pub(crate) fn file_layer(file: &Path) -> Result<Layer> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        let (message, hint) = match e.kind() {
            std::io::ErrorKind::NotFound => {
                ("spec file not found".to_string(), "check the path, e.g. experiments/quickstart.yaml")
            }
            _ => (format!("cannot read the spec file: {e}"), "check the file's permissions"),
        };
        GohspError::spec(file.display().to_string(), "", message, hint)
    })?;
    let dict = parse_document(&text).map_err(|message| {
        GohspError::spec(
            file.display().to_string(),
            "",
            message,
            "a spec is a YAML mapping; see the specs under experiments/",
        )
    })?;
    Ok(Layer { source: Source::File(file.to_path_buf()), dict })
}

/// Parse a YAML document into a dict; an empty document is an empty dict.
pub(crate) fn parse_document(text: &str) -> std::result::Result<Dict, String> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| yaml_error_text(&e))?;
    match value {
        serde_yaml::Value::Null => Ok(Dict::new()),
        mapping @ serde_yaml::Value::Mapping(_) => serde_yaml::from_value(mapping).map_err(|e| yaml_error_text(&e)),
        _ => Err("the top level of a spec must be a mapping of keys to values".to_string()),
    }
}

/// A YAML error's text, with its line and column when serde_yaml knows them.
pub(crate) fn yaml_error_text(error: &serde_yaml::Error) -> String {
    let text = error.to_string();
    match error.location() {
        Some(at) if !text.contains("line") => {
            format!("invalid YAML at line {}, column {}: {text}", at.line(), at.column())
        }
        _ => format!("invalid YAML: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::layers::merge_layers;
    use crate::test_support::spec_file;

    #[test]
    fn yaml_syntax_errors_name_the_line() {
        let file = spec_file("seed: 1\nmodel:\n  preset: [vit\n");
        let error = merge_layers(file.path(), &[], &[]).unwrap_err();
        assert!(error.to_string().contains("line"), "{error}");
        assert!(error.to_string().contains(&file.path().display().to_string()));
        assert_eq!(
            parse_document("- 1\n- 2\n").unwrap_err(),
            "the top level of a spec must be a mapping of keys to values"
        );
        assert!(parse_document("# only a comment\n").unwrap().is_empty());
    }
}
