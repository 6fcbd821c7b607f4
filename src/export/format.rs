//! The formats a model can be exported to, as named on the command line and in a spec's `export.formats`.

use serde::{Deserialize, Serialize};

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// ONNX (opset 20), for ONNX Runtime, TensorRT, OpenVINO and the other runtimes that read it.
    Onnx,
}

impl ExportFormat {
    /// The file extension of this format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Onnx => "onnx",
        }
    }
}
