//! The files and folders a dataset is read from, found without reading any of them: what the fingerprint cache
//! compares the metadata of. For an image folder these are `train/`, `val/` and their class folders, not the images:
//! adding, removing or renaming an image changes its class folder's modification time, which is all the folder's
//! fingerprint (names and labels, not content) depends on.

use super::cifar::{CifarVariant, resolve_cifar_dir};
use super::idx::find_file;
use super::locate::locate;
use super::mnist5k::MNIST5K_CSV_GZ;
use super::open::DatasetRequest;
use crate::error::{GohspError, IoContext, Result};
use std::path::{Path, PathBuf};

/// One thing whose metadata stands for its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// A file or folder (absolute and symlink-free).
    Path(PathBuf),
    /// Data compiled into the binary.
    Embedded(&'static str, &'static [u8]),
}

/// The sources of the dataset `spec` names. An error means the dataset cannot be found this way; opening it then
/// gives the proper message.
pub(crate) fn dataset_sources(spec: &DatasetRequest) -> Result<Vec<Source>> {
    let root = spec.root.as_deref();
    let paths = match spec.name.as_str() {
        "mnist5k" => return Ok(vec![Source::Embedded("mnist5k.csv.gz", MNIST5K_CSV_GZ)]),
        "mnist" | "fashion_mnist" => {
            let dir = locate(&spec.name, root)?;
            let stems = [
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte",
            ];
            stems.iter().map(|stem| find_file(&dir, &spec.name, stem)).collect::<Result<Vec<_>>>()?
        }
        "cifar10" | "cifar100" => {
            let variant = CifarVariant::from_name(&spec.name)?;
            let dir = resolve_cifar_dir(&locate(&spec.name, root)?, variant)?;
            let (train, test) = variant.files();
            train.iter().map(|file| dir.join(file)).chain([dir.join(test)]).collect()
        }
        "imagefolder" => {
            let root = root.ok_or_else(|| GohspError::usage("imagefolder needs dataset.root", "set dataset.root"))?;
            return Ok(folder_sources(root)?.into_iter().map(Source::Path).collect());
        }
        other => return Err(GohspError::usage(format!("unknown dataset `{other}`"), "see `gohsp data list`")),
    };
    paths.iter().map(|path| std::fs::canonicalize(path).at_path(path).map(Source::Path)).collect()
}

/// `root/train`, `root/val` (canonical) and every class folder in them, sorted.
fn folder_sources(root: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for split in ["train", "val"] {
        let dir = std::fs::canonicalize(root.join(split)).at_path(root.join(split))?;
        let mut classes = Vec::new();
        for entry in std::fs::read_dir(&dir).at_path(&dir)? {
            let path = entry.at_path(&dir)?.path();
            if path.is_dir() {
                classes.push(path);
            }
        }
        classes.sort();
        paths.push(dir);
        paths.extend(classes);
    }
    Ok(paths)
}
