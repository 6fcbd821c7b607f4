//! The export stage: one model of the run (the dense one, or a grid point's fine-tuned one) written in other
//! runtimes' formats, with the dataset's input normalisation in its metadata.

use super::artifacts::read_model;
use super::meta::stage_identity;
use crate::error::{IoContext, Result};
use crate::export::format::ExportFormat;
use crate::export::normalization::Normalization;
use crate::export::onnx::onnx_model;
use crate::model::build::vit_tensors;
use crate::model::manifest::PrunedManifest;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use burn::tensor::Device;
use prost::Message;
use serde_json::json;

/// The file an export stage writes for `format`.
pub(crate) fn export_file(format: ExportFormat) -> String {
    format!("model.{}", format.extension())
}

/// Exports the model of its one input.
pub(crate) struct ExportStage {
    /// Which model this is (`dense,...` or a grid point name), as the report's rows name it.
    pub subject: String,
    /// The kind of the stage whose model is exported.
    pub model_kind: StageKind,
    /// The formats to write.
    pub formats: Vec<ExportFormat>,
    /// The dataset's normalisation, recorded in the files' metadata.
    pub normalization: Normalization,
}

impl Stage for ExportStage {
    stage_identity!(StageKind::Export, "export", subject);

    fn params(&self) -> serde_json::Value {
        let n = &self.normalization;
        json!({ "formats": self.formats, "model_kind": self.model_kind, "mean": n.mean, "std": n.std, "opset": crate::export::onnx::OPSET })
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        // Exporting reads the weights back to the host, so the CPU backend serves whatever device trained them.
        let (model, manifest) = read_model(ctx.input(self.model_kind)?, &Device::flex())?;
        let manifest = manifest.unwrap_or_else(|| PrunedManifest::dense(model.shape()));
        for &format in &self.formats {
            let bytes = match format {
                ExportFormat::Onnx => {
                    onnx_model(&model.shape(), &vit_tensors(&model), &manifest, Some(&self.normalization))
                        .encode_to_vec()
                }
            };
            let path = ctx.out_dir.join(export_file(format));
            crate::fault::write(&path, &bytes).at_path(&path)?;
        }
        tracing::info!(subject = %self.subject, formats = ?self.formats, "exported");
        Ok(())
    }
}
