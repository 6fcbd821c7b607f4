//! Loader for the binary versions of CIFAR-10 (`cifar-10-batches-bin/data_batch_{1..5}.bin`, `test_batch.bin`) and
//! CIFAR-100 (`cifar-100-binary/train.bin`, `test.bin`; the fine label is used), held in memory as bytes.

use super::dataset::{DatasetInfo, Splits};
use super::locate::fetch_hint;
use super::memory::InMemoryDataset;
use crate::error::{GohspError, IoContext, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes of one 32x32 RGB image: the R, G and B planes, each row-major.
pub(crate) const CIFAR_IMAGE_BYTES: usize = 3 * 32 * 32;

/// Which CIFAR dataset a folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CifarVariant {
    /// 10 classes; records of 1 label byte + 3072 pixel bytes.
    Cifar10,
    /// 100 fine classes; records of a coarse and a fine label byte + 3072 pixel bytes.
    Cifar100,
}

impl CifarVariant {
    /// The variant called `name` in specs (`cifar10`, `cifar100`).
    pub(crate) fn from_name(name: &str) -> Result<Self> {
        match name {
            "cifar10" => Ok(Self::Cifar10),
            "cifar100" => Ok(Self::Cifar100),
            other => Err(GohspError::usage(format!("`{other}` is not a CIFAR dataset"), "use cifar10 or cifar100")),
        }
    }

    /// The name used in specs and fingerprints.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Cifar10 => "cifar10",
            Self::Cifar100 => "cifar100",
        }
    }

    /// The folder the official tarball extracts to.
    pub(crate) fn folder(self) -> &'static str {
        match self {
            Self::Cifar10 => "cifar-10-batches-bin",
            Self::Cifar100 => "cifar-100-binary",
        }
    }

    /// Label bytes before the pixels of each record (the last one is the label used).
    pub(crate) fn label_bytes(self) -> usize {
        match self {
            Self::Cifar10 => 1,
            Self::Cifar100 => 2,
        }
    }

    /// The training files, in order, and the test file.
    pub(crate) fn files(self) -> (Vec<String>, &'static str) {
        match self {
            Self::Cifar10 => ((1..=5).map(|i| format!("data_batch_{i}.bin")).collect(), "test_batch.bin"),
            Self::Cifar100 => (vec!["train.bin".to_string()], "test.bin"),
        }
    }

    /// Classes, channels, size and the usual normalisation statistics.
    pub(crate) fn info(self) -> DatasetInfo {
        let (classes, mean, std) = match self {
            Self::Cifar10 => (10, vec![0.4914, 0.4822, 0.4465], vec![0.2470, 0.2435, 0.2616]),
            Self::Cifar100 => (100, vec![0.5071, 0.4865, 0.4409], vec![0.2673, 0.2564, 0.2762]),
        };
        DatasetInfo { name: self.name().to_string(), channels: 3, image_size: 32, classes, mean, std }
    }
}

/// The folder holding the `.bin` files: `root` itself, or `root/<extracted folder>`.
pub(crate) fn resolve_cifar_dir(root: &Path, variant: CifarVariant) -> Result<PathBuf> {
    let first = variant.files().0.swap_remove(0);
    let nested = root.join(variant.folder());
    [root.to_path_buf(), nested.clone()].into_iter().find(|dir| dir.join(&first).is_file()).ok_or_else(|| {
        let message = format!("{} not found here nor in {}", first, nested.display());
        GohspError::input(root, format!("dataset `{}`: {message}", variant.name()), fetch_hint(variant.name()))
    })
}

/// Load the train and test splits of a CIFAR dataset from `root` (the extracted folder or its parent).
pub(crate) fn load_cifar_splits(root: &Path, variant: CifarVariant) -> Result<Splits> {
    let dir = resolve_cifar_dir(root, variant)?;
    let (train_files, test_file) = variant.files();
    let train_paths: Vec<PathBuf> = train_files.iter().map(|file| dir.join(file)).collect();
    let load = |paths: &[PathBuf], split: &str| -> Result<Arc<InMemoryDataset>> {
        let (pixels, labels) = read_records(paths, variant)?;
        Ok(Arc::new(InMemoryDataset::new(variant.info(), pixels, labels, &format!("{}/{split}", variant.name()))?))
    };
    Ok(Splits { train: load(&train_paths, "train")?, test: load(&[dir.join(test_file)], "test")? })
}

/// Read every record of `paths` in order: the pixels back to back and the labels.
fn read_records(paths: &[PathBuf], variant: CifarVariant) -> Result<(Vec<u8>, Vec<u8>)> {
    let label_bytes = variant.label_bytes();
    let record_len = label_bytes + CIFAR_IMAGE_BYTES;
    let classes = variant.info().classes;
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for path in paths {
        let bytes = read_batch_file(path, variant)?;
        if bytes.is_empty() || bytes.len() % record_len != 0 {
            let message =
                format!("truncated: {} bytes is not a whole number of {record_len}-byte records", bytes.len());
            return Err(GohspError::input(path, message, "delete the dataset folder and fetch it again"));
        }
        for (index, record) in bytes.chunks_exact(record_len).enumerate() {
            let label = record[label_bytes - 1];
            if usize::from(label) >= classes {
                let message = format!("record {index} has label {label}, not below {classes}");
                return Err(GohspError::input(path, message, "is this the right CIFAR variant?"));
            }
            labels.push(label);
            pixels.extend_from_slice(&record[label_bytes..]);
        }
    }
    Ok((pixels, labels))
}

/// The bytes of one batch file; a missing file is an input error with the fetch hint.
fn read_batch_file(path: &Path, variant: CifarVariant) -> Result<Vec<u8>> {
    if !path.is_file() {
        let message = format!("dataset `{}`: missing file", variant.name());
        return Err(GohspError::input(path, message, fetch_hint(variant.name())));
    }
    std::fs::read(path).at_path(path)
}

#[cfg(test)]
#[path = "cifar_tests.rs"]
mod tests;
