//! The manifest stored in a gohsp checkpoint's safetensors metadata: the per-block shape and which heads and neurons were kept.

use super::shape::VitShape;
use serde::{Deserialize, Serialize};

/// The metadata key under which the manifest is stored.
pub const MANIFEST_KEY: &str = "gohsp_manifest";

/// What a checkpoint is, enough to rebuild the model from the file alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrunedManifest {
    /// Format tag, `gohsp-vit/1`.
    pub format: String,
    /// The model's (possibly heterogeneous) shape.
    pub shape: VitShape,
    /// Indices of the dense model's heads kept in each block (absent for dense models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_heads: Option<Vec<Vec<usize>>>,
    /// Indices of the dense model's MLP neurons kept in each block (absent for dense models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_neurons: Option<Vec<Vec<usize>>>,
    /// Per block, per kept head: the dense head's q/k dimensions it kept (present only when q/k pairs were pruned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_qk_dims: Option<Vec<Vec<Vec<usize>>>>,
}

impl PrunedManifest {
    /// The format tag written by this version.
    pub const FORMAT: &'static str = "gohsp-vit/1";

    /// A manifest for a dense model.
    pub fn dense(shape: VitShape) -> Self {
        Self { format: Self::FORMAT.to_string(), shape, kept_heads: None, kept_neurons: None, kept_qk_dims: None }
    }
}
