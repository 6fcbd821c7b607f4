//! A checkpoint gohsp can load, written as an ONNX model (opset 20) whose metadata says what input it expects, and
//! read back for `gohsp inspect`.

use super::normalization::{self, Normalization};
use super::onnx_proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto, ValueInfoProto, type_proto};
use super::vit_graph::{INPUT_NAME, OUTPUT_NAME, vit_graph};
use crate::atomic_write::replace_file;
use crate::error::{GohspError, IoContext, Result};
use crate::model::build::vit_tensors;
use crate::model::host::NamedTensors;
use crate::model::io::load_vit;
use crate::model::manifest::{MANIFEST_KEY, PrunedManifest};
use crate::model::shape::VitShape;
use burn::tensor::Device;
use prost::Message;
use std::path::{Path, PathBuf};

/// The operator set the graph is written for (the first with `Gelu`; `LayerNormalization` is from 17).
pub const OPSET: i64 = 20;
/// The ONNX IR version that goes with opset 20.
pub const IR_VERSION: i64 = 9;

/// Metadata key: the input tensor's name.
pub const META_INPUT: &str = "input_name";
/// Metadata key: the input's layout and element type.
pub const META_LAYOUT: &str = "input_layout";
/// Metadata key: the normalisation the input must already have.
pub const META_NORMALIZATION: &str = "input_normalization";
/// Metadata key: the output tensor's name and meaning.
pub const META_OUTPUT: &str = "output";

/// What an export wrote.
#[derive(Clone, Debug)]
pub struct OnnxExport {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// Nodes in the graph.
    pub nodes: usize,
    /// The exported model's shape.
    pub shape: VitShape,
    /// The input normalisation written into the metadata, when known.
    pub normalization: Option<Normalization>,
}

/// Loads `weights` (timm, Hugging Face or gohsp; dense or pruned) and writes it to `out` as ONNX, atomically.
/// `normalization` wins over the statistics recorded beside the weights.
pub fn export_onnx(
    weights: &Path,
    heads: Option<usize>,
    normalization: Option<Normalization>,
    out: &Path,
) -> Result<OnnxExport> {
    let (model, manifest) = load_vit(weights, heads, &Device::flex())?;
    let shape = model.shape();
    let normalization = normalization.or_else(|| normalization::beside_weights(weights));
    if let Some(n) = &normalization {
        n.check(shape.in_chans, "--mean/--std")?;
    }
    let manifest = manifest.unwrap_or_else(|| PrunedManifest::dense(shape.clone()));
    let proto = onnx_model(&shape, &vit_tensors(&model), &manifest, normalization.as_ref());
    let bytes = proto.encode_to_vec();
    replace_file(out, |tmp| crate::fault::write(tmp, &bytes).at_path(tmp))?;
    let nodes = proto.graph.as_ref().map_or(0, |g| g.node.len());
    Ok(OnnxExport { path: out.to_path_buf(), bytes: bytes.len(), nodes, shape, normalization })
}

/// The ONNX model of `shape` with `tensors` (timm names and layouts), its manifest and input description in the
/// metadata.
pub fn onnx_model(
    shape: &VitShape,
    tensors: &NamedTensors,
    manifest: &PrunedManifest,
    normalization: Option<&Normalization>,
) -> ModelProto {
    let (c, s, k) = (shape.in_chans, shape.image_size, shape.num_classes);
    let described = normalization.map_or_else(
        || "not recorded: feed images normalised as the model was trained (gohsp export --mean ... --std ... records it)".to_string(),
        Normalization::describe,
    );
    let head = if shape.distilled { "the mean of the class and distillation heads" } else { "the class-token head" };
    let metadata = [
        (META_INPUT, INPUT_NAME.to_string()),
        (META_LAYOUT, format!("NCHW float32 [batch, {c}, {s}, {s}]")),
        (META_NORMALIZATION, described),
        (META_OUTPUT, format!("{OUTPUT_NAME} [batch, {k}]: {head}, before softmax")),
        (MANIFEST_KEY, serde_json::to_string(manifest).expect("manifest serialises")),
    ];
    ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(OPSET) }],
        producer_name: Some("gohsp".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: Some("Vision Transformer exported by gohsp (per-block head counts and MLP widths)".into()),
        graph: Some(vit_graph(shape, tensors)),
        metadata_props: metadata
            .into_iter()
            .map(|(key, value)| StringStringEntryProto { key: Some(key.into()), value: Some(value) })
            .collect(),
        ..Default::default()
    }
}

/// What `gohsp inspect` shows of an ONNX file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OnnxInfo {
    /// Producer and version.
    pub producer: String,
    /// Opset of the default domain.
    pub opset: Option<i64>,
    /// Nodes in the graph.
    pub nodes: usize,
    /// Inputs with their dimensions (`batch` for a dynamic one).
    pub inputs: Vec<(String, Vec<String>)>,
    /// Outputs with their dimensions.
    pub outputs: Vec<(String, Vec<String>)>,
    /// Metadata entries.
    pub metadata: Vec<(String, String)>,
}

/// Reads an ONNX file's interface and metadata; a file that is not ONNX is an error naming it (exit 2).
pub fn read_onnx(path: &Path) -> Result<OnnxInfo> {
    if !path.is_file() {
        return Err(GohspError::input(path, "ONNX file not found", "check the path (`gohsp export` writes one)"));
    }
    let bytes = std::fs::read(path).at_path(path)?;
    let mut model = ModelProto::decode(bytes.as_slice()).map_err(|e| {
        GohspError::input(
            path,
            format!("not an ONNX model ({e})"),
            "pass a file written by `gohsp export --format onnx`",
        )
    })?;
    let graph = model.graph.take().unwrap_or_default();
    let opset =
        model.opset_import.iter().find(|o| o.domain.as_deref().unwrap_or("").is_empty()).and_then(|o| o.version);
    Ok(OnnxInfo {
        producer: format!("{} {}", model.producer_name(), model.producer_version()),
        opset,
        nodes: graph.node.len(),
        inputs: graph.input.iter().map(value_dims).collect(),
        outputs: graph.output.iter().map(value_dims).collect(),
        metadata: model.metadata_props.iter().map(|e| (e.key().to_string(), e.value().to_string())).collect(),
    })
}

fn value_dims(value: &ValueInfoProto) -> (String, Vec<String>) {
    use super::onnx_proto::tensor_shape_proto::dimension::Value;
    let dims = match value.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t
            .shape
            .as_ref()
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| match &d.value {
                        Some(Value::DimValue(n)) => n.to_string(),
                        Some(Value::DimParam(p)) => p.clone(),
                        None => "?".into(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![],
    };
    (value.name().to_string(), dims)
}
