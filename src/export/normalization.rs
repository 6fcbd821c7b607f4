//! What an exported model expects of its input: per-channel mean and std, given on the command line, found in the
//! weights' `config.json` / `preprocessor_config.json` (timm, Hugging Face), or taken from a spec's dataset.

use crate::error::{GohspError, Result};
use serde_json::Value;
use std::path::Path;

/// Per-channel normalisation: `pixel = (value / 255 - mean) / std` in the channel order of the input.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Normalization {
    /// Per-channel mean of [0, 1] pixels.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of [0, 1] pixels.
    pub std: Vec<f32>,
}

impl Normalization {
    /// The statistics as the metadata writes them: `mean=[..] std=[..]`.
    pub fn describe(&self) -> String {
        format!("mean={:?} std={:?}", self.mean, self.std)
    }

    /// Refuses statistics whose length is not the model's channel count, or a std that is not positive.
    pub fn check(&self, channels: usize, source: &str) -> Result<()> {
        if self.mean.len() != channels || self.std.len() != channels {
            return Err(GohspError::usage(
                format!(
                    "{source}: {} mean and {} std values for a {channels}-channel model",
                    self.mean.len(),
                    self.std.len()
                ),
                format!("give {channels} comma-separated values to each of --mean and --std"),
            ));
        }
        if self.std.iter().any(|s| !(*s > 0.0 && s.is_finite())) {
            return Err(GohspError::usage(
                format!("{source}: std {:?} has a value that is not positive", self.std),
                "every std must be > 0",
            ));
        }
        Ok(())
    }
}

/// The statistics recorded beside `weights`: timm's `config.json` (`pretrained_cfg.mean` / `std`, or top-level
/// `mean` / `std`) or Hugging Face's `preprocessor_config.json` (`image_mean` / `image_std`); `None` if neither says.
pub fn beside_weights(weights: &Path) -> Option<Normalization> {
    let dir = weights.parent()?;
    let read =
        |name: &str| -> Option<Value> { serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok() };
    let pair = |v: &Value, mean: &str, std: &str| -> Option<Normalization> {
        Some(Normalization { mean: floats(v.get(mean)?)?, std: floats(v.get(std)?)? })
    };
    let timm = read("config.json")
        .and_then(|c| c.get("pretrained_cfg").and_then(|p| pair(p, "mean", "std")).or_else(|| pair(&c, "mean", "std")));
    timm.or_else(|| read("preprocessor_config.json").and_then(|p| pair(&p, "image_mean", "image_std")))
}

fn floats(v: &Value) -> Option<Vec<f32>> {
    v.as_array()?.iter().map(|x| x.as_f64().map(|f| f as f32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timm_and_hugging_face_files_give_their_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("model.safetensors");
        assert_eq!(beside_weights(&weights), None);
        let hf = r#"{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25]}"#;
        std::fs::write(dir.path().join("preprocessor_config.json"), hf).unwrap();
        assert_eq!(beside_weights(&weights).unwrap().std, vec![0.25; 3]);
        let timm = r#"{"architecture": "deit_tiny_patch16_224", "pretrained_cfg": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}"#;
        std::fs::write(dir.path().join("config.json"), timm).unwrap();
        assert_eq!(beside_weights(&weights).unwrap().mean, vec![0.485, 0.456, 0.406]);
    }

    #[test]
    fn statistics_must_match_the_channels_and_std_must_be_positive() {
        let gray = Normalization { mean: vec![0.1307], std: vec![0.3081] };
        assert!(gray.check(1, "--mean").is_ok());
        assert_eq!(gray.check(3, "--mean").unwrap_err().exit_code(), 2);
        let zero = Normalization { mean: vec![0.0], std: vec![0.0] };
        assert_eq!(zero.check(1, "--std").unwrap_err().exit_code(), 2);
    }
}
