//! `gohsp config SPEC [--set ...]`: every resolved key of a spec, its value, and the layer it came from.

use super::layers::merge_layers;
use super::load::gohsp_env;
pub(crate) use super::origin::Source;
use super::yaml_text::yaml_text;
use crate::error::Result;
use serde_json::Value;
use std::path::Path;

/// One leaf of the merged spec and where its value came from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResolvedValue {
    /// Dotted key, e.g. `finetune.lr` (grid axes as `grid.finetune.lr`).
    pub key: String,
    /// The value as YAML text: a scalar or a flow list.
    pub value: String,
    /// The layer that supplied it.
    pub source: Source,
    /// What the value means where another key's value applies in its place (`admm.lr` absent: `finetune.lr`).
    pub note: Option<String>,
}

/// Every leaf key of the spec at `path` with the `--set` overrides `sets` and the process's `GOHSP_*` variables,
/// sorted by key. Values are shown before grid expansion and range checks, so a bad value can be traced to its layer.
pub(crate) fn describe(path: &Path, sets: &[String]) -> Result<Vec<ResolvedValue>> {
    describe_with_env(path, sets, &gohsp_env())
}

/// [`describe`] with the variables `env` (name, value) in place of the process environment.
pub(crate) fn describe_with_env(path: &Path, sets: &[String], env: &[(String, String)]) -> Result<Vec<ResolvedValue>> {
    let merged = merge_layers(path, sets, env)?;
    let mut values = Vec::new();
    collect_leaves(&merged.tree, "", &mut values);
    for value in &mut values {
        value.source = merged.origins.get(&value.key).cloned().unwrap_or(Source::Default);
    }
    values.sort_by(|a, b| a.key.cmp(&b.key));
    for value in &mut values {
        value.note = w_step_note(&value.key, &value.value, &merged.tree);
    }
    Ok(values)
}

/// Every leaf under `tree` (an empty mapping counts as a leaf), with its dotted key; sources are filled in later.
fn collect_leaves(tree: &Value, prefix: &str, out: &mut Vec<ResolvedValue>) {
    match tree {
        Value::Object(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                collect_leaves(value, &path, out);
            }
        }
        leaf => out.push(ResolvedValue {
            key: prefix.to_string(),
            value: yaml_text(leaf),
            source: Source::Default,
            note: None,
        }),
    }
}

/// Which value the ADMM W-step uses for `key` (`admm.lr`, `admm.distill` and their grid axes): its own when set,
/// fine-tuning's when absent; `None` for every other key.
fn w_step_note(key: &str, value: &str, tree: &Value) -> Option<String> {
    let plain = key.strip_prefix("grid.").unwrap_or(key);
    let (own, inherited) = match plain {
        "admm.lr" => ("admm.lr", "finetune.lr"),
        k if k == "admm.distill" || k.starts_with("admm.distill.") => ("admm.distill", "finetune.distill"),
        _ => return None,
    };
    if value != "null" {
        return Some(format!("the W-step uses {own}, in place of {inherited}"));
    }
    let shown = match tree["grid"].get(inherited) {
        Some(axis) => yaml_text(axis),
        None => yaml_text(inherited.split('.').fold(tree, |node, part| &node[part])),
    };
    Some(format!("the W-step uses {inherited} = {shown}"))
}

/// The values as aligned lines: `finetune.lr = 0.0005   # experiments/q.yaml`, with a note after the source where
/// another key's value applies (`admm.lr = null   # default; the W-step uses finetune.lr = 0.0005`).
pub(crate) fn render(values: &[ResolvedValue]) -> String {
    let key_width = values.iter().map(|v| v.key.chars().count()).max().unwrap_or(0);
    let value_width = values.iter().map(|v| v.value.chars().count()).max().unwrap_or(0);
    let line = |v: &ResolvedValue| {
        let note = v.note.as_ref().map(|n| format!("; {n}")).unwrap_or_default();
        format!("{:<key_width$} = {:<value_width$}   # {}{note}\n", v.key, v.value, v.source)
    };
    values.iter().map(line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn find<'a>(values: &'a [ResolvedValue], key: &str) -> &'a ResolvedValue {
        values.iter().find(|v| v.key == key).unwrap_or_else(|| panic!("no key {key}"))
    }

    #[test]
    fn each_value_names_its_layer() {
        let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
        file.write_all(b"finetune: { lr: 5.0e-4 }\nsparsity: 0.3\ngrid: { rank.damping: [0.8, 0.9] }\n").unwrap();
        let env = [("GOHSP_ADMM__ROUNDS".to_string(), "2".to_string())];
        let sets = ["sparsity=[0.3,0.5]".to_string()];
        let values = describe_with_env(file.path(), &sets, &env).unwrap();
        assert_eq!(find(&values, "finetune.lr").source, Source::File(file.path().to_path_buf()));
        assert_eq!(find(&values, "finetune.lr").value, "0.0005");
        assert_eq!(find(&values, "admm.rounds").source, Source::Env("GOHSP_ADMM__ROUNDS".into()));
        assert_eq!(find(&values, "admm.rounds").value, "2");
        assert_eq!(find(&values, "sparsity").source, Source::Set("sparsity=[0.3,0.5]".into()));
        assert_eq!(find(&values, "sparsity").value, "[0.3, 0.5]");
        assert_eq!(find(&values, "pretrain.epochs").source, Source::Default);
        assert_eq!(find(&values, "model.weights").value, "null");
        assert_eq!(find(&values, "grid.rank.damping").value, "[0.8, 0.9]");
        assert_eq!(find(&values, "rank.head_share").value, "auto");
    }

    #[test]
    fn the_w_steps_lr_and_distillation_say_which_section_applied() {
        let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
        file.write_all(b"finetune: { lr: 2.0e-3 }\n").unwrap();
        let values = describe_with_env(file.path(), &[], &[]).unwrap();
        let lr = find(&values, "admm.lr");
        assert_eq!(lr.note.as_deref(), Some("the W-step uses finetune.lr = 0.002"));
        let distill = find(&values, "admm.distill");
        assert_eq!(distill.note.as_deref(), Some("the W-step uses finetune.distill = {alpha: 0.5, temperature: 4.0}"));
        assert!(render(std::slice::from_ref(lr)).ends_with("# default; the W-step uses finetune.lr = 0.002\n"));
        let sets = ["admm.lr=1.0e-4".to_string(), "admm.distill.alpha=0".to_string()];
        let values = describe_with_env(file.path(), &sets, &[]).unwrap();
        assert_eq!(find(&values, "admm.lr").note.as_deref(), Some("the W-step uses admm.lr, in place of finetune.lr"));
        let alpha = find(&values, "admm.distill.alpha");
        assert_eq!(alpha.note.as_deref(), Some("the W-step uses admm.distill, in place of finetune.distill"));
        assert_eq!(find(&values, "finetune.lr").note, None);
        let grid = describe_with_env(file.path(), &["finetune.lr=[1.0e-3, 2.0e-3]".to_string()], &[]).unwrap();
        assert_eq!(find(&grid, "admm.lr").note.as_deref(), Some("the W-step uses finetune.lr = [0.001, 0.002]"));
        let mut gridded = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
        gridded.write_all(b"grid: { finetune.lr: [1.0e-3] }\n").unwrap();
        let values = describe_with_env(gridded.path(), &[], &[]).unwrap();
        assert_eq!(find(&values, "admm.lr").note.as_deref(), Some("the W-step uses finetune.lr = [0.001]"));
    }

    #[test]
    fn render_aligns_keys_values_and_sources() {
        let values = [
            ResolvedValue {
                key: "finetune.lr".into(),
                value: "0.0005".into(),
                source: Source::File("experiments/q.yaml".into()),
                note: None,
            },
            ResolvedValue { key: "seed".into(), value: "0".into(), source: Source::Default, note: None },
            ResolvedValue {
                key: "admm.rounds".into(),
                value: "2".into(),
                source: Source::Env("GOHSP_ADMM__ROUNDS".into()),
                note: None,
            },
        ];
        let text = render(&values);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "finetune.lr = 0.0005   # experiments/q.yaml");
        assert_eq!(lines[1], "seed        = 0        # default");
        assert_eq!(lines[2], "admm.rounds = 2        # env GOHSP_ADMM__ROUNDS");
        assert_eq!(render(&[]), "");
    }
}
