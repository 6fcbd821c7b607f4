//! Opening the dataset a spec names: find its files, load the train/test splits and apply `dataset.limit` and `dataset.holdout`.

use super::cifar::{CifarVariant, load_cifar_splits};
use super::dataset::{Splits, Subset};
use super::folder::load_folder_splits;
use super::holdout::hold_out;
use super::idx::load_idx_splits;
use super::locate::locate;
use super::mnist5k::load_mnist5k;
use crate::error::{GohspError, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// The names of the datasets `open_splits` knows.
pub(crate) const DATASETS: &[&str] = &["mnist5k", "mnist", "fashion_mnist", "cifar10", "cifar100", "imagefolder"];

/// Which dataset to open and how much of it: data/'s own request, filled by the caller from the spec.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DatasetRequest {
    /// One of [`DATASETS`].
    pub name: String,
    /// Folder holding the files (required for cifar and imagefolder; searched for mnist and fashion_mnist).
    pub root: Option<PathBuf>,
    /// Use only the first N training samples.
    pub limit: Option<usize>,
    /// Use only the first N test samples.
    pub test_limit: Option<usize>,
    /// Fraction of the training set held out (seeded) and used as the evaluation split.
    pub holdout: f64,
}

/// Load the splits of the dataset `spec` names; `model_side` is the model's input side (for image folders).
pub(crate) fn open_splits(spec: &DatasetRequest, model_side: usize) -> Result<Splits> {
    let root = spec.root.as_deref();
    let splits = match spec.name.as_str() {
        "mnist5k" => load_mnist5k()?,
        "mnist" | "fashion_mnist" => load_idx_splits(&locate(&spec.name, root)?, &spec.name)?,
        "cifar10" | "cifar100" => load_cifar_splits(&locate(&spec.name, root)?, CifarVariant::from_name(&spec.name)?)?,
        "imagefolder" => {
            let root = root.ok_or_else(|| {
                GohspError::spec(
                    "<spec>",
                    "dataset.root",
                    "imagefolder needs a root",
                    "set dataset.root to a folder with train/ and val/ class folders",
                )
            })?;
            load_folder_splits(root, model_side)?
        }
        other => {
            return Err(GohspError::spec(
                "<spec>",
                "dataset.name",
                format!("unknown dataset `{other}`"),
                format!("use one of {}", DATASETS.join(", ")),
            ));
        }
    };
    Ok(hold_out(limit(splits, spec.limit, spec.test_limit), spec.holdout))
}

fn limit(splits: Splits, train: Option<usize>, test: Option<usize>) -> Splits {
    let cap = |set: Arc<dyn super::dataset::Dataset>, n: Option<usize>| match n {
        Some(n) => Arc::new(Subset::limited(set, n)) as Arc<dyn super::dataset::Dataset>,
        None => set,
    };
    Splits { train: cap(splits.train, train), test: cap(splits.test, test) }
}
