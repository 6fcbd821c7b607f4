//! The `config.json` that transformers and timm's hub ship beside a weights file: the head count, LayerNorm eps and
//! image and patch size, which the tensors alone do not say (a head count guessed from the width is often wrong).

use crate::error::{GohspError, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The file name looked for beside the weights.
pub(crate) const CONFIG_FILE: &str = "config.json";

/// What a config.json says about the architecture (each field only when the file gives it).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct HubConfig {
    /// The file read.
    pub path: PathBuf,
    /// Attention heads per block.
    pub heads: Option<usize>,
    /// LayerNorm epsilon.
    pub eps: Option<f64>,
    /// Input side in pixels.
    pub image_size: Option<usize>,
    /// Patch side in pixels.
    pub patch_size: Option<usize>,
}

/// The config.json in the folder of `weights`, if there is one; an unreadable or malformed one is an input error.
pub(crate) fn config_beside(weights: &Path) -> Result<Option<HubConfig>> {
    let path = weights.parent().unwrap_or(Path::new(".")).join(CONFIG_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let hint = "fix or remove the config.json beside the weights (it must be the model's transformers or timm config)";
    let text =
        std::fs::read_to_string(&path).map_err(|e| GohspError::input(&path, format!("unreadable: {e}"), hint))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| GohspError::input(&path, format!("not JSON: {e}"), hint))?;
    parse(&json, &path).map(Some)
}

/// Reads the transformers keys (`num_attention_heads`, `layer_norm_eps`, `image_size`, `patch_size`) or timm's
/// (`model_args` with `num_heads`, `img_size`, `patch_size`; else the head count of a known `architecture`).
fn parse(json: &Value, path: &Path) -> Result<HubConfig> {
    let args = json.get("model_args").unwrap_or(&Value::Null);
    let count = |key: &str| -> Result<Option<usize>> {
        match json.get(key).or_else(|| args.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value.as_u64().filter(|v| *v > 0).map(|v| Some(v as usize)).ok_or_else(|| {
                GohspError::input(path, format!("`{key}` is {value}, not a positive integer"), "fix the config.json")
            }),
        }
    };
    let heads = match count("num_attention_heads")? {
        Some(h) => Some(h),
        None => count("num_heads")?.or_else(|| architecture_heads(json)),
    };
    let eps = match json.get("layer_norm_eps").or_else(|| args.get("norm_eps")) {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_f64().filter(|e| e.is_finite() && *e > 0.0).ok_or_else(|| {
            GohspError::input(
                path,
                format!("`layer_norm_eps` is {value}, not a positive number"),
                "fix the config.json",
            )
        })?),
    };
    let image_size = count("image_size")?.or(count("img_size")?);
    Ok(HubConfig { path: path.to_path_buf(), heads, eps, image_size, patch_size: count("patch_size")? })
}

/// timm's hub configs name the architecture; the DeiT/ViT sizes fix the head count.
fn architecture_heads(json: &Value) -> Option<usize> {
    let arch = json.get("architecture")?.as_str()?;
    let sizes = [("_tiny_", 3), ("_small_", 6), ("_base_", 12), ("_large_", 16), ("_huge_", 16)];
    sizes.iter().find(|(size, _)| arch.contains(size)).map(|(_, heads)| *heads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<Option<HubConfig>> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        config_beside(&dir.path().join("model.safetensors"))
    }

    #[test]
    fn transformers_configs_give_heads_eps_and_sizes() {
        let got = config(r#"{"num_attention_heads": 7, "layer_norm_eps": 1e-12, "image_size": 28, "patch_size": 7}"#);
        let got = got.unwrap().unwrap();
        assert_eq!((got.heads, got.eps, got.image_size, got.patch_size), (Some(7), Some(1e-12), Some(28), Some(7)));
    }

    #[test]
    fn timm_configs_give_heads_from_model_args_or_the_architecture() {
        let args =
            config(r#"{"architecture": "vit_base_patch16_224", "model_args": {"num_heads": 5, "img_size": 32}}"#);
        let args = args.unwrap().unwrap();
        assert_eq!((args.heads, args.image_size), (Some(5), Some(32)));
        let arch = config(r#"{"architecture": "deit_small_patch16_224", "num_classes": 1000}"#).unwrap().unwrap();
        assert_eq!(arch.heads, Some(6));
        assert_eq!(config(r#"{"architecture": "mystery"}"#).unwrap().unwrap().heads, None);
    }

    #[test]
    fn no_file_is_none_and_a_bad_file_is_an_input_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(config_beside(&dir.path().join("model.safetensors")).unwrap(), None);
        for bad in ["{not json", r#"{"num_attention_heads": "six"}"#, r#"{"layer_norm_eps": -1}"#] {
            let err = config(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains("config.json"), "{err}");
        }
    }
}
