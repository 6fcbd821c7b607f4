//! Opening the dataset a spec names: find its files, load the train/test splits and apply `dataset.limit` and `dataset.holdout`.

use super::cifar::{CifarVariant, load_cifar_splits};
use super::dataset::{Splits, Subset};
use super::folder::load_folder_splits;
use super::holdout::hold_out;
use super::idx::load_idx_splits;
use super::locate::locate;
use super::mnist5k::load_mnist5k;
use crate::error::{GohspError, Result};
use crate::spec::types::DatasetSpec;
use std::sync::Arc;

pub use crate::spec::validate::DATASETS;

/// Load the splits of the dataset `spec` names; `model_side` is the model's input side (for image folders).
pub fn open_splits(spec: &DatasetSpec, model_side: usize) -> Result<Splits> {
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
