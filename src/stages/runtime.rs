//! What every stage of one run shares: the device, the opened dataset and the loaders built from it.

use crate::data::dataset::{DatasetInfo, Splits};
use crate::data::loader::Loader;
use crate::data::open::{DatasetRequest, open_splits};
use crate::data::recipe::{eval_transform, train_transform};
use crate::error::Result;
use crate::spec::types::{DatasetSpec, DeviceKind};
use burn::tensor::Device;
use std::sync::Arc;

/// The device and data a run works on.
pub(crate) struct Runtime {
    /// The plain (inference) device; training uses `device.clone().autodiff()`.
    pub device: Device,
    /// Train and test splits.
    pub splits: Splits,
    /// The dataset spec the splits came from.
    pub dataset: DatasetSpec,
    /// The model's input side in pixels.
    pub model_side: usize,
}

impl Runtime {
    /// Open the dataset and pick the device.
    pub(crate) fn open(dataset: &DatasetSpec, device: DeviceKind, model_side: usize) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            device: make_device(device)?,
            splits: open_splits(&request(dataset), model_side)?,
            dataset: dataset.clone(),
            model_side,
        }))
    }

    /// The dataset's facts.
    pub(crate) fn info(&self) -> &DatasetInfo {
        self.splits.train.info()
    }

    /// A stable identity of the data: part of every cache key.
    pub(crate) fn fingerprint(&self) -> String {
        format!(
            "train={};test={};augment={};side={}",
            self.splits.train.fingerprint(),
            self.splits.test.fingerprint(),
            self.dataset.augment,
            self.model_side
        )
    }

    /// Shuffled, augmented training batches.
    pub(crate) fn train_loader(&self, batch: usize, seed: u64) -> Loader {
        let transform = train_transform(self.info(), self.model_side, self.dataset.augment);
        Loader::new(self.splits.train.clone(), transform, batch, true, seed)
    }

    /// Un-augmented training batches in a fixed shuffled order (calibration).
    pub(crate) fn calibration_loader(&self, batch: usize, seed: u64) -> Loader {
        Loader::new(self.splits.train.clone(), eval_transform(self.info(), self.model_side), batch, true, seed)
    }

    /// Test batches in order.
    pub(crate) fn test_loader(&self, batch: usize) -> Loader {
        Loader::new(self.splits.test.clone(), eval_transform(self.info(), self.model_side), batch, false, 0)
    }

    /// The autodiff device for training.
    pub(crate) fn train_device(&self) -> Device {
        self.device.clone().autodiff()
    }
}

/// The burn device for `kind`; CUDA needs the `cuda` cargo feature.
pub(crate) fn make_device(kind: DeviceKind) -> Result<Device> {
    match kind {
        DeviceKind::Cpu => Ok(Device::flex()),
        #[cfg(feature = "cuda")]
        DeviceKind::Cuda => Ok(Device::cuda(0)),
        #[cfg(not(feature = "cuda"))]
        DeviceKind::Cuda => Err(crate::error::GohspError::usage(
            "device `cuda` asked for, but this binary was built without CUDA support",
            "rebuild with `cargo build --release --features cuda` on a machine with the CUDA toolkit, or use --device cpu",
        )),
    }
}

/// data/'s request for the dataset a spec names.
fn request(dataset: &DatasetSpec) -> DatasetRequest {
    DatasetRequest {
        name: dataset.name.clone(),
        root: dataset.root.clone(),
        limit: dataset.limit,
        test_limit: dataset.test_limit,
        holdout: dataset.holdout,
    }
}
