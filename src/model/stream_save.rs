//! Writing named f32 tensors as a safetensors file tensor by tensor, so that only one tensor's bytes are in memory
//! besides the model (the bytes are those of [`tensors_to_bytes`](super::io::tensors_to_bytes)).

use super::host::{HostTensor, NamedTensors};
use crate::error::{GohspError, IoContext, Result};
use safetensors::{Dtype, SafeTensorError, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// One tensor as safetensors sees it: its little-endian bytes made when the writer reaches it.
struct F32View<'a>(&'a HostTensor);

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn data_len(&self) -> usize {
        self.0.data.len() * std::mem::size_of::<f32>()
    }
}

/// Streams `tensors` with string `metadata` to `path` (the safetensors crate writes a sibling temporary file and
/// renames it). An I/O failure names `path`; the fault hook counts the file as one write.
pub fn write_safetensors(tensors: &NamedTensors, metadata: &[(&str, String)], path: &Path) -> Result<()> {
    let views = tensors.iter().map(|(name, tensor)| (name.as_str(), F32View(tensor)));
    let meta: HashMap<String, String> = metadata.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    safetensors::serialize_to_file(views, Some(meta), path).map_err(|e| match e {
        SafeTensorError::IoError(source) => GohspError::Io { path: path.to_path_buf(), source },
        other => GohspError::Internal(format!("{}: {other}", path.display())),
    })?;
    crate::fault::streamed(path).at_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::init::init_tensors;
    use crate::model::io::tensors_to_bytes;
    use crate::model::presets::preset;

    #[test]
    fn the_streamed_file_has_the_bytes_of_the_in_memory_serialisation() {
        let dir = tempfile::tempdir().unwrap();
        let tensors = init_tensors(&preset("vit_mnist", 10).unwrap(), 3);
        let manifest = [("gohsp.manifest", "{\"dense\":true}".to_string())];
        for (i, metadata) in [&manifest[..], &[]].into_iter().enumerate() {
            let path = dir.path().join(format!("m{i}.safetensors"));
            write_safetensors(&tensors, metadata, &path).unwrap();
            let streamed = std::fs::read(&path).unwrap();
            let in_memory = tensors_to_bytes(&tensors, metadata).unwrap();
            assert_eq!(streamed.len(), in_memory.len());
            assert_eq!(blake3::hash(&streamed), blake3::hash(&in_memory), "metadata {metadata:?}");
        }
    }

    #[test]
    fn a_write_into_a_missing_folder_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent/m.safetensors");
        let tensors = init_tensors(&preset("vit_mnist", 10).unwrap(), 3);
        let err = write_safetensors(&tensors, &[], &path).unwrap_err();
        assert!(err.to_string().contains("absent"), "{err}");
        assert_eq!(err.exit_code(), 1);
    }
}
