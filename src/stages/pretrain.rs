//! The dense model: trained from scratch on the dataset, or loaded from `model.weights`.

use super::artifacts::write_json;
use super::artifacts::write_model;
use super::meta::StageMeta;
use super::meta::stage_identity;
use super::recipes::train_config;
use crate::error::Result;
use crate::experiment::types::TrainSpec;
use crate::model::build::build_vit;
use crate::model::init::init_tensors;
use crate::model::io::load_vit;
use crate::model::shape::VitShape;
use crate::pipeline::stage::{Stage, StageContext};
use crate::train::objective::CrossEntropy;
use crate::train::trainer::Trainer;
use serde_json::json;
use std::path::{Path, PathBuf};

/// A pretrained checkpoint given by the user, identified by its content.
#[derive(Clone, Debug)]
pub(crate) struct Weights {
    /// Where the file is.
    pub path: PathBuf,
    /// blake3 of its bytes (the cache key uses this, not the path).
    pub digest: String,
    /// Head count for files that do not record it.
    pub heads_hint: Option<usize>,
    /// blake3 of the config.json beside the file, when there is one.
    pub config: Option<String>,
}

/// Produces the dense model artifact.
pub(crate) struct PretrainStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// Architecture to train (ignored when weights are given).
    pub shape: VitShape,
    /// Pretrained weights, if any.
    pub weights: Option<Weights>,
    /// Training recipe.
    pub train: TrainSpec,
}

impl Stage for PretrainStage {
    stage_identity!(meta);

    fn params(&self) -> serde_json::Value {
        match &self.weights {
            Some(w) => {
                let mut params = json!({ "weights_blake3": w.digest, "heads_hint": w.heads_hint });
                if let Some(config) = &w.config {
                    params["config_blake3"] = json!(config);
                }
                params
            }
            None => json!({ "shape": self.shape, "train": self.train, "seed": self.meta.seed }),
        }
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        if let Some(w) = &self.weights {
            self.meta.runtime.check_file_digest(&w.path, &w.digest)?;
            let (model, _) = load_vit(&w.path, w.heads_hint, &self.meta.runtime.device)?;
            return write_model(&ctx.out_dir, &model, None);
        }
        self.train_from_scratch(&ctx.out_dir, &ctx.work_dir)
    }
}

impl PretrainStage {
    fn train_from_scratch(&self, out: &Path, work: &Path) -> Result<()> {
        let device = self.meta.runtime.train_device();
        let model = build_vit(&self.shape, &init_tensors(&self.shape, self.meta.seed), &device, Path::new("<init>"))?;
        let loader = self.meta.runtime.train_loader(self.train.batch, self.meta.seed)?;
        let config = train_config(&self.train, self.train.epochs);
        let objective = CrossEntropy::new(self.train.label_smoothing, &device);
        let trainer = Trainer::new(&config, &loader, "pretrain");
        let (model, logs) = trainer.fit(model, &objective, &loader, config.epochs, work)?;
        write_json(out, "train_log.json", &logs)?;
        write_model(out, &model, None)
    }
}
