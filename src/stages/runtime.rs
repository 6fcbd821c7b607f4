//! What every stage of one run shares: the device, the dataset's planning facts, and its splits and loaders, opened
//! only when a stage first needs them (planning with a cached fingerprint reads no data).

use super::data_facts::{DataFacts, load_checked, resolve_facts};
use super::digests::{check_file_digest, file_digest};
use crate::data::dataset::{DatasetInfo, Splits};
use crate::data::loader::Loader;

use crate::data::recipe::{eval_transform, train_transform};
use crate::error::Result;
use crate::experiment::types::{DatasetSpec, DeviceKind};
use crate::pipeline::fingerprint_cache::FingerprintCache;
use burn::tensor::Device;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// The device and data a run works on.
pub(crate) struct Runtime {
    /// The plain (inference) device; training uses `device.clone().autodiff()`.
    pub device: Device,
    /// The dataset spec the splits come from.
    pub dataset: DatasetSpec,
    /// The model's input side in pixels.
    pub model_side: usize,
    facts: DataFacts,
    splits: OnceLock<Splits>,
    loading: Mutex<()>,
    cache: Option<Arc<FingerprintCache>>,
}

impl Runtime {
    /// Open the dataset (reading it) and pick the device (tests; runs plan with `open_cached`).
    #[cfg(test)]
    pub(crate) fn open(dataset: &DatasetSpec, device: DeviceKind, model_side: usize) -> Result<Arc<Self>> {
        Self::open_cached(dataset, device, model_side, None)
    }

    /// Pick the device and find the dataset's facts, from `cache` when its sources are unchanged (the splits are then
    /// read when a stage first needs them).
    pub(crate) fn open_cached(
        dataset: &DatasetSpec,
        device: DeviceKind,
        model_side: usize,
        cache: Option<Arc<FingerprintCache>>,
    ) -> Result<Arc<Self>> {
        let resolved = resolve_facts(dataset, model_side, cache.as_deref())?;
        let splits = OnceLock::new();
        if let Some(opened) = resolved.splits {
            let _ = splits.set(opened);
        }
        Ok(Arc::new(Self {
            device: make_device(device)?,
            dataset: dataset.clone(),
            model_side,
            facts: resolved.facts,
            splits,
            loading: Mutex::new(()),
            cache,
        }))
    }

    /// The dataset's facts.
    pub(crate) fn info(&self) -> &DatasetInfo {
        &self.facts.info
    }

    /// A stable identity of the data: part of every cache key.
    pub(crate) fn fingerprint(&self) -> String {
        self.facts.fingerprint.clone()
    }

    /// Whether the splits have been read (planning from a cached fingerprint does not read them).
    #[cfg(test)]
    pub(crate) fn is_loaded(&self) -> bool {
        self.splits.get().is_some()
    }

    /// The train and test splits, read on first use and checked against the planned fingerprint.
    pub(crate) fn splits(&self) -> Result<&Splits> {
        if let Some(splits) = self.splits.get() {
            return Ok(splits);
        }
        let _one_reader = self.loading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(splits) = self.splits.get() {
            return Ok(splits);
        }
        let splits = load_checked(&self.dataset, self.model_side, &self.facts, self.cache.as_deref())?;
        Ok(self.splits.get_or_init(|| splits))
    }

    /// The blake3 of a user's file (weights, config.json), from the fingerprint cache while its stamp is unchanged.
    pub(crate) fn file_digest(&self, path: &Path) -> Result<String> {
        file_digest(self.cache.as_deref(), path)
    }

    /// Fails when the file at `path` no longer has the digest it was planned with.
    pub(crate) fn check_file_digest(&self, path: &Path, planned: &str) -> Result<()> {
        check_file_digest(self.cache.as_deref(), path, planned)
    }

    /// Shuffled, augmented training batches.
    pub(crate) fn train_loader(&self, batch: usize, seed: u64) -> Result<Loader> {
        let transform = train_transform(self.info(), self.model_side, self.dataset.augment);
        Ok(Loader::new(self.splits()?.train.clone(), transform, batch, true, seed))
    }

    /// Un-augmented training batches in a fixed shuffled order (calibration).
    pub(crate) fn calibration_loader(&self, batch: usize, seed: u64) -> Result<Loader> {
        let transform = eval_transform(self.info(), self.model_side);
        Ok(Loader::new(self.splits()?.train.clone(), transform, batch, true, seed))
    }

    /// Test batches in order.
    pub(crate) fn test_loader(&self, batch: usize) -> Result<Loader> {
        Ok(Loader::new(self.splits()?.test.clone(), eval_transform(self.info(), self.model_side), batch, false, 0))
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
