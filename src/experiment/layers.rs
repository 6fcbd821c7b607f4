//! The layers of a spec merged with figment, lowest first: defaults < the YAML file < `GOHSP_*` variables < `--set`
//! overrides; the result is one untyped tree plus the source of every leaf.

use super::checks::first_non_finite;
use super::document::file_layer;
use super::keys::{first_unknown_key, schema_tree};
use super::origin::{Origins, Source};
use super::overrides::{env_layers, set_layer};
use super::types::Spec;
use crate::error::{GohspError, Result};
use figment::value::{Dict, Map, Tag, Value as FigValue};
use figment::{Figment, Metadata, Profile, Provider};
use serde_json::Value;
use std::path::Path;

/// One layer: a source and the (possibly partial) tree it supplies.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    /// Where the values come from.
    pub source: Source,
    /// The values, nested by key.
    pub dict: Dict,
}

/// All layers merged: the tree before grid expansion and the source of each of its leaves.
#[derive(Clone, Debug)]
pub(crate) struct Merged {
    /// The merged tree (`name` filled from the file stem when empty; `grid` present only when given).
    pub tree: Value,
    /// The source of every leaf of `tree`.
    pub origins: Origins,
}

/// Prefix of the figment metadata name that carries a layer's index.
const LAYER_NAME: &str = "gohsp spec layer ";

/// A layer as a figment provider, named by its index so a value's tag leads back to its source.
struct IndexedLayer<'a>(usize, &'a Layer);

impl Provider for IndexedLayer<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("{LAYER_NAME}{}", self.0))
    }

    fn data(&self) -> std::result::Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.1.dict.clone()))
    }
}

/// Merge the defaults, the spec `file`, the `GOHSP_*` variables of `env` and the `--set` overrides `sets`; an unknown
/// key in any of them is an error naming the key and where it came from.
pub(crate) fn merge_layers(file: &Path, sets: &[String], env: &[(String, String)]) -> Result<Merged> {
    let schema = schema_tree();
    let mut layers = vec![default_layer()?, file_layer(file)?];
    layers.extend(env_layers(file, env, &schema)?);
    for set in sets {
        layers.push(set_layer(file, set, &schema)?);
    }
    let figment =
        layers.iter().enumerate().fold(Figment::new(), |merged, (i, layer)| merged.merge(IndexedLayer(i, layer)));
    let dict = figment.data().ok().and_then(|mut profiles| profiles.remove(&Profile::Default)).unwrap_or_default();
    let mut origins = Origins::default();
    record_origins(&figment, &layers, &dict, "", &mut origins);
    if let Some(problem) = first_non_finite(&dict, "") {
        return Err(origins.error(file, problem));
    }
    let mut tree = serde_json::to_value(&dict).map_err(|e| GohspError::Internal(format!("merged spec: {e}")))?;
    fill_name(&mut tree, file);
    match first_unknown_key(&tree, &schema) {
        Some(problem) => Err(origins.error(file, problem)),
        None => Ok(Merged { tree, origins }),
    }
}

/// The built-in defaults as a layer.
fn default_layer() -> Result<Layer> {
    let value = FigValue::serialize(Spec::default()).map_err(|e| GohspError::Internal(format!("default spec: {e}")))?;
    let dict = value.into_dict().unwrap_or_default();
    Ok(Layer { source: Source::Default, dict })
}

/// Record the source of every leaf of `dict` (an empty mapping counts as a leaf) under its dotted key.
fn record_origins(figment: &Figment, layers: &[Layer], dict: &Dict, prefix: &str, origins: &mut Origins) {
    for (key, value) in dict {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            FigValue::Dict(_, inner) if !inner.is_empty() => record_origins(figment, layers, inner, &path, origins),
            _ => origins.insert(path, source_of(figment, layers, value.tag())),
        }
    }
}

/// The layer behind a value's tag.
fn source_of(figment: &Figment, layers: &[Layer], tag: Tag) -> Source {
    let index = figment.get_metadata(tag).and_then(|meta| meta.name.strip_prefix(LAYER_NAME)?.parse::<usize>().ok());
    index.and_then(|i| layers.get(i)).map_or(Source::Default, |layer| layer.source.clone())
}

/// An empty or absent `name` becomes the spec file's stem.
fn fill_name(tree: &mut Value, file: &Path) {
    let Value::Object(top) = tree else { return };
    let empty = top.get("name").is_none_or(|name| name.is_null() || name.as_str() == Some(""));
    if empty {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        top.insert("name".to_string(), Value::String(stem));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::spec_file;

    #[test]
    fn file_values_beat_defaults_and_keep_their_source() {
        let file = spec_file("finetune: { lr: 1.0e-4 }\n");
        let merged = merge_layers(file.path(), &[], &[]).unwrap();
        assert_eq!(merged.tree["finetune"]["lr"], 1e-4);
        assert_eq!(merged.tree["finetune"]["epochs"], 5);
        assert_eq!(merged.origins.of("finetune.lr"), Source::File(file.path().to_path_buf()));
        assert_eq!(merged.origins.of("finetune.epochs"), Source::Default);
    }

    #[test]
    fn name_defaults_to_the_file_stem() {
        let file = spec_file("seed: 3\n");
        let merged = merge_layers(file.path(), &[], &[]).unwrap();
        let stem = file.path().file_stem().unwrap().to_str().unwrap();
        assert_eq!(merged.tree["name"], stem);
    }
}
