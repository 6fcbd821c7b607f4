//! Reading only a safetensors file's header (names, dtypes, shapes, metadata), so planning learns a checkpoint's
//! architecture without loading its tensors; the byte ranges are checked against the file size.

use super::hf_names::{is_hugging_face, to_timm_names};
use super::host::{HostTensor, NamedTensors};
use super::io::{Checkpoint, require_weights_file};
use super::manifest::{MANIFEST_KEY, PrunedManifest};
use crate::error::{GohspError, IoContext, Result};
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Headers larger than this are refused (safetensors itself caps them at 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// The checkpoint at `path` with every tensor's shape but no values (`data` empty), and its manifest.
pub(crate) fn read_checkpoint_shapes(path: &Path) -> Result<Checkpoint> {
    require_weights_file(path)?;
    let bad = |message: String| {
        GohspError::input(path, message, "pass a .safetensors checkpoint (timm, Hugging Face or gohsp)")
    };
    let size = std::fs::metadata(path).at_path(path)?.len();
    let mut file = std::fs::File::open(path).at_path(path)?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|_| bad(format!("not a safetensors file: {size} bytes, no header")))?;
    let header_len = u64::from_le_bytes(len);
    if header_len > MAX_HEADER || 8 + header_len > size {
        return Err(bad(format!("not a safetensors file: header length {header_len} in a file of {size} bytes")));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).at_path(path)?;
    let header: serde_json::Map<String, Value> =
        serde_json::from_slice(&header).map_err(|e| bad(format!("not a safetensors file: header: {e}")))?;
    let data_len = size - 8 - header_len;
    let mut tensors = NamedTensors::new();
    let mut manifest = None;
    for (name, entry) in &header {
        if name == "__metadata__" {
            manifest = manifest_of(entry, path)?;
            continue;
        }
        let shape = tensor_shape(entry, data_len).map_err(|m| GohspError::tensor(path, name, m, TENSOR_HINT))?;
        tensors.insert(name.clone(), HostTensor { shape, data: Vec::new() });
    }
    let hugging_face = is_hugging_face(&tensors);
    if hugging_face {
        tensors = to_timm_names(tensors);
    }
    Ok(Checkpoint { tensors, manifest, hugging_face })
}

const TENSOR_HINT: &str = "the file is damaged or not f32/f64/f16/bf16; re-export it from timm or transformers";

/// The shape of one header entry, after checking its dtype and that its bytes lie inside the data section.
fn tensor_shape(entry: &Value, data_len: u64) -> std::result::Result<Vec<usize>, String> {
    let width = match entry["dtype"].as_str() {
        Some("F32") => 4,
        Some("F64") => 8,
        Some("F16" | "BF16") => 2,
        other => return Err(format!("unsupported dtype {}", other.unwrap_or("(none)"))),
    };
    let dims = entry["shape"].as_array().ok_or("no shape")?;
    let shape: Vec<usize> =
        dims.iter().map(|d| d.as_u64().map(|d| d as usize)).collect::<Option<_>>().ok_or("a bad shape")?;
    let offsets = entry["data_offsets"].as_array().ok_or("no data_offsets")?;
    let (Some(start), Some(end)) = (offsets.first().and_then(Value::as_u64), offsets.get(1).and_then(Value::as_u64))
    else {
        return Err("bad data_offsets".into());
    };
    let want = shape.iter().try_fold(width as u64, |acc, &d| acc.checked_mul(d as u64)).ok_or("a shape too large")?;
    if end < start || end - start != want || end > data_len {
        return Err(format!("bytes {start}..{end} do not hold shape {shape:?} in a data section of {data_len} bytes"));
    }
    Ok(shape)
}

fn manifest_of(metadata: &Value, path: &Path) -> Result<Option<PrunedManifest>> {
    let Some(text) = metadata.get(MANIFEST_KEY).and_then(Value::as_str) else { return Ok(None) };
    serde_json::from_str(text).map(Some).map_err(|e| {
        GohspError::input(
            path,
            format!("unreadable gohsp manifest: {e}"),
            "the file was altered; re-create it with gohsp",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::init::init_tensors;
    use crate::model::io::{checkpoint_shape, read_checkpoint, save_tensors};
    use crate::model::shape::VitShape;

    /// A micro checkpoint with `heads` heads per block, saved in a fresh folder (kept alive by the returned guard).
    fn saved_micro(heads: usize) -> (tempfile::TempDir, std::path::PathBuf, VitShape) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let shape = VitShape::uniform(28, 7, 1, 10, 16, heads, 2, 2.0);
        save_tensors(&init_tensors(&shape, 1), &[], &path).unwrap();
        (dir, path, shape)
    }

    #[test]
    fn shapes_match_a_full_read_without_values() {
        let (_dir, path, shape) = saved_micro(2);
        let (full, header) = (read_checkpoint(&path).unwrap(), read_checkpoint_shapes(&path).unwrap());
        assert!(header.tensors.values().all(|t| t.data.is_empty()));
        let shapes = |c: &Checkpoint| c.tensors.iter().map(|(n, t)| (n.clone(), t.shape.clone())).collect::<Vec<_>>();
        assert_eq!(shapes(&full), shapes(&header));
        let planned = checkpoint_shape(&header, Some(2), &path).unwrap();
        assert_eq!((planned.dim, planned.blocks.clone()), (shape.dim, shape.blocks.clone()));
    }

    #[test]
    fn truncation_bad_lengths_and_dtypes_are_input_errors() {
        let (_dir, path, _) = saved_micro(1);
        let good = std::fs::read(&path).unwrap();
        let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let text = String::from_utf8(good[8..8 + header_len].to_vec()).unwrap();
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut dtype = (header_len as u64).to_le_bytes().to_vec();
        dtype.extend_from_slice(text.replacen("F32", "I32", 1).as_bytes());
        dtype.extend_from_slice(&good[8 + header_len..]);
        for (what, bytes) in [("truncated", good[..good.len() - 4].to_vec()), ("huge", huge), ("dtype", dtype)] {
            std::fs::write(&path, bytes).unwrap();
            let err = read_checkpoint_shapes(&path).map(|_| ()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{what}: {err}");
        }
    }
}
