//! Epoch checkpoints inside a stage's work folder, atomic as a unit: each one is a fresh folder `ckpt-NNNNNN` (model,
//! optimizer state, the log so far, extra files such as ADMM's Z and U, and a checksum list) published by one rename.
//! A torn or corrupt checkpoint is discarded with a warning naming the file, and the previous complete one is used.
//! Nothing else is needed for an exact resume: the loader derives each epoch's order and each sample's augmentation
//! from (seed, epoch, index) and the schedule its rate from the step, so they hold no state to save.

use super::log::EpochLog;
use crate::error::{GohspError, IoContext, Result};
use crate::fault;
use crate::model::io::{load_vit, save_vit};
use crate::model::vit::Vit;
use crate::pipeline::checksum::{CHECKSUMS_FILE, Checksums, Corruption};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the progress file records: epochs finished and their logs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs finished (the next epoch to run).
    pub epochs_done: usize,
    /// One entry per finished epoch.
    pub logs: Vec<EpochLog>,
}

/// Extra files saved with a checkpoint (name -> content), e.g. ADMM's state.
pub(crate) type Extras = BTreeMap<String, Vec<u8>>;

/// A checkpoint read back: model, optimizer, progress and the extra files saved with them.
pub struct Restored {
    /// The model (on the device given to [`CheckpointDir::load`]).
    pub model: Vit,
    /// The optimizer with its saved state.
    pub optim: ModuleOptimizer,
    /// Epochs done and their logs.
    pub progress: Progress,
    /// The extra files, by name.
    pub extras: Extras,
}

const MODEL: &str = "model.safetensors";
const OPTIMIZER: &str = "optimizer.bpk";
const PROGRESS: &str = "progress.json";
const PREFIX: &str = "ckpt-";
const STAGING: &str = ".staging-";
/// Files of the format before checkpoints were folders (written in place, so they may be torn).
const LEGACY: [&str; 4] = [MODEL, OPTIMIZER, PROGRESS, "admm_state.safetensors"];

/// The checkpoint folders of one training run.
pub struct CheckpointDir {
    dir: PathBuf,
}

impl CheckpointDir {
    /// Checkpoints under `dir` (created on first save).
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// Save the state after an epoch or round: every file goes into a staging folder with a checksum list, the folder
    /// is published as `ckpt-NNNNNN` by one rename, then older checkpoints but the previous one are removed.
    pub fn save(&self, model: &Vit, optim: &ModuleOptimizer, progress: &Progress, extras: &Extras) -> Result<()> {
        let staging = self.dir.join(format!("{STAGING}{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).at_path(&staging)?;
        }
        std::fs::create_dir_all(&staging).at_path(&staging)?;
        save_vit(model, None, &staging.join(MODEL))?;
        sync(&staging.join(MODEL))?;
        let optim_path = staging.join(OPTIMIZER);
        let bytes = optim.into_bytes().map_err(|e| GohspError::Internal(format!("{}: {e:?}", optim_path.display())))?;
        fault::write_synced(&optim_path, &bytes).at_path(&optim_path)?;
        for (name, bytes) in extras {
            let path = staging.join(name);
            fault::write_synced(&path, bytes).at_path(&path)?;
        }
        let path = staging.join(PROGRESS);
        fault::write_synced(&path, &serde_json::to_vec_pretty(progress).expect("progress serialises"))
            .at_path(&path)?;
        let sums = serde_json::to_vec_pretty(&Checksums::of_dir(&staging)?).expect("plain struct serialises");
        let path = staging.join(CHECKSUMS_FILE);
        fault::write_synced(&path, &sums).at_path(&path)?;
        let target = self.dir.join(format!("{PREFIX}{:06}", progress.epochs_done));
        if target.exists() {
            std::fs::remove_dir_all(&target).at_path(&target)?;
        }
        std::fs::rename(&staging, &target).at_path(&target)?;
        sync_dir(&self.dir);
        fault::wrote(&target);
        for old in self.published().into_iter().skip(2) {
            std::fs::remove_dir_all(&old).at_path(&old)?;
        }
        Ok(())
    }

    /// The newest complete checkpoint, if any: model on `device`, optimizer state loaded into `optim`. Checkpoints
    /// that fail their checksums or do not parse are discarded with a warning naming the file, falling back to the
    /// previous one (or to a fresh start when none is left).
    pub fn load(&self, device: &Device, optim: ModuleOptimizer) -> Result<Option<Restored>> {
        self.discard_legacy()?;
        self.discard_staging()?;
        for dir in self.published() {
            match read_checkpoint(&dir, device, optim.clone()) {
                Ok(restored) => return Ok(Some(restored)),
                Err(corruption) => {
                    let file = dir.join(&corruption.file);
                    tracing::warn!(file = %file.display(), "discarding a torn or corrupt checkpoint ({corruption}); falling back to the previous one");
                    std::fs::remove_dir_all(&dir).at_path(&dir)?;
                }
            }
        }
        Ok(None)
    }

    /// Published checkpoint folders, newest first.
    fn published(&self) -> Vec<PathBuf> {
        let Ok(read) = std::fs::read_dir(&self.dir) else { return vec![] };
        let mut found: Vec<(usize, PathBuf)> = read
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                Some((name.strip_prefix(PREFIX)?.parse().ok()?, e.path()))
            })
            .collect();
        found.sort_by_key(|b| std::cmp::Reverse(b.0));
        found.into_iter().map(|(_, path)| path).collect()
    }

    /// Files of the old in-place format cannot be verified: they are removed with a warning (the stage restarts).
    fn discard_legacy(&self) -> Result<()> {
        for name in LEGACY {
            let path = self.dir.join(name);
            if path.is_file() {
                tracing::warn!(file = %path.display(), "discarding an unverifiable checkpoint file of an older gohsp");
                std::fs::remove_file(&path).at_path(&path)?;
            }
        }
        Ok(())
    }

    /// A staging folder is a checkpoint whose save did not finish: never used, removed.
    fn discard_staging(&self) -> Result<()> {
        let Ok(read) = std::fs::read_dir(&self.dir) else { return Ok(()) };
        for entry in read.flatten() {
            if entry.file_name().to_string_lossy().starts_with(STAGING) {
                let path = entry.path();
                tracing::warn!(file = %path.display(), "discarding an unfinished checkpoint");
                std::fs::remove_dir_all(&path).at_path(&path)?;
            }
        }
        Ok(())
    }
}

/// Verify and read one checkpoint folder; any problem is a [`Corruption`] naming the file.
fn read_checkpoint(dir: &Path, device: &Device, optim: ModuleOptimizer) -> std::result::Result<Restored, Corruption> {
    let corrupt = |file: &str, problem: String| Corruption { file: file.into(), problem };
    let sums =
        std::fs::read(dir.join(CHECKSUMS_FILE)).map_err(|e| corrupt(CHECKSUMS_FILE, format!("unreadable ({e})")))?;
    let sums: Checksums =
        serde_json::from_slice(&sums).map_err(|e| corrupt(CHECKSUMS_FILE, format!("not a checksum list ({e})")))?;
    for required in [MODEL, OPTIMIZER, PROGRESS] {
        if !sums.files.contains_key(required) {
            return Err(corrupt(required, "not listed in the checksums".into()));
        }
    }
    sums.verify(dir)?;
    let text = std::fs::read(dir.join(PROGRESS)).map_err(|e| corrupt(PROGRESS, e.to_string()))?;
    let progress: Progress = serde_json::from_slice(&text).map_err(|e| corrupt(PROGRESS, e.to_string()))?;
    let (model, _) = load_vit(&dir.join(MODEL), None, device).map_err(|e| corrupt(MODEL, e.to_string()))?;
    let bytes = std::fs::read(dir.join(OPTIMIZER)).map_err(|e| corrupt(OPTIMIZER, e.to_string()))?;
    let optim = optim.from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| corrupt(OPTIMIZER, format!("{e:?}")))?;
    let mut extras = Extras::new();
    for name in sums.files.keys().filter(|n| ![MODEL, OPTIMIZER, PROGRESS].contains(&n.as_str())) {
        let bytes = std::fs::read(dir.join(name)).map_err(|e| corrupt(name, e.to_string()))?;
        extras.insert(name.clone(), bytes);
    }
    Ok(Restored { model, optim, progress, extras })
}

fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).at_path(path)
}

/// Best effort: make the rename durable (not every file system supports syncing a folder).
fn sync_dir(dir: &Path) {
    if let Ok(file) = std::fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
