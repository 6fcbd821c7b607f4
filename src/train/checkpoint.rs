//! Epoch checkpoints inside a stage's work folder: model, optimizer state and the log so far, so a killed run resumes.

use super::log::EpochLog;
use crate::error::{GohspError, IoContext, Result};
use crate::model::io::{load_vit, save_vit};
use crate::model::vit::Vit;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the progress file records: epochs finished and their logs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs finished (the next epoch to run).
    pub epochs_done: usize,
    /// One entry per finished epoch.
    pub logs: Vec<EpochLog>,
}

/// The checkpoint files of one training run.
pub struct CheckpointDir {
    dir: PathBuf,
}

impl CheckpointDir {
    /// Checkpoints under `dir` (created on first save).
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    fn progress_path(&self) -> PathBuf {
        self.dir.join("progress.json")
    }

    /// Save the state after an epoch; the progress file is written last, so a crash mid-save keeps the previous epoch.
    pub fn save(&self, model: &Vit, optim: &ModuleOptimizer, progress: &Progress) -> Result<()> {
        std::fs::create_dir_all(&self.dir).at_path(&self.dir)?;
        save_vit(model, None, &self.dir.join("model.safetensors"))?;
        let optim_path = self.dir.join("optimizer.bpk");
        optim.save(&optim_path).map_err(|e| GohspError::Internal(format!("{}: {e:?}", optim_path.display())))?;
        let tmp = self.dir.join("progress.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(progress).expect("progress serialises")).at_path(&tmp)?;
        std::fs::rename(&tmp, self.progress_path()).at_path(self.progress_path())
    }

    /// The saved state, if a previous run left one: model on `device`, optimizer state loaded into `optim`.
    pub fn load(&self, device: &Device, optim: ModuleOptimizer) -> Result<Option<(Vit, ModuleOptimizer, Progress)>> {
        let Ok(text) = std::fs::read(self.progress_path()) else { return Ok(None) };
        let progress: Progress = serde_json::from_slice(&text)
            .map_err(|e| GohspError::Internal(format!("{}: {e}", self.progress_path().display())))?;
        let (model, _) = load_vit(&self.dir.join("model.safetensors"), None, device)?;
        let optim_path = self.dir.join("optimizer.bpk");
        let optim =
            optim.load(&optim_path).map_err(|e| GohspError::Internal(format!("{}: {e:?}", optim_path.display())))?;
        Ok(Some((model, optim, progress)))
    }
}
