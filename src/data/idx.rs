//! Loader for the idx files of MNIST and Fashion-MNIST (`train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, ...,
//! plain or gzipped), checked against their magic numbers and sizes and held in memory.

use super::dataset::{DatasetInfo, Splits};
use super::locate::fetch_hint;
use super::memory::InMemoryDataset;
use crate::error::{GohspError, IoContext, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Magic number of an idx file of unsigned bytes with 3 dimensions (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an idx file of unsigned bytes with 1 dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;
/// Both idx datasets have ten classes.
const CLASSES: usize = 10;

/// Load the train (`train-*`) and test (`t10k-*`) splits of idx dataset `name` (`mnist` or `fashion_mnist`) from `root`.
pub(crate) fn load_idx_splits(root: &Path, name: &str) -> Result<Splits> {
    let (mean, std) = match name {
        "mnist" => (0.1307, 0.3081),
        "fashion_mnist" => (0.2860, 0.3530),
        other => {
            return Err(GohspError::usage(format!("`{other}` is not an idx dataset"), "use mnist or fashion_mnist"));
        }
    };
    let info = |side| DatasetInfo {
        name: name.to_string(),
        channels: 1,
        image_size: side,
        classes: CLASSES,
        mean: vec![mean],
        std: vec![std],
    };
    let load = |prefix: &str, split: &str| -> Result<Arc<InMemoryDataset>> {
        let (side, pixels, labels) = read_split(root, name, prefix)?;
        Ok(Arc::new(InMemoryDataset::new(info(side), pixels, labels, &format!("{name}/{split}"))?))
    };
    Ok(Splits { train: load("train", "train")?, test: load("t10k", "test")? })
}

/// Read `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte`: the image side, the pixels and the labels.
fn read_split(root: &Path, name: &str, prefix: &str) -> Result<(usize, Vec<u8>, Vec<u8>)> {
    let images_path = find_file(root, name, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find_file(root, name, &format!("{prefix}-labels-idx1-ubyte"))?;
    let (dims, pixels) = parse_idx(read_maybe_gz(&images_path)?, IMAGES_MAGIC, &images_path)?;
    let (label_dims, labels) = parse_idx(read_maybe_gz(&labels_path)?, LABELS_MAGIC, &labels_path)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows != cols {
        return Err(GohspError::input(
            &images_path,
            format!("images are {rows}x{cols}, expected square images"),
            fetch_hint(name),
        ));
    }
    if label_dims[0] != count {
        let message = format!("{} labels for {count} images in {}", label_dims[0], images_path.display());
        return Err(GohspError::input(
            &labels_path,
            message,
            "the image and label files must come from the same release",
        ));
    }
    if let Some(position) = labels.iter().position(|&label| usize::from(label) >= CLASSES) {
        let message = format!("label {} of sample {position} is not below {CLASSES}", labels[position]);
        return Err(GohspError::input(&labels_path, message, fetch_hint(name)));
    }
    Ok((rows, pixels, labels))
}

/// `root/<stem>`, else `root/<stem>.gz`; the error names both and says how to get them.
pub(crate) fn find_file(root: &Path, name: &str, stem: &str) -> Result<PathBuf> {
    let plain = root.join(stem);
    let gzipped = root.join(format!("{stem}.gz"));
    [&plain, &gzipped].into_iter().find(|path| path.is_file()).cloned().ok_or_else(|| {
        let message = format!("dataset `{name}`: missing file (neither {stem} nor {stem}.gz is in {})", root.display());
        GohspError::input(&gzipped, message, fetch_hint(name))
    })
}

/// The bytes of `path`, gunzipped when its name ends in `.gz`.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).at_path(path)?;
    if path.extension().is_none_or(|ext| ext != "gz") {
        return Ok(raw);
    }
    let mut bytes = Vec::with_capacity(raw.len() * 4);
    GzDecoder::new(raw.as_slice()).read_to_end(&mut bytes).map_err(|err| {
        GohspError::input(path, format!("truncated or corrupt gzip data: {err}"), "delete the file and fetch it again")
    })?;
    Ok(bytes)
}

/// Check an idx file's magic number and size; return its dimensions and its data (the bytes after the header).
fn parse_idx(mut bytes: Vec<u8>, magic: u32, path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let dim_count = (magic & 0xff) as usize;
    let header_len = 4 + 4 * dim_count;
    let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let bad = |message: String| GohspError::input(path, message, "delete the file and fetch it again");
    if bytes.len() < header_len {
        return Err(bad(format!("truncated: {} bytes, shorter than the {header_len}-byte idx header", bytes.len())));
    }
    if word(0) != magic {
        return Err(bad(format!("magic number 0x{:08x}, expected 0x{magic:08x}", word(0))));
    }
    let dims: Vec<usize> = (0..dim_count).map(|d| word(4 + 4 * d) as usize).collect();
    let expected = header_len + dims.iter().product::<usize>();
    if bytes.len() != expected {
        let kind = if bytes.len() < expected { "truncated" } else { "too long" };
        return Err(bad(format!("{kind}: {} bytes, the header {dims:?} says {expected}", bytes.len())));
    }
    Ok((dims, bytes.split_off(header_len)))
}

#[cfg(test)]
#[path = "idx_tests.rs"]
mod tests;
