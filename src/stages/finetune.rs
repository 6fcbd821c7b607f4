//! The fine-tune stage: train the sliced model with cross-entropy, distilled from the dense model when asked.

use super::artifacts::{read_model, write_json, write_model};
use super::meta::StageMeta;
use super::meta::stage_identity;
use super::recipes::train_config;
use crate::error::Result;
use crate::experiment::types::FinetuneSpec;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::train::objective::{CrossEntropy, Distillation, Objective};
use crate::train::trainer::Trainer;
use serde_json::json;

/// Fine-tunes one pruned model.
pub(crate) struct FinetuneStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// Settings.
    pub spec: FinetuneSpec,
    /// Epochs (the equal-budget rule may add ADMM's epochs for baselines).
    pub epochs: usize,
}

impl Stage for FinetuneStage {
    stage_identity!(meta);

    fn params(&self) -> serde_json::Value {
        json!({ "finetune": self.spec, "epochs": self.epochs, "seed": self.meta.seed })
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let device = self.meta.runtime.train_device();
        let (model, manifest) = read_model(ctx.input(StageKind::Prune)?, &device)?;
        let cross_entropy = CrossEntropy::new(self.spec.recipe.label_smoothing, &device);
        let objective: Box<dyn Objective> = match &self.spec.distill {
            Some(d) => {
                let (teacher, _) = read_model(ctx.input(StageKind::Pretrain)?, &self.meta.runtime.device)?;
                Box::new(Distillation { cross_entropy, teacher, alpha: d.alpha, temperature: d.temperature })
            }
            None => Box::new(cross_entropy),
        };
        let loader = self.meta.runtime.train_loader(self.spec.recipe.batch, self.meta.seed)?;
        let trainer = Trainer::new(&train_config(&self.spec.recipe, self.epochs), &loader, &self.meta.label);
        let (model, logs) = trainer.fit(model, objective.as_ref(), &loader, self.epochs, &ctx.work_dir)?;
        write_json(&ctx.out_dir, "train_log.json", &logs)?;
        write_model(&ctx.out_dir, &model, manifest.as_ref())
    }
}
