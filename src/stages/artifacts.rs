//! Reading and writing the artifacts stages exchange: models, JSON records, masks and metrics.

use crate::error::{GohspError, IoContext, Result};
use crate::model::io::{load_vit, save_vit};
use crate::model::manifest::PrunedManifest;
use crate::model::vit::Vit;
use burn::tensor::Device;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// The mask file ADMM and prune stages write.
pub(crate) const MASK_FILE: &str = "mask.json";

/// The model file every model-producing stage writes.
pub(crate) const MODEL_FILE: &str = "model.safetensors";

/// Write `value` as pretty JSON to `dir/name`.
pub(crate) fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<()> {
    let path = dir.join(name);
    crate::fault::write(&path, &serde_json::to_vec_pretty(value).expect("artifact serialises")).at_path(&path)
}

/// Read `dir/name` as JSON.
pub(crate) fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).at_path(&path)?;
    serde_json::from_slice(&bytes).map_err(|e| GohspError::Internal(format!("{}: {e}", path.display())))
}

/// Save a model artifact (with its manifest, if pruned).
pub(crate) fn write_model(dir: &Path, model: &Vit, manifest: Option<&PrunedManifest>) -> Result<()> {
    save_vit(model, manifest, &dir.join(MODEL_FILE))
}

/// Load the model artifact of a stage's output folder onto `device`.
pub(crate) fn read_model(dir: &Path, device: &Device) -> Result<(Vit, Option<PrunedManifest>)> {
    load_vit(&dir.join(MODEL_FILE), None, device)
}
